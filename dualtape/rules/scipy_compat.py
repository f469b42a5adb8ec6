"""SciPy functions that are not ufuncs convert their inputs with np.asarray, so NumPy's
dispatch never sees a traced value. Their rules are registered here (so the coverage
table lists them) and reached through drop-in modules: ``dualtape.scipy.linalg`` and
``dualtape.scipy.special``. ``caller_hint`` names the SciPy function in the conversion
error and the import to change.
"""

from __future__ import annotations

import sys

import numpy as np
import scipy.linalg as sla

from ..registry import Primitive, register_function, sample
from .cases import SHIMS, backed_by, example, note, shim
from .construct import tril, triu
from .decompositions import _eigh, _qr, _svd, cholesky
from .kinds import dtype_of, shape_of, unbroadcast
from .linsolve import T, _pinv, _solve, det, inv, spd, tri_solve, well_conditioned


def _public_function(frame) -> tuple[str, str] | None:
    """(public module, name) of the SciPy function a frame runs, seeing through SciPy's
    decorators (whose wrapped function is the closure variable ``f``)."""
    for fn in (frame.f_locals.get("f"), frame.f_locals.get("func"), None):
        mod = getattr(fn, "__module__", None) or frame.f_globals.get("__name__", "")
        name = getattr(fn, "__name__", None) or frame.f_code.co_name
        public = ".".join(p for p in mod.split(".") if not p.startswith("_"))
        if mod.startswith("scipy.") and hasattr(sys.modules.get(public), name):
            return public, name
    return None


def caller_hint() -> str:
    """If a SciPy function is converting a traced value, say which and what to import."""
    frame, outer = sys._getframe(1), None
    while frame is not None and frame.f_globals.get("__name__", "").startswith("dualtape"):
        frame = frame.f_back
    while frame is not None:  # the run of NumPy/SciPy frames right above the conversion
        mod = frame.f_globals.get("__name__", "")
        if not mod.startswith(("scipy.", "numpy")):
            break
        if mod.startswith("scipy."):
            outer = _public_function(frame) or outer  # the outermost public SciPy function
        frame = frame.f_back
    if outer is None:
        return ""
    public, func_name = outer
    name = f"{public}.{func_name}"
    shim = next((m for f, m in SHIMS.items() if f"{m.split('.', 1)[1]}.{f.__name__}" == name),
                None)
    fix = (f"use the drop-in `from {shim} import {func_name}`" if shim else
           "no drop-in exists yet: write it with NumPy functions or register a rule")
    return (f"\n{name} converts its input with np.asarray (SciPy functions other than ufuncs "
            f"do not use NumPy's dispatch), so the traced value cannot reach a rule: {fix}.")


# ---- scipy.linalg: handlers registered for the coverage table and the drop-in module ----

MODULE = "dualtape.scipy.linalg"


def _frechet(a, e):
    """L(A, E), the derivative of expm at A along E: the top-right block of
    expm([[A, E], [0, A]]) (Mathias / Higham), batched over E's leading axes."""
    n = shape_of(a)[-1]
    full = np.broadcast_shapes(shape_of(a), shape_of(e))
    ab = np.broadcast_to(a, full)
    zero = np.zeros(full, dtype=dtype_of(e))
    big = np.concatenate([np.concatenate([ab, e], axis=-1),
                          np.concatenate([zero, ab], axis=-1)], axis=-2)
    return expm(big)[..., :n, n:]


expm = Primitive("expm", sla.expm)
expm.jvp = lambda tangents, ans, args, kwargs: _frechet(args[0], tangents[0])
expm.vjp = lambda ct, ans, args, kwargs, needed: [unbroadcast(
    _frechet(T(args[0]), ct), shape_of(args[0]), len(shape_of(ct)) - len(shape_of(ans)))]
register_function(sla.expm)(expm)
sample(expm, ((3, 3), (-0.5, 0.5)))
sample(expm, ((2, 2, 2), (-0.5, 0.5)))


def _sym(a, lower: bool):
    """The symmetric matrix a routine reading one triangle of ``a`` sees."""
    return tril(a) + T(tril(a, -1)) if lower else triu(a) + T(triu(a, 1))


@register_function(sla.solve_triangular)
def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, **kwargs):
    if trans in (1, 2, "T", "C"):
        a, lower = T(a), not lower
    col = len(shape_of(b)) == 1
    x = tri_solve(a, b[:, None] if col else b, lower=bool(lower), unit=bool(unit_diagonal))
    return x[:, 0] if col else x


@register_function(sla.cholesky)
def _sp_cholesky(a, lower=False, **kwargs):
    return cholesky(a) if lower else T(cholesky(T(a)))


@register_function(sla.cho_factor)
def cho_factor(a, lower=False, **kwargs):
    """(factor, lower) with the unused triangle holding a's entries, as SciPy returns it."""
    c = _sp_cholesky(a, lower)
    return (c + (triu(a, 1) if lower else tril(a, -1))), lower


@register_function(sla.cho_solve)
def cho_solve(c_and_lower, b, **kwargs):
    c, lower = c_and_lower
    if lower:  # A = L L^T
        return solve_triangular(c, solve_triangular(c, b, lower=True), trans=1, lower=True)
    return solve_triangular(c, solve_triangular(c, b, trans=1, lower=False), lower=False)


def _structured(a, assume_a, lower):
    """The matrix SciPy's solver for ``assume_a`` actually reads (it ignores the rest)."""
    kind = {"symmetric": "sym", "hermitian": "her", "positive definite": "pos"}.get(
        assume_a, assume_a)
    n = shape_of(a)[-1]
    if kind in (None, "gen", "general", "banded"):
        return a
    if kind in ("sym", "her", "pos"):
        return _sym(a, lower)
    if kind == "diagonal":
        return a * np.eye(n, dtype=bool)
    if kind == "tridiagonal":
        return a * (np.abs(np.subtract.outer(np.arange(n), np.arange(n))) <= 1)
    if kind in ("lower triangular", "upper triangular"):
        return tril(a) if kind.startswith("lower") else triu(a)
    raise NotImplementedError(f"dualtape: scipy.linalg assume_a={assume_a!r} on traced values")


@register_function(sla.solve)
def _sp_solve(a, b, lower=False, assume_a=None, transposed=False, **kwargs):
    a = _structured(a, assume_a, lower)
    return _solve(T(a) if transposed else a, b)


@register_function(sla.inv)
def _sp_inv(a, *, assume_a=None, lower=False, **kwargs):
    return inv(_structured(a, assume_a, lower))


register_function(sla.det)(lambda a, **kwargs: det(a))
register_function(sla.eigh)(
    lambda a, b=None, *, lower=True, eigvals_only=False, **kw: _sp_eigh(a, b, lower,
                                                                       eigvals_only))
register_function(sla.eigvalsh)(lambda a, b=None, *, lower=True, **kw: _sp_eigh(a, b, lower, True))
register_function(sla.svd)(lambda a, full_matrices=True, compute_uv=True, **kw: (
    lambda r: tuple(r) if compute_uv else r)(_svd(a, full_matrices, compute_uv, lib="scipy")))
register_function(sla.pinv)(lambda a, *, atol=None, rtol=None, **kw: _pinv(a, rtol=rtol))
register_function(sla.norm)(lambda a, ord=None, axis=None, keepdims=False, **kw: np.linalg.norm(
    a, ord, axis, keepdims))


def _sp_eigh(a, b, lower, eigvals_only):
    if b is not None:
        raise NotImplementedError("dualtape: scipy.linalg.eigh(a, b) (generalized problem)")
    w, v = _eigh(a, "L" if lower else "U", lib="scipy")
    return w if eigvals_only else (w, v)


@register_function(sla.qr)
def _sp_qr(a, mode="full", pivoting=False, **kwargs):
    if pivoting:
        raise NotImplementedError("dualtape: scipy.linalg.qr(pivoting=True) on traced values")
    m, n = shape_of(a)[-2:]
    mode = {"economic": "reduced", "full": "complete"}.get(mode, mode)
    if mode == "complete" and m <= n:
        mode = "reduced"
    res = _qr(a, mode, lib="scipy")
    return (res,) if mode == "r" else tuple(res)


@register_function(sla.block_diag)
def block_diag(*arrs):
    arrs = [np.reshape(a, (1, -1)) if len(shape_of(a)) < 2 else a for a in arrs]
    cols = sum(shape_of(a)[1] for a in arrs)
    rows, start = [], 0
    for a in arrs:
        r, c = shape_of(a)
        z = np.zeros((r, cols), dtype=dtype_of(a))
        rows.append(np.concatenate([z[:, :start], a, z[:, start + c:]], axis=1))
        start += c
    return np.concatenate(rows, axis=0)


backed_by(tri_solve, sla.solve_triangular)
backed_by(cholesky, sla.cholesky, sla.cho_factor)
example(sla.solve_triangular, well_conditioned(3), ((3,),), lower=True)
example(sla.solve_triangular, well_conditioned(3), ((3, 2),), trans=1)
example(sla.cholesky, spd(3))
example(sla.cholesky, spd(3), lower=True)
example(sla.cho_factor, spd(3), wrap=lambda f, a: f(a)[0])
example(sla.cho_solve, spd(3), ((3,),), wrap=lambda f, a, b: f(cho_factor(a), b))
example(sla.cho_solve, spd(3), ((3, 2),), wrap=lambda f, a, b: f(cho_factor(a, lower=True), b))
example(sla.solve, well_conditioned(3), ((3,),))
example(sla.solve, spd(3), ((3, 2),), assume_a="pos")
example(sla.solve, well_conditioned(3), ((3,),), transposed=True)
for _kind in ("diagonal", "tridiagonal", "lower triangular", "sym"):
    example(sla.solve, well_conditioned(4), ((4,),), assume_a=_kind)
example(sla.inv, well_conditioned(3))
example(sla.inv, spd(3), assume_a="pos")
example(sla.det, well_conditioned(3))
example(sla.eigh, spd(3), wrap=lambda f, a: (lambda w, v: (w, v * v[:1]))(*f(a)))
example(sla.eigh, spd(3), lower=False, eigvals_only=True)
example(sla.eigvalsh, spd(3))
example(sla.svd, ((3, 2),), full_matrices=False)
example(sla.pinv, ((3, 2),))
example(sla.norm, ((3, 4),), ord="fro")
example(sla.qr, ((4, 2),), mode="economic")
example(sla.qr, ((3, 3),))
example(sla.qr, ((2, 3),), mode="r")
example(sla.block_diag, ((2, 2),), ((1, 3),), ((2,),))
note("reads one triangle (lower=...), as LAPACK does", sla.cholesky, sla.cho_factor,
     sla.eigvalsh)
note("reads one triangle (lower=...); distinct eigenvalues; SciPy's driver may flip "
     "eigenvector signs between nearby inputs (the derivative is the continuous branch's)",
     sla.eigh)
note("assume_a: reads only the part SciPy's solver reads (one triangle, the diagonal, "
     "the tridiagonal band)", sla.solve, sla.inv)
shim(MODULE, sla.expm, sla.solve_triangular, sla.cholesky, sla.cho_factor, sla.cho_solve,
     sla.solve, sla.inv, sla.det, sla.eigh, sla.eigvalsh, sla.svd, sla.pinv, sla.norm, sla.qr,
     sla.block_diag)
