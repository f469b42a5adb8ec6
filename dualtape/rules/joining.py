"""Splitting and joining: split/array_split/hsplit/vsplit/dsplit, atleast_3d, dstack,
column_stack, append, block, meshgrid, broadcast_arrays. Derived from getitem,
reshape, broadcast_to and concatenate.
"""

from __future__ import annotations

import numpy as np

from ..registry import Const, register_function
from . import shape as sh
from .cases import example
from .kinds import shape_of

# ---- splitting ----


def _split_points(n, indices_or_sections, equal):
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if equal and n % k:
            raise ValueError("array split does not result in an equal division")
        each, extra = divmod(n, k)
        sizes = [each + 1] * extra + [each] * (k - extra)
        return list(np.cumsum([0] + sizes))
    return [0] + [min(int(i), n) for i in indices_or_sections] + [n]


def _split(ary, indices_or_sections, axis=0, equal=True):
    axis %= len(shape_of(ary))
    pts = _split_points(shape_of(ary)[axis], indices_or_sections, equal)
    pre = (slice(None),) * axis
    return [ary[pre + (slice(int(a), int(max(a, b))),)] for a, b in zip(pts[:-1], pts[1:])]


register_function(np.split)(_split)
register_function(np.array_split)(lambda ary, ios, axis=0: _split(ary, ios, axis, equal=False))
register_function(np.hsplit)(lambda ary, ios: _split(ary, ios, 1 if len(shape_of(ary)) > 1
                                                     else 0))
register_function(np.vsplit)(lambda ary, ios: _split(ary, ios, 0))
register_function(np.dsplit)(lambda ary, ios: _split(ary, ios, 2))
example(np.split, ((6, 2),), indices_or_sections=3)
example(np.split, ((2, 5),), indices_or_sections=[1, 3], axis=1)
example(np.array_split, ((7,),), Const(3))
example(np.hsplit, ((2, 4),), Const(2))
example(np.vsplit, ((4, 2),), Const([1]))
example(np.dsplit, ((1, 2, 4),), Const(2))

# ---- stacking ----


def atleast_3d(a):
    s = shape_of(a)
    new = {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}.get(len(s), s)
    return a if new == s else np.reshape(a, new)


register_function(np.atleast_3d)(lambda *arys: atleast_3d(arys[0]) if len(arys) == 1
                                 else [atleast_3d(a) for a in arys])
register_function(np.dstack)(lambda tup: sh._concatenate([atleast_3d(a) for a in tup], axis=2))
register_function(np.column_stack)(lambda tup: sh._concatenate(
    [np.reshape(a, (-1, 1)) if len(shape_of(a)) < 2 else a for a in tup], axis=1))


@register_function(np.append)
def _append(arr, values, axis=None):
    if axis is None:
        return sh._concatenate([np.ravel(arr), np.ravel(values)], axis=0)
    return sh._concatenate([arr, values], axis=axis)


@register_function(np.block)
def _block(arrays):
    def depth(x):
        return 1 + depth(x[0]) if isinstance(x, list) else 0

    d = depth(arrays)

    def build(x, level):
        if not isinstance(x, list):
            s = shape_of(x)
            return np.reshape(x, (1,) * (d - len(s)) + s) if len(s) < d else x
        return sh._concatenate([build(e, level + 1) for e in x], axis=level - d)

    return build(arrays, 0)


example(np.atleast_3d, ((3,),))
example(np.dstack, ((2, 3),), ((2, 3),), wrap=lambda f, a, b: f([a, b]))
example(np.column_stack, ((3,),), ((3, 2),), wrap=lambda f, a, b: f((a, b)))
example(np.append, ((2, 2),), ((3,),))
example(np.append, ((2, 2),), ((1, 2),), axis=0)
example(np.block, ((2, 2),), ((2, 1),), ((1, 3),),
        wrap=lambda f, a, b, c: f([[a, b], [c]]))


@register_function(np.meshgrid)
def _meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    n = len(xi)
    out = []
    for i, x in enumerate(xi):
        shape = [1] * n
        shape[i] = -1
        if indexing == "xy" and n > 1 and i < 2:
            shape[0], shape[1] = shape[1], shape[0]
        out.append(np.reshape(x, tuple(shape)))
    if not sparse:
        full = np.broadcast_shapes(*[shape_of(o) for o in out])
        out = [sh._broadcast_to(o, full) for o in out]
    return tuple(out)


@register_function(np.broadcast_arrays)
def _broadcast_arrays(*args, subok=False):
    full = np.broadcast_shapes(*[shape_of(a) for a in args])
    return tuple(sh._broadcast_to(a, full) for a in args)


example(np.meshgrid, ((3,),), ((2,),))
example(np.meshgrid, ((3,),), ((2,),), indexing="ij", sparse=True)
example(np.broadcast_arrays, ((3,),), ((2, 1),))
