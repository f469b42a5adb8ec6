"""solvers.multistart: :func:`solvers.minimize` from many starting points, on an executor.

A non-convex objective has several minima; a local method finds the one downhill of
its start. ``multistart`` runs ``minimize`` from every start (each start one task on any
``concurrent.futures.Executor``: a process pool, or a Dask cluster through
``distributed.Client(...).get_executor()``) and returns every result, best first.

>>> import numpy as np, solvers
>>> f = lambda x: (x[0] ** 2 - 1.0) ** 2 + 0.1 * x[0]    # two valleys; the left is lower
>>> res = solvers.multistart(f, [np.array([1.5]), np.array([-1.5])], method="BFGS")
>>> [r.start for r in res], round(float(res[0].x[0]), 2), bool(res[0].fun < res[1].fun)
([1, 0], -1.01, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from dualtape.distribute import map_ordered

from .minimize import minimize

__all__ = ["multistart"]


@dataclass
class _Start:
    """One start: the task a worker runs (fun and the options travel by cloudpickle)."""

    fun: Callable
    options: dict

    def __call__(self, x0: Any) -> OptimizeResult:
        return minimize(self.fun, x0, **self.options)


def _rank(res: OptimizeResult) -> tuple:
    """Successful and finite first, then finite, then non-finite, then failed starts;
    lower ``fun`` first within each group; ties in start order."""
    try:
        fun = float(np.asarray(res.get("fun")).reshape(()))
    except (TypeError, ValueError):
        fun = math.nan
    if "error" in res:
        group = 3
    elif not math.isfinite(fun):
        group = 2
    else:
        group = 0 if bool(res.get("success", False)) else 1
    return group, fun if math.isfinite(fun) else 0.0, res.start


def multistart(fun: Callable, x0s: Sequence[Any] | np.ndarray, executor: Any = None,
               **minimize_kwargs: Any) -> list[OptimizeResult]:
    """Run :func:`solvers.minimize` from each start in ``x0s``; all results, best first.

    Args:
        fun: the objective, as for :func:`solvers.minimize` (plain NumPy).
        x0s: the starting points: a sequence of arrays or pytrees, or a 2-D array whose
            rows are the starts.
        executor: a ``concurrent.futures.Executor``: each start is one task; None runs the
            starts here, one after another. ``fun`` and the options travel by cloudpickle
            (see :mod:`dualtape.distribute` for what the workers must be able to import).
        **minimize_kwargs: passed to every :func:`solvers.minimize` call (method,
            bounds, constraints, hess, tol, options, args...).

    Returns:
        One ``OptimizeResult`` per start, each with ``start`` (its index in ``x0s``) and
        ``x0``, ordered best first:

        1. runs that report ``success`` with a finite ``fun``, lowest ``fun`` first;
        2. runs that did not report success, with a finite ``fun``, lowest first;
        3. runs whose ``fun`` is not finite;
        4. starts that failed (``minimize`` raised, or the worker was lost): reported,
           not dropped, as ``success=False``, ``status=-1``, ``fun=nan``, ``x=x0``, a
           ``message`` naming the start and the error, and ``error`` (the exception).

        Ties keep the order of the starts. ``results[0]`` is the best one found.

    >>> import numpy as np, solvers
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> def f(x):
    ...     if x[0] > 5:
    ...         raise ValueError("outside the model's range")
    ...     return np.sum((x - 1.0) ** 2)
    >>> with ThreadPoolExecutor(2) as ex:
    ...     res = solvers.multistart(f, np.array([[0.0], [9.0], [3.0]]), executor=ex)
    >>> [(r.start, bool(r.success)) for r in res]
    [(0, True), (2, True), (1, False)]
    >>> print(res[-1].message)
    multistart: start 1 of 3 failed on a worker: ObjectiveError: ...outside the model's range...
    """
    starts = list(x0s)
    if not starts:
        raise ValueError("multistart: x0s is empty; give at least one starting point")
    labels = [f"start {i} of {len(starts)}" for i in range(len(starts))]
    outs = map_ordered(_Start(fun, minimize_kwargs), starts, executor, what="multistart",
                       labels=labels, errors="return")
    results = []
    for i, (x0, out) in enumerate(zip(starts, outs)):
        if isinstance(out, Exception):
            out = OptimizeResult(x=x0, fun=math.nan, success=False, status=-1, nit=0,
                                 message=str(out), error=out.__cause__ or out)
        out.start, out.x0 = i, x0
        results.append(out)
    return sorted(results, key=_rank)
