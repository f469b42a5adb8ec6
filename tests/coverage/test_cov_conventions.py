"""The documented conventions (docs/conventions.md), one assertion each, in both modes;
and Python control flow on traced values."""

import numpy as np
import pytest
import scipy.special as sc

import dualtape as dt
import dualtape.scipy.special as dsc


def grads(f, x):
    """The gradient in reverse mode and in forward mode (they must agree)."""
    g_rev = dt.grad(f)(x)
    g_fwd = dt.jacfwd(f)(x)
    np.testing.assert_allclose(g_rev, g_fwd)
    return g_rev


# ---- kinks ----

def test_abs_at_zero_is_zero():
    np.testing.assert_allclose(grads(lambda x: np.sum(np.abs(x)), np.array([0.0, -2.0, 3.0])),
                               [0.0, -1.0, 1.0])


def test_maximum_minimum_ties_share_half():
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(grads(lambda x: np.sum(np.maximum(x, 2.0)), x), [0, 0.5, 1])
    np.testing.assert_allclose(grads(lambda x: np.sum(np.minimum(x, 2.0)), x), [1, 0.5, 0])
    np.testing.assert_allclose(grads(lambda x: np.sum(np.fmax(x, np.nan)), x), [1, 1, 1])


def test_max_reduction_ties_share_equally():
    np.testing.assert_allclose(grads(lambda x: np.max(x), np.array([3.0, 1.0, 3.0, 3.0])),
                               [1 / 3, 0, 1 / 3, 1 / 3])


def test_clip_passes_on_the_closed_interval():
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    np.testing.assert_allclose(grads(lambda x: np.sum(np.clip(x, 0.0, 1.0)), x),
                               [0, 1, 1, 1, 0])


def test_sqrt_at_zero_gives_what_numpy_gives():
    with np.errstate(divide="ignore"):
        assert np.isinf(dt.grad(np.sqrt)(0.0))


def test_norm_at_zero_is_the_zero_subgradient():
    z = np.zeros(3)
    np.testing.assert_allclose(grads(np.linalg.norm, z), np.zeros(3))
    np.testing.assert_allclose(dt.grad(lambda x: np.linalg.norm(x, axis=0).sum())(
        np.zeros((2, 2))), np.zeros((2, 2)))


def test_prod_is_exact_with_zeros():
    np.testing.assert_allclose(grads(np.prod, np.array([2.0, 0.0, 3.0])), [0, 6, 0])
    np.testing.assert_allclose(grads(np.prod, np.array([0.0, 0.0, 3.0])), [0, 0, 0])
    np.testing.assert_allclose(grads(lambda x: np.sum(np.cumprod(x)), np.array([2.0, 0.0, 3.0])),
                               [1, 2 + 6, 0])


def test_sort_gradient_follows_the_permutation_with_stable_ties():
    x = np.array([3.0, 1.0, 1.0, 2.0])
    w = np.array([1.0, 10.0, 100.0, 1000.0])
    # sorted = [x1, x2, x3, x0] (stable: the first 1.0 comes first)
    np.testing.assert_allclose(grads(lambda x: np.sort(x) @ w, x), [1000, 1, 10, 100])
    np.testing.assert_allclose(grads(lambda x: np.median(x), np.array([5.0, 1.0, 3.0])),
                               [0, 0, 1])


def test_interp_uses_the_right_segment_at_knots_and_is_flat_outside():
    xp, fp = np.array([0.0, 1.0, 3.0]), np.array([0.0, 2.0, 3.0])
    g = lambda x: dt.grad(lambda x: np.interp(x, xp, fp))(x)
    assert g(0.5) == 2.0 and g(1.0) == 0.5 and g(2.0) == 0.5 and g(-1.0) == 0.0
    assert g(5.0) == 0.0


def test_logsumexp_is_stable_and_its_gradient_is_softmax():
    x = np.array([1000.0, 1001.0, -np.inf])
    g = grads(lambda x: dsc.logsumexp(x), x)
    np.testing.assert_allclose(g, sc.softmax(x))
    assert np.isfinite(dsc.logsumexp(x))


def test_eigh_reads_the_lower_triangle():
    a = np.array([[2.0, 100.0], [0.5, 1.0]])  # the upper entry is ignored, as by LAPACK
    g = dt.grad(lambda a: np.sum(np.linalg.eigvalsh(a) ** 2))(a)
    np.testing.assert_allclose(g, [[4.0, 0.0], [2.0, 2.0]])


def test_cholesky_derivative_is_with_respect_to_the_lower_triangle():
    a = np.array([[4.0, 2.0], [2.0, 3.0]])
    g = dt.grad(lambda a: np.sum(np.linalg.cholesky(a)))(a)
    assert g[0, 1] == 0.0 and g[1, 0] != 0.0


def test_svd_of_non_square_full_matrices_raises():
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        dt.grad(lambda a: np.sum(np.linalg.svd(a)[0]))(np.ones((3, 2)))
    s = dt.grad(lambda a: np.sum(np.linalg.svd(a, compute_uv=False)))(np.eye(3)[:, :2] * 2)
    np.testing.assert_allclose(s, np.eye(3)[:, :2])


def test_floor_round_sign_and_comparisons_have_no_derivative():
    f = lambda x: np.floor(x) * x + np.round(x) + np.sign(x) * x + (x > 0) * x
    np.testing.assert_allclose(grads(lambda x: np.sum(f(x)), np.array([1.5, -0.5])),
                               [1 + 1 + 1, -1 - 1 + 0])


# ---- control flow ----

def test_python_control_flow_on_traced_scalars():
    def newton_sqrt(a):
        x = a
        while abs(x * x - a) > 1e-12:   # comparisons give plain booleans
            x = 0.5 * (x + a / x)
        return x if a > 1.0 else -x

    np.testing.assert_allclose(dt.grad(newton_sqrt)(4.0), 0.25, rtol=1e-8)
    np.testing.assert_allclose(dt.jacfwd(newton_sqrt)(0.25), -1.0, rtol=1e-8)

    def piecewise(x):
        out = 0.0
        for xi in x:            # iterating a traced array gives traced scalars
            out = out + (xi ** 2 if xi > 0 else -xi)
        return out
    np.testing.assert_allclose(grads(piecewise, np.array([2.0, -1.0, 0.5])), [4, -1, 1])


def test_ufunc_methods_reduce_accumulate_outer():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(dt.grad(lambda x: np.sum(np.add.reduce(x) ** 2))(x),
                               [[8, 12], [8, 12]])  # reduce defaults to axis 0
    np.testing.assert_allclose(dt.grad(lambda x: np.sum(np.multiply.accumulate(x, axis=1)))(x),
                               [[3, 1], [5, 3]])
    np.testing.assert_allclose(dt.jacrev(lambda v: np.subtract.outer(v, v))(np.ones(2))[0, 1],
                               [1, -1])


def test_array_methods_route_to_rules():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    f = lambda x: (x.cumprod() @ np.ones(4) + x.trace() + x.diagonal().sum()
                   + x.repeat(2).sum() + x.take([0, 3]).sum() + x.T.conj().sum())
    dt.check_grads(f, (x,), order=2, modes=("fwd", "rev"))
