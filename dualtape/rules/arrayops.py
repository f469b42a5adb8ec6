"""The rest of NumPy's array manipulation: delete, resize, rollaxis, unstack,
fill_diagonal, place, putmask, astype, matrix_transpose, geomspace, logspace, unwrap,
trim_zeros, frexp, i0, tensorsolve, tensorinv; and the index/integer queries that have
no derivative. All derived (index arrays are computed on plain values).
"""

from __future__ import annotations

import math

import numpy as np

from ..registry import (
    Box,
    Const,
    concrete,
    data_function,
    observe,
    register_function,
    register_nondiff,
    register_ufunc,
)
from .cases import example, note
from .construct import _plain_target_error, take_axis
from .kinds import shape_of
from .special import i0 as _i0


@register_function(np.delete)
def _delete(arr, obj, axis=None):
    if axis is None:
        arr, axis = np.ravel(arr), 0
    axis %= len(shape_of(arr))
    return take_axis(arr, np.delete(np.arange(shape_of(arr)[axis]), concrete(obj)), axis)


@register_function(np.resize)
def _resize(a, new_shape):
    shape = (new_shape,) if isinstance(new_shape, (int, np.integer)) else tuple(new_shape)
    flat = np.ravel(a)
    return np.reshape(flat[np.arange(math.prod(shape)) % shape_of(flat)[0]], shape)


@register_function(np.rollaxis)
def _rollaxis(a, axis, start=0):
    nd = len(shape_of(a))
    axis %= nd
    start = start + nd if start < 0 else start
    if axis < start:
        start -= 1
    if axis == start:
        return a
    order = [i for i in range(nd) if i != axis]
    order.insert(start, axis)
    return np.transpose(a, order)


example(np.delete, ((3, 4),), Const([0, 2]), axis=1)
example(np.delete, ((5,),), Const(1))
example(np.resize, ((2, 3),), Const((3, 4)))
example(np.rollaxis, ((2, 3, 4),), Const(2))
example(np.rollaxis, ((2, 3, 4),), Const(0), Const(3))

if hasattr(np, "unstack"):
    register_function(np.unstack)(lambda x, /, *, axis=0: tuple(
        np.moveaxis(x, axis, 0)[i] for i in range(shape_of(x)[axis])))
    example(np.unstack, ((2, 3),), axis=1)
if hasattr(np, "astype"):
    register_function(np.astype)(lambda x, dtype, /, *, copy=True, device=None: x.astype(dtype))
    example(np.astype, ((3,),), Const(np.float64))
if hasattr(np, "matrix_transpose"):
    register_function(np.matrix_transpose)(lambda x, /: np.swapaxes(x, -1, -2))
    example(np.matrix_transpose, ((2, 3, 4),))

# ---- in-place writes through NumPy functions ----


def _target(a, what):
    if not isinstance(a, Box):
        raise _plain_target_error(what)
    return a


@register_function(np.fill_diagonal)
def _fill_diagonal(a, val, wrap=False):
    shape = shape_of(_target(a, "np.fill_diagonal(plain_array, traced)"))
    if len(shape) == 2:
        step, end = shape[1] + 1, (None if wrap else shape[1] * shape[1])
    else:
        step, end = 1 + sum(np.cumprod(shape[:-1])), None
    flat = np.arange(math.prod(shape))[:end:step]
    a[np.unravel_index(flat, shape)] = _resize(val, flat.shape) if shape_of(val) else val


@register_function(np.place)
def _place(arr, mask, vals):
    mask = concrete(mask).astype(bool)
    _target(arr, "np.place(plain_array, mask, traced)")[mask] = _resize(vals, int(mask.sum()))


@register_function(np.putmask)
def _putmask(a, mask, values):
    mask = np.broadcast_to(concrete(mask).astype(bool), shape_of(a))
    flat = _resize(values, math.prod(shape_of(a)))
    _target(a, "np.putmask(plain_array, mask, traced)")[mask] = flat[np.ravel(mask)]


def _in_place(f, x, *args):
    y = np.ones_like(x) * x[..., :1]
    f(y, *args)
    return y


example(np.fill_diagonal, ((3, 3),), ((3,),), wrap=lambda f, x, v: _in_place(f, x, v))
example(np.fill_diagonal, ((5, 2),), ((),), wrap=lambda f, x, v: _in_place(f, x, v, True))
example(np.place, ((2, 3),), ((2,),), wrap=lambda f, x, v: _in_place(f, x, x > 0, v))
example(np.putmask, ((2, 3),), ((4,),), wrap=lambda f, x, v: _in_place(f, x, x < 0, v))

# ---- ranges with traced endpoints ----


@register_function(np.logspace)
def _logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    return base ** np.linspace(start, stop, num, endpoint=endpoint, axis=axis)


@register_function(np.geomspace)
def _geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    sign = observe(np.sign, start)
    return sign * np.exp(np.linspace(np.log(sign * start), np.log(sign * stop), num,
                                     endpoint=endpoint, axis=axis))


example(np.logspace, ((),), ((2,),), num=4)
example(np.geomspace, ((), (0.5, 2.0)), ((), (3.0, 5.0)), num=5)

# ---- value-dependent but piecewise: corrections are constants ----


@register_function(np.unwrap)
def _unwrap(p, discont=None, axis=-1, *, period=2 * math.pi):
    return p + observe(_unwrap_correction, p, discont, axis, period)


@data_function
def _unwrap_correction(p, discont, axis, period):
    """The multiples of the period np.unwrap adds: piecewise constant, no derivative."""
    return np.unwrap(p, discont, axis, period=period) - p


@register_function(np.trim_zeros)
def _trim_zeros(filt, trim="fb", axis=None):
    nz = observe(np.flatnonzero, filt)   # decides the shape: a recording checks it
    if nz.size == 0:
        return filt[:0]
    lo = nz[0] if "f" in trim else 0
    hi = nz[-1] + 1 if "b" in trim else shape_of(filt)[0]
    return filt[lo:hi]


def _frexp(x, **kw):
    return x * observe(_frexp_scale, x), observe(_frexp_exponent, x)


@data_function
def _frexp_scale(x):
    return np.exp2(-np.frexp(x)[1]).astype(np.result_type(x))


@data_function
def _frexp_exponent(x):
    return np.frexp(x)[1]


register_ufunc(np.frexp, _frexp)
register_function(np.i0)(lambda x: _i0(x))
example(np.unwrap, lambda rng: np.array([0.0, 3.0, 6.5, 0.5, -2.0]))
example(np.trim_zeros, ((3,), (0.5, 2.0)), wrap=lambda f, x: f(np.concatenate(
    [np.zeros(1), x, np.zeros(2)])))
example(np.frexp, ((2, 3),), wrap=lambda f, x: f(x)[0])
example(np.i0, ((3,), (0.3, 2.0)))
note("a constant correction: the derivative is the identity", np.unwrap)

# ---- tensor solves ----


@register_function(np.linalg.tensorsolve)
def _tensorsolve(a, b, axes=None):
    if axes is not None:
        a = np.moveaxis(a, axes, [len(shape_of(a)) - len(axes) + i for i in range(len(axes))])
    xs = shape_of(a)[len(shape_of(b)):]
    m = np.reshape(a, (math.prod(shape_of(b)), math.prod(xs)))
    return np.reshape(np.linalg.solve(m, np.ravel(b)), xs)


@register_function(np.linalg.tensorinv)
def _tensorinv(a, ind=2):
    s = shape_of(a)
    inv = np.linalg.inv(np.reshape(a, (math.prod(s[:ind]), -1)))
    return np.reshape(inv, s[ind:] + s[:ind])


example(np.linalg.tensorsolve, lambda rng: (rng.uniform(-1, 1, (6, 6)) + 3 * np.eye(6)
                                            ).reshape(2, 3, 6), ((2, 3),))
example(np.linalg.tensorinv, lambda rng: (rng.uniform(-1, 1, (4, 4)) + 3 * np.eye(4)
                                          ).reshape(4, 2, 2), ind=1)

register_nondiff(np.nanargmax, np.nanargmin, np.ix_, np.diag_indices_from,
                 np.tril_indices_from, np.triu_indices_from, np.gcd, np.lcm, np.bitwise_xor,
                 np.left_shift, np.right_shift, np.isnat, np.common_type,
                 np.linalg.matrix_rank, np.packbits, np.unpackbits, np.histogram2d,
                 np.histogramdd, np.angle,
                 *([np.bitwise_count] if hasattr(np, "bitwise_count") else []))
