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


#: Size of the block ``settle_allocator`` allocates and frees (just under glibc's
#: 32 MB ceiling for its dynamic mmap threshold).
SETTLE_BYTES = 31 * 2**20


def settle_allocator() -> str:
    """Put the C allocator in its steady state before the first row; say what was done.

    glibc serves blocks above its mmap threshold (128 KB at start) with fresh mmaps,
    whose pages fault in on first touch: on this VM a 2 MB temporary then costs ~10x
    its arithmetic (scipy's ``rosen_hess`` at n=500: 2.4 ms instead of 0.2 ms). Freeing
    one mmapped block raises the threshold to that block's size for the rest of the
    process, so row timings depended on which rows ran before. Freeing one 31 MB block
    first puts every row in the state a long-running process reaches anyway.
    """
    import numpy as np

    block = np.empty(SETTLE_BYTES // 8)
    del block
    return f"one {SETTLE_BYTES >> 20} MB block allocated and freed before the first row " \
           f"(glibc mmap threshold raised, as in any long-running process)"


@dataclass
class Timing:
    """Per-call times in seconds: the median of ``samples`` samples of ``number`` calls."""

    median: float
    minimum: float
    number: int
    samples: list[float] = field(default_factory=list)
    single_call: bool = False  # True: too slow to repeat, one sample of one call
    baseline_samples: list[float] = field(default_factory=list)  # paired, per call

    @property
    def paired_ratio(self) -> float | None:
        """Median of t(sample) / t(baseline sample taken just before it), if paired."""
        if not self.baseline_samples:
            return None
        return statistics.median(t / b for t, b in zip(self.samples, self.baseline_samples))

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return asdict(self)


@dataclass(frozen=True)
class Settings:
    """How hard to measure: samples per median, seconds per sample, seconds per row."""

    samples: int = 7
    min_time: float = 0.02
    budget: float = 5.0

    @classmethod
    def for_scale(cls, quick: bool) -> Settings:
        """Defaults of the full run, or of ``--quick`` (under a minute in all)."""
        return cls(3, 0.005, 0.3) if quick else cls()



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


@dataclass(frozen=True)
class Paired:
    """A reference callable (the baseline) sampled right before each sample of a tool."""

    fn: Callable[[], Any]
    number: int


def _sample(fn: Callable[[], Any], number: int) -> float:
    gc.collect()
    return _run(fn, number) / number


def measure(fn: Callable[[], Any], settings: Settings, first_call: float | None = None,
            pair: Paired | None = None) -> Timing:
    """Median over ``samples`` samples; each sample repeats ``fn`` for >= ``min_time``.

    The garbage collector stays enabled (tapes allocate, and users run with it on);
    a collection is forced between samples so that one sample does not pay for the
    garbage of another. When ``samples`` samples would take longer than
    ``settings.budget`` seconds (a slow call), fewer are taken (at least one). A
    call whose checked (first, warm-up) run took longer than the budget
    (``first_call`` seconds) is timed once more; if that call also exceeds the
    budget it is the measurement (``single_call``).

    With ``pair``, a sample of the baseline precedes every sample of ``fn``; the
    ratio of the two medians-of-ratios then cancels slow drifts of machine load.
    """
    samples, budget = settings.samples, settings.budget
    base: list[float] = []
    if first_call is not None and first_call > budget:
        if pair is not None:
            base.append(_sample(pair.fn, pair.number))
        elapsed = _sample(fn, 1)  # the first call may have paid for compilation: try again
        if elapsed > budget:
            return Timing(elapsed, elapsed, 1, [elapsed], True, base)
        base.clear()
    number, elapsed = autorange(fn, settings.min_time)
    wanted = max(1, min(samples, int(budget / elapsed)))
    per_call = [elapsed / number] if wanted < samples and pair is None else []
    while len(per_call) < wanted:
        if pair is not None:
            base.append(_sample(pair.fn, pair.number))
        per_call.append(_sample(fn, number))
    return Timing(statistics.median(per_call), min(per_call), number, per_call, False, base)


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
