"""least_squares, curve_fit, root and fsolve with exact Jacobians; the sparse paths."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize as so
import scipy.sparse as sps

import solvers
from solvers._derivatives import sparse_available
from solvers.problems import broyden_tridiagonal, get_problem

needs_sparse = pytest.mark.skipif(
    not sparse_available(),
    reason="dualtape has no dt.sparse_jacobian_fn / dt.sparse_hessian yet (sparse module)")


@pytest.mark.parametrize("name", ["rosenbrock", "helical_valley", "bard", "box_3d",
                                  "kowalik_osborne"])
def test_least_squares_on_mgh(name):
    p = get_problem(name)
    res = solvers.least_squares(p.residuals, p.x0)
    assert res.success
    assert abs(2 * res.cost - p.f_min) <= 1e-7 * max(1.0, p.f_min)
    assert res.njev == res.ad_calls["jac"]  # every Jacobian was exact (and cached once)


def test_least_squares_jacobian_is_exact_and_lm_works():
    p = get_problem("helical_valley")
    res = solvers.least_squares(p.residuals, p.x0, method="lm")
    fd = so.least_squares(p.residuals, p.x0, method="lm")
    np.testing.assert_allclose(res.x, fd.x, atol=1e-6)
    x = res.x
    np.testing.assert_allclose(res.jac, so.approx_fprime(x, p.residuals, 1e-7), atol=1e-4)


def test_least_squares_kwargs_bounds_and_loss():
    t = np.linspace(0, 3, 40)
    y = 2.0 * np.exp(-1.3 * t) + 0.5

    def resid(p, t, *, y):
        return p[0] * np.exp(-p[1] * t) + p[2] - y

    res = solvers.least_squares(resid, np.ones(3), args=(t,), kwargs={"y": y}, loss="soft_l1",
                                bounds=([0, 0, 0], [10, 10, 10]))
    np.testing.assert_allclose(res.x, [2.0, 1.3, 0.5], atol=1e-6)


def test_curve_fit_covariance_matches_scipy():
    rng = np.random.default_rng(1)
    x = np.linspace(0, 4, 50)
    y = 2.5 * np.exp(-0.8 * x) + 0.3 + 0.05 * rng.normal(size=x.size)

    def model(x, a, k, c):
        return a * np.exp(-k * x) + c

    popt, pcov = solvers.curve_fit(model, x, y, p0=[1.0, 1.0, 0.0])
    ref_popt, ref_pcov = so.curve_fit(model, x, y, p0=[1.0, 1.0, 0.0])
    np.testing.assert_allclose(popt, ref_popt, rtol=1e-6)
    np.testing.assert_allclose(pcov, ref_pcov, rtol=1e-4)
    sigma = 0.05 * np.ones_like(x)
    popt, pcov = solvers.curve_fit(model, x, y, sigma=sigma, absolute_sigma=True,
                                   method="trf")
    ref_popt, ref_pcov = so.curve_fit(model, x, y, p0=np.ones(3), sigma=sigma,
                                      absolute_sigma=True, method="trf")
    np.testing.assert_allclose(pcov, ref_pcov, rtol=1e-4)


@pytest.mark.parametrize("method", ["hybr", "lm", "newton", "newton-krylov", "broyden1",
                                    "df-sane"])
def test_root_on_a_small_system(method):
    def F(x):
        return np.stack([x[0] + 0.5 * (x[0] - x[1]) ** 3 - 1.0,
                         0.5 * (x[1] - x[0]) ** 3 + x[1]])

    sol = solvers.root(F, np.zeros(2), method=method)
    assert sol.success, sol.message
    np.testing.assert_allclose(F(sol.x), 0.0, atol=1e-6)
    np.testing.assert_allclose(sol.x, [0.8411639, 0.1588361], atol=1e-6)


def test_root_newton_takes_few_steps_and_backtracks():
    p = broyden_tridiagonal(50)
    sol = solvers.root(p.residuals, p.x0, method="newton")
    assert sol.success and sol.nit <= 8 and np.max(np.abs(sol.fun)) <= 1e-10
    kry = solvers.root(p.residuals, p.x0, method="newton-krylov")
    assert kry.success and kry.njev == 0 and kry.njvp > 0
    np.testing.assert_allclose(kry.x, sol.x, atol=1e-9)
    far = solvers.root(lambda x: np.arctan(x), np.array([1.5]), method="newton")
    assert far.success  # plain Newton diverges from 1.5; the line search saves it


def test_fsolve():
    x = solvers.fsolve(lambda x: np.stack([x[0] * np.cos(x[1]) - 4, x[1] * x[0] - x[1] - 5]),
                       np.array([1.0, 1.0]))
    np.testing.assert_allclose(x, [6.50409711, 0.90841421], atol=1e-7)
    x, info, ier, msg = solvers.fsolve(lambda p: p["a"] ** 3 - 8.0, {"a": 1.0},
                                       full_output=True)
    assert ier == 1 and abs(float(x["a"]) - 2.0) < 1e-10 and info["njev"] >= 1


@pytest.mark.skipif(sparse_available(), reason="only while dualtape lacks sparse Jacobians")
def test_sparse_requested_without_support_is_a_clear_error():
    with pytest.raises(NotImplementedError, match="sparse_jacobian_fn"):
        solvers.least_squares(lambda x: x ** 2 - 1, np.ones(3), sparse=True)
    with pytest.raises(NotImplementedError, match="sparse_hessian"):
        solvers.minimize(lambda x: np.sum(x ** 4), np.ones(3), method="trust-constr",
                         hess="sparse")


@needs_sparse
def test_sparse_least_squares_and_newton_match_dense():
    p = broyden_tridiagonal(120)
    dense = solvers.least_squares(p.residuals, p.x0, sparse=False)
    sparse = solvers.least_squares(p.residuals, p.x0, sparse=True)
    assert sps.issparse(sparse.jac)
    np.testing.assert_allclose(sparse.x, dense.x, atol=1e-8)
    sol = solvers.root(p.residuals, p.x0, method="newton", sparse=True)
    assert sol.success and np.max(np.abs(sol.fun)) < 1e-10


@needs_sparse
@pytest.mark.parametrize("method", ["Newton-CG", "trust-ncg", "trust-constr"])
def test_sparse_hessian_mode(method):
    def f(x):  # extended Rosenbrock: a banded (2 x 2 blocks) Hessian, one minimum
        odd, even = x[0::2], x[1::2]
        return np.sum(100.0 * (even - odd ** 2) ** 2 + (1.0 - odd) ** 2)

    res = solvers.minimize(f, np.tile([-1.2, 1.0], 10), method=method, hess="sparse")
    np.testing.assert_allclose(res.x, 1.0, atol=1e-3)
    assert res.ad_calls["hess"] > 0
