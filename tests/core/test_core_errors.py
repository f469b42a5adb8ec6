"""Typed errors that name the culprit and the way out; never a silent wrong derivative."""

import numpy as np
import pytest

import dualtape as dt


def test_missing_rule_names_function_and_how_to_register():
    with pytest.raises(dt.NoRuleError) as err:
        dt.grad(lambda x: np.sum(np.linalg.eigvals(x).real))(np.eye(2))
    msg = str(err.value)
    assert "numpy.linalg.eigvals" in msg and "dt.defvjp" in msg and "dt.primitive" in msg


def test_grad_of_nonscalar_output():
    with pytest.raises(dt.ShapeError, match=r"scalar output, got shape \(3,\).*jacrev"):
        dt.grad(lambda x: x * 2.0)(np.ones(3))


@pytest.mark.parametrize("arg", [3, True, np.array([1, 2]), np.array([True])])
def test_integer_and_boolean_arguments(arg):
    with pytest.raises(dt.NonDifferentiableInputError, match="argument 0.*float"):
        dt.grad(lambda x: np.sum(x * 2.0))(arg)


def test_complex_argument_is_not_supported_yet():
    with pytest.raises(dt.NonDifferentiableInputError, match="complex"):
        dt.jacfwd(lambda z: z * 2.0)(np.array([1 + 1j]))


def test_wrong_argnums():
    with pytest.raises(dt.ArgnumsError, match="argnums=3"):
        dt.grad(lambda x, y: x * y, argnums=3)(1.0, 2.0)


def test_float_conversion_inside_transform():
    with pytest.raises(dt.TracerConversionError, match=r"float\(\).*zeros_like"):
        dt.grad(lambda x: float(x) * x)(2.0)
    with pytest.raises(dt.TracerConversionError):
        dt.jvp(lambda x: int(x) * x, (2.0,), (1.0,))


def test_writing_traced_value_into_plain_array():
    def f_slice(x):
        out = np.zeros(3)
        out[:2] = x * 2.0
        return out

    def f_scalar(x):
        out = np.zeros(2)
        out[0] = x[0] * 2.0
        return out

    with pytest.raises(dt.TracerConversionError, match="zeros_like"):
        dt.jacfwd(f_slice)(np.ones(2))
    # NumPy wraps the error of a scalar store in its own ValueError, with ours as the cause
    with pytest.raises(ValueError) as err:
        dt.jacrev(f_scalar)(np.ones(2))
    assert isinstance(err.value.__cause__, dt.TracerConversionError)
    assert "zeros_like" in str(err.value.__cause__)
    with pytest.raises(dt.TracerConversionError, match="np.stack"):
        dt.grad(lambda x: np.sum(np.array([x[0], x[1]])))(np.ones(2))


def test_jvp_and_vjp_shape_and_structure_checks():
    with pytest.raises(dt.ShapeError, match="tangent 0 leaf 0 has shape"):
        dt.jvp(lambda x: x, (np.ones(3),), (np.ones(2),))
    _, pull = dt.vjp(lambda x: x * 2.0, np.ones(3))
    with pytest.raises(dt.ShapeError, match=r"cotangent .*shape \(2,\)"):
        pull(np.ones(2))
    _, pull = dt.vjp(lambda x: (x, x), np.ones(3))
    with pytest.raises(dt.ShapeError, match="structure"):
        pull(np.ones(3))


def test_leaked_tracer_is_an_error():
    leaked = []
    dt.grad(lambda x: leaked.append(x) or x * 1.0)(1.0)
    with pytest.raises(dt.TapeError, match="escaped"):
        leaked[0] * 2.0


def test_nan_inputs_propagate_like_numpy():
    with np.errstate(invalid="ignore"):
        g = dt.grad(lambda x: np.sum(np.sin(x) * x))(np.array([np.nan, 1.0]))
    assert np.isnan(g[0]) and np.isfinite(g[1])
    with np.errstate(divide="ignore"):
        assert dt.grad(np.sqrt)(0.0) == np.inf  # NumPy's answer, documented


def test_debug_nans_names_primitive_entry_and_user_line():
    def f(x):
        y = np.sqrt(x)  # the culprit line
        return np.sum(y * 2.0)

    with np.errstate(all="ignore"), pytest.raises(dt.NaNError) as err:
        with dt.debug_nans():
            dt.grad(f)(np.array([1.0, 0.0]))
    msg = str(err.value)
    assert "sqrt" in msg and "v2" in msg and "the culprit line" in msg
    with np.errstate(all="ignore"), pytest.raises(dt.NaNError, match="log .*forward"):
        with dt.debug_nans():
            dt.jvp(lambda x: np.log(x - 1.0), (np.array([1.0]),), (np.ones(1),))
    with np.errstate(all="ignore"):
        assert np.isinf(dt.grad(f)(np.array([1.0, 0.0]))[1])  # off: NumPy's answer
