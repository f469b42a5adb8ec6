"""Numerical edge cases and the conventions dualtape follows there (docs/reliability.md).

Where a derivative is mathematically undefined (sqrt or log at 0) the result is what
NumPy's formula gives (inf/nan), never a crash. Where a sensible subgradient exists
(abs, norm, ties of max) it is used, so no NaN appears.
"""

from __future__ import annotations

import numpy as np
import pytest

import dualtape as dt

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

FIRST = {
    "grad": lambda f, x: dt.grad(f)(x),
    "jacfwd": lambda f, x: dt.jacfwd(f)(x),
    "jacrev": lambda f, x: dt.jacrev(f)(x),
}


# ---- sqrt, log, pow at 0 ----

@pytest.mark.parametrize("mode", sorted(FIRST))
@pytest.mark.parametrize("x", [0.0, np.float64(0.0), np.array(0.0)])
def test_sqrt_and_log_at_zero_give_inf(mode, x):
    assert FIRST[mode](np.sqrt, x) == np.inf
    assert FIRST[mode](np.log, x) == np.inf
    assert FIRST[mode](lambda t: t ** 0.5, x) == np.inf


@pytest.mark.parametrize("mode", ["grad", "jacrev"])
def test_sqrt_at_zero_only_affects_that_entry(mode):
    g = FIRST[mode](lambda x: np.sum(np.sqrt(x)), np.array([0.0, 4.0]))
    assert g[0] == np.inf and g[1] == 0.25


@pytest.mark.xfail(strict=True, reason="core bug: forward mode multiplies a zero tangent by an "
                                       "infinite partial (0 * inf = nan), so the pole at x[0] "
                                       "poisons the derivative along every other direction")
@pytest.mark.parametrize("f", [np.sqrt, lambda x: x ** 0.5, np.log])
def test_pole_in_one_entry_does_not_poison_other_directions_in_forward_mode(f):
    x = np.array([0.0, 4.0])
    np.testing.assert_array_equal(dt.jacfwd(lambda x: np.sum(f(x)))(x),
                                  dt.grad(lambda x: np.sum(f(x)))(x))


@pytest.mark.parametrize("mode", sorted(FIRST))
@pytest.mark.parametrize("p,expect", [(0, 0.0), (1, 1.0), (2, 0.0), (3, 0.0), (2.0, 0.0),
                                      (1.5, 0.0), (0.5, np.inf)])
def test_integer_and_real_powers_at_zero(mode, p, expect):
    """x**p at 0: exact for integer p (no 0 * inf), inf where NumPy's formula is infinite."""
    assert FIRST[mode](lambda x: x ** p, 0.0) == expect
    g = FIRST[mode](lambda x: np.sum(x ** p), np.zeros(2))
    if mode != "jacfwd" or np.isfinite(expect):   # see the forward-mode pole test above
        np.testing.assert_array_equal(g, [expect, expect])


def test_second_derivatives_of_powers_at_zero():
    assert dt.hessian(lambda x: x ** 2)(0.0) == 2.0
    assert dt.hessian(lambda x: x ** 3)(0.0) == 0.0
    assert dt.hessian(lambda x: x ** 1.5)(0.0) == np.inf
    assert dt.hessian(np.sqrt)(0.0) == -np.inf


def test_zero_base_with_traced_exponent():
    """d/dy 0**y is taken as 0 (log 0 would make it -inf * 0 = nan)."""
    f = lambda x, y: x ** y
    for mode in (dt.jacfwd, dt.jacrev, dt.grad):
        dx, dy = mode(f, argnums=(0, 1))(0.0, 2.0)
        assert dx == 0.0 and dy == 0.0


# ---- kinks: subgradient conventions ----

@pytest.mark.parametrize("mode", sorted(FIRST))
def test_abs_at_zero_is_zero(mode):
    assert FIRST[mode](np.abs, 0.0) == 0.0


@pytest.mark.parametrize("mode", sorted(FIRST))
def test_norm_at_zero_has_subgradient_zero(mode):
    np.testing.assert_array_equal(FIRST[mode](np.linalg.norm, np.zeros(3)), np.zeros(3))
    j = FIRST[mode](lambda x: np.sum(np.linalg.norm(x, axis=1)), np.zeros((2, 3)))
    np.testing.assert_array_equal(j, np.zeros((2, 3)))


def test_norm_away_from_zero_is_the_unit_vector():
    x = np.array([3.0, 4.0])
    np.testing.assert_allclose(dt.grad(np.linalg.norm)(x), x / 5.0)


@pytest.mark.xfail(strict=True, reason="core bug: hypot's rule x/ans is 0/0 = nan at (0, 0); "
                                       "the 2-norm convention (subgradient 0) is not applied")
@pytest.mark.parametrize("mode", sorted(FIRST))
def test_hypot_at_the_origin_follows_the_norm_convention(mode):
    g = FIRST[mode](lambda v: np.hypot(v[0], v[1]), np.zeros(2))
    np.testing.assert_array_equal(g, FIRST[mode](np.linalg.norm, np.zeros(2)))


@pytest.mark.xfail(strict=True, reason="core bug: hessian of norm at 0 is the identity (the "
                                       "x / where(n == 0, 1, n) trick differentiated), while "
                                       "abs''(0) = 0 for the same function in 1-D")
def test_second_derivative_of_norm_at_zero_matches_abs():
    h_norm = dt.hessian(np.linalg.norm)(np.zeros(1))
    h_abs = dt.hessian(lambda v: np.abs(v[0]))(np.zeros(1))
    np.testing.assert_array_equal(h_norm, h_abs)


def test_ties_share_the_derivative():
    np.testing.assert_array_equal(dt.grad(np.max)(np.array([1.0, 3.0, 3.0])), [0.0, 0.5, 0.5])
    assert dt.grad(lambda x: np.maximum(x, 0.0))(0.0) == 0.5
    np.testing.assert_array_equal(dt.jacfwd(np.max)(np.array([2.0, 2.0])), [0.5, 0.5])


# ---- where: the NaN-gradient trap ----

def _naive(x):
    return np.sum(np.where(x > 0, np.log(x), 0.0))


def _safe(x):
    """The documented pattern: make the untaken branch harmless before calling log."""
    positive = x > 0
    return np.sum(np.where(positive, np.log(np.where(positive, x, 1.0)), 0.0))


def test_naive_where_gives_nan_in_reverse_mode():
    """Documented trap (as in JAX and PyTorch): 0 cotangent x inf local derivative = nan."""
    g = dt.grad(_naive)(np.array([0.0, 2.0]))
    assert np.isnan(g[0]) and g[1] == 0.5


def test_naive_where_is_caught_by_debug_nans():
    with dt.debug_nans(), pytest.raises(dt.NaNError, match=r"of log "):
        dt.grad(_naive)(np.array([0.0, 2.0]))


@pytest.mark.parametrize("mode", sorted(FIRST))
def test_safe_where_pattern_has_no_nan(mode):
    x = np.array([0.0, -1.0, 2.0])
    np.testing.assert_array_equal(FIRST[mode](_safe, x), [0.0, 0.0, 0.5])


def test_safe_where_pattern_second_order():
    h = dt.hessian(_safe)(np.array([0.0, -1.0, 2.0]))
    np.testing.assert_array_equal(h, np.diag([0.0, 0.0, -0.25]))


def test_safe_sqrt_at_zero_pattern():
    """sqrt(x) for x > 0 else 0: the same double-where keeps the gradient at 0 finite."""
    def f(x):
        pos = x > 0
        return np.sum(np.where(pos, np.sqrt(np.where(pos, x, 1.0)), 0.0))
    np.testing.assert_array_equal(dt.grad(f)(np.array([0.0, 4.0])), [0.0, 0.25])


# ---- overflow: exp, logsumexp, logaddexp ----

def test_exp_overflow_gives_inf_where_numpy_does_and_exact_elsewhere():
    g = dt.grad(lambda x: np.sum(np.exp(x)))(np.array([1000.0, 0.0]))
    np.testing.assert_array_equal(g, [np.inf, 1.0])


def _stable_logsumexp(x):
    m = dt.stop_gradient(np.max(x))
    return m + np.log(np.sum(np.exp(x - m)))


@pytest.mark.parametrize("mode", sorted(FIRST))
def test_stable_logsumexp_pattern_at_large_arguments(mode):
    x = np.array([1000.0, 999.0, -1000.0])
    softmax = np.exp(x - 1000.0) / np.sum(np.exp(x - 1000.0))
    np.testing.assert_allclose(FIRST[mode](_stable_logsumexp, x), softmax, rtol=1e-14)
    h = dt.hessian(_stable_logsumexp)(x)
    np.testing.assert_allclose(h, np.diag(softmax) - np.outer(softmax, softmax), atol=1e-15)


def test_naive_logsumexp_overflows_to_nan():
    """log(sum(exp(x))) overflows: documented, the stable form above is the fix."""
    g = dt.grad(lambda x: np.log(np.sum(np.exp(x))))(np.array([1000.0, 999.0]))
    assert np.all(np.isnan(g))


def test_logsumexp_drop_in_is_stable():
    special = pytest.importorskip("dualtape.scipy.special")
    x = np.array([1000.0, 999.0])
    softmax = np.exp(x - 1000.0) / np.sum(np.exp(x - 1000.0))
    np.testing.assert_allclose(dt.grad(special.logsumexp)(x), softmax, rtol=1e-14)
    np.testing.assert_allclose(dt.jacfwd(special.logsumexp)(x), softmax, rtol=1e-14)


@pytest.mark.parametrize("mode", sorted(FIRST))
def test_logaddexp_at_large_and_infinite_arguments(mode):
    f = lambda v: np.logaddexp(v[0], v[1])
    np.testing.assert_allclose(FIRST[mode](f, np.array([1000.0, 999.0])),
                               [1 / (1 + np.exp(-1.0)), 1 / (1 + np.exp(1.0))], rtol=1e-13)
    np.testing.assert_array_equal(FIRST[mode](f, np.array([-np.inf, 0.0])), [0.0, 1.0])


@pytest.mark.xfail(strict=True, reason="core bug: logaddexp's partial exp(x - ans) is "
                                       "exp(inf - inf) = nan at x = inf; expit(x - y) gives 1")
def test_logaddexp_at_plus_infinity():
    np.testing.assert_array_equal(dt.grad(lambda v: np.logaddexp(v[0], v[1]))(
        np.array([np.inf, 0.0])), [1.0, 0.0])


def test_saturating_functions_give_zero_not_nan():
    x = np.array([1e3, -1e3])
    np.testing.assert_array_equal(dt.grad(lambda x: np.sum(np.tanh(x)))(x), [0.0, 0.0])
    np.testing.assert_array_equal(dt.grad(lambda x: np.sum(np.arctan(x)))(np.array([1e200])),
                                  [0.0])


# ---- very large and very small values ----

def test_large_values():
    np.testing.assert_array_equal(dt.grad(lambda x: np.sum(x * 2.0))(np.array([1e300, 1e308])),
                                  [2.0, 2.0])
    g = dt.grad(lambda x: np.sum(x ** 2))(np.array([1e200]))
    np.testing.assert_allclose(g, [2e200])     # the value overflows, the gradient does not


def test_small_and_subnormal_values():
    tiny = np.array([1e-300, 5e-324])
    np.testing.assert_array_equal(dt.grad(lambda x: np.sum(x * x))(tiny), 2.0 * tiny)
    np.testing.assert_array_equal(dt.grad(lambda x: np.sum(x * 3.0))(tiny), [3.0, 3.0])
    np.testing.assert_allclose(dt.grad(lambda x: np.sum(np.log(x)))(np.array([1e-300])),
                               [1e300])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(dtype):
    x = np.ones(3, dtype=dtype)
    assert dt.grad(lambda x: np.sum(x * x))(x).dtype == dtype
    assert dt.jacfwd(lambda x: x * x)(x).dtype == dtype
    assert dt.jacrev(lambda x: x * x)(x).dtype == dtype


@pytest.mark.xfail(strict=True, reason="core bug: the gradient takes the dtype of the cotangent "
                                       "(float64 after promotion), not of the float32 argument")
def test_gradient_dtype_follows_the_argument_after_promotion():
    """As in JAX and PyTorch, grad(f)(x) has x's dtype even when f promotes internally."""
    x = np.ones(3, dtype=np.float32)
    g = dt.grad(lambda x: np.sum(x * np.float64(2.0)))(x)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, 2.0)


def test_empty_inputs():
    assert dt.grad(lambda x: np.sum(x * 2.0))(np.zeros(0)).shape == (0,)
    assert dt.jacfwd(lambda x: x * 2.0)(np.zeros(0)).shape == (0, 0)
    assert dt.jacrev(lambda x: x * 2.0)(np.zeros(0)).shape == (0, 0)
    assert dt.hessian(lambda x: np.sum(x * x))(np.zeros(0)).shape == (0, 0)
