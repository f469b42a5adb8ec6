"""Test functions for the mode comparison, each with its exact Jacobian by hand.

A :class:`Problem` is one function ``F: R^n -> R^m`` at one point. A family builds a
problem for the requested ``(n, m)``:

* ``dense``: ``F(x) = h(A g(x))`` with ``g``, ``h`` elementwise chains of ``cost`` steps
  ``u -> sin(u) + u/2`` and ``A`` an ``m x n`` matrix; ``cost`` tunes the work per
  element, so the ratio of elementwise to matrix work can be varied;
* ``rosenbrock``: the extended Rosenbrock function, ``R^n -> R`` (``m`` is ignored);
* ``mlp``: per-example squared losses of a one-hidden-layer tanh network as a function
  of its flat parameter vector: ``n`` parameters (via the width), ``m`` examples.

>>> import numpy as np
>>> p = make_problem("dense", 3, 2)
>>> p.fn(p.x).shape, p.jac(p.x).shape
((2,), (2, 3))
>>> p = make_problem("rosenbrock", 4, 7)
>>> p.m, bool(np.all(p.jac(np.ones(4)) == 0))   # the minimum is at x = 1
(1, True)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class Problem:
    """``fn`` maps a 1-D ``x`` of size ``n`` to a 1-D output of size ``m``; ``jac`` is exact
    (or None when unknown)."""

    name: str
    fn: Callable[[np.ndarray], np.ndarray]
    x: np.ndarray
    m: int
    jac: Callable[[np.ndarray], np.ndarray] | None = None

    @property
    def n(self) -> int:
        return int(self.x.size)


def _chain(u, cost: int):
    """cost steps of u -> sin(u) + u/2 and the derivative of the whole chain."""
    d = np.ones_like(u) if isinstance(u, np.ndarray) else 1.0
    for _ in range(cost):
        d = d * (np.cos(u) + 0.5)
        u = np.sin(u) + 0.5 * u
    return u, d


def dense(n: int, m: int, cost: int = 1, seed: int = 0) -> Problem:
    """``F(x) = h(A g(x))``, elementwise chains of ``cost`` steps around a dense matrix."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n)) / np.sqrt(n)
    x = rng.standard_normal(n)

    def fn(x):
        u = x
        for _ in range(cost):
            u = np.sin(u) + 0.5 * u
        z = A @ u
        for _ in range(cost):
            z = np.sin(z) + 0.5 * z
        return z

    def jac(x):
        u, du = _chain(x, cost)
        _, dz = _chain(A @ u, cost)
        return dz[:, None] * A * du[None, :]

    return Problem(f"dense(cost={cost})", fn, x, m, jac)


def rosenbrock(n: int, m: int = 1, cost: int = 1, seed: int = 0) -> Problem:
    """Extended Rosenbrock: sum over pairs of 100 (x2 - x1^2)^2 + (1 - x1)^2 (n even)."""
    n = max(2, n + (n % 2))
    x = np.tile([-1.2, 1.0], n // 2)

    def fn(x):
        a, b = x[0::2], x[1::2]
        return np.atleast_1d(np.sum(100.0 * (b - a ** 2) ** 2 + (1.0 - a) ** 2))

    def jac(x):
        a, b = x[0::2], x[1::2]
        g = np.empty_like(x)
        g[0::2] = -400.0 * a * (b - a ** 2) - 2.0 * (1.0 - a)
        g[1::2] = 200.0 * (b - a ** 2)
        return g[None, :]

    return Problem("rosenbrock", fn, x, 1, jac)


def mlp(n: int, m: int, cost: int = 1, seed: int = 0, d: int = 8) -> Problem:
    """Per-example losses 0.5 (w2 . tanh(W1 x_i + b1) + b2 - t_i)^2 of ``m`` examples.

    The hidden width is chosen so the parameter count ``h (d + 2) + 1`` is close to ``n``.
    """
    h = max(1, round((n - 1) / (d + 2)))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, d))
    t = np.sin(X.sum(axis=1))
    theta = rng.standard_normal(h * (d + 2) + 1) / np.sqrt(d)

    def unpack(p):
        W1 = p[: h * d].reshape(h, d)
        return W1, p[h * d: h * d + h], p[h * d + h: h * d + 2 * h], p[-1]

    def fn(p):
        W1, b1, w2, b2 = unpack(p)
        hid = np.tanh(X @ W1.T + b1)
        r = hid @ w2 + b2 - t
        return 0.5 * r ** 2

    def jac(p):
        W1, b1, w2, b2 = unpack(p)
        hid = np.tanh(X @ W1.T + b1)
        r = hid @ w2 + b2 - t
        back = r[:, None] * w2[None, :] * (1.0 - hid ** 2)     # (m, h): dloss_i/dpre
        dW1 = back[:, :, None] * X[:, None, :]                 # (m, h, d)
        return np.concatenate([dW1.reshape(m, -1), back, r[:, None] * hid, r[:, None]], axis=1)

    return Problem(f"mlp(d={d}, width={h})", fn, theta, m, jac)


#: family name -> builder ``(n, m, cost) -> Problem``.
FAMILIES: dict[str, Callable[..., Problem]] = {"dense": dense, "rosenbrock": rosenbrock,
                                               "mlp": mlp}


def make_problem(family: str, n: int, m: int, cost: int = 1) -> Problem:
    """Build the problem of ``family`` at size ``(n, m)``.

    Raises:
        ValueError: unknown family.
    """
    try:
        builder = FAMILIES[family]
    except KeyError:
        raise ValueError(f"unknown family {family!r}; choose from {sorted(FAMILIES)} "
                         f"or give a function as module:function") from None
    return builder(n, m, cost=cost)


def user_problem(fn: Callable, shape: tuple[int, ...], jac: Callable | None = None,
                 seed: int = 0) -> Problem:
    """Wrap a user's ``fn`` (any input shape, any output shape) as flat ``R^n -> R^m``.

    The point is drawn uniformly from [0.5, 1.5) (positive, so logs and square roots work).
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 1.5, size=int(np.prod(shape)))

    def flat(v):
        return np.reshape(fn(np.reshape(v, shape)), (-1,))

    m = int(np.size(flat(x)))
    fjac = None if jac is None else (
        lambda v: np.reshape(jac(np.reshape(v, shape)), (m, -1)))
    name = getattr(fn, "__name__", "f")
    return Problem(f"{name}{tuple(shape)}", flat, x, m, fjac)
