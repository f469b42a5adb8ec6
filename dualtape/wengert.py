"""Printing a tape as the textbook Wengert list: ``v3 = log(v1) = 0.6931``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .registry import plain

_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}


def format_value(v: Any) -> str:
    """A short rendering: scalars with 4 significant digits, arrays by shape."""
    v = plain(v)
    arr = np.asarray(v)
    if arr.ndim == 0:
        return f"{arr.item():.4g}" if np.issubdtype(arr.dtype, np.number) else repr(v)
    if arr.size <= 4:
        return np.array2string(arr, precision=4, separator=", ")
    return f"<array {arr.dtype} {arr.shape}>"


def _ref(slot: Any) -> str:
    return f"v{slot + 1}" if type(slot) is int else f"v{slot[0] + 1}[{slot[1]}]"


def format_entry(prim, vals, kwargs, slots) -> str:
    """The right-hand side of one entry: ``log(v1)``, ``v1 * v2``, ``sum(v3, axis=(0,))``."""
    args = [_ref(s) if s is not None else format_value(v) for v, s in zip(vals, slots)]
    if prim.name in _SYMBOLS and len(args) == 2 and not kwargs:  # v1 * v2, the textbook way
        return f"{args[0]} {_SYMBOLS[prim.name]} {args[1]}"
    if prim.name == "neg" and not kwargs:
        return f"-{args[0]}"
    args += [f"{k}={_kw(v)}" for k, v in kwargs.items() if not k.startswith("_")]
    return f"{prim.name}({', '.join(args)})"


def _kw(v: Any) -> str:
    if isinstance(v, tuple):
        return "(" + ", ".join(_kw(e) for e in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, slice):
        return ":".join("" if p is None else str(p) for p in (v.start, v.stop)) + (
            f":{v.step}" if v.step is not None else "")
    if isinstance(v, np.ndarray):
        return f"<{v.dtype} {v.shape}>"
    return repr(v)


def tape_rows(tape) -> list[tuple[str, str, str]]:
    """``(variable, definition, value)`` for every entry of a tape."""
    rows, n_inputs = [], 0
    for slot, (prim, vals, kwargs, slots, ans) in enumerate(tape.entries):
        name = f"v{slot + 1}"
        if prim is None:
            label = slots if isinstance(slots, str) else None
            if label in ("<released>", "<freed>"):
                rows.append((name, f"{label[:-1]}: {ans}>" if ans is not None else label, ""))
                continue
            n_inputs += 1
            rows.append((name, label or f"x{n_inputs}", format_value(vals)))
        else:
            rows.append((name, format_entry(prim, vals, kwargs, slots), format_value(ans)))
    return rows


def format_tape(tape) -> str:
    rows = tape_rows(tape)
    if not rows:
        return "<empty tape>"
    w1 = max(len(r[0]) for r in rows)
    w2 = max(len(r[1]) for r in rows)
    return "\n".join(f"{a:<{w1}} = {b:<{w2}} = {c}" if c else f"{a:<{w1}} = {b}"
                     for a, b, c in rows)
