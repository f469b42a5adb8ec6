"""Measuring one call: median time over repeats (with autorange) and peak memory.

Timing follows ``timeit``: garbage collection off, each sample long enough to be
above the clock's noise (``number`` calls per sample), the median of ``repeats``
samples reported. Memory is measured in a separate call under ``tracemalloc``
(NumPy reports its buffers to it), so tracing never slows the timed calls.

>>> t = time_call(lambda: sum(range(100)), repeats=3, min_time=1e-4)
>>> t.median > 0 and t.repeats == 3
True
>>> peak_memory(lambda: bytearray(10 ** 6)) >= 10 ** 6
True
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    """Seconds per call: the median and minimum of ``repeats`` samples of ``number`` calls."""

    median: float
    minimum: float
    repeats: int
    number: int

    @property
    def spread(self) -> float:
        """median / minimum - 1: how noisy the samples were."""
        return self.median / self.minimum - 1.0 if self.minimum > 0 else 0.0


def time_call(fn: Callable[[], object], repeats: int = 5, min_time: float = 2e-3,
              budget: float = 2.0, first: float | None = None) -> Timing:
    """Time ``fn()`` (already warmed up).

    Args:
        fn: the call to time.
        repeats: samples; the median is reported.
        min_time: each sample lasts at least this long (calls are repeated within it).
        budget: stop adding samples once this many seconds are spent (at least one
            sample is always taken, so a slow call is measured once, not skipped).
        first: the duration of a warm-up call already made, to skip the autorange.

    Returns:
        A :class:`Timing`.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        if first is None:
            t0 = time.perf_counter()
            fn()
            first = time.perf_counter() - t0
        number = max(1, int(min_time / first)) if first > 0 else 1000
        samples: list[float] = []
        spent = 0.0
        while len(samples) < repeats and (not samples or spent < budget):
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            dt_ = time.perf_counter() - t0
            spent += dt_
            samples.append(dt_ / number)
    finally:
        if enabled:
            gc.enable()
    return Timing(statistics.median(samples), min(samples), len(samples), number)


def peak_memory(fn: Callable[[], object]) -> int:
    """Peak bytes allocated (above the starting level) during one call of ``fn()``."""
    gc.collect()
    already = tracemalloc.is_tracing()
    if not already:
        tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not already:
            tracemalloc.stop()
    return max(0, peak - base)


def relative_error(J: object, ref: object) -> float:
    """max |J - ref| / max |ref| (the absolute error when ref is all zero).

    >>> relative_error([[1.0, 2.0]], [[1.0, 2.0 + 2e-6]]) < 1.1e-6
    True
    """
    import numpy as np
    J, ref = np.asarray(J, dtype=float), np.asarray(ref, dtype=float)
    err = float(np.max(np.abs(J - ref))) if J.size else 0.0
    scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    return err / scale if scale > 0 else err
