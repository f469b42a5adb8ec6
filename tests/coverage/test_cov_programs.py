"""Scientific programs written in plain NumPy/SciPy, differentiated unchanged: each
derivative is checked in forward and reverse mode against finite differences (and
against the closed form where one exists)."""

import numpy as np
import scipy.special as sc
from covhelp import fd_jacobian

import dualtape as dt
import dualtape.scipy.linalg as dsla


def check_both_modes(f, args, rtol=1e-6, atol=1e-7):
    """jacfwd and jacrev of f w.r.t. all args agree with central differences."""
    argnums = tuple(range(len(args)))
    n_out = np.size(f(*args))
    fd = fd_jacobian(f, list(args))
    for jac in (dt.jacfwd(f, argnums=argnums), dt.jacrev(f, argnums=argnums)):
        blocks = jac(*args)
        got = np.concatenate([np.reshape(b, (n_out, -1)) for b in blocks], axis=1)
        np.testing.assert_allclose(got, fd, rtol=rtol, atol=atol)
    return fd


# ---- 1. RK4 integrator of Lotka-Volterra, 50 steps ----

def lotka_volterra(u, p):
    prey, pred = u[0], u[1]
    alpha, beta, delta, gamma = p
    return np.stack([alpha * prey - beta * prey * pred, delta * prey * pred - gamma * pred])


def rk4(u0, p, dt_=0.05, steps=50):
    u = u0
    for _ in range(steps):
        k1 = lotka_volterra(u, p)
        k2 = lotka_volterra(u + 0.5 * dt_ * k1, p)
        k3 = lotka_volterra(u + 0.5 * dt_ * k2, p)
        k4 = lotka_volterra(u + dt_ * k3, p)
        u = u + dt_ / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return u


def test_rk4_lotka_volterra_jacobian_wrt_state_and_parameters():
    u0, p = np.array([1.0, 0.5]), np.array([1.1, 0.4, 0.1, 0.4])
    fd = check_both_modes(rk4, (u0, p), rtol=1e-5)
    assert fd.shape == (2, 6) and np.all(np.isfinite(fd))


# ---- 2. Bratu problem: finite-difference residual with in-place slices ----

def bratu_residual(u, lam=1.5):
    n = u.shape[0]
    h = 1.0 / (n - 1)
    r = np.empty_like(u)
    r[0] = u[0]
    r[-1] = u[-1]
    r[1:-1] = -(u[:-2] - 2.0 * u[1:-1] + u[2:]) / h ** 2 - lam * np.exp(u[1:-1])
    return r


def test_bratu_residual_jacobian_is_the_tridiagonal_one():
    n = 8
    u = 0.3 * np.sin(np.linspace(0.0, np.pi, n))
    check_both_modes(bratu_residual, (u,), rtol=1e-5, atol=1e-5)
    h = 1.0 / (n - 1)
    expected = np.zeros((n, n))
    expected[0, 0] = expected[-1, -1] = 1.0
    for i in range(1, n - 1):
        expected[i, i - 1:i + 2] = [-1 / h ** 2, 2 / h ** 2 - 1.5 * np.exp(u[i]), -1 / h ** 2]
    np.testing.assert_allclose(dt.jacfwd(bratu_residual)(u), expected, rtol=1e-12)
    np.testing.assert_allclose(dt.jacrev(bratu_residual)(u), expected, rtol=1e-12)


# ---- 3. Gaussian-process log marginal likelihood (cholesky + solve) ----

X_GP = np.linspace(-1.0, 1.0, 7)
Y_GP = np.sin(3.0 * X_GP) + 0.1 * np.cos(7.0 * X_GP)


def gp_lml(log_params, x=X_GP, y=Y_GP):
    ell, sf, sn = np.exp(log_params)
    d2 = (x[:, None] - x[None, :]) ** 2
    k = sf ** 2 * np.exp(-0.5 * d2 / ell ** 2) + sn ** 2 * np.eye(x.shape[0])
    low = np.linalg.cholesky(k)
    alpha = np.linalg.solve(low.T, np.linalg.solve(low, y))
    return (-0.5 * y @ alpha - np.sum(np.log(np.diagonal(low)))
            - 0.5 * x.shape[0] * np.log(2.0 * np.pi))


def gp_lml_scipy(log_params, x=X_GP, y=Y_GP):
    ell, sf, sn = np.exp(log_params)
    k = sf ** 2 * np.exp(-0.5 * (x[:, None] - x[None, :]) ** 2 / ell ** 2) + sn ** 2 * np.eye(7)
    c = dsla.cho_factor(k, lower=True)
    return -0.5 * y @ dsla.cho_solve(c, y) - np.sum(np.log(np.diag(c[0])))


def test_gp_log_marginal_likelihood_gradient():
    theta = np.log(np.array([0.6, 1.2, 0.3]))
    check_both_modes(gp_lml, (theta,), rtol=1e-5)
    # closed form: d lml / d theta_j = 0.5 tr((a a^T - K^-1) dK/d theta_j)
    ell, sf, sn = np.exp(theta)
    d2 = (X_GP[:, None] - X_GP[None, :]) ** 2
    kse = sf ** 2 * np.exp(-0.5 * d2 / ell ** 2)
    k = kse + sn ** 2 * np.eye(7)
    kinv = np.linalg.inv(k)
    a = kinv @ Y_GP
    dks = [kse * d2 / ell ** 2, 2.0 * kse, 2.0 * sn ** 2 * np.eye(7)]
    expected = [0.5 * np.trace((np.outer(a, a) - kinv) @ dk) for dk in dks]
    np.testing.assert_allclose(dt.grad(gp_lml)(theta), expected, rtol=1e-9)
    np.testing.assert_allclose(dt.grad(gp_lml_scipy)(theta), expected, rtol=1e-9)
    h = dt.hessian(gp_lml)(theta)
    np.testing.assert_allclose(h, h.T, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(h, fd_jacobian(dt.grad(gp_lml), [theta]), rtol=1e-5,
                               atol=1e-6)


# ---- 4. Black-Scholes price and its greeks (ndtr) ----

def black_scholes(spot, strike, t, rate, vol):
    d1 = (np.log(spot / strike) + (rate + 0.5 * vol ** 2) * t) / (vol * np.sqrt(t))
    d2 = d1 - vol * np.sqrt(t)
    return spot * sc.ndtr(d1) - strike * np.exp(-rate * t) * sc.ndtr(d2)


def test_black_scholes_greeks():
    args = (100.0, 95.0, 0.75, 0.03, 0.25)
    check_both_modes(black_scholes, args, rtol=1e-5, atol=1e-6)
    s, k, t, r, v = args
    d1 = (np.log(s / k) + (r + 0.5 * v ** 2) * t) / (v * np.sqrt(t))
    d2 = d1 - v * np.sqrt(t)
    pdf = np.exp(-0.5 * d1 ** 2) / np.sqrt(2 * np.pi)
    delta, vega = sc.ndtr(d1), s * pdf * np.sqrt(t)
    rho = k * t * np.exp(-r * t) * sc.ndtr(d2)
    theta_t = s * pdf * v / (2 * np.sqrt(t)) + r * k * np.exp(-r * t) * sc.ndtr(d2)
    g = dt.grad(black_scholes, argnums=(0, 2, 3, 4))(*args)
    np.testing.assert_allclose(g, [delta, theta_t, rho, vega], rtol=1e-10)
    gamma = dt.hessian(black_scholes)(*args)
    np.testing.assert_allclose(gamma, pdf / (s * v * np.sqrt(t)), rtol=1e-10)
    fwd = dt.jacfwd(black_scholes, argnums=(0, 2, 3, 4))(*args)
    np.testing.assert_allclose(fwd, [delta, theta_t, rho, vega], rtol=1e-10)


# ---- 5. logistic-regression negative log-likelihood ----

RNG = np.random.default_rng(3)
X_LR = RNG.normal(size=(20, 3))
Y_LR = (RNG.uniform(size=20) < 0.5).astype(float)


def logistic_nll(w, b, x=X_LR, y=Y_LR):
    z = x @ w + b
    return -np.sum(y * sc.log_expit(z) + (1.0 - y) * sc.log_expit(-z))


def test_logistic_regression_gradient_and_hessian():
    w, b = np.array([0.3, -0.7, 0.2]), 0.1
    check_both_modes(logistic_nll, (w, b))
    p = sc.expit(X_LR @ w + b)
    np.testing.assert_allclose(dt.grad(logistic_nll)(w, b), X_LR.T @ (p - Y_LR), rtol=1e-10)
    np.testing.assert_allclose(dt.hessian(logistic_nll)(w, b),
                               X_LR.T @ (X_LR * (p * (1 - p))[:, None]), rtol=1e-10)


# ---- 6. N-body potential energy ----

MASSES = np.array([1.0, 2.0, 0.5, 1.5, 0.8])


def potential(pos, m=MASSES):
    i, j = np.triu_indices(pos.shape[0], k=1)
    r = np.linalg.norm(pos[i] - pos[j], axis=1)
    return -np.sum(m[i] * m[j] / r)


def test_n_body_forces_are_minus_the_gradient():
    pos = np.random.default_rng(5).normal(size=(5, 3))
    check_both_modes(potential, (pos,))
    diff = pos[:, None, :] - pos[None, :, :]
    dist = np.linalg.norm(diff, axis=-1) + np.eye(5)
    force = -np.sum((MASSES[:, None] * MASSES[None, :] / dist ** 3)[..., None] * diff, axis=1)
    np.testing.assert_allclose(-dt.grad(potential)(pos), force, rtol=1e-10)
    h = dt.hessian(potential)(pos).reshape(15, 15)
    np.testing.assert_allclose(h, h.T, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(h, dt.jacrev(dt.grad(potential))(pos).reshape(15, 15),
                               rtol=1e-9, atol=1e-10)
