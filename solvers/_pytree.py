"""Structured parameters: a pytree of arrays <-> one flat float64 vector.

scipy.optimize works on a flat float64 vector ``x``; users think in structures
such as ``{"w": W, "b": b}``. :func:`ravel_pytree` flattens the structure once
and returns an :class:`Unravel` that rebuilds it from any flat vector, traced
ones included (it only slices and reshapes), so derivatives are always taken
with respect to the flat vector and no pytree reaches the AD core.

Leaves are NumPy arrays or numbers; containers are dicts (keys in sorted order),
lists, tuples and namedtuples. Every leaf becomes float64, whatever its dtype:
scipy's solvers run in float64, and a float32 gradient is too coarse for their
line searches and stopping tests. Complex leaves are rejected.

>>> import numpy as np
>>> flat, unravel = ravel_pytree({"w": np.ones((2, 2), np.float32), "b": 3})
>>> flat
array([3., 1., 1., 1., 1.])
>>> unravel(flat * 2)["w"]
array([[2., 2.],
       [2., 2.]])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["Unravel", "ravel_pytree", "describe_structure"]


def _leaves(tree: Any, path: str, out: list[tuple[str, Any]]) -> Callable[[Any], Any]:
    """Append (path, leaf) pairs in a fixed order; return a builder from an iterator."""
    if isinstance(tree, dict):
        keys = sorted(tree)
        subs = [_leaves(tree[k], f"{path}[{k!r}]", out) for k in keys]
        return lambda it: {k: s(it) for k, s in zip(keys, subs)}
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        subs = [_leaves(v, f"{path}.{f}", out) for f, v in zip(tree._fields, tree)]
        cls = type(tree)
        return lambda it: cls(*[s(it) for s in subs])
    if isinstance(tree, (list, tuple)):
        subs = [_leaves(v, f"{path}[{i}]", out) for i, v in enumerate(tree)]
        kind = type(tree) if type(tree) in (list, tuple) else list
        return lambda it: kind(s(it) for s in subs)
    out.append((path, tree))
    return lambda it: next(it)


class Unravel:
    """Rebuild the original structure from a flat vector (NumPy or traced).

    Attributes:
        size: length of the flat vector.
        shapes: the shape of each leaf, in flat order.
        paths: a readable path of each leaf, e.g. ``x['w']``.
        trivial: True when x0 was already a 1-D array, so unravelling is the identity.
    """

    def __init__(self, build: Callable, paths: list[str], shapes: list[tuple],
                 trivial: bool) -> None:
        self._build = build
        self.paths = paths
        self.shapes = shapes
        sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
        self.offsets = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).tolist()
        self.size = int(self.offsets[-1])
        self.trivial = trivial

    def __call__(self, flat: Any) -> Any:
        if self.trivial:
            return flat
        parts = []
        for shape, a, b in zip(self.shapes, self.offsets[:-1], self.offsets[1:]):
            if shape == ():
                parts.append(flat[a])
            else:
                parts.append(np.reshape(flat[a:b], shape))
        return self._build(iter(parts))

    def leaf_of(self, index: int) -> str:
        """Name the leaf (and the position inside it) of flat entry ``index``."""
        for path, shape, a, b in zip(self.paths, self.shapes, self.offsets[:-1],
                                     self.offsets[1:]):
            if a <= index < b:
                if shape == ():
                    return path
                pos = np.unravel_index(index - a, shape)
                return f"{path}[{', '.join(str(int(p)) for p in pos)}]"
        raise IndexError(index)


def ravel_pytree(tree: Any) -> tuple[np.ndarray, Unravel]:
    """Flatten ``tree`` to a fresh float64 vector and the function that undoes it.

    Args:
        tree: an array, a number, or a nested dict/list/tuple of them.

    Returns:
        ``(flat, unravel)``: ``flat`` has dtype float64; ``unravel(v)`` returns the
        structure of ``tree`` filled from ``v`` (leaves of the original shapes).

    Raises:
        TypeError: a leaf is complex, or not numeric at all.

    >>> flat, unravel = ravel_pytree([np.zeros(2), 1.5])
    >>> flat, unravel(np.arange(3.0))
    (array([0. , 0. , 1.5]), [array([0., 1.]), np.float64(2.0)])
    """
    pairs: list[tuple[str, Any]] = []
    build = _leaves(tree, "x", pairs)
    arrays = []
    for path, leaf in pairs:
        arr = np.asarray(leaf)
        if np.issubdtype(arr.dtype, np.complexfloating):
            raise TypeError(f"{path} is complex ({arr.dtype}); solvers work on real "
                            f"parameters: split it into real and imaginary parts")
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise TypeError(f"{path} has dtype {arr.dtype}; parameters must be numbers")
        arrays.append(arr)
    if not arrays:
        raise ValueError("x0 holds no parameters (an empty structure)")
    flat = np.concatenate([a.astype(np.float64).ravel() for a in arrays])
    trivial = len(pairs) == 1 and pairs[0][0] == "x" and arrays[0].ndim == 1
    return flat, Unravel(build, [p for p, _ in pairs], [a.shape for a in arrays], trivial)


def describe_structure(unravel: Unravel) -> str:
    """A short readable description of x0's layout, for error messages."""
    if unravel.trivial:
        return f"a vector of {unravel.size} entries"
    parts = [f"{p}: {s}" for p, s in zip(unravel.paths, unravel.shapes)]
    shown = ", ".join(parts[:6]) + (", ..." if len(parts) > 6 else "")
    return f"{unravel.size} entries ({shown})"
