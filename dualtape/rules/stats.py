"""Statistics built on the reductions: average, the nan-reductions, ptp, median,
quantile/percentile, cov, corrcoef. All derived (no rules of their own).

NaN entries are replaced before reducing (np.where), so they get a zero derivative and
never a NaN one. Order statistics (median, quantile) go through np.sort, whose
derivative follows the sorting permutation.
"""

from __future__ import annotations

import math

import numpy as np

from ..registry import Const, register_function
from .cases import example, note
from .kinds import dtype_of, norm_axes, shape_of
from .reductions import _no_out


def _count(a, axis) -> int:
    return math.prod(shape_of(a)[i] for i in norm_axes(axis, len(shape_of(a))))


@register_function(np.average)
def _average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    if weights is None:
        avg = np.mean(a, axis=axis, keepdims=keepdims)
        wsum = np.full(shape_of(avg), float(_count(a, axis)))
    else:
        w = weights
        if shape_of(w) != shape_of(a):  # 1-D weights along `axis`
            ax = axis % len(shape_of(a))
            w = np.reshape(w, (-1,) + (1,) * (len(shape_of(a)) - 1 - ax))
        wsum = np.sum(np.broadcast_to(w, np.broadcast_shapes(shape_of(w), shape_of(a))),
                      axis=axis, keepdims=keepdims)
        avg = np.sum(a * w, axis=axis, keepdims=keepdims) / wsum
    return (avg, wsum) if returned else avg


example(np.average, ((3, 4),), axis=1)
example(np.average, ((3, 4),), ((3, 4),), wrap=lambda f, a, w: f(a, weights=np.exp(w)))
example(np.average, ((3, 4),), ((3,),), wrap=lambda f, a, w: f(a, axis=0, weights=np.exp(w),
                                                                returned=True))

# ---- NaN-ignoring reductions ----


def _nan_to(a, value):
    return np.where(np.isnan(a), value, a)


@register_function(np.nansum)
def _nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _no_out("nansum", out, where)
    return np.sum(_nan_to(a, 0.0), axis=axis, keepdims=keepdims, initial=initial)


@register_function(np.nanprod)
def _nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _no_out("nanprod", out, where)
    return np.prod(_nan_to(a, 1.0), axis=axis, keepdims=keepdims, initial=initial)


@register_function(np.nanmean)
def _nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    _no_out("nanmean", out, where)
    count = np.sum(~np.isnan(a), axis=axis, keepdims=keepdims).astype(dtype_of(a))
    return _nansum(a, axis=axis, keepdims=keepdims) / count


@register_function(np.nanvar)
def _nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
            mean=None, correction=None):
    _no_out("nanvar", out, where)
    ddof = correction if correction is not None else ddof
    valid = ~np.isnan(a)
    centered = np.where(valid, a - _nanmean(a, axis=axis, keepdims=True), 0.0)
    count = np.sum(valid, axis=axis, keepdims=keepdims).astype(dtype_of(a))
    return np.sum(centered * centered, axis=axis, keepdims=keepdims) / (count - ddof)


register_function(np.nanstd)(lambda a, axis=None, dtype=None, out=None, ddof=0, keepdims=False,
                             **kw: np.sqrt(_nanvar(a, axis, ddof=ddof, keepdims=keepdims)))
register_function(np.nanmax)(lambda a, axis=None, out=None, keepdims=False, **kw: np.max(
    _nan_to(a, -np.inf), axis=axis, keepdims=keepdims))
register_function(np.nanmin)(lambda a, axis=None, out=None, keepdims=False, **kw: np.min(
    _nan_to(a, np.inf), axis=axis, keepdims=keepdims))


def _with_nan(rng):
    x = rng.uniform(-2.0, 2.0, (3, 4))
    x[0, 1] = x[2, 3] = np.nan
    return x


for _f in (np.nansum, np.nanprod, np.nanmean, np.nanmax, np.nanmin):
    example(_f, _with_nan, axis=1)
example(np.nanvar, _with_nan, axis=0, ddof=1)
example(np.nanstd, _with_nan)
note("NaNs are skipped and get a zero derivative", np.nansum, np.nanmean, np.nanprod,
     np.nanvar, np.nanstd, np.nanmax, np.nanmin)


@register_function(np.ptp)
def _ptp(a, axis=None, out=None, keepdims=False):
    return np.max(a, axis=axis, keepdims=keepdims) - np.min(a, axis=axis, keepdims=keepdims)


example(np.ptp, ((3, 4),), axis=0)

# ---- order statistics: through np.sort (the derivative follows the permutation) ----

_METHODS = ("linear", "lower", "higher", "nearest", "midpoint")


@register_function(np.quantile)
def _quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
              keepdims=False, *, weights=None, interpolation=None):
    method = interpolation or method
    if method not in _METHODS or weights is not None:
        raise NotImplementedError(f"dualtape: np.quantile(method={method!r}, weights=...) on "
                                  f"traced values; supported methods: {', '.join(_METHODS)}")
    nd = len(shape_of(a))
    axes = norm_axes(axis, nd)
    rest = [i for i in range(nd) if i not in axes]
    moved = np.transpose(a, tuple(axes) + tuple(rest))
    s = np.sort(np.reshape(moved, (-1,) + tuple(shape_of(a)[i] for i in rest)), axis=0)
    q = np.asarray(q, dtype=float)
    pos = q * (shape_of(s)[0] - 1)
    lo = np.floor(pos).astype(int)
    frac = pos - lo
    frac = {"lower": 0.0 * frac, "higher": np.ceil(frac), "nearest": np.round(frac),
            "midpoint": np.where(frac > 0, 0.5, 0.0)}.get(method, frac)
    hi = np.minimum(lo + 1, shape_of(s)[0] - 1)
    f = np.reshape(frac, q.shape + (1,) * len(rest)).astype(dtype_of(a))
    out = s[lo] * (1.0 - f) + s[hi] * f
    if keepdims:
        out = np.reshape(out, q.shape + tuple(1 if i in axes else n
                                              for i, n in enumerate(shape_of(a))))
    return out


@register_function(np.percentile)
def _percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False, *, weights=None, interpolation=None):
    return _quantile(a, np.asarray(q, dtype=float) / 100.0, axis, method=method,
                     keepdims=keepdims, weights=weights, interpolation=interpolation)


@register_function(np.median)
def _median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    return _quantile(a, 0.5, axis, keepdims=keepdims)


def _nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                 keepdims=False, *, weights=None, interpolation=None):
    if (interpolation or method) != "linear" or weights is not None:
        raise NotImplementedError("dualtape: nan-quantiles on traced values: method='linear'")
    nd = len(shape_of(a))
    axes = norm_axes(axis, nd)
    rest = tuple(shape_of(a)[i] for i in range(nd) if i not in axes)
    moved = np.transpose(a, tuple(axes) + tuple(i for i in range(nd) if i not in axes))
    s = np.sort(np.reshape(moved, (-1,) + rest), axis=0)     # NaNs sort last
    valid = np.sum(~np.isnan(s), axis=0)   # per slice, plain (a recording checks it)
    q = np.asarray(q, dtype=float)
    pos = np.reshape(q, q.shape + (1,) * len(rest)) * (valid - 1)
    lo = np.maximum(np.floor(pos).astype(int), 0)
    hi = np.minimum(lo + 1, np.maximum(valid - 1, 0))
    frac = (pos - lo).astype(dtype_of(a))
    idx = (q.size,) + rest
    lo_v = np.take_along_axis(s, np.reshape(lo, idx), axis=0)
    hi_v = np.take_along_axis(s, np.reshape(hi, idx), axis=0)
    res = np.reshape(lo_v * (1.0 - np.reshape(frac, idx)) + hi_v * np.reshape(frac, idx),
                     q.shape + rest)
    if keepdims:
        res = np.reshape(res, q.shape + tuple(1 if i in axes else n
                                              for i, n in enumerate(shape_of(a))))
    return res


register_function(np.nanquantile)(_nanquantile)
register_function(np.nanpercentile)(lambda a, q, axis=None, out=None, overwrite_input=False,
                                    method="linear", keepdims=False, **kw: _nanquantile(
    a, np.asarray(q, dtype=float) / 100.0, axis, method=method, keepdims=keepdims))
register_function(np.nanmedian)(lambda a, axis=None, out=None, overwrite_input=False,
                                keepdims=False: _nanquantile(a, 0.5, axis, keepdims=keepdims))
example(np.nanmedian, _with_nan, axis=1)
example(np.nanquantile, _with_nan, Const(np.array([0.2, 0.7])), axis=0, keepdims=True)
example(np.nanpercentile, _with_nan, Const(40.0))
example(np.median, ((5,),))
example(np.median, ((3, 4),), axis=1, keepdims=True)
example(np.quantile, ((3, 5),), Const(np.array([0.1, 0.5, 0.95])), axis=1)
example(np.percentile, ((7,),), Const(30.0), method="nearest")
note("through np.sort: the derivative follows the sorting permutation (ties: stable order)",
     np.median, np.quantile, np.percentile, np.nanmedian, np.nanquantile, np.nanpercentile)

# ---- covariance and correlation ----


@register_function(np.cov)
def _cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
         dtype=None):
    if fweights is not None or aweights is not None:
        raise NotImplementedError("dualtape: np.cov(fweights=/aweights=) on traced values")
    x = m if len(shape_of(m)) > 1 else np.reshape(m, (1, -1))
    if not rowvar and len(shape_of(m)) > 1:
        x = np.transpose(x)
    if y is not None:
        yy = y if len(shape_of(y)) > 1 else np.reshape(y, (1, -1))
        x = np.concatenate([x, yy if rowvar or len(shape_of(y)) == 1 else np.transpose(yy)])
    n = shape_of(x)[1]
    ddof = (0 if bias else 1) if ddof is None else ddof
    xc = x - np.mean(x, axis=1, keepdims=True)
    c = (xc @ np.transpose(xc)) / (n - ddof)
    return np.reshape(c, ()) if shape_of(c) == (1, 1) else c


@register_function(np.corrcoef)
def _corrcoef(x, y=None, rowvar=True, *, dtype=None):
    c = _cov(x, y, rowvar)
    if len(shape_of(c)) == 0:
        return c / c
    d = np.sqrt(np.diagonal(c))
    return c / d[:, None] / d[None, :]


example(np.cov, ((3, 6),))
example(np.cov, ((6,),), ((6,),), wrap=lambda f, a, b: f(a, b, ddof=0))
example(np.corrcoef, ((5, 3),), rowvar=False)
