"""Matrix decompositions: cholesky, eigh, svd (and singular values), qr.

Conventions (docs/conventions.md): cholesky and eigh read ONE triangle of their input,
as LAPACK does, so their derivatives are with respect to that triangle (a symmetric
perturbation built from it); eigh needs distinct eigenvalues and svd distinct nonzero
singular values (otherwise the eigen/singular vectors are not differentiable); qr
needs full column rank. Thin factors only: the extra columns of a complete Q or U are
not unique, so asking for them on a non-square input raises.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from ..registry import Primitive, register_function, sample
from .cases import backed_by, example, note
from .construct import tril
from .kinds import shape_of
from .linsolve import T, diag_embed, diag_part, spd, tri_solve, well_conditioned

_linalg = getattr(np.linalg, "_linalg", np.linalg)


def _phi(x):
    """Lower triangle with the diagonal halved: the self-adjoint map of these rules."""
    n = shape_of(x)[-1]
    return x * (np.tri(n, dtype=x.dtype) - 0.5 * np.eye(n, dtype=x.dtype))


def _sym_from_lower(t):
    """The symmetric matrix a routine reading only the lower triangle of t sees."""
    return tril(t) + T(tril(t, -1))


def _sym_from(t, uplo: str):
    return _sym_from_lower(t) if uplo == "L" else T(_sym_from_lower(T(t)))


def _sym_adjoint(g, uplo: str):
    """Adjoint of ``_sym_from``: where a cotangent G of the symmetric matrix lands."""
    out = _phi(g + T(g))
    return out if uplo == "L" else T(out)


def _gap_inverse(w):
    """F[i, j] = 1 / (w_j - w_i) off the diagonal, 0 on it (no inf is ever formed)."""
    n = shape_of(w)[-1]
    eye = np.eye(n, dtype=bool)
    d = w[..., None, :] - w[..., :, None]
    return np.where(eye, 0.0, 1.0 / np.where(eye, 1.0, d))


# ---- cholesky (lower triangle read) ----

def _chol_jvp(tangents, ans, args, kwargs):
    low = ans
    s = _sym_from_lower(tangents[0])
    x = T(tri_solve(low, T(tri_solve(low, s, lower=True)), lower=True))  # L^-1 S L^-T
    return low @ _phi(x)


def _chol_vjp(ct, ans, args, kwargs, needed):
    low = ans
    z = tri_solve(T(low), _phi(T(low) @ ct), lower=False)             # L^-T phi(L^T G)
    g = T(tri_solve(T(low), T(z), lower=False))                        # ... L^-1
    return [_phi(g + T(g))]


cholesky = Primitive("cholesky", np.linalg.cholesky)
cholesky.jvp, cholesky.vjp = _chol_jvp, _chol_vjp
sample(cholesky, spd(3))
sample(cholesky, spd(2, (2,)))


@register_function(np.linalg.cholesky)
def _cholesky(a, /, *, upper=False):
    return T(cholesky(T(a))) if upper else cholesky(a)


backed_by(cholesky, np.linalg.cholesky)
example(np.linalg.cholesky, spd(3))
example(np.linalg.cholesky, spd(3), upper=True)
note("reads the lower triangle (upper=True: the upper one), as LAPACK does: the derivative "
     "is with respect to that triangle", np.linalg.cholesky)

# ---- eigh (lower triangle read, distinct eigenvalues) ----


def _eigh_jvp(tangents, ans, args, kwargs):
    w, v = ans
    m = T(v) @ _sym_from(tangents[0], kwargs["uplo"]) @ v
    return diag_part(m), v @ (_gap_inverse(w) * m)


def _eigh_vjp(cts, ans, args, kwargs, needed):
    (cw, cv), (w, v) = cts, ans
    g = v @ (_gap_inverse(w) * (T(v) @ cv) + diag_embed(cw)) @ T(v)
    return [_sym_adjoint(g, kwargs["uplo"])]


def _eigh_impl(a, uplo, lib="numpy"):
    if lib == "scipy":  # its driver may pick other eigenvector signs than NumPy's
        return tuple(scipy.linalg.eigh(a, lower=uplo == "L"))
    return tuple(np.linalg.eigh(a, uplo))


eigh = Primitive("eigh", _eigh_impl, multiple_results=True)
eigh.jvp, eigh.vjp = _eigh_jvp, _eigh_vjp
sample(eigh, spd(3), uplo="L")
sample(eigh, spd(2, (2,)), uplo="U")
_EighResult = getattr(_linalg, "EighResult", tuple)


@register_function(np.linalg.eigh)
def _eigh(a, UPLO="L", lib="numpy"):
    return _EighResult(*eigh(a, uplo=UPLO.upper(), lib=lib))


register_function(np.linalg.eigvalsh)(lambda a, UPLO="L": _eigh(a, UPLO)[0])
example(np.linalg.eigh, spd(3))
example(np.linalg.eigh, spd(3), UPLO="U", wrap=lambda f, a, UPLO: f(a, UPLO).eigenvectors)
example(np.linalg.eigvalsh, spd(3, (2,)))
note("reads one triangle (UPLO); needs distinct eigenvalues for the eigenvectors",
     np.linalg.eigh, np.linalg.eigvalsh)

# ---- svd (thin, distinct nonzero singular values) ----


def _svd_jvp(tangents, ans, args, kwargs):
    (ta,), (u, s, vh) = tangents, ans
    v = T(vh)
    s_row, s_col = s[..., None, :], s[..., :, None]
    f = _gap_inverse(s * s)
    av = ta @ v
    dp = T(u) @ av
    du = u @ (f * (dp * s_row + s_col * T(dp))) + (av - u @ dp) / s_row
    atu = T(ta) @ u
    dv = v @ (f * (s_col * dp + T(dp) * s_row)) + (atu - v @ T(dp)) / s_row
    return du, diag_part(dp), T(dv)


def _svd_vjp(cts, ans, args, kwargs, needed):
    (cu, cs, cvh), (u, s, vh) = cts, ans
    cv = T(cvh)
    s_row, s_col = s[..., None, :], s[..., :, None]
    f = _gap_inverse(s * s)
    j = f * (T(u) @ cu)
    k = f * (vh @ cv)
    p = diag_embed(cs) + (j + T(j)) * s_row + s_col * (k + T(k))
    out = u @ p @ vh + ((cu - u @ (T(u) @ cu)) / s_row) @ vh
    out = out + u @ ((T(cv) - (T(cv) @ T(vh)) @ vh) / s_col)
    return [out]


def _svd_impl(a, lib="numpy"):
    if lib == "scipy":
        return tuple(scipy.linalg.svd(a, full_matrices=False))
    return tuple(np.linalg.svd(a, full_matrices=False))


svd = Primitive("svd", _svd_impl, multiple_results=True)
svd.jvp, svd.vjp = _svd_jvp, _svd_vjp
sample(svd, ((4, 3),))
sample(svd, ((2, 4),))
sample(svd, ((2, 3, 3),))


def _svdvals_jvp(tangents, ans, args, kwargs):
    u, _, vh = svd(args[0])
    return diag_part(T(u) @ tangents[0] @ T(vh))


svdvals = Primitive("svdvals", lambda a: np.linalg.svd(a, compute_uv=False))
svdvals.jvp = _svdvals_jvp
svdvals.vjp = lambda ct, ans, args, kwargs, needed: [
    (lambda u, s, vh: (u * ct[..., None, :]) @ vh)(*svd(args[0]))]
sample(svdvals, ((4, 3),))
sample(svdvals, ((2, 2, 3),))
_SVDResult = getattr(_linalg, "SVDResult", tuple)


@register_function(np.linalg.svd)
def _svd(a, full_matrices=True, compute_uv=True, hermitian=False, lib="numpy"):
    if not compute_uv:
        return svdvals(a)
    m, n = shape_of(a)[-2:]
    if full_matrices and m != n:
        raise NotImplementedError(
            "dualtape: np.linalg.svd(a, full_matrices=True) of a non-square matrix: the extra "
            "columns of U or V are not unique, so they have no derivative. Pass "
            "full_matrices=False (or compute_uv=False for the singular values).")
    return _SVDResult(*svd(a, lib=lib))


if hasattr(np.linalg, "svdvals"):
    register_function(np.linalg.svdvals)(lambda x, /: svdvals(x))
    example(np.linalg.svdvals, ((3, 2),))
example(np.linalg.svd, ((3, 3),))
example(np.linalg.svd, ((4, 2),), full_matrices=False)
example(np.linalg.svd, ((2, 3, 4),), compute_uv=False)
note("thin factors; needs distinct nonzero singular values for U and V; full_matrices=True "
     "of a non-square matrix raises", np.linalg.svd)

# ---- qr (full column rank; m < n is derived from the square case) ----


def _qr_jvp(tangents, ans, args, kwargs):
    (ta,), (q, r) = tangents, ans
    x = T(tri_solve(T(r), T(ta), lower=True))           # dA R^-1
    c = T(q) @ x
    low = tril(c, -1)
    omega = low - T(low)
    return q @ omega + x - q @ c, (c - omega) @ r


def _qr_vjp(cts, ans, args, kwargs, needed):
    (cq, cr), (q, r) = cts, ans
    qt_cq = T(q) @ cq
    rr = cr @ T(r)
    w = qt_cq - rr
    c_bar = rr + tril(w - T(w), -1)
    m = q @ c_bar + cq - q @ qt_cq
    return [T(tri_solve(r, T(m), lower=False))]     # ... R^-T


def _qr_impl(a, lib="numpy"):
    return tuple(scipy.linalg.qr(a, mode="economic") if lib == "scipy" else np.linalg.qr(a))


qr = Primitive("qr", _qr_impl, multiple_results=True)
qr.jvp, qr.vjp = _qr_jvp, _qr_vjp
sample(qr, ((4, 3),))
sample(qr, well_conditioned(3))
sample(qr, ((2, 3, 2),))
_QRResult = getattr(_linalg, "QRResult", tuple)


@register_function(np.linalg.qr)
def _qr(a, mode="reduced", lib="numpy"):
    m, n = shape_of(a)[-2:]
    if mode not in ("reduced", "complete", "r") or (mode == "complete" and m > n):
        raise NotImplementedError(f"dualtape: np.linalg.qr(mode={mode!r}) of a {m}x{n} matrix "
                                  "on traced values; use mode='reduced' (the default)")
    if m >= n:
        q, r = qr(a, lib=lib)
    else:  # A = [X | Y] with X square: Q, R_X = qr(X), R_Y = Q^T Y
        q, rx = qr(a[..., :, :m], lib=lib)
        r = np.concatenate([rx, T(q) @ a[..., :, m:]], axis=-1)
    return r if mode == "r" else _QRResult(q, r)


example(np.linalg.qr, ((4, 2),))
example(np.linalg.qr, ((2, 4),))
example(np.linalg.qr, ((3, 3),), mode="r")
note("needs full column rank; mode='complete' of a tall matrix raises (extra columns of Q "
     "are not unique)", np.linalg.qr)
backed_by(eigh, np.linalg.eigh, np.linalg.eigvalsh)
backed_by(svd, np.linalg.svd)
backed_by(qr, np.linalg.qr)
