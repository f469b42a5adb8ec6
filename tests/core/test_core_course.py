"""The course examples, each against its calculus derivative, in every mode."""

import numpy as np
import pytest

import dualtape as dt


def f(x1, x2):
    return np.log(x1 * x2) * np.sin(x2)


def df(x1, x2):
    return np.sin(x2) / x1, np.sin(x2) / x2 + np.log(x1 * x2) * np.cos(x2)


def g(x1, x2):
    return x1 * x2 * (x1 + x2)


def dg(x1, x2):
    return 2 * x1 * x2 + x2 ** 2, x1 ** 2 + 2 * x1 * x2


@pytest.mark.parametrize("fn,dfn", [(f, df), (g, dg)])
@pytest.mark.parametrize("point", [(2.0, 5.0), (0.5, 1.5), (3.0, 0.25)])
def test_two_variable_examples_all_modes(fn, dfn, point):
    expected = dfn(*point)
    rev = dt.grad(fn, argnums=(0, 1))(*point)
    fwd = [dt.jvp(fn, point, t)[1] for t in ((1.0, 0.0), (0.0, 1.0))]
    jac = dt.jacfwd(lambda x: fn(x[0], x[1]))(np.array(point))
    np.testing.assert_allclose(rev, expected, rtol=1e-12)
    np.testing.assert_allclose(fwd, expected, rtol=1e-12)
    np.testing.assert_allclose(jac, expected, rtol=1e-12)
    x1 = dt.Tensor(point[0], requires_grad=True)
    x2 = dt.Tensor(point[1], requires_grad=True)
    fn(x1, x2).backward()
    np.testing.assert_allclose([x1.grad, x2.grad], expected, rtol=1e-12)
    d = fn(dt.Dual(point[0], 1.0), dt.Dual(point[1], 0.0))
    np.testing.assert_allclose(d.tangent, expected[0], rtol=1e-12)


def test_quadratic_h():
    h = lambda x: 3 * x ** 2 + 4 * x + 2
    for x in (-2.0, 0.0, 1.5):
        assert dt.grad(h)(x) == pytest.approx(6 * x + 4)
        assert dt.grad(dt.grad(h))(x) == pytest.approx(6.0)
        assert h(dt.Dual(x, 1.0)).tangent == pytest.approx(6 * x + 4)


def test_neuron_tanh():
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal(4), rng.standard_normal(4), 0.3
    neuron = lambda w, b: np.tanh(x @ w + b)
    gw, gb = dt.grad(neuron, argnums=(0, 1))(w, b)
    s = 1 - np.tanh(x @ w + b) ** 2
    np.testing.assert_allclose(gw, s * x, rtol=1e-12)
    assert gb == pytest.approx(s)


def test_graph_accumulates_on_leaves():
    """d = a*b + a; e = (d + c) + 3: a.grad = b + 1 = 3 and c.grad = 1."""
    a = dt.Tensor(4.0, requires_grad=True)
    b = dt.Tensor(2.0, requires_grad=True)
    c = dt.Tensor(-1.0, requires_grad=True)
    d = a * b + a
    e = (d + c) + 3
    e.backward()
    assert float(a.grad) == 3.0 and float(c.grad) == 1.0 and float(b.grad) == 4.0
    assert float(e.item()) == 14.0


def test_textbook_wengert_list_and_values():
    """Griewank & Walther / Baydin et al.: y = ln(x1) + x1 x2 - sin(x2) at (2, 5)."""
    x1, x2 = dt.Tensor(2.0, requires_grad=True), dt.Tensor(5.0, requires_grad=True)
    with dt.Tape() as tape:
        y = np.log(x1) + x1 * x2 - np.sin(x2)
    text = str(tape).splitlines()
    assert text[0].split() == ["v1", "=", "x1", "=", "2"]
    assert "log(v1)" in text[1] and "0.6931" in text[1]
    assert len(text) == 7 and "11.65" in text[-1]
    y.backward()
    assert round(y.item(), 3) == 11.652
    assert round(float(x1.grad), 3) == 5.5 and round(float(x2.grad), 3) == 1.716
