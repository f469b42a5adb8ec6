"""Timing: thread pinning, a median-of-samples timer with autorange, machine info.

This module imports no numerical library at import time: ``pin_threads`` must run
before NumPy (and its BLAS) is first imported, or the thread variables are ignored.
"""

from __future__ import annotations

import datetime
import gc
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from typing import Any

#: Environment variables that pin every runtime to one thread.
THREAD_ENV: dict[str, str] = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    "JAX_ENABLE_X64": "1",
    "JAX_PLATFORMS": "cpu",
}

#: Variables recorded (not changed) because they select or slow the BLAS kernel.
RECORDED_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def pin_threads() -> dict[str, str]:
    """Set the one-thread environment (call before NumPy is imported); return what was set.

    Variables the user already set are left alone and reported with their value.
    """
    applied: dict[str, str] = {}
    for key, value in THREAD_ENV.items():
        os.environ.setdefault(key, value)
        applied[key] = os.environ[key]
    return applied


@dataclass
class Timing:
    """Per-call times in seconds: the median of ``samples`` samples of ``number`` calls."""

    median: float
    minimum: float
    number: int
    samples: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return asdict(self)


def autorange(fn: Callable[[], Any], min_time: float) -> tuple[int, float]:
    """Find a call count whose total lasts at least ``min_time`` (1, 2, 5, 10, 20, ...)."""
    number = 1
    while True:
        for factor in (1, 2, 5):
            n = number * factor
            elapsed = _run(fn, n)
            if elapsed >= min_time:
                return n, elapsed
        number *= 10


def _run(fn: Callable[[], Any], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return time.perf_counter() - start


def measure(
    fn: Callable[[], Any],
    samples: int = 7,
    min_time: float = 0.02,
    slow_call: float = 0.5,
    slow_samples: int = 3,
) -> Timing:
    """Median over ``samples`` samples; each sample repeats ``fn`` for >= ``min_time``.

    The garbage collector stays enabled (tapes allocate, and users run with it on);
    a collection is forced between samples so that one sample does not pay for the
    garbage of another. A call slower than ``slow_call`` seconds gets only
    ``slow_samples`` samples to keep the full run bounded.
    """
    number, first = autorange(fn, min_time)
    if first / number > slow_call:
        samples = min(samples, slow_samples)
    per_call = []
    for _ in range(samples):
        gc.collect()
        per_call.append(_run(fn, number) / number)
    return Timing(statistics.median(per_call), min(per_call), number, per_call)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _blas_info() -> list[dict[str, Any]]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("internal_api", "version", "num_threads", "architecture", "filepath")
    return [{k: d.get(k) for k in keep} for d in threadpool_info()]


def machine_info(pinned: dict[str, str] | None = None) -> dict[str, Any]:
    """Machine, date, versions of numpy/scipy/dualtape/peers, thread settings, BLAS kernel."""
    import numpy  # noqa: F401  (load so that threadpoolctl sees its BLAS)

    dists = ("numpy", "scipy", "dualtape", "autograd", "torch", "jax", "jaxlib")
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "versions": {d: _version(d) for d in dists},
        "threads_env": dict(pinned or {}),
        "recorded_env": {k: os.environ.get(k) for k in RECORDED_ENV},
        "blas": _blas_info(),
    }
