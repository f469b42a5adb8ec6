"""scipy.special functions that are not ufuncs: logsumexp, softmax, log_softmax,
softplus, polygamma, zeta. Derived from primitives; reached through the drop-in
``dualtape.scipy.special`` (SciPy's own versions call np.asarray on their inputs).

logsumexp subtracts the maximum as a constant (stop-gradient) before exponentiating:
the value is stable and the derivative is exactly softmax, with no overflow.
"""

from __future__ import annotations

import numpy as np
import scipy.special as sc

from ..registry import Const, concrete, data_function, observe, register_function
from .cases import example, note, shim
from .kinds import norm_axes, shape_of
from .special import digamma
from .special import zeta as hurwitz_zeta

MODULE = "dualtape.scipy.special"


@data_function
def _shift(a, axes):
    """The largest entry of each slice (no shift for all -inf or inf slices): no derivative."""
    m = np.max(a, axis=axes, keepdims=True)
    return np.where(np.isfinite(m), m, 0.0)


@data_function
def _sign(s):
    return np.sign(s)


@register_function(sc.logsumexp)
def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    axes = norm_axes(axis, len(shape_of(a)))
    m = observe(_shift, a, axes)
    e = np.exp(a - m)
    s = np.sum(e if b is None else b * e, axis=axes, keepdims=True)
    sign = observe(_sign, s)
    out = np.log(np.abs(s) if return_sign or b is not None else s) + m
    if not keepdims:
        out = np.reshape(out, tuple(n for i, n in enumerate(shape_of(out)) if i not in axes))
        sign = np.reshape(sign, shape_of(out))
    return (out, sign) if return_sign else out


@register_function(sc.softmax)
def softmax(x, axis=None):
    return np.exp(x - logsumexp(x, axis=axis, keepdims=True))


@register_function(sc.log_softmax)
def log_softmax(x, axis=None):
    return x - logsumexp(x, axis=axis, keepdims=True)


example(sc.logsumexp, ((3, 4),))
example(sc.logsumexp, ((3, 4),), axis=-1, keepdims=True)
example(sc.logsumexp, ((2, 3, 4),), axis=(0, 2))
example(sc.logsumexp, ((3, 4),), ((4,), (0.5, 2.0)), wrap=lambda f, a, b: f(a, axis=1, b=b))
example(sc.logsumexp, ((4,),), ((4,), (-1.0, 1.0)), wrap=lambda f, a, b: f(
    a, b=b + 2.0, return_sign=True)[0])
example(sc.logsumexp, lambda rng: np.array([1000.0, 1001.0, -np.inf]))
example(sc.softmax, ((3, 4),), axis=1)
example(sc.softmax, ((5,),))
example(sc.log_softmax, ((3, 4),), axis=0)
note("stable: the maximum is subtracted as a constant; the derivative is softmax",
     sc.logsumexp)

if hasattr(sc, "softplus"):
    @register_function(sc.softplus)
    def softplus(x, **kwargs):
        return np.logaddexp(0.0, x)

    example(sc.softplus, ((3, 2),))


@register_function(sc.polygamma)
def polygamma(n, x):
    """psi^(n)(x) = (-1)^(n+1) n! zeta(n+1, x); n must be a plain non-negative integer."""
    n = concrete(n)
    if not np.issubdtype(n.dtype, np.integer) and not np.all(n == np.floor(n)):
        raise ValueError("polygamma: the order n must be an integer")
    if n.ndim == 0 and n == 0:
        return digamma(x)
    fac = (-1.0) ** (n + 1) * sc.gamma(n + 1.0)
    return np.where(n == 0, digamma(x), fac * hurwitz_zeta(n + 1.0, x))


@register_function(sc.zeta)
def zeta(x, q=None, out=None):
    """Hurwitz zeta(x, q): differentiable in q (the Riemann zeta, q=None, is q=1)."""
    return hurwitz_zeta(x, 1.0 if q is None else q)


example(sc.polygamma, Const(0), ((3,), (0.5, 3.0)))
example(sc.polygamma, Const(np.array([1, 2, 3])), ((3,), (0.5, 3.0)))
example(sc.zeta, Const(3.0), ((2, 2), (0.5, 3.0)))
note("differentiable in x; the order n is an integer constant", sc.polygamma)
note("differentiable in q only", sc.zeta)
shim(MODULE, sc.logsumexp, sc.softmax, sc.log_softmax, sc.polygamma, sc.zeta,
     *([sc.softplus] if hasattr(sc, "softplus") else []))
