"""Random sparse programs for the sparse tests: families with a known pattern, and random
compositions of primitives (for the superset property).

Each family builder returns ``(f, pattern)`` where ``pattern`` is the true boolean
Jacobian pattern (no cancellation, no constant zeros on a path), so the detected
pattern must equal it and the sparse Jacobian must equal the dense one.
"""

from __future__ import annotations

import numpy as np

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
        idx = r.choice(L, size=min(2, L), replace=False)  # repeated targets: see the report
        w[idx] = np.cos(v[r.integers(0, L, idx.size)])
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
