"""Forward mode: ``Dual``, a value plus a batch of tangents.

A Dual applies a primitive by running it on the values (one level down) and the
primitive's jvp rule on the tangents. Tangents have the value's shape, or one extra
leading batch axis of k directions (``jacfwd`` pushes k columns of the identity at once).

>>> import numpy as np, dualtape as dt
>>> x = dt.Dual(3.0, 1.0)
>>> y = np.sin(x) * x
>>> round(float(y.value), 4), round(float(y.tangent), 4)
(0.4234, -2.8289)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import debug
from .dispatch import Traced
from .registry import Box, Primitive, plain
from .rules.kinds import shape_of

#: Level of Duals made by hand (``dt.Dual(x, t)``); transforms use fresh higher levels.
USER_LEVEL = 0


class Dual(Traced):
    """A dual number (or array): ``value + tangent * eps`` with ``eps**2 == 0``.

    Args:
        value: the primal value (array or scalar).
        tangent: its derivative along one direction (same shape as ``value``), or with
            ``batched=True`` a stack of k directions (shape ``(k,) + value.shape``).
        batched: whether ``tangent`` carries a leading batch axis.
    """

    __slots__ = ("_value", "_tangent", "_level", "_batched")

    def __init__(self, value: Any, tangent: Any = None, *, batched: bool = False) -> None:
        value = _as_float(value)
        if tangent is None:
            tangent = np.ones_like(value)
        tangent = np.asarray(tangent, dtype=np.result_type(value))
        expect = ((tangent.shape[0],) if batched and tangent.ndim else ()) + np.shape(value)
        if tangent.shape != expect:
            from .errors import ShapeError
            raise ShapeError(f"Dual: tangent shape {tangent.shape} does not match value shape "
                             f"{np.shape(value)}{' with a leading batch axis' if batched else ''}")
        self._value, self._tangent, self._level = value, tangent, USER_LEVEL
        self._batched = batched

    @classmethod
    def _make(cls, value: Any, tangent: Any, level: int, batched: bool = True) -> Dual:
        d = object.__new__(cls)
        d._value, d._tangent, d._level, d._batched = value, tangent, level, batched
        return d

    @property
    def value(self) -> Any:
        """The primal value."""
        return self._value

    @property
    def tangent(self) -> Any:
        """The tangent (with its batch axis if the Dual was built batched)."""
        return self._tangent

    def _apply(self, prim: Primitive, args: tuple, kwargs: dict) -> Any:
        level = self._level
        vals, tans, lower = [], [], False
        for a in args:
            if isinstance(a, Dual) and a._level == level:
                tans.append(a._tangent)
                a = a._value
            else:
                tans.append(None)
            if isinstance(a, Box):  # an outer transform's value: dispatch again below
                lower = True
            vals.append(a)
        ans = prim(*vals, **kwargs) if lower else prim.impl(*vals, **kwargs)
        if not prim.differentiable:
            return ans
        if prim.jvp is None:
            from .errors import NoRuleError
            raise NoRuleError(prim.name, " in forward mode (it has no jvp rule)")
        out = prim.jvp(tans, ans, vals, kwargs)
        if debug.active:
            where = debug.forward_index()
            debug.check(prim, "value", ans, vals, where, "forward")
            debug.check(prim, "tangent", out, (tans, vals), where, "forward")
        batched = self._batched
        if prim.multiple_results:
            return tuple(Dual._make(a, t, level, batched) for a, t in zip(ans, out))
        return Dual._make(ans, out, level, batched)

    def _become(self, other: Any) -> None:
        if not isinstance(other, Dual) or other._level != self._level:
            other = Dual._make(other, np.zeros(shape_of(self._tangent), np.result_type(
                plain(other))), self._level, self._batched)
        self._value, self._tangent = other._value, other._tangent

    def __repr__(self) -> str:
        return f"Dual(value={_short(self._value)}, tangent={_short(self._tangent)})"


def _as_float(value: Any) -> Any:
    if isinstance(value, Traced):
        return value
    arr = np.asarray(value)
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    return arr if arr.ndim else arr[()]


def _short(v: Any) -> str:
    if isinstance(v, Traced):
        return repr(v)
    arr = np.asarray(v)
    return np.array2string(arr, precision=6, threshold=20) if arr.ndim else f"{arr.item():.6g}"
