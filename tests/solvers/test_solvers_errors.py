"""Clear failures: messages name the problem, the function, and (later) iteration and point."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import solvers
from solvers import NonFiniteWarning, ObjectiveError


def test_non_scalar_objective():
    with pytest.raises(ObjectiveError, match=r"must return a scalar.*shape \(3,\).*least_squares"):
        solvers.minimize(lambda x: x ** 2, np.ones(3))


def test_size_one_array_counts_as_scalar():
    res = solvers.minimize(lambda x: np.sum(x ** 2, keepdims=True), np.ones(2), method="BFGS")
    np.testing.assert_allclose(res.x, 0.0, atol=1e-6)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_at_x0(bad):
    with pytest.raises(ObjectiveError, match=r"not finite at x0.*x0 = \[1. 2.\]"):
        solvers.minimize(lambda x: np.sum(x) * bad, np.array([1.0, 2.0]))


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_non_finite_gradient_at_x0_names_the_entry():
    with pytest.raises(ObjectiveError,
                       match=r"gradient of fun is not finite \(entries x\['b'\]\) at x0"):
        solvers.minimize(lambda p: np.sqrt(p["b"]) + p["a"] ** 2, {"a": 1.0, "b": 0.0})


def test_shape_mismatch_between_x0_and_fun():
    A = np.ones((4, 5))
    with pytest.raises(ObjectiveError, match=r"at x0 failed.*vector of 3 entries.*shape"):
        solvers.minimize(lambda x: np.sum((A @ x) ** 2), np.ones(3))
    with pytest.raises(ObjectiveError, match=r"IndexError"):
        solvers.minimize(lambda x: x[5] ** 2, np.ones(3))


def test_wrong_structure_names_x0_layout():
    with pytest.raises(ObjectiveError, match=r"x\['w'\]: \(2,\)"):
        solvers.minimize(lambda p: np.sum(p["W"] ** 2), {"w": np.ones(2)})


def test_non_differentiable_objective():
    with pytest.raises(ObjectiveError, match="not differentiable"):
        solvers.minimize(lambda x: float(x[0]) ** 2 + x[1] ** 2, np.ones(2), method="BFGS")


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_nan_during_the_solve_warns_with_iteration_and_point():
    def f(x):  # finite at x0, NaN once x[0] < 0.5: the line search sees it
        return np.sum((x - 0.0) ** 2) + np.sqrt(x[0] - 0.5)

    with pytest.warns(NonFiniteWarning, match=r"value \(nan\) of fun is not finite at x = "
                                              r"\[.*\] \(evaluation \d+, iteration \d+\)"):
        solvers.minimize(f, np.array([2.0, 1.0]), method="L-BFGS-B")


def test_exception_during_the_solve_has_context():
    def f(x):
        if x[0] < 0.5:
            raise RuntimeError("model blew up")
        return np.sum(x ** 2)

    with pytest.raises(ObjectiveError, match=r"(?s)fun at x = .*iteration \d+\).*model blew up"):
        solvers.minimize(f, np.array([2.0, 1.0]), method="BFGS")


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_residuals_errors():
    with pytest.raises(ObjectiveError,
                       match=r"value of residuals is not finite \(entries x\[1\]\) at x0"):
        solvers.least_squares(lambda x: np.log(x), np.array([1.0, -1.0]))
    with pytest.raises(ObjectiveError, match="a root needs a square system"):
        solvers.root(lambda x: np.stack([x[0], x[1], x[0] * x[1]]), np.ones(2))
    with pytest.raises(ObjectiveError, match="ydata has 5"):
        solvers.curve_fit(lambda x, a: a * x, np.arange(4.0), np.arange(5.0), p0=[1.0])
    with pytest.raises(TypeError, match="exact"):
        solvers.least_squares(lambda x: x, np.ones(2), jac="2-point")


def test_complex_x0_is_rejected():
    with pytest.raises(TypeError, match="complex"):
        solvers.minimize(lambda x: np.sum(x), np.ones(2, complex))


def test_no_warning_on_a_clean_solve():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        solvers.minimize(lambda x: np.sum((x - 1) ** 2), np.zeros(3), method="L-BFGS-B")
