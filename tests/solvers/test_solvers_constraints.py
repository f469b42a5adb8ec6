"""solvers.minimize with constraints: exact Jacobians and Lagrangian Hessians."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import BFGS, LinearConstraint, NonlinearConstraint

import solvers
from solvers._pytree import ravel_pytree
from solvers.constraints import prepare_constraints


def objective(x):
    return (x[0] - 1.0) ** 2 + (x[1] - 2.5) ** 2


# scipy's tutorial problem: the solution is (1.4, 1.7)
TUTORIAL = [
    {"type": "ineq", "fun": lambda x: x[0] - 2 * x[1] + 2},
    {"type": "ineq", "fun": lambda x: -x[0] - 2 * x[1] + 6},
    {"type": "ineq", "fun": lambda x: -x[0] + 2 * x[1] + 2},
]


def circle(x):
    return x[0] ** 2 + x[1] ** 2


@pytest.mark.parametrize("method", ["SLSQP", "trust-constr"])
def test_dict_inequalities(method):
    res = solvers.minimize(objective, np.array([2.0, 0.0]), method=method, tol=1e-10,
                           constraints=TUTORIAL, bounds=[(0, None), (0, None)])
    assert res.success, res.message
    np.testing.assert_allclose(res.x, [1.4, 1.7], atol=1e-5)


@pytest.mark.parametrize("method", ["SLSQP", "trust-constr"])
@pytest.mark.parametrize("style", ["dict", "nonlinear"])
def test_nonlinear_equality_on_the_circle(method, style):
    """min x0 + x1 on x0^2 + x1^2 = 1: the answer is -(1, 1)/sqrt(2)."""
    con = ({"type": "eq", "fun": lambda x: circle(x) - 1.0} if style == "dict"
           else NonlinearConstraint(circle, 1.0, 1.0))
    res = solvers.minimize(lambda x: x[0] + x[1], np.array([0.5, -1.0]), method=method,
                           constraints=[con])
    assert res.success, res.message
    np.testing.assert_allclose(res.x, -np.ones(2) / np.sqrt(2), atol=1e-6)
    assert res.ad_calls["constraint_jac"] > 0


def test_nonlinear_inequality_interval_and_linear_constraint():
    cons = [NonlinearConstraint(circle, -np.inf, 1.0),
            LinearConstraint(np.array([[1.0, -1.0]]), -np.inf, 0.0)]
    res = solvers.minimize(lambda x: -x[0] - 2 * x[1], np.array([0.1, 0.1]),
                           method="trust-constr", constraints=cons)
    np.testing.assert_allclose(res.x, np.array([1.0, 2.0]) / np.sqrt(5), atol=1e-5)


def test_constraint_jacobians_are_exact():
    x0, unravel = ravel_pytree(np.array([0.3, -0.7]))
    cons, _ = prepare_constraints(
        [{"type": "eq", "fun": lambda x: np.stack([np.sin(x[0]) * x[1], x[0] ** 3])},
         NonlinearConstraint(circle, 0, 1)], x0, unravel, "slsqp", "none")
    a, b = x0
    np.testing.assert_allclose(cons[0]["jac"](x0), [[np.cos(a) * b, np.sin(a)], [3 * a ** 2, 0]])
    assert isinstance(cons[1], NonlinearConstraint)
    np.testing.assert_allclose(cons[1].jac(x0), [[2 * a, 2 * b]])
    assert isinstance(cons[1].hess, BFGS)  # SLSQP ignores hess: scipy's default is kept


@pytest.mark.parametrize("mode", ["exact", "hessp"])
def test_trust_constr_lagrangian_hessian(mode):
    x0, unravel = ravel_pytree(np.array([0.3, -0.7]))

    def c(x):
        return np.stack([x[0] ** 2 * x[1], np.exp(x[1])])

    cons, _ = prepare_constraints({"type": "ineq", "fun": c}, x0, unravel, "trust-constr", mode)
    v = np.array([2.0, -0.5])
    a, b = x0
    expected = 2.0 * np.array([[2 * b, 2 * a], [2 * a, 0.0]]) - 0.5 * np.array(
        [[0.0, 0.0], [0.0, np.exp(b)]])
    h = cons[0].hess(x0, v)
    dense = h if mode == "exact" else np.column_stack([h @ e for e in np.eye(2)])
    np.testing.assert_allclose(dense, expected, rtol=1e-12)
    assert (cons[0].lb, cons[0].ub) == (0.0, np.inf)


@pytest.mark.parametrize("hess", [None, "hessp", "bfgs"])
def test_trust_constr_uses_the_constraint_hessian(hess):
    con = NonlinearConstraint(lambda x: np.sum(x ** 2), -np.inf, 1.0)
    res = solvers.minimize(lambda x: np.sum((x - 2.0) ** 2) + x[0] * x[1], np.zeros(3),
                           method="trust-constr", constraints=con, hess=hess, tol=1e-10)
    assert res.success
    assert abs(np.sum(res.x ** 2) - 1.0) < 1e-6
    if hess == "bfgs":
        assert res.ad_calls["constraint_hess"] == 0
    else:
        assert res.ad_calls["constraint_hess"] > 0


def test_pytree_x0_reaches_constraints_in_structure():
    seen = []

    def con(p):
        seen.append(sorted(p))
        return 1.0 - p["a"] ** 2 - np.sum(p["b"] ** 2)

    res = solvers.minimize(lambda p: -p["a"] - np.sum(p["b"]), {"a": 0.0, "b": np.zeros(3)},
                           method="SLSQP", constraints={"type": "ineq", "fun": con})
    assert seen[0] == ["a", "b"]
    np.testing.assert_allclose(res.x["b"], 0.5, atol=1e-5)


def test_non_differentiable_constraint_is_named():
    def bad(x):
        return float(x[0]) - 1.0  # float() drops the derivative

    with pytest.raises(solvers.ObjectiveError, match=r"constraint 1 \(ineq\).*at x0"):
        solvers.minimize(objective, np.zeros(2), method="SLSQP",
                         constraints=[TUTORIAL[0], {"type": "ineq", "fun": bad}])


def test_malformed_constraint_dict():
    with pytest.raises(solvers.ObjectiveError, match="'type' in"):
        solvers.minimize(objective, np.zeros(2), method="SLSQP",
                         constraints={"type": "le", "fun": circle})
