"""Tests for solvers.problems: the MGH 1981 test set must match the paper.

The paper's numbers are the oracle: f(x0) where published, f_min at the stored
minimisers, and a finite-difference scipy solve from x0 reaching f_min (which
also checks the transcribed data tables, since one wrong digit moves f_min).
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import least_squares

import dualtape as dt
import solvers.problems as problems_module
from solvers.problems import (
    PROBLEMS,
    TestProblem,
    chebyquad,
    extended_powell_singular,
    extended_rosenbrock,
    get_problem,
    linear_full_rank,
    watson,
)

ALL = list(PROBLEMS.values())
WITH_X_MIN = [p for p in ALL if p.x_min is not None]


def by_name(problems: list[TestProblem]) -> dict:
    """Parametrize kwargs so test ids read as problem names."""
    return {"argvalues": problems, "ids": [p.name for p in problems]}


REQUIRED = [
    "rosenbrock", "freudenstein_roth", "powell_badly_scaled", "brown_badly_scaled", "beale",
    "jennrich_sampson", "helical_valley", "bard", "gaussian", "meyer", "gulf_research",
    "box_3d", "powell_singular", "wood", "kowalik_osborne", "brown_dennis", "biggs_exp6",
    "watson_6", "extended_rosenbrock_10", "extended_rosenbrock_100", "broyden_tridiagonal_10",
]

# f(x0) as tabulated for the MGH set (6 significant digits), or exact by hand where
# marked. Only values known independently of this implementation are listed.
F_AT_X0 = {
    "rosenbrock": 24.2,
    "freudenstein_roth": 400.5,
    "powell_badly_scaled": 1.13526,
    "brown_badly_scaled": 9.99998e11,
    "beale": 14.203125,  # 1.5**2 + 2.25**2 + 2.625**2, exact
    "jennrich_sampson": 4171.31,
    "helical_valley": 2500.0,
    "bard": 41.6817,
    "gaussian": 3.88811e-6,
    "meyer": 1.69361e9,
    "box_3d": 1031.15,
    "powell_singular": 215.0,
    "wood": 19192.0,
    "brown_dennis": 7.92669e6,
    "osborne_1": 0.879026,
    "watson_6": 30.0,  # 29 residuals of -1 plus x2 - x1**2 - 1 = -1, exact
    "watson_9": 30.0,
    "extended_rosenbrock_10": 5 * 24.2,
    "extended_rosenbrock_100": 50 * 24.2,
    "penalty_i_4": (30.0 - 0.25) ** 2 + 1e-5 * (0 + 1 + 4 + 9),  # exact
    "broyden_tridiagonal_10": 8 * 1.0 + 2.0**2 + 3.0**2,  # exact: -1 inside, -2, -3 at ends
    "broyden_banded_10": 10 * 36.0,  # exact: every residual is -6
    "linear_full_rank_10_20": 10 * 1.0 + 10 * 4.0,  # exact
}

# Problems where a local solver from x0 is known (from the paper's notes) to stop
# at a documented local minimum instead of f_min; either value is accepted.
LOCAL_MINIMA = {
    "freudenstein_roth": 48.9842,
    "trigonometric_10": 2.79506e-5,
    "brown_almost_linear_10": 1.0,
}

# Every other problem, Meyer and Gulf included, is solved by MINPACK's
# Levenberg-Marquardt with finite differences at tight tolerances, so nothing is
# exempted to a finiteness-only check. Add a name here (with a reason) if a
# scipy upgrade stops solving one; the test then only checks the result is finite.
FINITE_ONLY: dict[str, str] = {}


def central_jacobian(fun, x: np.ndarray) -> np.ndarray:
    """Central differences, step scaled to |x|: the independent reference for AD."""
    h = 1e-6 * np.maximum(1.0, np.abs(x))
    steps = np.diag(h)
    cols = [(fun(x + d) - fun(x - d)) / (2.0 * hj) for d, hj in zip(steps, h, strict=True)]
    return np.stack(cols, axis=1)


def close_to(value: float, target: float, rtol: float = 1e-5, atol: float = 1e-10) -> bool:
    return abs(value - target) <= atol + rtol * abs(target)


def test_registry_has_the_required_problems() -> None:
    missing = [name for name in REQUIRED if name not in PROBLEMS]
    assert not missing
    assert all(key == p.name for key, p in PROBLEMS.items())
    assert len(PROBLEMS) >= 35


def test_get_problem_and_typo_hint() -> None:
    assert get_problem("wood") is PROBLEMS["wood"]
    with pytest.raises(KeyError, match="rosenbrock"):
        get_problem("rosenbrok")


def test_module_docstring_example_runs() -> None:
    result = doctest.testmod(problems_module)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("p", **by_name(ALL))
def test_shapes_and_finite_at_x0(p: TestProblem) -> None:
    assert p.x0.shape == (p.n,)
    assert not p.x0.flags.writeable  # shared data; and residuals must not write into x
    r = p.residuals(p.x0)
    assert isinstance(r, np.ndarray) and r.shape == (p.m,)
    f = p.objective(p.x0)
    assert np.isfinite(f)
    assert f == pytest.approx(float(np.sum(r**2)), rel=1e-14)
    assert p.source.startswith("MGH 1981 #")
    assert np.isnan(p.f_min) or p.f_min >= 0.0


@pytest.mark.parametrize("name", sorted(F_AT_X0))
def test_objective_at_x0_matches_published(name: str) -> None:
    p = PROBLEMS[name]
    assert p.objective(p.x0) == pytest.approx(F_AT_X0[name], rel=5e-6)


@pytest.mark.parametrize("p", **by_name(WITH_X_MIN))
def test_objective_at_x_min_is_f_min(p: TestProblem) -> None:
    f = float(p.objective(p.x_min))
    if p.f_min == 0.0:
        assert f <= 1e-20
    else:
        assert close_to(f, p.f_min)


@pytest.mark.parametrize("p", **by_name(WITH_X_MIN))
def test_x_min_cannot_be_improved(p: TestProblem) -> None:
    """A solver started at x_min gains nothing: it is a minimiser, not just a level point."""
    fit = least_squares(p.residuals, p.x_min, method="lm", xtol=1e-15, ftol=1e-15)
    assert 2.0 * fit.cost >= p.f_min * (1.0 - 1e-5) - 1e-20


@pytest.mark.parametrize("p", **by_name(ALL))
def test_finite_difference_solve_from_x0(p: TestProblem) -> None:
    fit = least_squares(
        p.residuals, p.x0, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=5000
    )
    f = 2.0 * fit.cost  # least_squares' cost is half the sum of squares
    assert np.isfinite(f)
    if p.name in FINITE_ONLY:
        return
    if p.name in LOCAL_MINIMA:
        assert close_to(f, p.f_min) or close_to(f, LOCAL_MINIMA[p.name])
    else:
        assert close_to(f, p.f_min), f"{p.name}: reached {f:.6g}, f_min {p.f_min:.6g}"


@pytest.mark.parametrize("p", **by_name(ALL))
@pytest.mark.parametrize("mode", ["jacfwd", "jacrev"])
def test_residuals_trace_through_dualtape(p: TestProblem, mode: str) -> None:
    """The point of plain-NumPy residuals: both AD modes must trace them unchanged."""
    x = p.x0 + 0.01 * (np.arange(p.n) % 3 + 1)  # off x0, where some terms vanish
    jac = np.asarray(getattr(dt, mode)(p.residuals)(x))
    ref = central_jacobian(p.residuals, x)
    assert jac.shape == (p.m, p.n)
    assert np.max(np.abs(jac - ref)) <= 1e-5 * (1.0 + np.max(np.abs(ref)))


def test_helical_valley_theta_matches_paper_branches() -> None:
    """The arctan2 form must equal the paper's arctan(x2/x1)/(2 pi) (+1/2 if x1 < 0)."""
    p = PROBLEMS["helical_valley"]
    rng = np.random.default_rng(0)
    for x1, x2 in rng.uniform(-3.0, 3.0, size=(200, 2)):
        paper = np.arctan(x2 / x1) / (2.0 * np.pi) + (0.5 if x1 < 0 else 0.0)
        f1 = p.residuals(np.array([x1, x2, 0.0]))[0]  # 10 * (0 - 10 * theta)
        assert -f1 / 100.0 == pytest.approx(paper, abs=1e-13)


finite_floats = st.floats(-3.0, 3.0, allow_nan=False)


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, 8, elements=finite_floats))
def test_extended_problems_are_sums_of_blocks(x: np.ndarray) -> None:
    """The interleaving keeps the paper's order and each block is the 2-/4-variable problem."""
    ros, ext_ros = PROBLEMS["rosenbrock"], extended_rosenbrock(8)
    blocks = np.concatenate([ros.residuals(x[i : i + 2]) for i in range(0, 8, 2)])
    np.testing.assert_allclose(ext_ros.residuals(x), blocks, rtol=1e-14)
    pow4, ext_pow = PROBLEMS["powell_singular"], extended_powell_singular(8)
    blocks = np.concatenate([pow4.residuals(x[i : i + 4]) for i in range(0, 8, 4)])
    np.testing.assert_allclose(ext_pow.residuals(x), blocks, rtol=1e-14)


def test_factories_build_other_sizes_and_reject_bad_ones() -> None:
    assert extended_rosenbrock(1000).residuals(extended_rosenbrock(1000).x0).shape == (1000,)
    assert linear_full_rank(5, 50).f_min == 45.0
    assert chebyquad(10).f_min == 6.50395e-3
    assert watson(12).f_min == 4.72238e-10
    assert np.isnan(watson(7).f_min)  # the paper gives no value for n = 7
    for bad in (lambda: extended_rosenbrock(3), lambda: extended_powell_singular(6),
                lambda: watson(40), lambda: linear_full_rank(5, 4), lambda: chebyquad(5, 3)):
        with pytest.raises(ValueError):
            bad()


def test_problems_are_frozen() -> None:
    p = PROBLEMS["wood"]
    with pytest.raises(AttributeError):
        p.n = 5  # type: ignore[misc]
    with pytest.raises(ValueError):
        p.x0[0] = 1.0
