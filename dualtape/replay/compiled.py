"""``dt.compile``: record once, replay many times, re-record when a guard says so."""

from __future__ import annotations

import os
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..errors import ArgnumsError, ShapeError
from ..jacobians import hessian, jacobian
from ..registry import Box
from ..transforms import as_input, grad, jvp, normalize_argnums, to_numpy, value_and_grad, vjp
from ..tree import flatten, unflatten
from .codegen import Retrace, Source
from .compressed import ColumnPlan, plan_columns
from .guards import same
from .ir import Program, Ref, format_program, optimize, value_of
from .record import Layout, Recorder
from .scalar import FLOAT_ERRORS, ScalarSource

_UNPLANNED = object()


class RetraceWarning(UserWarning):
    """A compiled function was re-recorded because its input took another branch."""


@dataclass(eq=False)
class Variant:
    """One recorded path through the function, optimised and compiled."""

    program: Program
    layout: Layout
    source: Source
    fns: dict
    size_recorded: int
    scalar_fns: dict | None = None
    hessian_plan: Any = _UNPLANNED  # set by Compiled.hessian: a ColumnPlan, or None for dense

    @cached_property
    def out_shape(self) -> tuple:
        if not self.program.outputs:
            return ()
        o = self.program.outputs[0]
        if type(o) is Ref:
            return np.shape(value_of(self.program.node_map()[o.node], o))
        return np.shape(o)

    @cached_property
    def scalar_output(self) -> bool:
        return self.layout.n_out == 1 and self.out_shape == ()

    def call(self, name: str, inputs: list) -> Any:
        """Run sweep ``name`` ("value" or "value_and_grad" with seed 1) on plain inputs:
        the Python-float program when there is one and it does not hit a float error."""
        if self.scalar_fns is not None:
            try:
                return self.scalar_fns[name](*inputs)
            except FLOAT_ERRORS:
                pass  # 1/0, log(0), overflow...: NumPy's inf/nan semantics below
        if name == "value":
            return self.fns["value"](*inputs)
        return self.fns["grad"](*inputs)

    @cached_property
    def plain_args(self) -> bool:
        """Every argument is one array/float input (no pytree, no static part)."""
        return all(spec[0] == "tree" and spec[1].kind == "leaf" and spec[2][0][0] == "input"
                   for spec in self.layout.args)

    def bind_plain(self, args: tuple) -> list | None:
        """``bind`` for plain array/float arguments, without pytree handling."""
        if len(args) != len(self.layout.in_shapes):
            return None
        inputs = []
        for a, (shape, dtype) in zip(args, self.layout.in_shapes):
            t = type(a)
            if t is np.ndarray:
                if a.shape != shape or a.dtype != dtype:
                    return None
            elif t is float and shape == () and dtype == np.float64:
                a = np.float64(a)
            else:
                return self.bind(args)
            inputs.append(a)
        return inputs

    def bind(self, args: tuple) -> list | None:
        """Program inputs from call arguments, or None if they do not fit this variant."""
        layout = self.layout
        if len(args) != len(layout.args):
            return None
        inputs = []
        for a, spec in zip(args, layout.args):
            if spec[0] == "static":
                if not _same_static(a, spec[1]):
                    return None
                continue
            if spec[1].kind == "leaf":
                leaves = (a,)
            else:
                leaves, s = flatten(a)
                if s != spec[1]:
                    return None
            for leaf, (kind, v) in zip(leaves, spec[2]):
                if kind == "static":
                    if not _same_static(leaf, v):
                        return None
                    continue
                if type(leaf) is float:
                    leaf = np.float64(leaf)
                elif not isinstance(leaf, (np.ndarray, np.generic)):
                    leaf = np.asarray(leaf)
                inputs.append(leaf)
        for x, (shape, dtype) in zip(inputs, layout.in_shapes):
            if x.shape != shape or x.dtype != dtype:
                return None
        return inputs


def _dense_forward_jacobian(v: Variant, x: list, xin: np.ndarray) -> np.ndarray:
    """Jacobian of a program whose output has the shape of its one input (a gradient),
    one batched tangent sweep over the identity."""
    eye = np.eye(xin.size, dtype=xin.dtype).reshape((xin.size,) + xin.shape)
    (t,) = v.fns["batched_tangents"](*x, eye)
    return np.moveaxis(np.asarray(t).reshape((xin.size,) + xin.shape), 0, -1).reshape(
        xin.shape + xin.shape)


def _as_numpy(x: Any) -> Any:
    """A result as NumPy gives it: float64 scalars for 0-d, arrays otherwise."""
    if type(x) is float:
        return np.float64(x)
    if type(x) is np.ndarray:
        return x if x.ndim else x[()]
    return to_numpy(x)


def _same_static(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return same(a, b)
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:  # noqa: BLE001 - incomparable objects are simply not the same
        return False


class Compiled:
    """A function recorded once and replayed from generated straight-line code.

    Made by ``dt.compile``; see its docstring. Attributes ``retraces`` (re-recordings
    caused by guards or new shapes) and ``variants`` (paths recorded so far) tell how
    often the recording could be reused.
    """

    def __init__(self, f: Callable, argnums: int | Sequence[int], static_argnums: Sequence[int],
                 has_aux: bool, warn: bool, max_variants: int) -> None:
        self.f = f
        self.fname = f"compile({getattr(f, '__name__', 'f')})"
        self._argnums, self.static_argnums = argnums, frozenset(static_argnums)
        self.has_aux, self.warn, self.max_variants = has_aux, warn, max_variants
        self.variants: list[Variant] = []
        self.retraces = 0
        self.last_retrace = ""
        self._lock = threading.Lock()
        self._gradient: Compiled | None = None

    # ---- recording and choosing a variant ----
    def record(self, *args: Any) -> Variant:
        """Record f at ``args`` (a new variant) and return it."""
        nums, _ = normalize_argnums(self._argnums, len(args), self.fname)
        bad = self.static_argnums & set(nums)
        if bad:
            raise ArgnumsError(f"{self.fname}: argument(s) {sorted(bad)} are both in argnums "
                               f"and static_argnums; a static argument has no derivative")
        prog, layout = Recorder().run(self.f, args, nums, self.static_argnums, self.has_aux,
                                      self.fname)
        size = len(prog)
        optimize(prog)
        source = Source(prog)
        scalar = ScalarSource(prog)
        variant = Variant(prog, layout, source, source.functions(), size,
                          scalar.functions() if scalar.ok else None)
        with self._lock:
            self.variants.insert(0, variant)
            del self.variants[self.max_variants:]
        return variant

    def _run(self, how: Callable, args: tuple, differentiate: bool = True) -> Any:
        if differentiate:
            self._check_differentiable(args)
        reason = "new argument shapes, dtypes or static values"
        for variant in list(self.variants):
            inputs = variant.bind(args)
            if inputs is None:
                continue
            try:
                result = how(variant, inputs)
            except Retrace as r:
                reason = f"guard {variant.program.node_map()[r.node].guard.describe()} changed"
                continue
            if variant is not self.variants[0]:  # the path now taken goes first
                with self._lock:
                    if variant in self.variants:
                        self.variants.remove(variant)
                        self.variants.insert(0, variant)
            return result
        if self.variants:
            self.retraces += 1
            self.last_retrace = reason
            if self.warn:
                warnings.warn(f"{self.fname}: re-recording ({reason}); retraces so far: "
                              f"{self.retraces}", RetraceWarning,
                              stacklevel=_frames_inside_dualtape())
        variant = self.record(*args)
        return how(variant, variant.bind(args))

    def _traced(self, args: tuple) -> bool:
        return any(isinstance(leaf, Box) for a in args for leaf in flatten(a)[0])

    def _check_differentiable(self, args: tuple) -> None:
        """A Python int or bool where a derivative is asked for: refused as dt.grad does
        (the recording keeps such a leaf as a static value)."""
        for i in normalize_argnums(self._argnums, len(args), self.fname)[0]:
            for j, leaf in enumerate(flatten(args[i])[0]):
                if isinstance(leaf, (int, bool)):
                    as_input(leaf, f"{self.fname}: argument {i}" + (f" (leaf {j})" if j else ""))

    def _of_argnums(self, args: tuple) -> tuple[tuple, Callable]:
        """The argnums and f as a function of those arguments only (the rest fixed)."""
        nums = normalize_argnums(self._argnums, len(args), self.fname)[0]

        def of_diff(*diff: Any) -> Any:
            full = list(args)
            for i, d in zip(nums, diff):
                full[i] = d
            return self.f(*full)
        return nums, of_diff

    # ---- results ----
    def _outputs(self, variant: Variant, outs: tuple) -> Any:
        layout = variant.layout
        vals = [_as_numpy(o) for o in outs]
        out = unflatten(layout.out_spec, vals[: layout.n_out])
        if self.has_aux:
            return out, unflatten(layout.aux_spec, vals[layout.n_out:])
        return out

    def _grads(self, variant: Variant, grads: Sequence) -> Any:
        layout = variant.layout
        it = iter(grads)
        trees = []
        for i in layout.argnums:
            spec = layout.args[i]
            trees.append(unflatten(spec[1], [_as_numpy(next(it)) for _ in spec[2]]))
        return trees[0] if isinstance(self._argnums, (int, np.integer)) else tuple(trees)

    def __call__(self, *args: Any) -> Any:
        """f(*args), replayed."""
        if self._traced(args):  # inside another transform: run f itself
            return self.f(*args)
        return self._run(lambda v, x: self._outputs(v, v.call("value", x)), args,
                         differentiate=False)

    def value_and_grad(self, *args: Any) -> tuple[Any, Any]:
        """(f(*args), gradient with respect to argnums), replayed (one fused sweep)."""
        if self._traced(args):  # inside another transform: eager
            return value_and_grad(self.f, argnums=self._argnums, has_aux=self.has_aux)(*args)
        v = self.variants[0] if self.variants else None
        if v is not None and v.plain_args and v.scalar_output and not self.has_aux:
            x = v.bind_plain(args)  # the common case, without the general machinery
            if x is not None:
                try:
                    (out,), grads = v.call("value_and_grad", x)
                except Retrace:
                    pass
                else:
                    if type(self._argnums) is int:
                        return _as_numpy(out), _as_numpy(grads[0])
                    return _as_numpy(out), tuple(_as_numpy(g) for g in grads)

        def how(v: Variant, x: list) -> Any:
            if not v.scalar_output:
                raise ShapeError(f"{self.fname}: grad needs a function returning one scalar "
                                 f"(got {v.layout.n_out} output leaves, first of shape "
                                 f"{v.out_shape}); use .jacobian for a vector output")
            outs, grads = v.call("value_and_grad", x)
            return self._outputs(v, outs), self._grads(v, grads)
        return self._run(how, args)

    def grad(self, *args: Any) -> Any:
        """The gradient with respect to argnums, replayed."""
        value, g = self.value_and_grad(*args)
        return (g, value[1]) if self.has_aux else g

    def vjp(self, *args: Any) -> tuple[Any, Callable]:
        """``(f(*args), vjp_fn)``; ``vjp_fn(cotangent)`` pulls back through the replay."""
        if self._traced(args):  # inside another transform: eager
            nums, of_diff = self._of_argnums(args)
            out, pull = vjp(of_diff, *(args[i] for i in nums), has_aux=self.has_aux)
            single = isinstance(self._argnums, (int, np.integer))
            return (out, lambda ct: pull(ct)[0]) if single else (out, pull)
        def how(v: Variant, x: list) -> Any:
            outs, saved = v.fns["forward"](*x)

            def vjp_fn(cotangent: Any) -> Any:
                leaves, spec = flatten(cotangent)
                if spec != v.layout.out_spec:
                    raise ShapeError(f"{self.fname}: cotangent has structure {spec}, expected "
                                     f"{v.layout.out_spec}")
                for c, o in zip(leaves, outs):
                    if np.shape(c) != np.shape(o):
                        raise ShapeError(f"{self.fname}: cotangent of shape {np.shape(c)} for "
                                         f"an output of shape {np.shape(o)}")
                cts = [np.asarray(c, dtype=np.result_type(o)) for c, o in zip(leaves, outs)]
                cts += [None] * (len(outs) - len(cts))
                return self._grads(v, v.fns["backward"](saved, *cts))
            return self._outputs(v, outs), vjp_fn
        return self._run(how, args)

    def jvp(self, primals: Sequence, tangents: Sequence) -> tuple[Any, Any]:
        """``(f(*primals), directional derivative)``; ``tangents`` has one entry per
        argument in argnums (same structure as that argument)."""
        primals = tuple(primals)
        if self._traced(primals) or self._traced(tuple(tangents)):  # inside a transform
            nums, of_diff = self._of_argnums(primals)
            return jvp(of_diff, [primals[i] for i in nums], tangents, has_aux=self.has_aux)

        def how(v: Variant, x: list) -> Any:
            nums = v.layout.argnums
            if len(tangents) != len(nums):
                raise ShapeError(f"{self.fname}: {len(tangents)} tangents for argnums {nums}")
            t_leaves = []
            for i, tan in zip(nums, tangents):
                (t_tree, t_spec), (p_tree, p_spec) = flatten(tan), flatten(primals[i])
                if t_spec != p_spec:
                    raise ShapeError(f"{self.fname}: the tangent of argument {i} has structure "
                                     f"{t_spec}, the argument has {p_spec}")
                for t, p in zip(t_tree, p_tree):
                    if np.shape(t) != np.shape(p):
                        raise ShapeError(f"{self.fname}: tangent of shape {np.shape(t)} for "
                                         f"argument {i} of shape {np.shape(p)}")
                    t_leaves.append(np.asarray(t, dtype=np.result_type(p)))
            outs, touts = v.fns["jvp"](*x, *t_leaves)
            return self._outputs(v, outs), self._outputs(v, touts)
        return self._run(how, primals)

    def jacobian(self, *args: Any, mode: str = "auto") -> Any:
        """The Jacobian of the (single-leaf) output with respect to the single argnum,
        shape ``out.shape + in.shape``, by batched replays (forward or reverse)."""
        if self._traced(args):  # inside another transform: eager
            return jacobian(self.f, argnums=self._argnums, mode=mode)(*args)
        def how(v: Variant, x: list) -> Any:
            xin = self._single_input(v, x)
            n_in, out_shape = xin.size, v.out_shape
            n_out = int(np.prod(out_shape))
            use = mode if mode != "auto" else ("forward" if n_in <= n_out else "reverse")
            if use in ("forward", "fwd"):
                eye = np.eye(n_in, dtype=xin.dtype).reshape((n_in,) + xin.shape)
                (t,) = v.fns["batched_tangents"](*x, eye)
                return np.moveaxis(np.asarray(t).reshape((n_in,) + out_shape), 0, -1).reshape(
                    out_shape + xin.shape)
            dtype = np.result_type(value_of(v.program.node_map()[v.program.outputs[0].node],
                                            v.program.outputs[0])) \
                if type(v.program.outputs[0]) is Ref else np.float64
            eye = np.eye(n_out, dtype=dtype).reshape((n_out,) + out_shape)
            _, (g,) = v.fns["value_and_grad"](*x, eye)
            return np.asarray(g).reshape(out_shape + xin.shape)
        return self._run(how, args)

    def _single_input(self, v: Variant, x: list) -> np.ndarray:
        prog = v.program
        if len(prog.diff_inputs) != 1 or len(prog.outputs) != 1:
            raise ShapeError(f"{self.fname}: .jacobian/.hessian handle one array argument "
                             f"and one array output; use dt.jacobian/dt.hessian for pytrees")
        return x[prog.inputs.index(prog.diff_inputs[0])]

    def gradient(self) -> Compiled:
        """The gradient of f, itself recorded and replayed: its tangent sweep gives
        Hessian-vector products, its forward Jacobian the Hessian (forward over reverse,
        all generated code). Guards of f are guards of the gradient too."""
        if self._gradient is None:
            if not isinstance(self._argnums, (int, np.integer)):
                raise ArgnumsError(f"{self.fname}: hvp/hessian differentiate one argument; "
                                   f"give an int argnums (got {self._argnums!r})")
            g = grad(self.f, argnums=self._argnums, has_aux=self.has_aux)
            of_f = (lambda *a: g(*a)[0]) if self.has_aux else g
            of_f.__name__ = f"grad({getattr(self.f, '__name__', 'f')})"
            self._gradient = Compiled(of_f, self._argnums, tuple(self.static_argnums), False,
                                      self.warn, self.max_variants)
        return self._gradient

    def hvp(self, v: Any, *args: Any) -> np.ndarray:
        """Hessian-vector product H(args) @ v: the replayed gradient's tangent sweep."""
        gradient = self.gradient()
        if self._traced(args) or self._traced((v,)):  # inside another transform: eager
            k = self._argnums

            def at(y: Any) -> Any:
                return gradient.f(*args[:k], y, *args[k + 1:])
            return jvp(at, (args[k],), (v,))[1]
        last = gradient.variants[0] if gradient.variants else None
        if last is not None and last.plain_args and type(v) is np.ndarray:
            x = last.bind_plain(args)  # the common case, without the general machinery
            if x is not None:
                k = last.program.inputs.index(last.program.diff_inputs[0])
                if v.shape == x[k].shape and v.dtype == x[k].dtype:
                    try:
                        return _as_numpy(last.fns["tangents"](*x, v)[0])
                    except Retrace:
                        pass

        def how(var: Variant, x: list) -> Any:
            xin = self._single_input(var, x)
            if np.shape(v) != xin.shape:
                raise ShapeError(f"{self.fname}: hvp vector of shape {np.shape(v)} for an "
                                 f"argument of shape {xin.shape}")
            return _as_numpy(var.fns["tangents"](*x, np.asarray(v, dtype=xin.dtype))[0])
        return gradient._run(how, args)

    def hessian(self, *args: Any) -> np.ndarray:
        """The Hessian of scalar f with respect to its argument: the forward Jacobian of
        the replayed gradient, compressed by the path's Hessian pattern when it is sparse
        (detected once per recorded path and checked against the dense sweep)."""
        gradient = self.gradient()
        if self._traced(args):  # inside another transform: eager
            return hessian(self.f, argnums=self._argnums)(*args)

        def how(v: Variant, x: list) -> Any:
            xin = self._single_input(v, x)
            if v.hessian_plan is _UNPLANNED:
                v.hessian_plan = self._hessian_plan(v, x, xin, args)
            plan = v.hessian_plan
            if plan is None:
                return _dense_forward_jacobian(v, x, xin)
            seeds = plan.seeds.reshape((plan.n_colors,) + xin.shape)
            (t,) = v.fns["batched_tangents"](*x, seeds)
            return plan.assemble(np.asarray(t)).reshape(xin.shape + xin.shape)
        return gradient._run(how, args)

    def _hessian_plan(self, v: Variant, x: list, xin: np.ndarray,
                      args: tuple) -> ColumnPlan | None:
        k = self._argnums
        plan = plan_columns(lambda y: self.f(*args[:k], y, *args[k + 1:]), xin)
        if plan is None:
            return None
        dense = _dense_forward_jacobian(v, x, xin).reshape(xin.size, xin.size)
        seeds = plan.seeds.reshape((plan.n_colors,) + xin.shape)
        (t,) = v.fns["batched_tangents"](*x, seeds)
        scale = float(np.max(np.abs(dense), initial=0.0))
        ok = np.allclose(plan.assemble(np.asarray(t)), dense, rtol=1e-10,
                         atol=1e-12 * scale, equal_nan=True)
        return plan if ok else None  # a pattern the values contradict is never used

    # ---- inspection ----
    def __str__(self) -> str:
        if not self.variants:
            return f"<{self.fname}: not recorded yet>"
        v = self.variants[0]
        head = (f"{self.fname}: {len(self.variants)} variant(s), {self.retraces} retrace(s); "
                f"{v.size_recorded} recorded nodes -> {len(v.program)} after optimisation; "
                f"{len(v.program.guards())} guard(s); {v.source.accumulated} adjoint(s) "
                f"accumulated in place")
        return head + "\n" + format_program(v.program)

    def __repr__(self) -> str:
        return f"<Compiled {self.fname} variants={len(self.variants)} retraces={self.retraces}>"


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _frames_inside_dualtape() -> int:
    """The warnings stacklevel that points at the first caller outside the package (the
    method a user called is one to three wrappers above Compiled._run)."""
    frame, level = sys._getframe(2), 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level
