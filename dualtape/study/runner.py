"""Running a comparison: every method at every grid point, timed, traced and checked.

>>> from dualtape.study import compare
>>> s = compare("dense", ns=[2, 8], ms=[4], methods=["fwd", "rev", "cstep"], repeats=1,
...             min_time=0, memory=False, progress=False)
>>> len(s.records), all(r.rel_error < 1e-12 for r in s.records)
(6, True)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .families import Problem, make_problem, user_problem
from .machine import limit_threads, machine_info
from .measure import peak_memory, relative_error, time_call
from .methods import DEFAULT_CHUNKS, NotApplicable, build, parse_methods
from .progress import Progress
from .results import Record, Study

#: The default grid and the quick one (for tests and ``--quick``).
DEFAULT_NS = (4, 16, 64, 256, 1024)
DEFAULT_MS = (4, 16, 64, 256)
QUICK_NS = (4, 32, 256)
QUICK_MS = (4, 32)


def _reference(p: Problem) -> tuple[np.ndarray | None, str]:
    """The exact Jacobian when known, else forward mode (complex step is not trusted: code
    such as ``np.abs`` accepts complex input and silently drops the step)."""
    if p.jac is not None:
        return np.reshape(p.jac(p.x), (p.m, p.n)), "exact (by hand)"
    import dualtape as dt
    try:
        return (np.reshape(dt.jacfwd(p.fn)(p.x), (p.m, p.n)),
                "forward mode (no exact Jacobian given)")
    except Exception:  # noqa: BLE001 - the failure shows again in the fwd record
        return None, "none (forward mode failed; no exact Jacobian given)"


def measure(p: Problem, method: str, repeats: int = 5, min_time: float = 2e-3,
            budget: float = 2.0, memory: bool = True, ref: np.ndarray | None = None) -> Record:
    """Time one method on one problem; record peak memory and accuracy.

    Failures are recorded (``status``), never raised, so one bad method does not stop
    a sweep.
    """
    rec = Record(p.name, p.n, p.m, method, "ok")
    try:
        jac = build(method, p.fn, p.x, p.m)
        t0 = time.perf_counter()
        J = jac(p.x)
        first = time.perf_counter() - t0
        if first < budget / 4:  # a second call, warm, for the autorange estimate
            t0 = time.perf_counter()
            jac(p.x)
            first = time.perf_counter() - t0
        timing = time_call(lambda: jac(p.x), repeats, min_time, budget, first=first)
        rec.time, rec.time_min = timing.median, timing.minimum
        rec.repeats, rec.number = timing.repeats, timing.number
        if memory:
            rec.peak_bytes = peak_memory(lambda: jac(p.x))
        if ref is not None:
            rec.rel_error = relative_error(J, ref)
    except NotApplicable:
        rec.status = "n/a"
    except Exception as exc:  # noqa: BLE001 - a failing method is a result, not a crash
        rec.status = f"error: {type(exc).__name__}: {exc}".replace("\n", " ")[:300]
    return rec


_warmed = False


@dataclass
class _Point:
    """One grid point, every method: the task a worker runs under ``executor=``."""

    methods: list
    repeats: int
    min_time: float
    budget: float
    memory: bool
    threads: int | None

    def __call__(self, p: Problem) -> tuple[list[Record], str]:
        global _warmed
        with limit_threads(self.threads):
            if not _warmed:  # once per worker process, as the serial run does once
                for meth in self.methods:
                    measure(p, meth, repeats=1, min_time=0.0, budget=0.0, memory=False)
                _warmed = True
            ref, ref_name = _reference(p)
            return [measure(p, meth, self.repeats, self.min_time, self.budget, self.memory,
                            ref) for meth in self.methods], ref_name


def compare_problems(problems: Sequence[Problem], methods: Sequence[str] | None = None,
                     repeats: int = 5, min_time: float = 2e-3, budget: float = 2.0,
                     memory: bool = True, progress: bool = True, threads: int | None = None,
                     title: str = "compare", settings: dict[str, Any] | None = None,
                     executor: Any = None) -> Study:
    """Run every method on every problem.

    Args:
        problems: the grid, one :class:`~dualtape.study.families.Problem` per point.
        methods: method names (see :mod:`dualtape.study.methods`); None = the defaults
            plus ``fwd[c=1]`` and ``rev[c=1]``.
        repeats: timing samples per measurement; the median is reported.
        min_time: seconds each sample lasts at least (short calls are repeated).
        budget: seconds after which no more samples are taken for one measurement.
        memory: also measure peak memory (one extra call under tracemalloc).
        progress: show progress on stderr.
        threads: limit BLAS threads (needs threadpoolctl); None leaves them alone.
        title: the progress bar's title.
        settings: extra settings to record in the report.
        executor: a ``concurrent.futures.Executor``: each grid point is one task (all its
            methods, timed on the worker; the records come back in grid order). Tasks
            running side by side compete for cores and memory bandwidth, so give the pool
            no more workers than cores if the times are to be compared.

    Returns:
        A :class:`~dualtape.study.results.Study`.
    """
    methods = list(methods) if methods else parse_methods("", list(DEFAULT_CHUNKS))
    records, refs = [], set()
    if executor is not None:
        return _distributed(problems, methods, repeats, min_time, budget, memory, progress,
                            threads, title, settings, executor)
    with limit_threads(threads), Progress(len(problems) * len(methods), title,
                                          enabled=progress) as bar:
        machine = machine_info()
        if problems:  # a throw-away round, so first-call costs land in no measurement
            for meth in methods:
                measure(problems[0], meth, repeats=1, min_time=0.0, budget=0.0, memory=False)
        for p in problems:
            ref, ref_name = _reference(p)
            refs.add(ref_name)
            for meth in methods:
                records.append(measure(p, meth, repeats, min_time, budget, memory, ref))
                bar.step(f"n={p.n} m={p.m} {meth}")
    info = dict(settings or {})
    info.update(repeats=repeats, min_time=min_time, budget=budget, threads=threads,
                methods=list(methods))
    return Study(records, machine, info, "; ".join(sorted(refs)))


def _distributed(problems, methods, repeats, min_time, budget, memory, progress, threads,
                 title, settings, executor) -> Study:
    from ..distribute import map_ordered, workers_of
    task = _Point(methods, repeats, min_time, budget, memory, threads)
    labels = [f"grid point {i} of {len(problems)} (n={p.n}, m={p.m})"
              for i, p in enumerate(problems)]
    with Progress(len(problems) * len(methods), title, enabled=progress) as bar:
        def done(i: int) -> None:
            for meth in methods:
                bar.step(f"n={problems[i].n} m={problems[i].m} {meth}")

        outs = map_ordered(task, problems, executor, what=title, labels=labels, on_done=done)
    records = [r for recs, _ in outs for r in recs]
    info = dict(settings or {})
    info.update(repeats=repeats, min_time=min_time, budget=budget, threads=threads,
                methods=list(methods),
                executor=f"{type(executor).__name__}, {workers_of(executor)} worker(s)")
    with limit_threads(threads):  # what the workers run with, as the serial run reports
        machine = machine_info()
    return Study(records, machine, info, "; ".join(sorted({r for _, r in outs})))


def compare(family: str = "dense", ns: Sequence[int] = DEFAULT_NS,
            ms: Sequence[int] = DEFAULT_MS, methods: Sequence[str] | None = None,
            cost: int = 1, **kwargs: Any) -> Study:
    """Compare the methods on a built-in family over the grid ``ns x ms``.

    Args:
        family: ``"dense"``, ``"rosenbrock"`` (m is always 1) or ``"mlp"``.
        ns: input sizes.
        ms: output sizes.
        methods: method names.
        cost: elementwise work per element (``dense``).
        **kwargs: passed to :func:`compare_problems` (repeats, memory, progress, ...).
    """
    if family == "rosenbrock":
        ms = (1,)
    problems = [make_problem(family, n, m, cost) for m in ms for n in ns]
    settings = {"problem": f"{family} (cost={cost})" if family == "dense" else family,
                "ns": list(ns), "ms": list(ms), "cost": cost}
    return compare_problems(problems, methods, settings=settings, title=f"compare {family}",
                            **kwargs)


def compare_function(fn: Callable, shapes: Sequence[tuple[int, ...]],
                     methods: Sequence[str] | None = None, jac: Callable | None = None,
                     **kwargs: Any) -> Study:
    """Compare the methods on a user's function at inputs of the given shapes.

    Args:
        fn: plain NumPy function of one array argument (any output shape).
        shapes: one input shape per grid point, e.g. ``[(10,), (100,), (1000,)]``.
        methods: method names.
        jac: the exact Jacobian, if known (``jac(x)`` of shape ``out.shape + x.shape``);
            otherwise accuracy is measured against complex step or forward mode.
        **kwargs: passed to :func:`compare_problems`.
    """
    problems = [user_problem(fn, tuple(s), jac) for s in shapes]
    settings = {"problem": getattr(fn, "__name__", "f"), "shapes": [list(s) for s in shapes]}
    return compare_problems(problems, methods, settings=settings, **kwargs)
