"""More scipy.special ufuncs: Bessel functions of real order, trigonometry in degrees,
exponential integrals, Box-Cox, hypergeometric functions and distribution CDFs.

Orders, shape parameters and degrees of freedom are constants: differentiating with
respect to them raises NoRuleError (see ``_only_last`` in special.py).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.special as sc

from ..registry import Const, Primitive, register_ufunc, sample
from .cases import note
from .elementwise import POS, unary
from .kinds import defderiv
from .special import TWO_OVER_SQRT_PI, _no_rule, _only_last, _weak

DEG = math.pi / 180.0

# ---- Bessel functions of real order v (in x): the standard recurrences ----
jv = _only_last(sc.jv, lambda ans, v, x: 0.5 * (sc.jv(v - 1.0, x) - sc.jv(v + 1.0, x)), 2,
                domain=POS)
yv = _only_last(sc.yv, lambda ans, v, x: 0.5 * (sc.yv(v - 1.0, x) - sc.yv(v + 1.0, x)), 2,
                domain=POS)
iv = _only_last(sc.iv, lambda ans, v, x: 0.5 * (sc.iv(v - 1.0, x) + sc.iv(v + 1.0, x)), 2,
                domain=POS)
kv = _only_last(sc.kv, lambda ans, v, x: -0.5 * (sc.kv(v - 1.0, x) + sc.kv(v + 1.0, x)), 2,
                domain=POS)
ive = _only_last(sc.ive, lambda ans, v, x: 0.5 * (sc.ive(v - 1.0, x) + sc.ive(v + 1.0, x))
                 - np.sign(x) * ans, 2, domain=POS)
kve = _only_last(sc.kve, lambda ans, v, x: ans - 0.5 * (sc.kve(v - 1.0, x) + sc.kve(v + 1.0, x)),
                 2, domain=POS)
jve = _only_last(sc.jve, lambda ans, v, x: 0.5 * (sc.jve(v - 1.0, x) - sc.jve(v + 1.0, x)), 2,
                 domain=POS)
yve = _only_last(sc.yve, lambda ans, v, x: 0.5 * (sc.yve(v - 1.0, x) - sc.yve(v + 1.0, x)), 2,
                 domain=POS)
kn = _only_last(sc.kn, lambda ans, n, x: -0.5 * (sc.kn(n - 1, x) + sc.kn(n + 1, x)), 2,
                domain=POS, const=2)
yn = _only_last(sc.yn, lambda ans, n, x: 0.5 * (sc.yn(n - 1, x) - sc.yn(n + 1, x)), 2,
                domain=POS, const=2)

# ---- trigonometry in degrees ----
sindg = unary(sc.sindg, lambda ans, x: DEG * sc.cosdg(x), domain=(-200.0, 200.0))
cosdg = unary(sc.cosdg, lambda ans, x: -DEG * sc.sindg(x), domain=(-200.0, 200.0))
tandg = unary(sc.tandg, lambda ans, x: DEG * (1.0 + ans * ans), domain=(-80.0, 80.0))
cotdg = unary(sc.cotdg, lambda ans, x: -DEG * (1.0 + ans * ans), domain=(10.0, 170.0))

# ---- exponential integrals and relatives ----
erfi = unary(sc.erfi, lambda ans, x: TWO_OVER_SQRT_PI * np.exp(x * x))
exprel = unary(sc.exprel, lambda ans, x: np.where(
    x == 0, 0.5, (np.exp(x) - ans) / np.where(x == 0, 1.0, x)), domain=(0.1, 2.0))
expn = _only_last(sc.expn, lambda ans, n, x: -sc.expn(n - 1, x), 2, domain=POS, const=2)
spence = unary(sc.spence, lambda ans, x: np.log(x) / (1.0 - x), domain=(1.2, 3.0))


# ---- Box-Cox (in x; lambda held constant) ----


def _only_first(ufunc, deriv, domain=POS, const=0.7):
    """Register ``ufunc(x, lmbda)`` differentiable in x only."""
    prim = defderiv(Primitive(ufunc.__name__, ufunc), deriv, _no_rule(ufunc, 1))
    register_ufunc(ufunc, prim)
    sample(prim, ((2, 3), domain), Const(const))
    sample(prim, ((3, 2), domain), Const(np.array([const, 0.0])))
    return prim


boxcox = _only_first(sc.boxcox, lambda ans, x, lm: x ** (lm - 1.0))
boxcox1p = _only_first(sc.boxcox1p, lambda ans, x, lm: (1.0 + x) ** (lm - 1.0))
inv_boxcox = _only_first(sc.inv_boxcox, lambda ans, y, lm: ans ** (1.0 - lm))
inv_boxcox1p = _only_first(sc.inv_boxcox1p, lambda ans, y, lm: (1.0 + ans) ** (1.0 - lm))
note("differentiable in x; lmbda raises NoRuleError if traced", sc.boxcox, sc.boxcox1p,
     sc.inv_boxcox, sc.inv_boxcox1p)

# ---- hypergeometric functions (in the last argument) ----
hyp1f1 = _only_last(sc.hyp1f1, lambda ans, a, b, x: a / b * sc.hyp1f1(a + 1.0, b + 1.0, x), 3,
                    domain=(-1.0, 1.0), const=0.8)
hyp2f1 = _only_last(sc.hyp2f1, lambda ans, a, b, c, z: a * b / c * sc.hyp2f1(
    a + 1.0, b + 1.0, c + 1.0, z), 4, domain=(-0.5, 0.5), const=0.8)

# ---- distribution CDFs (in x) ----
chdtr = _only_last(sc.chdtr, lambda ans, v, x: np.exp(
    (0.5 * v - 1.0) * np.log(x) - 0.5 * x - 0.5 * v * math.log(2.0) - _weak(sc.gammaln(0.5 * v))),
    2, domain=POS, const=3.0)
chdtrc = _only_last(sc.chdtrc, lambda ans, v, x: -np.exp(
    (0.5 * v - 1.0) * np.log(x) - 0.5 * x - 0.5 * v * math.log(2.0) - _weak(sc.gammaln(0.5 * v))),
    2, domain=POS, const=3.0)
stdtr = _only_last(sc.stdtr, lambda ans, df, t: np.exp(
    _weak(sc.gammaln(0.5 * (df + 1.0)) - sc.gammaln(0.5 * df)) - 0.5 * _weak(np.log(df * math.pi))
    - 0.5 * (df + 1.0) * np.log1p(t * t / df)), 2, const=3.0)
gdtr = _only_last(sc.gdtr, lambda ans, a, b, x: np.exp(
    b * _weak(np.log(a)) + (b - 1.0) * np.log(x) - a * x - _weak(sc.gammaln(b))), 3, domain=POS,
    const=1.5)
gdtrc = _only_last(sc.gdtrc, lambda ans, a, b, x: -np.exp(
    b * _weak(np.log(a)) + (b - 1.0) * np.log(x) - a * x - _weak(sc.gammaln(b))), 3, domain=POS,
    const=1.5)
note("differentiable in x (the last argument); parameters raise NoRuleError if traced",
     sc.chdtr, sc.chdtrc, sc.stdtr, sc.gdtr, sc.gdtrc, sc.hyp1f1, sc.hyp2f1)
