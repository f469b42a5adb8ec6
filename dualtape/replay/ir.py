"""The recorded program as a list of nodes, and the static-graph passes over it.

A ``Program`` is a Wengert list that can be transformed: every node names its
operands by ``Ref`` (an earlier node, or one result of a multi-result node) or holds
them as constants. The passes are the ones every course on static graphs lists:

* ``fold_constants``: nodes that read only static inputs are replaced by their value;
* ``simplify_algebra``: x * 1, x - 0, -(-x) become x; uniform constant arrays scalars;
* ``eliminate_dead_code``: nodes that reach neither an output nor a checked guard go;
* ``eliminate_common_subexpressions``: a second identical call reuses the first;
* ``mark_active``: which nodes depend on a differentiated input (the others need no
  tangent and no adjoint: activity analysis).

Buffer reuse (in-place adjoint accumulation, releasing values after their last use)
happens when the program is turned into Python source (``codegen``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .guards import Guard


@dataclass(frozen=True)
class Ref:
    """An operand that is the value of node ``node`` (result ``index`` if it has several).

    ``diff`` is False for a value that is used as data without a derivative (an index
    array, a mask, a value taken out of tracing with stop_gradient).
    """

    node: int
    index: int | None = None
    diff: bool = True


@dataclass
class Node:
    """One line of the Wengert list: ``value = fn(*args, **kwargs)``.

    ``kind`` is "input", "prim" (a registered primitive) or "guard" (a plain value the
    function computed from traced ones; ``guard`` holds the recording-time facts).
    """

    id: int
    kind: str
    fn: Any = None
    args: list = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)
    value: Any = None
    multiple: bool = False
    name: str = ""
    guard: Guard | None = None
    active: bool = False
    static: bool = False


@dataclass
class Program:
    """Nodes in execution order, the output operands, and the pass log."""

    nodes: list[Node]
    inputs: list[int]            # node ids of the inputs, in call order
    diff_inputs: list[int]       # node ids of the differentiated inputs
    outputs: list[Any]           # Ref or constant per output leaf
    log: list[tuple[str, int, int]] = field(default_factory=list)

    def node_map(self) -> dict[int, Node]:
        return {n.id: n for n in self.nodes}

    def guards(self) -> list[Node]:
        return [n for n in self.nodes if n.kind == "guard" and n.guard.checked]

    def __len__(self) -> int:
        return sum(n.kind != "input" for n in self.nodes)


# ---- walking operands ----

def refs_in(x: Any) -> list[Ref]:
    """Every Ref inside an argument or keyword value (tuples, lists and dicts are searched)."""
    if type(x) is Ref:
        return [x]
    if isinstance(x, (tuple, list)):
        return [r for v in x for r in refs_in(v)]
    if isinstance(x, dict):
        return [r for v in x.values() for r in refs_in(v)]
    return []


def node_refs(n: Node) -> list[Ref]:
    return refs_in(n.args) + refs_in(n.kwargs)


def substitute(x: Any, fn) -> Any:
    """``x`` with every Ref replaced by ``fn(ref)``."""
    if type(x) is Ref:
        return fn(x)
    if isinstance(x, tuple):
        return tuple(substitute(v, fn) for v in x)
    if isinstance(x, list):
        return [substitute(v, fn) for v in x]
    if isinstance(x, dict):
        return {k: substitute(v, fn) for k, v in x.items()}
    return x


def value_of(n: Node, r: Ref) -> Any:
    return n.value if r.index is None else n.value[r.index]


# ---- the passes ----

def _logged(name: str):
    def deco(fn):
        def run(prog: Program) -> Program:
            before = len(prog)
            fn(prog)
            prog.log.append((name, before, len(prog)))
            return prog
        run.__name__, run.__doc__ = fn.__name__, fn.__doc__
        return run
    return deco


@_logged("constant folding")
def fold_constants(prog: Program) -> None:
    """Replace nodes that read only static inputs (or folded nodes) by their values."""
    const: dict[int, Node] = {n.id: n for n in prog.nodes if n.static}
    fold = lambda r: value_of(const[r.node], r) if r.node in const else r
    for n in prog.nodes:
        if n.kind == "input":
            continue
        n.args, n.kwargs = substitute(n.args, fold), substitute(n.kwargs, fold)
        if not node_refs(n):  # reads nothing that can change between calls
            const[n.id] = n
    prog.outputs = [fold(o) if type(o) is Ref else o for o in prog.outputs]
    prog.nodes = [n for n in prog.nodes if n.kind == "input" or n.id not in const]


@_logged("dead-code elimination")
def eliminate_dead_code(prog: Program) -> None:
    """Keep the nodes that an output or a checked guard reads (directly or not)."""
    live = {r.node for r in refs_in(prog.outputs)}
    live |= {n.id for n in prog.nodes if n.kind == "guard" and n.guard.checked}
    for n in reversed(prog.nodes):
        if n.id in live:
            live.update(r.node for r in node_refs(n))
    prog.nodes = [n for n in prog.nodes if n.kind == "input" or n.id in live]


def _key(x: Any) -> Any:
    """A hashable identity of an operand: Refs by node, arrays by object, scalars by value."""
    if type(x) is Ref:
        return ("r", x.node, x.index, x.diff)
    if isinstance(x, (tuple, list)):
        return (type(x).__name__,) + tuple(_key(v) for v in x)
    if isinstance(x, dict):
        return ("d",) + tuple(sorted((k, _key(v)) for k, v in x.items()))
    if isinstance(x, slice):
        return ("s", _key(x.start), _key(x.stop), _key(x.step))
    if isinstance(x, (bool, int, float, str, type(None), np.dtype, type(Ellipsis))) or (
            isinstance(x, np.generic) and x.dtype.kind != "O"):
        return ("v", type(x).__name__, repr(x))
    return ("o", id(x))


@_logged("common-subexpression elimination")
def eliminate_common_subexpressions(prog: Program) -> None:
    """A node that repeats an earlier call (same function, operands and keywords) is
    replaced by the earlier node."""
    seen: dict = {}
    alias: dict[int, int] = {}
    rename = lambda r: Ref(alias.get(r.node, r.node), r.index, r.diff)
    kept = []
    for n in prog.nodes:
        n.args, n.kwargs = substitute(n.args, rename), substitute(n.kwargs, rename)
        if n.kind == "input":
            kept.append(n)
            continue
        key = (n.kind, id(n.fn), _key(n.args), _key(n.kwargs))
        first = seen.get(key)
        if first is None:
            seen[key] = n
            kept.append(n)
            continue
        alias[n.id] = first.id
        if n.kind == "guard":
            first.guard.control |= n.guard.control
            first.guard.data_use |= n.guard.data_use
    prog.nodes = kept
    prog.outputs = [rename(o) if type(o) is Ref else o for o in prog.outputs]


def _is_constant(x: Any, c: float) -> bool:
    return type(x) is not Ref and isinstance(x, (float, int, np.ndarray, np.generic)) and \
        not isinstance(x, bool) and np.size(x) > 0 and bool(np.all(np.asarray(x) == c))


def _identity_operand(n: Node, nodes: dict[int, Node]) -> Ref | None:
    """The operand ``n`` merely passes on (x * 1, 1 * x, x - 0, -(-x); not x + 0, which
    turns -0.0 into 0.0), when doing so changes neither shape nor dtype; else None."""
    name = getattr(n.fn, "name", "")
    if n.kind != "prim" or n.kwargs or n.multiple:
        return None
    if name == "neg":
        (r,) = n.args
        inner = nodes.get(r.node) if type(r) is Ref else None
        if inner is not None and getattr(inner.fn, "name", "") == "neg" and not inner.kwargs:
            keep = inner.args[0]
            return keep if type(keep) is Ref else None
        return None
    unit = {"mul": 1.0, "sub": 0.0}.get(name)
    if unit is None or len(n.args) != 2:
        return None
    candidates = n.args[:1] if name == "sub" else n.args
    for k, r in enumerate(candidates):
        other = n.args[1 - k]
        if type(r) is Ref and _is_constant(other, unit):
            v = value_of(nodes[r.node], r)
            if np.shape(v) == np.shape(n.value) and np.result_type(v) == np.result_type(
                    n.value):
                return r
    return None


def _scalar_constants(n: Node, nodes: dict[int, Node]) -> list:
    """Operands of an elementwise node with a constant array of one repeated value
    become that value as a NumPy scalar of the same dtype, when the other operands
    already have the result's shape (same result, no array read)."""
    args = list(n.args)
    for k, a in enumerate(args):
        if not isinstance(a, np.ndarray) or a.size == 0 or a.ndim == 0:
            continue
        others = [np.shape(value_of(nodes[r.node], r)) if type(r) is Ref else np.shape(r)
                  for j, r in enumerate(args) if j != k]
        flat = a.reshape(-1)
        if np.broadcast_shapes((), *others) == np.shape(n.value) and bool(
                np.all(flat == flat[0])):
            args[k] = flat[0]
    return args


@_logged("algebraic simplification")
def simplify_algebra(prog: Program) -> None:
    """Drop operations that return an operand unchanged (multiplying by ones,
    subtracting zeros, a double negation), and read a constant array of one repeated
    value as a scalar: recorded gradients are full of broadcast seeds."""
    nodes = prog.node_map()
    alias: dict[int, Ref] = {}

    def rename(r: Ref) -> Ref:
        a = alias.get(r.node) if r.index is None else None
        return r if a is None else Ref(a.node, a.index, a.diff and r.diff)
    kept = []
    for n in prog.nodes:
        n.args, n.kwargs = substitute(n.args, rename), substitute(n.kwargs, rename)
        if n.kind == "prim" and getattr(n.fn, "kind", "") == "elementwise":
            n.args = _scalar_constants(n, nodes)
        same_as = _identity_operand(n, nodes)
        if same_as is None:
            kept.append(n)
        else:
            alias[n.id] = same_as
    prog.nodes = kept
    prog.outputs = [rename(o) if type(o) is Ref else o for o in prog.outputs]


def mark_active(prog: Program) -> Program:
    """A node is active if a differentiable operand comes from an active node."""
    active = set(prog.diff_inputs)
    for n in prog.nodes:
        n.active = n.id in active or (n.kind == "prim" and any(
            r.diff and r.node in active for r in refs_in(n.args)))
        if n.active:
            active.add(n.id)
    return prog


PASSES = (fold_constants, simplify_algebra, eliminate_dead_code,
          eliminate_common_subexpressions, eliminate_dead_code)


def optimize(prog: Program) -> Program:
    """Run every pass in order, then activity analysis."""
    for p in PASSES:
        p(prog)
    return mark_active(prog)


# ---- printing ----

def _operand(x: Any) -> str:
    if type(x) is Ref:
        return f"v{x.node}" + (f"[{x.index}]" if x.index is not None else "")
    if isinstance(x, (tuple, list)):
        inner = ", ".join(_operand(v) for v in x)
        return f"({inner}{',' if len(x) == 1 else ''})"
    if isinstance(x, np.ndarray):
        return repr(x.item()) if x.size == 1 else f"<{x.dtype}{list(x.shape)}>"
    if isinstance(x, np.generic):
        return repr(x.item())
    return repr(x)


def format_program(prog: Program) -> str:
    """The optimised Wengert list, one line per node, then the pass log."""
    lines = []
    for n in prog.nodes:
        if n.kind == "input":
            lines.append(f"v{n.id} = {n.name}{'  (static)' if n.static else ''}")
            continue
        name = getattr(n.fn, "name", None) or getattr(n.fn, "__name__", repr(n.fn))
        args = [_operand(a) for a in n.args]
        args += [f"{k}={_operand(v)}" for k, v in n.kwargs.items() if not k.startswith("_")]
        line = f"v{n.id} = {name}({', '.join(args)})"
        if n.kind == "guard":
            line += ("  # guard: must give " + repr(np.asarray(n.guard.result).tolist())
                     if n.guard.checked else "  # recomputed as data")
        elif not n.active:
            line += "  # no derivative"
        lines.append(line)
    lines.append("return " + ", ".join(_operand(o) for o in prog.outputs))
    for name, before, after in prog.log:
        lines.append(f"# {name}: {before} -> {after} nodes")
    return "\n".join(lines)
