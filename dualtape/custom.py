"""Custom rules, one place for both modes: ``primitive`` + ``defjvp``/``defvjp``/``defderiv``,
or a ctx-style ``Function`` subclass as PyTorch users write them.

User rules see ONE tangent/cotangent (no batch axis) unless registered with
``batched=True``; batches of k directions are then looped over.

>>> import numpy as np, scipy.special, dualtape as dt
>>> @dt.primitive
... def softplus(x):
...     return np.logaddexp(0.0, x)
>>> _ = dt.defderiv(softplus, lambda ans, x: scipy.special.expit(x))
>>> float(dt.grad(softplus)(0.0))
0.5
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import DualtapeError, NoRuleError
from .registry import Box, Primitive, register_function, register_ufunc
from .rules import kinds
from .rules.kinds import shape_of, unbroadcast


def primitive(fn: Callable | None = None, *, name: str | None = None) -> Any:
    """Turn ``fn`` into a primitive whose derivatives come from the rules you register.

    If ``fn`` is a NumPy/SciPy function or ufunc, calls of it on traced values are
    routed to the new primitive too (that is how to add a missing rule).
    """
    if fn is None:
        return lambda f: primitive(f, name=name)
    prim = Primitive(name or getattr(fn, "__name__", "primitive"), fn, user=True)
    if isinstance(fn, np.ufunc):
        register_ufunc(fn, prim)
    elif (getattr(fn, "__module__", "") or "").split(".")[0] in ("numpy", "scipy"):
        register_function(fn)(prim)
    prim.doc = getattr(fn, "__doc__", "") or ""
    return prim


def _per_direction(rule: Callable, t: Any, nb: int, *rest: Any, **kwargs: Any) -> Any:
    if not nb:
        return rule(t, *rest, **kwargs)
    return np.stack([rule(t[b], *rest, **kwargs) for b in range(shape_of(t)[0])])


def defjvp(prim: Primitive, *jvps: Callable | None, batched: bool = False) -> Primitive:
    """Forward rules, one per argument: ``jvp_i(t, ans, *args, **kwargs)`` -> output tangent."""

    def jvp(tangents, ans, args, kwargs):
        out, batch = None, ()
        for i, t in enumerate(tangents):
            if t is None:
                continue
            if i >= len(jvps) or jvps[i] is None:
                raise NoRuleError(prim.name, f" in forward mode for argument {i}")
            batch = kinds.batch_of(t, args[i])
            term = (jvps[i](t, ans, *args, **kwargs) if batched
                    else _per_direction(jvps[i], t, len(batch), ans, *args, **kwargs))
            out = term if out is None else out + term
        want = batch + shape_of(ans)
        if shape_of(out) != want:
            try:
                out = np.broadcast_to(out, want)
            except ValueError:
                raise DualtapeError(f"dualtape: the jvp rule of {prim.name} returned shape "
                                    f"{shape_of(out)}, expected {want}") from None
        return out

    prim.jvp = jvp
    return prim


def defvjp(prim: Primitive, *vjps: Callable | None, batched: bool = False) -> Primitive:
    """Reverse rules, one per argument: ``vjp_i(g, ans, *args, **kwargs)`` -> cotangent of arg i."""

    def vjp(ct, ans, args, kwargs, needed):
        nb = len(shape_of(ct)) - len(shape_of(ans))
        out = []
        for i, need in enumerate(needed):
            if not need:
                out.append(None)
                continue
            if i >= len(vjps) or vjps[i] is None:
                raise NoRuleError(prim.name, f" in reverse mode for argument {i}")
            g = (vjps[i](ct, ans, *args, **kwargs) if batched
                 else _per_direction(vjps[i], ct, nb, ans, *args, **kwargs))
            out.append(_fit(g, shape_of(args[i]), nb, prim.name, i))
        return out

    prim.vjp = vjp
    return prim


def _fit(g: Any, shape: tuple, nb: int, name: str, i: int) -> Any:
    """Accept a broadcast-shaped cotangent (sum it back); reject anything else clearly."""
    gs = shape_of(g)
    if gs[nb:] == shape:
        return g
    try:
        np.broadcast_shapes(gs[nb:], shape)
        return unbroadcast(g, shape, nb)
    except ValueError:
        raise DualtapeError(f"dualtape: the vjp rule of {name} returned shape {gs[nb:]} for "
                            f"argument {i}, expected {shape}") from None


def defderiv(prim: Primitive, *partials: Callable | None) -> Primitive:
    """Elementwise shortcut: ``partial_i(ans, *args)`` is d ans / d arg i; gives both modes."""
    return kinds.defderiv(prim, *partials)


class Context:
    """What ``Function.forward`` saves for ``backward`` (PyTorch's ctx)."""

    def __init__(self) -> None:
        self.saved_tensors: tuple = ()

    def save_for_backward(self, *values: Any) -> None:
        self.saved_tensors = values


class Function:
    """ctx-style custom rule. Subclass with ``forward(ctx, *args)`` and ``backward(ctx, g)``
    (and ``jvp(ctx, *tangents)`` for forward mode); call ``Sub.apply(*args)``.

    >>> import numpy as np, dualtape as dt
    >>> class Cube(dt.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         (x,) = ctx.saved_tensors
    ...         return 3 * x ** 2 * g
    >>> float(dt.grad(Cube.apply)(2.0))
    12.0
    """

    @classmethod
    def apply(cls, *args: Any) -> Any:
        prim = cls.__dict__.get("_primitive")
        if prim is None:
            prim = _function_primitive(cls)
            cls._primitive = prim
        return prim(*args, _ctx=Context())


def _context_for(cls: type, vals: list, ctx: Context) -> Context:
    """The forward's saved values at the level the rule runs on (re-run when nested)."""
    if any(isinstance(v, Box) for v in vals):
        ctx = Context()
        cls.forward(ctx, *vals)
    return ctx


def _function_primitive(cls: type) -> Primitive:
    prim = Primitive(cls.__name__, lambda *args, _ctx: cls.forward(_ctx, *args), user=True)

    def vjp(ct, ans, args, kwargs, needed):
        ctx = _context_for(cls, args, kwargs["_ctx"])
        nb = len(shape_of(ct)) - len(shape_of(ans))
        one = lambda g: _as_tuple(cls.backward(ctx, g), cls, len(args))
        if nb:
            per = [one(ct[b]) for b in range(shape_of(ct)[0])]
            grads = [None if per[0][i] is None else np.stack([p[i] for p in per])
                     for i in range(len(args))]
        else:
            grads = list(one(ct))
        for i, (g, a) in enumerate(zip(grads, args)):
            if g is not None and shape_of(g)[nb:] != shape_of(a):
                raise DualtapeError(f"dualtape: {cls.__name__}.backward returned a gradient of "
                                    f"shape {shape_of(g)[nb:]} for input {i}, whose shape is "
                                    f"{shape_of(a)}")
        return [g if need else None for g, need in zip(grads, needed)]

    def jvp(tangents, ans, args, kwargs):
        rule = getattr(cls, "jvp", None)
        if rule is None:
            raise NoRuleError(f"{cls.__name__} (a dt.Function)", " in forward mode: add a "
                              "`jvp(ctx, *tangents)` staticmethod to use it in jvp/jacfwd/hessian")
        ctx = _context_for(cls, args, kwargs["_ctx"])
        t0, a0 = next((t, a) for t, a in zip(tangents, args) if t is not None)
        batch = kinds.batch_of(t0, a0)
        full = [t if t is not None else kinds.zeros_tangent(a, batch)
                for t, a in zip(tangents, args)]
        if not batch:
            return rule(ctx, *full)
        return np.stack([rule(ctx, *[t[b] for t in full]) for b in range(batch[0])])

    prim.vjp, prim.jvp = vjp, jvp
    return prim


def _as_tuple(grads: Any, cls: type, n: int) -> tuple:
    grads = grads if isinstance(grads, tuple) else (grads,)
    if len(grads) != n:
        raise DualtapeError(f"dualtape: {cls.__name__}.backward returned {len(grads)} gradient(s) "
                            f"for {n} input(s) of forward; return one per input (None for a "
                            f"non-differentiable one)")
    return grads



