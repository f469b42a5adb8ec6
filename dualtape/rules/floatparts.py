"""Parts of real floating-point numbers: conj/real/imag (identity and zero on the real
values dualtape differentiates), ldexp, modf, divmod, nan_to_num. All derived.

Traced values are always real (complex inputs are refused by the transforms), so
``np.conj(x)`` is ``x`` and ``np.imag(x)`` is a zero with no derivative.
"""

from __future__ import annotations

import numpy as np

from ..registry import (
    Const,
    concrete,
    data_function,
    observe,
    plain,
    register_function,
    register_ufunc,
)
from .cases import example, note

register_ufunc(np.conjugate, lambda x, **kw: np.copy(x))
register_function(np.real)(lambda val: val)
register_function(np.imag)(lambda val: np.zeros_like(val))
register_function(np.real_if_close)(lambda a, tol=100: a)
example(np.conjugate, ((2, 3),))
example(np.real, ((3,),))
example(np.imag, ((3,),), wrap=lambda f, x: f(x) + x)
example(np.real_if_close, ((3,),))
note("traced values are real: the identity", np.conjugate, np.real, np.real_if_close)


def _ldexp(x1, x2, **kw):
    return x1 * np.exp2(concrete(x2).astype(float)).astype(plain(x1).dtype)


def _modf(x, **kw):
    whole = np.trunc(x)
    return x - whole, whole


def _divmod(x1, x2, **kw):
    return np.floor_divide(x1, x2), np.mod(x1, x2)


register_ufunc(np.ldexp, _ldexp)
register_ufunc(np.modf, _modf)
register_ufunc(np.divmod, _divmod)
example(np.ldexp, ((2, 3),), Const(np.array([1, -2, 0])))
example(np.modf, ((2, 3), (0.1, 3.0)))
example(np.divmod, ((3,), (0.1, 3.0)), ((3,), (0.5, 2.0)))
note("the integer part has no derivative (plain array)", np.modf, np.divmod)


@register_function(np.nan_to_num)
def _nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    return np.where(np.isfinite(x), x, observe(_replacements, x, nan, posinf, neginf))


@data_function
def _replacements(x, nan, posinf, neginf):
    """What np.nan_to_num puts in place of each NaN or infinity: constants."""
    big = np.finfo(x.dtype).max if np.issubdtype(np.result_type(x), np.floating) else 0
    repl = np.where(np.isnan(x), nan, np.where(x > 0, big if posinf is None else posinf,
                                                -big if neginf is None else neginf))
    return repl.astype(np.result_type(x), copy=False)


example(np.nan_to_num, lambda rng: np.array([0.5, np.nan, -np.inf, 2.0]), posinf=1.0)
note("non-finite entries are replaced by constants (zero derivative)", np.nan_to_num)

