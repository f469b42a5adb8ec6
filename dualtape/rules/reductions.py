"""Reductions and scans: sum (linear), prod, max/min, cumsum; mean/var/std derived.

Conventions: ties of max/min share the derivative equally; prod is exact with zeros
(one zero: only that entry has a derivative; two or more: all zero).
"""

from __future__ import annotations

import math

import numpy as np

from ..registry import Primitive, data_function, observe, register_function, sample
from .kinds import deflinear, dtype_of, norm_axes, shape_of, shift


def _keep_shape(x_shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if i in axes else s for i, s in enumerate(x_shape))


def expand_reduced(ct, nb: int, x_shape: tuple, axes: tuple, keepdims: bool):
    """Broadcast a (batched) cotangent of a reduction back to the input's shape."""
    batch = shape_of(ct)[:nb]
    if not keepdims:
        ct = np.reshape(ct, batch + _keep_shape(x_shape, axes))
    return np.broadcast_to(ct, batch + x_shape)


sum_ = deflinear(
    Primitive("sum", lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims)),
    lambda t, nb, x, axis, keepdims: np.sum(t, axis=shift(axis, nb), keepdims=keepdims),
    lambda ct, nb, x, axis, keepdims: expand_reduced(ct, nb, shape_of(x), axis, keepdims))
sample(sum_, ((2, 3, 4),), axis=(0, 2), keepdims=False)
sample(sum_, ((2, 3),), axis=(1,), keepdims=True)
sample(sum_, ((3,),), axis=(0,), keepdims=False)


@register_function(np.sum)
def _sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _no_out("sum", out, where)
    res = sum_(a, axis=norm_axes(axis, len(shape_of(a))), keepdims=bool(keepdims))
    return res if initial is None else res + initial


def _no_out(name, out=None, where=None):
    if out is not None or where is not None:
        raise NotImplementedError(f"dualtape: np.{name}(..., out=/where=) is not supported on "
                                  "traced values; drop the argument and assign the result")


@register_function(np.mean)
def _mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    _no_out("mean", out, where)
    axes = norm_axes(axis, len(shape_of(a)))
    count = math.prod(shape_of(a)[i] for i in axes)
    return sum_(a, axis=axes, keepdims=bool(keepdims)) / count


@register_function(np.var)
def _var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None,
         correction=None):
    _no_out("var", out, where)
    axes = norm_axes(axis, len(shape_of(a)))
    count = math.prod(shape_of(a)[i] for i in axes)
    ddof = correction if correction is not None else ddof
    centered = a - _mean(a, axes, keepdims=True)
    return sum_(centered * centered, axis=axes, keepdims=bool(keepdims)) / (count - ddof)


@register_function(np.std)
def _std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None,
         correction=None):
    return np.sqrt(_var(a, axis, ddof=ddof, keepdims=keepdims, correction=correction))


# ---- prod: exact with zeros ----

def _prod_partial(x, axes):
    """d prod / d x_i = product of the others, without dividing by zero.

    Zeros are factored out as traced values (not constants), so the second derivative
    is right at zeros too: an entry of the Hessian involves at most two zeros.
    """
    is_zero = x == 0   # traced comparison: a recording checks or recomputes the pattern
    nonzero = np.where(is_zero, 1.0, x)
    p_nz = np.prod(nonzero, axis=axes, keepdims=True)
    if not is_zero.any():
        return p_nz / nonzero
    n_zero = np.sum(is_zero, axis=axes, keepdims=True)
    zero_sum = np.sum(np.where(is_zero, x, 0.0), axis=axes, keepdims=True)   # value 0
    zero_prod = np.prod(np.where(is_zero, x, 1.0), axis=axes, keepdims=True)
    other_zeros = np.where(n_zero == 1, 1.0, np.where(n_zero == 2, zero_sum - x, 0.0))
    return np.where(is_zero, other_zeros, zero_prod) * p_nz / nonzero


def _prod_jvp(tangents, ans, args, kwargs):
    (t,), (x,) = tangents, args
    axes, keepdims = kwargs["axis"], kwargs["keepdims"]
    nb = len(shape_of(t)) - len(shape_of(x))
    return np.sum(t * _prod_partial(x, axes), axis=shift(axes, nb), keepdims=keepdims)


def _prod_vjp(ct, ans, args, kwargs, needed):
    (x,) = args
    axes, keepdims = kwargs["axis"], kwargs["keepdims"]
    nb = len(shape_of(ct)) - len(shape_of(ans))
    return [expand_reduced(ct, nb, shape_of(x), axes, keepdims) * _prod_partial(x, axes)]


prod = Primitive("prod", lambda x, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims))
prod.jvp, prod.vjp = _prod_jvp, _prod_vjp
sample(prod, ((2, 3),), axis=(1,), keepdims=False)
sample(prod, ((4,),), axis=(0,), keepdims=True)
sample(prod, lambda rng: np.array([[0.0, 1.5, -0.7], [0.0, 0.0, 2.0], [1.1, 0.9, 1.2]]),
       axis=(1,), keepdims=False)


@register_function(np.prod)
def _prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _no_out("prod", out, where)
    res = prod(a, axis=norm_axes(axis, len(shape_of(a))), keepdims=bool(keepdims))
    return res if initial is None else res * initial


# ---- max / min: the derivative is shared equally among ties ----

def _extremum_weights(x, ans, axes, keepdims):
    """Where max/min is attained, each of k ties weighted 1/k: a plain array."""
    return observe(_extremum_weights_of_values, x, ans, axes, keepdims)


@data_function
def _extremum_weights_of_values(x, ans, axes, keepdims):
    if not keepdims:
        ans = np.reshape(ans, tuple(1 if i in axes else s for i, s in enumerate(np.shape(x))))
    mask = (x == ans).astype(dtype_of(x))
    return mask / np.sum(mask, axis=axes, keepdims=True)


def _ext_jvp(tangents, ans, args, kwargs):
    (t,), (x,) = tangents, args
    axes, keepdims = kwargs["axis"], kwargs["keepdims"]
    nb = len(shape_of(t)) - len(shape_of(x))
    w = _extremum_weights(x, ans, axes, keepdims)
    return np.sum(t * w, axis=shift(axes, nb), keepdims=keepdims)


def _ext_vjp(ct, ans, args, kwargs, needed):
    (x,) = args
    axes, keepdims = kwargs["axis"], kwargs["keepdims"]
    nb = len(shape_of(ct)) - len(shape_of(ans))
    w = _extremum_weights(x, ans, axes, keepdims)
    return [expand_reduced(ct, nb, shape_of(x), axes, keepdims) * w]


for _name, _fn in (("max", np.max), ("min", np.min)):
    _p = Primitive(_name, lambda x, axis, keepdims, _f=_fn: _f(x, axis=axis, keepdims=keepdims))
    _p.jvp, _p.vjp = _ext_jvp, _ext_vjp
    sample(_p, ((3, 4),), axis=(1,), keepdims=False)
    sample(_p, ((3, 4),), axis=(0, 1), keepdims=True)
    sample(_p, lambda rng: np.array([1.0, 3.0, 3.0, -2.0]), axis=(0,), keepdims=False,
           check_order=1)  # a tie is a kink: first order only

    def _handler(a, axis=None, out=None, keepdims=False, initial=None, where=None, _p=_p):
        _no_out(_p.name, out, where)
        res = _p(a, axis=norm_axes(axis, len(shape_of(a))), keepdims=bool(keepdims))
        if initial is None:
            return res
        return (np.maximum if _p.name == "max" else np.minimum)(res, initial)

    register_function(_fn, getattr(np, "a" + _name))(_handler)


# ---- scans ----

cumsum = deflinear(
    Primitive("cumsum", lambda x, axis: np.cumsum(x, axis=axis)),
    lambda t, nb, x, axis: np.cumsum(t, axis=axis + nb),
    lambda ct, nb, x, axis: np.flip(np.cumsum(np.flip(ct, axis + nb), axis=axis + nb),
                                    axis + nb))
sample(cumsum, ((3, 4),), axis=1)


@register_function(np.cumsum)
def _cumsum(a, axis=None, dtype=None, out=None):
    if axis is None:
        a, axis = np.ravel(a), 0
    return cumsum(a, axis=axis % len(shape_of(a)))
