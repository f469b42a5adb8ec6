"""Replayed values and derivatives equal eager dualtape at points other than the
recording point: scalar chains, Rosenbrock, an MLP loss with data arguments, reductions,
broadcasting, indexing, in-place writes, np.where, linalg.solve, vector outputs,
has_aux, static_argnums and pytrees."""

from __future__ import annotations

import numpy as np
import pytest

import dualtape as dt

TOL = {"rtol": 1e-12, "atol": 1e-13}


def close(got, want, **tol):
    """Same structure (tuples and dicts walked) and values within tolerance."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys()
        for k in want:
            close(got[k], want[k], **tol)
        return
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want)
        for g, w in zip(got, want):
            close(g, w, **tol)
        return
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, **(tol or TOL))


def eager_jvp(f, args, nums, tangents):
    """dt.jvp of f in the arguments ``nums`` only (the others held fixed)."""
    def of(*ws):
        full = list(args)
        for i, w in zip(nums, ws):
            full[i] = w
        return f(*full)
    return dt.jvp(of, tuple(args[i] for i in nums), tangents)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# ---- scalar functions of one array (or float) argument ----

def scalar_chain(x):
    return np.sin(x) * np.exp(-x * x) + np.log(1.0 + x * x) / (2.0 + np.cos(x)) - x ** 3


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def reductions(x):  # x: (3, 4, 2)
    a = np.sum(x ** 2, axis=0, keepdims=True)            # (1, 4, 2)
    b = np.mean(np.sin(x), axis=(0, 2))                  # (4,)
    c = np.cumsum(x, axis=1)[:, -1]                      # (3, 2)
    d = np.prod(np.tanh(x) + 2.0, axis=-1, keepdims=True)  # (3, 4, 1)
    e = np.std(x, axis=2)                                # (3, 4)
    f = x.sum(axis=1).min()                              # ()
    return (np.sum(a * x) + np.sum(b ** 2) + np.sum(np.exp(c)) + np.sum(d * e[..., None])
            + f + np.linalg.norm(x) + np.var(x))


def broadcasting(x):  # x: (3, 4)
    col = x[:, :1]                  # (3, 1)
    row = x[1:2, :]                 # (1, 4)
    outer = col * row + np.cos(x[:, 2])[:, None] - x[0]
    return np.sum(outer ** 2 / (1.0 + x ** 2)) + np.sum(2.0 * x.T @ x)


def indexing(x):  # x: (5, 4)
    basic = x[1:, ::2] * x[:-1, 1::2] + x[1:, 0][:, None] * x[None, 2, ::2] + x[1:, -1:]
    fancy = x[[0, 2, 2, 4]] * x[np.array([1, 1, 3, 0]), :]
    pairs = x[[0, 1, 4], [3, 2, 1]]
    return np.sum(basic ** 2) + np.sum(np.sin(fancy)) + np.sum(pairs ** 3) + x[-1, -1] * x[0, 0]


def inplace(x):  # x: (6,)
    y = x.copy()
    y[0] = x[1] ** 2
    y[2:4] *= 3.0
    y[[4, 5]] += np.sin(x[:2])
    y[-1] = y[0] * y[2]
    z = np.zeros_like(x)
    z[::2] = np.exp(x[1::2])
    return np.sum(y * z) + np.sum(y ** 2)


def where(x):
    return np.sum(np.where(x > 0.0, x ** 2, np.sin(x)) + np.where(np.abs(x) < 0.5, 1.0, x))


def solve(x):  # x: (9,) -> a 3x3 system
    A = x.reshape(3, 3) + 4.0 * np.eye(3)
    b = np.tanh(x[:3])
    return np.sum(np.linalg.solve(A, b) ** 2) + np.linalg.det(A) * 1e-2


CASES = {
    "scalar_chain_array": (lambda x: np.sum(scalar_chain(x)), (4,)),
    "rosen": (rosen, (7,)),
    "reductions": (reductions, (3, 4, 2)),
    "broadcasting": (broadcasting, (3, 4)),
    "indexing": (indexing, (5, 4)),
    "inplace": (inplace, (6,)),
    "where": (where, (8,)),
    "solve": (solve, (9,)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_scalar_functions_match_eager_at_new_points(rng, name):
    f, shape = CASES[name]
    cf = dt.compile(f, rng.standard_normal(shape))
    for _ in range(3):
        x = rng.standard_normal(shape)
        close(cf(x), f(x))
        value, g = cf.value_and_grad(x)
        want_value, want_g = dt.value_and_grad(f)(x)
        close(value, want_value)
        close(g, want_g)
        close(cf.grad(x), want_g)
        v = rng.standard_normal(shape)
        out, t = cf.jvp((x,), (v,))
        want_out, want_t = dt.jvp(f, (x,), (v,))
        close(out, want_out)
        close(t, want_t)
        out, vjp_fn = cf.vjp(x)
        close(vjp_fn(np.float64(2.5)), dt.vjp(f, x)[1](np.float64(2.5))[0])
        close(cf.hvp(v, x), dt.hvp(f, x, v), rtol=1e-10, atol=1e-11)
    close(cf.hessian(x), dt.hessian(f)(x), rtol=1e-10, atol=1e-11)
    assert cf.retraces == 0 and len(cf.variants) == 1, cf.last_retrace


def test_scalar_chain_on_python_floats(rng):
    cf = dt.compile(scalar_chain, 0.3)
    for x in (1.7, -0.4, 2.9, 0.0):
        value = cf(x)
        assert type(value) is np.float64
        close(value, scalar_chain(x), rtol=1e-14)
        g = cf.grad(x)
        assert type(g) is np.float64
        close(g, dt.grad(scalar_chain)(x), rtol=1e-13)
        close(cf.hvp(np.float64(1.0), np.float64(x)), dt.hessian(scalar_chain)(x), rtol=1e-12)
    assert cf.retraces == 0


@pytest.mark.parametrize("argnums", [(0, 2), (2, 0), (1, 2, 0), -1])
def test_several_float_arguments_and_argnums(argnums):
    def f(a, b, c):
        return a * np.sin(b) + np.exp(a * c) / (1.0 + b ** 2)

    cf = dt.compile(f, 0.1, 0.2, 0.3, argnums=argnums)
    for a, b, c in [(1.0, -2.0, 0.5), (0.3, 0.7, -1.2)]:
        close(cf(a, b, c), f(a, b, c))
        close(cf.grad(a, b, c), dt.grad(f, argnums=argnums)(a, b, c))
        value, grads = cf.value_and_grad(a, b, c)
        close((value, grads), dt.value_and_grad(f, argnums=argnums)(a, b, c))
        nums = (argnums % 3,) if isinstance(argnums, int) else argnums
        tangents = tuple(np.float64(0.5 + k) for k in range(len(nums)))
        close(cf.jvp((a, b, c), tangents), eager_jvp(f, (a, b, c), nums, tangents))


@pytest.mark.parametrize("exponent", [np.array([2.0, 3.0, 0.5]), 3.0, -2.0, np.float64(0.5),
                                      np.array(4.0), np.inf])
def test_power_with_constant_exponents(rng, exponent):
    f = lambda x: np.sum((np.abs(x) + 0.5) ** exponent)
    cf = dt.compile(f, rng.standard_normal(3))
    x = rng.standard_normal(3)
    with np.errstate(over="ignore", invalid="ignore"):
        close(cf.value_and_grad(x), dt.value_and_grad(f)(x))
        close(cf.hvp(np.ones(3), x), dt.hvp(f, x, np.ones(3)))


# ---- several array arguments: an MLP loss with data ----

def mlp_loss(W1, b1, W2, X, y):
    h = np.tanh(X @ W1 + b1)
    return np.mean((h @ W2 - y) ** 2) + 1e-3 * (np.sum(W1 ** 2) + np.sum(W2 ** 2))


SHAPES = [(3, 4), (4,), (4,), (5, 3), (5,)]


@pytest.mark.parametrize("argnums", [0, 2, (0, 1, 2), (2, 0), (1,), (0, 4)])
def test_mlp_loss_argnums_with_new_data(rng, argnums):
    cf = dt.compile(mlp_loss, *[rng.standard_normal(s) for s in SHAPES], argnums=argnums)
    for _ in range(2):
        args = [rng.standard_normal(s) for s in SHAPES]  # new weights AND new data
        close(cf(*args), mlp_loss(*args))
        close(cf.grad(*args), dt.grad(mlp_loss, argnums=argnums)(*args))
        close(cf.value_and_grad(*args), dt.value_and_grad(mlp_loss, argnums=argnums)(*args))
        nums = (argnums,) if isinstance(argnums, int) else argnums
        tangents = tuple(rng.standard_normal(SHAPES[i]) for i in nums)
        got = cf.jvp(args, tangents)
        close(got, eager_jvp(mlp_loss, args, nums, tangents))
    assert cf.retraces == 0


def test_data_arguments_may_change_every_call(rng):
    """Only argnums are differentiated, but every array argument is an input: new data
    must never be served from the recording's constants."""
    W1, b1, W2 = (rng.standard_normal(s) for s in SHAPES[:3])
    cf = dt.compile(mlp_loss, W1, b1, W2, np.zeros((5, 3)), np.zeros(5))
    for _ in range(3):
        X, y = rng.standard_normal((5, 3)), rng.standard_normal(5)
        close(cf.grad(W1, b1, W2, X, y), dt.grad(mlp_loss)(W1, b1, W2, X, y))


# ---- vector outputs: jacobian, vjp, jvp ----

def vector_out(x):  # (4,) -> (3, 2)
    A = np.outer(np.sin(x[:3]), x[2:]) + x[:3, None] ** 2
    return np.tanh(A) * np.cumsum(x)[-2:]


@pytest.mark.parametrize("mode", ["auto", "forward", "reverse"])
def test_jacobian_of_a_vector_function(rng, mode):
    cf = dt.compile(vector_out, rng.standard_normal(4))
    for _ in range(2):
        x = rng.standard_normal(4)
        J = cf.jacobian(x, mode=mode)
        assert J.shape == (3, 2, 4)
        close(J, dt.jacobian(vector_out)(x))
        close(J, dt.jacrev(vector_out)(x))
        close(J, dt.jacfwd(vector_out)(x))


def test_vjp_and_jvp_of_a_vector_function(rng):
    cf = dt.compile(vector_out, rng.standard_normal(4))
    x, v, ct = rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal((3, 2))
    out, vjp_fn = cf.vjp(x)
    want_out, want_fn = dt.vjp(vector_out, x)
    close(out, want_out)
    close(vjp_fn(ct), want_fn(ct)[0])
    close(vjp_fn(2.0 * ct), 2.0 * want_fn(ct)[0])   # the pullback may be called again
    close(cf.jvp((x,), (v,)), dt.jvp(vector_out, (x,), (v,)))
    with pytest.raises(dt.errors.ShapeError, match="grad needs a function returning one"):
        cf.grad(x)


def test_tuple_output_vjp_and_jvp(rng):
    def f(x, y):
        return np.sin(x) * y[0], np.sum(x * y) ** 2

    cf = dt.compile(f, rng.standard_normal(3), rng.standard_normal(3), argnums=(0, 1))
    x, y = rng.standard_normal(3), rng.standard_normal(3)
    cts = (rng.standard_normal(3), np.float64(0.7))
    out, vjp_fn = cf.vjp(x, y)
    want_out, want_fn = dt.vjp(f, x, y)
    close(out, want_out)
    close(vjp_fn(cts), want_fn(cts))
    tans = (rng.standard_normal(3), rng.standard_normal(3))
    close(cf.jvp((x, y), tans), dt.jvp(f, (x, y), tans))


def test_matrix_function_of_a_matrix_jacobian(rng):
    def f(A):
        return np.linalg.solve(A @ A.T + np.eye(3), A[:, 0])

    cf = dt.compile(f, rng.standard_normal((3, 3)))
    A = rng.standard_normal((3, 3))
    for mode in ("forward", "reverse"):
        close(cf.jacobian(A, mode=mode), dt.jacobian(f)(A), rtol=1e-11, atol=1e-12)


def test_linalg_solve_in_both_arguments(rng):
    def f(A, b):
        return np.sum(np.linalg.solve(A, b) ** 2)

    M = lambda: rng.standard_normal((4, 4)) + 5.0 * np.eye(4)
    cf = dt.compile(f, M(), rng.standard_normal(4), argnums=(0, 1))
    A, b = M(), rng.standard_normal(4)
    close(cf.value_and_grad(A, b), dt.value_and_grad(f, argnums=(0, 1))(A, b), rtol=1e-11)


@pytest.mark.parametrize("f", [lambda x: x[0], lambda x: np.sum(x ** 2) + x[1],
                               lambda x: 2.0 * x[0] + x[2]], ids=["x0", "sum_plus_x1", "lin"])
def test_gradient_of_a_scalar_element(rng, f):
    cf = dt.compile(f, rng.standard_normal(3))
    x = rng.standard_normal(3)
    close(cf.grad(x), dt.grad(f)(x))


@pytest.mark.parametrize("f", [
    lambda x: np.where(np.array([True, False]), x, 5.0),
    lambda x: np.concatenate([x, np.ones(2)]),
    lambda x: np.stack([x, np.ones(2)]),
], ids=["where", "concatenate", "stack"])
def test_jvp_with_a_constant_operand_of_a_linear_primitive(f):
    x, v = np.array([0.3, -0.7]), np.array([1.0, 1.0])
    cf = dt.compile(f, x)
    close(cf.jvp((x,), (v,)), dt.jvp(f, (x,), (v,)))


def test_hvp_through_a_constant_operand_of_a_linear_primitive():
    f = lambda x: np.sum(np.sum(np.stack([x, np.ones(2)]), axis=0) ** 3)
    x, v = np.array([0.3, -0.7]), np.array([1.0, 0.0])
    cf = dt.compile(f, x)
    close(cf.hvp(v, x), dt.hvp(f, x, v))     # replay [15.6, 1.8], eager [7.8, 0]


# ---- has_aux, static_argnums, pytrees ----

def aux_fn(x):
    y = np.sin(x)
    return np.sum(y ** 2), {"y": y, "n": np.max(x)}


def test_has_aux_value_vjp_and_hvp(rng):
    cf = dt.compile(aux_fn, rng.standard_normal(5), has_aux=True)
    x, v = rng.standard_normal(5), rng.standard_normal(5)
    close(cf(x), aux_fn(x))
    (value, aux), vjp_fn = cf.vjp(x)
    want_value, want_fn, want_aux = dt.vjp(aux_fn, x, has_aux=True)
    close((value, aux), (want_value, want_aux))
    close(vjp_fn(np.float64(1.5)), want_fn(np.float64(1.5))[0])
    close(cf.hvp(v, x), dt.hvp(lambda u: aux_fn(u)[0], x, v))


def test_has_aux_on_floats():
    def f(x, y):
        s = np.sin(x * y)
        return s * s, {"s": s, "c": 3.0}

    cf = dt.compile(f, 0.3, 0.4, has_aux=True, argnums=(0, 1))
    for x, y in [(0.5, -1.0), (2.0, 0.25)]:
        close(cf.value_and_grad(x, y), dt.value_and_grad(f, has_aux=True, argnums=(0, 1))(x, y))
        close(cf.grad(x, y), dt.grad(f, has_aux=True, argnums=(0, 1))(x, y))


def test_has_aux_gradient_of_an_array_function(rng):
    cf = dt.compile(aux_fn, rng.standard_normal(5), has_aux=True)
    x = rng.standard_normal(5)
    (value, aux), g = cf.value_and_grad(x)
    (want_value, want_aux), want_g = dt.value_and_grad(aux_fn, has_aux=True)(x)
    close((value, aux, g), (want_value, want_aux, want_g))
    close(cf.grad(x), dt.grad(aux_fn, has_aux=True)(x))


def test_static_int_and_static_array(rng):
    def f(x, k, M):
        return np.sum((M @ x) ** k)

    M1, M2 = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    cf = dt.compile(f, rng.standard_normal(3), 2, M1, static_argnums=(1, 2))
    x = rng.standard_normal(3)
    close(cf.grad(x, 2, M1), dt.grad(f)(x, 2, M1))
    assert cf.retraces == 0
    close(cf.grad(x, 3, M1), dt.grad(f)(x, 3, M1))          # another static value
    assert cf.retraces == 1
    close(cf.grad(x, 3, M2), dt.grad(f)(x, 3, M2))          # another static array
    assert cf.retraces == 2
    close(cf.grad(x, 3, M1.copy()), dt.grad(f)(x, 3, M1))   # equal by value: reused
    close(cf.grad(x, 2, M1), dt.grad(f)(x, 2, M1))
    assert cf.retraces == 2
    prog = cf.variants[0].program
    assert any(n.static for n in prog.nodes if n.kind == "input")


def test_static_argument_cannot_be_differentiated():
    with pytest.raises(dt.errors.ArgnumsError, match="static"):
        dt.compile(lambda x, k: x * k, 1.0, 2.0, argnums=(0, 1), static_argnums=(1,))


def test_pytree_arguments(rng):
    def f(params, X):
        h = np.tanh(X @ params["W"] + params["b"])
        return np.sum(h ** 2) + params["scale"][0] * np.sum(params["W"])

    def draw():
        return {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(2),
                "scale": [rng.standard_normal()]}

    X = rng.standard_normal((4, 3))
    cf = dt.compile(f, draw(), X)
    p = draw()
    g = cf.grad(p, X)
    want = dt.grad(f)(p, X)
    assert g.keys() == want.keys() and isinstance(g["scale"], list)
    close(g, want)
    assert cf.retraces == 0


def test_compile_without_example_records_on_first_call(rng):
    cf = dt.compile(rosen)
    assert "not recorded" in str(cf)
    x = rng.standard_normal(4)
    close(cf.grad(x), dt.grad(rosen)(x))
    assert cf.retraces == 0 and len(cf.variants) == 1


# ---- inside other transforms ----

def test_compiled_inside_other_transforms(rng):
    """Inside another transform a Compiled (and its hvp/hessian) runs f eagerly."""
    cf = dt.compile(rosen, rng.standard_normal(4))
    x, v = rng.standard_normal(4), rng.standard_normal(4)
    close(dt.grad(lambda u: cf(u))(x), dt.grad(rosen)(x))
    close(dt.grad(cf)(x), dt.grad(rosen)(x))
    close(dt.grad(lambda u: cf(u) * np.sum(u))(x), dt.grad(lambda u: rosen(u) * np.sum(u))(x))
    close(dt.jvp(cf, (x,), (v,)), dt.jvp(rosen, (x,), (v,)))
    close(dt.hessian(lambda u: cf(u))(x), dt.hessian(rosen)(x))
    close(dt.jacrev(lambda u: cf.hvp(v, u))(x), dt.jacrev(lambda u: dt.hvp(rosen, u, v))(x))
    close(dt.grad(lambda u: cf.hessian(u)[0, 1])(x),
          dt.grad(lambda u: dt.hessian(rosen)(u)[0, 1])(x))
    assert cf.retraces == 0


def test_compiled_grad_inside_another_transform(rng):
    cf = dt.compile(scalar_chain, 0.2)
    for x in (0.5, -1.3):
        close(dt.grad(lambda u: cf.grad(u))(x), dt.hessian(scalar_chain)(x), rtol=1e-12)
    y = np.array([0.3, -0.8, 1.1])
    cv = dt.compile(lambda u: np.sin(u) * u[0], y)
    v = np.array([1.0, 2.0, -1.0])
    want = dt.jacobian(lambda u: np.sin(u) * u[0])
    close(dt.jacfwd(lambda u: cv.jvp((u,), (v,))[1])(y),
          dt.jacfwd(lambda u: dt.jvp(lambda w: np.sin(w) * w[0], (u,), (v,))[1])(y))
    close(dt.jacrev(lambda u: cv.vjp(u)[1](v))(y),
          dt.jacrev(lambda u: dt.vjp(lambda w: np.sin(w) * w[0], u)[1](v)[0])(y))
    close(dt.jacfwd(lambda u: cv.jacobian(u))(y), dt.jacfwd(want)(y))
