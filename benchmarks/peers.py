"""Lazy, configured loaders for dualtape and the peers; a missing one raises ToolUnavailable.

Nothing here imports a peer at module import time. Each loader configures its runtime
once: float64 and one thread everywhere. What was configured is kept in ``SETTINGS``
for the report.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from types import ModuleType
from typing import Any

#: Column order of the report; "jax-jit" shares the jax loader.
TOOLS: tuple[str, ...] = ("dualtape", "dualtape-replay", "autograd", "torch", "jax", "jax-jit")

#: The column of dualtape's compiled tapes: ``dt.compile`` in the (untimed) builder,
#: the timed call replays the generated code. "dualtape" is the eager column.
REPLAY = "dualtape-replay"

#: Runtime settings applied by the loaders, per tool (filled as they load).
SETTINGS: dict[str, dict[str, Any]] = {}


class ToolUnavailable(ImportError):
    """The tool (or the feature a row needs) is not installed or not there yet."""


@functools.cache
def dualtape() -> ModuleType:
    """The dualtape package, once its core (``dt.grad`` and friends) exists."""
    import dualtape as dt

    if not hasattr(dt, "grad"):
        raise ToolUnavailable("dualtape core not importable yet (no dualtape.grad)")
    return dt


def dualtape_feature(name: str) -> Any:
    """``dualtape.<name>``, or ToolUnavailable naming the missing feature."""
    dt = dualtape()
    if not hasattr(dt, name):
        raise ToolUnavailable(f"dualtape has no {name!r} yet")
    return getattr(dt, name)


def dualtape_compile() -> Any:
    """``dualtape.compile`` (record once, replay many), or ToolUnavailable."""
    return dualtape_feature("compile")


def no_retrace(compiled: Any, call: Callable[[], Any]) -> Callable[[], Any]:
    """``call`` (a replay of ``compiled`` at the benchmark's input), after running it once
    untimed: raises if ``compiled`` had to record again there, since a replayed row must
    time replays, not recordings."""
    call()
    if compiled.retraces:
        raise RuntimeError(f"dt.compile re-recorded at the benchmark input "
                           f"({compiled.retraces}x: {compiled.last_retrace})")
    return call


def solvers_option(name: str, option: str) -> Any:
    """``solvers.<name>`` if it takes keyword ``option`` (e.g. ``compile``), else
    ToolUnavailable: a row that needs a solver option not written yet is a skip."""
    import inspect

    try:
        import solvers
    except ImportError as exc:
        raise ToolUnavailable(f"solvers not importable ({exc})") from exc
    fn = getattr(solvers, name, None)
    if fn is None:
        raise ToolUnavailable(f"solvers.{name} does not exist yet")
    if option not in inspect.signature(fn).parameters:
        raise ToolUnavailable(f"solvers.{name} has no {option}= option yet")
    return fn


@functools.cache
def autograd() -> tuple[ModuleType, ModuleType]:
    """``(autograd, autograd.numpy)``."""
    try:
        import autograd as ag
        import autograd.numpy as anp
    except ImportError as exc:
        raise ToolUnavailable(f"autograd not installed ({exc})") from exc
    SETTINGS["autograd"] = {"dtype": "float64 (NumPy)"}
    return ag, anp


@functools.cache
def torch() -> ModuleType:
    """PyTorch, pinned to one thread with float64 as the default dtype."""
    try:
        import torch as th
    except ImportError as exc:
        raise ToolUnavailable(f"torch not installed ({exc})") from exc
    th.set_num_threads(1)
    try:
        th.set_num_interop_threads(1)
    except RuntimeError:  # only allowed before the first parallel work; keep going
        pass
    th.set_default_dtype(th.float64)
    SETTINGS["torch"] = {
        "num_threads": th.get_num_threads(),
        "num_interop_threads": th.get_num_interop_threads(),
        "default_dtype": str(th.get_default_dtype()),
    }
    return th


@functools.cache
def jax() -> tuple[ModuleType, ModuleType]:
    """``(jax, jax.numpy)`` on CPU with x64 enabled and one-thread XLA flags."""
    os.environ.setdefault(
        "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    )
    try:
        import jax as jx
        import jax.numpy as jnp
    except ImportError as exc:
        raise ToolUnavailable(f"jax not installed ({exc})") from exc
    jx.config.update("jax_enable_x64", True)
    jx.config.update("jax_platforms", "cpu")
    SETTINGS["jax"] = {
        "XLA_FLAGS": os.environ.get("XLA_FLAGS"),
        "jax_enable_x64": bool(jx.config.jax_enable_x64),
        "devices": [str(d) for d in jx.devices()],
    }
    return jx, jnp


def jax_ready(out: Any) -> Any:
    """Block until JAX's asynchronous dispatch has finished computing ``out``."""
    jx, _ = jax()
    return jx.block_until_ready(out)
