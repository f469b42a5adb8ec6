"""Indexing, sorting and selection, all derived from getitem (whose transpose is a
scatter-add) and where: take, take_along_axis, put/put_along_axis, compress, extract,
sort, partition, unique, roll, rot90, fliplr/flipud, select, choose, interp,
convolve, correlate.

Sorting computes the permutation on the plain values (a stable sort) and gathers the
traced values with it, so the derivative follows the permutation.
"""

from __future__ import annotations

import numpy as np

from .. import registry
from ..registry import (
    Box,
    Const,
    concrete,
    data_function,
    observe,
    plain,
    register_function,
    register_nondiff,
)
from . import elementwise  # noqa: F401  (its table of no-derivative functions comes first)
from . import shape as sh
from .cases import example, note
from .construct import _plain_target_error, take_axis
from .kinds import shape_of


@register_function(np.take)
def _take(a, indices, axis=None, out=None, mode="raise"):
    if axis is None:
        a, axis = np.ravel(a), 0
    axis %= len(shape_of(a))
    idx, n = concrete(indices), shape_of(a)[axis]
    idx = idx % n if mode == "wrap" else (np.clip(idx, 0, n - 1) if mode == "clip" else idx)
    return a[(slice(None),) * axis + (idx if idx.ndim else int(idx),)]


example(np.take, ((3, 4),), Const(np.array([[0, 2], [1, 1]])), axis=1)
example(np.take, ((5,),), Const(np.array([0, 7])), mode="wrap")


def _along_index(shape, indices, axis):
    nd = len(shape)
    idx = []
    for i in range(nd):
        if i == axis:
            idx.append(indices if isinstance(indices, np.ndarray) else np.asarray(indices))
        else:
            idx.append(np.arange(shape[i]).reshape((1,) * i + (-1,) + (1,) * (nd - i - 1)))
    return tuple(idx)


@register_function(np.take_along_axis)
def take_along_axis(arr, indices, axis=-1):
    if axis is None:
        arr, axis = np.ravel(arr), 0
    axis %= len(shape_of(arr))
    return arr[_along_index(shape_of(arr), plain(indices), axis)]


@register_function(np.put_along_axis)
def _put_along_axis(arr, indices, values, axis):
    if not isinstance(arr, Box):
        raise _plain_target_error("np.put_along_axis(plain_array, ..., traced)")
    axis %= len(shape_of(arr))
    arr[_along_index(shape_of(arr), plain(indices), axis)] = values


@register_function(np.put)
def _put(a, ind, v, mode="raise"):
    if not isinstance(a, Box):
        raise _plain_target_error("np.put(plain_array, ..., traced)")
    a[np.unravel_index(concrete(ind), shape_of(a))] = v


example(np.take_along_axis, ((3, 4),), Const(np.array([[0], [3], [1]])), axis=1)


def _put_along(put_along_axis, x):
    y = np.zeros_like(x)
    put_along_axis(y, np.array([[1], [0]]), x[:, :1] ** 2, axis=1)
    np.put(y, [5], x[0, 0])
    return y


example(np.put_along_axis, ((2, 3),), wrap=_put_along)
example(np.put, ((2, 3),), wrap=lambda f, x: _put_along(np.put_along_axis, x))


@register_function(np.compress)
def _compress(condition, a, axis=None, out=None):
    if axis is None:
        a, axis = np.ravel(a), 0
    return take_axis(a, np.nonzero(concrete(condition))[0], axis % len(shape_of(a)))


register_function(np.extract)(lambda condition, arr: np.ravel(arr)[
    np.ravel(concrete(condition).astype(bool))])
example(np.compress, Const(np.array([True, False, True])), ((3, 4),), axis=0)
example(np.extract, ((2, 3),), wrap=lambda f, a: f(a > 0, a))

# ---- sorting ----


data_function(np.argsort)       # the orderings sort/partition take feed a gather as data
data_function(np.argpartition)


@register_function(np.sort)
def _sort(a, axis=-1, kind=None, order=None, *, stable=None):
    if axis is None:
        a, axis = np.ravel(a), 0
    return take_along_axis(a, observe(np.argsort, a, axis=axis, kind="stable"), axis)


@register_function(np.partition)
def _partition(a, kth, axis=-1, kind="introselect", order=None):
    if axis is None:
        a, axis = np.ravel(a), 0
    return take_along_axis(a, observe(np.argpartition, a, kth, axis=axis), axis)


@register_function(np.unique)
def _unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None,
            *, equal_nan=True, sorted=True):
    if axis is not None:
        raise NotImplementedError("dualtape: np.unique(axis=...) on traced values")
    res = observe(np.unique, ar, return_index=True, return_inverse=return_inverse,
                  return_counts=return_counts, equal_nan=equal_nan)
    values = np.ravel(ar)[res[1]]  # each value takes the derivative of its first occurrence
    extra = ((res[1],) if return_index else ()) + tuple(res[2:])
    return (values,) + extra if extra else values


registry.NONDIFF_FUNCTIONS.discard(np.unique)
example(np.sort, ((3, 4),), axis=0)
example(np.sort, ((5,),))
example(np.partition, ((6,),), Const(2))
example(np.unique, ((5,),))
example(np.unique, ((5,),), wrap=lambda f, x: f(x, return_index=True, return_counts=True)[0])
note("the derivative follows the sorting permutation; ties keep a stable order",
     np.sort, np.partition)
note("each unique value takes the derivative of its first occurrence", np.unique)

# ---- rolling and flipping ----


@register_function(np.roll)
def _roll(a, shift, axis=None):
    if axis is None:
        return np.reshape(_roll(np.ravel(a), shift, 0), shape_of(a))
    shifts, axes = np.broadcast_arrays(np.atleast_1d(shift), np.atleast_1d(axis))
    for s, ax in zip(shifts, axes):
        n = shape_of(a)[ax]
        a = take_axis(a, (np.arange(n) - int(s)) % n, int(ax) % len(shape_of(a)))
    return a


@register_function(np.rot90)
def _rot90(m, k=1, axes=(0, 1)):
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return np.flip(np.flip(m, axes[0]), axes[1])
    perm = list(range(len(shape_of(m))))
    perm[axes[0]], perm[axes[1]] = perm[axes[1]], perm[axes[0]]
    if k == 1:
        return np.transpose(np.flip(m, axes[1]), perm)
    return np.flip(np.transpose(m, perm), axes[1])


register_function(np.fliplr)(lambda m: np.flip(m, 1))
register_function(np.flipud)(lambda m: np.flip(m, 0))
example(np.roll, ((5,),), Const(2))
example(np.roll, ((3, 4),), shift=(1, -1), axis=(0, 1))
example(np.rot90, ((2, 3),))
example(np.rot90, ((2, 3, 2),), k=3, axes=(2, 0))
example(np.fliplr, ((2, 3),))
example(np.flipud, ((2, 3),))

# ---- selection ----


@register_function(np.select)
def _select(condlist, choicelist, default=0):
    out = default
    for cond, choice in zip(reversed(list(condlist)), reversed(list(choicelist))):
        out = np.where(cond, choice, out)
    return out


@register_function(np.choose)
def _choose(a, choices, out=None, mode="raise"):
    a = concrete(a)
    n = len(choices)
    a = a % n if mode == "wrap" else (np.clip(a, 0, n - 1) if mode == "clip" else a)
    res = choices[0]
    for i in range(1, n):
        res = np.where(a == i, choices[i], res)
    return np.broadcast_to(res, np.broadcast_shapes(a.shape, *[shape_of(c) for c in choices]))


example(np.select, ((4,),), ((4,),), wrap=lambda f, x, y: f([x < 0, y > 0], [x * y, y], 1.0))
example(np.choose, ((3,),), ((3,),), wrap=lambda f, x, y: f(np.array([1, 0, 1]), [x, y]))

# ---- interpolation and convolution ----


@register_function(np.interp)
def _interp(x, xp, fp, left=None, right=None, period=None):
    if period is not None:
        raise NotImplementedError("dualtape: np.interp(period=...) on traced values")
    xp, fp = (a if isinstance(a, Box) else np.asarray(a) for a in (xp, fp))
    i = observe(_interval_above, x, xp)   # which interval: a replay checks it is the same
    x0, x1, y0, y1 = xp[i - 1], xp[i], fp[i - 1], fp[i]
    val = y0 + (y1 - y0) / (x1 - x0) * (x - x0)
    left = fp[0] if left is None else left
    right = fp[-1] if right is None else right
    return np.where(x < xp[0], left, np.where(x > xp[-1], right, val))


def _interval_above(x, xp):
    """For each x, the index of the upper end of its interval in xp (end ones outside)."""
    return np.clip(np.searchsorted(np.asarray(xp), x, side="right"), 1, len(xp) - 1)


example(np.interp, ((5,), (-0.5, 3.5)), Const(np.arange(4.0)), ((4,),))
example(np.interp, ((), (0.1, 2.9)), ((4,),), wrap=lambda f, x, y: f(
    x, np.array([0.0, 1.0, 2.5, 3.0]), np.sin(y)))
note("piecewise linear: at a knot the right segment's slope is used; constant outside",
     np.interp)


def _conv_full(a, v):
    n, m = shape_of(a)[0], shape_of(v)[0]
    zeros = np.zeros(m - 1, dtype=a.dtype)
    ap = sh._concatenate([zeros, a, zeros], axis=0)
    windows = ap[np.arange(n + m - 1)[:, None] + np.arange(m)[None, :]]
    return windows @ np.flip(v, 0)


def _crop(full, n, m, mode):
    if mode == "full":
        return full
    if mode == "same":
        start = (min(n, m) - 1) // 2
        return full[start:start + max(n, m)]
    return full[min(n, m) - 1:max(n, m)]


@register_function(np.convolve)
def _convolve(a, v, mode="full"):
    n, m = shape_of(a)[0], shape_of(v)[0]
    full = _conv_full(a, v) if m <= n else _conv_full(v, a)
    return _crop(full, n, m, mode)


@register_function(np.correlate)
def _correlate(a, v, mode="valid"):
    n, m = shape_of(a)[0], shape_of(v)[0]
    if m <= n:
        return _crop(_conv_full(a, np.flip(v, 0)), n, m, mode)
    return np.flip(_crop(_conv_full(v, np.flip(a, 0)), n, m, mode), 0)


for _mode in ("full", "same", "valid"):
    example(np.convolve, ((6,),), ((3,),), mode=_mode)
    example(np.correlate, ((6,),), ((3,),), mode=_mode)
example(np.convolve, ((2,),), ((5,),), mode="same")
example(np.correlate, ((3,),), ((5,),), mode="full")

register_nondiff(np.searchsorted, np.argpartition, np.lexsort, np.isin, np.isneginf,
                 np.isposinf, np.fix, np.iscomplex, np.isreal, np.array_equiv,
                 np.may_share_memory, np.shares_memory, np.ravel_multi_index,
                 np.unravel_index, np.min_scalar_type, np.can_cast)
