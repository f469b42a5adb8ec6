"""Second order from replays: the recorded gradient's tangent sweep (hvp), its forward
Jacobian (Hessian, compressed by the path's pattern when sparse), and the algebraic
simplification that recorded gradients need."""

from __future__ import annotations

import numpy as np
import pytest

import dualtape as dt
from dualtape.errors import ShapeError
from dualtape.replay.ir import Ref, simplify_algebra


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def mlp_loss(w, X, y):
    W = w.reshape(3, 4)
    h = np.tanh(X @ W)
    return np.mean((h.sum(axis=1) - y) ** 2) + 0.1 * np.sum(w * w)


def piecewise(x):
    s = np.sum(x)
    return np.sum(x ** 3) if s > 0 else np.sum(np.exp(x))


@pytest.fixture
def rng():
    return np.random.default_rng(7)


@pytest.mark.parametrize("n", [2, 9, 40])
def test_hvp_and_hessian_match_eager_rosenbrock(rng, n):
    cf = dt.compile(rosen, rng.standard_normal(n))
    x, v = rng.standard_normal(n), rng.standard_normal(n)
    np.testing.assert_allclose(cf.hvp(v, x), dt.hvp(rosen, x, v), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cf.hessian(x), dt.hessian(rosen)(x), rtol=1e-12, atol=1e-12)


def test_hessian_of_a_banded_function_uses_three_directions(rng):
    cf = dt.compile(rosen, rng.standard_normal(60))
    x = rng.standard_normal(60)
    h = cf.hessian(x)
    plan = cf.gradient().variants[0].hessian_plan
    assert plan is not None and plan.n_colors == 3
    np.testing.assert_allclose(h, dt.hessian(rosen)(x), rtol=1e-12, atol=1e-12)
    assert np.array_equal(h, h.T)


def test_dense_hessian_takes_the_identity_sweep(rng):
    A = rng.standard_normal((30, 30))

    def f(x):
        return np.sum(np.tanh(A @ x) ** 2)
    cf = dt.compile(f, rng.standard_normal(30))
    x = rng.standard_normal(30)
    np.testing.assert_allclose(cf.hessian(x), dt.hessian(f)(x), rtol=1e-11, atol=1e-12)
    assert cf.gradient().variants[0].hessian_plan is None


def test_hvp_with_data_arguments(rng):
    X, y = rng.standard_normal((8, 3)), rng.standard_normal(8)
    cf = dt.compile(mlp_loss, rng.standard_normal(12), X, y)
    w, v = rng.standard_normal(12), rng.standard_normal(12)
    X2, y2 = rng.standard_normal((8, 3)), rng.standard_normal(8)
    eager = dt.hvp(lambda u: mlp_loss(u, X2, y2), w, v)
    np.testing.assert_allclose(cf.hvp(v, w, X2, y2), eager, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(cf.hessian(w, X2, y2),
                               dt.hessian(lambda u: mlp_loss(u, X2, y2))(w),
                               rtol=1e-11, atol=1e-12)


def test_second_order_follows_guards(rng):
    cf = dt.compile(piecewise, np.ones(4))
    for x in (np.ones(4), -np.ones(4), np.array([1.0, 2.0, -0.5, 0.1])):
        v = rng.standard_normal(4)
        np.testing.assert_allclose(cf.hvp(v, x), dt.hvp(piecewise, x, v), rtol=1e-12)
        np.testing.assert_allclose(cf.hessian(x), dt.hessian(piecewise)(x), rtol=1e-12)
    assert cf.gradient().retraces >= 1


def test_hvp_inside_another_transform(rng):
    cf = dt.compile(rosen, rng.standard_normal(5))
    x, v = rng.standard_normal(5), rng.standard_normal(5)
    got = dt.grad(lambda u: cf.hvp(v, u) @ v)(x)
    want = dt.grad(lambda u: dt.hvp(rosen, u, v) @ v)(x)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_jvp_broadcasting_operands_and_batched_jacobian(rng):
    def f(x):
        s = x[0] * x[1:]              # a 0-d operand against a vector
        return np.sin(s) * x[1:] + x[0] ** 2

    cf = dt.compile(f, rng.standard_normal(6))
    x, v = rng.standard_normal(6), rng.standard_normal(6)
    _, t = cf.jvp((x,), (v,))
    np.testing.assert_allclose(t, dt.jvp(f, (x,), (v,))[1], rtol=1e-13)
    np.testing.assert_allclose(cf.jacobian(x, mode="forward"), dt.jacfwd(f)(x), rtol=1e-13)
    np.testing.assert_allclose(cf.jacobian(x, mode="reverse"), dt.jacfwd(f)(x), rtol=1e-13)


def test_jvp_tangent_shape_is_checked(rng):
    cf = dt.compile(rosen, rng.standard_normal(5))
    with pytest.raises(ShapeError, match="tangent of shape"):
        cf.jvp((np.ones(5),), (np.ones(4),))


def test_hessian_needs_one_argnum(rng):
    cf = dt.compile(lambda a, b: np.sum(a * b), np.ones(3), np.ones(3), argnums=(0, 1))
    with pytest.raises(dt.errors.ArgnumsError, match="int argnums"):
        cf.hessian(np.ones(3), np.ones(3))


def test_simplification_drops_identities_and_keeps_derivatives(rng):
    def f(x):
        y = (x * np.ones(4)) - np.zeros(4)
        z = -(-np.sin(y))  # noqa: B002 - a double negation, on purpose
        return np.sum(z * np.full(4, 3.0))

    cf = dt.compile(f, rng.standard_normal(4))
    prog = cf.variants[0].program
    names = [getattr(n.fn, "name", "") for n in prog.nodes if n.kind == "prim"]
    assert names == ["sin", "mul", "sum"], names      # x*1, x-0, -(-x) gone
    mul = next(n for n in prog.nodes if getattr(n.fn, "name", "") == "mul")
    assert any(type(a) is not Ref and np.ndim(a) == 0 and float(a) == 3.0
               for a in mul.args)  # a uniform constant array read as a scalar
    assert any(name == "algebraic simplification" and after < before
               for name, before, after in prog.log)
    x = rng.standard_normal(4)
    np.testing.assert_allclose(cf(x), f(x), rtol=1e-15)
    np.testing.assert_allclose(cf.grad(x), dt.grad(f)(x), rtol=1e-15)


def test_simplification_keeps_shape_and_dtype_changes(rng):
    def f(x):
        return np.sum(x * np.ones((2, 3)))      # broadcasting: the multiply stays

    cf = dt.compile(f, rng.standard_normal(3))
    assert any(getattr(n.fn, "name", "") == "mul" for n in cf.variants[0].program.nodes)
    x = rng.standard_normal(3)
    np.testing.assert_allclose(cf.grad(x), dt.grad(f)(x))
    assert simplify_algebra.__doc__
