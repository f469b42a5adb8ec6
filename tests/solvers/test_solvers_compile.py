"""compile=: derivatives replayed from dt.compile give the eager solve, iterate for iterate.

Every test compares a replayed solve (compile=True or the default "auto") with the eager
one (compile=False) on the same problem: the same path through scipy (nit, nfev, the
iterates), the same counts, and ``res.compiled`` saying which happened. The fallback
paths are exercised with functions that cannot be replayed (random numbers inside, a
recording or a replay that fails) and compile=True's typed error.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import scipy.optimize as so
from scipy.optimize import rosen, rosen_der

import dualtape as dt
import solvers
from solvers._derivatives import sparse_available
from solvers._objective import ScalarObjective
from solvers._pytree import ravel_pytree
from solvers._vector import VectorFunction

replay_module = importlib.import_module("solvers._replay")


def rosen_np(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def ext_rosen(x):
    odd, even = x[0::2], x[1::2]
    return np.sum(100.0 * (even - odd ** 2) ** 2 + (1.0 - odd) ** 2)


def noisy(x):
    """Draws a random number on every call: a recording would freeze it (1e-3 * the
    difference of two draws exceeds the check's 1e-9 relative tolerance unless they
    agree to 2e-5: about one run in 10^4)."""
    return rosen_np(x) + 1e-3 * np.random.default_rng().random()


def counting(x, calls=[]):  # noqa: B006 - the changing state is the point
    """Reads Python state that changes on every call: deterministic, never replayable."""
    calls.append(1)
    return rosen_np(x) + 1e-3 * len(calls)


def both(run, **kwargs):
    """(eager, replayed) results of ``run(compile=...)`` and the iterates of each."""
    out = []
    for compile in (False, True):
        path = []
        res = run(compile=compile, callback=lambda xk, *_, p=path: p.append(np.copy(xk)),
                  **kwargs)
        out.append((res, path))
    return out


def assert_same_solve(eager, replayed, rtol=1e-9):
    (e, e_path), (r, r_path) = eager, replayed
    assert e.compiled is False and e.compile_error is None
    assert r.compiled is True and r.compile_error is None, r.compile_error
    assert r.ad_calls["recordings"] >= 1 and e.ad_calls["recordings"] == 0
    for key in ("nit", "nfev", "njev", "nhev"):
        if key in e:
            assert e[key] == r[key], key
    assert len(e_path) == len(r_path) > 0
    for a, b in zip(e_path, r_path):
        np.testing.assert_allclose(b, a, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(r.x_flat, e.x_flat, rtol=rtol, atol=1e-12)
    counted = {k: v for k, v in e.ad_calls.items() if k not in ("recordings", "value_and_grad")}
    assert counted == {k: v for k, v in r.ad_calls.items()
                       if k not in ("recordings", "value_and_grad")}
    # an eager dense Hessian pass also gives value and gradient; a replayed one does not,
    # so a point where scipy asked for H first costs one more (cheap) gradient replay
    extra = r.ad_calls["value_and_grad"] - e.ad_calls["value_and_grad"]
    assert extra == 0 if not e.ad_calls["hess"] else 0 <= extra <= r.ad_calls["hess"]


# ---- minimize: same iterates for every derivative method ----

@pytest.mark.parametrize("method,hess", [
    ("BFGS", None), ("L-BFGS-B", None), ("CG", None), ("TNC", None), ("SLSQP", None),
    ("Newton-CG", "exact"), ("Newton-CG", "hessp"), ("trust-ncg", "exact"),
    ("trust-krylov", "hessp"), ("trust-exact", None), ("dogleg", None),
    ("trust-constr", "exact"), ("trust-constr", "hessp"),
])
def test_minimize_replayed_solve_equals_eager(method, hess):
    x0 = np.tile([-1.2, 1.0], 4)
    f = rosen_np if method not in ("dogleg",) else (lambda x: np.sum((x - 1.0) ** 4) +
                                                    np.sum((x - 0.5) ** 2))

    def run(**kw):
        return solvers.minimize(f, x0, method=method, hess=hess,
                                options={"maxfun": 5000} if method == "TNC" else None, **kw)

    eager, replayed = both(run)
    assert_same_solve(eager, replayed, rtol=1e-8 if method == "trust-constr" else 1e-9)
    assert eager[0].success == replayed[0].success
    if hess == "hessp" or method in ("Newton-CG", "trust-ncg"):
        assert replayed[0].ad_calls["hessp"] + replayed[0].ad_calls["hess"] > 0
        assert replayed[0].ad_calls["recordings"] == 2  # f, and its gradient for H


def test_minimize_default_is_auto_and_matches_hand_coded_scipy():
    x0 = np.tile([-1.2, 1.0], 5)
    res = solvers.minimize(rosen_np, x0, method="L-BFGS-B")
    ref = so.minimize(rosen, x0, jac=rosen_der, method="L-BFGS-B")
    assert res.compiled is True and res.ad_calls["recordings"] == 1
    assert res.nit == ref.nit and res.nfev == ref.nfev == res.ad_calls["value_and_grad"]
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-8)  # rosen_der rounds differently


def test_args_are_passed_and_a_new_solve_records_anew():
    def f(x, c, scale):
        return scale * np.sum((x - c) ** 2) + np.sum(x ** 4)

    x0 = np.zeros(3)
    out = []
    for c in (np.array([1.0, 2.0, 3.0]), np.array([-1.0, 0.5, 0.0])):
        eager = solvers.minimize(f, x0, args=(c, 2.0), method="BFGS", compile=False)
        replayed = solvers.minimize(f, x0, args=(c, 2.0), method="BFGS", compile=True)
        assert replayed.compiled and replayed.nit == eager.nit
        np.testing.assert_allclose(replayed.x, eager.x, rtol=1e-10)
        grad = 2.0 * 2.0 * (replayed.x - c) + 4 * replayed.x ** 3
        np.testing.assert_allclose(grad, 0.0, atol=1e-5)
        out.append(replayed.x)
    assert not np.allclose(out[0], out[1])  # the second solve saw the new c
    res = solvers.minimize(f, x0, args=(np.ones(3), 1.0), method="BFGS", compile=True)
    assert res.compiled  # a third c and another scale: stationary for them
    np.testing.assert_allclose(2.0 * (res.x - 1.0) + 4 * res.x ** 3, 0.0, atol=1e-5)


def test_pytree_x0_with_bounds_replayed():
    def f(p):
        return np.sum((p["w"] - 3.0) ** 2) + (p["b"] + 2.0) ** 2

    x0 = {"w": np.zeros(2), "b": 0.0}
    bounds = [(None, 2.5), (None, None), (-1.0, 1.0)]  # flat order: b, w0, w1 (sorted keys)
    eager = solvers.minimize(f, x0, method="L-BFGS-B", bounds=bounds, compile=False)
    replayed = solvers.minimize(f, x0, method="L-BFGS-B", bounds=bounds, compile=True)
    assert replayed.compiled and replayed.nit == eager.nit
    np.testing.assert_allclose(replayed.x["w"], [3.0, 1.0], atol=1e-6)  # w1 at its bound
    assert abs(float(replayed.x["b"]) + 2.0) < 1e-6
    np.testing.assert_allclose(replayed.x_flat, eager.x_flat, rtol=1e-10)


@pytest.mark.parametrize("method", ["SLSQP", "trust-constr"])
def test_constraints_replayed_equal_eager(method):
    cons = [{"type": "ineq", "fun": lambda x: 1.0 - np.sum(x ** 2)},
            {"type": "eq", "fun": lambda x, a: x[0] - a * x[1], "args": (2.0,)}]

    def run(**kw):
        return solvers.minimize(rosen_np, np.array([0.1, 0.1, 0.1]), method=method,
                                constraints=cons, **kw)

    eager, replayed = both(run)
    assert_same_solve(eager, replayed, rtol=1e-7)
    x = replayed[0].x
    assert np.sum(x ** 2) <= 1.0 + 1e-6 and abs(x[0] - 2.0 * x[1]) < 1e-6
    assert replayed[0].ad_calls["constraint_jac"] > 0


@pytest.mark.parametrize("mode", ["exact", "hessp"])
def test_trust_constr_lagrangian_hessian_replayed(mode):
    con = so.NonlinearConstraint(lambda x: np.stack([x[0] ** 2 + x[1] ** 2, x[0] * x[2]]),
                                 [-np.inf, 0.1], [1.0, np.inf])

    def run(**kw):
        return solvers.minimize(ext_rosen, np.array([0.5, 0.2, 0.3, 0.1]),
                                method="trust-constr", hess=mode, constraints=con, **kw)

    eager, replayed = both(run)
    assert_same_solve(eager, replayed, rtol=1e-7)
    assert replayed[0].ad_calls["constraint_hess"] > 0
    assert replayed[0].ad_calls["recordings"] >= 4  # f, grad f, c, v . c (its gradient)


def test_constraint_hessian_for_any_multipliers_matches_eager():
    """v . c recorded once with v as data: zeros first must not freeze a smaller pattern."""
    x0, unravel = ravel_pytree(np.array([0.3, -0.7, 1.1]))

    def c(x):
        return np.stack([x[0] ** 2 * x[1], np.sin(x[1] * x[2]), x[2] ** 3])

    vf = VectorFunction(c, x0, unravel, (), "minimize", "constraint 0")
    vf.use_compile(True)
    eager = VectorFunction(c, x0, unravel, (), "minimize", "constraint 0")
    rng = np.random.default_rng(1)
    for v in (np.zeros(3), np.array([0.0, 0.0, 1.0]), rng.normal(size=3), rng.normal(size=3)):
        x = x0 + rng.normal(scale=0.1, size=3)
        np.testing.assert_allclose(vf.hess_dense(x, v), eager.hess_dense(x, v), rtol=1e-12,
                                   atol=1e-14)
        p = rng.normal(size=3)
        np.testing.assert_allclose(vf.hess_operator(x, v) @ p, eager.hess_operator(x, v) @ p,
                                   rtol=1e-12, atol=1e-14)
    assert all(r.active for r in vf.replays()) and len(vf.replays()) == 2


def test_replayed_hessian_and_hvp_match_eager_at_many_points():
    rng = np.random.default_rng(0)
    x0 = rng.uniform(-2, 2, 12)
    fns = [ext_rosen, lambda x: np.sum(np.exp(0.1 * np.outer(x, x))) + np.sum(np.sin(x))]
    for f in fns:
        replayed, eager = (ScalarObjective(f, x0, (), "minimize") for _ in range(2))
        replayed.use_compile(True)
        for _ in range(4):
            x, p = rng.uniform(-2, 2, 12), rng.normal(size=12)
            np.testing.assert_allclose(replayed.hess(x), eager.hess(x), rtol=1e-11, atol=1e-11)
            np.testing.assert_allclose(replayed.hessp(x, p), eager.hessp(x, p), rtol=1e-11,
                                       atol=1e-11)
            v1, g1 = replayed.value_and_grad(x)
            v2, g2 = eager.value_and_grad(x)
            assert v1 == pytest.approx(v2, rel=1e-13)
            np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-13)
        assert replayed.replay.active
        assert replayed.counts["hess"] == eager.counts["hess"] == 4
        assert replayed.counts["hessp"] == eager.counts["hessp"] == 4
        # an eager Hessian pass also gives the gradient, a replayed one does not (the
        # first replay is checked against the eager pass, whose gradient is kept)
        assert (eager.counts["value_and_grad"], replayed.counts["value_and_grad"]) == (0, 3)


def test_branches_are_guarded_during_a_solve():
    def f(x):  # two formulas meeting at x0 = 0, which the solve crosses
        return np.sum((x - 1.0) ** 2) + (x[0] * x[1] if x[0] > 0 else x[0] ** 2)

    eager = solvers.minimize(f, np.array([-2.0, 0.0]), method="BFGS", compile=False)
    replayed = solvers.minimize(f, np.array([-2.0, 0.0]), method="BFGS")
    assert replayed.compiled and replayed.ad_calls["recordings"] >= 2  # the other branch
    assert replayed.nit == eager.nit
    np.testing.assert_allclose(replayed.x, eager.x, rtol=1e-12)


# ---- fallbacks and compile=True's error ----

@pytest.mark.parametrize("f", [counting, noisy])
def test_impure_function_falls_back_to_eager_and_says_why(f):
    res = solvers.minimize(f, np.array([-1.2, 1.0]), method="BFGS")
    assert res.compiled is False and res.ad_calls["recordings"] == 1
    assert res.compile_error.startswith("fun: the first replay differs from eager")
    assert res.ad_calls["value_and_grad"] > replay_module.AUTO_AFTER  # went on, eagerly
    assert res.fun < 1.0  # downhill from 24.2, though noise stops BFGS early
    with pytest.raises(solvers.CompileError, match="compile=True, but fun cannot be replayed"):
        solvers.minimize(f, np.zeros(3), method="BFGS", compile=True)


def test_recording_failure_falls_back_or_raises(monkeypatch):
    def broken(*args, **kwargs):
        raise NotImplementedError("no recording today")

    monkeypatch.setattr(replay_module.dt, "compile", broken)
    monkeypatch.setattr(replay_module, "AUTO_AFTER", 1)  # "auto" records at once
    res = solvers.minimize(rosen_np, np.array([-1.2, 1.0]), method="BFGS")
    ref = solvers.minimize(rosen_np, np.array([-1.2, 1.0]), method="BFGS", compile=False)
    assert not res.compiled and res.ad_calls["recordings"] == 0
    assert res.compile_error == "fun: recording failed: NotImplementedError: no recording today"
    np.testing.assert_allclose(res.x, ref.x, rtol=0)
    with pytest.raises(solvers.CompileError, match="no recording today") as info:
        solvers.minimize(rosen_np, np.array([-1.2, 1.0]), method="BFGS", compile=True)
    assert isinstance(info.value, solvers.ObjectiveError)  # caught like any objective error
    lsq = solvers.least_squares(lambda p: p - 1.0, np.zeros(2))
    assert not lsq.compiled and "recording failed" in lsq.compile_error
    with pytest.raises(solvers.CompileError):
        solvers.root(lambda x: x ** 3 - 1.0, np.ones(2) * 2, compile=True)


def test_replay_failing_mid_solve_continues_eagerly(monkeypatch):
    real_compile = dt.compile

    def flaky_compile(f, *args, **kwargs):
        cf = real_compile(f, *args, **kwargs)
        real_vg, calls = cf.value_and_grad, []

        def vg(x):
            calls.append(1)
            if len(calls) == 5:
                raise RuntimeError("generated code hit something")
            return real_vg(x)

        cf.value_and_grad = vg
        return cf

    monkeypatch.setattr(replay_module.dt, "compile", flaky_compile)
    x0 = np.tile([-1.2, 1.0], 3)
    res = solvers.minimize(rosen_np, x0, method="L-BFGS-B")
    ref = solvers.minimize(rosen_np, x0, method="L-BFGS-B", compile=False)
    assert not res.compiled
    assert "a replay of value_and_grad failed where eager succeeded" in res.compile_error
    assert res.nit == ref.nit and res.nfev == ref.nfev == res.ad_calls["value_and_grad"]
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-12)
    with pytest.raises(solvers.CompileError, match="generated code hit something"):
        solvers.minimize(rosen_np, x0, method="L-BFGS-B", compile=True)


def test_the_functions_own_error_is_raised_as_in_eager():
    def f(x):
        if np.any(x > 3.0):  # a guard: the replay re-records there, and f raises
            raise ValueError("outside the model's range")
        return np.sum((x - 5.0) ** 2)

    for compile in (False, "auto", True):
        with pytest.raises(solvers.ObjectiveError, match="outside the model's range") as info:
            solvers.minimize(f, np.zeros(2), method="BFGS", compile=compile)
        assert not isinstance(info.value, solvers.CompileError)


def test_too_many_rerecordings_switch_to_eager(monkeypatch):
    monkeypatch.setattr(replay_module, "RETRACE_LIMIT", 2)

    def f(x):  # the index of the largest entry decides the path, and it keeps moving
        k = np.argmax(np.sin(50.0 * x))
        return np.sum(x ** 2) + 0.01 * x[k]

    res = solvers.minimize(f, np.linspace(0.3, 1.0, 6), method="BFGS")
    ref = solvers.minimize(f, np.linspace(0.3, 1.0, 6), method="BFGS", compile=False)
    assert not res.compiled and "re-recordings" in res.compile_error
    assert res.nit == ref.nit
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-12)


def test_compile_argument_is_checked_and_free_methods_record_nothing():
    with pytest.raises(ValueError, match="compile must be 'auto', True or False"):
        solvers.minimize(rosen_np, np.zeros(2), compile="yes")
    res = solvers.minimize(rosen_np, np.array([-1.2, 1.0]), method="Nelder-Mead", compile=True)
    assert res.compiled is False and res.compile_error is None
    assert res.ad_calls["recordings"] == 0


# ---- least_squares, root, fsolve, curve_fit ----

T = np.linspace(0.0, 3.0, 25)
Y = 2.0 * np.exp(-1.3 * T) + 0.5 + 0.01 * np.sin(7 * T)


def residuals(p, t, y):
    return p[0] * np.exp(-p[1] * t) + p[2] - y


@pytest.mark.parametrize("method", ["trf", "dogbox", "lm"])
def test_least_squares_replayed_equals_eager(method):
    out = [solvers.least_squares(residuals, np.ones(3), method=method, args=(T, Y),
                                 compile=c) for c in (False, True)]
    eager, replayed = out
    assert replayed.compiled and not eager.compiled
    assert replayed.nfev == eager.nfev and replayed.njev == eager.njev
    assert replayed.ad_calls["jac"] - replayed.njev in (0, 1)  # + the check at x0
    np.testing.assert_allclose(replayed.x, eager.x, rtol=1e-10)
    np.testing.assert_allclose(replayed.jac, eager.jac, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("method", ["hybr", "lm", "newton", "newton-krylov"])
def test_root_replayed_equals_eager(method):
    def F(x, a):
        return np.stack([x[0] ** 2 + x[1] ** 2 - a, x[0] - x[1] ** 3, np.sin(x[2]) - 0.5])

    out = [solvers.root(F, np.array([1.0, 0.5, 0.2]), args=(4.0,), method=method,
                        compile=c) for c in (False, True)]
    eager, replayed = out
    assert replayed.compiled and replayed.success and replayed.ad_calls["recordings"] == 1
    np.testing.assert_allclose(replayed.x, eager.x, rtol=1e-12)
    counted = {k: v for k, v in eager.ad_calls.items() if k != "recordings"}
    assert counted == {k: v for k, v in replayed.ad_calls.items() if k != "recordings"}
    np.testing.assert_allclose(F(replayed.x, 4.0), 0.0, atol=1e-9)


def test_root_jacobian_free_methods_record_nothing():
    res = solvers.root(lambda x: x ** 3 - 8.0, np.ones(2) * 1.5, method="broyden1", compile=True)
    assert res.success and not res.compiled and res.compile_error is None


def test_fsolve_and_curve_fit_report_in_infodict():
    x, info, ier, _ = solvers.fsolve(lambda x: np.cos(x) - x, np.array([1.0]), full_output=True,
                                     compile=True)
    assert ier == 1 and info["compiled"] is True and info["compile_error"] is None
    np.testing.assert_allclose(x, [0.7390851332], rtol=1e-9)
    x_e = solvers.fsolve(lambda x: np.cos(x) - x, np.array([1.0]), compile=False)
    np.testing.assert_allclose(x, x_e, rtol=1e-14)

    def model(t, a, k, c):
        return a * np.exp(-k * t) + c

    popt, pcov, info, _, _ = solvers.curve_fit(model, T, Y, p0=[1.0, 1.0, 0.0],
                                               full_output=True, compile=True)
    popt_e, pcov_e = solvers.curve_fit(model, T, Y, p0=[1.0, 1.0, 0.0], compile=False)
    assert info["compiled"] is True
    np.testing.assert_allclose(popt, popt_e, rtol=1e-10)
    np.testing.assert_allclose(pcov, pcov_e, rtol=1e-8)



def test_short_solves_stay_eager_and_random_models_are_refused(monkeypatch):
    x, info, ier, _ = solvers.fsolve(lambda x: np.cos(x) - x, np.array([1.0]), full_output=True)
    assert ier == 1 and info["compiled"] is False  # one Jacobian: not worth recording
    assert "fewer than 4 derivatives" in info["compile_error"]

    def model(t, a):  # the random factor would be a constant of a recording
        return a * t * (1.0 + 1e-3 * np.random.random())

    with pytest.raises(solvers.CompileError, match="differs from eager differentiation"):
        solvers.curve_fit(model, T, Y, p0=[1.0], compile=True)
    monkeypatch.setattr(replay_module, "AUTO_AFTER", 1)
    _, _, info, _, _ = solvers.curve_fit(model, T, Y, p0=[1.0], full_output=True)
    assert info["compiled"] is False
    assert "differs from eager differentiation" in info["compile_error"]


@pytest.mark.skipif(not sparse_available(), reason="dualtape has no sparse Jacobians")
def test_sparse_jacobians_stay_eager():
    def F(x):
        return np.concatenate([x[:1] - 1.0, x[1:] - x[:-1] ** 2])

    res = solvers.least_squares(F, np.full(6, 0.5), sparse=True)
    assert not res.compiled and "sparse Jacobian" in res.compile_error
    with pytest.raises(solvers.CompileError, match="use sparse=False"):
        solvers.least_squares(F, np.full(6, 0.5), sparse=True, compile=True)


# ---- value-dependent choices (argmax, order) as seen from solvers ----

def test_second_derivatives_of_max_are_replayed():
    """max's tie weights are observed values: the recorded gradient recomputes them, so
    Hessian-vector products stay right when the argmax moves during the solve."""
    def f(x):
        return np.sum(x ** 2) + np.max(x) ** 2 + 0.1 * np.sum(x ** 4)

    x0 = np.array([3.0, 2.0, 1.0])
    eager = solvers.minimize(f, x0, method="Newton-CG", hess="hessp", compile=False)
    auto = solvers.minimize(f, x0, method="Newton-CG", hess="hessp", compile=True)
    assert auto.success and auto.compiled, auto.compile_error
    assert auto.nit == eager.nit
    np.testing.assert_allclose(auto.x, eager.x, rtol=1e-12, atol=1e-14)


def test_gradient_of_a_median_follows_the_order():
    def f(x):
        return np.median(x) ** 2 + np.sum(x ** 2)

    x0 = np.array([0.5, -0.2, 0.9, -0.7])
    obj = ScalarObjective(f, x0, (), "minimize")
    obj.use_compile(True)
    np.testing.assert_allclose(obj.grad(x0 + 0.01), dt.grad(f)(x0 + 0.01), rtol=1e-12)
    assert obj.replay.active  # the first replay (same order) matched eager
    x = np.array([0.9, -0.8, 0.2, -0.1])  # another order: the replay keeps the old one
    np.testing.assert_allclose(obj.grad(x), dt.grad(f)(x), rtol=1e-12)
