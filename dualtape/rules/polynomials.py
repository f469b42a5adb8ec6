"""Polynomials (numpy's poly* functions, highest power first) and vander. Derived:
Horner's scheme, convolution, and a least-squares fit through lstsq.

vander builds the powers by a cumulative product (not x ** k), so x = 0 has exact
derivatives instead of 0 * inf.
"""

from __future__ import annotations

import numpy as np

from ..registry import Box, Const, plain, register_function
from . import shape as sh
from .cases import example, note
from .kinds import dtype_of, shape_of


def _trim(p):
    return np.atleast_1d(p)


@register_function(np.polyval)
def _polyval(p, x):
    p = _trim(p)
    y = p[0] + 0.0 * x if isinstance(x, Box) or shape_of(x) else p[0]
    for i in range(1, shape_of(p)[0]):
        y = y * x + p[i]
    return y


@register_function(np.polyder)
def _polyder(p, m=1):
    for _ in range(m):
        n = shape_of(p)[0] - 1
        p = p[:-1] * np.arange(n, 0, -1, dtype=float) if n > 0 else np.zeros_like(p[:1])
    return p


@register_function(np.polyint)
def _polyint(p, m=1, k=None):
    ks = np.zeros(m) if k is None else np.atleast_1d(k)
    for j in range(m):
        n = shape_of(p)[0]
        p = sh._concatenate([p / np.arange(n, 0, -1, dtype=float), ks[j:j + 1]], axis=0)
    return p


def _pad_front(a, n):
    extra = n - shape_of(a)[0]
    return a if extra <= 0 else sh._concatenate([np.zeros(extra, dtype=dtype_of(a)), a], 0)


@register_function(np.polyadd)
def _polyadd(a1, a2):
    n = max(shape_of(a1)[0], shape_of(a2)[0])
    return _pad_front(_trim(a1), n) + _pad_front(_trim(a2), n)


@register_function(np.polysub)
def _polysub(a1, a2):
    n = max(shape_of(a1)[0], shape_of(a2)[0])
    return _pad_front(_trim(a1), n) - _pad_front(_trim(a2), n)


register_function(np.polymul)(lambda a1, a2: np.convolve(_trim(a1), _trim(a2)))


@register_function(np.vander)
def _vander(x, N=None, increasing=False):
    n = shape_of(x)[0]
    N = n if N is None else N
    cols = [np.ones((n, 1), dtype=dtype_of(x))]
    if N > 1:
        cols.append(np.cumprod(np.broadcast_to(x[:, None], (n, N - 1)), axis=1))
    v = sh._concatenate(cols, axis=1)[:, :N]
    return v if increasing else np.flip(v, 1)


@register_function(np.polyfit)
def _polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    if full or cov:
        raise NotImplementedError("dualtape: np.polyfit(full=True / cov=True) on traced values")
    lhs = _vander(x, deg + 1)
    rhs = y
    if w is not None:
        lhs = lhs * w[:, None]
        rhs = rhs * (w if len(shape_of(y)) == 1 else w[:, None])
    scale = np.sqrt(np.sum(plain(lhs) ** 2, axis=0))  # NumPy's column scaling, a constant
    coef = np.linalg.lstsq(lhs / scale, rhs, rcond=rcond)[0]
    return (coef.T / scale).T


example(np.polyval, ((4,),), ((3,),))
example(np.polyval, ((3,),), ((),))
example(np.polyder, ((5,),), m=2)
example(np.polyint, ((3,),), k=1.5)
example(np.polyadd, ((2,),), ((4,),))
example(np.polysub, ((4,),), ((3,),))
example(np.polymul, ((3,),), ((2,),))
example(np.vander, ((4,),))
example(np.vander, lambda rng: np.array([0.0, 0.5, -1.5]), N=4, increasing=True)
example(np.polyfit, lambda rng: np.linspace(-1, 1, 6), ((6,),), Const(2))
example(np.polyfit, ((5,), (0.1, 2.0)), ((5, 2),), Const(1), w=np.linspace(0.5, 1.5, 5))
note("in the coefficients and in x; polyfit through lstsq (full rank)", np.polyval,
     np.polyfit)
