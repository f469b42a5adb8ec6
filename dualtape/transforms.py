"""The functional API: grad, value_and_grad, vjp, jvp, hvp, stop_gradient.

Each call gets its own level, so nested transforms never mix their perturbations.
Arguments may be pytrees; results have the same structure and are plain NumPy values.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .dispatch import Traced
from .dual import Dual
from .errors import ArgnumsError, NonDifferentiableInputError, ShapeError, TapeError
from .registry import Box, plain
from .tape import Tape, Tensor
from .tree import TreeSpec, flatten, tree_map, unflatten

_levels = itertools.count(2)


def new_level() -> int:
    """A fresh level, higher than every level in use (so inner beats outer)."""
    return next(_levels)


# ---- argument handling ----

def normalize_argnums(argnums: int | Sequence[int], nargs: int, fname: str) -> tuple[tuple, bool]:
    """``argnums`` as a tuple of valid indices, plus whether a single int was given."""
    single = isinstance(argnums, (int, np.integer))
    nums = (int(argnums),) if single else tuple(int(a) for a in argnums)
    for a in nums:
        if not -nargs <= a < nargs:
            raise ArgnumsError(f"{fname}: argnums={argnums!r} but the function was called with "
                               f"{nargs} positional argument(s); valid indices are 0..{nargs - 1}")
    nums = tuple(a % nargs for a in nums)
    if len(set(nums)) != len(nums):
        raise ArgnumsError(f"{fname}: argnums={argnums!r} names an argument twice")
    return nums, single


def as_input(x: Any, where: str) -> Any:
    """Check that a differentiated leaf is a real float; return it as a NumPy value."""
    if isinstance(x, Traced):
        dtype = x.dtype
    elif type(x) is float:  # NumPy scalar semantics (inf/nan, not ZeroDivisionError)
        return np.float64(x)
    else:
        x = np.asarray(x) if not isinstance(x, np.ndarray) else x
        dtype = x.dtype
    if np.issubdtype(dtype, np.floating):
        return x
    if np.issubdtype(dtype, np.complexfloating):
        raise NonDifferentiableInputError(
            f"{where} is complex ({dtype}); complex differentiation is not supported yet. Split it "
            f"into real and imaginary parts, or differentiate a real-valued function of both.")
    raise NonDifferentiableInputError(
        f"{where} has dtype {dtype}: derivatives need floating-point inputs. Pass it as a float "
        f"(e.g. 2.0 instead of 2, or np.asarray(x, dtype=float)), or move it out of argnums.")


def trace_inputs(args: tuple, nums: tuple, box: Callable[[Any, str], Any],
                 fname: str) -> tuple[list, list[tuple[TreeSpec, list]]]:
    """Replace ``args[i]`` for i in ``nums`` by trees of boxed leaves.

    Returns the new argument list and, per argnum, (tree spec, list of leaf values).
    """
    new_args = list(args)
    specs = []
    for i in nums:
        leaves, spec = flatten(args[i])
        vals = [as_input(leaf, f"{fname}: argument {i}" + (f" (leaf {j})" if len(leaves) > 1
                                                            else ""))
                for j, leaf in enumerate(leaves)]
        new_args[i] = unflatten(spec, [box(v, f"x{len(specs) + 1}.{j}" if len(leaves) > 1
                                           else f"x{i + 1}") for j, v in enumerate(vals)])
        specs.append((spec, vals))
    return new_args, specs


def unbox_output(o: Any, level: int, cls: type, fname: str) -> tuple[Any, Any]:
    """(value one level down, the traced object itself or None if constant)."""
    if isinstance(o, cls) and o._level == level:
        return o._value, o
    if isinstance(o, Box) and o._level > level:
        raise TapeError(f"{fname}: the function returned a traced value of an inner transform "
                        f"that has already finished (a leaked tracer)")
    return o, None


def to_numpy(x: Any) -> Any:
    """Outputs of a top-level transform are NumPy arrays/scalars, never traced objects."""
    if isinstance(x, Box):
        return x
    arr = np.asarray(x)
    return arr if arr.ndim else arr[()]


def split_aux(out: Any, has_aux: bool, fname: str) -> tuple[Any, Any]:
    if not has_aux:
        return out, None
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise ShapeError(f"{fname}(has_aux=True): the function must return a pair (output, aux)")
    return out[0], out[1]


# ---- reverse mode core ----

class Recording:
    """A traced call of ``f`` on a private tape, ready for any number of backward sweeps."""

    def __init__(self, f: Callable, args: tuple, nums: tuple, has_aux: bool, fname: str,
                 kwargs: dict | None = None) -> None:
        self.level = level = new_level()
        self.tape = tape = Tape(level)
        self.fname = fname

        def box(v, name):
            return Tensor._make(v, tape, tape.add_input(v, name=name), None, level)

        new_args, self.in_specs = trace_inputs(args, nums, box, fname)
        self.in_slots = []
        slot = 0
        for _, vals in self.in_specs:
            self.in_slots.append(list(range(slot, slot + len(vals))))
            slot += len(vals)
        try:
            out = f(*new_args, **(kwargs or {}))
        finally:
            tape.closed = True
        out, aux = split_aux(out, has_aux, fname)
        leaves, self.out_spec = flatten(out)
        self.out_vals, self.out_refs = [], []
        for o in leaves:
            v, t = unbox_output(o, level, Tensor, fname)
            self.out_vals.append(v)
            self.out_refs.append(None if t is None else t._ref)
        self.aux = None if aux is None else tree_map(
            lambda a: unbox_output(a, level, Tensor, fname)[0], aux)

    def pullback(self, cts: list, batch: tuple = (), keep: bool = True) -> list[list]:
        """Cotangents of the outputs (None = zero) -> per argnum, list of leaf cotangents."""
        seeds = [(r, c) for r, c in zip(self.out_refs, cts) if r is not None and c is not None]
        adj = self.tape.backward(seeds, keep=keep) if seeds else [None] * len(self.tape)
        grads = []
        for (_, vals), slots in zip(self.in_specs, self.in_slots):
            grads.append([adj[s] if adj[s] is not None else
                          np.zeros(batch + np.shape(plain(v)), dtype=np.result_type(plain(v)))
                          for s, v in zip(slots, vals)])
        return grads


def _check_cotangent(ct: Any, ref_val: Any, fname: str, what: str) -> Any:
    shape = np.shape(plain(ref_val))
    if np.shape(plain(ct)) != shape:
        raise ShapeError(f"{fname}: cotangent for {what} has shape {np.shape(plain(ct))}, "
                         f"expected {shape} (the shape of the output)")
    return ct


# ---- public transforms ----

def value_and_grad(f: Callable, argnums: int | Sequence[int] = 0,
                   has_aux: bool = False, *, _caller: str = "value_and_grad") -> Callable:
    """f and its gradient in one reverse sweep.

    Args:
        f: scalar-valued function of NumPy arrays/floats (or pytrees of them).
        argnums: which positional argument(s) to differentiate.
        has_aux: f returns ``(value, aux)``; aux is passed through.

    Returns:
        A function returning ``(value, grad)`` (``((value, aux), grad)`` with has_aux).

    >>> import numpy as np, dualtape as dt
    >>> v, g = dt.value_and_grad(lambda x: np.sum(x ** 2))(np.array([1.0, 2.0]))
    >>> float(v), g
    (5.0, array([2., 4.]))
    """
    fname = f"{_caller}({getattr(f, '__name__', 'f')})"

    def vg(*args: Any, **kwargs: Any) -> Any:
        nums, single = normalize_argnums(argnums, len(args), fname)
        rec = Recording(f, args, nums, has_aux, fname, kwargs)
        if rec.out_spec.kind != "leaf":
            raise ShapeError(f"{fname}: grad needs a function returning one scalar, got a "
                             f"{rec.out_spec} structure; use dt.jacrev for several outputs")
        out = rec.out_vals[0]
        shape = np.shape(plain(out))
        if shape != ():
            raise ShapeError(f"{fname}: grad needs a scalar output, got shape {shape}. Reduce it "
                             f"(e.g. np.sum(...)) or use dt.jacrev / dt.jacobian for a vector "
                             f"output.")
        if not np.issubdtype(np.result_type(plain(out)), np.floating):
            raise NonDifferentiableInputError(f"{fname}: the output has dtype "
                                              f"{np.result_type(plain(out))}; it must be float")
        seed = np.ones((), dtype=np.result_type(plain(out)))[()]
        grads = rec.pullback([seed], keep=False)
        trees = tuple(unflatten(spec, [to_numpy(g) for g in gs])
                      for (spec, _), gs in zip(rec.in_specs, grads))
        value = to_numpy(out)
        if has_aux:
            value = (value, rec.aux)
        return value, trees[0] if single else trees

    vg.__name__ = fname
    return vg


def grad(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
    """The gradient of a scalar function (reverse mode, one sweep).

    >>> import numpy as np, dualtape as dt
    >>> f = lambda x1, x2: np.log(x1 * x2) * np.sin(x2)
    >>> [round(float(g), 4) for g in dt.grad(f, argnums=(0, 1))(2.0, 5.0)]
    [-0.4795, 0.4614]
    """
    vg = value_and_grad(f, argnums, has_aux, _caller="grad")

    def g(*args: Any, **kwargs: Any) -> Any:
        value, grads = vg(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    g.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    return g


def vjp(f: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """Evaluate f and return a function pulling output cotangents back to the inputs.

    Returns:
        ``(out, vjp_fn)`` where ``vjp_fn(cotangent)`` returns a tuple with one cotangent
        per primal (``(out, vjp_fn, aux)`` with has_aux). ``vjp_fn`` may be called many times.

    >>> import numpy as np, dualtape as dt
    >>> out, pull = dt.vjp(lambda x: x * np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    >>> pull(np.array([1.0, 1.0]))
    (array([1., 2.]),)
    """
    fname = f"vjp({getattr(f, '__name__', 'f')})"
    rec = Recording(f, primals, tuple(range(len(primals))), has_aux, fname)
    out = unflatten(rec.out_spec, [to_numpy(v) for v in rec.out_vals])

    def vjp_fn(cotangent: Any) -> tuple:
        ct_leaves, ct_spec = flatten(cotangent)
        if ct_spec != rec.out_spec:
            raise ShapeError(f"{fname}: cotangent has structure {ct_spec}, expected the output's "
                             f"structure {rec.out_spec}")
        cts = [_check_cotangent(c, v, fname, f"output leaf {i}")
               for i, (c, v) in enumerate(zip(ct_leaves, rec.out_vals))]
        grads = rec.pullback(cts, keep=True)
        return tuple(unflatten(spec, [to_numpy(g) for g in gs])
                     for (spec, _), gs in zip(rec.in_specs, grads))

    return (out, vjp_fn, rec.aux) if has_aux else (out, vjp_fn)


def jvp(f: Callable, primals: Sequence, tangents: Sequence, has_aux: bool = False) -> tuple:
    """Forward mode: f(*primals) and its directional derivative along ``tangents``.

    >>> import numpy as np, dualtape as dt
    >>> out, t = dt.jvp(np.sin, (0.0,), (2.0,))
    >>> float(out), float(t)
    (0.0, 2.0)
    """
    fname = f"jvp({getattr(f, '__name__', 'f')})"
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ShapeError(f"{fname}: {len(primals)} primals but {len(tangents)} tangents")
    level = new_level()
    t_leaves = []
    for i, (p, t) in enumerate(zip(primals, tangents)):
        pl, ps = flatten(p)
        tl, ts = flatten(t)
        if ps != ts:
            raise ShapeError(f"{fname}: tangent {i} has structure {ts}, primal has {ps}")
        for j, (a, b) in enumerate(zip(pl, tl)):
            if np.shape(plain(a)) != np.shape(plain(b)):
                raise ShapeError(f"{fname}: tangent {i} leaf {j} has shape {np.shape(plain(b))}, "
                                 f"primal has shape {np.shape(plain(a))}")
        t_leaves.extend(tl)
    it = iter(t_leaves)

    def box(v, name):
        t = next(it)
        if not isinstance(t, Box):
            t = np.asarray(t, dtype=np.result_type(plain(v)))
        return Dual._make(v, t, level, batched=False)

    new_args, _ = trace_inputs(primals, tuple(range(len(primals))), box, fname)
    out, aux = split_aux(f(*new_args), has_aux, fname)
    leaves, spec = flatten(out)
    vals, tans = [], []
    for o in leaves:
        v, d = unbox_output(o, level, Dual, fname)
        vals.append(to_numpy(v))
        tans.append(to_numpy(d._tangent) if d is not None else
                    np.zeros(np.shape(plain(v)), np.result_type(plain(v))))
    res = (unflatten(spec, vals), unflatten(spec, tans))
    if has_aux:
        return res + (tree_map(lambda a: unbox_output(a, level, Dual, fname)[0], aux),)
    return res


def hvp(f: Callable, x: Any, v: Any, *args: Any) -> Any:
    """Hessian-vector product H(x) @ v of scalar f, forward-over-reverse, one pass.

    Extra ``args`` are passed to f unchanged. ``x`` and ``v`` may be pytrees.

    >>> import numpy as np, dualtape as dt
    >>> dt.hvp(lambda x: np.sum(x ** 3), np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    array([6., 0.])
    """
    g = grad(lambda y: f(y, *args))
    return jvp(g, (x,), (v,))[1]


def stop_gradient(x: Any) -> Any:
    """The value of x with no derivative through it, in every mode and level.

    >>> import numpy as np, dualtape as dt
    >>> float(dt.grad(lambda x: x * dt.stop_gradient(x))(3.0))
    3.0
    """
    return tree_map(plain, x)
