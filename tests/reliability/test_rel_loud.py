"""Loud, never silent: a traced value that escapes into code that cannot see it raises a
clear error instead of returning zeros or a derivative-free value.

HIPS autograd's best-known trap is a silently zero gradient when plain NumPy (or a
compiled routine) receives a traced value. Each test here feeds a traced value to such
code in both modes and pins the error type, the culprit and the way out.
"""

from __future__ import annotations

import copy
import math
import struct

import numpy as np
import pytest
import scipy.integrate
import scipy.linalg
import scipy.special

import dualtape as dt

X = np.array([1.0, 2.0, 3.0])
MODES = {
    "grad": lambda f: dt.grad(lambda x: np.sum(f(x)))(X),
    "jacfwd": lambda f: dt.jacfwd(f)(X),
    "jacrev": lambda f: dt.jacrev(f)(X),
}
#: The message must say how to keep the derivative.
WAY_OUT = r"stop_gradient|np\.stack|zeros_like"


def _escape_cases():
    def write_slice(x):
        a = np.zeros(3)
        a[:2] = x[:2]
        return a

    def write_astype(x):
        a = np.empty(3)
        a[:] = x.astype(float)
        return a

    def asarray(x):
        return np.asarray(x) * 2.0

    def array_of_scalars(x):
        return np.array([x[0], x[1]])

    def list_to_numpy(x):
        return np.sum([x[0], x[1]]) * np.ones(3)

    def out_plain(x):
        a = np.zeros(3)
        np.sin(x, out=a)
        return a

    def lu_factor(x):
        lu, _ = scipy.linalg.lu_factor(np.diag(np.ones(3)) * 2.0 + np.outer(x, x))
        return lu[0]

    def math_fsum(x):
        return math.fsum(x) * np.ones(1)

    def math_exp(x):
        return math.exp(x[0]) * np.ones(1)

    def quad(x):
        return scipy.integrate.quad(lambda t: t * x[0], 0.0, 1.0)[0] * np.ones(1)

    def np_float64(x):
        return np.float64(x[0]) * np.ones(1)

    def vectorize(x):
        return np.vectorize(lambda t: 2.0 * t)(x)

    def float_cast(x):
        return float(x[0]) * x

    def int_cast(x):
        return int(x[0]) * x

    return {k: v for k, v in locals().items() if callable(v)}


CASES = _escape_cases()


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("case", sorted(CASES))
def test_escaping_traced_value_raises_tracer_conversion_error(case, mode):
    """Never a zero or derivative-free result: the conversion itself fails."""
    with pytest.raises(dt.TracerConversionError, match=WAY_OUT) as info:
        MODES[mode](CASES[case])
    assert "lose its derivative" in str(info.value)


@pytest.mark.parametrize("case,what", [("float_cast", r"float\(\)"), ("int_cast", r"int\(\)"),
                                       ("asarray", r"np\.asarray"),
                                       ("out_plain", r"numpy\.sin\(\.\.\., out=plain array\)")])
def test_conversion_error_names_the_conversion(case, what):
    with pytest.raises(dt.TracerConversionError, match=what):
        MODES["grad"](CASES[case])


def test_conversion_error_in_a_compiled_routine_names_the_routine():
    """A user sees `lu_factor` in the message and is told to register a rule."""
    with pytest.raises(dt.TracerConversionError, match=r"lu_factor") as info:
        MODES["grad"](CASES["lu_factor"])
    assert "register a rule" in str(info.value)


def test_conversion_error_in_a_scipy_function_names_it():
    """SciPy functions convert with np.asarray; the message says which one did."""
    with pytest.raises(dt.TracerConversionError, match=r"scipy\.special\.logsumexp converts "
                                                       r"its input with np\.asarray"):
        dt.grad(scipy.special.logsumexp)(X)


@pytest.mark.parametrize("mode", ["grad", "jacfwd"])
@pytest.mark.xfail(strict=True, reason="core bug: a[i] = traced 0-d value in a plain array "
                                       "raises NumPy's ValueError('setting an array element with "
                                       "a sequence'), not TracerConversionError")
def test_writing_a_traced_scalar_into_a_plain_array(mode):
    def f(x):
        a = np.zeros(3)
        a[0] = x[0]
        return a
    with pytest.raises(dt.TracerConversionError, match=r"zeros_like"):
        MODES[mode](f)


@pytest.mark.xfail(strict=True, reason="core bug: .item() on a Dual raises AttributeError "
                                       "(only Tensor defines item)")
def test_item_on_a_dual_raises_tracer_conversion_error():
    with pytest.raises(dt.TracerConversionError, match=r"\.item\(\)"):
        dt.jacfwd(lambda x: x[0].item() * x)(X)


def test_item_on_a_tensor_inside_a_transform_raises():
    with pytest.raises(dt.TracerConversionError, match=r"\.item\(\).*stop_gradient"):
        dt.grad(lambda x: x[0].item() * x[1])(X)


@pytest.mark.xfail(strict=True, reason="core bug: .tolist() on a traced value raises "
                                       "AttributeError, not TracerConversionError")
@pytest.mark.parametrize("mode", ["grad", "jacfwd"])
def test_tolist_raises_tracer_conversion_error(mode):
    with pytest.raises(dt.TracerConversionError, match=r"tolist"):
        MODES[mode](lambda x: np.sum(x.tolist()) * x)


@pytest.mark.xfail(strict=True, reason="core bug: copy.deepcopy of a traced Tensor copies its "
                                       "tape; backward then fails with IndexError")
def test_deepcopy_of_a_traced_value_keeps_the_derivative():
    g = dt.grad(lambda x: np.sum(copy.deepcopy(x) * x))(X)
    np.testing.assert_allclose(g, 2.0 * X)


def test_copy_copy_of_a_traced_value_keeps_the_derivative():
    g = dt.grad(lambda x: np.sum(copy.copy(x) * x))(X)
    np.testing.assert_allclose(g, 2.0 * X)


def test_c_extension_refuses_traced_value_loudly():
    """struct.pack converts with float(): it must fail, never pack a derivative-free number."""
    with pytest.raises((dt.TracerConversionError, struct.error)):
        dt.grad(lambda x: struct.unpack("d", struct.pack("d", x))[0])(1.0)


# ---- what is allowed: values flow into predicates and control flow ----

def test_comparisons_and_control_flow_see_the_value():
    """Branching on a traced value is fine (piecewise definitions); it is not a conversion."""
    def f(x):
        return x * x if x > 0 else -x
    assert dt.grad(f)(3.0) == 6.0
    assert dt.grad(f)(-3.0) == -1.0


def test_no_silent_zero_gradient_from_numpy_functions():
    """The autograd trap: every supported NumPy call carries the derivative through."""
    def f(x):
        y = np.concatenate([np.sin(x), np.cumsum(x)])
        return np.sum(np.where(y > 0, y, 0.0) * np.arange(1.0, 7.0))
    g = dt.grad(f)(X)
    assert np.all(g != 0.0)
    np.testing.assert_allclose(g, dt.jacfwd(f)(X), rtol=1e-12)


# ---- tapes: freed, closed, escaped ----

def test_backward_twice_on_a_freed_tape_says_retain_graph():
    x = dt.Tensor(X, requires_grad=True)
    y = np.sum(np.sin(x) * x)
    y.backward()
    with pytest.raises(dt.TapeError, match=r"already freed.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_sweep_and_accumulates():
    x = dt.Tensor(X, requires_grad=True)
    y = np.sum(np.sin(x) * x)
    y.backward(retain_graph=True)
    first = x.grad.copy()
    y.backward()
    np.testing.assert_allclose(first, np.cos(X) * X + np.sin(X))
    np.testing.assert_allclose(x.grad, 2.0 * first)


def test_reusing_an_intermediate_of_a_freed_graph():
    x = dt.Tensor(X, requires_grad=True)
    z = np.sin(x)
    np.sum(z * x).backward()
    w = np.sum(z * 2.0)
    with pytest.raises(dt.TapeError, match=r"freed by an earlier backward\(\).*retain_graph"
                                           r"=True.*detach\(\)"):
        w.backward()


def test_tape_used_after_its_context_closed():
    x = dt.Tensor(X, requires_grad=True)
    with dt.Tape():
        y = np.sin(x)
    with pytest.raises(dt.TapeError, match=r"`with` block has ended.*detach\(\)"):
        y * 2.0


def test_backward_after_the_context_closed_still_works():
    """Closing a tape stops recording; the recorded graph can still be swept."""
    x = dt.Tensor(X, requires_grad=True)
    with dt.Tape() as tape:
        y = np.sum(np.sin(x))
    y.backward()
    np.testing.assert_allclose(x.grad, np.cos(X))
    assert len(tape) == 3


def test_tape_cannot_be_entered_twice():
    tape = dt.Tape()
    with tape:
        pass
    with pytest.raises(dt.TapeError, match=r"entered once"):
        with tape:
            pass


def test_tracer_leaked_out_of_a_transform():
    leaked = []

    def f(x):
        leaked.append(x * 2.0)
        return np.sum(x)
    dt.grad(f)(X)
    with pytest.raises(dt.TapeError, match=r"escaped its transform.*return it"):
        leaked[0] + 1.0
    with pytest.raises(dt.TapeError, match=r"escaped its transform"):
        dt.grad(lambda y: np.sum(y * leaked[0]))(X)


def test_in_place_write_into_a_leaf_that_requires_grad():
    x = dt.Tensor(X.copy(), requires_grad=True)
    with pytest.raises(dt.TapeError, match=r"in-place write into a leaf.*copy\(\).*no_grad"):
        x[0] = 5.0


def test_backward_inside_a_transform_points_to_grad():
    def f(x):
        y = np.sum(x * x)
        y.backward()
        return y
    with pytest.raises(dt.TapeError, match=r"object API.*dt\.grad"):
        dt.grad(f)(X)
