"""Newton's method for F(x) = 0 with exact derivatives: direct and matrix-free.

- :func:`newton`: solve J(x) dx = -F(x) with the exact Jacobian, dense
  (``numpy.linalg.solve``) or sparse (``scipy.sparse.linalg.spsolve``), then a
  backtracking (Armijo) line search on ``1/2 ||F||^2``.
- :func:`newton_krylov`: the same outer loop, but the linear system is solved by
  GMRES on a LinearOperator whose products ``J(x) @ v`` are exact forward-mode
  Jacobian-vector products: J is never formed and no sparse support is needed.
  The GMRES tolerance follows the forcing term eta_k = min(eta_max, ||F||)
  (Eisenstat & Walker), which keeps the convergence superlinear.

Both return an ``OptimizeResult`` like scipy's ``root``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sps
import scipy.sparse.linalg as spla
from scipy.optimize import OptimizeResult

from ._vector import VectorFunction

__all__ = ["newton", "newton_krylov"]

_ARMIJO = 1e-4
_MIN_STEP = 2.0 ** -30


def _solve_direct(jac: object, f: np.ndarray) -> np.ndarray:
    if sps.issparse(jac):
        return np.asarray(spla.spsolve(sps.csc_array(jac), -f), dtype=np.float64)
    try:
        return np.linalg.solve(jac, -f)
    except np.linalg.LinAlgError:  # singular: the least-squares step still descends
        return np.linalg.lstsq(jac, -f, rcond=None)[0]


def _loop(F: VectorFunction, direction: Callable[[np.ndarray, np.ndarray], tuple],
          tol: float, xtol: float, maxiter: int, line_search: bool,
          callback: Callable | None) -> OptimizeResult:
    """The outer Newton loop shared by both variants.

    ``direction(x, f)`` returns ``(dx, slope_factor)``: the step and the fraction
    of the exact-Newton decrease of ||F||^2 it guarantees (1 for a direct solve).
    """
    x = F.x0.copy()
    f = F.value(x)
    status, message, nit = 2, f"maximum number of iterations ({maxiter}) reached", 0
    for nit in range(maxiter + 1):
        F.ctx.iteration = nit
        if np.max(np.abs(f), initial=0.0) <= tol:
            status, message = 1, f"max |F(x)| <= tol = {tol:g}"
            break
        if nit == maxiter:
            break
        dx, factor = direction(x, f)
        if not np.all(np.isfinite(dx)):
            status, message = 3, "the Newton step is not finite (singular Jacobian?)"
            break
        phi, t = 0.5 * float(f @ f), 1.0
        while True:
            x_new = x + t * dx
            f_new = F.value(x_new)
            phi_new = 0.5 * float(f_new @ f_new)
            if not line_search or (np.isfinite(phi_new) and
                                   phi_new <= (1.0 - 2.0 * _ARMIJO * t * factor) * phi):
                break
            t *= 0.5
            if t < _MIN_STEP:
                break
        if t < _MIN_STEP:
            status, message = 4, "the line search found no decrease of ||F||"
            break
        step = t * dx
        x, f = x_new, f_new
        if callback is not None:
            try:
                callback(x.copy(), f.copy())
            except StopIteration:
                status, message, nit = 5, "callback raised StopIteration", nit + 1
                break
        if np.linalg.norm(step) <= xtol * (xtol + np.linalg.norm(x)):
            nit += 1
            F.ctx.iteration = nit
            ok = np.max(np.abs(f), initial=0.0) <= np.sqrt(tol)
            status = 1 if ok else 6
            message = ("the step is below xtol" if ok else
                       "the step is below xtol but F(x) is not small (a local minimum of ||F||?)")
            break
    return OptimizeResult(x=x, fun=f, success=status == 1, status=status, message=message,
                          nit=nit, nfev=F.counts["plain"], njev=F.counts["jac"],
                          njvp=F.counts["jvp"])


def newton(F: VectorFunction, tol: float = 1e-10, xtol: float = 1e-12, maxiter: int = 50,
           line_search: bool = True, callback: Callable | None = None) -> OptimizeResult:
    """Newton's method with the exact (dense or sparse) Jacobian and backtracking.

    Args:
        F: the function (its ``sparse`` flag selects spsolve over a dense solve).
        tol: stop when max |F(x)| <= tol.
        xtol: stop when the step is below ``xtol * (xtol + ||x||)``.
        maxiter: the most Newton steps.
        line_search: halve the step until ``1/2 ||F||^2`` decreases (Armijo).
        callback: called as ``callback(x, f)`` after each step, as scipy's root does.
    """
    return _loop(F, lambda x, f: (_solve_direct(F.jac(x), f), 1.0), tol, xtol, maxiter,
                 line_search, callback)


def newton_krylov(F: VectorFunction, tol: float = 1e-10, xtol: float = 1e-12,
                  maxiter: int = 50, line_search: bool = True, eta_max: float = 0.1,
                  inner_maxiter: int = 200, restart: int = 60,
                  inner_M: object = None, callback: Callable | None = None) -> OptimizeResult:
    """Inexact Newton: GMRES on exact Jacobian-vector products (J never formed).

    Args:
        F, tol, xtol, maxiter, line_search, callback: as :func:`newton`.
        eta_max: the largest GMRES relative tolerance (forcing term).
        inner_maxiter: GMRES restart cycles; ``restart``: Krylov space size per cycle.
        inner_M: an optional preconditioner for GMRES (matrix or LinearOperator).
    """
    n = F.n

    def direction(x: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, float]:
        eta = min(eta_max, float(np.linalg.norm(f)))
        op = spla.LinearOperator((n, n), matvec=lambda v: F.jvp(x, v), dtype=np.float64)
        dx, _ = spla.gmres(op, -f, rtol=eta, atol=0.0, restart=min(restart, n),
                           maxiter=inner_maxiter, M=inner_M)
        return dx, 1.0 - eta

    return _loop(F, direction, tol, xtol, maxiter, line_search, callback)
