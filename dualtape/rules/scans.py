"""Scans and differences: cumprod (a rule, exact with zeros), and derived diff, ediff1d,
trapezoid, gradient, cumulative_sum/prod, nancumsum/nancumprod.

cumprod's partials are products of all the other entries up to i; with no zero they are
ans_i / x_j, otherwise they are formed without dividing (O(n^2) memory along the axis,
paid only when a zero is present).
"""

from __future__ import annotations

import numpy as np

from ..registry import Box, Const, Primitive, register_function, sample
from . import shape as sh
from .cases import backed_by, example, note
from .kinds import dtype_of, shape_of
from .reductions import _cumsum


def _partial_products(x):
    """C[..., j, i] = prod_{k <= i, k != j} x_k (x with the scanned axis last)."""
    n = shape_of(x)[-1]
    eye = np.eye(n, dtype=bool)
    return cumprod(np.where(eye, 1.0, x[..., None, :]), axis=len(shape_of(x)))


def _cumprod_jvp(tangents, ans, args, kwargs):
    (t,), (x,) = tangents, args
    ax = kwargs["axis"]
    nb = len(shape_of(t)) - len(shape_of(x))
    if not np.any(x == 0):   # a traced comparison: a recording checks it
        return ans * np.cumsum(t / x, axis=ax + nb)
    c = _partial_products(np.moveaxis(x, ax, -1))
    upper = np.triu(np.ones(c.shape[-2:], dtype=bool))  # j <= i
    tm = np.moveaxis(t, ax + nb, -1)
    out = np.sum(np.where(upper, tm[..., :, None] * c, 0.0), axis=-2)
    return np.moveaxis(out, -1, ax + nb)


def _cumprod_vjp(ct, ans, args, kwargs, needed):
    (x,) = args
    ax = kwargs["axis"]
    nb = len(shape_of(ct)) - len(shape_of(ans))
    if not np.any(x == 0):   # a traced comparison: a recording checks it
        g = ct * ans
        return [np.flip(np.cumsum(np.flip(g, ax + nb), axis=ax + nb), ax + nb) / x]
    c = _partial_products(np.moveaxis(x, ax, -1))
    upper = np.triu(np.ones(c.shape[-2:], dtype=bool))
    ctm = np.moveaxis(ct, ax + nb, -1)
    out = np.sum(np.where(upper, c * ctm[..., None, :], 0.0), axis=-1)
    return [np.moveaxis(out, -1, ax + nb)]


cumprod = Primitive("cumprod", lambda x, axis: np.cumprod(x, axis=axis))
cumprod.jvp, cumprod.vjp = _cumprod_jvp, _cumprod_vjp
sample(cumprod, ((3, 4),), axis=1)
sample(cumprod, ((4, 2),), axis=0)
sample(cumprod, lambda rng: np.array([[0.5, 0.0, 1.2, 0.0], [1.1, -0.7, 0.0, 1.3]]), axis=1)


@register_function(np.cumprod)
def _cumprod(a, axis=None, dtype=None, out=None):
    if axis is None:
        a, axis = np.ravel(a), 0
    return cumprod(a, axis=axis % len(shape_of(a)))


backed_by(cumprod, np.cumprod)
example(np.cumsum, ((2, 3),))
example(np.cumsum, ((2, 3),), axis=-2)
example(np.cumprod, ((2, 3),), axis=1)


def _initial(a, axis, value):
    shape = list(shape_of(a))
    shape[axis] = 1
    return sh._concatenate([np.full(shape, value, dtype=a.dtype), a], axis=axis)


if hasattr(np, "cumulative_sum"):
    @register_function(np.cumulative_sum)
    def _cumulative_sum(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
        axis = 0 if axis is None else axis % len(shape_of(x))
        out = np.cumsum(x, axis=axis)
        return _initial(out, axis, 0.0) if include_initial else out

    @register_function(np.cumulative_prod)
    def _cumulative_prod(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
        axis = 0 if axis is None else axis % len(shape_of(x))
        out = _cumprod(x, axis=axis)
        return _initial(out, axis, 1.0) if include_initial else out

    example(np.cumulative_sum, ((4,),), include_initial=True)
    example(np.cumulative_prod, ((2, 3),), axis=1)

register_function(np.nancumsum)(lambda a, axis=None, dtype=None, out=None: _cumsum(
    np.where(np.isnan(a), 0.0, a), axis))
register_function(np.nancumprod)(lambda a, axis=None, dtype=None, out=None: _cumprod(
    np.where(np.isnan(a), 1.0, a), axis))
example(np.nancumsum, lambda rng: np.array([0.5, np.nan, 1.5, -0.3]))
example(np.nancumprod, lambda rng: np.array([0.5, np.nan, 1.5, -0.3]))
note("NaNs count as 0 (sums) or 1 (products) and get a zero derivative",
     np.nancumsum, np.nancumprod)

# ---- differences ----


def _slice(axis, sl):
    return (slice(None),) * axis + (sl,)


@register_function(np.diff)
def _diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue):
    axis %= len(shape_of(a))
    parts = []
    for extra in (prepend, a, append):
        if extra is np._NoValue:
            continue
        if extra is not a and len(shape_of(extra)) == 0:
            shape = list(shape_of(a))
            shape[axis] = 1
            extra = np.broadcast_to(extra, tuple(shape))
        parts.append(extra)
    if len(parts) > 1:
        a = sh._concatenate(parts, axis=axis)
    for _ in range(n):
        a = a[_slice(axis, slice(1, None))] - a[_slice(axis, slice(None, -1))]
    return a


example(np.diff, ((5,),))
example(np.diff, ((3, 4),), n=2, axis=0, prepend=0.0, append=np.ones((1, 4)))
example(np.diff, ((3, 4),), ((3, 1),), wrap=lambda f, a, p: f(a, prepend=p))


@register_function(np.ediff1d)
def _ediff1d(ary, to_end=None, to_begin=None):
    d = _diff(np.ravel(ary))
    ends = [None if p is None else np.ravel(p).astype(dtype_of(ary)) for p in (to_begin, to_end)]
    parts = [p for p in (ends[0], d, ends[1]) if p is not None]
    return sh._concatenate(parts, axis=0) if len(parts) > 1 else d


example(np.ediff1d, ((2, 3),), to_begin=np.array([1.0, 2.0]), to_end=3.0)


@register_function(np.trapezoid)
def _trapezoid(y, x=None, dx=1.0, axis=-1):
    axis %= len(shape_of(y))
    if x is None:
        d = dx
    else:
        d = _diff(x, axis=-1 if len(shape_of(x)) == 1 else axis)
        if len(shape_of(x)) == 1:
            d = np.reshape(d, (-1,) + (1,) * (len(shape_of(y)) - 1 - axis))
    hi, lo = y[_slice(axis, slice(1, None))], y[_slice(axis, slice(None, -1))]
    return np.sum(d * (hi + lo), axis=axis) / 2.0


example(np.trapezoid, ((5,),), dx=0.3)
example(np.trapezoid, ((3, 4),), ((3,),), wrap=lambda f, y, x: f(y, np.cumsum(
    np.exp(x)), axis=0))

# ---- np.gradient: second-order central differences (NumPy's formulas) ----


@register_function(np.gradient)
def _gradient(f, *varargs, axis=None, edge_order=1):
    nd = len(shape_of(f))
    axes = list(range(nd)) if axis is None else [a % nd for a in np.atleast_1d(axis)]
    spacings = list(varargs) if len(varargs) > 1 else list(varargs) * len(axes) or \
        [1.0] * len(axes)
    out = [_gradient_axis(f, h, ax, edge_order) for h, ax in zip(spacings, axes)]
    return out[0] if len(out) == 1 else tuple(out)


def _gradient_axis(f, h, axis, edge_order):
    n = shape_of(f)[axis]
    dx = h if len(shape_of(h)) == 0 else np.diff(h)
    if not isinstance(dx, Box):
        dx = np.asarray(dx, dtype=dtype_of(f))
    dx = np.broadcast_to(dx, (n - 1,)) if len(shape_of(dx)) == 0 else dx
    bshape = (-1,) + (1,) * (len(shape_of(f)) - 1 - axis)

    def col(v):
        return np.reshape(v, bshape)

    def at(sl):
        return f[_slice(axis, sl)]

    hs, hd = col(dx[:-1]), col(dx[1:])
    inner = (hs * hs * at(slice(2, None)) + (hd * hd - hs * hs) * at(slice(1, -1))
             - hd * hd * at(slice(None, -2))) / (hs * hd * (hd + hs))
    if edge_order == 1:
        first = (at(slice(1, 2)) - at(slice(0, 1))) / dx[0]
        last = (at(slice(-1, None)) - at(slice(-2, -1))) / dx[-1]
    else:
        d1, d2 = dx[0], dx[1]
        first = (-(2.0 * d1 + d2) / (d1 * (d1 + d2)) * at(slice(0, 1))
                 + (d1 + d2) / (d1 * d2) * at(slice(1, 2)) - d1 / (d2 * (d1 + d2)) * at(
                     slice(2, 3)))
        d1, d2 = dx[-2], dx[-1]
        last = (d2 / (d1 * (d1 + d2)) * at(slice(-3, -2)) - (d2 + d1) / (d1 * d2) * at(
            slice(-2, -1)) + (2.0 * d2 + d1) / (d2 * (d1 + d2)) * at(slice(-1, None)))
    return sh._concatenate([first, inner, last], axis=axis)


example(np.gradient, ((6,),), Const(0.5))
example(np.gradient, ((4, 5),), edge_order=2)
example(np.gradient, ((5,),), ((5,),), wrap=lambda f, y, x: f(y, np.cumsum(np.exp(x)),
                                                               edge_order=2))
