"""Whole Jacobians and Hessians: jacfwd (batched tangents), jacrev (batched cotangents),
jacobian (picks the mode), hessian (forward-over-reverse), explain_jacobian.

Shapes follow JAX: the Jacobian of an output leaf with respect to an input leaf has
shape ``out.shape + in.shape``. Directions are pushed ``chunk`` at a time in ONE
vectorised pass per chunk; ``chunk`` defaults to what fits in ``max_memory``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .dual import Dual
from .errors import MemoryCapError
from .registry import plain
from .transforms import (
    Recording,
    new_level,
    normalize_argnums,
    split_aux,
    to_numpy,
    trace_inputs,
    unbox_output,
)
from .tree import flatten, tree_map, unflatten

#: Default cap on the memory a dense Jacobian computation may use (bytes).
DEFAULT_MAX_MEMORY = 512 * 2 ** 20
#: Rough number of intermediate arrays per direction, for the chunk estimate.
_WORK_FACTOR = 4


@dataclass(frozen=True)
class JacobianPlan:
    """How a Jacobian will be computed: sizes, mode, chunk, passes and memory."""

    n_in: int
    n_out: int
    mode: str
    chunk: int
    passes: int
    result_bytes: int
    work_bytes: int

    def __str__(self) -> str:
        kind = "tangent" if self.mode == "forward" else "cotangent"
        return (f"Jacobian {self.n_out} x {self.n_in}: {self.mode} mode "
                f"({'n_in <= n_out' if self.mode == 'forward' else 'n_in > n_out'}), "
                f"{self.passes} pass(es) of {self.chunk} {kind} direction(s); "
                f"result {_mib(self.result_bytes)}, working memory ~{_mib(self.work_bytes)}")


def _mib(b: int) -> str:
    return f"{b / 2 ** 20:.1f} MiB"


def plan_jacobian(n_in: int, n_out: int, mode: str = "auto", itemsize: int = 8,
                  chunk: int | None = None, max_memory: int | None = None,
                  what: str = "Jacobian") -> JacobianPlan:
    """Choose mode and chunk so that the result plus working memory stay under the cap."""
    if mode not in ("auto", "forward", "reverse", "fwd", "rev"):
        raise ValueError(f"jacobian: mode must be 'auto', 'forward' or 'reverse', got {mode!r}")
    mode = {"fwd": "forward", "rev": "reverse"}.get(mode, mode)
    if mode == "auto":
        mode = "forward" if n_in <= n_out else "reverse"
    cap = DEFAULT_MAX_MEMORY if max_memory is None else int(max_memory)
    result = n_in * n_out * itemsize
    if result > cap:
        raise MemoryCapError(
            f"dualtape: the dense {what} would be {n_out} x {n_in} ({_mib(result)}), over "
            f"max_memory={_mib(cap)}. Use a matrix-free product (dt.jvp / dt.vjp / dt.hvp), "
            f"a sparse one (dt.sparse_jacobian / dt.sparse_hessian), or raise max_memory=.")
    dirs = n_in if mode == "forward" else n_out
    per_dir = max(1, (n_in + n_out) * itemsize * _WORK_FACTOR)
    if chunk is None:
        chunk = int(max(1, min(dirs, (cap - result) // per_dir)))
    chunk = max(1, min(int(chunk), max(dirs, 1)))
    return JacobianPlan(n_in, n_out, mode, chunk, math.ceil(dirs / chunk) if dirs else 0,
                        result, chunk * per_dir)


def _identity_rows(start: int, k: int, offset: int, size: int, dtype) -> np.ndarray | None:
    """Rows [start, start+k) of the identity, restricted to columns [offset, offset+size)."""
    rows = np.arange(k)
    cols = start + rows - offset
    keep = (cols >= 0) & (cols < size)
    if not keep.any():
        return None
    block = np.zeros((k, size), dtype=dtype)
    block[rows[keep], cols[keep]] = 1
    return block


def _assemble(blocks: list[list], out_shapes: list, in_shapes: list, dirs_first_is_out: bool):
    """Per (out leaf, in leaf) Jacobian blocks of shape out.shape + in.shape.

    ``blocks[c][j]`` is the chunk-c result for leaf j (leading axis = directions).
    """
    cols = [np.concatenate([b[j] for b in blocks], axis=0) if len(blocks) > 1 else blocks[0][j]
            for j in range(len(blocks[0]))]
    out = []
    if dirs_first_is_out:  # reverse: directions run over outputs; leaves are inputs
        for o_shape, start in zip(out_shapes, np.cumsum([0] + [_size(s) for s in out_shapes])):
            size = _size(o_shape)
            out.append([np.reshape(c[int(start):int(start) + size], o_shape + i_shape)
                        for c, i_shape in zip(cols, in_shapes)])
        return out
    offsets = np.cumsum([0] + [_size(s) for s in in_shapes])
    for c, o_shape in zip(cols, out_shapes):  # forward: directions run over inputs
        nd = len(o_shape)
        moved = np.transpose(c, tuple(range(1, nd + 1)) + (0,)) if nd else c
        out.append([np.reshape(moved[..., int(a):int(a) + _size(i_shape)], o_shape + i_shape)
                    for a, i_shape in zip(offsets, in_shapes)])
    return out


def _size(shape: tuple) -> int:
    return int(np.prod(shape, dtype=np.int64))


def _structure(per_out: list, out_spec, in_specs: list, single: bool) -> Any:
    """out tree of (per-argnum in-trees) of Jacobian blocks."""
    result_leaves = []
    for blocks in per_out:
        trees, pos = [], 0
        for spec, vals in in_specs:
            trees.append(unflatten(spec, [to_numpy(b) for b in blocks[pos:pos + len(vals)]]))
            pos += len(vals)
        result_leaves.append(trees[0] if single else tuple(trees))
    return unflatten(out_spec, result_leaves)


def _itemsize(values: list) -> int:
    return max([np.result_type(plain(v)).itemsize for v in values] + [4])


def _reverse_pass(rec: Recording, start: int, k: int, keep: bool, out_shapes: list,
                  offsets: np.ndarray) -> list:
    """One batched sweep with the cotangent directions [start, start + k) (rows of the
    identity over the flattened outputs, which start at ``offsets``): the cotangent of
    every input leaf."""
    cts = []
    for off, shape, v in zip(offsets, out_shapes, rec.out_vals):
        e = _identity_rows(start, k, int(off), _size(shape), np.result_type(plain(v)))
        cts.append(None if e is None else e.reshape((k,) + shape))
    grads = rec.pullback(cts, batch=(k,), keep=keep)
    return [g for gs in grads for g in gs]


def _reverse(rec: Recording, single: bool, chunk, max_memory, what="Jacobian") -> Any:
    out_shapes = [np.shape(plain(v)) for v in rec.out_vals]
    in_vals = [v for _, vals in rec.in_specs for v in vals]
    in_shapes = [np.shape(plain(v)) for v in in_vals]
    n_out, n_in = sum(map(_size, out_shapes)), sum(map(_size, in_shapes))
    plan = plan_jacobian(n_in, n_out, "reverse", _itemsize(in_vals + rec.out_vals), chunk,
                         max_memory, what)
    offsets = np.cumsum([0] + [_size(s) for s in out_shapes])
    blocks = []
    for start in range(0, n_out, plan.chunk):
        k = min(plan.chunk, n_out - start)
        blocks.append(_reverse_pass(rec, start, k, start + k < n_out, out_shapes, offsets))
    if not blocks:
        blocks = [[np.zeros((0,) + s) for s in in_shapes]]
    return _structure(_assemble(blocks, out_shapes, in_shapes, True), rec.out_spec,
                      rec.in_specs, single)


def jacrev(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
           chunk: int | None = None, max_memory: int | None = None,
           executor: Any = None) -> Callable:
    """Jacobian by reverse mode: one recording, then batched cotangent sweeps.

    ``executor=``: each chunk of cotangents (one recording, one sweep) is one task on a
    worker of any ``concurrent.futures.Executor`` (see :mod:`dualtape.distribute`).

    >>> import numpy as np, dualtape as dt
    >>> dt.jacrev(lambda x: np.array([1.0, 2.0]) * x[0] ** 2)(np.array([3.0, 1.0]))
    array([[ 6.,  0.],
           [12.,  0.]])
    """
    fname = f"jacrev({getattr(f, '__name__', 'f')})"

    def jac(*args: Any, **kwargs: Any) -> Any:
        if executor is not None:
            from .distribute import dense_jacobian
            return dense_jacobian(f, args, kwargs, argnums, "reverse", has_aux, chunk,
                                  max_memory, executor, fname)
        nums, single = normalize_argnums(argnums, len(args), fname)
        rec = Recording(f, args, nums, has_aux, fname, kwargs)
        out = _reverse(rec, single, chunk, max_memory)
        return (out, rec.aux) if has_aux else out

    jac.__name__ = fname
    return jac


def _forward_pass(f, args, kwargs, nums, has_aux, fname, level, start, k, in_shapes,
                  offsets):
    """One vectorised pass with the tangent directions [start, start + k) (rows of the
    identity over the flattened inputs, which start at ``offsets``): (tangent of every
    output leaf, output shapes, output spec, aux (still traced), input specs)."""
    counter = iter(range(len(in_shapes)))

    def box(v, name):
        j = next(counter)
        e = _identity_rows(start, k, int(offsets[j]), _size(in_shapes[j]),
                           np.result_type(plain(v)))
        return v if e is None else Dual._make(v, e.reshape((k,) + in_shapes[j]), level)

    new_args, in_specs = trace_inputs(args, nums, box, fname)
    out, aux = split_aux(f(*new_args, **kwargs), has_aux, fname)
    leaves, out_spec = flatten(out)
    cols, out_shapes = [], []
    for o in leaves:
        v, d = unbox_output(o, level, Dual, fname)
        shape = np.shape(plain(v))
        out_shapes.append(shape)
        cols.append(d._tangent if d is not None else
                    np.zeros((k,) + shape, np.result_type(plain(v))))
    return cols, out_shapes, out_spec, aux, in_specs


def _forward(f, args, kwargs, nums, single, has_aux, chunk, max_memory, fname,
             n_out_hint=None, what="Jacobian"):
    in_vals_all = []
    level = new_level()
    specs_probe = []
    for i in nums:
        leaves, spec = flatten(args[i])
        specs_probe.append((spec, leaves))
        in_vals_all.extend(leaves)
    in_shapes = [np.shape(plain(v)) for v in in_vals_all]
    n_in = sum(map(_size, in_shapes))
    plan = plan_jacobian(n_in, n_out_hint if n_out_hint is not None else n_in, "forward",
                         _itemsize(in_vals_all), chunk, max_memory, what)
    offsets = np.cumsum([0] + [_size(s) for s in in_shapes])
    blocks, out_shapes, out_spec, aux, in_specs = [], None, None, None, None
    for start in range(0, max(n_in, 1), plan.chunk):
        k = min(plan.chunk, n_in - start) if n_in else 0
        chunk_cols, out_shapes, out_spec, aux, in_specs = _forward_pass(
            f, args, kwargs, nums, has_aux, fname, level, start, k, in_shapes, offsets)
        blocks.append(chunk_cols)
        if n_in == 0:
            break
    per_out = _assemble(blocks, out_shapes, in_shapes, False)
    result = _structure(per_out, out_spec, in_specs, single)
    if has_aux:
        aux = tree_map(lambda a: unbox_output(a, level, Dual, fname)[0], aux)
        return result, aux
    return result


def jacfwd(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
           chunk: int | None = None, max_memory: int | None = None,
           executor: Any = None) -> Callable:
    """Jacobian by forward mode: ceil(n / chunk) vectorised passes of batched tangents.

    ``executor=``: each chunk of tangents (one pass) is one task on a worker of
    any ``concurrent.futures.Executor`` (see :mod:`dualtape.distribute`).

    >>> import numpy as np, dualtape as dt
    >>> dt.jacfwd(lambda x: np.stack([x[0] * x[1], np.sin(x[0])]))(np.array([0.0, 2.0]))
    array([[2., 0.],
           [1., 0.]])
    """
    fname = f"jacfwd({getattr(f, '__name__', 'f')})"

    def jac(*args: Any, **kwargs: Any) -> Any:
        if executor is not None:
            from .distribute import dense_jacobian
            return dense_jacobian(f, args, kwargs, argnums, "forward", has_aux, chunk,
                                  max_memory, executor, fname)
        nums, single = normalize_argnums(argnums, len(args), fname)
        return _forward(f, args, kwargs, nums, single, has_aux, chunk, max_memory, fname)

    jac.__name__ = fname
    return jac


def jacobian(f: Callable, argnums: int | Sequence[int] = 0, mode: str = "auto",
             has_aux: bool = False, chunk: int | None = None,
             max_memory: int | None = None, executor: Any = None) -> Callable:
    """Jacobian with the cheaper mode: forward if n_in <= n_out, else reverse.

    ``executor=``: each chunk of directions is one task on a worker of
    any ``concurrent.futures.Executor`` (see :mod:`dualtape.distribute`).

    >>> import numpy as np, dualtape as dt
    >>> dt.jacobian(lambda x: x ** 2)(np.array([1.0, 3.0]))
    array([[2., 0.],
           [0., 6.]])
    """
    fname = f"jacobian({getattr(f, '__name__', 'f')})"
    plan_jacobian(1, 1, mode)  # validate the mode name early

    def jac(*args: Any, **kwargs: Any) -> Any:
        if executor is not None:
            from .distribute import dense_jacobian
            return dense_jacobian(f, args, kwargs, argnums, mode, has_aux, chunk, max_memory,
                                  executor, fname)
        nums, single = normalize_argnums(argnums, len(args), fname)
        if mode in ("forward", "fwd"):
            return _forward(f, args, kwargs, nums, single, has_aux, chunk, max_memory, fname)
        rec = Recording(f, args, nums, has_aux, fname, kwargs)
        n_in = sum(_size(np.shape(plain(v))) for _, vals in rec.in_specs for v in vals)
        n_out = sum(_size(np.shape(plain(v))) for v in rec.out_vals)
        if mode == "auto" and n_in <= n_out:
            return _forward(f, args, kwargs, nums, single, has_aux, chunk, max_memory, fname,
                            n_out_hint=n_out)
        out = _reverse(rec, single, chunk, max_memory)
        return (out, rec.aux) if has_aux else out

    jac.__name__ = fname
    return jac


def hessian(f: Callable, argnums: int | Sequence[int] = 0, chunk: int | None = None,
            max_memory: int | None = None, executor: Any = None) -> Callable:
    """Hessian of a scalar function, forward-over-reverse (jacfwd of the gradient).

    ``executor=``: each chunk of tangents (one forward-over-reverse pass) is one task on a
    worker of any ``concurrent.futures.Executor`` (see :mod:`dualtape.distribute`).

    >>> import numpy as np, dualtape as dt
    >>> dt.hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 2.0]))
    array([[4., 2.],
           [2., 0.]])
    """
    from .transforms import grad
    fname = f"hessian({getattr(f, '__name__', 'f')})"

    def hess(*args: Any, **kwargs: Any) -> Any:
        if executor is not None:
            from .distribute import dense_jacobian
            return dense_jacobian(f, args, kwargs, argnums, "forward", False, chunk,
                                  max_memory, executor, fname, hessian=True)
        nums, single = normalize_argnums(argnums, len(args), fname)
        n = sum(_size(np.shape(plain(leaf))) for i in nums for leaf in flatten(args[i])[0])
        g = grad(f, argnums)
        return _forward(g, args, kwargs, nums, single, False, chunk, max_memory, fname,
                        n_out_hint=n, what="Hessian")

    hess.__name__ = fname
    return hess


def explain_jacobian(f: Callable, *args: Any, argnums: int | Sequence[int] = 0,
                     mode: str = "auto", chunk: int | None = None,
                     max_memory: int | None = None) -> JacobianPlan:
    """Report how ``dt.jacobian`` would compute the Jacobian of f at ``args``.

    >>> import numpy as np, dualtape as dt
    >>> print(dt.explain_jacobian(lambda x: np.sum(x ** 2), np.ones(1000)))
    Jacobian 1 x 1000: reverse mode (n_in > n_out), 1 pass(es) of 1 cotangent direction(s); result 0.0 MiB, working memory ~0.0 MiB
    """  # noqa: E501
    nums, _ = normalize_argnums(argnums, len(args), "explain_jacobian")
    ins = [leaf for i in nums for leaf in flatten(args[i])[0]]
    out_leaves = flatten(f(*args))[0]
    n_in = sum(_size(np.shape(plain(v))) for v in ins)
    n_out = sum(_size(np.shape(plain(v))) for v in out_leaves)
    return plan_jacobian(n_in, n_out, mode, _itemsize(ins), chunk, max_memory)
