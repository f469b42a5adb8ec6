"""Construction: casts, arrays built from traced values, diagonals and triangles, tile,
repeat, pad, splitting and stacking, meshgrid.

Everything but ``astype`` is derived: written with reshape / broadcast_to / getitem /
concatenate / where, whose rules already exist, so no new transpose is needed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..registry import Box, Primitive, plain, register_function, sample
from . import shape as sh
from . import subscript
from .cases import example, note
from .kinds import deflinear, dtype_of, shape_of

# ---- casts between float types: linear, the cotangent goes back to the input's dtype ----


def _astype_impl(x, dtype):
    return np.asarray(x).astype(dtype)


astype = deflinear(Primitive("astype", _astype_impl),
                   lambda t, nb, x, dtype: astype(t, dtype=dtype),
                   lambda ct, nb, x, dtype: astype(ct, dtype=dtype_of(x)))
sample(astype, ((2, 3),), dtype=np.dtype(np.float64))  # float32 is checked in test_cov_dtypes

# ---- arrays from lists of traced values, and NumPy's like= constructors ----


def _has_traced(obj: Any) -> bool:
    if isinstance(obj, Box):
        return True
    return isinstance(obj, (list, tuple)) and any(_has_traced(o) for o in obj)


def array(obj: Any, dtype: Any = None) -> Any:
    """``np.array`` for nested lists that contain traced values (stacked, so they stay traced).

    >>> import numpy as np, dualtape as dt
    >>> dt.grad(lambda x: np.sum(dt.array([[x[0], 1.0], [x[1] ** 2, x[0]]])))(np.ones(2))
    array([2., 2.])
    """
    if isinstance(obj, Box):
        out = sh.copy(obj)
    elif isinstance(obj, (list, tuple)) and _has_traced(obj):
        out = sh._stack([array(o) for o in obj])
    else:
        return np.array(obj, dtype=dtype)
    if dtype is not None and np.dtype(dtype) != dtype_of(out):
        out = astype(out, dtype=np.dtype(dtype))
    return out


def _traced_like(like: Any, value: np.ndarray) -> Any:
    """A constant array tied to ``like``'s trace (zero derivative), so that later in-place
    writes of traced values into it are recorded."""
    return sh.zeros_like_prim(like, dtype=value.dtype, shape=value.shape) + value


_ARRAY_LIKE = (np.array, np.asarray, np.asanyarray, np.ascontiguousarray)


def _like_handler(func):
    def handler(*args, like=None, **kwargs):
        if func in _ARRAY_LIKE and _has_traced(args[0]):
            out = array(args[0], kwargs.get("dtype"))
        elif func is np.full and isinstance(args[1], Box):
            shape = (args[0],) if isinstance(args[0], (int, np.integer)) else tuple(args[0])
            out = sh._broadcast_to(args[1], shape)
        elif _has_traced(args) or _has_traced(list(kwargs.values())):
            raise _plain_target_error(f"np.{func.__name__} with a traced argument")
        else:
            out = func(*args, **kwargs)
        return out if like is None or isinstance(out, Box) else _traced_like(like, np.asarray(out))
    handler.wants_like = True  # dispatch passes like= (the traced value NumPy dispatched on)
    return handler


for _f in (np.zeros, np.ones, np.empty, np.full, np.array, np.asarray, np.asanyarray, np.eye,
           np.identity, np.arange, np.ascontiguousarray):
    register_function(_f)(_like_handler(_f))
note("with like=x: a traced constant, so in-place writes of traced values are recorded",
     np.zeros, np.ones, np.empty, np.full, np.eye, np.identity, np.arange)
note("a list with traced values is stacked; NumPy dispatches only with like=x (or use "
     "dt.array); np.asarray(traced) raises", np.array, np.asarray, np.asanyarray,
     np.ascontiguousarray)
example(np.array, ((2,),), wrap=lambda f, a: f([[a[0], 1.0], [a[1] * a[0], a[1]]], like=a))
example(np.full, ((1,),), wrap=lambda f, a: f((2, 2), a[0], like=a))
example(np.asarray, ((2,),), ((2,),), wrap=lambda f, a, b: f([b, b * a], like=a))
example(np.asanyarray, ((2,),), wrap=lambda f, a: f([a[1], 2.0], like=a))
example(np.ascontiguousarray, ((2,),), wrap=lambda f, a: f([a[0], 2.0], like=a))


def _write_into(f, x):
    """The typical in-place pattern: a constant array created like x, then written."""
    y = f(3, like=x, **({"dtype": float} if f is np.arange else {}))
    y[1] = x[0] * x[2] ** 2
    y[2] = y[1] * x[1]
    return y[1:]


for _f in (np.zeros, np.ones, np.empty, np.eye, np.identity, np.arange):
    example(_f, ((3,),), wrap=_write_into)


@register_function(np.copyto)
def _copyto(dst, src, casting="same_kind", where=True):
    if not isinstance(dst, Box):
        raise _plain_target_error("np.copyto(plain_array, traced) (or np.full(n, traced))")
    dst[...] = np.where(where, src, dst) if where is not True else src


example(np.copyto, ((3,),), wrap=lambda f, x: (lambda y: (f(y, x ** 2), y)[1])(np.zeros_like(x)))


def _plain_target_error(what: str) -> Exception:
    from ..errors import TracerConversionError
    return TracerConversionError(
        f"dualtape: {what} would write a traced value into a plain NumPy array and lose its "
        f"derivative. Create the target from the traced value: np.zeros_like(x), "
        f"np.zeros(n, like=x), np.full(n, v, like=x) or dt.array([...]).")


@register_function(np.linspace)
def _linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, **kw):
    frac = np.linspace(0.0, 1.0, num, endpoint=endpoint).astype(
        np.result_type(plain(start), plain(stop), 1.0))
    nd = max(len(shape_of(start)), len(shape_of(stop)))
    frac = np.reshape(frac, (-1,) + (1,) * nd)
    out = start + (stop - start) * frac
    if axis != 0:
        out = np.moveaxis(out, 0, axis)
    step = (stop - start) / max(num - 1 if endpoint else num, 1)
    return (out, step) if retstep else out


example(np.linspace, ((),), ((3,),), num=5)

# ---- diagonals and triangles ----


@register_function(np.diagonal)
def diagonal(a, offset=0, axis1=0, axis2=1):
    a = np.moveaxis(a, (axis1, axis2), (-2, -1))
    n, m = shape_of(a)[-2:]
    size = max(0, min(n + min(offset, 0), m - max(offset, 0)))
    rows = np.arange(size) + max(-offset, 0)
    return a[..., rows, rows + offset]


example(np.diagonal, ((3, 4),), offset=1)
example(np.diagonal, ((2, 3, 3),), axis1=1, axis2=2)


@register_function(np.trace)
def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    return np.sum(diagonal(a, offset, axis1, axis2), axis=-1)


example(np.trace, ((3, 3),))
example(np.trace, ((3, 2, 3),), axis1=0, axis2=2, offset=-1)


@register_function(np.diag)
def diag(v, k=0):
    if len(shape_of(v)) == 2:
        return diagonal(v, k)
    n = shape_of(v)[0]
    rows = np.arange(n) + max(-k, 0)
    return subscript.scatter_add(v, idx=(rows, rows + k), shape=(n + abs(k),) * 2)


example(np.diag, ((3,),), k=1)
example(np.diag, ((3, 3),), k=-1)
register_function(np.diagflat)(lambda v, k=0: diag(np.ravel(v), k))
example(np.diagflat, ((2, 2),))


def tril(m: Any, k: int = 0) -> Any:
    n, c = shape_of(m)[-2:]
    return np.where(np.tri(n, c, k, dtype=bool), m, 0.0)


def triu(m: Any, k: int = 0) -> Any:
    n, c = shape_of(m)[-2:]
    return np.where(np.tri(n, c, k - 1, dtype=bool), 0.0, m)


register_function(np.tril)(tril)
register_function(np.triu)(triu)
example(np.tril, ((3, 4),), k=1)
example(np.triu, ((2, 3, 3),))

# ---- tile, repeat, pad ----


@register_function(np.tile)
def _tile(A, reps):
    reps = (reps,) if isinstance(reps, (int, np.integer)) else tuple(reps)
    s = shape_of(A)
    d = max(len(s), len(reps))
    s, reps = (1,) * (d - len(s)) + s, (1,) * (d - len(reps)) + tuple(reps)
    inter = tuple(x for pair in zip((1,) * d, s) for x in pair)
    big = tuple(x for pair in zip(reps, s) for x in pair)
    return np.reshape(np.broadcast_to(np.reshape(A, inter), big),
                      tuple(r * n for r, n in zip(reps, s)))


example(np.tile, ((2, 3),), reps=(2, 1, 2))


def take_axis(a: Any, idx: Any, axis: int) -> Any:
    """``a`` indexed by an integer array along ``axis`` (a getitem, so it has a transpose)."""
    return a[(slice(None),) * axis + (np.asarray(idx),)]


@register_function(np.repeat)
def _repeat(a, repeats, axis=None):
    if axis is None:
        a, axis = np.ravel(a), 0
    axis %= len(shape_of(a))
    return take_axis(a, np.repeat(np.arange(shape_of(a)[axis]), plain(repeats)), axis)


example(np.repeat, ((2, 3),), repeats=2)
example(np.repeat, ((2, 3),), repeats=np.array([1, 0, 2]), axis=-1)

_PAD_INDEX_MODES = ("edge", "reflect", "symmetric", "wrap")


@register_function(np.pad)
def _pad(array, pad_width, mode="constant", **kwargs):
    nd = len(shape_of(array))
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (nd, 2))
    if mode == "constant":
        values = kwargs.get("constant_values", 0.0)
        if isinstance(values, Box) or (isinstance(values, (list, tuple)) and any(
                isinstance(v, Box) for v in np.ravel(np.asarray(values, dtype=object)))):
            raise NotImplementedError("dualtape: np.pad with traced constant_values; pad "
                                      "with zeros and add the constant's contribution")
        consts = np.broadcast_to(np.asarray(values), (nd, 2))
        out = array
        for ax in range(nd):
            shape = list(shape_of(out))
            parts = []
            for side, w in enumerate(widths[ax]):
                shape[ax] = int(w)
                parts.append(np.full(shape, consts[ax, side], dtype=dtype_of(array)))
            out = sh._concatenate([parts[0], out, parts[1]], axis=ax)
        return out
    if mode not in _PAD_INDEX_MODES:
        raise NotImplementedError(f"dualtape: np.pad(mode={mode!r}) on traced values; supported "
                                  f"modes: constant, {', '.join(_PAD_INDEX_MODES)}")
    out = array
    for ax in range(nd):
        idx = np.pad(np.arange(shape_of(out)[ax]), widths[ax], mode=mode, **kwargs)
        out = take_axis(out, idx, ax)
    return out


example(np.pad, ((2, 3),), pad_width=((1, 2), (0, 1)))
example(np.pad, ((4,),), pad_width=2, mode="reflect")
example(np.pad, ((2, 3),), pad_width=1, mode="edge")
example(np.pad, ((3, 2),), pad_width=((2, 1), (1, 0)), mode="wrap")
note("modes constant (plain constant_values), edge, reflect, symmetric, wrap", np.pad)
