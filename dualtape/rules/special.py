"""scipy.special: the differentiable ufuncs (they dispatch through ``__array_ufunc__``).

Derivatives are written with scipy.special/NumPy calls on possibly traced values, so they
differentiate again (second order). Constants are Python floats, so float32 stays float32.
Arguments a function is not differentiable in (orders, shape parameters) raise a
``NoRuleError`` naming the argument when traced, never a silent zero.
The non-ufuncs (logsumexp, softmax, log_softmax, polygamma, zeta) live in special_fns.py.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.special as sc

from ..errors import NoRuleError
from ..registry import Const, Primitive, register_ufunc, sample
from . import elementwise as ew
from .cases import note
from .elementwise import AWAY0, POS, binary, unary
from .kinds import defderiv

TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2.0
LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
PROB = (0.05, 0.95)


def _no_rule(func, i: int):
    """Partial for an argument with no derivative: raise if it is actually traced."""

    def partial(ans, *args):
        raise NoRuleError(f"scipy.special.{func.__name__}",
                          f" with respect to argument {i} (only the others are differentiable)")

    return partial


def _only_last(ufunc, deriv, nargs: int, domain=(-2.0, 2.0), const=1.5):
    """Register ``ufunc(p1, ..., x)`` differentiable in its last argument only."""
    partials = [_no_rule(ufunc, i) for i in range(nargs - 1)] + [deriv]
    prim = defderiv(Primitive(ufunc.__name__, ufunc), *partials)
    register_ufunc(ufunc, prim)
    consts = [Const(const)] * (nargs - 1)
    sample(prim, *consts, ((2, 3), domain))
    sample(prim, *[Const(np.array([const, const + 1.0]))] * (nargs - 1), ((3, 2), domain))
    note(f"differentiable in the last argument only; the first {nargs - 1} raise NoRuleError "
         "if traced", ufunc)
    return prim


def _weak(v):
    """A NumPy float64 scalar from constant arguments as a Python float (it would
    otherwise promote float32 tangents to float64)."""
    return float(v) if isinstance(v, np.floating) else v


def _safe(x):
    return np.where(x == 0, 1.0, x)


# ---- error function and the normal distribution ----
erf = unary(sc.erf, lambda ans, x: TWO_OVER_SQRT_PI * np.exp(-x * x))
erfc = unary(sc.erfc, lambda ans, x: -TWO_OVER_SQRT_PI * np.exp(-x * x))
erfcx = unary(sc.erfcx, lambda ans, x: 2.0 * x * ans - TWO_OVER_SQRT_PI)
erfinv = unary(sc.erfinv, lambda ans, x: SQRT_PI_OVER_2 * np.exp(ans * ans), domain=(-0.9, 0.9))
erfcinv = unary(sc.erfcinv, lambda ans, x: -SQRT_PI_OVER_2 * np.exp(ans * ans),
                domain=(0.1, 1.9))
dawsn = unary(sc.dawsn, lambda ans, x: 1.0 - 2.0 * x * ans)
ndtr = unary(sc.ndtr, lambda ans, x: np.exp(-0.5 * x * x - LOG_SQRT_2PI))
# log_ndtr' = pdf / cdf, formed in log space so it stays finite far in the left tail
log_ndtr = unary(sc.log_ndtr, lambda ans, x: np.exp(-0.5 * x * x - LOG_SQRT_2PI - ans),
                 domain=(-6.0, 3.0))
ndtri = unary(sc.ndtri, lambda ans, x: np.exp(0.5 * ans * ans + LOG_SQRT_2PI), domain=PROB)
ndtri_exp = unary(sc.ndtri_exp, lambda ans, x: np.exp(x + 0.5 * ans * ans + LOG_SQRT_2PI),
                  domain=(-4.0, -0.2))

# ---- logistic ----
expit = unary(sc.expit, lambda ans, x: ans * (1.0 - ans), domain=(-4.0, 4.0))
logit = unary(sc.logit, lambda ans, x: 1.0 / (x * (1.0 - x)), domain=PROB)
log_expit = unary(sc.log_expit, lambda ans, x: sc.expit(-x), domain=(-4.0, 4.0))

# ---- gamma family ----
digamma = Primitive("digamma", sc.digamma)  # its derivative is needed by gamma below
gammaln = unary(sc.gammaln, lambda ans, x: digamma(x), domain=POS)
gamma = unary(sc.gamma, lambda ans, x: ans * digamma(x), domain=POS)
loggamma = unary(sc.loggamma, lambda ans, x: digamma(x), domain=POS)
rgamma = unary(sc.rgamma, lambda ans, x: -ans * digamma(x), domain=POS)


def _zeta_impl(s, q):
    return sc.zeta(s, q)


# Hurwitz zeta(s, q): differentiable in q; digamma' = zeta(2, x); polygamma builds on it.
zeta = defderiv(Primitive("zeta", _zeta_impl), _no_rule(sc.zeta, 0),
                lambda ans, s, q: -s * zeta(s + 1.0, q))
sample(zeta, Const(2.0), ((2, 3), POS))
sample(zeta, Const(np.array([2.0, 3.0])), ((3, 2), POS))
defderiv(digamma, lambda ans, x: zeta(2.0, x))
register_ufunc(sc.digamma, digamma)
register_ufunc(sc.psi, digamma)
sample(digamma, ((2, 3), POS))
beta = binary(sc.beta, lambda ans, a, b: ans * (digamma(a) - digamma(a + b)),
              lambda ans, a, b: ans * (digamma(b) - digamma(a + b)), domain=POS)
betaln = binary(sc.betaln, lambda ans, a, b: digamma(a) - digamma(a + b),
                lambda ans, a, b: digamma(b) - digamma(a + b), domain=POS)
gammainc = _only_last(sc.gammainc, lambda ans, a, x: np.exp(
    (a - 1.0) * np.log(x) - x - _weak(sc.gammaln(a))), 2, domain=POS)
gammaincc = _only_last(sc.gammaincc, lambda ans, a, x: -np.exp(
    (a - 1.0) * np.log(x) - x - _weak(sc.gammaln(a))), 2, domain=POS)
betainc = _only_last(sc.betainc, lambda ans, a, b, x: np.exp(
    (a - 1.0) * np.log(x) + (b - 1.0) * np.log1p(-x) - _weak(sc.betaln(a, b))), 3, domain=PROB)

# ---- logs and entropies (x log y family) ----
xlogy = binary(sc.xlogy, lambda ans, x, y: np.log(y), lambda ans, x, y: x / y, domain=POS)
xlog1py = binary(sc.xlog1py, lambda ans, x, y: np.log1p(y), lambda ans, x, y: x / (1.0 + y),
                 domain=POS)
entr = unary(sc.entr, lambda ans, x: -(np.log(x) + 1.0), domain=POS)
rel_entr = binary(sc.rel_entr, lambda ans, x, y: np.log(x / y) + 1.0,
                  lambda ans, x, y: -x / y, domain=POS)
kl_div = binary(sc.kl_div, lambda ans, x, y: np.log(x / y), lambda ans, x, y: 1.0 - x / y,
                domain=POS)
exp1 = unary(sc.exp1, lambda ans, x: -np.exp(-x) / x, domain=POS)
expi = unary(sc.expi, lambda ans, x: np.exp(x) / x, domain=POS)
exp10 = unary(sc.exp10, lambda ans, x: ans * math.log(10.0))
cosm1 = unary(sc.cosm1, lambda ans, x: -np.sin(x))
powm1 = binary(sc.powm1, lambda ans, x, y: y * x ** (y - 1.0),
               lambda ans, x, y: (ans + 1.0) * np.log(x), domain=POS)
for _sc, _ew in ((sc.expm1, ew.expm1), (sc.log1p, ew.log1p), (sc.exp2, ew.exp2),
                 (sc.cbrt, ew.cbrt)):
    register_ufunc(_sc, _ew)
huber = _only_last(sc.huber, lambda ans, d, r: np.clip(r, -d, d), 2, const=0.8)
pseudo_huber = _only_last(sc.pseudo_huber, lambda ans, d, r: r / np.sqrt(1.0 + (r / d) ** 2),
                          2, const=0.8)

# ---- Bessel functions (integer orders) ----
i0 = unary(sc.i0, lambda ans, x: i1(x), domain=AWAY0[1])
i1 = unary(sc.i1, lambda ans, x: np.where(x == 0, 0.5, i0(x) - ans / _safe(x)),
           domain=AWAY0[1])
i0e = unary(sc.i0e, lambda ans, x: i1e(x) - np.sign(x) * ans, domain=AWAY0[1])
i1e = unary(sc.i1e, lambda ans, x: np.where(
    x == 0, 0.5, i0e(x) - ans * (np.sign(x) + 1.0 / _safe(x))), domain=AWAY0[1])
k0 = unary(sc.k0, lambda ans, x: -k1(x), domain=POS)
k1 = unary(sc.k1, lambda ans, x: -k0(x) - ans / x, domain=POS)
k0e = unary(sc.k0e, lambda ans, x: ans - k1e(x), domain=POS)
k1e = unary(sc.k1e, lambda ans, x: ans * (1.0 - 1.0 / x) - k0e(x), domain=POS)
j0 = unary(sc.j0, lambda ans, x: -j1(x))
j1 = unary(sc.j1, lambda ans, x: np.where(x == 0, 0.5, j0(x) - ans / _safe(x)), domain=AWAY0[1])
y0 = unary(sc.y0, lambda ans, x: -y1(x), domain=POS)
y1 = unary(sc.y1, lambda ans, x: y0(x) - ans / x, domain=POS)
