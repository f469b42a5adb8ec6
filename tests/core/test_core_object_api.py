"""The object API: Tensor, Tape, backward, no_grad, Dual as the textbook object."""

import numpy as np
import pytest

import dualtape as dt


def test_grads_accumulate_over_backward_calls():
    x = dt.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * x).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad, [2 + 3, 4 + 3])


def test_backward_twice_needs_retain_graph():
    x = dt.Tensor(3.0, requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert float(x.grad) == 12.0
    with pytest.raises(dt.TapeError, match="retain_graph"):
        y.backward()


def test_nonscalar_backward_needs_gradient():
    x = dt.Tensor(np.ones(3), requires_grad=True)
    y = x * np.array([1.0, 2.0, 3.0])
    with pytest.raises(dt.ShapeError, match="gradient="):
        y.backward()
    y.backward(gradient=np.array([1.0, 1.0, 2.0]))
    np.testing.assert_allclose(x.grad, [1.0, 2.0, 6.0])


def test_no_grad_and_detach():
    w = dt.Tensor(np.ones(2), requires_grad=True)
    with dt.no_grad():
        v = w * 2.0
    assert not v.requires_grad and v.grad_fn is None
    z = (w.detach() * w).sum()
    z.backward()
    np.testing.assert_allclose(w.grad, [1.0, 1.0])


def test_repr_and_grad_fn():
    a = dt.Tensor(2.0, requires_grad=True)
    y = a * a
    assert repr(y) == "Tensor(4, grad_fn=mul)" and y.grad_fn.name == "mul"
    assert repr(a) == "Tensor(2, requires_grad=True)" and a.is_leaf and not y.is_leaf


def test_tape_closed_is_an_error():
    x = dt.Tensor(1.0, requires_grad=True)
    with dt.Tape():
        y = x * 2.0
    with pytest.raises(dt.TapeError, match="with. block has ended"):
        y * 3.0
    y.backward()
    assert float(x.grad) == 2.0


def test_stale_graph_after_backward_errors_on_second_backward():
    x = dt.Tensor(2.0, requires_grad=True)
    z = x * x
    (z * 1.0).backward()
    w = z * 5.0  # z's graph was freed: allowed to compute, but not to backpropagate
    with pytest.raises(dt.TapeError, match="freed"):
        w.backward()


def test_inplace_write_into_leaf_is_refused():
    x = dt.Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(dt.TapeError, match="leaf"):
        x[0] = 5.0
    y = x * 1.0
    y[0] = x[1] * 4.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [0.0, 5.0, 1.0])


def test_item_and_float_conversions():
    x = dt.Tensor(2.0, requires_grad=True)
    y = x * 3.0
    assert y.item() == 6.0
    with pytest.raises(dt.TracerConversionError, match="float"):
        float(y)
    with pytest.raises(dt.TracerConversionError):
        dt.grad(lambda t: t * t.item())(2.0)


def test_dual_textbook_object():
    x = dt.Dual(3.0, 1.0)
    y = np.sin(x) * x
    assert y.value == pytest.approx(np.sin(3.0) * 3.0)
    assert y.tangent == pytest.approx(np.cos(3.0) * 3.0 + np.sin(3.0))
    assert repr(y).startswith("Dual(value=0.42336")
    batched = dt.Dual(np.array([1.0, 2.0]), np.eye(2), batched=True)
    np.testing.assert_allclose((batched ** 2).tangent, np.diag([2.0, 4.0]))
    with pytest.raises(dt.ShapeError):
        dt.Dual(np.ones(2), np.ones(3))


def test_comparisons_give_plain_booleans_for_control_flow():
    def relu_loop(x):
        while x < 10.0:
            x = x * 2.0
        return x if x > 15.0 else x * x

    assert dt.grad(relu_loop)(3.0) == pytest.approx(2 * 12.0 * 4.0)
    assert dt.grad(relu_loop)(1.0) == pytest.approx(16.0)
