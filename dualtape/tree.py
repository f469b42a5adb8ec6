"""Pytrees: nested dicts, lists and tuples of arrays and floats, flattened to a leaf list.

>>> from dualtape.tree import flatten, unflatten
>>> leaves, spec = flatten({"w": [1.0, 2.0], "b": 3.0})
>>> leaves
[3.0, 1.0, 2.0]
>>> unflatten(spec, [30.0, 10.0, 20.0])
{'b': 30.0, 'w': [10.0, 20.0]}
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .errors import ShapeError


class TreeSpec(NamedTuple):
    """The structure of a pytree: node kind, metadata and children specs."""

    kind: str            # "leaf", "none", "dict", "list", "tuple", "namedtuple"
    meta: Any            # dict keys, or the namedtuple class
    children: tuple

    def __str__(self) -> str:
        if self.kind == "leaf":
            return "*"
        if self.kind == "none":
            return "None"
        inner = ", ".join(map(str, self.children))
        if self.kind == "dict":
            return "{" + ", ".join(f"{k!r}: {c}" for k, c in zip(self.meta, self.children)) + "}"
        return f"[{inner}]" if self.kind == "list" else f"({inner})"


LEAF = TreeSpec("leaf", None, ())


def flatten(tree: Any) -> tuple[list, TreeSpec]:
    """Leaves in a fixed order (dict keys sorted) and the spec to rebuild the tree."""
    leaves: list = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree: Any, leaves: list) -> TreeSpec:
    if isinstance(tree, dict):
        keys = sorted(tree)
        return TreeSpec("dict", tuple(keys), tuple(_flatten(tree[k], leaves) for k in keys))
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return TreeSpec("namedtuple", type(tree), tuple(_flatten(v, leaves) for v in tree))
    if isinstance(tree, (list, tuple)):
        kind = "list" if isinstance(tree, list) else "tuple"
        return TreeSpec(kind, None, tuple(_flatten(v, leaves) for v in tree))
    if tree is None:
        return TreeSpec("none", None, ())
    leaves.append(tree)
    return LEAF


def unflatten(spec: TreeSpec, leaves: list) -> Any:
    """Rebuild a tree of ``spec``'s structure from ``leaves`` (in flatten's order)."""
    it = iter(leaves)
    out = _unflatten(spec, it)
    if next(it, _END) is not _END:
        raise ShapeError("unflatten: more leaves than the tree structure holds")
    return out


_END = object()


def _unflatten(spec: TreeSpec, it) -> Any:
    if spec.kind == "leaf":
        return next(it)
    if spec.kind == "none":
        return None
    children = [_unflatten(c, it) for c in spec.children]
    if spec.kind == "dict":
        return dict(zip(spec.meta, children))
    if spec.kind == "namedtuple":
        return spec.meta(*children)
    return children if spec.kind == "list" else tuple(children)


def tree_map(fn, tree: Any, *rest: Any) -> Any:
    """Apply ``fn`` leafwise to one or more trees of the same structure."""
    leaves, spec = flatten(tree)
    others = [flatten(r) for r in rest]
    for i, (_, s) in enumerate(others):
        if s != spec:
            raise ShapeError(f"tree_map: tree {i + 2} has structure {s}, expected {spec}")
    return unflatten(spec, [fn(*xs) for xs in zip(leaves, *[o[0] for o in others])])


def num_leaves(spec: TreeSpec) -> int:
    return 1 if spec.kind == "leaf" else sum(num_leaves(c) for c in spec.children)
