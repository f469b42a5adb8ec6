"""solvers.minimize: scipy.optimize.minimize with exact derivatives and no boilerplate.

Same name, arguments and result as scipy's ``minimize``; there is no ``jac``
argument because the gradient is always exact: value and gradient come from ONE
reverse pass (handed to scipy with ``jac=True``). ``hess`` says how second-order
information is supplied to the methods that use it:

============  ==============================================================
``"exact"``   dense Hessian, forward-over-reverse (one pass, n tangents)
``"hessp"``   Hessian-vector products, forward-over-reverse, H never formed
``"sparse"``  sparse Hessian (``dt.sparse_hessian``); as products for
              trust-ncg/trust-krylov, which only take dense matrices
``"bfgs"``,   scipy's quasi-Newton updates (``trust-constr`` only; for the
``"sr1"``     others use method="BFGS" or "L-BFGS-B")
None          the default per method: "exact" for trust-exact and dogleg
              (they need the matrix); for Newton-CG, trust-ncg, trust-krylov
              and trust-constr "exact" when n <= ``DENSE_HESSIAN_MAX_N``
              (100), else "hessp"
============  ==============================================================

Why the size switch: the dense Hessian is one forward-over-reverse pass with n
tangents, which up to n ~ 100 costs about as much as ONE Hessian-vector product
(the work is vectorised over the tangents), while a CG solve needs several
products per iteration; beyond that the n x n pass grows quickly (measured in
``benchmarks/solvers_e2e.py``).

``compile`` (default ``"auto"``) records ``fun`` and the nonlinear constraints once
with ``dt.compile`` and replays their gradients, Jacobians, Hessians and
Hessian-vector products from generated code (sparse Hessians stay eager). "auto"
records at the fourth derivative a function is asked for (a shorter solve stays eager:
recording costs several eager evaluations) and differentiates a function that cannot
be recorded eagerly instead; ``res.compiled`` / ``res.compile_error`` say which
happened (see :mod:`solvers._replay`). ``True`` records before the solve and raises
:class:`~solvers.CompileError` instead of falling back; ``False`` is always eager.
Derivative-free methods use plain calls only and record nothing.

A ``HessianUpdateStrategy`` instance (trust-constr) or a callable ``hess(x)``
(given the flat float64 x) is passed through. Methods that use no Hessian
(BFGS, L-BFGS-B, CG, SLSQP, TNC, and the derivative-free Nelder-Mead, Powell,
COBYLA, COBYQA) take ``hess=None`` only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import scipy.optimize as so

from ._callbacks import tracking_callback
from ._objective import ScalarObjective
from ._replay import check_compile
from ._result import compile_report, structured_result
from .constraints import prepare_constraints

__all__ = ["minimize", "HESS_DEFAULTS", "DENSE_HESSIAN_MAX_N"]

#: Methods that use the gradient only.
GRADIENT_METHODS = ("bfgs", "l-bfgs-b", "cg", "slsqp", "tnc")
#: Methods that use no derivative at all.
FREE_METHODS = ("nelder-mead", "powell", "cobyla", "cobyqa")
#: Second-order methods and the hess modes each accepts (first = default).
HESS_DEFAULTS: dict[str, tuple[str, ...]] = {
    "newton-cg": ("exact", "hessp", "sparse"),
    "trust-ncg": ("exact", "hessp", "sparse"),
    "trust-krylov": ("exact", "hessp", "sparse"),
    "trust-exact": ("exact",),
    "dogleg": ("exact",),
    "trust-constr": ("exact", "hessp", "sparse", "bfgs", "sr1"),
}
#: By default the dense Hessian is formed up to this many variables (else hessp).
DENSE_HESSIAN_MAX_N = 100


def _default_method(constraints: Any, bounds: Any) -> str:
    """scipy's own choice: SLSQP with constraints, L-BFGS-B with bounds, else BFGS."""
    if constraints is not None and (isinstance(constraints, dict) or
                                    not isinstance(constraints, (list, tuple)) or
                                    len(constraints) > 0):
        return "slsqp"
    return "l-bfgs-b" if bounds is not None else "bfgs"


def resolve_hess(method: str, hess: Any, n: int) -> str:
    """The hess mode for ``method``: one of HESS_DEFAULTS' names, "strategy",
    "callable" or "none". Raises ValueError for a combination scipy cannot use.

    >>> resolve_hess("trust-ncg", None, 10), resolve_hess("trust-constr", None, 1000)
    ('exact', 'hessp')
    """
    allowed = HESS_DEFAULTS.get(method)
    if allowed is None:
        if hess is None:
            return "none"
        users = ", ".join(HESS_DEFAULTS)
        raise ValueError(f"solvers.minimize: method {method!r} uses no Hessian, so hess must be "
                         f"None (got {hess!r}). Methods that use hess: {users}.")
    if hess is None:
        if "hessp" in allowed:
            return "exact" if n <= DENSE_HESSIAN_MAX_N else "hessp"
        return allowed[0]
    if isinstance(hess, so.HessianUpdateStrategy):
        if method != "trust-constr":
            raise ValueError(f"solvers.minimize: a HessianUpdateStrategy is only accepted by "
                             f"trust-constr, not {method!r}")
        return "strategy"
    if callable(hess):
        return "callable"
    mode = str(hess).lower()
    if mode not in allowed:
        hint = (" (quasi-Newton: use method='BFGS' or 'L-BFGS-B')"
                if mode in ("bfgs", "sr1") else "")
        raise ValueError(f"solvers.minimize: hess={hess!r} is not available with method "
                         f"{method!r}; choose one of {allowed}{hint}")
    return mode


def _second_order(obj: ScalarObjective, method: str, mode: str, hess: Any,
                  args: tuple) -> dict[str, Any]:
    """The hess/hessp keywords for scipy."""
    if mode == "exact":
        return {"hess": obj.hess}
    if mode == "hessp":
        return {"hessp": obj.hessp}
    if mode == "sparse":
        if method in ("trust-ncg", "trust-krylov"):  # they apply hess with np.dot: dense only
            return {"hessp": obj.sparse_hessp}
        return {"hess": obj.sparse_hess}
    if mode in ("bfgs", "sr1"):
        return {"hess": so.BFGS() if mode == "bfgs" else so.SR1()}
    if mode == "strategy":
        return {"hess": hess}
    if mode == "callable":
        return {"hess": (lambda x: hess(x, *args)) if args else hess}
    return {}


def minimize(fun: Callable, x0: Any, args: tuple = (), method: str | None = None,
             bounds: Any = None, constraints: Any = (), hess: Any = None,
             tol: float | None = None, callback: Callable | None = None,
             options: dict | None = None, *, compile: Any = "auto") -> so.OptimizeResult:
    """Minimise a scalar function with scipy, using exact derivatives from dualtape.

    Args:
        fun: ``fun(x, *args) -> float``, written in plain NumPy. ``x`` has the
            structure of ``x0``.
        x0: starting point: an array, or a pytree (dict/list/tuple) of arrays. It
            is converted to float64 whatever its dtype (scipy works in float64).
        args: extra positional arguments of ``fun`` (and not differentiated).
        method: any scipy method name; None picks as scipy does.
        bounds: as scipy (``Bounds`` or (min, max) pairs), on the flat vector
            ``res.x_flat`` (leaves in x0's order; dict keys sorted).
        constraints: dicts ``{"type", "fun", "args"}``, ``NonlinearConstraint`` or
            ``LinearConstraint``, as scipy; exact Jacobians (and for trust-constr
            Hessians) are added. Constraint functions also receive structured x.
        hess: second-order mode, see the module docstring ("exact", "hessp",
            "sparse", "bfgs", "sr1", a HessianUpdateStrategy, a callable or None).
        tol, options: as scipy.
        callback: as scipy (``callback(xk)`` or ``callback(intermediate_result)``),
            with ``x`` in x0's structure.
        compile: ``"auto"`` (default): record fun (and the constraints) once with
            ``dt.compile`` at x0, when the fourth derivative is asked for, and replay
            the derivatives, falling back to eager differentiation for a function that
            cannot be recorded; ``True``: record before the solve, and raise
            :class:`~solvers.CompileError` instead of falling back; ``False``: eager (a
            fresh trace per call). ``args`` are constants of the recording (they do
            not change during a solve).

    Returns:
        scipy's ``OptimizeResult``; ``res.x`` has x0's structure, ``res.x_flat`` is
        the flat vector, ``res.ad_calls`` counts traced or replayed evaluations (and
        ``recordings``), ``res.compiled`` is True when the derivatives were replayed
        to the end of the solve, ``res.compile_error`` says why not (None when compile
        was not asked for or nothing needed derivatives).

    Raises:
        ObjectiveError: fun is not scalar, not finite at x0, does not match x0's
            shape, or cannot be differentiated; or a constraint has such a problem.
        CompileError: ``compile=True`` and a function cannot be replayed.
        ValueError: a ``hess`` mode that the method cannot use.

    >>> import numpy as np, solvers
    >>> rosen = lambda x: np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    >>> res = solvers.minimize(rosen, np.array([-1.2, 1.0]), method="trust-ncg")
    >>> res.success, np.round(res.x, 4)
    (True, array([1., 1.]))
    >>> res.compiled, res.ad_calls["recordings"]     # f, and its gradient for Hessians
    (True, 2)
    >>> res = solvers.minimize(lambda p: np.sum((p["w"] - 3.0) ** 2) + p["b"] ** 2,
    ...                        {"w": np.zeros(2), "b": 1.0})
    >>> np.round(res.x["w"], 6), abs(float(res.x["b"])) < 1e-6
    (array([3., 3.]), True)
    >>> eager = solvers.minimize(rosen, np.array([-1.2, 1.0]), method="BFGS", compile=False)
    >>> replayed = solvers.minimize(rosen, np.array([-1.2, 1.0]), method="BFGS")
    >>> eager.nit == replayed.nit, np.allclose(eager.x, replayed.x, rtol=1e-12)
    (True, True)
    >>> calls = []
    >>> def counting(x):                 # reads state that changes: a recording freezes it
    ...     calls.append(1)
    ...     return rosen(x) + 1e-3 * len(calls)
    >>> res = solvers.minimize(counting, np.array([-1.2, 1.0]), method="BFGS")
    >>> res.compiled, res.compile_error.split(" (")[0]
    (False, 'fun: the first replay differs from eager differentiation at the same point')
    """
    args = args if isinstance(args, tuple) else (args,)
    compile = check_compile(compile, "minimize")
    meth = (method or _default_method(constraints, bounds)).lower()
    free = meth in FREE_METHODS
    obj = ScalarObjective(fun, x0, args, "minimize")
    mode = resolve_hess(meth, hess, obj.n)
    if not free and meth not in GRADIENT_METHODS and meth not in HESS_DEFAULTS:
        raise ValueError(f"solvers.minimize: unknown method {method!r}")

    cons, cfuns = prepare_constraints(constraints, obj.x0, obj.unravel, meth, mode,
                                      compile=compile)
    kwargs: dict[str, Any] = {}
    if free:
        fun_for_scipy: Callable = obj.value
    else:
        obj.use_compile(compile)
        fun_for_scipy, kwargs["jac"] = obj.value_and_grad, True
        if mode == "exact":
            obj.hess(obj.x0)  # also gives value and gradient; a failure here names x0
        else:
            obj.value_and_grad(obj.x0)
        kwargs.update(_second_order(obj, meth, mode, hess, args))
    obj.start()
    contexts = [obj.ctx] + [c.ctx for c in cfuns]
    res = so.minimize(fun_for_scipy, obj.x0, args=(), method=method or meth, bounds=bounds,
                      constraints=cons, tol=tol, options=options,
                      callback=tracking_callback(callback, meth, obj.unravel, contexts),
                      **kwargs)
    calls = dict(obj.counts)
    if cfuns:
        calls["constraint_plain"] = sum(c.counts["plain"] for c in cfuns)
        calls["constraint_jac"] = sum(c.counts["jac"] for c in cfuns)
        calls["constraint_hess"] = sum(c.counts["hess"] for c in cfuns)
    replays = [obj.replay] + [r for c in cfuns for r in c.replays()]
    return compile_report(structured_result(res, obj.unravel, calls), replays)
