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


# ---- open ----

@pytest.mark.xfail(strict=True, reason="core bug: setitem with a repeated integer index sends "
                                       "the cotangent to every repeated write in reverse mode")
@pytest.mark.parametrize("mode", ["grad", "jacrev", "object API"])
def test_setitem_with_a_repeated_index_last_write_wins(mode):
    """NumPy keeps the last of repeated writes: z[[0, 0]] = [v0, v1] sets z[0] = v1. Only
    v1 may receive the cotangent; forward mode already agrees with that."""
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


@pytest.mark.xfail(strict=True, reason="core bug: z[idx] += v with a repeated index doubles the "
                                       "reverse-mode derivative")
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


def test_known_bugs_list_matches_the_open_regressions():
    """The fuzzer skips only what has an open xfail here; a fixed bug must be fuzzed again."""
    assert rel_programs.KNOWN_BUGS <= {"setitem-repeated-index"}
