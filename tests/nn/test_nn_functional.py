"""The fused nn primitives: values against NumPy references.

Their derivatives are checked from their samples by the registry-driven suite
(tests/test_registry_rules.py lists dualtape.nn.functional in REGISTERING_MODULES).
"""

import numpy as np
import pytest
from scipy.special import logsumexp

import dualtape as dt
from dualtape.nn import functional as F
from dualtape.registry import PRIMITIVES

FUSED = [F.linear, F.batch_norm, F.softmax_cross_entropy, F.relu]


def test_fused_primitives_are_registered_builtins():
    for p in FUSED:
        assert PRIMITIVES[p.name] is p and not p.user and p.samples


def test_linear_value(rng):
    x, w, b = rng.standard_normal((5, 3)), rng.standard_normal((4, 3)), rng.standard_normal(4)
    np.testing.assert_allclose(F.linear(x, w, b), x @ w.T + b, rtol=1e-14)


def test_batch_norm_value_and_stats_shortcut(rng):
    x, g, b = rng.standard_normal((6, 3)) * 3 + 1, rng.uniform(0.5, 2, 3), rng.standard_normal(3)
    ref = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5) * g + b
    np.testing.assert_allclose(F.batch_norm(x, g, b, eps=1e-5), ref, rtol=1e-12)
    mean, ssd, inv_std = F.batch_stats(x, 1e-5)
    np.testing.assert_allclose(ssd / 5, x.var(0, ddof=1), rtol=1e-12)
    stats = (mean, inv_std)
    np.testing.assert_allclose(F.batch_norm(x, g, b, eps=1e-5, stats=stats), ref, rtol=1e-12)
    ct = rng.standard_normal((6, 3))
    plain = F.batch_norm.vjp(ct, ref, [x, g, b], {"eps": 1e-5}, [True] * 3)
    cached = F.batch_norm.vjp(ct, ref, [x, g, b], {"eps": 1e-5, "stats": stats}, [True] * 3)
    for a, c in zip(plain, cached):
        np.testing.assert_allclose(a, c, rtol=1e-12)


def test_softmax_cross_entropy_value_is_stable(rng):
    z, y = rng.standard_normal((7, 4)), rng.integers(0, 4, 7)
    ref = np.mean(logsumexp(z, axis=1) - z[np.arange(7), y])
    assert F.softmax_cross_entropy(z, labels=y) == pytest.approx(ref, rel=1e-14)
    huge = np.array([[1000.0, 0.0, -1000.0], [-800.0, 800.0, 0.0]])
    loss = F.softmax_cross_entropy(huge, labels=np.array([0, 0]))
    assert loss == pytest.approx(800.0, rel=1e-14)  # 0 for the first row, 1600 / 2 for the second
    g = dt.grad(lambda z: F.softmax_cross_entropy(z, labels=np.array([0, 0])))(huge)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, [[0, 0, 0], [-0.5, 0.5, 0]], atol=1e-12)


def test_softmax_and_log_softmax(rng):
    z = rng.standard_normal((3, 5))
    np.testing.assert_allclose(F.softmax(z).sum(axis=1), 1.0)
    np.testing.assert_allclose(F.log_softmax(z), z - logsumexp(z, axis=1, keepdims=True))


def test_relu_value_and_zero_derivative_at_zero():
    x = np.array([-1.5, 0.0, 2.0])
    np.testing.assert_array_equal(F.relu(x), [0.0, 0.0, 2.0])
    np.testing.assert_array_equal(dt.grad(lambda x: np.sum(F.relu(x)))(x), [0.0, 0.0, 1.0])


def test_fused_ops_record_one_wengert_entry_each(rng):
    w = dt.Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    b = dt.Tensor(np.zeros(4), requires_grad=True)
    with dt.Tape() as tape:
        F.softmax_cross_entropy(F.relu(F.linear(np.ones((2, 3)), w, b)), labels=np.array([1, 2]))
    ops = [e[0].name for e in tape.entries if e[0] is not None]
    assert ops == ["linear", "relu", "softmax_cross_entropy"]
