"""Structured parameters and float64: x0 as a pytree, results in the same structure."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

import solvers
from solvers._pytree import ravel_pytree

Params = namedtuple("Params", ["w", "b"])
rng = np.random.default_rng(0)
X = rng.normal(size=(30, 3))
W_TRUE = np.array([[1.0, -2.0], [0.5, 0.0], [3.0, 1.0]])
B_TRUE = np.array([0.25, -1.0])
Y = X @ W_TRUE + B_TRUE


def loss(p):
    return np.sum((X @ p["w"] + p["b"] - Y) ** 2)


@pytest.mark.parametrize("method", ["L-BFGS-B", "trust-ncg", "trust-exact"])
def test_dict_round_trip(method):
    x0 = {"w": np.zeros((3, 2)), "b": np.zeros(2)}
    res = solvers.minimize(loss, x0, method=method)
    assert set(res.x) == {"w", "b"}
    assert res.x["w"].shape == (3, 2) and res.x["b"].shape == (2,)
    np.testing.assert_allclose(res.x["w"], W_TRUE, atol=1e-5)
    np.testing.assert_allclose(res.x["b"], B_TRUE, atol=1e-5)
    assert res.x_flat.shape == (8,)
    np.testing.assert_array_equal(res.x_flat[:2], res.x["b"])  # keys sorted: b before w


def test_nested_list_tuple_namedtuple_and_scalar_leaves():
    x0 = [Params(w=np.ones(2), b=0.0), (np.zeros((1, 2)),)]
    flat, unravel = ravel_pytree(x0)
    back = unravel(flat)
    assert isinstance(back, list) and isinstance(back[0], Params) and isinstance(back[1], tuple)
    assert back[1][0].shape == (1, 2) and np.ndim(back[0].b) == 0

    def f(p):
        return np.sum((p[0].w - 1.5) ** 2) + (p[0].b + 2.0) ** 2 + np.sum((p[1][0] - 3) ** 2)

    res = solvers.minimize(f, x0, method="BFGS")
    np.testing.assert_allclose(res.x[0].w, 1.5, atol=1e-6)
    assert abs(float(res.x[0].b) + 2.0) < 1e-6
    np.testing.assert_allclose(res.x[1][0], 3.0, atol=1e-6)


def test_two_dimensional_array_x0_keeps_its_shape():
    res = solvers.minimize(lambda w: np.sum((X @ w - Y + B_TRUE) ** 2), np.zeros((3, 2)))
    assert res.x.shape == (3, 2)
    np.testing.assert_allclose(res.x, W_TRUE, atol=1e-5)


def test_float32_input_gives_float64_result():
    x0 = np.array([-1.2, 1.0], dtype=np.float32)
    res = solvers.minimize(lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2, x0,
                           method="L-BFGS-B")
    assert res.x.dtype == np.float64 and res.jac.dtype == np.float64
    np.testing.assert_allclose(res.x, 1.0, atol=1e-4)
    res = solvers.minimize(loss, {"w": np.zeros((3, 2), np.float32), "b": np.zeros(2, np.int64)})
    assert res.x["w"].dtype == np.float64 and res.x["b"].dtype == np.float64


def test_callback_receives_the_structure():
    seen = []
    solvers.minimize(loss, {"w": np.zeros((3, 2)), "b": np.zeros(2)}, method="L-BFGS-B",
                     callback=lambda xk: seen.append(xk))
    assert seen and set(seen[0]) == {"w", "b"} and seen[0]["w"].shape == (3, 2)
    seen.clear()
    solvers.minimize(loss, {"w": np.zeros((3, 2)), "b": np.zeros(2)}, method="BFGS",
                     callback=lambda intermediate_result: seen.append(intermediate_result))
    assert seen[0].x["b"].shape == (2,) and seen[0].x_flat.shape == (8,)


def test_least_squares_and_root_take_pytrees():
    res = solvers.least_squares(lambda p: (X @ p["w"] + p["b"] - Y).ravel(),
                                {"w": np.zeros((3, 2)), "b": np.zeros(2)})
    np.testing.assert_allclose(res.x["w"], W_TRUE, atol=1e-6)
    sol = solvers.root(lambda p: np.stack([p["u"] ** 2 - 4.0, p["v"] - p["u"]]),
                       {"u": 1.0, "v": 0.0}, method="newton")
    assert abs(float(sol.x["u"]) - 2.0) < 1e-10 and abs(float(sol.x["v"]) - 2.0) < 1e-10
