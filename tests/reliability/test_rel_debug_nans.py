"""``with dt.debug_nans():`` stops at the FIRST primitive whose value, tangent or
cotangent turned NaN/inf from finite inputs, naming the primitive, its Wengert-list
index and the line of the user's code that called it."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

import dualtape as dt

pytestmark = [
    pytest.mark.xfail(not hasattr(dt, "debug_nans"), reason="awaiting dt.debug_nans",
                      strict=False),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
]
HERE = os.path.basename(__file__)


def _line_of(fn, offset: int = 1) -> str:
    """``file:line`` of the body line ``offset`` lines below ``def fn``."""
    return f"{HERE}:{fn.__code__.co_firstlineno + offset}"


def _sqrt_sum(x):
    return np.sum(np.sqrt(x))


def _log_chain(x):
    y = np.log(x - 2.0)
    return np.sin(y) * 3.0


def test_nan_error_types():
    assert issubclass(dt.NaNError, dt.DualtapeError)
    assert issubclass(dt.NaNError, FloatingPointError)


def test_reverse_mode_cotangent_names_primitive_index_and_line():
    with dt.debug_nans(), pytest.raises(dt.NaNError) as info:
        dt.grad(_sqrt_sum)(np.array([1.0, 0.0]))
    msg = str(info.value)
    assert re.search(r"cotangent of sqrt \(Wengert entry v2\)", msg), msg
    assert _line_of(_sqrt_sum) in msg, msg


def test_reverse_mode_value_reports_the_first_primitive_not_later_ones():
    """v1 = x, v2 = x - 2, v3 = log(v2): log is the culprit; sin and mul only propagate."""
    with dt.debug_nans(), pytest.raises(dt.NaNError) as info:
        dt.grad(lambda x: np.sum(_log_chain(x)))(np.array([1.0, 3.0]))
    msg = str(info.value)
    assert re.search(r"value of log \(Wengert entry v3\)", msg), msg
    assert "of sin" not in msg and "of mul" not in msg
    assert _line_of(_log_chain) in msg, msg


def test_forward_mode_value_names_the_operation_and_line():
    with dt.debug_nans(), pytest.raises(dt.NaNError) as info:
        dt.jacfwd(_log_chain)(np.array([1.0, 3.0]))
    msg = str(info.value)
    assert re.search(r"value of log \(operation #2 of the forward sweep\).*forward mode", msg), \
        msg
    assert _line_of(_log_chain) in msg, msg


def test_forward_mode_tangent():
    with dt.debug_nans(), pytest.raises(dt.NaNError, match=r"tangent of sqrt") as info:
        dt.jacfwd(lambda x: np.sqrt(x))(np.array([1.0, 0.0]))
    assert f"{HERE}:" in str(info.value)


def test_overflow_to_inf_is_reported():
    with dt.debug_nans(), pytest.raises(dt.NaNError, match=r"value of exp"):
        dt.grad(lambda x: np.sum(np.exp(x)))(np.array([1000.0, 0.0]))


def test_object_api_backward():
    x = dt.Tensor(np.array([1.0, 0.0]), requires_grad=True)
    with dt.debug_nans(), pytest.raises(dt.NaNError) as info:
        y = _sqrt_sum(x)
        y.backward()
    assert re.search(r"cotangent of sqrt \(Wengert entry v\d+\)", str(info.value))
    assert _line_of(_sqrt_sum) in str(info.value)


def test_second_order_is_checked_too():
    with dt.debug_nans(), pytest.raises(dt.NaNError, match=r"sqrt"):
        dt.hessian(_sqrt_sum)(np.array([1.0, 0.0]))


def test_user_function_backward_is_named():
    class Bad(dt.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            return g / 0.0

    with dt.debug_nans(), pytest.raises(dt.NaNError, match=r"cotangent of Bad"):
        dt.grad(lambda x: np.sum(Bad.apply(x)))(np.ones(2))


def test_stack_shows_user_code_only():
    with dt.debug_nans(), pytest.raises(dt.NaNError) as info:
        dt.grad(_sqrt_sum)(np.array([1.0, 0.0]))
    stack = str(info.value).split("Recorded at:", 1)[1].strip().splitlines()
    assert 1 <= len(stack) <= 6, stack
    pkg = os.path.dirname(dt.__file__)
    assert not any(pkg in line for line in stack), stack


def test_nan_inputs_propagate_without_an_error():
    """Only the primitive that CREATES a NaN is reported; NaN inputs behave like NumPy."""
    with dt.debug_nans():
        g = dt.grad(lambda x: np.sum(np.sin(x)))(np.array([np.nan, 1.0]))
    assert np.isnan(g[0]) and g[1] == np.cos(1.0)


def test_outside_the_block_nothing_is_checked():
    with dt.debug_nans():
        pass
    g = dt.grad(_sqrt_sum)(np.array([1.0, 0.0]))
    np.testing.assert_array_equal(g, [0.5, np.inf])


def test_nested_blocks_restore_the_outer_state():
    with dt.debug_nans():
        with dt.debug_nans():
            pass
        with pytest.raises(dt.NaNError):
            dt.grad(_sqrt_sum)(np.array([1.0, 0.0]))
    dt.grad(_sqrt_sum)(np.array([1.0, 0.0]))   # off again: no error


def test_finite_computation_is_untouched():
    with dt.debug_nans():
        g = dt.grad(lambda x: np.sum(np.sin(x) * x))(np.array([0.5, 1.5]))
        h = dt.hessian(lambda x: np.sum(x ** 3))(np.array([0.5, 1.5]))
    np.testing.assert_allclose(g, np.cos([0.5, 1.5]) * [0.5, 1.5] + np.sin([0.5, 1.5]))
    np.testing.assert_allclose(h, np.diag([3.0, 9.0]))
