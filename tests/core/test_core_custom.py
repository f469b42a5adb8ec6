"""Custom rules registered once serve both modes; mistakes in them are caught loudly."""

import numpy as np
import pytest
import scipy.special

import dualtape as dt


def test_primitive_with_defjvp_and_defvjp():
    @dt.primitive
    def softplus(x):
        return np.logaddexp(0.0, x)

    dt.defjvp(softplus, lambda t, ans, x: t * scipy.special.expit(x))
    dt.defvjp(softplus, lambda g, ans, x: g * scipy.special.expit(x))
    x = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_allclose(dt.grad(lambda x: np.sum(softplus(x)))(x), scipy.special.expit(x))
    np.testing.assert_allclose(dt.jacfwd(softplus)(x), np.diag(scipy.special.expit(x)))
    np.testing.assert_allclose(dt.jacrev(softplus)(x), np.diag(scipy.special.expit(x)))


def test_defderiv_gives_both_modes_and_second_order():
    @dt.primitive
    def cube(x):
        return x ** 3

    dt.defderiv(cube, lambda ans, x: 3 * x ** 2)
    dt.check_grads(cube, (np.array([0.5, -1.2]),), order=2)
    assert dt.grad(dt.grad(cube))(2.0) == pytest.approx(12.0)


def test_registering_a_rule_for_a_numpy_function():
    from dualtape.registry import FUNCTION_HANDLERS
    previous = FUNCTION_HANDLERS.get(np.i0)  # a built-in rule, if any, is restored after
    prim = dt.primitive(np.i0)
    dt.defderiv(prim, lambda ans, x: scipy.special.i1(x))
    try:
        assert dt.grad(lambda x: np.i0(x))(0.7) == pytest.approx(scipy.special.i1(0.7))
    finally:
        if previous is None:
            FUNCTION_HANDLERS.pop(np.i0, None)
        else:
            FUNCTION_HANDLERS[np.i0] = previous


class Cube(dt.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * x ** 2 * g


def test_function_ctx_style_reverse_and_nesting():
    x = dt.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    Cube.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 12.0])
    np.testing.assert_allclose(dt.jacrev(Cube.apply)(np.array([1.0, 2.0])), np.diag([3.0, 12.0]))
    assert dt.grad(dt.grad(Cube.apply))(2.0) == pytest.approx(12.0)  # backward is traced


def test_function_without_jvp_names_the_class_in_forward_mode():
    with pytest.raises(dt.NoRuleError, match="Cube.*jvp"):
        dt.jvp(Cube.apply, (2.0,), (1.0,))


def test_function_backward_wrong_count_or_shape():
    class Bad(dt.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return (g,)

    class BadShape(dt.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            return np.ones(5)

    with pytest.raises(dt.DualtapeError, match="Bad.backward returned 1 gradient"):
        dt.grad(lambda x: Bad.apply(x, 2.0))(1.0)
    with pytest.raises(dt.DualtapeError, match=r"BadShape.backward .*shape \(5,\)"):
        dt.grad(lambda x: np.sum(BadShape.apply(x)))(np.ones(3))


def test_check_grads_catches_a_wrong_rule():
    @dt.primitive
    def wrong_sin(x):
        return np.sin(x)

    dt.defderiv(wrong_sin, lambda ans, x: np.cos(x) * 1.01)
    with pytest.raises(AssertionError, match="forward mode"):
        dt.check_grads(wrong_sin, (np.array([0.3, 1.0]),), order=1)
