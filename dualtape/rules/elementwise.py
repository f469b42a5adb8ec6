"""Elementwise ufuncs: one line per rule, partial derivatives in terms of (ans, x[, y]).

Conventions at kinks (documented in docs/conventions.md): abs'(0) = 0 (sign), ties of
maximum/minimum/fmax/fmin share the derivative 1/2 each, clip passes the derivative
on the closed interval [lo, hi].
"""

from __future__ import annotations

import math
import operator

import numpy as np

from ..registry import (
    Primitive,
    data_function,
    observe,
    register_function,
    register_nondiff,
    register_ufunc,
    sample,
)
from .kinds import defadditive, defderiv

POS = (0.2, 2.0)        # domain of log, sqrt, ...
UNIT = (-0.8, 0.8)      # domain of arcsin, arctanh, ...
ABOVE1 = (1.2, 3.0)     # arccosh
AWAY0 = ((-2.0, -0.3), (0.3, 2.0))  # kinks and poles at 0 stay out of the tests
LN2, LN10 = math.log(2.0), math.log(10.0)


def _divide(x, y):
    try:
        return x / y
    except ZeroDivisionError:  # Python floats; NumPy semantics (inf/nan) instead
        return np.divide(x, y)


def unary(ufunc, deriv, domain=(-2.0, 2.0), name=None, impl=None):
    """Register ``ufunc(x)`` with derivative ``deriv(ans, x)``; tested on ``domain``."""
    prim = defderiv(Primitive(name or ufunc.__name__, impl or ufunc), deriv)
    register_ufunc(ufunc, prim)
    sample(prim, ((2, 3), domain))
    sample(prim, ((), domain))
    return prim


def binary(ufunc, dx, dy, domain=(-2.0, 2.0), name=None, impl=None):
    """Register ``ufunc(x, y)`` with partials ``dx(ans, x, y)``, ``dy(ans, x, y)``."""
    prim = defderiv(Primitive(name or ufunc.__name__, impl or ufunc), dx, dy)
    register_ufunc(ufunc, prim)
    sample(prim, ((2, 3), domain), ((2, 3), domain))
    sample(prim, ((3,), domain), ((2, 1, 3), domain))   # broadcasting both ways
    sample(prim, ((), domain), ((4,), domain))
    return prim


# ---- arithmetic ----
add = defadditive(Primitive("add", operator.add), 1.0, 1.0)
subtract = defadditive(Primitive("sub", operator.sub), 1.0, -1.0)
negative = defadditive(Primitive("neg", operator.neg), -1.0)
positive = defadditive(Primitive("pos", operator.pos), 1.0)
for _u, _p in ((np.add, add), (np.subtract, subtract), (np.negative, negative),
               (np.positive, positive)):
    register_ufunc(_u, _p)
for _p in (add, subtract):
    sample(_p, ((2, 3),), ((2, 3),))
    sample(_p, ((1, 3),), ((2, 1),))
    sample(_p, ((),), ((4,),))
for _p in (negative, positive):
    sample(_p, ((2, 3),))
multiply = binary(np.multiply, lambda ans, x, y: y, lambda ans, x, y: x, name="mul",
                  impl=operator.mul)
def _reciprocal(y):
    """1 / y; a Python number stays a Python float (a NumPy float64 scalar would promote
    float32 tangents), and 1 / 0 is inf as in NumPy."""
    if type(y) in (int, float):
        return 1.0 / y if y else float(np.divide(1.0, float(y)))
    return np.divide(1.0, y)


divide = binary(np.divide, lambda ans, x, y: _reciprocal(y), lambda ans, x, y: -ans / y,
                domain=AWAY0[1], name="div", impl=_divide)
register_ufunc(np.true_divide, divide)


def _dpow_dx(ans, x, y):
    if type(y) in (int, float):  # constant exponent: cheap and exact at x = 0
        return 0.0 * x if y == 0 else (2.0 * x if y == 2 else y * x ** (y - 1))
    return y * x ** (y - 1)


def _dpow_dy(ans, x, y):
    if type(x) in (int, float):  # a Python base (10.0 ** y) keeps the tangent's dtype
        return ans * (math.log(x) if x > 0 else (0.0 if x == 0 else math.nan))
    return ans * np.log(np.where(x == 0, 1.0, x))  # 0 ** y: d/dy taken as 0


power = binary(np.power, _dpow_dx, _dpow_dy, domain=POS, name="pow")
float_power = binary(np.float_power, _dpow_dx, _dpow_dy, domain=POS)
square = unary(np.square, lambda ans, x: 2.0 * x)
reciprocal = unary(np.reciprocal, lambda ans, x: -ans * ans, domain=AWAY0[1])
sqrt = unary(np.sqrt, lambda ans, x: 0.5 / ans, domain=POS)
cbrt = unary(np.cbrt, lambda ans, x: 1.0 / (3.0 * ans * ans), domain=POS)

# ---- exponentials and logarithms ----
exp = unary(np.exp, lambda ans, x: ans)
exp2 = unary(np.exp2, lambda ans, x: ans * LN2)  # Python floats: float32 stays float32
expm1 = unary(np.expm1, lambda ans, x: ans + 1.0)
log = unary(np.log, lambda ans, x: 1.0 / x, domain=POS)
log2 = unary(np.log2, lambda ans, x: 1.0 / (x * LN2), domain=POS)
log10 = unary(np.log10, lambda ans, x: 1.0 / (x * LN10), domain=POS)
log1p = unary(np.log1p, lambda ans, x: 1.0 / (1.0 + x), domain=POS)
logaddexp = binary(np.logaddexp, lambda ans, x, y: np.exp(x - ans),
                   lambda ans, x, y: np.exp(y - ans))
logaddexp2 = binary(np.logaddexp2, lambda ans, x, y: np.exp2(x - ans),
                    lambda ans, x, y: np.exp2(y - ans))

# ---- trigonometric and hyperbolic ----
sin = unary(np.sin, lambda ans, x: np.cos(x))
cos = unary(np.cos, lambda ans, x: -np.sin(x))
tan = unary(np.tan, lambda ans, x: 1.0 + ans * ans, domain=(-1.2, 1.2))
arcsin = unary(np.arcsin, lambda ans, x: 1.0 / np.sqrt(1.0 - x * x), domain=UNIT)
arccos = unary(np.arccos, lambda ans, x: -1.0 / np.sqrt(1.0 - x * x), domain=UNIT)
arctan = unary(np.arctan, lambda ans, x: 1.0 / (1.0 + x * x))
sinh = unary(np.sinh, lambda ans, x: np.cosh(x))
cosh = unary(np.cosh, lambda ans, x: np.sinh(x))
tanh = unary(np.tanh, lambda ans, x: 1.0 - ans * ans)
arcsinh = unary(np.arcsinh, lambda ans, x: 1.0 / np.sqrt(x * x + 1.0))
arccosh = unary(np.arccosh, lambda ans, x: 1.0 / np.sqrt(x * x - 1.0), domain=ABOVE1)
arctanh = unary(np.arctanh, lambda ans, x: 1.0 / (1.0 - x * x), domain=UNIT)
deg2rad = unary(np.deg2rad, lambda ans, x: np.pi / 180.0)
rad2deg = unary(np.rad2deg, lambda ans, x: 180.0 / np.pi)
register_ufunc(np.radians, deg2rad)
register_ufunc(np.degrees, rad2deg)
arctan2 = binary(np.arctan2, lambda ans, y, x: x / (x * x + y * y),
                 lambda ans, y, x: -y / (x * x + y * y), domain=AWAY0[1])
hypot = binary(np.hypot, lambda ans, x, y: x / ans, lambda ans, x, y: y / ans,
               domain=AWAY0[1])

# ---- kinks: documented conventions ----
absolute = unary(np.absolute, lambda ans, x: np.sign(x), domain=AWAY0[1], name="abs")
register_ufunc(np.fabs, absolute)


def _tie_weight(x, y, larger=True):
    """Weight of x in max(x, y) (min if not ``larger``): a plain array, no derivative."""
    return observe(_tie_weight_of_values, x, y, larger)


@data_function
def _tie_weight_of_values(x, y, larger):
    """1 where x is picked, 1/2 on ties, 0 where y is; a NaN loses, as in fmax/fmin."""
    w = np.where((x > y) if larger else (x < y), 1.0, np.where(x == y, 0.5, 0.0))
    w = np.where(np.isnan(y), 1.0, np.where(np.isnan(x), 0.0, w))
    return w.astype(np.result_type(x, y), copy=False)


for _u in (np.maximum, np.fmax):
    binary(_u, lambda ans, x, y: _tie_weight(x, y), lambda ans, x, y: _tie_weight(y, x))
for _u in (np.minimum, np.fmin):
    binary(_u, lambda ans, x, y: _tie_weight(x, y, False),
           lambda ans, x, y: _tie_weight(y, x, False))
copysign = binary(np.copysign,
                  lambda ans, x, y: np.where(np.signbit(x) == np.signbit(y), 1, -1).astype(
                      ans.dtype), None,
                  domain=AWAY0[1])
remainder = binary(np.remainder, lambda ans, x, y: 1.0, lambda ans, x, y: -np.floor(x / y),
                   domain=(0.3, 2.0))
register_ufunc(np.mod, remainder)
fmod = binary(np.fmod, lambda ans, x, y: 1.0, lambda ans, x, y: -np.trunc(x / y),
              domain=(0.3, 2.0))

clip = defderiv(
    Primitive("clip", np.clip),
    lambda ans, x, lo, hi: (x >= lo) & (x <= hi),  # boolean masks keep the tangent's dtype
    lambda ans, x, lo, hi: x < lo,
    lambda ans, x, lo, hi: x > hi)
sample(clip, ((2, 3),), ((2, 3), (-3.0, -2.5)), ((2, 3), (2.5, 3.0)))


@register_function(np.clip)
def _clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None, **kwargs):
    lo = a_min if a_min is not None else min
    hi = a_max if a_max is not None else max
    return clip(a, -np.inf if lo is None else lo, np.inf if hi is None else hi)


def _sinc_deriv(ans, x):
    safe = np.where(x == 0, 1.0, x)
    return np.where(x == 0, 0.0, (np.cos(np.pi * safe) - ans) / safe)


sinc = defderiv(Primitive("sinc", np.sinc), _sinc_deriv)
register_function(np.sinc)(sinc)
sample(sinc, ((2, 3), AWAY0[1]))

# ---- piecewise constant and predicates: plain results, no derivative ----
register_nondiff(
    np.floor, np.ceil, np.trunc, np.rint, np.sign, np.floor_divide, np.heaviside,
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.logical_and, np.logical_or, np.logical_xor, np.logical_not, np.isnan, np.isinf,
    np.isfinite, np.signbit, np.spacing, np.bitwise_and, np.bitwise_or, np.invert,
    np.round, np.around, np.argmax, np.argmin, np.argsort, np.nonzero, np.flatnonzero,
    np.count_nonzero, np.isclose, np.allclose, np.array_equal, np.any, np.all,
    np.searchsorted, np.digitize, np.unique, np.shape, np.ndim, np.size, np.result_type,
    np.iscomplexobj, np.isrealobj, np.isscalar, np.argwhere, np.histogram, np.bincount,
)

# ---- Python-float source for compiled scalar replays (dualtape/replay/scalar.py) ----
# (value, d/dx[, d/dy]) in {x}, {y}, {ans}; "1" / "-1" mean the adjoint passes through.
# Only a speed-up: a primitive without one replays through its NumPy rules.
for _p, _src in (
        (add, ("{x} + {y}", "1", "1")), (subtract, ("{x} - {y}", "1", "-1")),
        (negative, ("-{x}", "-1")), (positive, ("+{x}", "1")),
        (multiply, ("{x} * {y}", "{y}", "{x}")),
        (divide, ("{x} / {y}", "1.0 / {y}", "-{ans} / {y}")),
        (square, ("{x} * {x}", "2.0 * {x}")), (sqrt, ("sqrt({x})", "0.5 / {ans}")),
        (reciprocal, ("1.0 / {x}", "-{ans} * {ans}")),
        (exp, ("exp({x})", "{ans}")), (expm1, ("expm1({x})", "{ans} + 1.0")),
        (log, ("log({x})", "1.0 / {x}")), (log1p, ("log1p({x})", "1.0 / (1.0 + {x})")),
        (log2, ("log2({x})", f"1.0 / ({{x}} * {LN2!r})")),
        (log10, ("log10({x})", f"1.0 / ({{x}} * {LN10!r})")),
        (sin, ("sin({x})", "cos({x})")), (cos, ("cos({x})", "-sin({x})")),
        (tan, ("tan({x})", "1.0 + {ans} * {ans}")),
        (arcsin, ("asin({x})", "1.0 / sqrt(1.0 - {x} * {x})")),
        (arccos, ("acos({x})", "-1.0 / sqrt(1.0 - {x} * {x})")),
        (arctan, ("atan({x})", "1.0 / (1.0 + {x} * {x})")),
        (sinh, ("sinh({x})", "cosh({x})")), (cosh, ("cosh({x})", "sinh({x})")),
        (tanh, ("tanh({x})", "1.0 - {ans} * {ans}")),
        (absolute, ("fabs({x})", "(({x} > 0.0) - ({x} < 0.0))")),
        (power, ("{x} ** {y}", "{y} * {x} ** ({y} - 1)", "{ans} * log({x})")),
):
    _p.scalar = _src
