"""Recording: run the function once on traced inputs and turn its tape into a Program.

Every array (and float) leaf of a non-static argument becomes a program input, so it
may change between calls: differentiated ones (``argnums``) and data (a batch, labels)
alike. Static arguments are baked in and compared on every call; float arrays among
them are traced too, marked static, so that constant folding can evaluate what
depends only on them once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import TapeError
from ..registry import Box
from ..tape import Tape, Tensor
from ..transforms import as_input, new_level, split_aux
from ..tree import TreeSpec, flatten, unflatten
from .guards import Guard, as_mask, watching
from .ir import Node, Program, Ref, substitute

#: Keyword arguments whose array values decide the SHAPE of a result (boolean masks as
#: indices): a mask used there is always guarded.
SHAPE_KWARGS = frozenset({"idx"})


@dataclass
class Layout:
    """How call arguments map to program inputs, and outputs back to a result.

    ``args[i]`` is ``("static", value)`` or ``("tree", spec, leaves)`` where each leaf
    is ``("input", node_id)`` or ``("static", value)``.
    """

    args: list
    out_spec: TreeSpec
    n_out: int                  # leaves of the main output (the aux leaves follow)
    aux_spec: TreeSpec | None
    argnums: tuple
    in_shapes: tuple            # (shape, dtype) per input, in input order


def _is_dynamic(leaf: Any) -> bool:
    return isinstance(leaf, (np.ndarray, np.generic, float)) and not isinstance(leaf, bool)


def _fresh(leaf: Any) -> Any:
    """A private copy: identity with the user's own objects must never be mistaken for
    data flow (a constant inside f may be the very array passed in)."""
    if isinstance(leaf, np.ndarray):
        return leaf.copy()
    return np.array(leaf, dtype=np.float64 if type(leaf) is float else None)[()]


class Recorder:
    """Records f on a private tape, collecting guards from the leak hooks."""

    def __init__(self) -> None:
        self.level = new_level()
        self.tape = Tape(self.level)
        self.guards: list[Guard] = []
        self.base_frame = None

    def _operand(self, a: Any) -> Any:
        x = a
        while isinstance(x, Box):
            if isinstance(x, Tensor) and x._tape is self.tape:
                return Ref(*((x._ref, None) if type(x._ref) is int else x._ref), diff=False)
            x = x._value
        if isinstance(a, (tuple, list)):
            return type(a)(self._operand(v) for v in a)
        return x

    def guard(self, func: Any, args: tuple, kwargs: dict, result: Any) -> Any:
        """A plain value computed from traced ones: remember how, and what it gave."""
        ops = [self._operand(a) for a in args]
        kws = {k: self._operand(v) for k, v in kwargs.items()}
        plain_result = result.view(np.ndarray) if isinstance(result, np.ndarray) else result
        g = Guard(func, ops, kws, plain_result, len(self.tape.entries))
        self.guards.append(g)
        return as_mask(func, result, g)

    def run(self, f: Callable, args: tuple, argnums: tuple, static: frozenset,
            has_aux: bool, fname: str) -> tuple[Program, Layout]:
        tape, level = self.tape, self.level
        layout_args, new_args, inputs, shapes = [], [], [], []
        diff_of: dict[int, list] = {i: [] for i in argnums}  # gradients come in argnums order
        static_inputs: set = set()
        for i, a in enumerate(args):
            if i in static:
                layout_args.append(("static", a))
                if isinstance(a, np.ndarray) and a.dtype.kind == "f":  # traced, to fold
                    slot = tape.add_input(a, name=f"x{i + 1}")
                    static_inputs.add(slot)
                    a = Tensor._make(a, tape, slot, None, level)
                new_args.append(a)
                continue
            leaves, spec = flatten(a)
            kinds, boxed = [], []
            for j, leaf in enumerate(leaves):
                if not _is_dynamic(leaf):
                    kinds.append(("static", leaf))
                    boxed.append(leaf)
                    continue
                where = f"{fname}: argument {i}" + (f" (leaf {j})" if len(leaves) > 1 else "")
                if i in argnums:
                    leaf = as_input(leaf, where)
                value = _fresh(leaf)
                name = f"x{i + 1}" + (f".{j}" if len(leaves) > 1 else "")
                slot = tape.add_input(value, name=name)
                inputs.append(slot)
                shapes.append((np.shape(value), np.result_type(value)))
                if i in argnums:
                    diff_of[i].append(slot)
                kinds.append(("input", slot))
                boxed.append(Tensor._make(value, tape, slot, None, level))
            layout_args.append(("tree", spec, kinds))
            new_args.append(unflatten(spec, boxed))
        self.base_frame = sys._getframe()
        try:
            with watching(self):
                out = f(*new_args)
        finally:
            tape.closed = True
        out, aux = split_aux(out, has_aux, fname)
        diff = [slot for i in argnums for slot in diff_of[i]]
        out_leaves, out_spec = flatten(out)
        aux_leaves, aux_spec = flatten(aux) if has_aux else ([], None)
        prog = self._program(inputs, diff, out_leaves + aux_leaves, static_inputs, fname)
        layout = Layout(layout_args, out_spec, len(out_leaves), aux_spec, argnums, tuple(shapes))
        return prog, layout

    # ---- tape -> program ----
    def _program(self, inputs: list, diff: list, outs: list, static_inputs: set,
                 fname: str) -> Program:
        entries = self.tape.entries
        ids: dict[int, Ref] = {}    # id(value) -> Ref, for values used as plain data
        nodes: list[Node] = []
        guards = sorted(enumerate(self.guards), key=lambda kg: kg[1].position)
        gi = 0

        def by_identity(x: Any) -> Any:
            if isinstance(x, (np.ndarray, np.generic)):
                r = ids.get(id(x))
                if r is not None:
                    if r.node >= len(entries):  # a guard's mask, used as data
                        g = self.guards[r.node - len(entries)]
                        g.data_use = True
                    return r
            if isinstance(x, (tuple, list)):
                return type(x)(by_identity(v) for v in x)
            return x

        def add_guard(k: int, g: Guard) -> None:
            node_id = len(entries) + k
            node = Node(node_id, "guard", g.func, substitute(by_identity(g.args), _nodiff),
                        substitute({key: by_identity(v) for key, v in g.kwargs.items()},
                                   _nodiff), g.result, guard=g)
            nodes.append(node)
            if g.mask is not None:
                ids[id(g.mask)] = Ref(node_id, None, False)

        for s, (prim, vals, kwargs, slots, ans) in enumerate(entries):
            while gi < len(guards) and guards[gi][1].position <= s:
                add_guard(*guards[gi])
                gi += 1
            if prim is None:  # an input
                nodes.append(Node(s, "input", value=vals, name=slots,
                                  static=s in static_inputs))
                ids[id(vals)] = Ref(s, None, False)
                continue
            args = [Ref(*((sl, None) if type(sl) is int else sl)) if sl is not None
                    else by_identity(v) for v, sl in zip(vals, slots)]
            kws = {}
            for k, v in kwargs.items():
                kws[k] = by_identity(v)
                if k in SHAPE_KWARGS:
                    self._guard_shape_masks(kws[k], nodes, entries)
            nodes.append(Node(s, "prim", prim, args, kws, ans, prim.multiple_results))
            if prim.multiple_results:
                for i, a in enumerate(ans):
                    ids[id(a)] = Ref(s, i, False)
            else:
                ids[id(ans)] = Ref(s, None, False)
        for k, g in guards[gi:]:
            add_guard(k, g)
        outputs = []
        for o in outs:
            if isinstance(o, Tensor) and o._tape is self.tape:
                outputs.append(Ref(*((o._ref, None) if type(o._ref) is int else o._ref)))
            elif isinstance(o, Box):
                raise TapeError(f"{fname}: the function returned a traced value of another "
                                f"transform (a leaked tracer)")
            else:
                outputs.append(by_identity(o))
        self._guard_copied_masks(nodes)
        return Program(nodes, inputs, diff, outputs)

    def _guard_copied_masks(self, nodes: list) -> None:
        """``np.asarray(mask, float)`` hands out a copy that no hook reports; where a
        recorded constant looks like a copy of an unchecked mask, check the mask."""
        open_masks = [g for g in self.guards if g.mask is not None and not g.checked]
        if not open_masks:
            return
        for n in nodes:
            if n.kind != "prim":
                continue
            for c in _array_constants((n.args, n.kwargs)):
                for g in open_masks:
                    if not g.control and _may_be_a_copy(c, np.asarray(g.result)):
                        g.control = True

    def _guard_shape_masks(self, x: Any, nodes: list, entries: list) -> None:
        """A boolean mask used as an index decides a shape: its guard must be checked
        (an integer index array does not: the replay gathers with the recomputed one)."""
        for r in (x if isinstance(x, tuple) else (x,)):
            if type(r) is not Ref or r.node < len(entries):
                continue
            guard = self.guards[r.node - len(entries)]
            if np.asarray(guard.result).dtype == np.bool_:
                guard.control = True


def _array_constants(x: Any):
    """The ndarray constants (not Refs) in a node's operands, however nested."""
    if isinstance(x, np.ndarray):
        yield x
    elif isinstance(x, (tuple, list)):
        for v in x:
            yield from _array_constants(v)
    elif isinstance(x, dict):
        for v in x.values():
            yield from _array_constants(v)


def _may_be_a_copy(c: np.ndarray, mask: np.ndarray) -> bool:
    """Whether constant ``c`` may be ``mask`` converted (same values, or a boolean mask as
    0/1 either way round). Arrays of one element match too often to tell."""
    if c.shape != mask.shape or c.size < 2:
        return False
    if mask.dtype == np.bool_:
        return bool(np.array_equal(c != 0, mask) or np.array_equal(c == 0, mask))
    return bool(np.array_equal(c, mask))


def _nodiff(r: Ref) -> Ref:
    return Ref(r.node, r.index, False)
