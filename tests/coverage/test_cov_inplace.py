"""In-place writes and arrays built from traced values, in both modes.

Writes into arrays created from a traced value (np.zeros_like(x), np.zeros(n, like=x),
x.copy(), an input) record as functional updates; writes of traced values into plain
NumPy arrays cannot be intercepted and raise a dualtape error naming the fix.
"""

import numpy as np
import pytest
from covhelp import fd_jacobian

import dualtape as dt


def both_modes(f, x, expected=None):
    """jacfwd, jacrev and jvp/vjp agree with central differences."""
    fd = fd_jacobian(f, [x]) if expected is None else expected
    jf, jr = dt.jacfwd(f)(x), dt.jacrev(f)(x)
    n_out = np.size(f(x))
    np.testing.assert_allclose(np.reshape(jf, (n_out, -1)), fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(np.reshape(jr, (n_out, -1)), fd, rtol=1e-6, atol=1e-8)
    dt.check_grads(f, (x,), order=2, modes=("fwd", "rev"))


def issue_example(x):
    y = np.zeros_like(x)
    y[0] = x[1] ** 2
    y[1:] += x[:-1]
    return y


def test_issue_example_values_and_jacobian():
    x = np.array([0.3, -1.2, 2.0, 0.7])
    np.testing.assert_allclose(issue_example(x), [1.44, 0.3, -1.2, 2.0])
    expected = np.array([[0, -2.4, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]])
    both_modes(issue_example, x, expected)


def stencil(u):
    """The scientific pattern: out = np.empty_like(u); out[0] = ...; out[1:-1] = ..."""
    out = np.empty_like(u)
    out[0] = u[0] ** 2 - u[1]
    out[1:-1] = u[:-2] - 2.0 * u[1:-1] + u[2:] + np.sin(u[1:-1])
    out[-1] = u[-1] * u[-2]
    return out


def test_empty_like_stencil():
    both_modes(stencil, np.linspace(-1.0, 1.5, 6))


def test_write_into_a_traced_input_and_a_copy():
    def f(x):
        x = x * 1.0
        x[2] = x[0] * x[1]         # an intermediate written in place
        y = x.copy()
        y[::2] *= 3.0
        y[np.array([1, 1])] = x[3]  # advanced-index write
        return y
    both_modes(f, np.array([0.5, -1.5, 2.0, 0.25]))


def test_in_place_on_the_argument_itself():
    def f(x):
        x[0] = np.exp(x[1])       # the argument inside the transform is traced
        return x * x[0]
    both_modes(f, np.array([0.1, 0.2, 0.3]))


def test_like_constructors_and_array_helper():
    def f(x):
        y = np.zeros(3, like=x)
        y[1] = x[0] * x[1]
        m = np.array([[x[0], 1.0], [y[1], x[1]]], like=x)
        a = dt.array([x[1], 2.0 * x[0]])
        return np.concatenate([np.ravel(m), a, np.full(2, x[0], like=x)])
    both_modes(f, np.array([0.7, -0.4]))


def test_stack_and_hstack_of_traced_scalars():
    f = lambda x: np.stack([x[0] * x[1], np.sin(x[0]), 2.0]) + np.hstack([x[1], x[0], x[1]])
    both_modes(f, np.array([0.4, 1.1]))


def test_forward_mode_sees_the_write_too():
    x = np.array([1.0, 2.0, 3.0])
    out, t = dt.jvp(issue_example, (x,), (np.array([1.0, 0.0, 0.0]),))
    np.testing.assert_allclose(t, [0.0, 1.0, 0.0])
    out, t = dt.jvp(issue_example, (x,), (np.array([0.0, 1.0, 0.0]),))
    np.testing.assert_allclose(t, [4.0, 0.0, 1.0])


def test_ufunc_out_into_traced_array():
    def f(x):
        y = np.zeros_like(x)
        np.multiply(x, x, out=y)
        np.copyto(y, y + 1.0)
        return y
    both_modes(f, np.array([0.5, 2.0]))


def test_np_array_of_traced_values_raises_clear_error():
    with pytest.raises(dt.TracerConversionError, match=r"np\.stack.*dt\.array"):
        dt.grad(lambda x: np.sum(np.array([x[0], x[1]])))(np.ones(2))
    with pytest.raises(dt.TracerConversionError, match="np.asarray"):
        dt.grad(lambda x: np.sum(np.asarray(x)))(np.ones(2))
    with pytest.raises(dt.TracerConversionError):
        dt.jacfwd(lambda x: np.array([x[0], x[1]]))(np.ones(2))


def test_write_into_plain_array_raises_never_silent():
    def element(x):
        y = np.zeros(2)
        y[0] = x[0]
        return y

    def block(x):
        y = np.zeros(3)
        y[1:] = x
        return y

    for f in (element, block):
        for transform in (dt.jacfwd, dt.jacrev):
            with pytest.raises((dt.TracerConversionError, ValueError)) as info:
                transform(f)(np.ones(2))
            err = info.value
            # NumPy re-raises an element write as "setting an array element with a
            # sequence"; our error with the fix is its cause.
            err = err if isinstance(err, dt.TracerConversionError) else err.__cause__
            assert isinstance(err, dt.TracerConversionError)
            assert "np.zeros_like(x)" in str(err)


def test_np_full_with_traced_fill_without_like_raises():
    with pytest.raises(dt.TracerConversionError, match="like=x"):
        dt.grad(lambda x: np.sum(np.full(3, x[0])))(np.ones(2))
    with pytest.raises(dt.TracerConversionError, match="plain NumPy array"):
        dt.grad(lambda x: np.sum(np.full(3, x[0], dtype=float)))(np.ones(2))


def test_put_along_axis_into_plain_array_raises():
    def f(x):
        y = np.zeros((1, 2))
        np.put_along_axis(y, np.array([[0]]), x[None, :1], axis=1)
        return y
    with pytest.raises(dt.TracerConversionError):
        dt.jacrev(f)(np.ones(2))


def test_sort_method_is_in_place_and_traced():
    def f(x):
        y = x * 1.0
        y.sort()
        return y * np.arange(1.0, 4.0)
    x = np.array([2.0, -1.0, 0.5])
    np.testing.assert_allclose(dt.jacrev(f)(x), [[0, 1, 0], [0, 0, 2], [3, 0, 0]])
    both_modes(f, x)


def test_inner_value_written_into_outer_array_raises_instead_of_dropping_it():
    def inner(x, a):
        y = np.zeros_like(a)   # created from the outer transform's value
        y[0] = x[0] * a[0]     # written with the inner transform's value
        return np.sum(y * y)

    g = lambda a: dt.grad(lambda x: inner(x, a))(np.array([1.5, 0.5]))
    for outer in (dt.jacfwd, dt.jacrev):
        with pytest.raises(dt.TracerConversionError, match="inner transform"):
            outer(g)(np.array([2.0, 3.0]))

    def fixed(x, a):
        y = np.zeros_like(x)   # created from the inner value: fine at every level
        y[0] = x[0] * a[0]
        return np.sum(y * y)

    g = lambda a: dt.grad(lambda x: fixed(x, a))(np.array([1.5, 0.5]))
    np.testing.assert_allclose(dt.jacfwd(g)(np.array([2.0, 3.0]))[0], [12.0, 0.0])
    np.testing.assert_allclose(dt.jacrev(g)(np.array([2.0, 3.0]))[0], [12.0, 0.0])
