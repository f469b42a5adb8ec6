"""solvers.root and solvers.fsolve: roots of F(x) = 0 with exact Jacobians.

Methods of :func:`root`:

- ``"hybr"``, ``"lm"`` (scipy's MINPACK): the exact dense Jacobian;
- ``"newton"``: Newton with the exact Jacobian, sparse (``spsolve``) when
  ``sparse=True`` or, by default, when n >= ``SPARSE_AUTO_N`` and dualtape has
  sparse Jacobians, dense otherwise; backtracking line search;
- ``"newton-krylov"``: inexact Newton, GMRES driven by exact Jacobian-vector
  products (``dt.jvp``); J is never formed, so it suits large n without sparsity
  support (it benefits from a preconditioner, ``options={"inner_M": M}``);
- scipy's Jacobian-free methods (``"broyden1"``, ``"broyden2"``, ``"anderson"``,
  ``"linearmixing"``, ``"diagbroyden"``, ``"excitingmixing"``, ``"krylov"``,
  ``"df-sane"``): passed through, with structured x0 and clear errors.

With ``compile="auto"`` (the default) ``fun`` is recorded once by ``dt.compile`` (at
the fourth derivative: a shorter solve stays eager) and its dense Jacobians and
Jacobian-vector products are replayed from generated code (eager for a function that
cannot be recorded; ``res.compiled``, ``res.compile_error``). The Jacobian-free
methods use plain calls and record nothing.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.optimize as so
from scipy.optimize import OptimizeResult

from ._callbacks import tracking_callback
from ._errors import ObjectiveError
from ._newton import newton, newton_krylov
from ._pytree import ravel_pytree
from ._replay import check_compile
from ._result import compile_report, structured_result
from ._vector import VectorFunction
from .least_squares import use_sparse

__all__ = ["fsolve", "root"]

_EXACT_SCIPY = ("hybr", "lm")
_OURS = ("newton", "newton-krylov")
_JAC_FREE = ("broyden1", "broyden2", "anderson", "linearmixing", "diagbroyden",
             "excitingmixing", "krylov", "df-sane")


def _square(fun: Callable, x0: Any, args: tuple, who: str, sparse: bool | None,
            dense_only: bool) -> VectorFunction:
    flat0, unravel = ravel_pytree(x0)
    sparse_flag = use_sparse(sparse, flat0.size, who, dense_only)
    vf = VectorFunction(fun, flat0, unravel, tuple(args), who, "fun", sparse=sparse_flag)
    if vf.m != vf.n:
        raise ObjectiveError(f"solvers.{who}: fun returns {vf.m} values but x0 has {vf.n} "
                             f"entries; a root needs a square system (use "
                             f"solvers.least_squares otherwise)")
    return vf


def root(fun: Callable, x0: Any, args: tuple = (), method: str = "hybr",
         tol: float | None = None, callback: Callable | None = None,
         options: dict | None = None, *, sparse: bool | None = None,
         compile: Any = "auto") -> so.OptimizeResult:
    """Find x with fun(x) = 0, with exact Jacobians (or exact J @ v products).

    Args:
        fun: ``fun(x, *args) -> array`` with as many values as x has entries;
            plain NumPy; ``x`` has the structure of ``x0``.
        x0: starting point, array or pytree; converted to float64.
        args: extra arguments of ``fun``.
        method: see the module docstring; default "hybr".
        tol: tolerance (for "newton"/"newton-krylov": stop when max |F| <= tol,
            default 1e-10).
        callback: ``callback(x, f)`` after each iteration, as scipy (not for
            "hybr"/"lm"), with ``x`` in x0's structure.
        options: method options as scipy; for "newton": ``xtol``, ``maxiter``,
            ``line_search``; "newton-krylov" adds ``eta_max``, ``inner_maxiter``,
            ``restart``, ``inner_M``.
        sparse: Jacobian for "newton" as a sparse array (True), dense (False), or
            None (sparse when n is large and dualtape offers sparse Jacobians).
        compile: ``"auto"`` (default), ``True`` or ``False``, as for
            :func:`solvers.minimize`: replay the Jacobians (or J @ v products) from a
            ``dt.compile`` recording of fun; sparse Jacobians are never replayed.

    Returns:
        An OptimizeResult with ``x`` in x0's structure, ``x_flat``, ``fun``,
        ``success``, ``message``, ``nfev``, ``njev`` (and ``njvp``, ``nit``),
        ``compiled`` and ``compile_error``.

    >>> import numpy as np, solvers
    >>> F = lambda x: np.stack([x[0] ** 2 + x[1] ** 2 - 4.0, x[0] - x[1]])
    >>> for method in ("hybr", "lm", "newton", "newton-krylov"):
    ...     print(method, np.round(solvers.root(F, np.array([1.0, 0.5]), method=method).x, 8))
    hybr [1.41421356 1.41421356]
    lm [1.41421356 1.41421356]
    newton [1.41421356 1.41421356]
    newton-krylov [1.41421356 1.41421356]
    """
    meth = method.lower()
    compile = check_compile(compile, "root")
    opts = dict(options or {})
    if meth not in _EXACT_SCIPY + _OURS + _JAC_FREE:
        raise ValueError(f"solvers.root: unknown method {method!r}; choose one of "
                         f"{_EXACT_SCIPY + _OURS + _JAC_FREE}")
    vf = _square(fun, x0, args, "root", sparse if meth == "newton" else False,
                 dense_only=meth != "newton")
    if meth not in _JAC_FREE:
        vf.use_compile(compile)
    if meth != "newton-krylov" and meth not in _JAC_FREE:
        vf.check_jacobian()
    vf.start()
    unravel = vf.unravel
    cb = None if meth in _EXACT_SCIPY else tracking_callback(callback, "root", unravel,
                                                              [vf.ctx])
    if meth == "newton":
        res = newton(vf, tol=1e-10 if tol is None else tol, callback=cb, **opts)
    elif meth == "newton-krylov":
        res = newton_krylov(vf, tol=1e-10 if tol is None else tol, callback=cb, **opts)
    elif meth in _EXACT_SCIPY:
        if callback is not None:
            warnings.warn(f"solvers.root: method {method!r} does not accept a callback (as in "
                          f"scipy); it is ignored", RuntimeWarning, stacklevel=2)
        res = so.root(vf.value, vf.x0, method=method, jac=vf.jac, tol=tol, options=opts)
    else:
        res = so.root(vf.value, vf.x0, method=method, tol=tol, callback=cb, options=opts)
    return compile_report(structured_result(res, unravel, vf.counts), vf.replays())


def fsolve(func: Callable, x0: Any, args: tuple = (), full_output: bool = False, *,
           compile: Any = "auto", **kwargs: Any) -> Any:
    """scipy.optimize.fsolve (MINPACK hybrd) with the exact Jacobian as ``fprime``.

    Args:
        func: ``func(x, *args) -> array``, square system; ``x`` shaped like ``x0``.
        x0: starting point, array or pytree.
        args: extra arguments of ``func``.
        full_output: also return ``infodict, ier, mesg``, as scipy; ``infodict`` also
            has ``compiled`` and ``compile_error`` (see :func:`root`).
        compile: ``"auto"`` (default), ``True`` or ``False``: replay the Jacobian
            from a ``dt.compile`` recording of func, as for :func:`root`.
        **kwargs: scipy's ``xtol``, ``maxfev``, ``factor``, ``diag``.

    Returns:
        The solution in x0's structure (a tuple with ``full_output``, as scipy).

    >>> import numpy as np, solvers
    >>> solvers.fsolve(lambda x: np.cos(x) - x, np.array([1.0]))
    array([0.73908513])
    """
    for key in ("fprime", "col_deriv", "epsfcn", "band"):
        if key in kwargs:
            raise TypeError(f"solvers.fsolve: {key}= is not accepted: the Jacobian is exact")
    compile = check_compile(compile, "fsolve")
    vf = _square(func, x0, args, "fsolve", False, dense_only=True)
    vf.use_compile(compile)
    vf.check_jacobian()
    vf.start()
    out = so.fsolve(vf.value, vf.x0, fprime=vf.jac, full_output=True, **kwargs)
    x, ier, mesg = out[0], out[2], out[3]
    report = compile_report(OptimizeResult(), vf.replays())
    out[1]["compiled"], out[1]["compile_error"] = report.compiled, report.compile_error
    if ier != 1 and not full_output:
        warnings.warn(f"solvers.fsolve: {mesg}", RuntimeWarning, stacklevel=2)
    x = vf.unravel(np.asarray(x, dtype=np.float64)) if not vf.unravel.trivial else x
    return (x,) + tuple(out[1:]) if full_output else x
