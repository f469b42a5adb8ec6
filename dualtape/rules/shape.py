"""Shape, joining, selection and construction: linear primitives (each is its own kind of
transpose). The subscript primitives (getitem, scatter_add, setitem) are in subscript.py.

Batched tangents put their batch axis first; axes are shifted by ``nb``.
"""

from __future__ import annotations

import math

import numpy as np

from ..registry import Box, Primitive, plain, register_function, sample
from .kinds import (
    align,
    batch_of,
    deflinear,
    defzero,
    dtype_of,
    norm_axes,
    shape_of,
    shift,
    unbroadcast,
    zeros_tangent,
)

# ---- reshape, transpose, broadcast ----


def _resolve_shape(shape, old_shape) -> tuple:
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if -1 in shape:
        known = math.prod(s for s in shape if s != -1)
        size = math.prod(old_shape)
        shape = tuple(size // known if s == -1 else s for s in shape)
    return shape


reshape = deflinear(
    Primitive("reshape", lambda x, shape: np.reshape(x, shape)),
    lambda t, nb, x, shape: np.reshape(t, shape_of(t)[:nb] + shape),
    lambda ct, nb, x, shape: np.reshape(ct, shape_of(ct)[:nb] + shape_of(x)))
sample(reshape, ((2, 3),), shape=(3, 2))
sample(reshape, ((6,),), shape=(1, 2, 3))


@register_function(np.reshape)
def _reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    if order != "C":
        raise NotImplementedError("dualtape: np.reshape supports order='C' only")
    new = _resolve_shape(shape if shape is not None else newshape, shape_of(a))
    return a if new == shape_of(a) else reshape(a, shape=new)


@register_function(np.ravel)
def _ravel(a, order="C"):
    return _reshape(a, (-1,), order)


def _perm_batched(axes, nb):
    return tuple(range(nb)) + tuple(a + nb for a in axes)


transpose = deflinear(
    Primitive("transpose", lambda x, axes: np.transpose(x, axes)),
    lambda t, nb, x, axes: np.transpose(t, _perm_batched(axes, nb)),
    lambda ct, nb, x, axes: np.transpose(ct, _perm_batched(tuple(np.argsort(axes)), nb)))
sample(transpose, ((2, 3, 4),), axes=(2, 0, 1))


@register_function(np.transpose)
def _transpose(a, axes=None):
    nd = len(shape_of(a))
    axes = tuple(reversed(range(nd))) if axes is None else tuple(x % nd for x in axes)
    return a if axes == tuple(range(nd)) else transpose(a, axes=axes)


@register_function(np.swapaxes)
def _swapaxes(a, axis1, axis2):
    axes = list(range(len(shape_of(a))))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return _transpose(a, axes)


@register_function(np.moveaxis)
def _moveaxis(a, source, destination):
    nd = len(shape_of(a))
    src = norm_axes(source, nd) if isinstance(source, (list, tuple)) else (source % nd,)
    dst = norm_axes(destination, nd) if isinstance(destination, (list, tuple)) \
        else (destination % nd,)
    if isinstance(source, (list, tuple)):
        src = tuple(s % nd for s in source)
        dst = tuple(d % nd for d in destination)
    order = [n for n in range(nd) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return _transpose(a, order)


broadcast_to = deflinear(
    Primitive("broadcast_to", lambda x, shape: np.broadcast_to(x, shape)),
    lambda t, nb, x, shape: np.broadcast_to(align(t, shape_of(x), len(shape)),
                                            shape_of(t)[:nb] + shape),
    lambda ct, nb, x, shape: unbroadcast(ct, shape_of(x), nb))
sample(broadcast_to, ((3,),), shape=(2, 3))
sample(broadcast_to, ((2, 1),), shape=(2, 4))


@register_function(np.broadcast_to)
def _broadcast_to(array, shape, subok=False):
    shape = _resolve_shape(shape, shape_of(array))
    return array if shape == shape_of(array) else broadcast_to(array, shape=shape)


@register_function(np.expand_dims)
def _expand_dims(a, axis):
    shape = list(shape_of(a))
    axes = norm_axes(axis, len(shape) + (len(axis) if isinstance(axis, (tuple, list)) else 1))
    for ax in axes:
        shape.insert(ax, 1)
    return reshape(a, shape=tuple(shape))


@register_function(np.squeeze)
def _squeeze(a, axis=None):
    shape = shape_of(a)
    axes = (tuple(i for i, s in enumerate(shape) if s == 1) if axis is None
            else norm_axes(axis, len(shape)))
    return reshape(a, shape=tuple(s for i, s in enumerate(shape) if i not in axes))


flip = deflinear(
    Primitive("flip", lambda x, axis: np.flip(x, axis)),
    lambda t, nb, x, axis: np.flip(t, shift(axis, nb)),
    lambda ct, nb, x, axis: np.flip(ct, shift(axis, nb)))
sample(flip, ((2, 3),), axis=(1,))


@register_function(np.flip)
def _flip(m, axis=None):
    return flip(m, axis=norm_axes(axis, len(shape_of(m))))


copy = deflinear(Primitive("copy", np.copy), lambda t, nb, x: t, lambda ct, nb, x: ct)
register_function(np.copy)(lambda a, order="K", subok=False: copy(a))
sample(copy, ((2, 3),))

# ---- joining ----


def _concat_jvp(tangents, ans, args, kwargs):
    axis = kwargs["axis"]
    t0, a0 = next((t, a) for t, a in zip(tangents, args) if t is not None)
    batch = batch_of(t0, a0)
    ts = [t if t is not None else zeros_tangent(a, batch) for t, a in zip(tangents, args)]
    return np.concatenate(ts, axis=axis + len(batch))


def _concat_vjp(ct, ans, args, kwargs, needed):
    axis = kwargs["axis"]
    nb = len(shape_of(ct)) - len(shape_of(ans))
    out, start = [], 0
    for need, a in zip(needed, args):
        size = shape_of(a)[axis]
        if need:
            idx = (slice(None),) * (axis + nb) + (slice(start, start + size),)
            out.append(ct[idx])
        else:
            out.append(None)
        start += size
    return out


concatenate = Primitive("concatenate", lambda *xs, axis: np.concatenate(xs, axis=axis))
concatenate.jvp, concatenate.vjp, concatenate.kind = _concat_jvp, _concat_vjp, "linear"
sample(concatenate, ((2, 3),), ((1, 3),), axis=0)
sample(concatenate, ((2, 3),), ((2, 2),), ((2, 1),), axis=1)


@register_function(np.concatenate)
def _concatenate(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    arrays = list(arrays)
    if axis is None:
        arrays, axis = [_ravel(a) for a in arrays], 0
    nd = len(shape_of(arrays[0]))
    return concatenate(*arrays, axis=axis % nd)


@register_function(np.stack)
def _stack(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    arrays = list(arrays)
    nd = len(shape_of(arrays[0])) + 1
    return concatenate(*[_expand_dims(a, axis % nd) for a in arrays], axis=axis % nd)


@register_function(np.hstack)
def _hstack(tup, dtype=None, casting="same_kind"):
    arrs = [_atleast(a, 1) for a in tup]
    return _concatenate(arrs, axis=0 if len(shape_of(arrs[0])) == 1 else 1)


@register_function(np.vstack)
def _vstack(tup, dtype=None, casting="same_kind"):
    return _concatenate([_atleast(a, 2) for a in tup], axis=0)


def _atleast(a, nd):
    shape = shape_of(a)
    if len(shape) >= nd:
        return a
    return reshape(a, shape=(1,) * (nd - len(shape) - (nd == 3 and len(shape) == 2)) + shape
                   + ((1,) if nd == 3 and len(shape) == 2 else ()))


register_function(np.atleast_1d)(lambda *arys: _atleast(arys[0], 1) if len(arys) == 1
                                 else [_atleast(a, 1) for a in arys])
register_function(np.atleast_2d)(lambda *arys: _atleast(arys[0], 2) if len(arys) == 1
                                 else [_atleast(a, 2) for a in arys])

# ---- selection ----


def _where_jvp(tangents, ans, args, kwargs):
    cond = kwargs["cond"]
    (tx, ty), (x, y) = tangents, args
    batch = batch_of(tx, x) if tx is not None else batch_of(ty, y)
    nd = len(shape_of(ans))
    zero = np.zeros((), dtype=dtype_of(ans))  # not the dtype of a Python-float branch
    tx = zero if tx is None else align(tx, shape_of(x), nd)
    ty = zero if ty is None else align(ty, shape_of(y), nd)
    return np.broadcast_to(np.where(cond, tx, ty), batch + shape_of(ans))


def _where_vjp(ct, ans, args, kwargs, needed):
    cond = kwargs["cond"]
    nb = len(shape_of(ct)) - len(shape_of(ans))
    zero = np.zeros((), dtype=dtype_of(ans))
    return [unbroadcast(np.where(cond, ct, zero), shape_of(args[0]), nb) if needed[0] else None,
            unbroadcast(np.where(cond, zero, ct), shape_of(args[1]), nb) if needed[1] else None]


where = Primitive("where", lambda x, y, cond: np.where(cond, x, y))
where.jvp, where.vjp, where.kind = _where_jvp, _where_vjp, "linear"
sample(where, ((2, 3),), ((2, 3),), cond=np.array([[True, False, True], [False, True, False]]))
sample(where, ((3,),), ((2, 1),), cond=np.array([True, False, True]))


@register_function(np.where)
def _where(condition, x=None, y=None):
    if x is None and y is None:
        return np.nonzero(plain(condition))
    return where(x, y, cond=plain(condition))


# ---- constructors from a traced template: traced, zero derivative ----

def _like(prim):
    def handler(a, dtype=None, order="K", subok=True, shape=None, **kwargs):
        if shape is not None:  # a new shape: still traced (zero derivative), so writes record
            shape = tuple(int(s) for s in np.atleast_1d(shape))
        return prim(a, dtype=dtype, shape=shape)
    return handler


for _name, _fn in (("zeros_like", np.zeros_like), ("ones_like", np.ones_like),
                   ("empty_like", np.zeros_like)):
    _p = defzero(Primitive(_name, lambda x, dtype=None, shape=None, _f=_fn: _f(
        x, dtype=dtype, shape=shape)))
    register_function(getattr(np, _name))(_like(_p))
    sample(_p, ((2, 3),))
    if _name == "zeros_like":
        zeros_like_prim = _p
sample(zeros_like_prim, ((2,),), shape=(3, 2))

full_like = defzero(Primitive("full_like", lambda x, fill: np.full_like(x, fill)))
sample(full_like, ((2, 3),), fill=2.0)


@register_function(np.full_like)
def _full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, **kw):
    if isinstance(fill_value, Box):  # a traced fill value carries a derivative
        return broadcast_to(fill_value, shape=shape_of(a)) * np.ones_like(a)
    return full_like(a, fill=fill_value)

