"""Reverse mode: the ``Tape`` (a Wengert list) and ``Tensor``, the value it traces.

Each primitive call on a Tensor appends ONE entry ``(prim, args, kwargs, slots, ans)``
to a flat list; ``slots`` names which arguments are earlier entries (by index), so a
recorded list can be replayed on new inputs. ``backward`` is a single loop over the
list in reverse, accumulating adjoints with ``+``; it never recurses, and it drops
each entry once used (unless the graph is retained).

Two ways in:

* transforms (``grad``, ``vjp``, ``jacrev``...) make a private tape per call;
* the object API records on the thread's current tape (a ``with dt.Tape()`` block or
  the implicit default tape), PyTorch style::

      >>> import numpy as np, dualtape as dt
      >>> x = dt.Tensor(np.array([2.0, 5.0]), requires_grad=True)
      >>> y = np.log(x[0]) + x[0] * x[1] - np.sin(x[1])
      >>> y.backward()
      >>> x.grad.round(3)
      array([5.5  , 1.716])
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from . import debug
from .dispatch import Traced
from .errors import NonDifferentiableInputError, ShapeError, TapeError
from .registry import Box, Primitive, plain
from .rules.kinds import DeferredScatter, accumulate, batch_of, zeros_tangent

#: Level of the object API's tapes; transforms use fresh levels above it.
OBJECT_LEVEL = 1


class _ThreadState(threading.local):
    def __init__(self) -> None:
        self.tapes: list[Tape] = []      # open `with dt.Tape()` blocks, innermost last
        self.default: Tape | None = None
        self.grad_enabled = True


_state = _ThreadState()


def current_tape() -> Tape:
    """The tape the object API records on in this thread."""
    if _state.tapes:
        return _state.tapes[-1]
    tape = _state.default
    if tape is None or tape.freed:
        tape = _state.default = Tape()
    return tape


class no_grad:
    """Context manager (and decorator) in which Tensor operations are not recorded.

    >>> import numpy as np, dualtape as dt
    >>> w = dt.Tensor(np.ones(2), requires_grad=True)
    >>> with dt.no_grad():
    ...     v = w * 2.0
    >>> v.requires_grad
    False
    """

    def __enter__(self) -> None:
        self._prev = _state.grad_enabled
        _state.grad_enabled = False

    def __exit__(self, *exc: Any) -> None:
        _state.grad_enabled = self._prev

    def __call__(self, fn):
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)
        wrapper.__doc__, wrapper.__name__ = fn.__doc__, fn.__name__
        return wrapper


def is_grad_enabled() -> bool:
    return _state.grad_enabled


class Tape:
    """A Wengert list. Use ``with dt.Tape() as tape:`` to record and print one.

    ``print(tape)`` lists ``v1 = x1``, ``v3 = log(v1)``, ... with values.
    """

    __slots__ = ("entries", "level", "closed", "freed", "__weakref__")

    def __init__(self, level: int = OBJECT_LEVEL) -> None:
        self.entries: list = []
        self.level = level
        self.closed = False
        self.freed = False

    # ---- recording ----
    def __enter__(self) -> Tape:
        if self.level != OBJECT_LEVEL or self.closed:
            raise TapeError("dualtape: a Tape can be entered once, as `with dt.Tape() as t:`")
        _state.tapes.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        _state.tapes.remove(self)
        self.closed = True

    def add_input(self, value: Any, leaf: Tensor | None = None, name: str | None = None) -> int:
        """Append an input entry (``v_i = x_j``) and return its slot."""
        self.entries.append((None, value, leaf, name, None))
        return len(self.entries) - 1

    def slot_of(self, t: Tensor) -> Any:
        """The slot of object-API tensor ``t`` on this tape, registering leaves lazily."""
        if t._tape is self:
            return t._ref
        if t._leaf:
            t._tape, t._slot = self, self.add_input(t._value, leaf=t)
            t._ref = t._slot
            return t._slot
        other = t._tape
        if other is not None and other.freed:
            return self.add_input(t._value, name="<freed>")
        if other is not None and other.closed:
            raise TapeError("dualtape: this Tensor was recorded on a Tape whose `with` block has "
                            "ended; no new operations can be recorded on it. Use t.detach() to "
                            "continue from its value, or record inside the block.")
        raise TapeError("dualtape: this Tensor belongs to another tape (an enclosing "
                        "`with dt.Tape()` block); use t.detach() to use its value here.")

    def record(self, prim: Primitive, vals: list, kwargs: dict, slots: list, ans: Any,
               level: int) -> Any:
        slot = len(self.entries)
        if debug.active:
            debug.check(prim, "value", ans, vals, f"Wengert entry v{slot + 1}", "reverse")
            debug.remember(self, slot)
        self.entries.append((prim, vals, kwargs, slots, ans))
        if prim.multiple_results:
            return tuple(Tensor._make(a, self, slot, i, level) for i, a in enumerate(ans))
        return Tensor._make(ans, self, slot, None, level)

    # ---- the reverse sweep ----
    def backward(self, seeds: list[tuple[Any, Any]], keep: bool = False) -> list:
        """Sweep the list once in reverse from the seeded slots.

        Args:
            seeds: ``(slot_ref, cotangent)`` pairs; cotangents may carry a batch axis.
            keep: keep the entries for another sweep (``retain_graph``).

        Returns:
            The adjoint of every slot (``None`` where no cotangent arrived); the adjoints
            of inputs are what the caller wants.
        """
        entries = self.entries
        if self.freed:
            raise TapeError("dualtape: backward through a graph that was already freed by an "
                            "earlier backward(); pass retain_graph=True to the first call if "
                            "you need to sweep it twice.")
        adj: list = [None] * len(entries)
        owned: set = set()  # slots whose adjoint buffer this sweep created (safe to += into)
        top = -1
        for ref, ct in seeds:
            _accumulate(entries, adj, ref, ct)
            top = max(top, ref if type(ref) is int else ref[0])
        for s in range(top, -1, -1):
            ct = adj[s]
            entry = entries[s]
            if ct is None or entry[0] is None:
                continue
            prim, vals, kwargs, slots, ans = entry
            if prim.multiple_results:
                ct = _fill_zeros(ct, ans)
            cts = prim.vjp(ct, ans, vals, kwargs, [sl is not None for sl in slots])
            if debug.active:
                debug.check(prim, "cotangent", cts, (ct, vals), f"Wengert entry v{s + 1}",
                            "reverse", debug.recorded_at(self, s))
            if len(cts) != len(slots):
                raise TapeError(f"dualtape: the vjp rule of {prim.name} returned {len(cts)} "
                                f"cotangents for {len(slots)} arguments")
            for sl, c in zip(slots, cts):
                if sl is None or c is None:
                    continue
                if type(sl) is int:
                    prev = adj[sl]
                    if prev is None and type(c) is not DeferredScatter:
                        adj[sl] = c
                        continue
                    adj[sl], mine = accumulate(prev, c, sl in owned)
                    if mine:
                        owned.add(sl)
                else:
                    _accumulate(entries, adj, sl, c)
            if not keep:
                entries[s] = (None, None, None, "<released>", prim)
                adj[s] = None
        return adj

    def __len__(self) -> int:
        return len(self.entries)

    def __str__(self) -> str:
        from .wengert import format_tape
        return format_tape(self)

    def __repr__(self) -> str:
        return f"<Tape level={self.level} entries={len(self.entries)}>"




def _accumulate(entries: list, adj: list, ref: Any, ct: Any) -> None:
    if type(ref) is int:
        prev = adj[ref]
        adj[ref] = ct if prev is None else prev + ct
        return
    s, i = ref
    parts = adj[s]
    if parts is None:
        parts = adj[s] = [None] * len(entries[s][4])
    parts[i] = accumulate(parts[i], ct, False)[0]


def _fill_zeros(cts: list, ans: tuple) -> list:
    c0, a0 = next((c, a) for c, a in zip(cts, ans) if c is not None)
    batch = batch_of(c0, a0)
    return [c if c is not None else zeros_tangent(a, batch) for c, a in zip(cts, ans)]


_new = object.__new__


class Tensor(Traced):
    """A traced value of reverse mode (the object API's autograd tensor).

    Args:
        data: the value (array-like).
        requires_grad: record operations on it and accumulate ``.grad`` in ``backward()``.

    >>> import numpy as np, dualtape as dt
    >>> a = dt.Tensor(2.0, requires_grad=True); b = dt.Tensor(-3.0, requires_grad=True)
    >>> d = a * b + a
    >>> d
    Tensor(-4, grad_fn=add)
    >>> d.backward(); float(a.grad), float(b.grad)
    (-2.0, 2.0)
    """

    __slots__ = ("_value", "_tape", "_slot", "_ref", "_level", "requires_grad", "grad",
                 "_leaf", "__weakref__")

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        value = plain(data) if isinstance(data, Tensor) else np.asarray(data)
        if requires_grad and not np.issubdtype(value.dtype, np.floating):
            raise NonDifferentiableInputError(
                f"dualtape: Tensor(requires_grad=True) needs floating-point data, got dtype "
                f"{value.dtype}; pass e.g. np.asarray(data, dtype=float)")
        self._value, self._tape, self._slot, self._ref = value, None, -1, -1
        self._level, self.requires_grad, self.grad, self._leaf = OBJECT_LEVEL, requires_grad, \
            None, True

    @classmethod
    def _make(cls, value: Any, tape: Tape | None, slot: int, index: int | None,
              level: int, requires_grad: bool = True) -> Tensor:
        t = object.__new__(cls)
        t._value, t._tape, t._slot, t._level = value, tape, slot, level
        t._ref = slot if index is None else (slot, index)
        t.requires_grad, t.grad, t._leaf = requires_grad, None, False
        return t

    # ---- applying primitives ----
    def _apply(self, prim: Primitive, args: tuple, kwargs: dict) -> Any:
        level = self._level
        if level == OBJECT_LEVEL:
            return _apply_object(prim, args, kwargs)
        tape = self._tape
        if tape.closed:
            raise TapeError("dualtape: a traced value escaped its transform and was used after "
                            "the transform returned; return it from the function instead.")
        vals, slots, lower = [], [], False
        for a in args:
            if isinstance(a, Tensor) and a._level == level:
                slots.append(a._ref)
                a = a._value
            else:
                slots.append(None)
            if isinstance(a, Box):  # an outer transform's value: dispatch again below
                lower = True
            vals.append(a)
        ans = prim(*vals, **kwargs) if lower else prim.impl(*vals, **kwargs)
        if not prim.differentiable:
            return ans
        entries = tape.entries
        slot = len(entries)
        if debug.active:
            debug.check(prim, "value", ans, vals, f"Wengert entry v{slot + 1}", "reverse")
            debug.remember(tape, slot)
        entries.append((prim, vals, kwargs, slots, ans))
        if prim.multiple_results:
            return tuple(Tensor._make(a, tape, slot, i, level) for i, a in enumerate(ans))
        t = _new(Tensor)
        t._value, t._tape, t._slot, t._ref, t._level = ans, tape, slot, slot, level
        t.requires_grad, t.grad, t._leaf = True, None, False
        return t

    def _become(self, other: Any) -> None:
        if self._leaf and self.requires_grad and _state.grad_enabled:
            raise TapeError("dualtape: in-place write into a leaf Tensor that requires grad; "
                            "write into a copy (y = x.copy(); y[i] = ...) or use dt.no_grad()")
        if not isinstance(other, Tensor):
            other = Tensor(other)
        self._value, self._tape, self._slot, self._ref = (other._value, other._tape,
                                                          other._slot, other._ref)
        self.requires_grad, self._leaf = other.requires_grad, other._leaf and self._leaf

    # ---- the object API ----
    @property
    def data(self) -> Any:
        """The value, without its history."""
        return self._value

    @data.setter
    def data(self, value: Any) -> None:
        self._value = np.asarray(value) if not isinstance(value, Traced) else value

    @property
    def is_leaf(self) -> bool:
        return self._leaf or not self.requires_grad

    @property
    def grad_fn(self) -> Primitive | None:
        """The primitive that produced this tensor (None for leaves)."""
        if self.is_leaf or self._tape is None or self._slot >= len(self._tape.entries):
            return None
        entry = self._tape.entries[self._slot]
        return entry[0] if entry[0] is not None else entry[4]  # a released entry keeps it

    def detach(self) -> Any:
        """The same value as a constant (no history)."""
        if self._level == OBJECT_LEVEL:
            return Tensor(self._value)
        return self._value

    def numpy(self) -> np.ndarray:
        return np.asarray(plain(self))

    def item(self) -> Any:
        """The Python scalar of a one-element tensor (object API only)."""
        if self._level != OBJECT_LEVEL:
            raise self._conversion_error(".item()")
        return np.asarray(plain(self)).item()

    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Accumulate d self / d leaf into ``leaf.grad`` for every leaf it depends on.

        Args:
            gradient: the cotangent of ``self``; required unless ``self`` has one element.
            retain_graph: keep the recorded graph for another ``backward()``.
        """
        if self._level != OBJECT_LEVEL:
            raise TapeError("dualtape: backward() is for the object API; inside a transform "
                            "use dt.grad / dt.vjp")
        if not self.requires_grad:
            raise TapeError("dualtape: backward() on a Tensor that does not require grad (no "
                            "input had requires_grad=True, or it was computed under no_grad)")
        value = plain(self._value)
        if gradient is None:
            if np.size(value) != 1:
                raise ShapeError(f"dualtape: backward() without `gradient` needs a one-element "
                                 f"tensor, got shape {np.shape(value)}; pass gradient= of that "
                                 f"shape (the vector in the vector-Jacobian product)")
            seed = np.ones_like(value)
        else:
            seed = np.asarray(plain(gradient), dtype=np.result_type(value))
            if seed.shape != np.shape(value):
                raise ShapeError(f"dualtape: backward(gradient) has shape {seed.shape}, "
                                 f"expected {np.shape(value)}")
        if self._leaf:
            self.grad = seed.copy() if self.grad is None else self.grad + seed
            return
        tape = self._tape
        ref = self._ref
        adj = tape.backward([(ref, seed)], keep=retain_graph)
        for slot, entry in enumerate(tape.entries[: (ref if type(ref) is int else ref[0]) + 1]):
            if entry[0] is None and adj[slot] is not None:
                leaf = entry[2]
                if entry[3] == "<freed>":
                    raise TapeError("dualtape: backward() reached a Tensor whose graph was freed "
                                    "by an earlier backward(); pass retain_graph=True there, or "
                                    "detach() it before reusing it")
                if leaf is not None:
                    g = np.asarray(plain(adj[slot]))
                    leaf.grad = g.copy() if leaf.grad is None else leaf.grad + g
        if not retain_graph:
            tape.freed = True

    def __repr__(self) -> str:
        from .dual import _short
        fn = self.grad_fn
        extra = f", grad_fn={fn.name}" if fn is not None else (
            ", requires_grad=True" if self.requires_grad else "")
        return f"Tensor({_short(self._value)}{extra})"


def _apply_object(prim: Primitive, args: tuple, kwargs: dict) -> Any:
    """Object-API recording: on the current tape, unless no input requires grad."""
    recording = _state.grad_enabled
    tape = current_tape() if recording else None
    vals, slots, tracked = [], [], False
    for a in args:
        if isinstance(a, Tensor) and a._level == OBJECT_LEVEL:
            vals.append(a._value)
            if recording and a.requires_grad:
                slots.append(tape.slot_of(a))
                tracked = True
            else:
                slots.append(None)
        else:
            vals.append(a)
            slots.append(None)
    ans = prim(*vals, **kwargs)
    if not prim.differentiable:
        return ans
    if not tracked:
        if prim.multiple_results:
            return tuple(Tensor._make(a, None, -1, None, OBJECT_LEVEL, False) for a in ans)
        return Tensor._make(ans, None, -1, None, OBJECT_LEVEL, False)
    return tape.record(prim, vals, kwargs, slots, ans, OBJECT_LEVEL)



