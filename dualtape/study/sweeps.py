"""The Wengert list of a function at a point, with its forward and reverse sweeps.

:func:`trace` records ``f`` once with the object API (``dt.Tape`` and ``dt.Tensor``
inputs) and then sweeps the recorded list twice, by hand, the way the textbooks do:

* forward: the tangent of every ``v_i`` (one column per input direction), by calling
  each entry's primitive ``jvp`` rule on the tangents of its arguments;
* reverse: the adjoint ``dy/dv_i`` of every ``v_i`` (one column per output), by
  ``Tape.backward(..., keep=True)``, which returns the adjoint of every slot.

>>> import numpy as np
>>> from dualtape.study import trace
>>> t = trace(lambda x1, x2: np.log(x1) + x1 * x2 - np.sin(x2), (2.0, 5.0))
>>> round(float(t.value), 3), [round(float(g), 3) for g in t.gradient]
(11.652, [5.5, 1.716])
>>> print(t.wengert_table())
var  definition  value
---  ----------  -------
v-1  x1          2
v0   x2          5
v1   log(v-1)    0.6931
v2   v-1 * v0    10
v3   v1 + v2     10.69
v4   sin(v0)     -0.9589
v5   v3 - v4     11.65
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import NoRuleError, TapeError
from ..registry import plain
from ..tape import Tape, Tensor
from ..wengert import format_entry, format_value
from .tables import format_table


@dataclass
class Trace:
    """A recorded Wengert list with its forward and reverse sweeps.

    Attributes:
        names: the variable of each entry (``v-1``, ``v0``, ``v1``... or ``v1``, ``v2``...).
        definitions: the right-hand side of each entry (``log(v-1)``, ``x1``...).
        values: the value of each entry (NumPy scalars or arrays).
        kinds: ``"input"`` or the primitive's name, per entry.
        parents: the indices of the entries each entry reads.
        tangents: per entry, its tangent for each input direction (leading axis).
        adjoints: per entry, its adjoint for each output component (leading axis).
        directions: labels of the input directions (``x1``, ``x2`` or ``x[0]``...).
        outputs: labels of the output components (``y`` or ``y[0]``...).
        output_index: the entry holding the output.
    """

    names: list[str]
    definitions: list[str]
    values: list[Any]
    kinds: list[str]
    parents: list[list[int]]
    tangents: list[np.ndarray]
    adjoints: list[np.ndarray]
    directions: list[str]
    outputs: list[str]
    output_index: int

    @property
    def value(self) -> Any:
        """The function's value (the last variable)."""
        return self.values[self.output_index]

    @property
    def gradient(self) -> np.ndarray:
        """The Jacobian as (outputs, input directions), read off the reverse sweep."""
        inputs = [i for i, k in enumerate(self.kinds) if k == "input"]
        cols = [self.adjoints[i].reshape(len(self.outputs), -1) for i in inputs]
        jac = np.concatenate(cols, axis=1)
        return jac[0] if len(self.outputs) == 1 else jac

    @property
    def jacobian_forward(self) -> np.ndarray:
        """The same Jacobian read off the forward sweep (tangents of the output)."""
        t = np.asarray(self.tangents[self.output_index]).reshape(len(self.directions), -1)
        return t[:, 0] if t.shape[1] == 1 else t.T

    def wengert_table(self) -> str:
        """The Wengert list: variable, definition, value."""
        rows = [(n, d, format_value(v)) for n, d, v in zip(self.names, self.definitions,
                                                          self.values, strict=False)]
        return format_table(("var", "definition", "value"), rows)

    def forward_table(self) -> str:
        """The forward sweep: the tangent of every variable, one column per direction."""
        heads = ("var", "definition", "value") + tuple(f"d/d{d}" for d in self.directions)
        rows = [(n, d, format_value(v)) + tuple(_fmt(t) for t in tan)
                for n, d, v, tan in zip(self.names, self.definitions, self.values,
                                        self.tangents, strict=False)]
        return format_table(heads, rows)

    def reverse_table(self) -> str:
        """The reverse sweep, last variable first: the adjoint ``d out / d v`` of every v."""
        heads = ("var", "definition", "value") + tuple(f"d{o}/dv" for o in self.outputs)
        rows = [(n, d, format_value(v)) + tuple(_fmt(a) for a in adj)
                for n, d, v, adj in zip(self.names, self.definitions, self.values,
                                        self.adjoints, strict=False)]
        return format_table(heads, rows[::-1])


def _fmt(v: Any) -> str:
    """format_value, with -0 shown as 0 (a zero tangent times a negative partial)."""
    try:
        return format_value(np.asarray(plain(v)) + 0.0)
    except (TypeError, ValueError):
        return format_value(v)


def _args_for(f: Callable, at: Sequence[float] | np.ndarray, vector: bool | None) -> tuple:
    """Decide whether ``at`` is one vector argument or one scalar per argument."""
    at = np.asarray(at, dtype=float)
    if vector is None:
        import inspect
        try:
            params = [p for p in inspect.signature(f).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                      and p.default is p.empty]
            vector = len(params) == 1 and at.size > 1
        except (TypeError, ValueError):
            vector = False
    if vector or at.ndim > 1:
        return (at,), [f"x[{i}]" for i in range(at.size)]
    return tuple(at.ravel()), [f"x{i + 1}" for i in range(at.size)]


def _tangent_of(tangents: list, ref: Any) -> Any:
    if ref is None:
        return None
    return tangents[ref] if type(ref) is int else tangents[ref[0]][ref[1]]


def trace(f: Callable, at: Sequence[float] | np.ndarray, *, vector: bool | None = None,
          numbering: str = "textbook") -> Trace:
    """Record ``f`` at ``at`` and sweep its Wengert list forwards and backwards.

    Args:
        f: a function of plain NumPy code, ``f(x1, x2, ...)`` of scalars or ``f(x)`` of
            one vector.
        at: the point; one number per scalar argument, or the vector.
        vector: pass ``at`` as one array argument (default: when f takes exactly one
            required positional parameter and ``at`` has several numbers).
        numbering: ``"textbook"`` numbers the inputs ``v-1, v0`` and the rest from ``v1``
            (Griewank & Walther; Baydin et al.); ``"tape"`` numbers from ``v1`` as
            ``print(tape)`` does.

    Returns:
        A :class:`Trace`.

    >>> t = trace(lambda x1, x2: x1 * x2 * (x1 + x2), (1.0, 2.0))
    >>> t.gradient
    array([8., 5.])
    """
    if numbering not in ("textbook", "tape"):
        raise ValueError(f"numbering must be 'textbook' or 'tape', got {numbering!r}")
    args, directions = _args_for(f, at, vector)
    xs = [Tensor(a, requires_grad=True) for a in args]
    with Tape() as tape:
        for x in xs:  # inputs first, in argument order, as the textbooks number them
            tape.slot_of(x)
        y = f(*xs)
    try:
        out_ref = tape.slot_of(y) if isinstance(y, Tensor) else None
    except TapeError:
        out_ref = None
    if out_ref is None:
        raise TypeError("trace: the function's output does not depend on its inputs (or is "
                        "not one array); return a single value computed from the arguments")
    entries = tape.entries
    n_dirs = len(directions)
    shift = len(xs) if numbering == "textbook" else 0

    def ref_name(r: Any) -> Any:
        return r - shift if type(r) is int else (r[0] - shift, r[1])

    names, defs, values, kinds, parents, tangents = [], [], [], [], [], []
    offset = 0
    for slot, (prim, vals, kwargs, slots, ans) in enumerate(entries):
        names.append(f"v{slot + 1 - shift}")
        if prim is None:  # an input entry: seed it with its rows of the identity
            value = np.asarray(vals)
            size = value.size
            seed = np.zeros((n_dirs, size))
            seed[offset + np.arange(size), np.arange(size)] = 1.0
            offset += size
            defs.append(f"x{len(kinds) + 1}" if value.ndim == 0 else "x")
            values.append(vals)
            kinds.append("input")
            parents.append([])
            tangents.append(seed.reshape((n_dirs,) + value.shape))
            continue
        shown = {k: v for k, v in kwargs.items() if not k.startswith("_")}  # e.g. _ctx
        defs.append(format_entry(prim, vals, shown, [None if s is None else ref_name(s)
                                                     for s in slots]))
        values.append(ans)
        kinds.append(prim.name)
        parents.append([s if type(s) is int else s[0] for s in slots if s is not None])
        if prim.jvp is None:
            raise NoRuleError(prim.name, " in forward mode (the forward sweep of trace needs "
                                         "its jvp rule)")
        tangents.append(prim.jvp([_tangent_of(tangents, s) for s in slots], ans, vals, kwargs))

    out_val = np.asarray(plain(y))
    m = out_val.size
    seed = np.eye(m).reshape((m,) + out_val.shape)
    adj = tape.backward([(out_ref, seed)], keep=True)
    adjoints = []
    for slot, a in enumerate(adj):
        shape = np.shape(plain(values[slot]))
        if isinstance(a, list):  # a multiple-results entry keeps one adjoint per result
            a = [np.zeros((m,)) if p is None else p for p in a]
        adjoints.append(np.zeros((m,) + shape) if a is None else a)
    outputs = ["y"] if out_val.ndim == 0 else [f"y[{i}]" for i in range(m)]
    return Trace(names, defs, values, kinds, parents, tangents, adjoints, directions, outputs,
                 out_ref if type(out_ref) is int else out_ref[0])
