"""sparse_jacobian on random sparse programs: equal to the dense Jacobian, and the detected
pattern is a superset of the true nonzeros (equal to them without cancellation).

The family builders return ``(f, pattern)`` with the true boolean pattern (no cancellation,
no constant zeros on a path); random compositions of primitives check the superset property.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

import dualtape as dt

FAMILIES = ["banded", "blocks", "arrow", "random"]


def banded(n: int, rng: np.random.Generator):
    offsets = sorted({0, *rng.integers(-3, 4, size=3).tolist()})
    coef = rng.uniform(0.5, 2.0, len(offsets))

    def f(x):
        xp = np.concatenate([np.zeros(3), x, np.zeros(3)])
        y = np.sin(x)
        for c, d in zip(coef, offsets):
            y = y + c * np.tanh(xp[3 + d: 3 + d + n]) * x
        return y

    i = np.arange(n)[:, None]
    j = np.arange(n)[None, :]
    return f, np.isin(j - i, offsets)


def blocks(n: int, rng: np.random.Generator):
    s = min(int(rng.integers(1, 4)), n)
    nb = n // s
    W = rng.uniform(0.5, 1.5, (s, s))

    def f(x):
        X = x[: nb * s].reshape(nb, s)
        Y = np.tanh(X @ W) * np.exp(0.1 * np.sum(X, axis=1, keepdims=True))
        return np.concatenate([Y.ravel(), np.cos(x[nb * s:])])

    block = np.arange(n) // s
    block[nb * s:] = nb + np.arange(n - nb * s)
    return f, block[:, None] == block[None, :]


def arrow(n: int, rng: np.random.Generator):
    k = int(rng.integers(1, 3))
    c = rng.uniform(0.5, 2.0, n)

    def f(x):
        y = x * np.sum(x[:k]) + c * np.cos(x)
        y[:k] = np.sum(x ** 2) * c[:k]
        return y

    i, j = np.indices((n, n))
    return f, (i == j) | (i < k) | (j < k)


def random_pattern(n: int, rng: np.random.Generator):
    m = int(rng.integers(1, 2 * n + 1))
    A = rng.uniform(0.5, 1.5, (m, n)) * (rng.random((m, n)) < 2.0 / n)
    i1, i2 = rng.integers(0, n, m), rng.integers(0, n, m)

    def f(x):
        return A @ np.sin(x) + x[i1] * np.exp(0.2 * x[i2])

    P = A != 0
    P[np.arange(m), i1] = True
    P[np.arange(m), i2] = True
    return f, P


BUILDERS = {"banded": banded, "blocks": blocks, "arrow": arrow, "random": random_pattern}


# ---- random compositions: each op maps a traced vector to a traced vector ----

def _consts(seed: int, length: int) -> np.random.Generator:
    return np.random.default_rng([seed, length])  # same constants at every point


def _op(name: str, v, seed: int):
    L = v.shape[0]
    r = _consts(seed, L)
    if name == "unary":
        return [np.sin, np.tanh, lambda u: np.exp(0.1 * u), np.square][seed % 4](v)
    if name == "roll_mul":
        s = int(r.integers(1, L + 1)) % L
        return v * np.concatenate([v[s:], v[:s]])
    if name == "const_matmul":
        A = r.uniform(0.5, 1.5, (L, L)) * (r.random((L, L)) < 0.3)
        return A @ v + v
    if name == "gather":
        return v[r.integers(0, L, L + 1)]
    if name == "setitem":
        w = v * 1.0
        w[r.integers(0, L, 2)] = np.cos(v[r.integers(0, L, 2)])  # repeats: the last write wins
        return w
    if name == "bool_setitem":
        w = v * 2.0
        w[v > 0] = 0.0
        return w
    if name == "reduce":
        return v + np.sum(v[r.integers(0, L, 2)])
    if name == "cumsum":
        return 0.3 * np.cumsum(v)
    if name == "where":
        return np.where(v > 0, v, 0.5 * v)
    if name == "reshape_t":
        a = next((d for d in (2, 3) if L % d == 0), 1)
        return v.reshape(a, L // a).T.ravel()
    if name == "max":
        return v * np.max(v)
    if name == "shift_build":
        w = np.zeros_like(v)
        w[1:] = v[:-1]
        return w + v
    if name == "outer":
        a = next((d for d in (2, 3) if L % d == 0), 1)
        M = v.reshape(a, L // a)
        return (M @ M.T).ravel()
    if name == "prod":
        return v * np.prod(v[: min(3, L)])
    if name == "divide":
        return v / (1.0 + v ** 2)
    raise ValueError(name)


OPS = ["unary", "roll_mul", "const_matmul", "gather", "setitem", "bool_setitem", "reduce",
       "cumsum", "where", "reshape_t", "max", "shift_build", "outer", "prod", "divide"]


def composition(ops: list[str], seed: int):
    """A program applying ``ops`` in turn to x."""

    def f(x):
        v = x
        for k, name in enumerate(ops):
            v = _op(name, v, seed + k)
        return v

    return f


# ---- the tests ----

family_cases = st.tuples(st.sampled_from(FAMILIES), st.integers(1, 24), st.integers(0, 2**32 - 1))


def nonzeros_at_points(f, n, rng, points=3):
    """Union of the nonzeros of the dense Jacobian at a few random points."""
    return np.any([dt.jacfwd(f)(rng.uniform(-1.0, 1.0, n)) != 0 for _ in range(points)], axis=0)


@given(family_cases)
def test_family_programs_pattern_and_values(case):
    kind, n, seed = case
    rng = np.random.default_rng(seed)
    f, true = BUILDERS[kind](n, rng)
    x = rng.uniform(-1.0, 1.0, n)
    P = dt.jacobian_sparsity(f, x)
    assert P.shape == true.shape
    np.testing.assert_array_equal(P.toarray(), true)
    np.testing.assert_array_equal(nonzeros_at_points(f, n, rng), true)  # no cancellation here
    J = dt.sparse_jacobian(f, x)
    assert isinstance(J, sp.csr_array) and J.shape == true.shape
    np.testing.assert_allclose(J.toarray(), dt.jacfwd(f)(x), rtol=1e-13, atol=1e-13)


@given(family_cases, st.sampled_from(["forward", "reverse"]))
def test_one_sided_modes_agree(case, mode):
    kind, n, seed = case
    rng = np.random.default_rng(seed)
    f, _ = BUILDERS[kind](n, rng)
    x = rng.uniform(-1.0, 1.0, n)
    jac = dt.sparse_jacobian_fn(f, x, mode=mode)
    assert (jac.report.n_colors_rev == 0) if mode == "forward" else (jac.report.n_colors_fwd == 0)
    np.testing.assert_allclose(jac(x).toarray(), dt.jacrev(f)(x), rtol=1e-13, atol=1e-13)


@given(st.lists(st.sampled_from(OPS), min_size=1, max_size=5), st.integers(2, 12),
       st.integers(0, 2**16))
def test_random_compositions_superset_and_values(ops, n, seed):
    f = composition(ops, seed)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, n)
    P = dt.jacobian_sparsity(f, x).toarray()
    true = nonzeros_at_points(f, n, rng)
    assert not np.any(true & ~P), "a true nonzero is missing from the detected pattern"
    jac = dt.sparse_jacobian_fn(f, x)
    np.testing.assert_allclose(jac(x).toarray(), dt.jacfwd(f)(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dt.sparse_jacobian(f, x, mode="reverse").toarray(),
                               dt.jacrev(f)(x), rtol=1e-12, atol=1e-12)


def test_reuse_at_other_points_and_with_args():
    def f(x, a, scale=1.0):
        return scale * (x[1:] * x[:-1] - a * np.exp(x[1:]))

    x0 = np.linspace(0.0, 1.0, 30)
    jac = dt.sparse_jacobian_fn(f, x0, args=(2.0,), kwargs={"scale": 3.0})
    rng = np.random.default_rng(1)
    for _ in range(3):
        x = rng.normal(size=30)
        np.testing.assert_allclose(jac(x, 0.5, scale=2.0).toarray(),
                                   dt.jacfwd(f)(x, 0.5, scale=2.0), rtol=1e-14)
    assert jac.report.n_colors_fwd == 2


@pytest.mark.parametrize("offsets, colors", [((-1, 0, 1), 3), ((-2, -1, 0, 1, 2), 5)])
def test_band_color_counts(offsets, colors):
    def f(x):
        xp = np.concatenate([np.zeros(2), x, np.zeros(2)])
        return sum(np.sin(xp[2 + d: 2 + d + x.shape[0]]) * (d + 3.0) for d in offsets) * x

    x = np.linspace(0.1, 1.0, 200)
    jac = dt.sparse_jacobian_fn(f, x)
    assert (jac.report.n_colors_fwd, jac.report.n_colors_rev) == (colors, 0)
    assert jac.report.nnz == sum(200 - abs(d) for d in offsets)
    np.testing.assert_allclose(jac(x).toarray(), dt.jacfwd(f)(x), rtol=1e-14)


def test_arrow_head_costs_a_handful_of_passes():
    n = 300

    def f(x):
        y = x * x[0] + np.cos(x)
        y[0] = np.sum(x ** 2)
        return y

    x = np.linspace(-1.0, 1.0, n)
    jac = dt.sparse_jacobian_fn(f, x)
    assert jac.report.n_passes <= 3 and jac.report.mode == "bidirectional"
    assert jac.report.nnz == 3 * n - 2
    np.testing.assert_allclose(jac(x).toarray(), dt.jacfwd(f)(x), rtol=1e-14)


def test_two_dimensional_grid_laplacian():
    N = 12

    def residual(u):
        z = np.zeros((N, 1))
        row = np.zeros((1, N + 2))
        P = np.concatenate([row, np.concatenate([z, u, z], axis=1), row], axis=0)
        return (P[:-2, 1:-1] + P[2:, 1:-1] + P[1:-1, :-2] + P[1:-1, 2:] - 4.0 * u
                + np.exp(u))

    u = np.random.default_rng(0).uniform(size=(N, N))
    J = dt.sparse_jacobian(residual, u)
    assert J.shape == (N * N, N * N) and J.nnz == 5 * N * N - 4 * N
    np.testing.assert_allclose(J.toarray(), dt.jacfwd(residual)(u).reshape(N * N, N * N))


def test_float32_and_structurally_zero_jacobian():
    x = np.ones(5, np.float32)
    J = dt.sparse_jacobian(lambda x: x * 2.0, x)
    assert J.dtype == np.float32
    Z = dt.sparse_jacobian(lambda x: np.ones(3) * np.floor(x[0]), np.ones(4))
    assert Z.shape == (3, 4) and Z.nnz == 0
