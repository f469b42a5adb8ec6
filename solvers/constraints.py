"""Constraints with exact derivatives, in the forms scipy.optimize accepts.

Users write constraints as scipy does: dicts ``{"type": "eq" | "ineq", "fun": c,
"args": (...)}``, :class:`scipy.optimize.NonlinearConstraint` with only ``fun``,
or :class:`scipy.optimize.LinearConstraint` (passed through). Constraint
functions receive ``x`` in the structure of ``x0``. :func:`prepare_constraints`
gives each nonlinear constraint its exact Jacobian and, for ``trust-constr``, the
exact Hessian of ``v . c(x)`` (the constraint's part of the Lagrangian Hessian)
in the form matching the objective's ``hess`` mode: a dense matrix ("exact"), a
LinearOperator of Hessian-vector products ("hessp"), a sparse array ("sparse").
In the quasi-Newton modes ("bfgs", "sr1") constraints keep a quasi-Newton update.
With ``compile`` ("auto" or True) the Jacobians and Hessians are replayed from
``dt.compile`` recordings (the Hessian of ``v . c(x)`` is recorded once with the
multipliers ``v`` as data), as for the objective.

A constraint that cannot be evaluated or differentiated at x0 raises an
:class:`~solvers.ObjectiveError` naming it, before scipy starts.

>>> import numpy as np
>>> from solvers._pytree import ravel_pytree
>>> x0, unravel = ravel_pytree(np.array([1.0, 1.0]))
>>> cons, _ = prepare_constraints({"type": "ineq", "fun": lambda x: 1 - x @ x}, x0, unravel,
...                               "slsqp", "none")
>>> cons[0]["jac"](x0)
array([[-2., -2.]])
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import BFGS, SR1, HessianUpdateStrategy, LinearConstraint, NonlinearConstraint

from ._errors import ObjectiveError
from ._pytree import Unravel
from ._vector import VectorFunction

__all__ = ["prepare_constraints"]

DERIVATIVE_FREE = ("cobyla", "cobyqa")
_FD_STRINGS = ("2-point", "3-point", "cs")


def _as_list(constraints: Any) -> list:
    if constraints is None:
        return []
    if isinstance(constraints, (dict, NonlinearConstraint, LinearConstraint)):
        return [constraints]
    return list(constraints)


def _hess_for(vf: VectorFunction, mode: str, user: Any) -> Any:
    """The constraint Hessian callable hess(x, v) for trust-constr in the given mode."""
    if callable(user):
        return user
    if mode == "exact":
        return vf.hess_dense
    if mode == "hessp":
        return vf.hess_operator
    if mode == "sparse":
        return vf.hess_sparse
    if isinstance(user, HessianUpdateStrategy):
        return user
    return SR1() if mode == "sr1" else BFGS()


def _user_jac(jac: Any, unravel: Unravel, label: str) -> Any:
    """A hand-written constraint Jacobian is kept, but only for a flat x0."""
    if jac is None or (isinstance(jac, str) and jac in _FD_STRINGS) or jac is False:
        return None
    if not callable(jac):
        raise ObjectiveError(f"solvers.minimize: {label} has jac={jac!r}; give a callable or "
                             f"leave it out (the exact Jacobian is computed)")
    if not unravel.trivial:
        raise ObjectiveError(f"solvers.minimize: {label} has a hand-written jac, but x0 is "
                             f"structured; leave jac out (the exact Jacobian is computed)")
    return jac


def prepare_constraints(constraints: Any, x0: np.ndarray, unravel: Unravel, method: str,
                        hess_mode: str, who: str = "minimize", compile: Any = False
                        ) -> tuple[list, list[VectorFunction]]:
    """Rewrite ``constraints`` for scipy with exact derivatives.

    Args:
        constraints: a dict, NonlinearConstraint, LinearConstraint or a sequence of them.
        x0: the flat starting point; ``unravel`` rebuilds its structure.
        method: the lower-case scipy method name.
        hess_mode: the objective's resolved hess mode ("exact", "hessp", "sparse",
            "bfgs", "sr1", "strategy", "callable" or "none").
        who: the public function name, for messages.
        compile: "auto", True or False, as ``solvers.minimize``'s ``compile``.

    Returns:
        ``(scipy_constraints, functions)``: what to give scipy, and the wrapped
        constraint functions (for counting and for the iteration context).
    """
    out: list = []
    functions: list[VectorFunction] = []
    trust_constr = method == "trust-constr"
    free = method in DERIVATIVE_FREE
    for i, con in enumerate(_as_list(constraints)):
        if isinstance(con, LinearConstraint):
            out.append(con)
            continue
        if isinstance(con, dict):
            kind = con.get("type")
            if kind not in ("eq", "ineq") or not callable(con.get("fun")):
                raise ObjectiveError(f"solvers.{who}: constraint {i} must be a dict with "
                                     f"'type' in ('eq', 'ineq') and a callable 'fun'; got "
                                     f"type={kind!r}")
            label = f"constraint {i} ({kind})"
            fun, args, jac, user_hess = con["fun"], tuple(con.get("args", ())), \
                con.get("jac"), None
        elif isinstance(con, NonlinearConstraint):
            label = f"constraint {i} (NonlinearConstraint)"
            fun, args, jac, user_hess, kind = con.fun, (), con.jac, con.hess, None
        else:
            raise ObjectiveError(f"solvers.{who}: constraint {i} is a {type(con).__name__}; "
                                 f"expected a dict, NonlinearConstraint or LinearConstraint")
        vf = VectorFunction(fun, x0, unravel, args, who, label)
        functions.append(vf)
        user_jac = None if free else _user_jac(jac, unravel, label)
        jac = None if free else (user_jac or vf.jac)
        if not free and user_jac is None:
            vf.use_compile(compile)
            if trust_constr and user_hess is None and hess_mode in ("exact", "hessp"):
                vf._weighted_replay_for()  # recorded now: a failure with compile=True is early
            vf.check_jacobian()  # a non-differentiable constraint fails here, named
        vf.start()
        if kind is not None and not trust_constr:
            entry = {"type": kind, "fun": vf.value}
            if jac is not None:
                entry["jac"] = jac
            out.append(entry)
            continue
        if isinstance(con, NonlinearConstraint):
            lb, ub, keep = con.lb, con.ub, con.keep_feasible
        else:
            lb, ub, keep = 0.0, (0.0 if kind == "eq" else np.inf), False
        hess = _hess_for(vf, hess_mode, user_hess) if trust_constr else user_hess
        extra = {} if hess is None else {"hess": hess}
        out.append(NonlinearConstraint(vf.value, lb, ub, jac=jac if jac is not None else
                                       "2-point", keep_feasible=keep, **extra))
    return out, functions
