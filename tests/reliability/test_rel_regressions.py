"""Minimal reproductions of core bugs the reliability suite found, kept as regressions.

A fixed bug stays here as a plain test; an open one is marked xfail(strict=True) so its
fix is noticed (the lead removes the mark) and the fuzzer in test_rel_fuzz.py steers
around it through ``rel_programs.KNOWN_BUGS`` until then.
"""

from __future__ import annotations

import numpy as np
import pytest
import rel_programs

import dualtape as dt

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")   # poles on purpose
X = np.array([0.3, 0.7, -1.1])


# ---- fixed ----

def test_where_with_a_constant_branch_in_chunked_forward_mode():
    """Found by the fuzzer: the zero tangent of a constant branch was not aligned with the
    batch axis, so k != n directions failed to broadcast."""
    f = lambda x: np.where(np.array(True), x, -1.25)
    np.testing.assert_array_equal(dt.jacfwd(f, chunk=2)(X), np.eye(3))
    g = lambda x: np.where(np.array([True, False]), x[:, None], 1.0)
    expect = np.zeros((3, 2, 3))
    expect[:, 0, :] = np.eye(3)
    np.testing.assert_array_equal(dt.jacfwd(g)(X), expect)
    np.testing.assert_array_equal(dt.jacrev(g)(X), expect)


def test_hessian_through_rules_that_use_where_internally():
    """sinc, prod and pow with a traced exponent call np.where inside their rules; the
    second derivative runs those rules on Duals (the same constant-branch bug)."""
    x = np.array([0.3, 0.2])
    h = dt.hessian(lambda x: np.sum(np.sinc(x)))(x)
    fd = _fd_hessian_diag(lambda t: np.sinc(t), x)
    np.testing.assert_allclose(np.diag(h), fd, rtol=1e-6)
    assert h[0, 1] == 0.0 and h[1, 0] == 0.0
    h = dt.hessian(lambda x: np.prod(x))(np.array([0.0, 2.0, 3.0]))
    np.testing.assert_allclose(h, [[0.0, 3.0, 2.0], [3.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
    h = dt.hessian(lambda v: v[0] ** v[1])(np.array([1.5, 2.0]))
    np.testing.assert_allclose(h[0, 0], 2.0)
    np.testing.assert_allclose(h[1, 1], 1.5 ** 2 * np.log(1.5) ** 2)


def _fd_hessian_diag(f, x, h=1e-4):
    return (f(x + h) - 2 * f(x) + f(x - h)) / h ** 2


def test_python_float_at_a_pole_gives_inf_not_zero_division():
    """grad(np.log)(0.0) raised ZeroDivisionError on the Python-float path."""
    with np.errstate(divide="ignore"):
        assert dt.grad(np.log)(0.0) == np.inf
        assert dt.grad(lambda x: x ** 0.5)(0.0) == np.inf
        assert dt.jacfwd(np.log)(0.0) == np.inf


@pytest.mark.parametrize("mode", ["grad", "jacrev", "object API"])
def test_setitem_with_a_repeated_index_last_write_wins(mode):
    """Found by the reliability probes: z[[0, 0]] = [v0, v1] keeps the last write (NumPy),
    so only v1 may receive the cotangent; reverse mode sent it to both."""
    idx = np.array([0, 0])

    def f(a):
        z = np.zeros_like(a)
        z[idx] = np.sin(a[idx]) * np.array([1.0, 2.0])
        return np.sum(z)

    x = np.array([0.3, 0.7])
    expect = np.array([2.0 * np.cos(0.3), 0.0])
    np.testing.assert_allclose(dt.jacfwd(f)(x), expect)     # forward mode is right
    if mode == "grad":
        got = dt.grad(f)(x)
    elif mode == "jacrev":
        got = dt.jacrev(f)(x)
    else:
        t = dt.Tensor(x, requires_grad=True)
        f(t).backward()
        got = t.grad
    np.testing.assert_allclose(got, expect)


def test_augmented_assignment_with_a_repeated_index():
    """z[[0, 0]] += v is z[[0, 0]] = z[[0, 0]] + v in NumPy (buffered): z[0] += v once."""
    idx = np.array([0, 0])

    def g(a):
        z = a * 1.0
        z[idx] += a[1]
        return z

    x = np.array([0.3, 0.7])
    np.testing.assert_allclose(g(x), [1.0, 0.7])
    np.testing.assert_allclose(dt.jacfwd(g)(x), [[1.0, 1.0], [0.0, 1.0]])
    np.testing.assert_allclose(dt.jacrev(g)(x), [[1.0, 1.0], [0.0, 1.0]])


# ---- open ----

@pytest.mark.parametrize("mode", ["jacfwd", "jacrev"])
def test_interp_with_list_breakpoints(mode):
    f = lambda t: np.interp(t, [-5.0, 0.0, 5.0], [1.0, 2.0, 0.0])
    x = np.array([0.3, -0.8])
    np.testing.assert_allclose(getattr(dt, mode)(f)(x), np.diag([-0.4, 0.2]))


@pytest.mark.xfail(strict=True, reason="core bug: np.std of constant data has a nan gradient "
                                       "(sqrt at 0); std = norm(x - mean) / sqrt(n) should take "
                                       "the norm's subgradient 0")
@pytest.mark.parametrize("f", [np.std, np.nanstd])
@pytest.mark.parametrize("n", [1, 3])
def test_std_of_constant_data_has_zero_gradient(f, n):
    x = np.full(n, 2.0)
    np.testing.assert_array_equal(dt.grad(f)(x), np.zeros(n))
    np.testing.assert_array_equal(dt.jacfwd(f)(x), np.zeros(n))


@pytest.mark.xfail(strict=True, reason="core bug: the eigh/eigvalsh vjp multiplies a zero "
                                       "eigenvector cotangent by 1/(w_i - w_j) = inf at a "
                                       "repeated eigenvalue: nan")
@pytest.mark.parametrize("which", ["eigvalsh", "eigh"])
def test_eigenvalues_at_a_repeated_eigenvalue_in_reverse_mode(which):
    """sum(eigvalsh(x I)) = 2x: the derivative 2 is well defined and forward mode gets it."""
    def f(x):
        m = np.eye(2) * x
        w = np.linalg.eigvalsh(m) if which == "eigvalsh" else np.linalg.eigh(m)[0]
        return np.sum(w)
    assert dt.jacfwd(f)(1.0) == 2.0
    assert dt.grad(f)(1.0) == 2.0


def test_known_bugs_list_matches_the_open_regressions():
    """The fuzzer skips only what has an open xfail here; a fixed bug must be fuzzed again."""
    assert rel_programs.KNOWN_BUGS <= {"std-zero-variance", "eigh-degenerate"}
