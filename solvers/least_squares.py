"""solvers.least_squares: scipy.optimize.least_squares with the exact Jacobian.

The Jacobian of the residuals is exact: dense (dualtape picks forward mode when
n <= m, reverse otherwise), or sparse through ``dt.sparse_jacobian_fn`` when
``sparse=True`` or, by default, when n >= ``SPARSE_AUTO_N`` and dualtape has its
sparse module. The sparsity pattern is detected automatically (no
``jac_sparsity``) and the coloring is computed once for the whole solve.

With ``compile="auto"`` (the default) the residual function is recorded once by
``dt.compile`` (at the fourth Jacobian: a shorter solve stays eager) and its dense
Jacobians are replayed from generated code; a function that cannot be recorded is
differentiated eagerly (``res.compiled``, ``res.compile_error``; see
:mod:`solvers._replay`). Sparse Jacobians stay eager.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.optimize as so

from . import _derivatives as D
from ._callbacks import tracking_callback
from ._pytree import ravel_pytree
from ._replay import check_compile
from ._result import compile_report, structured_result
from ._vector import VectorFunction

__all__ = ["least_squares", "SPARSE_AUTO_N", "use_sparse"]

#: With ``sparse=None``, Jacobians of problems with at least this many variables are sparse.
SPARSE_AUTO_N = 1000

#: scipy arguments that only configure finite differences: meaningless with exact Jacobians.
_FD_ONLY = ("jac", "diff_step", "jac_sparsity")


def use_sparse(sparse: bool | None, n: int, who: str, dense_only: bool = False) -> bool:
    """Resolve ``sparse=None/True/False`` for a problem with n variables.

    >>> use_sparse(False, 10**6, "root")
    False
    """
    if sparse is None:
        return n >= SPARSE_AUTO_N and not dense_only and D.sparse_available()
    if sparse and dense_only:
        raise ValueError(f"solvers.{who}: this method needs a dense Jacobian; use sparse=False "
                         f"or another method")
    if sparse and not D.sparse_available():
        raise NotImplementedError(f"solvers.{who}: sparse=True needs dt.sparse_jacobian_fn, "
                                  f"which this dualtape does not provide yet; use sparse=False")
    return bool(sparse)


def reject_fd_options(options: dict, who: str) -> None:
    """scipy's finite-difference knobs are errors here, with the reason."""
    for key in _FD_ONLY:
        if key in options:
            raise TypeError(f"solvers.{who}: {key}= is not accepted: the Jacobian is computed "
                            f"exactly (and its sparsity detected); use sparse=True/False to "
                            f"choose a sparse or dense Jacobian")


def least_squares(fun: Callable, x0: Any, bounds: Any = (-np.inf, np.inf), method: str = "trf",
                  *, sparse: bool | None = None, args: tuple = (), kwargs: dict | None = None,
                  callback: Callable | None = None, compile: Any = "auto",
                  **options: Any) -> so.OptimizeResult:
    """Nonlinear least squares ``min 1/2 sum r_i(x)^2`` with the exact Jacobian.

    Args:
        fun: ``fun(x, *args, **kwargs) -> residuals`` (any shape, flattened), plain
            NumPy; ``x`` has the structure of ``x0``.
        x0: starting point, array or pytree; converted to float64.
        bounds, method: as scipy ("trf", "dogbox", "lm"); bounds act on the flat
            vector ``res.x_flat``.
        sparse: Jacobian as a sparse array (True), dense (False), or None: sparse
            when n >= SPARSE_AUTO_N and dualtape offers sparse Jacobians.
        args, kwargs: extra arguments of ``fun``.
        callback: as scipy (not with "lm"), with ``x`` in x0's structure.
        compile: ``"auto"`` (default): replay the dense Jacobian from a ``dt.compile``
            recording of fun at x0 from the fourth Jacobian on, eager if fun cannot be
            recorded; ``True``: record before the solve and raise
            :class:`~solvers.CompileError` instead (also with a sparse Jacobian, which
            is never replayed); ``False``: eager. ``args``/``kwargs`` are constants of
            the recording.
        **options: scipy's other keywords (ftol, xtol, gtol, x_scale, loss,
            f_scale, tr_solver, tr_options, max_nfev, verbose). ``jac``,
            ``diff_step`` and ``jac_sparsity`` are refused: nothing is approximated.

    Returns:
        scipy's OptimizeResult (``cost``, ``fun``, ``jac``, ``grad``, ...), with
        ``res.x`` in x0's structure and ``res.x_flat`` the flat vector;
        ``res.compiled``/``res.compile_error`` as :func:`solvers.minimize`.

    >>> import numpy as np, solvers
    >>> t = np.linspace(0, 1, 20); y = 2.0 * np.exp(-1.5 * t)
    >>> res = solvers.least_squares(lambda p: p["a"] * np.exp(-p["k"] * t) - y,
    ...                             {"a": 1.0, "k": 1.0})
    >>> round(float(res.x["a"]), 6), round(float(res.x["k"]), 6)
    (2.0, 1.5)
    >>> res.compiled, res.njev == res.ad_calls["jac"]
    (True, True)
    """
    reject_fd_options(options, "least_squares")
    compile = check_compile(compile, "least_squares")
    kw = dict(kwargs or {})
    call = (lambda x, *a: fun(x, *a, **kw)) if kw else fun
    flat0, unravel = ravel_pytree(x0)
    sparse = use_sparse(sparse, flat0.size, "least_squares", dense_only=(method == "lm"))
    vf = VectorFunction(call, flat0, unravel, tuple(args), "least_squares", "residuals",
                        sparse=sparse)
    if method == "lm" and vf.m < vf.n:
        raise ValueError(f"solvers.least_squares: method='lm' needs at least as many residuals "
                         f"as variables; got m={vf.m} < n={vf.n}")
    vf.use_compile(compile)
    vf.check_jacobian()
    vf.start()
    cb = None
    if method != "lm":
        cb = tracking_callback(callback, "least_squares", unravel, [vf.ctx])
    elif callback is not None:
        warnings.warn("solvers.least_squares: method='lm' does not support a callback (as in "
                      "scipy); it is ignored", RuntimeWarning, stacklevel=2)
    res = so.least_squares(vf.value, flat0, jac=vf.jac, bounds=bounds, method=method,
                           callback=cb, **options)
    return compile_report(structured_result(res, unravel, vf.counts), vf.replays())
