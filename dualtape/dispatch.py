"""NumPy protocol hooks shared by Dual and Tensor: operators, ufuncs, functions, indexing.

``np.sin(x)``, ``x @ W`` or ``np.sum(x, axis=0)`` on a traced ``x`` arrive here and are
routed to the registry's primitives; anything without a rule raises ``NoRuleError``.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from . import rules  # noqa: F401  (registers every rule)
from .errors import NoRuleError, TracerConversionError
from .registry import (
    LEAK_HOOKS,
    Box,
    leaked,
    lookup_function,
    lookup_ufunc,
    plain,
    qualified_name,
)
from .rules import construct, linalg, subscript
from .rules import elementwise as ew
from .rules.scipy_compat import caller_hint as _caller_hint

_ADD, _SUB, _MUL, _DIV, _POW = ew.add, ew.subtract, ew.multiply, ew.divide, ew.power
_NEG, _MATMUL, _GET = ew.negative, linalg.matmul, subscript.getitem
_ASTYPE = construct.astype
_REDUCE = {np.add: np.sum, np.multiply: np.prod, np.maximum: np.max, np.minimum: np.min}
_ACCUMULATE = {np.add: np.cumsum, np.multiply: np.cumprod}


_NO_KWARGS: dict = {}


def _binary(prim, a, b):
    """``prim(a, b)`` without the generic argument scan: the higher level applies it."""
    if isinstance(a, Box):
        if isinstance(b, Box) and b._level > a._level:
            return b._apply(prim, (a, b), _NO_KWARGS)
        return a._apply(prim, (a, b), _NO_KWARGS)
    return b._apply(prim, (a, b), _NO_KWARGS)


def _plain_index(idx: Any) -> tuple:
    """Indices must be plain: traced integer arrays are unwrapped, a tuple is returned."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    out = []
    for e in idx:
        if isinstance(e, Box):
            e = plain(e)
            if not (np.issubdtype(np.result_type(e), np.integer) or np.result_type(e) == np.bool_):
                raise TypeError("dualtape: only integer or boolean arrays can index; got a "
                                "traced float array")
        elif isinstance(e, list):
            e = np.asarray(e)
        out.append(e)
    return tuple(out)


def _astype_plain(x, dtype):
    """``x.astype(dtype)`` for arrays and NumPy scalars alike."""
    return np.asarray(x).astype(dtype)[()] if np.ndim(x) == 0 else x.astype(dtype)


def _compare(op, a, b):
    """A comparison on plain values (observed by dt.compile, which guards on it)."""
    result = op(plain(a), plain(b))
    return leaked(op, (a, b), _NO_KWARGS, result) if LEAK_HOOKS else result


class Traced(Box):
    """What Dual and Tensor share: they look and behave like NumPy arrays."""

    __slots__ = ()
    __array_priority__ = 1000.0

    # ---- array attributes (read from the primal value) ----
    @property
    def shape(self) -> tuple:
        return np.shape(plain(self))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def dtype(self) -> np.dtype:
        return np.result_type(plain(self))

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized traced value")
        return self.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    # ---- arithmetic operators go straight to the primitives (the scalar hot path) ----
    def __add__(self, o): return _binary(_ADD, self, o)
    def __radd__(self, o): return _binary(_ADD, o, self)
    def __sub__(self, o): return _binary(_SUB, self, o)
    def __rsub__(self, o): return _binary(_SUB, o, self)
    def __mul__(self, o): return _binary(_MUL, self, o)
    def __rmul__(self, o): return _binary(_MUL, o, self)
    def __truediv__(self, o): return _binary(_DIV, self, o)
    def __rtruediv__(self, o): return _binary(_DIV, o, self)
    def __pow__(self, o): return _binary(_POW, self, o)
    def __rpow__(self, o): return _binary(_POW, o, self)
    def __matmul__(self, o): return _MATMUL(self, o)
    def __rmatmul__(self, o): return _MATMUL(o, self)
    def __neg__(self): return self._apply(_NEG, (self,), _NO_KWARGS)
    def __pos__(self): return self
    def __abs__(self): return np.abs(self)
    def __mod__(self, o): return np.mod(self, o)
    def __rmod__(self, o): return np.mod(o, self)
    def __floordiv__(self, o): return np.floor_divide(self, o)
    def __rfloordiv__(self, o): return np.floor_divide(o, self)

    # ---- comparisons give plain booleans, so Python control flow works ----
    def __lt__(self, o): return _compare(operator.lt, self, o)
    def __le__(self, o): return _compare(operator.le, self, o)
    def __gt__(self, o): return _compare(operator.gt, self, o)
    def __ge__(self, o): return _compare(operator.ge, self, o)
    def __eq__(self, o): return _compare(operator.eq, self, o)  # noqa: D105
    def __ne__(self, o): return _compare(operator.ne, self, o)
    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        result = bool(plain(self))
        return leaked(bool, (self,), _NO_KWARGS, result) if LEAK_HOOKS else result

    # ---- conversions that would drop the derivative fail loudly ----
    def _conversion_error(self, what: str) -> TracerConversionError:
        return TracerConversionError(
            f"dualtape: {what} was called on a traced {type(self).__name__}; the result would "
            f"silently lose its derivative. Keep the value traced (use NumPy functions on it), "
            f"or take dt.stop_gradient(x) / x.detach() explicitly. Writing a traced value into a "
            f"plain array (a = np.zeros(n); a[i] = x) cannot be recorded: create the array with "
            f"np.zeros_like(x) or np.zeros(n, like=x) instead; build arrays from traced scalars "
            f"with np.stack([...]) or dt.array([...]) instead of np.array([...])."
            + _caller_hint())

    def __float__(self):
        raise self._conversion_error("float()")

    def __int__(self):
        raise self._conversion_error("int()")

    def __index__(self):
        raise self._conversion_error("operator.index()")

    def __complex__(self):
        raise self._conversion_error("complex()")

    def __array__(self, dtype=None, copy=None):
        raise self._conversion_error("np.asarray()/np.array()")

    # ---- NumPy protocols ----
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.pop("out", None)
        for k in ("casting", "order", "subok"):
            kwargs.pop(k, None)
        if kwargs.pop("dtype", None) is not None or "where" in kwargs:
            raise NoRuleError(qualified_name(ufunc), " with dtype=/where= on traced values")
        if method == "__call__":
            result = lookup_ufunc(ufunc)(*inputs, **kwargs)
        elif method == "reduce" and ufunc in _REDUCE:
            kwargs.setdefault("axis", 0)  # ufunc.reduce defaults to axis 0, np.sum to None
            result = _REDUCE[ufunc](*inputs, **kwargs)
        elif method == "accumulate" and ufunc in _ACCUMULATE:
            result = _ACCUMULATE[ufunc](*inputs, axis=kwargs.get("axis", 0))
        elif method == "outer" and len(inputs) == 2:
            a, b = inputs
            nb = np.ndim(plain(b))
            result = lookup_ufunc(ufunc)(np.reshape(a, np.shape(plain(a)) + (1,) * nb), b)
        else:
            raise NoRuleError(f"{qualified_name(ufunc)}.{method}")
        if out is None:
            return result
        target = out[0]
        if isinstance(target, Traced):
            target[...] = result
            return target
        raise self._conversion_error(f"{qualified_name(ufunc)}(..., out=plain array)")

    def __array_function__(self, func, types, args, kwargs):
        handler = lookup_function(func)
        if getattr(handler, "wants_like", False):  # np.zeros(n, like=x) and friends
            return handler(*args, like=self, **kwargs)
        return handler(*args, **kwargs)

    # ---- indexing: reads are primitives, writes are functional updates ----
    def __getitem__(self, idx):
        return _GET(self, idx=_plain_index(idx))

    def __setitem__(self, idx, value):
        new = subscript.update(self, value, idx=_plain_index(idx))
        if isinstance(new, Box) and new._level > self._level:
            # an outer transform's array cannot hold an inner transform's value in place
            raise TracerConversionError(
                "dualtape: in-place write of a value traced by an inner transform into an "
                "array created from an outer transform's value; the write cannot be recorded "
                "on that array. Create the array from the inner value (np.zeros_like(x), "
                "np.zeros(n, like=x)) or build the result with np.stack / np.where.")
        self._become(new)

    def _become(self, other: Any) -> None:  # pragma: no cover - defined by subclasses
        raise NotImplementedError

    # ---- array methods (through the same NumPy functions) ----
    @property
    def T(self): return np.transpose(self)
    @property
    def mT(self): return np.swapaxes(self, -1, -2)
    def sum(self, axis=None, keepdims=False, **kw): return np.sum(self, axis, keepdims=keepdims)
    def mean(self, axis=None, keepdims=False, **kw): return np.mean(self, axis=axis,
                                                                    keepdims=keepdims)
    def prod(self, axis=None, keepdims=False, **kw): return np.prod(self, axis=axis,
                                                                    keepdims=keepdims)
    def max(self, axis=None, keepdims=False, **kw): return np.max(self, axis, keepdims=keepdims)
    def min(self, axis=None, keepdims=False, **kw): return np.min(self, axis, keepdims=keepdims)
    def var(self, axis=None, ddof=0, keepdims=False): return np.var(self, axis, ddof=ddof,
                                                                    keepdims=keepdims)
    def std(self, axis=None, ddof=0, keepdims=False): return np.std(self, axis, ddof=ddof,
                                                                    keepdims=keepdims)
    def cumsum(self, axis=None): return np.cumsum(self, axis=axis)
    def argmax(self, axis=None): return np.argmax(self, axis=axis)
    def argmin(self, axis=None): return np.argmin(self, axis=axis)
    def dot(self, other): return np.dot(self, other)
    def clip(self, min=None, max=None): return np.clip(self, min, max)
    def copy(self): return np.copy(self)
    def ravel(self): return np.ravel(self)
    def flatten(self): return np.ravel(self)
    def squeeze(self, axis=None): return np.squeeze(self, axis)
    def swapaxes(self, a, b): return np.swapaxes(self, a, b)

    def reshape(self, *shape, order="C"):
        return np.reshape(self, shape[0] if len(shape) == 1 else shape, order=order)

    def transpose(self, *axes):
        return np.transpose(self, axes[0] if len(axes) == 1 else (axes or None))

    def astype(self, dtype, copy=True):
        dtype = np.dtype(dtype)
        if np.issubdtype(dtype, np.floating):
            return self if dtype == self.dtype else _ASTYPE(self, dtype=dtype)
        if dtype.kind in "iub":  # integers and booleans: piecewise constant, like floor
            result = _astype_plain(plain(self), dtype)
            return leaked(_astype_plain, (self, dtype), _NO_KWARGS, result) \
                if LEAK_HOOKS else result
        raise self._conversion_error(f".astype({dtype.name})")

    def cumprod(self, axis=None): return np.cumprod(self, axis=axis)
    def trace(self, offset=0, axis1=0, axis2=1): return np.trace(self, offset, axis1, axis2)
    def diagonal(self, offset=0, axis1=0, axis2=1): return np.diagonal(self, offset, axis1, axis2)
    def repeat(self, repeats, axis=None): return np.repeat(self, repeats, axis)
    def take(self, indices, axis=None): return np.take(self, indices, axis)
    def round(self, decimals=0): return np.round(self, decimals)
    def argsort(self, axis=-1, kind=None): return np.argsort(self, axis, kind=kind)
    def nonzero(self): return np.nonzero(self)
    def any(self, axis=None, keepdims=False): return np.any(self, axis, keepdims=keepdims)
    def all(self, axis=None, keepdims=False): return np.all(self, axis, keepdims=keepdims)
    def conj(self): return np.conjugate(self)
    conjugate = conj
    @property
    def real(self): return np.real(self)
    @property
    def imag(self): return np.imag(self)

    def sort(self, axis=-1, kind=None):
        """In place, as ndarray.sort: a functional update of this traced value."""
        self[...] = np.sort(self, axis=axis, kind=kind)

    def fill(self, value):
        self[...] = value

    def __array_namespace__(self, api_version=None):  # pragma: no cover - not an array API
        raise NoRuleError("__array_namespace__")
