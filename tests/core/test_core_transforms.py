"""The functional API: shapes (JAX convention), argnums, has_aux, pytrees, nesting."""

import numpy as np
import pytest

import dualtape as dt

RNG = np.random.default_rng(7)
A = RNG.standard_normal((3, 4))


def F(x):
    return np.tanh(A @ x) + (A @ np.sin(x)) ** 2


def F_jac(x):
    return (1 - np.tanh(A @ x) ** 2)[:, None] * A + (2 * (A @ np.sin(x)))[:, None] * A * np.cos(x)


@pytest.mark.parametrize("jac", [dt.jacfwd, dt.jacrev, dt.jacobian,
                                 lambda f: dt.jacobian(f, mode="forward"),
                                 lambda f: dt.jacfwd(f, chunk=3), lambda f: dt.jacrev(f, chunk=2)])
def test_jacobian_against_analytic(jac):
    x = RNG.standard_normal(4)
    np.testing.assert_allclose(jac(F)(x), F_jac(x), rtol=1e-10, atol=1e-12)


def test_jacobian_shape_is_out_shape_plus_in_shape():
    f = lambda x: np.sum(x, axis=1) * x[:, :1]
    x = RNG.standard_normal((2, 3))
    for jac in (dt.jacfwd, dt.jacrev):
        assert jac(f)(x).shape == (2, 2, 2, 3)
    np.testing.assert_allclose(dt.jacfwd(f)(x), dt.jacrev(f)(x))


def test_argnums_tuple_and_pytrees():
    def loss(params, x, y):
        pred = np.tanh(x @ params["w"] + params["b"])
        return np.mean((pred - y) ** 2) + 0.1 * np.sum(params["w"] ** 2)

    params = {"w": RNG.standard_normal((3, 2)), "b": np.array([0.1, -0.2])}
    x, y = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 2))
    g = dt.grad(loss)(params, x, y)
    assert set(g) == {"w", "b"} and g["w"].shape == (3, 2)
    gp, gx = dt.grad(loss, argnums=(0, 1))(params, x, y)
    np.testing.assert_allclose(gp["w"], g["w"])
    assert gx.shape == (5, 3)
    eps = 1e-6
    bump = {"w": params["w"], "b": params["b"] + np.array([eps, 0.0])}
    down = {"w": params["w"], "b": params["b"] - np.array([eps, 0.0])}
    fd = (loss(bump, x, y) - loss(down, x, y)) / (2 * eps)
    assert g["b"][0] == pytest.approx(fd, rel=1e-6)


def test_has_aux_everywhere():
    f = lambda x: (np.sum(x ** 2), {"norm": np.sqrt(np.sum(x ** 2))})
    x = np.array([3.0, 4.0])
    g, aux = dt.grad(f, has_aux=True)(x)
    np.testing.assert_allclose(g, [6.0, 8.0])
    assert aux["norm"] == pytest.approx(5.0) and not isinstance(aux["norm"], dt.Tensor)
    (v, aux2), g2 = dt.value_and_grad(f, has_aux=True)(x)
    assert v == pytest.approx(25.0)
    J, aux3 = dt.jacfwd(lambda x: (x * 2.0, x[0]), has_aux=True)(x)
    np.testing.assert_allclose(J, 2 * np.eye(2))
    assert aux3 == 3.0
    out, pull, aux4 = dt.vjp(f, x, has_aux=True)
    np.testing.assert_allclose(pull(1.0)[0], [6.0, 8.0])


def test_jvp_vjp_dot_product_and_reuse():
    x = RNG.standard_normal(4)
    u, v = RNG.standard_normal(4), RNG.standard_normal(3)
    out, t = dt.jvp(F, (x,), (u,))
    out2, pull = dt.vjp(F, x)
    np.testing.assert_allclose(out, out2)
    (w,) = pull(v)
    (w2,) = pull(v)  # vjp_fn can be called again
    assert w @ u == pytest.approx(v @ t)
    np.testing.assert_allclose(w, w2)


@pytest.mark.parametrize("outer", [dt.jacfwd, dt.jacrev])
@pytest.mark.parametrize("inner", [dt.jacfwd, dt.jacrev])
def test_nested_jacobians_give_the_hessian(outer, inner):
    f = lambda x: np.sum(np.sin(x) ** 2 * np.exp(x[::-1]))
    x = RNG.standard_normal(3)
    H = dt.hessian(f)(x)
    np.testing.assert_allclose(outer(inner(f))(x), H, rtol=1e-10)
    np.testing.assert_allclose(H, H.T, rtol=1e-12)
    v = RNG.standard_normal(3)
    np.testing.assert_allclose(dt.hvp(f, x, v), H @ v, rtol=1e-10)


def test_grad_of_grad_of_grad():
    f = lambda x: x ** 4 * np.sin(x)
    d3 = dt.grad(dt.grad(dt.grad(f)))(0.7)
    x = 0.7
    expected = (24 * x * np.sin(x) + 36 * x ** 2 * np.cos(x) - 12 * x ** 3 * np.sin(x)
                - x ** 4 * np.cos(x))
    assert d3 == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("outer", ["grad", "jvp"])
@pytest.mark.parametrize("inner", ["grad", "jvp"])
def test_no_perturbation_confusion(outer, inner):
    """d/dx [x * d/dy (x + y)] = 1; a naive implementation gets 2."""
    def d_inner(fn):
        if inner == "grad":
            return lambda y: dt.grad(fn)(y)
        return lambda y: dt.jvp(fn, (y,), (1.0,))[1]

    h = lambda x: x * d_inner(lambda y: x + y)(1.0)
    result = dt.grad(h)(2.0) if outer == "grad" else dt.jvp(h, (2.0,), (1.0,))[1]
    assert result == pytest.approx(1.0)


def test_float32_in_float32_out():
    x = np.array([1.0, 2.0], dtype=np.float32)
    g = dt.grad(lambda x: np.sum(np.sin(x) * x))(x)
    assert g.dtype == np.float32
    assert dt.jacfwd(lambda x: x * x)(x).dtype == np.float32


def test_outputs_are_plain_numpy():
    g = dt.grad(lambda x: np.sum(x * x))(np.ones(3))
    assert type(g) is np.ndarray
    J = dt.jacrev(lambda x: {"a": x * 2.0})(np.ones(2))
    assert type(J["a"]) is np.ndarray
    assert not isinstance(dt.grad(lambda x: x * x)(2.0), dt.Tensor)


def test_constant_output_has_zero_derivative():
    assert dt.grad(lambda x: 3.0)(2.0) == 0.0
    np.testing.assert_array_equal(dt.jacfwd(lambda x: np.ones(2))(np.ones(3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(dt.jacrev(lambda x: np.ones(2))(np.ones(3)), np.zeros((2, 3)))


def test_explain_jacobian_and_memory_cap():
    plan = dt.explain_jacobian(F, np.ones(4))
    assert (plan.n_in, plan.n_out, plan.mode, plan.passes) == (4, 3, "reverse", 1)
    assert "reverse mode" in str(plan)
    tall = dt.explain_jacobian(lambda x: np.outer(x, x).ravel(), np.ones(5), max_memory=2000)
    assert tall.mode == "forward" and tall.chunk < 5 and tall.passes > 1
    with pytest.raises(dt.MemoryCapError, match="hvp"):
        dt.hessian(lambda x: np.sum(x ** 2), max_memory=10 ** 6)(np.ones(1000))


def test_stop_gradient():
    f = lambda x: x * dt.stop_gradient(x)
    assert dt.grad(f)(3.0) == 3.0
    assert dt.jvp(f, (3.0,), (1.0,))[1] == 3.0
