"""The one registry of primitives. Both modes read the same rules from here.

A ``Primitive`` owns a NumPy implementation and two rules:

* ``jvp(tangents, ans, args, kwargs) -> out_tangent`` (forward mode),
* ``vjp(cotangent, ans, args, kwargs, needed) -> [cotangent per arg]`` (reverse mode).

Tangents and cotangents have the shape of their value, optionally with ONE leading
batch axis (k directions at once); rules infer it as ``ndim(t) - ndim(value)``.
Rules are written with NumPy calls, so when they run on traced values of an outer
transform they are differentiated too (that is how nesting works).

Most primitives do not write the two rules by hand: a *kind* builds them
(``defderiv`` for elementwise functions, ``deflinear`` for linear ones, ...).
Non-NumPy names live in dispatch tables mapping NumPy callables to handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import NoRuleError


class Box:
    """Base of traced values. ``_level`` orders nested transforms: higher is inner.

    Every subclass stores its value one level down in ``_value``.
    """

    __slots__ = ()
    _level: int
    _value: Any

    def _apply(self, prim: Primitive, args: tuple, kwargs: dict) -> Any:  # pragma: no cover
        raise NotImplementedError


class Primitive:
    """One operation: its implementation and its derivative rules (see module doc)."""

    __slots__ = ("name", "impl", "jvp", "vjp", "differentiable", "multiple_results",
                 "kind", "samples", "doc", "user", "scalar")

    def __init__(self, name: str, impl: Callable, *, differentiable: bool = True,
                 multiple_results: bool = False, user: bool = False) -> None:
        self.name = name
        self.impl = impl
        self.jvp: Callable | None = None
        self.vjp: Callable | None = None
        self.differentiable = differentiable
        self.multiple_results = multiple_results
        self.kind = "custom" if differentiable else "nondifferentiable"
        self.samples: list[Callable] = []
        self.doc = ""
        self.user = user
        #: Optional Python-float source for compiled replays: ``(value, partial, ...)``
        #: templates in ``{x}``, ``{y}``, ``{ans}`` (see dualtape/replay/scalar.py).
        self.scalar: tuple | None = None
        if not user:  # user primitives stay out of the built-in table (and its tests)
            if name in PRIMITIVES:
                raise ValueError(f"primitive {name!r} is registered twice")
            PRIMITIVES[name] = self

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        top = None
        level = -1
        for a in args:
            if isinstance(a, Box) and a._level > level:
                top = a
                level = a._level
        if top is None:
            return self.impl(*args, **kwargs)
        return top._apply(self, args, kwargs)

    def __repr__(self) -> str:
        return self.name


PRIMITIVES: dict[str, Primitive] = {}
UFUNC_HANDLERS: dict[Any, Callable] = {}
FUNCTION_HANDLERS: dict[Any, Callable] = {}
#: Functions whose result carries no derivative (shape queries, predicates, argmax...).
NONDIFF_FUNCTIONS: set = set()
#: Functions whose observed results are data a replay may recompute (see ``data_function``).
DATA_FUNCTIONS: set = set()


def qualified_name(func: Any) -> str:
    """``numpy.linalg.solve`` style name of a NumPy/SciPy callable, for messages."""
    mod = getattr(func, "__module__", None) or ""
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", repr(func))
    if isinstance(func, np.ufunc):
        mod = "numpy" if getattr(np, func.__name__, None) is func else "scipy.special"
    mod = {"numpy.core.fromnumeric": "numpy", "numpy._core.fromnumeric": "numpy",
           "numpy._core.multiarray": "numpy", "numpy._core.numeric": "numpy"}.get(mod, mod)
    return f"{mod}.{name}" if mod else name


def register_ufunc(ufunc: np.ufunc, handler: Callable) -> None:
    """Route ``ufunc(traced, ...)`` to ``handler`` (usually a Primitive)."""
    UFUNC_HANDLERS[ufunc] = handler


def register_function(*funcs: Any) -> Callable:
    """Decorator: route the NumPy functions ``funcs`` called on traced values to the handler."""

    def deco(handler: Callable) -> Callable:
        for f in funcs:
            FUNCTION_HANDLERS[f] = handler
        return handler

    return deco


def lookup_function(func: Any) -> Callable:
    handler = FUNCTION_HANDLERS.get(func)
    if handler is None:
        raise NoRuleError(qualified_name(func))
    return handler


def lookup_ufunc(ufunc: np.ufunc) -> Callable:
    handler = UFUNC_HANDLERS.get(ufunc)
    if handler is None:
        raise NoRuleError(qualified_name(ufunc))
    return handler


def plain(x: Any) -> Any:
    """The underlying NumPy value of ``x``, with every level of tracing removed."""
    while isinstance(x, Box):
        x = x._value
    return x


def _plain_tree(x: Any) -> Any:
    if isinstance(x, Box):
        return plain(x)
    if isinstance(x, (list, tuple)):
        return type(x)(_plain_tree(v) for v in x)
    return x


#: Observers of plain values computed FROM traced ones (comparisons, ``bool()``, argmax...):
#: ``hook(func, args, kwargs, result) -> result``. ``dt.compile`` installs one while it
#: records, to turn such values into branch guards. Empty (and free) otherwise.
LEAK_HOOKS: list[Callable] = []


def leaked(func: Any, args: tuple, kwargs: dict, result: Any) -> Any:
    """Report ``result = func(*args, **kwargs)`` computed on plain values of traced args."""
    for hook in LEAK_HOOKS:
        result = hook(func, args, kwargs, result)
    return result


def observe(func: Any, *args: Any, **kwargs: Any) -> Any:
    """``func`` on the plain values of ``args``: a quantity that depends on traced values
    but carries no derivative (an ordering, the tie weights of ``max``, a zero pattern).

    Rules call it instead of ``func(plain(x))`` so that a ``dt.compile`` recording sees
    the dependency and recomputes (or checks) the value on replay instead of baking the
    recording's value in. Outside a recording it costs one list comprehension.

    >>> import numpy as np
    >>> observe(np.argsort, np.array([3.0, 1.0, 2.0]))
    array([1, 2, 0])
    """
    result = func(*[_plain_tree(a) for a in args],
                  **{k: _plain_tree(v) for k, v in kwargs.items()})
    return leaked(func, args, kwargs, result) if LEAK_HOOKS else result


def data_function(func: Callable) -> Callable:
    """Declare that ``observe(func, ...)`` gives data (weights, indices) that a recording
    may recompute on replay without checking it, as long as only primitives consume it."""
    DATA_FUNCTIONS.add(func)
    return func


def concrete(x: Any) -> np.ndarray:
    """``x`` as a plain ndarray for a Python-side use (an index list, a count, a shape).

    A mask handed out by a ``dt.compile`` recording learns that its value steered the
    computation (its guard is then checked on replay), which ``np.asarray`` cannot tell it.
    """
    x = plain(x)
    mark_used = getattr(x, "_used", None)
    return np.asarray(mark_used() if mark_used is not None else x)


def register_nondiff(*funcs: Any) -> None:
    """Ufuncs/functions whose result carries no derivative: run them on the plain values."""
    for func in funcs:
        def handler(*args, _f=func, **kwargs):
            return observe(_f, *args, **kwargs)
        handler.nondifferentiable = True
        if isinstance(func, np.ufunc):
            UFUNC_HANDLERS[func] = handler
        else:
            FUNCTION_HANDLERS[func] = handler
        NONDIFF_FUNCTIONS.add(func)


def sample(prim: Primitive, *arg_specs: Any, **kwargs: Any) -> None:
    """Attach a test case to ``prim`` for the registry-driven tests.

    Each ``arg_spec`` is a shape tuple (a random float array in the default domain),
    ``(shape, (lo, hi))`` for a domain, or a callable ``rng -> value`` for anything else
    (a constant argument is given as ``Const(value)``). Keyword arguments are passed
    to the primitive unchanged, except ``check_order`` (default 2): the highest order
    the tests check (1 for a sample placed on a kink on purpose).
    """
    prim.samples.append((arg_specs, kwargs))


class Const:
    """A sample argument that is held fixed (not differentiated) in the rule tests."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value
