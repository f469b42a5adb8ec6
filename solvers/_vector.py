"""Vector functions as scipy wants them: residuals and constraints with exact Jacobians.

:class:`VectorFunction` wraps ``fun(x_tree, *args) -> array`` into callables of
the flat float64 vector: ``value(x)`` (plain call), ``jac(x)`` (dense, by the
cheaper AD mode, or sparse through ``dt.sparse_jacobian_fn``), ``jvp(x, v)``
(matrix-free) and, for constraints, second derivatives of ``v . fun`` (the
constraint's part of the Lagrangian Hessian). Outputs are flattened to 1-D.
The same one-entry cache as the scalar objective serves repeated points.
After :meth:`VectorFunction.use_compile`, dense Jacobians, Jacobian-vector products
and the constraint Hessians are replayed from ``dt.compile`` recordings (eager as the
fallback, see :mod:`solvers._replay`); sparse Jacobians and Hessians stay eager.

>>> import numpy as np
>>> from solvers._pytree import ravel_pytree
>>> x0, unravel = ravel_pytree(np.array([1.0, 2.0]))
>>> vf = VectorFunction(lambda x: x ** 2, x0, unravel, (), "root", "fun")
>>> vf.jac(x0)
array([[2., 0.],
       [0., 4.]])
>>> vf.value(x0), vf.counts["jac"]
(array([1., 4.]), 1)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.sparse.linalg import LinearOperator

from . import _derivatives as D
from ._errors import CompileError, EvalContext, check_finite_vector
from ._objective import same_point
from ._pytree import Unravel
from ._replay import Replay

__all__ = ["VectorFunction"]


class VectorFunction:
    """A vector-valued function of a pytree, seen as a function of a flat vector.

    Args:
        fun: ``fun(x, *args) -> array`` (any shape; flattened to ``(m,)``).
        x0: the flat starting point.
        unravel: rebuilds x's structure from a flat vector.
        args: extra positional arguments of ``fun``.
        who: the public solver name; ``what``: the function's role (for messages).
        sparse: build the Jacobian as a sparse array (needs dualtape's sparse module).
    """

    def __init__(self, fun: Callable, x0: np.ndarray, unravel: Unravel, args: tuple, who: str,
                 what: str, sparse: bool = False) -> None:
        self.x0 = x0
        self.n = x0.size
        self.unravel = unravel
        self.sparse = sparse
        self.ctx = EvalContext(who, what, unravel)
        self.counts = {"plain": 0, "jac": 0, "jvp": 0, "hess": 0}
        if unravel.trivial:
            self.flat = lambda x: np.ravel(fun(x, *args))
        else:
            self.flat = lambda x: np.ravel(fun(unravel(x), *args))
        self._key: np.ndarray | None = None
        self._value: np.ndarray | None = None
        self._jac: Any = None
        self._vj: Callable | None = None
        self._jvp: Callable | None = None
        self._sparse_jac: Callable | None = None
        self._sparse_hess: Callable | None = None
        self._w: np.ndarray | None = None
        self.replay: Replay | None = None
        self._weighted_replay: Replay | None = None
        self._compile: Any = False
        self.m = self._check_x0()

    def _check_x0(self) -> int:
        out = self.ctx.run(lambda: self.flat(self.x0), self.x0)
        self.counts["plain"] += 1
        arr = np.asarray(out)
        if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
            raise self.ctx.error(f"{self.ctx.what} must return real numbers, got {arr.dtype} "
                                 f"at x0")
        value = arr.astype(np.float64)
        self._store(self.x0, value)
        check_finite_vector(self.ctx, self.x0, value, "the value")
        return value.size

    def use_compile(self, mode: Any) -> None:
        """Replay the derivatives from a ``dt.compile`` recording of fun at x0.

        ``mode``: "auto" (recorded at the ``AUTO_AFTER``-th derivative, eager fallback,
        reason in ``self.replay.reason``), True (recorded now; raises
        :class:`~solvers.CompileError` instead of falling back) or False. A sparse
        Jacobian is always eager, so with ``sparse=True`` "auto" records nothing and
        True raises.
        """
        if mode is False:
            return
        self._compile = mode
        if self.sparse:
            self.replay = Replay.not_used(self.ctx.who, self.ctx.what,
                                          "a sparse Jacobian is computed eagerly by "
                                          "dt.sparse_jacobian_fn, not replayed")
            if mode is True:
                raise CompileError(f"solvers.{self.ctx.who}: compile=True, but "
                                   f"{self.replay.reason}; use sparse=False to replay a "
                                   f"dense Jacobian, or compile='auto'")
            return
        self.replay = Replay(self.flat, self.x0, mode, self.ctx.who, self.ctx.what)

    def replays(self) -> list[Replay]:
        """The recordings made for this function (for the result's compile report)."""
        return [r for r in (self.replay, self._weighted_replay) if r is not None]

    def check_jacobian(self) -> None:
        """Differentiate once at x0, so that a non-differentiable function fails now."""
        self.jac(self.x0)

    def start(self) -> None:
        """Mark the end of the checks at x0 (later problems get the iteration context)."""
        self.ctx.started = True

    # ---- the one-entry cache ----

    def _hit(self, x: np.ndarray) -> bool:
        return same_point(x, self._key)

    def _store(self, x: np.ndarray, value: np.ndarray | None, jac: Any = None) -> None:
        if not self._hit(x):
            self._key = np.array(x, dtype=np.float64, copy=True)
            self._value = self._jac = None
        if value is not None:
            self._value = value
        if jac is not None:
            self._jac = jac

    # ---- first order ----

    def value(self, x: np.ndarray) -> np.ndarray:
        """fun(x) flattened to (m,) float64, by a plain call or from the cache."""
        if self._hit(x) and self._value is not None:
            return self._value
        out = self.ctx.run(lambda: self.flat(x), x)
        self.counts["plain"] += 1
        value = np.asarray(out, dtype=np.float64)
        if value.shape != (self.m,):
            raise self.ctx.error(f"{self.where(x)} returned {value.size} values; at x0 it "
                                 f"returned {self.m}")
        self._store(x, value)
        check_finite_vector(self.ctx, x, value, "the value")
        return value

    def where(self, x: np.ndarray) -> str:
        return self.ctx.where(x)

    def jac(self, x: np.ndarray, *_: Any) -> Any:
        """The exact Jacobian (m, n) at x: dense ndarray, or csr_array when sparse."""
        if self._hit(x) and self._jac is not None:
            return self._jac
        if self.sparse:
            if self._sparse_jac is None:
                self._sparse_jac = self.ctx.run(
                    lambda: D.sparse_jacobian(self.flat, self.x0, f"solvers.{self.ctx.who}"),
                    x, "finding the sparsity pattern of")
            jac = self.ctx.run(lambda: self._sparse_jac(x), x, "differentiating")
            self.counts["jac"] += 1
            self._store(x, None, jac)
            check_finite_vector(self.ctx, x, jac.data, "the Jacobian")
            return jac
        if self._vj is None:
            self._vj = D.value_and_jacobian(self.flat)
        first: list = []  # the eager pass also gives the value

        def eager(y: np.ndarray) -> np.ndarray:
            value, jac = self._vj(y)
            first.append(np.asarray(value, dtype=np.float64).reshape(self.m))
            return jac

        rp = self.replay
        call = (lambda: eager(x)) if rp is None else (lambda: rp.call("jacobian", eager, x))
        jac = self.ctx.run(call, x, "differentiating")
        self.counts["jac"] += 1
        jac = np.asarray(jac, dtype=np.float64).reshape(self.m, self.n)
        self._store(x, first[0] if first else None, jac)
        check_finite_vector(self.ctx, x, jac, "the Jacobian")
        return jac

    def jvp(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        """J(x) @ v by forward mode, without forming J."""
        if self._jvp is None:
            self._jvp = D.jvp(self.flat)
        v = np.asarray(v, dtype=np.float64).reshape(self.n)
        rp, jvp = self.replay, self._jvp
        call = (lambda: jvp(x, v)) if rp is None else \
            (lambda: rp.call("jvp", lambda p, t: jvp(p[0], t[0]), (x,), (v,)))
        _, out = self.ctx.run(call, x, "computing a Jacobian-vector product of")
        self.counts["jvp"] += 1
        return np.asarray(out, dtype=np.float64).reshape(self.m)

    # ---- second order: the Hessian of v . fun (a constraint's part of the Lagrangian) ----

    def _weighted(self, v: np.ndarray) -> Callable[[Any], Any]:
        w = np.asarray(v, dtype=np.float64).reshape(self.m)
        flat = self.flat
        return lambda x: np.sum(w * flat(x))

    def _weighted_replay_for(self) -> Replay | None:
        """``(x, w) -> sum(w * fun(x))`` recorded once (w is data: one recording for
        every multiplier vector), or None when not compiling."""
        if self._compile is False or self.sparse:
            return None
        if self._weighted_replay is None:
            flat = self.flat

            def weighted(x: Any, w: Any) -> Any:
                return np.sum(w * flat(x))

            self._weighted_replay = Replay(weighted, self.x0, self._compile, self.ctx.who,
                                           f"{self.ctx.what} (Hessian of v . fun)",
                                           extra=(np.ones(self.m),))
        return self._weighted_replay

    def hess_dense(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        """sum_i v_i Hess fun_i(x), dense (forward-over-reverse)."""
        w = np.asarray(v, dtype=np.float64).reshape(self.m)
        rp = self._weighted_replay_for()

        def eager(y: np.ndarray, w: np.ndarray) -> np.ndarray:
            return D.hessian(self._weighted(w))(y)

        call = (lambda: eager(x, w)) if rp is None else (lambda: rp.call("hessian", eager,
                                                                         x, w))
        out = self.ctx.run(call, x, "computing the Hessian of")
        self.counts["hess"] += 1
        return np.asarray(out, dtype=np.float64).reshape(self.n, self.n)

    def hess_operator(self, x: np.ndarray, v: np.ndarray) -> LinearOperator:
        """sum_i v_i Hess fun_i(x) as a LinearOperator of Hessian-vector products."""
        w = np.asarray(v, dtype=np.float64).reshape(self.m)
        hvp = D.hvp(self._weighted(w))
        rp = self._weighted_replay_for()
        x = np.array(x, dtype=np.float64, copy=True)

        def matvec(p: np.ndarray) -> np.ndarray:
            self.counts["hess"] += 1
            p = np.ravel(p).astype(np.float64)
            call = (lambda: hvp(x, p)) if rp is None else \
                (lambda: rp.call("hvp", lambda q, y, _: hvp(y, q), p, x, w))
            out = self.ctx.run(call, x, "computing a Hessian-vector product of")
            return np.asarray(out, dtype=np.float64)

        return LinearOperator((self.n, self.n), matvec=matvec, rmatvec=matvec, dtype=np.float64)

    def hess_sparse(self, x: np.ndarray, v: np.ndarray) -> Any:
        """sum_i v_i Hess fun_i(x) as a sparse array (pattern found once, for any v)."""
        self._w = np.asarray(v, dtype=np.float64).reshape(self.m)
        if self._sparse_hess is None:
            flat = self.flat
            self._sparse_hess = D.sparse_hessian(lambda y: np.sum(self._w * flat(y)),
                                                 f"solvers.{self.ctx.who}")
        fn = self._sparse_hess
        out = self.ctx.run(lambda: fn(x), x, "computing the sparse Hessian of")
        self.counts["hess"] += 1
        return out
