"""Linear solves and matrix functions of one matrix: solve, triangular solve, inv, det,
slogdet, pinv (rules), lstsq (derived from pinv).

Rules use stacked-matrix NumPy calls (matmul broadcasting, np.linalg on stacks), so a
leading batch axis of tangents/cotangents just broadcasts. ``solve`` takes right-hand
sides as stacks of matrices (..., M, K); the handler turns a 1-D ``b`` into a column.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.linalg

from ..registry import Const, Primitive, observe, plain, register_function, sample
from .cases import backed_by, example, note
from .construct import diagonal, tril, triu
from .kinds import align, dtype_of, shape_of, unbroadcast


def T(x: Any) -> Any:
    """Transpose of the last two axes (a stack of matrices)."""
    return np.swapaxes(x, -1, -2)


def diag_part(x: Any) -> Any:
    return diagonal(x, 0, -2, -1)


def diag_embed(v: Any) -> Any:
    """Stack of diagonal matrices with diagonals ``v`` (..., n)."""
    n = shape_of(v)[-1]
    return v[..., None] * np.eye(n, dtype=v.dtype)


def well_conditioned(n: int, batch: tuple = ()) -> Callable:
    """Sample generator: random matrices kept away from singularity."""
    return lambda rng: rng.uniform(-1.0, 1.0, batch + (n, n)) + 2.5 * np.eye(n)


def spd(n: int, batch: tuple = ()) -> Callable:
    """Sample generator: symmetric positive definite matrices."""
    def make(rng):
        a = rng.uniform(-1.0, 1.0, batch + (n, n))
        return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)
    return make


# ---- solve(a, b) with b a stack of matrices ----

def _solve_jvp(tangents, ans, args, kwargs):
    (ta, tb), (a, b) = tangents, args
    nd = len(shape_of(ans))
    rhs = None if tb is None else align(tb, shape_of(b), nd)
    if ta is not None:
        term = align(ta, shape_of(a), nd) @ ans
        rhs = -term if rhs is None else rhs - term
    return solve(a, rhs)


def _solve_vjp(ct, ans, args, kwargs, needed):
    a, b = args
    nb = len(shape_of(ct)) - len(shape_of(ans))
    gb = solve(T(a), ct)
    return [unbroadcast(-gb @ T(ans), shape_of(a), nb) if needed[0] else None,
            unbroadcast(gb, shape_of(b), nb) if needed[1] else None]


solve = Primitive("solve", np.linalg.solve)
solve.jvp, solve.vjp = _solve_jvp, _solve_vjp
sample(solve, well_conditioned(3), ((3, 2),))
sample(solve, well_conditioned(2, (2,)), ((2, 1),))
sample(solve, well_conditioned(2), ((3, 2, 2),))


@register_function(np.linalg.solve)
def _solve(a, b):
    if len(shape_of(b)) == 1:
        return solve(a, b[:, None])[..., 0]
    return solve(a, b)


backed_by(solve, np.linalg.solve)
example(np.linalg.solve, well_conditioned(3), ((3,),))
example(np.linalg.solve, well_conditioned(3, (2,)), ((3,),))
example(np.linalg.solve, well_conditioned(2, (2,)), ((2, 3),))

# ---- triangular solve (reads one triangle only) ----


def _tri_solve_impl(a, b, lower, unit=False):
    def one(a2, b2):
        return scipy.linalg.solve_triangular(a2, b2, lower=lower, unit_diagonal=unit,
                                             check_finite=False)
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim == 2:  # fold every stacked right-hand side into columns: one LAPACK call
        if b.ndim == 2:
            return one(a, b)
        cols = np.moveaxis(b, -2, 0).reshape(b.shape[-2], -1)
        x = one(a, cols).reshape((b.shape[-2],) + b.shape[:-2] + b.shape[-1:])
        return np.moveaxis(x, 0, -2)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    out = np.empty(batch + b.shape[-2:], dtype=np.result_type(a, b))
    for i in np.ndindex(*batch):
        out[i] = one(a[i], b[i])
    return out


def _tri(x, lower, unit):
    k = -1 if unit else 0
    return tril(x, k) if lower else triu(x, -k)


def _tri_jvp(tangents, ans, args, kwargs):
    (ta, tb), (a, b) = tangents, args
    lower, unit = kwargs["lower"], kwargs.get("unit", False)
    nd = len(shape_of(ans))
    rhs = None if tb is None else align(tb, shape_of(b), nd)
    if ta is not None:
        term = _tri(align(ta, shape_of(a), nd), lower, unit) @ ans
        rhs = -term if rhs is None else rhs - term
    return tri_solve(a, rhs, **kwargs)


def _tri_vjp(ct, ans, args, kwargs, needed):
    a, b = args
    lower, unit = kwargs["lower"], kwargs.get("unit", False)
    nb = len(shape_of(ct)) - len(shape_of(ans))
    gb = tri_solve(T(a), ct, lower=not lower, unit=unit)
    ga = _tri(-gb @ T(ans), lower, unit) if needed[0] else None
    return [None if ga is None else unbroadcast(ga, shape_of(a), nb),
            unbroadcast(gb, shape_of(b), nb) if needed[1] else None]


tri_solve = Primitive("solve_triangular", _tri_solve_impl)
tri_solve.jvp, tri_solve.vjp = _tri_jvp, _tri_vjp
sample(tri_solve, well_conditioned(3), ((3, 2),), lower=True)
sample(tri_solve, well_conditioned(3), ((2, 3, 1),), lower=False, unit=True)
sample(tri_solve, well_conditioned(2, (2,)), ((2, 2),), lower=True)

# ---- inv, det, slogdet ----

inv = Primitive("inv", np.linalg.inv)
inv.jvp = lambda tangents, ans, args, kwargs: -(ans @ tangents[0] @ ans)
inv.vjp = lambda ct, ans, args, kwargs, needed: [-(T(ans) @ ct @ T(ans))]
register_function(np.linalg.inv)(inv)
sample(inv, well_conditioned(3))
sample(inv, well_conditioned(2, (3,)))


def _as_matrix(x):
    """A stack of scalars (possibly a Python float) as a stack of 1x1 matrices."""
    return np.reshape(x, shape_of(x) + (1, 1))


def _logdet_tangent(a, ta):
    """d log|det a| = tr(a^-1 da), batched over ta's leading axis."""
    return np.sum(T(inv(a)) * ta, axis=(-2, -1))


det = Primitive("det", np.linalg.det)
det.jvp = lambda tangents, ans, args, kwargs: ans * _logdet_tangent(args[0], tangents[0])
det.vjp = lambda ct, ans, args, kwargs, needed: [_as_matrix(ct * ans) * T(inv(args[0]))]
register_function(np.linalg.det)(det)
sample(det, well_conditioned(3))
sample(det, well_conditioned(2, (2,)))
note("at a singular matrix the rule raises LinAlgError (it uses inv(a))", np.linalg.det)


def _slogdet_impl(a):
    sign, logdet = np.linalg.slogdet(a)
    return sign, logdet


def _slogdet_jvp(tangents, ans, args, kwargs):
    sign, _ = ans
    t = _logdet_tangent(args[0], tangents[0])
    return np.zeros(shape_of(t), dtype=dtype_of(sign)), t


slogdet = Primitive("slogdet", _slogdet_impl, multiple_results=True)
slogdet.jvp = _slogdet_jvp
slogdet.vjp = lambda cts, ans, args, kwargs, needed: [_as_matrix(cts[1]) * T(inv(args[0]))]
sample(slogdet, well_conditioned(3))
sample(slogdet, well_conditioned(2, (2,)))

_SlogdetResult = getattr(np.linalg, "SlogdetResult", None) or getattr(
    getattr(np.linalg, "_linalg", None), "SlogdetResult", tuple)


@register_function(np.linalg.slogdet)
def _slogdet(a):
    return _SlogdetResult(*slogdet(a))


example(np.linalg.slogdet, well_conditioned(3))
example(np.linalg.slogdet, well_conditioned(3, (2,)), wrap=lambda f, a: f(a).logabsdet)
note("the sign gets a zero derivative", np.linalg.slogdet)

# ---- pinv (constant rank) and lstsq ----


def _pinv_jvp(tangents, ans, args, kwargs):
    (ta,), (a,) = tangents, args
    p = ans
    m, n = shape_of(a)[-2:]
    left = np.eye(m, dtype=p.dtype) - a @ p
    right = np.eye(n, dtype=p.dtype) - p @ a
    return (-(p @ ta @ p) + p @ T(p) @ T(ta) @ left + right @ T(ta) @ T(p) @ p)


def _pinv_vjp(ct, ans, args, kwargs, needed):
    (a,), p = args, ans
    m, n = shape_of(a)[-2:]
    left = np.eye(m, dtype=p.dtype) - a @ p
    right = np.eye(n, dtype=p.dtype) - p @ a
    return [-(T(p) @ ct @ T(p)) + left @ T(ct) @ p @ T(p) + T(p) @ p @ T(ct) @ right]


pinv = Primitive("pinv", lambda a, rcond: np.linalg.pinv(a, rcond=rcond))
pinv.jvp, pinv.vjp = _pinv_jvp, _pinv_vjp
sample(pinv, ((4, 3),), rcond=1e-15)
sample(pinv, ((2, 3),), rcond=1e-15)
sample(pinv, ((2, 3, 2),), rcond=1e-15)


@register_function(np.linalg.pinv)
def _pinv(a, rcond=None, hermitian=False, *, rtol=None):
    cut = rtol if rtol is not None else rcond
    if cut is None:
        cut = 1e-15 if rtol is None and rcond is None else max(shape_of(a)[-2:]) * np.finfo(
            plain(a).dtype).eps
    return pinv(a, rcond=cut)


example(np.linalg.pinv, ((3, 2),))
example(np.linalg.pinv, ((2, 3),), rcond=1e-10)
note("derivative for constant rank (full-rank inputs); it ignores rank changes at the cutoff",
     np.linalg.pinv, np.linalg.lstsq)


def _rank_of_lstsq(a, b, rcond):
    return np.linalg.lstsq(a, b, rcond=rcond)[2]


@register_function(np.linalg.lstsq)
def _lstsq(a, b, rcond=None):
    m, n = shape_of(a)[-2:]
    rank = observe(_rank_of_lstsq, a, b, rcond)   # decides the residuals' shape: checked
    cut = np.finfo(plain(a).dtype).eps * max(m, n) if rcond is None else rcond
    x = pinv(a, rcond=cut) @ b
    if rank == n and m > n:
        r = b - a @ x
        res = np.sum(r * r, axis=0)
        res = np.reshape(res, (1,)) if len(shape_of(res)) == 0 else res
    else:
        res = np.zeros((0,), dtype=plain(a).dtype)
    return x, res, rank, np.linalg.svd(a, compute_uv=False)


example(np.linalg.lstsq, ((5, 3),), ((5,),), wrap=lambda f, a, b: f(a, b)[:2])
example(np.linalg.lstsq, ((4, 2),), ((4, 3),), wrap=lambda f, a, b: f(a, b)[0])
example(np.linalg.lstsq, ((2, 4),), ((2,),), wrap=lambda f, a, b: f(a, b)[0])
example(np.linalg.lstsq, ((4, 2),), ((4,),), wrap=lambda f, a, b: f(a, b)[3])
example(np.linalg.solve, well_conditioned(2), Const(np.array([1.0, 2.0])))
backed_by(slogdet, np.linalg.slogdet)
backed_by(pinv, np.linalg.pinv)
