"""solvers.minimize: every scipy method with exact derivatives; hess modes; the cache."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import scipy.optimize as so
from scipy.optimize import rosen, rosen_der, rosen_hess, rosen_hess_prod

import dualtape as dt
import solvers
from solvers._objective import ScalarObjective

minimize_module = importlib.import_module("solvers.minimize")


def rosen_np(x):
    """Chained Rosenbrock in plain NumPy (scipy's ``rosen``)."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def ext_rosen(x):
    """Extended Rosenbrock (MGH #21): n/2 uncoupled valleys."""
    odd, even = x[0::2], x[1::2]
    return np.sum(100.0 * (even - odd ** 2) ** 2 + (1.0 - odd) ** 2)


DERIVATIVE_METHODS = ["BFGS", "L-BFGS-B", "CG", "Newton-CG", "trust-ncg", "trust-krylov",
                      "trust-exact", "trust-constr", "SLSQP", "TNC", "dogleg"]
LOOSE = {"TNC": 2e-3, "SLSQP": 2e-3, "Newton-CG": 2e-3, "trust-krylov": 2e-3, "CG": 1e-3}


@pytest.mark.parametrize("method", DERIVATIVE_METHODS)
@pytest.mark.parametrize("n", [2, 10])
def test_every_derivative_method_converges_on_rosenbrock(method, n):
    f = rosen_np if n == 2 else ext_rosen
    x0 = np.tile([-1.2, 1.0], n // 2)
    opts = {"maxfun": 5000} if method == "TNC" else None
    tol = 1e-10 if method == "SLSQP" else None
    res = solvers.minimize(f, x0, method=method, options=opts, tol=tol)
    assert res.success, res.message
    np.testing.assert_allclose(res.x, np.ones(n), atol=LOOSE.get(method, 1e-4))
    assert res.ad_calls["value_and_grad"] + res.ad_calls["hess"] > 0  # derivatives were used


@pytest.mark.parametrize("method", ["Newton-CG", "trust-ncg", "trust-krylov", "trust-constr"])
def test_hessp_mode_converges_without_forming_the_hessian(method):
    res = solvers.minimize(ext_rosen, np.tile([-1.2, 1.0], 5), method=method, hess="hessp")
    assert res.success, res.message
    np.testing.assert_allclose(res.x, 1.0, atol=2e-3)
    assert res.ad_calls["hessp"] > 0 and res.ad_calls["hess"] == 0


@pytest.mark.parametrize("method", ["Nelder-Mead", "Powell", "COBYQA"])
def test_derivative_free_methods_pass_through(method):
    res = solvers.minimize(rosen_np, np.array([-1.2, 1.0]), method=method,
                           options={"maxiter": 5000} if method != "COBYQA" else None)
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-3)
    assert res.ad_calls["value_and_grad"] == 0 and 0 < res.ad_calls["plain"] <= res.nfev


@pytest.mark.parametrize("compile", [False, True])
def test_gradient_matches_hand_coded_and_is_given_once_per_point(monkeypatch, compile):
    seen = []

    def counted(vg):
        def wrapped(x):
            seen.append(np.array(x))
            return vg(x)

        return wrapped

    if compile:  # count the replays: the Compiled's value_and_grad, wrapped
        real_compile = dt.compile

        def spy_compile(f, *args, **kwargs):
            cf = real_compile(f, *args, **kwargs)
            cf.value_and_grad = counted(cf.value_and_grad)
            return cf

        monkeypatch.setattr(importlib.import_module("solvers._replay").dt, "compile",
                            spy_compile)
    else:
        real = solvers._derivatives.value_and_grad
        monkeypatch.setattr(solvers._derivatives, "value_and_grad", lambda f: counted(real(f)))
    x0 = np.tile([-1.2, 1.0], 5)
    res = solvers.minimize(rosen_np, x0, method="L-BFGS-B", compile=compile)
    assert res.compiled is compile
    ref = so.minimize(rosen, x0, jac=rosen_der, method="L-BFGS-B")
    assert res.nit == ref.nit and res.nfev == ref.nfev  # exact gradient: same path
    np.testing.assert_allclose(res.jac, rosen_der(res.x), rtol=1e-10, atol=1e-12)
    assert len(seen) == res.nfev == res.ad_calls["value_and_grad"]
    assert len({x.tobytes() for x in seen}) == len(seen)  # never twice at one point


def test_cache_serves_value_grad_hess_at_one_point():
    calls = []

    def f(x):
        calls.append(type(x).__name__)
        return np.sum(np.exp(x) * x ** 2)

    obj = ScalarObjective(f, np.array([0.5, -1.0]), (), "minimize")
    assert calls == ["ndarray"]  # the plain check at x0
    x = np.array([0.3, 0.2])
    v, g = obj.value_and_grad(x)
    assert obj.value(x) == v and obj.grad(x) is g
    h = obj.hess(x)
    assert obj.hess(x.copy()) is h and obj.value_and_grad(x.copy())[1] is not None
    assert len(calls) == 3  # one plain, one reverse pass, one forward-over-reverse pass
    obj.value_and_grad(np.array([0.3, 0.2 + 1e-12]))  # a new point is recomputed
    assert len(calls) == 4
    np.testing.assert_allclose(h, dt.hessian(f)(x))


def test_hess_modes_reach_scipy_as_documented(monkeypatch):
    captured = {}
    real = so.minimize

    def spy(*args, **kwargs):
        captured.clear()
        captured.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(minimize_module.so, "minimize", spy)
    x0 = np.tile([-1.2, 1.0], 2)
    res = solvers.minimize(ext_rosen, x0, method="Newton-CG", hess="hessp")
    assert callable(captured["hessp"]) and "hess" not in captured
    assert captured["jac"] is True
    assert res.ad_calls["hessp"] > 0 and res.ad_calls["hess"] == 0
    res = solvers.minimize(ext_rosen, x0, method="trust-ncg", hess="exact")
    assert callable(captured["hess"]) and res.nhev > 0
    assert res.nhev <= res.ad_calls["hess"] <= res.nhev + 1  # scipy omits one from nhev
    res = solvers.minimize(ext_rosen, x0, method="trust-exact")  # default: exact
    assert res.ad_calls["hess"] > 0
    res = solvers.minimize(ext_rosen, x0, method="trust-constr", hess="bfgs")
    assert isinstance(captured["hess"], so.BFGS)
    assert res.success and res.ad_calls["hess"] == 0 and res.ad_calls["hessp"] == 0
    res = solvers.minimize(ext_rosen, x0, method="trust-constr", hess="hessp")
    assert callable(captured["hessp"]) and res.ad_calls["hessp"] > 0
    res = solvers.minimize(ext_rosen, x0, method="trust-constr", hess=so.SR1())
    assert isinstance(captured["hess"], so.SR1) and res.success


def test_exact_hessian_and_hvp_match_scipy_hand_coded():
    x = np.random.default_rng(0).uniform(-2, 2, 8)
    obj = ScalarObjective(rosen_np, x, (), "minimize")
    p = np.arange(8.0)
    np.testing.assert_allclose(obj.hess(x), rosen_hess(x), rtol=1e-12)
    np.testing.assert_allclose(obj.hessp(x, p), rosen_hess_prod(x, p), rtol=1e-12)


def test_default_hess_per_method_and_bad_combinations():
    resolve = minimize_module.resolve_hess
    assert resolve("newton-cg", None, 5) == "exact"
    assert resolve("newton-cg", None, 101) == "hessp"
    assert resolve("trust-krylov", None, 10 ** 5) == "hessp"
    assert resolve("dogleg", None, 5) == "exact"
    assert resolve("trust-constr", None, 10) == "exact"
    assert resolve("trust-constr", None, 10_000) == "hessp"
    assert resolve("bfgs", None, 5) == "none"
    with pytest.raises(ValueError, match="uses no Hessian"):
        solvers.minimize(rosen_np, np.zeros(2), method="L-BFGS-B", hess="exact")
    with pytest.raises(ValueError, match="not available with method 'trust-exact'"):
        solvers.minimize(rosen_np, np.zeros(2), method="trust-exact", hess="hessp")
    with pytest.raises(ValueError, match="quasi-Newton"):
        solvers.minimize(rosen_np, np.zeros(2), method="trust-ncg", hess="bfgs")


def test_args_and_user_hess_callable():
    def f(x, a, b):
        return np.sum(a * (x - b) ** 2)

    res = solvers.minimize(f, np.zeros(3), args=(2.0, 1.5), method="trust-exact",
                           hess=lambda x, a, b: 2 * a * np.eye(3))
    np.testing.assert_allclose(res.x, 1.5, atol=1e-8)
    assert res.ad_calls["hess"] == 0


def test_callback_and_default_method_like_scipy():
    xs = []
    res = solvers.minimize(rosen_np, np.array([-1.2, 1.0]), callback=lambda xk: xs.append(xk))
    assert len(xs) == res.nit and res.success  # default BFGS
    results = []
    solvers.minimize(rosen_np, np.array([-1.2, 1.0]), method="trust-constr",
                     callback=lambda intermediate_result: results.append(intermediate_result.x))
    assert len(results) > 5
