"""A tape of a million scalar operations backpropagates: iterative, linear time."""

import numpy as np
import pytest

import dualtape as dt


@pytest.mark.slow
def test_million_entry_tape():
    def f(x):
        y = x
        for _ in range(250_000):
            y = y * 0.999999 + 1e-7 * x - 1e-8 * y * y  # 4 recorded operations a step
        return y

    value, g = dt.value_and_grad(f)(0.5)
    h = 1e-5
    fd = (f(0.5 + h) - f(0.5 - h)) / (2 * h)
    assert np.isfinite(value) and g == pytest.approx(fd, rel=1e-6)


def test_deep_chain_no_recursion_limit():
    x = dt.Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0
    y.backward()
    assert float(x.grad) == 1.0
