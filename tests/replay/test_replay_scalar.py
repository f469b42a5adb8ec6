"""The pure-float path and call-time arguments: programs of float64 scalars replay as
Python float arithmetic, fall back to NumPy (inf/nan, the same warnings as eager) where
Python floats raise; integer and boolean arguments; arguments that do not fit the
recording (new variant, or a typed error)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import dualtape as dt
from dualtape.errors import ShapeError


def same_value(got, want):
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0.0, equal_nan=True)


def warned(fn):
    """(result, the set of floating-point warning kinds fn emitted)."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        result = fn()
    kinds = set()
    for w in record:
        assert issubclass(w.category, RuntimeWarning), w
        kinds.add(re.match(r"(\w+(?: \w+)*?) encountered", str(w.message)).group(1))
    return result, kinds


def uses_floats(cf) -> bool:
    return cf.variants[0].scalar_fns is not None


# ---- the float program ----

def smooth(x, y):
    return np.sin(x * y) + np.exp(-x * x) * np.log1p(y * y) - np.sqrt(1.0 + x ** 2) / (2.0 + y)


def test_float_program_matches_eager():
    cf = dt.compile(smooth, 0.1, 0.2, argnums=(0, 1))
    assert uses_floats(cf)
    for x, y in [(1.5, -0.5), (-2.0, 3.0), (0.0, 0.0)]:
        value = cf(x, y)
        assert type(value) is np.float64
        same_value(value, smooth(np.float64(x), np.float64(y)))
        got_value, got_grads = cf.value_and_grad(x, y)
        want_value, want_grads = dt.value_and_grad(smooth, argnums=(0, 1))(x, y)
        same_value(got_value, want_value)
        assert all(type(g) is np.float64 for g in got_grads)
        for g, w in zip(got_grads, want_grads):
            np.testing.assert_allclose(g, w, rtol=1e-13)
    assert cf.retraces == 0


def test_long_float_chain_is_not_limited_by_nesting():
    def chain(x):
        for _ in range(150):
            x = np.tanh(x) * 1.5 + 0.1 * np.cos(x)
        return x

    cf = dt.compile(chain, 0.3)
    assert uses_floats(cf)
    for x in (0.7, -1.1):
        same_value(cf(x), chain(np.float64(x)))
        np.testing.assert_allclose(cf.grad(x), dt.grad(chain)(x), rtol=1e-12)


def test_float_program_with_guards():
    def f(x):
        return x * x if x > 0 else -x

    cf = dt.compile(f, 1.0)
    assert uses_floats(cf)
    assert float(cf.grad(3.0)) == 6.0 and cf.retraces == 0
    assert float(cf.grad(-3.0)) == -1.0 and cf.retraces == 1
    value, g = cf.value_and_grad(np.nan)     # nan > 0 is False: the second path
    assert np.isnan(value) and float(g) == -1.0 and cf.retraces == 1


def test_gradients_are_floats_even_with_integer_constants():
    def f(x, i):
        return x * i - x / i

    cf = dt.compile(f, 2.0, 3)
    for i in (3, 4):
        g = cf.grad(2.5, i)
        want = dt.grad(f)(2.5, i)
        assert type(g) is type(want) is np.float64
        assert g == want
    assert cf.retraces == 1        # a static int that changed


# ---- float errors: NumPy semantics, NumPy warnings ----

FLOAT_ERRORS = {
    "1/x at 0": (lambda x: 1.0 / x, 0.0),
    "log at 0": (lambda x: np.log(x) + x, 0.0),
    "sqrt at -1": (lambda x: np.sqrt(x) * 2.0, -1.0),
    "log at -1": (lambda x: np.log(x) * x, -1.0),
    "exp overflow": (lambda x: np.exp(x) - x, 1000.0),
    "cosh overflow": (lambda x: np.cosh(x), 800.0),
    "arcsin at 2": (lambda x: np.arcsin(x), 2.0),
    "x ** -2 at 0": (lambda x: x ** -2.0, 0.0),
    "x ** 1.5 at -1": (lambda x: (x + 0.5) ** 1.5, -1.5),
}


@pytest.mark.parametrize("name", sorted(FLOAT_ERRORS))
def test_float_errors_fall_back_to_numpy_semantics(name):
    f, x = FLOAT_ERRORS[name]
    cf = dt.compile(f, 0.3)
    assert uses_floats(cf)
    got, got_kinds = warned(lambda: cf(x))
    want, want_kinds = warned(lambda: f(np.float64(x)))
    same_value(got, want)
    assert got_kinds == want_kinds and want_kinds
    (value, g), got_kinds = warned(lambda: cf.value_and_grad(x))
    (want_value, want_g), want_kinds = warned(lambda: dt.value_and_grad(f)(x))
    same_value(value, want_value)
    same_value(g, want_g)
    assert got_kinds == want_kinds
    assert cf.retraces == 0
    same_value(cf.grad(0.25), dt.grad(f)(0.25))   # the float path still serves other points


def test_errstate_is_respected():
    cf = dt.compile(lambda x: 1.0 / x + x, 1.0)
    with np.errstate(divide="raise"):
        with pytest.raises(FloatingPointError):
            dt.grad(lambda x: 1.0 / x + x)(0.0)
        with pytest.raises(FloatingPointError):
            cf(0.0)
        with pytest.raises(FloatingPointError):
            cf.grad(0.0)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isinf(cf(0.0))


# ---- integer and boolean arguments ----

def test_integer_data_arguments():
    def f(x, n, k):
        return np.sum(x ** n) * k

    x = np.array([1.5, 2.0])
    cf = dt.compile(f, x, 2, np.int64(3))   # a Python int is static, a NumPy int an input
    assert not any(n.static for n in cf.variants[0].program.nodes)
    for n, k in [(2, np.int64(5)), (3, np.int64(5)), (3, np.int64(-1))]:
        np.testing.assert_allclose(cf.grad(x, n, k), dt.grad(f)(x, n, k), rtol=1e-14)
    assert cf.retraces == 1   # n changed once; k is data


def test_integer_array_argument_is_rejected_like_grad():
    with pytest.raises(dt.errors.NonDifferentiableInputError):
        dt.grad(lambda x: np.sum(x * 2.0))(np.arange(3))
    with pytest.raises(dt.errors.NonDifferentiableInputError):
        dt.compile(lambda x: np.sum(x * 2.0), np.arange(3))
    cf = dt.compile(lambda x: np.sum(x * 2.0), np.ones(3))
    with pytest.raises(dt.errors.NonDifferentiableInputError):
        cf.grad(np.arange(3))


@pytest.mark.parametrize("arg", [3, True])
def test_python_int_in_argnums_position(arg):
    cf = dt.compile(lambda x: x * x, 2.0)
    with pytest.raises(dt.errors.NonDifferentiableInputError):
        cf.grad(arg)


def test_calling_with_a_python_int_evaluates():
    cf = dt.compile(lambda x: x * x + 1.0, 2.0)
    assert cf(3) == 10.0


# ---- arguments that do not fit the recording ----

def test_other_shapes_record_new_variants():
    f = lambda x: np.sum(np.tanh(x) ** 2)
    cf = dt.compile(f, np.ones(3))
    for x in (np.ones(4), np.ones((2, 2)), np.array(0.5), 0.5):
        np.testing.assert_allclose(cf.grad(x), dt.grad(f)(x), rtol=1e-14)
    assert cf.retraces == 3      # np.array(0.5) and 0.5 share a variant


def test_a_function_that_cannot_take_the_shape_raises_its_own_error():
    f = lambda x: np.sum(x.reshape(2, 2) @ np.ones(2))
    cf = dt.compile(f, np.ones(4))
    with pytest.raises(ValueError, match="reshape"):
        cf.grad(np.ones(3))
    with pytest.raises(TypeError):
        cf(np.ones(4), np.ones(4))     # too many arguments: f's own TypeError
    np.testing.assert_allclose(cf.grad(np.arange(4.0)), dt.grad(f)(np.arange(4.0)))


def test_wrong_tangent_cotangent_and_hvp_shapes_are_shape_errors():
    f = lambda x: np.sin(x) * x[0]
    cf = dt.compile(f, np.ones(3))
    with pytest.raises(ShapeError, match="tangent of shape"):
        cf.jvp((np.ones(3),), (np.ones(2),))
    with pytest.raises(ShapeError, match="tangents for argnums"):
        cf.jvp((np.ones(3),), (np.ones(3), np.ones(3)))
    _, vjp_fn = cf.vjp(np.ones(3))
    with pytest.raises(ShapeError, match="cotangent of shape"):
        vjp_fn(np.ones(4))
    with pytest.raises(ShapeError, match="cotangent has structure"):
        vjp_fn((np.ones(3), np.ones(3)))
    g = dt.compile(lambda x: np.sum(x ** 3), np.ones(3))
    with pytest.raises(ShapeError, match="hvp vector of shape"):
        g.hvp(np.ones(2), np.ones(3))
    with pytest.raises(ShapeError, match="grad needs a function returning one scalar"):
        cf.grad(np.ones(3))
