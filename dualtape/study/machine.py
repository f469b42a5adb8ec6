"""What a timing report must state: the machine, the versions and the thread settings.

>>> info = machine_info()
>>> sorted(k for k in info if k in ("cpu", "python", "numpy", "threads"))
['cpu', 'numpy', 'python', 'threads']
"""

from __future__ import annotations

import os
import platform
from contextlib import contextmanager
from typing import Any

import numpy as np
import scipy

#: Environment variables that set the thread count of BLAS/OpenMP runtimes.
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_threads() -> list[dict[str, Any]]:
    """The thread pools NumPy/SciPy use (needs ``threadpoolctl``; empty list otherwise)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [{"api": p.get("internal_api"), "threads": p.get("num_threads"),
             "version": p.get("version")} for p in threadpool_info()]


@contextmanager
def limit_threads(n: int | None):
    """Limit BLAS/OpenMP threads to ``n`` inside the block (no-op for None or without
    ``threadpoolctl``)."""
    if n is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=n):
        yield


def machine_info() -> dict[str, Any]:
    """A JSON-friendly description of where the numbers were measured."""
    import dualtape
    return {
        "cpu": _cpu_name(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "dualtape": dualtape.__version__,
        "threads": {"env": {k: os.environ[k] for k in THREAD_VARS if k in os.environ},
                    "pools": blas_threads()},
    }


def describe(info: dict[str, Any]) -> str:
    """One paragraph for the top of a report."""
    pools = ", ".join(f"{p['api']} x{p['threads']}" for p in info["threads"]["pools"]) or \
        "unknown (install threadpoolctl to see)"
    env = ", ".join(f"{k}={v}" for k, v in info["threads"]["env"].items()) or "none set"
    return (f"machine: {info['cpu']} ({info['cores']} cores), {info['platform']}\n"
            f"versions: python {info['python']}, numpy {info['numpy']}, scipy "
            f"{info['scipy']}, dualtape {info['dualtape']}\n"
            f"threads: {pools}; thread variables: {env}")
