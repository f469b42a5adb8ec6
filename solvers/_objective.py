"""The scalar objective as scipy wants it: cached value, gradient and Hessian.

:class:`ScalarObjective` wraps ``fun(x_tree, *args)`` into callables of the flat
float64 vector that scipy passes around:

- ``value_and_grad(x)``: value and gradient from ONE reverse pass (give it to
  scipy with ``jac=True``);
- ``hess(x)``: the dense Hessian (forward-over-reverse; the same pass also
  refreshes value and gradient), ``hessp(x, p)``: H @ p without forming H,
  ``sparse_hess(x)`` and ``sparse_hessp(x, p)`` through a sparse Hessian;
- ``value(x)``: a plain (untraced) evaluation, for derivative-free methods.

With :meth:`ScalarObjective.use_compile` the derivatives (gradient, Hessian,
Hessian-vector products) are replayed from a ``dt.compile`` recording of the flat
function, falling back to the eager path as described in :mod:`solvers._replay`;
plain values are always plain calls (already the cheapest way to get them).

A one-entry cache keyed on a copy of ``x`` (compared with ``np.array_equal``)
serves repeated requests at the same point: scipy asks for the value, then the
gradient, then the Hessian at one x. ``counts`` records what was computed.

>>> import numpy as np
>>> obj = ScalarObjective(lambda x: np.sum(x ** 2), np.array([1.0, 2.0]), (), "minimize")
>>> obj.value_and_grad(obj.x0)
(5.0, array([2., 4.]))
>>> obj.hess(obj.x0)[0]
array([2., 0.])
>>> obj.counts
{'plain': 1, 'value_and_grad': 1, 'hess': 1, 'hessp': 0}
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _derivatives as D
from ._errors import EvalContext, check_finite_vector
from ._pytree import ravel_pytree
from ._replay import Replay

__all__ = ["ScalarObjective", "same_point"]


def same_point(x: Any, key: np.ndarray | None) -> bool:
    """Whether ``x`` is the cached point ``key``: bytewise for float64 arrays (the
    case of every solver call, ten times cheaper than ``np.array_equal``; -0.0 and 0.0
    then differ, which only costs a recomputation), else ``np.array_equal``.

    >>> same_point(np.array([1.0, 2.0]), np.array([1.0, 2.0])), same_point([1.0], None)
    (True, False)
    """
    if key is None:
        return False
    if type(x) is np.ndarray and x.dtype == key.dtype:
        return x.shape == key.shape and x.tobytes() == key.tobytes()
    return bool(np.array_equal(x, key))


class ScalarObjective:
    """A scalar function of a pytree, seen by scipy as a function of a flat vector.

    Args:
        fun: ``fun(x, *args) -> scalar`` with ``x`` shaped like ``x0``.
        x0: the starting point (array, number or pytree of them).
        args: extra positional arguments of ``fun``.
        who: the public solver name, for messages.
        check: evaluate at x0 now (plain call) and raise an :class:`ObjectiveError`
            for a non-scalar or non-finite result or a call that fails.
    """

    def __init__(self, fun: Callable, x0: Any, args: tuple, who: str,
                 check: bool = True) -> None:
        self.x0, self.unravel = ravel_pytree(x0)
        self.n = self.x0.size
        self.ctx = EvalContext(who, "fun", self.unravel)
        self.counts = {"plain": 0, "value_and_grad": 0, "hess": 0, "hessp": 0}
        unravel = self.unravel
        if unravel.trivial and not args:
            self.flat = fun
        elif unravel.trivial:
            self.flat = lambda x: fun(x, *args)
        else:
            self.flat = lambda x: fun(unravel(x), *args)
        self._key: np.ndarray | None = None
        self._value: float | None = None
        self._grad: np.ndarray | None = None
        self._hess: Any = None
        self._vg: Callable | None = None
        self._vgh: Callable | None = None
        self._hvp: Callable | None = None
        self._sparse: Callable | None = None
        self.replay: Replay | None = None
        if check:
            self._check_x0()

    def use_compile(self, mode: Any) -> None:
        """Replay the derivatives from a ``dt.compile`` recording of fun at x0.

        ``mode`` is "auto" (recorded at the ``AUTO_AFTER``-th derivative; falls back to
        eager, see ``self.replay.reason``), True (recorded now; raises
        :class:`~solvers.CompileError` instead of falling back) or False (stay eager).
        The first replay is checked against an eager evaluation at the same point.
        """
        if mode is False:
            return
        self.replay = Replay(self.flat, self.x0, mode, self.ctx.who, self.ctx.what)

    # ---- the start: plain evaluation with clear errors ----

    def _check_x0(self) -> None:
        x = self.x0
        out = self.ctx.run(lambda: self.flat(x), x)
        self.counts["plain"] += 1
        shape = np.shape(out)
        if shape != ():
            if np.size(out) != 1:
                raise self.ctx.error(
                    f"fun must return a scalar, but at x0 it returned an array of shape "
                    f"{shape}. Reduce it (e.g. np.sum(r ** 2)), or use solvers.least_squares "
                    f"for a vector of residuals.")
            inner = self.flat
            self.flat = lambda x: np.reshape(inner(x), ())  # a size-1 array counts as scalar
        value = np.asarray(out).reshape(())
        if not np.issubdtype(value.dtype, np.number) or np.iscomplexobj(value):
            raise self.ctx.error(f"fun must return a real number, got {value.dtype} at x0")
        self._store(x, float(value))
        if not math.isfinite(self._value):
            self.ctx.nonfinite(x, f"the value ({self._value})")

    def start(self) -> None:
        """Mark the end of the checks at x0: later problems become warnings with context."""
        self.ctx.started = True

    # ---- the one-entry cache ----

    def _hit(self, x: np.ndarray) -> bool:
        return same_point(x, self._key)

    def _store(self, x: np.ndarray, value: float | None, grad: np.ndarray | None = None,
               hess: Any = None, hit: bool | None = None) -> None:
        if not (self._hit(x) if hit is None else hit):
            self._key = np.array(x, dtype=np.float64, copy=True)
            self._value = self._grad = self._hess = None
        if value is not None:
            self._value = value
        if grad is not None:
            self._grad = grad
        if hess is not None:
            self._hess = hess

    # ---- what scipy calls ----

    def value(self, x: np.ndarray) -> float:
        """f(x) by a plain call (served from the cache when x was just evaluated)."""
        if self._hit(x) and self._value is not None:
            return self._value
        out = self.ctx.run(lambda: self.flat(x), x)
        self.counts["plain"] += 1
        value = float(np.asarray(out).reshape(()))
        self._store(x, value)
        if not math.isfinite(value):
            self.ctx.nonfinite(x, f"the value ({value})")
        return value

    def value_and_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """(f(x), grad f(x)) from one reverse pass; cached for repeated x."""
        hit = self._hit(x)
        if hit and self._grad is not None:
            return self._value, self._grad
        vg = self._vg
        if vg is None:
            vg = self._vg = D.value_and_grad(self.flat)
        rp = self.replay
        call = (lambda: vg(x)) if rp is None else (lambda: rp.call("value_and_grad", vg, x))
        value, grad = self.ctx.run(call, x, "differentiating")
        self.counts["value_and_grad"] += 1
        value = float(value)
        grad = np.asarray(grad, dtype=np.float64).reshape(self.n)
        self._store(x, value, grad, hit=hit)
        if not math.isfinite(value):
            self.ctx.nonfinite(x, f"the value ({value})")
        check_finite_vector(self.ctx, x, grad, "the gradient")
        return value, grad

    def grad(self, x: np.ndarray) -> np.ndarray:
        """grad f(x) (one reverse pass, or the cache)."""
        return self.value_and_grad(x)[1]

    def hess(self, x: np.ndarray) -> np.ndarray:
        """The dense Hessian at x; the same pass refreshes value and gradient."""
        if self._hit(x) and isinstance(self._hess, np.ndarray):
            return self._hess
        if self._vgh is None:
            self._vgh = D.value_grad_hessian(self.flat)
        first: list = []  # the eager pass also gives value and gradient

        def eager(y: np.ndarray) -> np.ndarray:
            value, grad, hess = self._vgh(y)
            first.append((float(value), np.asarray(grad, dtype=np.float64).reshape(self.n)))
            return hess

        rp = self.replay
        call = (lambda: eager(x)) if rp is None else (lambda: rp.call("hessian", eager, x))
        hess = self.ctx.run(call, x, "computing the Hessian of")
        self.counts["hess"] += 1
        hess = np.asarray(hess, dtype=np.float64).reshape(self.n, self.n)
        value, grad = first[0] if first else (None, None)
        self._store(x, value, grad, hess)
        check_finite_vector(self.ctx, x, hess, "the Hessian")
        return hess

    def hessp(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        """H(x) @ p by forward-over-reverse, never forming H."""
        if self._hvp is None:
            self._hvp = D.hvp(self.flat)
        p = np.asarray(p, dtype=np.float64).reshape(self.n)
        rp, hvp = self.replay, self._hvp
        call = (lambda: hvp(x, p)) if rp is None else \
            (lambda: rp.call("hvp", lambda v, y: hvp(y, v), p, x))
        out = self.ctx.run(call, x, "computing a Hessian-vector product of")
        self.counts["hessp"] += 1
        return np.asarray(out, dtype=np.float64).reshape(self.n)

    def sparse_hess(self, x: np.ndarray) -> Any:
        """The Hessian at x as a scipy sparse array (dt.sparse_hessian), cached."""
        if self._hit(x) and self._hess is not None and not isinstance(self._hess, np.ndarray):
            return self._hess
        if self._sparse is None:
            self._sparse = D.sparse_hessian(self.flat, f"solvers.{self.ctx.who}")
        hess = self.ctx.run(lambda: self._sparse(x), x, "computing the sparse Hessian of")
        self.counts["hess"] += 1
        if not self._hit(x):
            self._key, self._value, self._grad = np.array(x, dtype=np.float64), None, None
        self._hess = hess
        return hess

    def sparse_hessp(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        """H(x) @ p through the cached sparse Hessian (for methods that take hessp only)."""
        return np.asarray(self.sparse_hess(x) @ p, dtype=np.float64)

    def result_point(self, flat: np.ndarray) -> Any:
        """The flat solution in x0's structure (float64 leaves)."""
        return self.unravel(np.asarray(flat, dtype=np.float64))
