"""Branch guards: the plain values a recording computed FROM its inputs.

A comparison, ``bool()``, ``argmax`` or ``.astype(int)`` on a traced value gives a
plain result the function may branch on. While ``dt.compile`` records, each one is
kept as a ``Guard`` (the function, which tape slots it read, the result it gave). A
replay recomputes it from the new values; a different result means the function
would take another path, so the replay is abandoned and the function re-recorded.

A boolean mask that only feeds a recorded primitive as data (``np.where(x > 0, a, b)``,
``mask * x``) needs no guard: the replay recomputes the mask and passes it on. The
mask is handed out as a ``Mask`` (an ndarray subclass) that notices any other use
(``if``, ``any()``, arithmetic, NumPy functions) and then keeps its guard.
"""

from __future__ import annotations

import operator
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..registry import DATA_FUNCTIONS, LEAK_HOOKS, Box
from ..tape import Tensor

#: NumPy functions whose result depends only on shapes (fixed by the input shapes).
SHAPE_ONLY = frozenset({np.shape, np.ndim, np.size, np.result_type, np.iscomplexobj,
                        np.isrealobj, np.isscalar})
_COMPARISONS = frozenset({operator.lt, operator.le, operator.gt, operator.ge, operator.eq,
                          operator.ne, np.less, np.less_equal, np.greater, np.greater_equal,
                          np.equal, np.not_equal, np.logical_and, np.logical_or,
                          np.logical_not, np.logical_xor, np.isnan, np.isfinite, np.isinf})


@dataclass
class Guard:
    """``func(*args, **kwargs)`` gave ``result`` at recording time.

    ``args`` hold ``("ref", slot_ref)`` for traced operands and ``("const", value)``
    otherwise; ``position`` is the number of tape entries recorded before it.
    """

    func: Any
    args: list
    kwargs: dict
    result: Any
    position: int
    control: bool = True      # influenced Python control flow (or was used untracked)
    data_use: bool = False    # fed a recorded primitive as data
    mask: Any = field(default=None, repr=False)

    @property
    def checked(self) -> bool:
        """Checked on replay: it steered control flow, or we cannot prove it did not."""
        return self.control or not self.data_use

    def describe(self) -> str:
        name = getattr(self.func, "__name__", repr(self.func))
        return f"{name} -> {_short(self.result)}"


def _short(r: Any) -> str:
    a = np.asarray(r)
    return repr(a.item()) if a.size == 1 else f"array{a.shape}"


def same(a: Any, b: Any) -> bool:
    """Whether a recomputed guard result equals the recorded one (shape, dtype, values)."""
    if isinstance(b, tuple):
        return isinstance(a, tuple) and len(a) == len(b) and all(map(same, a, b))
    if type(b) is bool or type(a) is bool:
        return bool(a) == bool(b)
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


class Mask(np.ndarray):
    """A traced comparison's boolean result (or a rule's observed data), handed out while
    recording.

    Passing it to a recorded primitive lets the replay recompute it; any other use
    (``bool()``, methods, NumPy functions) marks its guard as control flow.
    """

    _guard: Guard | None = None

    def _used(self) -> np.ndarray:
        guard = self._guard
        if guard is not None and not guard.control and not _inside_a_primitive():
            guard.control = True
        return self.view(np.ndarray)

    def __array_finalize__(self, obj: Any) -> None:
        self._guard = getattr(obj, "_guard", None)

    def __bool__(self) -> bool:
        return bool(self._used())

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if any(isinstance(a, Box) for a in inputs):
            return NotImplemented  # a traced operand: its primitive records the mask as data
        self._used()
        inputs = tuple(a.view(np.ndarray) if isinstance(a, Mask) else a for a in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        if any(issubclass(t, Box) for t in types):
            return NotImplemented
        self._used()
        return func(*_unmask(args), **_unmask(kwargs))

    def __getitem__(self, idx):
        return self._used()[idx]

    def __iter__(self):
        return iter(self._used())

    def __len__(self) -> int:
        return len(self._used())

    def __index__(self) -> int:
        return operator.index(self._used())

    def __int__(self) -> int:
        return int(self._used())

    def __float__(self) -> float:
        return float(self._used())

    def tolist(self):
        return self._used().tolist()

    def item(self, *args):
        return self._used().item(*args)

    def __repr__(self) -> str:
        return repr(self.view(np.ndarray))


def _unmask(x: Any) -> Any:
    if isinstance(x, Mask):
        return x.view(np.ndarray)
    if isinstance(x, (list, tuple)):
        return type(x)(_unmask(v) for v in x)
    if isinstance(x, dict):
        return {k: _unmask(v) for k, v in x.items()}
    return x


_APPLY_CODE = Tensor._apply.__code__


def _inside_a_primitive() -> bool:
    """Whether the caller runs inside a primitive's implementation (``Tensor._apply`` is on
    the stack below the recording): such a use is replayed with the new mask anyway."""
    base = _recorders.stack[-1].base_frame if _recorders.stack else None
    frame = sys._getframe(2)
    while frame is not None and frame is not base:
        if frame.f_code is _APPLY_CODE:
            return True
        frame = frame.f_back
    return False


class _Recorders(threading.local):
    def __init__(self) -> None:
        self.stack: list = []


_recorders = _Recorders()
_hook_lock = threading.Lock()
_watchers = 0


def _on_leak(func: Any, args: tuple, kwargs: dict, result: Any) -> Any:
    if not _recorders.stack or func in SHAPE_ONLY:
        return result
    return _recorders.stack[-1].guard(func, args, kwargs, result)


class watching:
    """Context manager: route leaks in this thread to ``recorder.guard(...)``."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder

    def __enter__(self) -> None:
        global _watchers
        _recorders.stack.append(self.recorder)
        with _hook_lock:  # one hook however many threads record
            _watchers += 1
            if _watchers == 1:
                LEAK_HOOKS.append(_on_leak)

    def __exit__(self, *exc: Any) -> None:
        global _watchers
        _recorders.stack.pop()
        with _hook_lock:
            _watchers -= 1
            if _watchers == 0:
                LEAK_HOOKS.remove(_on_leak)


def as_mask(func: Any, result: Any, guard: Guard) -> Any:
    """Wrap a comparison result (or a rule's observed data: weights, an ordering) so that
    its uses can be told apart."""
    if func in _COMPARISONS:
        wrap = np.bool_
    elif func in DATA_FUNCTIONS:
        wrap = np.generic
    else:
        return result
    if isinstance(result, np.ndarray) and np.issubdtype(result.dtype, wrap):
        mask = result.view(Mask)
    elif isinstance(result, wrap):
        mask = np.asarray(result).view(Mask)
    else:
        return result
    mask._guard = guard
    guard.control = False
    guard.mask = mask
    return mask
