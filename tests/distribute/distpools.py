"""The process pool of the distribute tests (a module of its own, importable by name)."""

from __future__ import annotations

import multiprocessing


def make_pool(workers: int = 2):
    """A ProcessPoolExecutor started by a fork server that has dualtape imported already
    (fast workers, and no fork of a pytest process that may hold threads)."""
    from concurrent.futures import ProcessPoolExecutor
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["numpy", "scipy.sparse", "dualtape", "solvers"])
    return ProcessPoolExecutor(workers, mp_context=ctx)
