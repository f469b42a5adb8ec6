"""Linear algebra: matmul (bilinear) and the NumPy products built on it.

The primitive ``matmul`` takes operands of rank >= 2; the handlers promote 1-D
operands with a reshape, as NumPy's own definition does.
"""

from __future__ import annotations

import numpy as np

from ..registry import Primitive, register_function, register_ufunc, sample
from .kinds import shape_of, unbroadcast


def _swap(a):
    nd = len(shape_of(a))
    return np.swapaxes(a, nd - 1, nd - 2)


def _lift(t, value_shape, out_batch_nd):
    """Give a batched tangent of a matmul operand as many batch dims as the output."""
    ts = shape_of(t)
    nb = len(ts) - len(value_shape)
    missing = out_batch_nd - (len(value_shape) - 2)
    if nb and missing > 0:
        t = np.reshape(t, ts[:nb] + (1,) * missing + value_shape)
    return t


def _matmul_jvp(tangents, ans, args, kwargs):
    (ta, tb), (a, b) = tangents, args
    out_bnd = len(shape_of(ans)) - 2
    out = None
    if ta is not None:
        out = _lift(ta, shape_of(a), out_bnd) @ b
    if tb is not None:
        term = a @ _lift(tb, shape_of(b), out_bnd)
        out = term if out is None else out + term
    return out


def _matmul_vjp(ct, ans, args, kwargs, needed):
    a, b = args
    nb = len(shape_of(ct)) - len(shape_of(ans))
    return [unbroadcast(ct @ _swap(b), shape_of(a), nb) if needed[0] else None,
            unbroadcast(_swap(a) @ ct, shape_of(b), nb) if needed[1] else None]


matmul2 = Primitive("matmul", np.matmul)
matmul2.jvp, matmul2.vjp, matmul2.kind = _matmul_jvp, _matmul_vjp, "bilinear"
sample(matmul2, ((2, 3),), ((3, 4),))
sample(matmul2, ((2, 2, 3),), ((3, 2),))
sample(matmul2, ((3, 2),), ((2, 2, 3),))


def _matvec_jvp(tangents, ans, args, kwargs):
    (ta, tx), (a, x) = tangents, args
    out = None if ta is None else ta @ x
    if tx is not None:
        term = tx @ np.transpose(a)  # (k, n) @ (n, m): the batch axis stays in front
        out = term if out is None else out + term
    return out


def _matvec_vjp(ct, ans, args, kwargs, needed):
    a, x = args
    return [ct[..., :, None] * x if needed[0] else None,
            ct @ a if needed[1] else None]


matvec = Primitive("matvec", np.matmul)  # the common A @ x, without reshapes
matvec.jvp, matvec.vjp, matvec.kind = _matvec_jvp, _matvec_vjp, "bilinear"
sample(matvec, ((3, 4),), ((4,),))


def matmul(a, b):
    """NumPy's matmul on traced values (1-D operands promoted, then squeezed)."""
    sa, sb = shape_of(a), shape_of(b)
    if not sa or not sb:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    if len(sa) >= 2 and len(sb) >= 2:
        return matmul2(a, b)
    if len(sb) == 1 and len(sa) == 2:
        return matvec(a, b)
    if len(sa) == 1 and len(sb) == 2:
        return matvec(np.transpose(b), a)
    a2 = np.reshape(a, (1,) + sa) if len(sa) == 1 else a
    b2 = np.reshape(b, sb + (1,)) if len(sb) == 1 else b
    out = matmul2(a2, b2)
    so = shape_of(out)
    if len(sb) == 1:
        so = so[:-1]
    if len(sa) == 1:
        so = so[:-2] + so[-1:] if len(sb) > 1 else so[:-1]
    return np.reshape(out, so)


register_ufunc(np.matmul, matmul)


@register_function(np.dot)
def dot(a, b, out=None):
    sa, sb = shape_of(a), shape_of(b)
    if not sa or not sb:
        return a * b
    if len(sa) <= 2 and len(sb) <= 2:
        return matmul(a, b)
    return np.tensordot(a, b, axes=([len(sa) - 1], [max(len(sb) - 2, 0)]))


@register_function(np.inner)
def inner(a, b):
    sa, sb = shape_of(a), shape_of(b)
    if not sa or not sb:
        return a * b
    if len(sb) == 1:
        return matmul(a, b)
    return np.tensordot(a, b, axes=([len(sa) - 1], [len(sb) - 1]))


@register_function(np.vdot)
def vdot(a, b):
    return matmul(np.ravel(a), np.ravel(b))


@register_function(np.outer)
def outer(a, b, out=None):
    return np.reshape(a, (-1, 1)) * np.reshape(b, (1, -1))
