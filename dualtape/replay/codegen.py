"""Straight-line Python source from a Program: one call per node, no NumPy dispatch.

The forward sweep calls each primitive's implementation directly; the reverse sweep
calls each vjp rule directly and accumulates adjoints (in place into buffers the
sweep created: ``accumulate``); the tangent sweep calls each jvp rule. The unbatched
gradient and tangent sweeps write elementwise and simple linear steps out as NumPy
expressions instead. Source is compiled once with ``compile()``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from ..rules.kinds import DeferredScatter, accumulate, unbroadcast, zeros_tangent
from .guards import same
from .ir import Program, Ref, value_of
from .templates import ARRAY_MATH, NOT_INLINE, templates


class Retrace(Exception):
    """A guard gave another result than at recording: the function takes another path."""

    def __init__(self, node: int) -> None:
        super().__init__(node)
        self.node = node


# ---- runtime helpers the generated code calls ----

def _batch(ct: Any, value: Any) -> tuple:
    s = np.shape(ct)
    return s[: len(s) - np.ndim(value)]


def _ct(g: Any, value: Any, batch: tuple) -> Any:
    """An adjoint ready for a rule: zeros when none arrived, scatters materialised."""
    if g is None:
        return zeros_tangent(value, batch)
    if type(g) is DeferredScatter:
        return g.materialize()
    return g


def _acc(prev: Any, c: Any, owned: bool) -> tuple[Any, bool]:
    if c is None:
        return prev, owned
    if prev is None:
        return c, False
    if type(prev) is DeferredScatter:
        prev, owned = prev.materialize(), True
    return accumulate(prev, c, owned)


def _fill(parts: list, values: tuple, batch: tuple) -> list:
    return [_ct(g, v, batch) for g, v in zip(parts, values)]


def _retrace(node: int):
    raise Retrace(node)


def _fresh_full(partial: str, full: set) -> bool:
    """Whether a partial's source surely builds a NEW array of the result's shape: it
    computes something (not a bare operand) from operands that all have that shape."""
    used = set(re.findall(r"\{(\w+)\}", partial))
    return bool(used) and used <= full and partial.strip("{}") not in full


def _no_tangent_data(a: Any) -> bool:
    """Whether operand ``a`` of a linear node is data without a tangent slot (an index, a
    mask, a shape). A float operand (``y`` in ``where(m, x, y)``, a constant block of a
    concatenate) has a zero tangent: applying the op to ``(tx, y)`` would carry ``y``."""
    if type(a) is Ref:
        return not a.diff
    if isinstance(a, (tuple, list)):
        return all(map(_no_tangent_data, a))
    return a is None or isinstance(a, (slice, str)) or np.asarray(a).dtype.kind not in "fc"


def _basic_getitem(n) -> bool:
    """x[idx] with slices, integers, None or Ellipsis only (no arrays): a view."""
    if n.fn.name != "getitem" or set(n.kwargs) != {"idx"}:
        return False
    idx = n.kwargs["idx"]
    return isinstance(idx, tuple) and all(
        isinstance(e, (slice, int, type(None), type(Ellipsis))) and not isinstance(e, bool)
        for e in idx)


def _unb(g: Any, shape: tuple) -> Any:
    return unbroadcast(g, shape, 0)


HELPERS = {"_unb": _unb, "_reshape": np.reshape, "_broadcast_to": np.broadcast_to,
           "_Scatter": DeferredScatter, "_batch": _batch, "_ct": _ct, "_acc": _acc,
           "_fill": _fill, "_same": same, "_retrace": _retrace}


class Source:
    """Emits the sweeps of one program; ``functions()`` compiles them as needed."""

    def __init__(self, prog: Program) -> None:
        self.prog = prog
        self.nodes = prog.node_map()
        self.ns: dict[str, Any] = dict(HELPERS)
        self._consts: dict[int, str] = {}
        self.params = [f"v{i}" for i in prog.inputs]
        self.static = [n for n in prog.nodes if n.kind == "input" and n.static]
        for n in self.static:
            self.ns[f"v{n.id}"] = n.value
        self.ns.update(ARRAY_MATH)
        self.makers: dict[str, Callable[[], str]] = {
            "value": self._value, "forward": self._forward, "backward": self._backward,
            "value_and_grad": self._value_and_grad, "grad": self._grad,
            "jvp": lambda: self._jvp(batched=False, values=True),
            "tangents": lambda: self._jvp(batched=False, values=False),
            "batched_tangents": lambda: self._jvp(batched=True, values=False)}
        self.accumulated = self._n_accumulated

    # ---- operands ----
    def const(self, x: Any) -> str:
        if type(x) is float and np.isfinite(x) or type(x) in (int, bool) or x is None:
            return f"({x!r})" if type(x) is not bool and x is not None and x < 0 else repr(x)
        name = self._consts.get(id(x))
        if name is None:
            name = self._consts[id(x)] = f"c{len(self._consts)}"
            self.ns[name] = x
        return name

    def operand(self, x: Any) -> str:
        if type(x) is Ref:
            return f"v{x.node}" + (f"[{x.index}]" if x.index is not None else "")
        if isinstance(x, tuple) and any(True for _ in _refs(x)):
            return "(" + "".join(self.operand(v) + ", " for v in x) + ")"
        if isinstance(x, list) and any(True for _ in _refs(x)):
            return "[" + ", ".join(self.operand(v) for v in x) + "]"
        return self.const(x)

    def kwargs_dict(self, n) -> str:
        if not n.kwargs:
            return "_NOKW"
        if not list(_refs(n.kwargs)):
            return self.const(n.kwargs)
        return "{" + ", ".join(f"{k!r}: {self.operand(v)}" for k, v in n.kwargs.items()) + "}"

    def call(self, n) -> str:
        args = [self.operand(a) for a in n.args]
        if n.kwargs:
            if list(_refs(n.kwargs)):
                args += [f"{k}={self.operand(v)}" for k, v in n.kwargs.items()]
            else:
                args.append("**" + self.const(n.kwargs))
        return f"{'P' if n.kind == 'prim' else 'G'}{n.id}({', '.join(args)})"

    # ---- the forward sweep ----
    def forward_lines(self, live: set[int] | None = None) -> list[str]:
        """The forward sweep; with ``live``, only those nodes (and every checked guard)."""
        lines = []
        for n in self.prog.nodes:
            if n.kind == "input" or live is not None and n.id not in live:
                continue
            if n.kind == "prim":
                self.ns[f"P{n.id}"] = n.fn
                if _basic_getitem(n):  # x[idx] itself: a view, no call
                    lines.append(f"v{n.id} = {self.operand(n.args[0])}"
                                 f"[{self.const(n.kwargs['idx'])}]")
                else:
                    lines.append(f"v{n.id} = {self.call(n)}")
                continue
            self.ns[f"G{n.id}"], self.ns[f"R{n.id}"] = n.fn, n.guard.result
            if n.guard.data_use:
                lines.append(f"v{n.id} = {self.call(n)}")
                if n.guard.checked:
                    lines.append(f"if not _same(v{n.id}, R{n.id}): _retrace({n.id})")
            else:
                lines.append(f"if not _same({self.call(n)}, R{n.id}): _retrace({n.id})")
        return lines

    def live_forward(self, read: set[int]) -> set[int]:
        """Nodes whose values a sweep reading ``read`` needs, with every checked guard and
        what it reads (a replay must still check every guard)."""
        live = set(read) | {n.id for n in self.prog.nodes
                            if n.kind == "guard" and n.guard.checked}
        for n in reversed(self.prog.nodes):
            if n.id in live:
                live.update(r.node for r in _refs(n.args))
                live.update(r.node for r in _refs(n.kwargs))
        return live

    def outputs(self) -> str:
        return "(" + "".join(self.operand(o) + ", " for o in self.prog.outputs) + ")"

    def _value(self) -> str:
        return _function("value", self.params, self.forward_lines(),
                         f"return {self.outputs()}")

    # ---- the reverse sweep ----
    def _inline_partials(self, n) -> tuple[str, ...] | None:
        """Partial-derivative source of an elementwise node, if it can be inlined as NumPy
        expressions (the unbatched gradient sweep: shapes are known statically)."""
        if (n.fn.scalar is None or n.kwargs or n.multiple or n.fn.name in NOT_INLINE
                or np.result_type(n.value).kind != "f"):
            return None
        if n.fn.name == "pow" and type(n.args[1]) is Ref:
            return None  # d/dy needs log at x = 0 handled as the rule does
        return templates(n)[1:]

    def _inline_structural(self, n, name: str, state: dict, needed: list, lines: list,
                           give) -> bool:
        """Unbatched adjoints of sum and basic indexing, written out: a broadcast view and
        a deferred in-place scatter (no rule call)."""
        if not needed or not needed[0] or n.multiple:
            return False
        x_shape = np.shape(value_of(self.nodes[n.args[0].node], n.args[0]))
        g = name if state[name] == "array" else f"_ct({name}, v{n.id}, _b)"
        if n.fn.name == "sum" and set(n.kwargs) == {"axis", "keepdims"}:
            axes = n.kwargs["axis"]
            kept = tuple(1 if i in axes else s for i, s in enumerate(x_shape))
            term = g if n.kwargs["keepdims"] or not kept else f"_reshape({g}, {kept!r})"
            give(n.args[0], f"_broadcast_to({term}, {x_shape!r})", "array")
            return True
        if _basic_getitem(n):
            give(n.args[0], f"_Scatter({g}, {self.const(n.kwargs['idx'])}, {x_shape!r}, "
                            f"False)")
            return True
        return False

    def backward_lines(self, inline: bool = False,
                       seeded: int | None = None) -> tuple[list[str], list[str]]:
        """Lines of the reverse sweep from cotangents ``ct0, ct1, ...`` (the first
        ``seeded`` outputs; all by default) and the gradient expression of each
        differentiated input. ``inline``: elementwise partials are written out as NumPy
        expressions (valid only for unbatched cotangents)."""
        lines, state, counts = [], {}, self._contributions()
        first = next((k for k, o in enumerate(self.prog.outputs) if type(o) is Ref), None)
        lines.append("_b = ()" if first is None or inline else
                     f"_b = _batch(ct{first}, {self.operand(self.prog.outputs[first])})")

        def adj(r: Ref) -> str:
            return f"g{r.node}" + (f"_{r.index}" if r.index is not None else "")

        def give(r: Ref, expr: str, kind: str = "maybe") -> None:
            """Add a contribution; ``kind`` "array" when it is surely a dense array."""
            name = adj(r)
            if name not in state:
                lines.append(f"{name} = {expr}")
                if counts[name] > 1:
                    lines.append(f"o{name} = False")
                state[name] = kind
            else:
                lines.append(f"{name}, o{name} = _acc({name}, {expr}, o{name})")
                state[name] = "array" if state[name] == "array" and kind == "array" else "maybe"

        for k, o in enumerate(self.prog.outputs[:seeded]):
            if type(o) is Ref and self.nodes[o.node].active:
                give(o, f"ct{k}")
        for n in reversed(self.prog.nodes):
            if n.kind != "prim" or not n.active or n.fn.kind == "zero":
                continue
            if n.multiple:
                parts = [adj(Ref(n.id, i)) for i in range(len(n.value))]
                if not any(p in state for p in parts):
                    continue
                ct = f"_fill([{', '.join(p if p in state else 'None' for p in parts)}], " \
                     f"v{n.id}, _b)"
            else:
                name = adj(Ref(n.id))
                if name not in state:
                    continue
                ct = f"_ct({name}, v{n.id}, _b)" if state[name] == "maybe" else name
            needed = [type(a) is Ref and a.diff and self.nodes[a.node].active for a in n.args]
            if inline and self._inline_structural(n, name, state, needed, lines, give):
                continue
            partials = self._inline_partials(n) if inline else None
            if partials is not None:
                if state[name] == "maybe":  # materialise once, it may be read twice
                    lines.append(f"{name} = _ct({name}, v{n.id}, _b)")
                    state[name] = "array"
                names = dict(zip("xy", (self.operand(a) for a in n.args)), ans=f"v{n.id}")
                full = {k for k, a in zip("xy", n.args) if np.shape(
                    value_of(self.nodes[a.node], a) if type(a) is Ref else a) == np.shape(
                    n.value)} | {"ans"}
                for a, p, need in zip(n.args, partials, needed):
                    if not need:
                        continue
                    if p in ("1", "-1"):
                        term = name if p == "1" else f"-{name}"
                    elif _fresh_full(p, full):  # a new array of the result's shape: reuse it
                        lines.append(f"_t = {p.format(**names)}")
                        lines.append(f"_t *= {name}")
                        term = "_t"
                    else:
                        term = f"{name} * ({p.format(**names)})"
                    shape = np.shape(value_of(self.nodes[a.node], a))
                    if shape != np.shape(n.value):
                        term = f"_unb({term}, {shape!r})"
                    give(a, term, "array")
                continue
            self.ns[f"V{n.id}"], self.ns[f"N{n.id}"] = n.fn.vjp, needed
            args = ", ".join(self.operand(a) for a in n.args)
            lines.append(f"c = V{n.id}({ct}, v{n.id}, [{args}], {self.kwargs_dict(n)}, "
                         f"N{n.id})")
            for j, a in enumerate(n.args):
                if needed[j]:
                    give(a, f"c[{j}]")
        grads = [f"_ct({adj(Ref(i))}, v{i}, _b)" if adj(Ref(i)) in state else
                 f"_ct(None, v{i}, _b)" for i in self.prog.diff_inputs]
        return lines, grads

    def _contributions(self) -> dict[str, int]:
        counts: dict[str, int] = {}

        def bump(r: Ref) -> None:
            name = f"g{r.node}" + (f"_{r.index}" if r.index is not None else "")
            counts[name] = counts.get(name, 0) + 1

        for o in self.prog.outputs:
            if type(o) is Ref:
                bump(o)
        for n in self.prog.nodes:
            if n.kind == "prim" and n.active:
                for a in n.args:
                    if type(a) is Ref and a.diff and self.nodes[a.node].active:
                        bump(a)
        return counts

    @property
    def _n_accumulated(self) -> int:
        return sum(c > 1 for c in self._contributions().values())

    def _cts(self) -> list[str]:
        return [f"ct{k}" for k in range(len(self.prog.outputs))]

    def _saved(self) -> list[str]:
        """Every value the forward sweep assigns (what the reverse sweep may read)."""
        return [f"v{n.id}" for n in self.prog.nodes
                if (n.kind == "input" and not n.static) or n.kind == "prim"
                or (n.kind == "guard" and n.guard.data_use)]

    def _forward(self) -> str:
        saved = "(" + "".join(s + ", " for s in self._saved()) + ")"
        return _function("forward", self.params, self.forward_lines(),
                         f"return {self.outputs()}, {saved}")

    def _backward(self) -> str:
        saved = self._saved()
        body, grads = self.backward_lines()
        unpack = [f"({''.join(s + ', ' for s in saved)}) = _saved"] if saved else []
        return _function("backward", ["_saved"] + self._cts(), unpack + body,
                         f"return ({''.join(g + ', ' for g in grads)})")

    def _grad(self) -> str:
        """value_and_grad for the scalar seed 1 (of the output's dtype: rules read
        ``.dtype``), elementwise partials inlined; outputs after the first are aux."""
        body, grads = self.backward_lines(inline=True, seeded=1)
        out = self.prog.outputs[0]
        if type(out) is Ref:
            out = self.nodes[out.node].value
            out = out if self.prog.outputs[0].index is None else out[self.prog.outputs[0].index]
        one = np.ones((), np.result_type(out))[()]
        seed = [f"ct0 = {self.const(one)}"]
        return _function("grad", self.params, self.forward_lines() + seed + body,
                         f"return {self.outputs()}, ({''.join(g + ', ' for g in grads)})")

    def _value_and_grad(self) -> str:
        body, grads = self.backward_lines()
        return _function("value_and_grad", self.params + self._cts(),
                         self.forward_lines() + body,
                         f"return {self.outputs()}, ({''.join(g + ', ' for g in grads)})")

    # ---- the tangent sweep ----
    def _tangent_of(self, a: Any) -> str | None:
        if type(a) is Ref and a.diff and self.nodes[a.node].active:
            return f"t{a.node}" + (f"[{a.index}]" if a.index is not None else "")
        return None

    def _inline_tangent(self, n, batched: bool) -> str | None:
        """A tangent written as a NumPy expression: elementwise nodes as the sum of
        partial * tangent, linear nodes of one traced operand as the op itself (unbatched;
        batched only basic indexing, behind the batch axis)."""
        tans = [self._tangent_of(a) for a in n.args]
        if n.fn.kind == "linear" and n.fn.name != "setitem" and not n.multiple and \
                tans[0] is not None and all(_no_tangent_data(a) for a in n.args[1:]):
            if _basic_getitem(n):
                idx = ((slice(None),) if batched else ()) + n.kwargs["idx"]
                return f"{tans[0]}[{self.const(idx)}]"
            if batched:
                return None
            args = [tans[0]] + [self.operand(a) for a in n.args[1:]]
            args += [f"{k}={self.operand(v)}" for k, v in n.kwargs.items()]
            self.ns[f"P{n.id}"] = n.fn
            return f"P{n.id}({', '.join(args)})"
        partials = self._inline_partials(n)
        if partials is None:
            return None
        names = dict(zip("xy", (self.operand(a) for a in n.args)), ans=f"v{n.id}")
        shapes = dict(zip("xy", (np.shape(value_of(self.nodes[a.node], a)) if type(a) is Ref
                                 else np.shape(a) for a in n.args)), ans=np.shape(n.value))
        terms, term_shapes = [], []
        for k, t, p in zip("xy", tans, partials):
            if t is None:
                continue
            if batched and len(shapes[k]) < len(shapes["ans"]):
                return None  # the batch axis would not line up
            used = set(re.findall(r"\{(\w+)\}", p))
            if p in ("1", "-1"):  # signed terms: x - y, not x + (-y)
                terms.append((p == "-1", t))
            else:
                terms.append((False, f"{t} * ({p.format(**names)})"))
            term_shapes.append(np.broadcast_shapes(shapes[k], *(shapes[u] for u in used)))
        if not terms:
            return None
        expr = f"(-{terms[0][1]})" if terms[0][0] else terms[0][1]
        expr += "".join(f" {'-' if minus else '+'} {term}" for minus, term in terms[1:])
        if np.broadcast_shapes(*term_shapes) != shapes["ans"]:
            if batched:
                return None
            expr = f"_broadcast_to({expr}, {shapes['ans']!r})"
        return expr

    def _jvp(self, batched: bool, values: bool) -> str:
        """A tangent sweep: for tangents with one leading batch axis (Jacobians) or for
        one direction; ``values`` also returns f's outputs. The forward part computes only
        what the tangents (and outputs, if returned) read."""
        tans = [f"t{i}" for i in self.prog.diff_inputs]
        lines = [f"_b = _batch(t{self.prog.diff_inputs[0]}, v{self.prog.diff_inputs[0]})"
                 if self.prog.diff_inputs and batched else "_b = ()"]
        for n in self.prog.nodes:
            if n.kind != "prim" or not n.active:
                continue
            expr = self._inline_tangent(n, batched)
            if expr is not None:
                lines.append(f"t{n.id} = {expr}")
                continue
            self.ns[f"J{n.id}"] = n.fn.jvp
            targs = ", ".join(self._tangent_of(a) or "None" for a in n.args)
            args = ", ".join(self.operand(a) for a in n.args)
            lines.append(f"t{n.id} = J{n.id}([{targs}], v{n.id}, [{args}], "
                         f"{self.kwargs_dict(n)})")
        outs = []
        for o in self.prog.outputs:
            if type(o) is Ref and self.nodes[o.node].active:
                outs.append(f"t{o.node}" + (f"[{o.index}]" if o.index is not None else ""))
            else:
                outs.append(f"_ct(None, {self.operand(o)}, _b)")
        tangents = f"({''.join(t + ', ' for t in outs)})"
        ret = f"return {self.outputs()}, {tangents}" if values else f"return {tangents}"
        read = {int(m) for m in re.findall(r"\bv(\d+)", "\n".join(lines) + ret)}
        name = ("batched_" if batched else "") + ("jvp" if values else "tangents")
        return _function(name, self.params + tans,
                         self.forward_lines(self.live_forward(read)) + lines, ret)

    def text(self, name: str) -> str:
        """The Python source of sweep ``name`` (one of ``makers``)."""
        return self.makers[name]()

    def compile_sweep(self, name: str) -> Callable:
        """Generate and compile one sweep (each primitive bound to its implementation)."""
        text = self.text(name)
        ns = dict(self.ns)
        ns["_NOKW"] = {}
        for n in self.prog.nodes:
            if n.kind == "prim":
                ns[f"P{n.id}"] = n.fn.impl
        exec(compile(text, f"<dualtape replay {name} {id(self.prog):x}>", "exec"), ns)
        return ns[name]

    def functions(self) -> Sweeps:
        """The sweeps by name, each generated and compiled on first use (a long program
        costs Python's compiler most of the recording time)."""
        return Sweeps(self)


class Sweeps(dict):
    """name -> compiled sweep, filled on first lookup."""

    def __init__(self, source: Source) -> None:
        super().__init__()
        self.source = source

    def __missing__(self, name: str) -> Callable:
        fn = self[name] = self.source.compile_sweep(name)
        return fn


def _refs(x: Any):
    if type(x) is Ref:
        yield x
    elif isinstance(x, (tuple, list)):
        for v in x:
            yield from _refs(v)
    elif isinstance(x, dict):
        for v in x.values():
            yield from _refs(v)


_NAME = re.compile(r"\b[vgt]\d+(?:_\d+)?\b")


def release_early(body: list[str], ret: str) -> list[str]:
    """Insert ``del`` after the last use of every array variable, so the allocator reuses
    buffers within the sweep instead of holding every intermediate to the end."""
    last: dict[str, int] = {}
    for i, line in enumerate(body):
        for name in _NAME.findall(line):
            last[name] = i
    keep = set(_NAME.findall(ret))
    dying: dict[int, list[str]] = {}
    for name, i in last.items():
        if name not in keep:
            dying.setdefault(i, []).append(name)
    out: list[str] = []
    for i, line in enumerate(body):
        out.append(line)
        if i in dying and not line.startswith("if "):
            out.append("del " + ", ".join(sorted(dying[i])))
    return out


def _function(name: str, params: list[str], body: list[str], ret: str) -> str:
    lines = [f"def {name}({', '.join(params)}):"]
    lines += ["    " + line for line in release_early(body, ret)]
    lines.append("    " + ret)
    return "\n".join(lines)
