"""Rule kinds: build a primitive's jvp and vjp from one compact description.

Every helper here is written with NumPy calls on possibly traced values, so the rules
it builds are differentiable themselves (nesting). Tangents/cotangents carry an
optional leading batch axis; ``nb`` (0 or 1) is inferred from the ranks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..registry import Primitive


def shape_of(x: Any) -> tuple:
    """Shape of an array, traced value or Python scalar (fast path for floats)."""
    t = type(x)
    if t is float or t is int or t is bool:
        return ()
    return getattr(x, "shape", ())


def dtype_of(x: Any) -> np.dtype:
    d = getattr(x, "dtype", None)
    return d if d is not None else np.result_type(x)


def unbroadcast(g: Any, shape: tuple, nb: int) -> Any:
    """Sum ``g`` (batch + broadcast shape) back to batch + ``shape``: the one place it happens."""
    gs = shape_of(g)
    target = gs[:nb] + shape
    if gs == target:
        return g
    extra = len(gs) - len(target)
    if extra < 0:  # g was a broadcastable scalar-like term
        return np.broadcast_to(g, target)
    axes = tuple(range(nb, nb + extra)) + tuple(
        nb + extra + i for i, s in enumerate(shape) if s == 1 and gs[nb + extra + i] != 1)
    if axes:
        g = np.sum(g, axis=axes)
    return np.reshape(g, target)


def align(t: Any, x_shape: tuple, nd_out: int) -> Any:
    """Insert axes after the batch axis so a batched tangent broadcasts like its value."""
    ts = shape_of(t)
    if len(ts) > len(x_shape) and len(x_shape) < nd_out:
        return np.reshape(t, ts[:1] + (1,) * (nd_out - len(x_shape)) + x_shape)
    return t


def batch_of(t: Any, x: Any) -> tuple:
    """The batch part of a tangent's shape: () or (k,)."""
    ts = shape_of(t)
    return ts[: len(ts) - len(shape_of(x))]


def norm_axes(axis: Any, ndim: int) -> tuple:
    """``axis`` (None, int or tuple, negatives allowed) as a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        return tuple(sorted(a % ndim if ndim else 0 for a in axis))
    return (axis % ndim if ndim else 0,)


def shift(axes: tuple, nb: int) -> tuple:
    return tuple(a + nb for a in axes) if nb else axes


# ---- elementwise: one partial derivative per argument ----

def defderiv(prim: Primitive, *partials: Callable | None) -> Primitive:
    """Elementwise kind: ``partials[i](ans, *args, **kwargs)`` is d ans / d args[i].

    Forward: t_out = sum_i p_i * t_i. Reverse: ct_i = unbroadcast(ct * p_i).
    A ``None`` partial means the argument is not differentiable (held constant).
    """

    def jvp(tangents, ans, args, kwargs):
        out = None
        ans_shape = shape_of(ans)
        batch = ()
        for i, t in enumerate(tangents):
            if t is None:
                continue
            ts, xs = shape_of(t), shape_of(args[i])
            if ts != xs:  # batched
                batch = ts[: len(ts) - len(xs)]
                if len(xs) < len(ans_shape):
                    t = align(t, xs, len(ans_shape))
            p = partials[i]
            if p is None:
                continue
            term = t * p(ans, *args, **kwargs)
            out = term if out is None else out + term
        if out is None:
            return zeros_tangent(ans, batch)
        if shape_of(out) != batch + ans_shape:
            out = np.broadcast_to(out, batch + ans_shape)
        return out

    def vjp(ct, ans, args, kwargs, needed):
        out, nb = [], -1
        for need, p, a in zip(needed, partials, args):
            if not need or p is None:
                out.append(None)
                continue
            g = ct * p(ans, *args, **kwargs)
            sa = shape_of(a)
            if shape_of(g) != sa:  # a batch axis, or broadcasting to undo
                if nb < 0:
                    nb = len(shape_of(ct)) - len(shape_of(ans))
                g = unbroadcast(g, sa, nb)
            out.append(g)
        return out

    prim.jvp, prim.vjp, prim.kind = jvp, vjp, "elementwise"
    return prim


def defadditive(prim: Primitive, *signs: float) -> Primitive:
    """Elementwise sum of +/- its arguments (add, subtract, negative): no multiplies."""

    def jvp(tangents, ans, args, kwargs):
        out = None
        ans_shape = shape_of(ans)
        for t, s, a in zip(tangents, signs, args):
            if t is None:
                continue
            batch = batch_of(t, a)
            if batch:
                t = align(t, shape_of(a), len(ans_shape))
            term = t if s > 0 else -t
            out = term if out is None else out + term
        if shape_of(out) != batch + ans_shape:
            out = np.broadcast_to(out, batch + ans_shape)
        return out

    def vjp(ct, ans, args, kwargs, needed):
        nb = len(shape_of(ct)) - len(shape_of(ans))
        return [unbroadcast(ct if s > 0 else -ct, shape_of(a), nb) if need else None
                for need, s, a in zip(needed, signs, args)]

    prim.jvp, prim.vjp, prim.kind = jvp, vjp, "elementwise"
    return prim


# ---- linear in its first argument ----

def deflinear(prim: Primitive, forward: Callable, transpose: Callable) -> Primitive:
    """Linear kind: ``forward(t, nb, x, **kw)`` applies the op to a (batched) tangent,
    ``transpose(ct, nb, x, **kw)`` applies its transpose to a (batched) cotangent."""

    def jvp(tangents, ans, args, kwargs):
        t = tangents[0]
        return forward(t, len(shape_of(t)) - len(shape_of(args[0])), args[0], **kwargs)

    def vjp(ct, ans, args, kwargs, needed):
        nb = len(shape_of(ct)) - len(shape_of(ans))
        return [transpose(ct, nb, args[0], **kwargs)] + [None] * (len(args) - 1)

    prim.jvp, prim.vjp, prim.kind = jvp, vjp, "linear"
    return prim


def defzero(prim: Primitive) -> Primitive:
    """Output is traced (so later in-place writes are recorded) but has zero derivative."""

    def jvp(tangents, ans, args, kwargs):
        t, x = next((t, a) for t, a in zip(tangents, args) if t is not None)
        return zeros_tangent(ans, batch_of(t, x))

    prim.jvp = jvp
    prim.vjp = lambda ct, ans, args, kwargs, needed: [None] * len(args)
    prim.kind = "zero"
    return prim


def zeros_tangent(ans: Any, batch: tuple) -> np.ndarray:
    return np.zeros(batch + shape_of(ans), dtype=dtype_of(ans))


class DeferredScatter:
    """A cotangent that is zero except on ``x[idx]``: what getitem's vjp returns for plain
    arrays. The tape adds it into an adjoint it owns in place (``buf[idx] += values``)
    instead of materialising a mostly-zero array and adding whole arrays.
    """

    __slots__ = ("values", "idx", "shape", "dtype", "advanced")

    def __init__(self, values: np.ndarray, idx: tuple, shape: tuple, advanced: bool) -> None:
        self.values, self.idx, self.shape = values, idx, shape
        self.dtype, self.advanced = values.dtype, advanced

    def add_into(self, buf: np.ndarray) -> np.ndarray:
        if self.advanced:
            np.add.at(buf, self.idx, self.values)  # repeated indices add up
        else:
            buf[self.idx] += self.values
        return buf

    def materialize(self) -> np.ndarray:
        return self.add_into(np.zeros(self.shape, dtype=self.dtype))


def accumulate(prev: Any, c: Any, owned: bool) -> tuple[Any, bool]:
    """``prev + c`` for adjoints; in place when ``prev`` is a buffer the sweep owns.

    Returns the sum and whether the sweep owns it (fresh arrays are owned; arrays handed
    over by a rule may be shared with other slots, so they are never written into).
    """
    if prev is None:
        if type(c) is DeferredScatter:
            return c.materialize(), True
        return c, False
    if type(prev) is np.ndarray:
        if type(c) is DeferredScatter:
            if c.dtype == prev.dtype and c.shape == prev.shape:
                return c.add_into(prev if owned else prev.copy()), True
            c = c.materialize()
        elif (owned and type(c) is np.ndarray and c.shape == prev.shape
              and c.dtype == prev.dtype):
            np.add(prev, c, out=prev)
            return prev, True
    elif type(c) is DeferredScatter:
        c = c.materialize()
    out = prev + c
    return out, type(out) is np.ndarray
