"""Scalar programs in plain Python floats: what a hand-written derivative would be.

When every value of a program is a float64 scalar and every primitive has Python-float
source (``Primitive.scalar``: value and partials as templates), the value and the
gradient are generated as inline float arithmetic and ``math`` calls, with no function
call per operation: the replayed reverse sweep of a scalar chain costs a few times the
plain function. Python floats raise where NumPy returns inf/nan (``1.0 / 0.0``,
``math.log(0.0)``); the caller then falls back to the NumPy program for that call, so
results keep NumPy's semantics.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from .codegen import Retrace
from .ir import Program, Ref
from .templates import FLOAT_MATH, templates

_SYMBOL = {operator.lt: "<", operator.le: "<=", operator.gt: ">", operator.ge: ">=",
           operator.eq: "==", operator.ne: "!=", np.less: "<", np.less_equal: "<=",
           np.greater: ">", np.greater_equal: ">=", np.equal: "==", np.not_equal: "!="}
#: Deepest expression nesting the inliner builds (CPython's parser allows ~200).
_MAX_DEPTH = 40
#: Exceptions by which Python floats signal what NumPy turns into inf/nan.
FLOAT_ERRORS = (ArithmeticError, ValueError)


def _is_scalar64(v: Any) -> bool:
    return type(v) is np.float64 or (isinstance(v, np.ndarray) and v.shape == ()
                                      and v.dtype == np.float64)


def _literal(x: Any, as_float: bool = False) -> str | None:
    """Python source of a finite real constant (a float literal if ``as_float``: a
    partial derivative such as ``{y}`` of ``x * 3`` must give a float gradient)."""
    if type(x) in (int, float) or (isinstance(x, (np.generic, np.ndarray))
                                   and np.shape(x) == () and np.result_type(x).kind in "fi"):
        v = float(x) if as_float or np.result_type(x).kind == "f" or type(x) is float \
            else int(x)
        if not math.isfinite(v):
            return None
        return f"({v!r})" if v < 0 else repr(v)
    return None


class ScalarSource:
    """Python source of ``value`` and ``value_and_grad`` in floats, or ``ok = False``."""

    def __init__(self, prog: Program) -> None:
        self.prog = prog
        self.ok = self._eligible()
        if self.ok:
            self.text = "\n\n".join([self._function("value", grad=False),
                                     self._function("value_and_grad", grad=True)])

    def _eligible(self) -> bool:
        for n in self.prog.nodes:
            if n.kind == "input":
                if not n.static and not _is_scalar64(n.value):
                    return False
            elif n.kind == "prim":
                if (n.fn.scalar is None or n.kwargs or n.multiple
                        or not _is_scalar64(n.value)):
                    return False
                if any(type(a) is not Ref and _literal(a) is None for a in n.args):
                    return False
            elif n.guard.data_use or not (n.fn is bool or n.fn in _SYMBOL):
                return False
        return all(type(o) is Ref or _literal(o) is not None for o in self.prog.outputs)

    def _operand(self, a: Any) -> str:
        return f"v{a.node}" if type(a) is Ref else _literal(a)

    def _partials_used(self, n, nodes) -> list[tuple[Any, str]]:
        """(operand, partial template) for each operand the reverse sweep differentiates."""
        return [(a, p) for a, p in zip(n.args, templates(n)[1:])
                if type(a) is Ref and a.diff and nodes[a.node].active]

    def _function(self, name: str, grad: bool) -> str:
        prog = self.prog
        nodes = prog.node_map()
        params = [f"v{i}" for i in prog.inputs]
        body = [f"v{i} = float(v{i})" for i in prog.inputs]
        # A value read once, and not by the reverse sweep, is inlined into its reader.
        uses: dict[int, int] = {}
        for n in prog.nodes:
            for a in n.args:
                if type(a) is Ref:
                    uses[a.node] = uses.get(a.node, 0) + 1
        keep = {o.node for o in prog.outputs if type(o) is Ref}
        if grad:
            for n in prog.nodes:
                if n.kind == "prim" and n.active:
                    for _, p in self._partials_used(n, nodes):
                        keep.update(a.node for key, a in zip("xy", n.args)
                                    if "{" + key + "}" in p and type(a) is Ref)
                        if "{ans}" in p:
                            keep.add(n.id)
        inline: dict[int, tuple[str, int]] = {}   # node -> (expression, nesting depth)

        def operand(a: Any) -> tuple[str, int]:
            if type(a) is Ref and a.node in inline:
                return inline.pop(a.node)
            return self._operand(a), 0

        for n in prog.nodes:
            if n.kind == "input":
                continue
            ops = [operand(a) for a in n.args]
            depth = max((d for _, d in ops), default=0) + 1
            names = dict(zip("xy", (o for o, _ in ops)))
            if n.kind == "prim":
                expr = templates(n)[0].format(**names)
                if uses.get(n.id, 0) == 1 and n.id not in keep and depth < _MAX_DEPTH:
                    inline[n.id] = (f"({expr})", depth)
                else:
                    body.append(f"v{n.id} = {expr}")
                continue
            expr = (f"{ops[0][0]}" if n.fn is bool else
                    f"{ops[0][0]} {_SYMBOL[n.fn]} {ops[1][0]}")
            negate = "not " if bool(np.asarray(n.guard.result)) else ""
            body.append(f"if {negate}({expr}): _retrace({n.id})")
        outs = [self._operand(o) for o in prog.outputs]
        if not grad:
            return _def(name, params, body, "return (" + "".join(o + ", " for o in outs) + ")")
        terms: dict[int, list[tuple[str, int]]] = {}  # adjoint contributions not yet summed
        adjoint: dict[int, tuple[str, int]] = {}

        def settle(n) -> tuple[str, int] | None:
            """The adjoint of node n: its terms summed, inlined if read once."""
            i = n.id
            if i not in adjoint and i in terms:
                ts = terms.pop(i)
                depth = max(d for _, d in ts) + 1
                total = " + ".join(t for t, _ in ts).replace("+ -", "- ")
                reads = len(self._partials_used(n, nodes)) if n.kind == "prim" else 2
                if len(ts) == 1 and _is_atom(total):
                    adjoint[i] = (total, ts[0][1])
                elif reads == 1 and depth < _MAX_DEPTH:
                    adjoint[i] = (f"({total})", depth)
                else:
                    body.append(f"g{i} = {total}")
                    adjoint[i] = (f"g{i}", 0)
            return adjoint.get(i)

        o = prog.outputs[0]
        if type(o) is Ref and nodes[o.node].active:
            terms[o.node] = [("1.0", 0)]
        for n in reversed(prog.nodes):
            if n.kind != "prim" or not n.active:
                continue
            settled = settle(n)
            if settled is None:
                continue
            g, depth = settled
            names = dict(zip("xy", (f"v{a.node}" if type(a) is Ref else _literal(a, True)
                                    for a in n.args)), ans=f"v{n.id}")
            for a, partial in self._partials_used(n, nodes):
                if partial == "1":
                    term = g
                elif partial == "-1":
                    term = g[1:] if g.startswith("-") else "-" + g
                else:
                    p = partial.format(**names)
                    p = p if _is_atom(p) else f"({p})"
                    term = p if g == "1.0" else f"{g} * {p}"
                terms.setdefault(a.node, []).append((term, depth))
        grads = [(settle(nodes[i]) or ("0.0", 0))[0] for i in prog.diff_inputs]
        ret = ("return (" + "".join(o + ", " for o in outs) + "), ("
               + "".join(g + ", " for g in grads) + ")")
        return _def(name, params, body, ret)

    def functions(self) -> dict[str, Callable]:
        ns: dict[str, Any] = dict(FLOAT_MATH)
        ns["_retrace"] = _retrace
        exec(compile(self.text, f"<dualtape scalar replay {id(self.prog):x}>", "exec"), ns)
        return {"value": ns["value"], "value_and_grad": ns["value_and_grad"]}


def _is_atom(expr: str) -> bool:
    """A name or a number (optionally negated): safe to repeat and to multiply unbracketed."""
    e = expr[1:] if expr.startswith("-") else expr
    return e.replace(".", "").replace("_", "").isalnum() or (e.startswith("(") and
                                                              e.endswith(")") and
                                                              e.count("(") == 1)


def _retrace(node: int):
    raise Retrace(node)


def _def(name: str, params: list[str], body: list[str], ret: str) -> str:
    return "\n".join([f"def {name}({', '.join(params)}):"] + ["    " + b for b in body]
                     + ["    " + ret])
