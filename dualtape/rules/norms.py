"""Norms: the Euclidean norm is a rule (subgradient 0 at 0, no NaN); np.linalg.norm,
vector_norm, matrix_norm and cond are derived from it, abs/max/min/sum and svdvals.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..registry import Primitive, register_function, sample
from .cases import example, note
from .decompositions import svdvals
from .kinds import norm_axes, shape_of, shift
from .reductions import expand_reduced


def _kept(ans, x_shape, axes, keepdims):
    return ans if keepdims else np.reshape(ans, tuple(1 if i in axes else s
                                                      for i, s in enumerate(x_shape)))


def _unit(x, ans, axes, keepdims):
    """x / |x| with 0 where |x| = 0: the subgradient convention at the origin."""
    n = _kept(ans, shape_of(x), axes, keepdims)
    return x / np.where(n == 0, 1.0, n)


def _norm2_jvp(tangents, ans, args, kwargs):
    (t,), (x,) = tangents, args
    axes, keepdims = kwargs["axis"], kwargs["keepdims"]
    nb = len(shape_of(t)) - len(shape_of(x))
    return np.sum(t * _unit(x, ans, axes, keepdims), axis=shift(axes, nb), keepdims=keepdims)


def _norm2_vjp(ct, ans, args, kwargs, needed):
    (x,) = args
    axes, keepdims = kwargs["axis"], kwargs["keepdims"]
    nb = len(shape_of(ct)) - len(shape_of(ans))
    return [expand_reduced(ct, nb, shape_of(x), axes, keepdims) * _unit(x, ans, axes, keepdims)]


norm2 = Primitive("norm2", lambda x, axis, keepdims: np.sqrt(np.sum(
    x * x, axis=axis, keepdims=keepdims)))
norm2.jvp, norm2.vjp = _norm2_jvp, _norm2_vjp
sample(norm2, ((3, 4),), axis=(1,), keepdims=False)
sample(norm2, ((2, 3, 2),), axis=(0, 2), keepdims=True)
sample(norm2, ((5,),), axis=(0,), keepdims=False)


def vector_norm(x: Any, ord: Any = 2, axis: Any = None, keepdims: bool = False) -> Any:
    axes = norm_axes(axis, len(shape_of(x)))
    if ord is None or ord == 2:
        return norm2(x, axis=axes, keepdims=bool(keepdims))
    a = np.abs(x)
    if ord == np.inf:
        return np.max(a, axis=axes, keepdims=keepdims)
    if ord == -np.inf:
        return np.min(a, axis=axes, keepdims=keepdims)
    if ord == 0:
        return np.sum(a != 0, axis=axes, keepdims=keepdims).astype(float)
    if ord == 1:
        return np.sum(a, axis=axes, keepdims=keepdims)
    return np.sum(a ** ord, axis=axes, keepdims=keepdims) ** (1.0 / ord)


def matrix_norm(x: Any, ord: Any = "fro", axis: tuple = (-2, -1), keepdims: bool = False
                ) -> Any:
    nd = len(shape_of(x))
    r, c = (a % nd for a in axis)
    if ord in (None, "fro"):
        return norm2(x, axis=tuple(sorted((r, c))), keepdims=bool(keepdims))
    if ord in ("nuc", 2, -2):
        s = svdvals(np.moveaxis(x, (r, c), (-2, -1)))
        out = {"nuc": np.sum, 2: np.max, -2: np.min}[ord](s, axis=-1)
    elif ord in (1, -1, np.inf, -np.inf):
        summed, other = (r, c) if ord in (1, -1) else (c, r)
        sums = np.sum(np.abs(x), axis=summed)
        pick = np.max if ord in (1, np.inf) else np.min
        out = pick(sums, axis=other - (other > summed))
    else:
        raise ValueError(f"Invalid norm order {ord!r} for matrices.")
    if keepdims:
        out = np.expand_dims(out, tuple(sorted((r, c))))
    return out


@register_function(np.linalg.norm)
def _norm(x, ord=None, axis=None, keepdims=False):
    nd = len(shape_of(x))
    if axis is None:
        if ord is None:
            return norm2(x, axis=tuple(range(nd)), keepdims=bool(keepdims))
        axis = tuple(range(nd))
    if isinstance(axis, (int, np.integer)) or len(axis) == 1:
        return vector_norm(x, ord, axis, keepdims)
    return matrix_norm(x, ord, tuple(axis), keepdims)


if hasattr(np.linalg, "vector_norm"):
    register_function(np.linalg.vector_norm)(
        lambda x, /, *, axis=None, keepdims=False, ord=2: vector_norm(x, ord, axis, keepdims))
    register_function(np.linalg.matrix_norm)(
        lambda x, /, *, keepdims=False, ord="fro": matrix_norm(x, ord, (-2, -1), keepdims))
    example(np.linalg.vector_norm, ((3, 4),), axis=(0, 1), ord=3)
    example(np.linalg.vector_norm, ((3, 4),), axis=-1, keepdims=True)
    example(np.linalg.matrix_norm, ((2, 3, 3),), ord="nuc")
    example(np.linalg.matrix_norm, ((3, 3),), ord=-np.inf, keepdims=True)


@register_function(np.linalg.cond)
def _cond(x, p=None):
    if p is None or p in (2, -2):
        s = svdvals(x)
        big, small = np.max(s, axis=-1), np.min(s, axis=-1)
        return small / big if p == -2 else big / small
    return matrix_norm(x, p) * matrix_norm(np.linalg.inv(x), p)


example(np.linalg.norm, ((4,),))
example(np.linalg.norm, ((3, 4),))
example(np.linalg.norm, ((3, 4),), axis=1, keepdims=True)
example(np.linalg.norm, ((3, 4),), ord=1, axis=0)
example(np.linalg.norm, ((5,),), ord=np.inf)
example(np.linalg.norm, ((5,),), ord=-np.inf)
example(np.linalg.norm, ((5,),), ord=3)
example(np.linalg.norm, ((3, 3),), ord="fro")
example(np.linalg.norm, ((3, 3),), ord="nuc")
example(np.linalg.norm, ((4, 3),), ord=2)
example(np.linalg.norm, ((3, 4),), ord=-2)
example(np.linalg.norm, ((3, 4),), ord=1)
example(np.linalg.norm, ((4, 3),), ord=np.inf)
example(np.linalg.norm, ((2, 3, 4),), ord=-1, axis=(2, 0))
example(np.linalg.norm, ((2, 3, 4),), axis=(0, 2), keepdims=True)
example(np.linalg.norm, lambda rng: np.zeros(3), check_order=1)
example(np.linalg.cond, ((3, 3),))
example(np.linalg.cond, lambda rng: rng.uniform(-1, 1, (3, 3)) + 2 * np.eye(3), p=1)
note("2-norms at 0 take the subgradient 0; ord=2/-2/'nuc' need distinct singular values; "
     "ties of max/min orders share the derivative", np.linalg.norm, np.linalg.cond)
