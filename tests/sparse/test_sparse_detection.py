"""Pattern detection, rule by rule: exact expected patterns, and what is global."""

import numpy as np
import pytest
import scipy.sparse as sp

import dualtape as dt
from dualtape.sparsity import Pattern, trace_pattern


def pat(f, x):
    return dt.jacobian_sparsity(f, np.asarray(x, dtype=float)).toarray().astype(int)


def test_zeros_at_the_point_do_not_drop_entries():
    f = lambda x: np.stack([x[0] * x[1], np.sin(x[2]) * np.exp(-1000.0 * x[2] ** 2)])
    x = np.array([0.0, 0.0, 0.0])
    assert not np.any(dt.jacfwd(f)(x)[0])  # the numbers vanish here ...
    np.testing.assert_array_equal(pat(f, x), [[1, 1, 0], [0, 0, 1]])  # ... the structure not


def test_elementwise_broadcasting_and_outer():
    np.testing.assert_array_equal(pat(lambda x: (x[:2, None] * x[None, 2:]).ravel(), np.ones(4)),
                                  [[1, 0, 1, 0], [1, 0, 0, 1], [0, 1, 1, 0], [0, 1, 0, 1]])
    np.testing.assert_array_equal(pat(lambda x: x + np.sum(x[:1]), np.ones(2)), [[1, 0], [1, 1]])


def test_multiplying_by_a_constant_zero_drops_the_entry():
    c = np.array([1.0, 0.0, 2.0])
    np.testing.assert_array_equal(pat(lambda x: c * np.sin(x), np.ones(3)),
                                  [[1, 0, 0], [0, 0, 0], [0, 0, 1]])


def test_moves_and_selections():
    x = np.arange(6.0)
    assert np.array_equal(pat(lambda x: x.reshape(2, 3).T.ravel(), x),
                          np.eye(6)[[0, 3, 1, 4, 2, 5]])
    assert np.array_equal(pat(lambda x: np.flip(x), x), np.eye(6)[::-1])
    assert np.array_equal(pat(lambda x: x[[4, 4, 0]], x), np.eye(6)[[4, 4, 0]])
    assert np.array_equal(pat(lambda x: np.concatenate([x[:1], np.ones(2), x[5:]]), x),
                          np.eye(6)[[0]].tolist() + [[0] * 6] * 2 + np.eye(6)[[5]].tolist())
    assert np.array_equal(pat(lambda x: np.broadcast_to(x[:2], (2, 2)).ravel(), x),
                          np.eye(6)[[0, 1, 0, 1]])


def test_setitem_replaces_and_boolean_masks_keep_both():
    def f(x):
        y = x * 1.0
        y[1] = x[2] ** 2
        return y

    np.testing.assert_array_equal(pat(f, np.ones(3)), [[1, 0, 0], [0, 0, 1], [0, 0, 1]])

    def g(x):
        y = x * 1.0
        y[x > 0] = x[0]  # the mask comes from the data: keep old and new dependency
        return y

    np.testing.assert_array_equal(pat(g, [-1.0, 1.0, -1.0]), [[1, 0, 0], [1, 1, 0], [1, 0, 1]])

    def h(x):
        y = np.zeros_like(x)
        y[1:] = x[:-1]
        return y

    np.testing.assert_array_equal(pat(h, np.ones(3)), [[0, 0, 0], [1, 0, 0], [0, 1, 0]])


def test_where_and_max_are_global():
    x = np.array([1.0, -1.0, 3.0])
    np.testing.assert_array_equal(pat(lambda x: np.where(x > 0, x, x[::-1] ** 2), x),
                                  [[1, 0, 1], [0, 1, 0], [1, 0, 1]])
    np.testing.assert_array_equal(pat(lambda x: np.max(x) + np.maximum(x[0], x[1]), x)[0],
                                  [1, 1, 1])


def test_reductions_and_scans():
    x = np.ones(6)
    np.testing.assert_array_equal(pat(lambda x: np.sum(x.reshape(2, 3), axis=0), x),
                                  [[1, 0, 0, 1, 0, 0], [0, 1, 0, 0, 1, 0], [0, 0, 1, 0, 0, 1]])
    np.testing.assert_array_equal(pat(lambda x: np.prod(x.reshape(2, 3), axis=1, keepdims=True)
                                      .ravel(), x), [[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]])
    np.testing.assert_array_equal(pat(lambda x: np.cumsum(x[:3]), x)[:, :3], np.tril(np.ones(3)))
    np.testing.assert_array_equal(pat(lambda x: np.cumsum(x.reshape(2, 3), axis=0).ravel(), x),
                                  [[1, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0],
                                   [1, 0, 0, 1, 0, 0], [0, 1, 0, 0, 1, 0], [0, 0, 1, 0, 0, 1]])


def test_matmul_structure():
    A = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0]])
    np.testing.assert_array_equal(pat(lambda x: A @ x, np.ones(3)), [[1, 0, 1], [0, 0, 1]])
    np.testing.assert_array_equal(pat(lambda x: x @ A.T, np.ones(3)), [[1, 0, 1], [0, 0, 1]])
    np.testing.assert_array_equal(pat(lambda x: (x.reshape(1, 3) @ A.T).ravel(), np.ones(3)),
                                  [[1, 0, 1], [0, 0, 1]])
    # traced times traced: every term of the contraction, whatever the values
    M = lambda x: (x[:4].reshape(2, 2) @ x[4:].reshape(2, 2)).ravel()
    P = pat(M, np.zeros(8))
    np.testing.assert_array_equal(P[0], [1, 1, 0, 0, 1, 0, 1, 0])
    np.testing.assert_array_equal(P[3], [0, 0, 1, 1, 0, 1, 0, 1])
    B = np.ones((3, 2, 2))  # batched, broadcast against a single matrix
    assert pat(lambda x: (B @ x.reshape(2, 2)).ravel(), np.ones(4)).sum() == 24


def test_nondifferentiable_and_constant_parts():
    np.testing.assert_array_equal(pat(lambda x: x * np.floor(x), np.ones(2)), np.eye(2))
    np.testing.assert_array_equal(pat(lambda x: np.ones(2) * 3.0, np.ones(2)), np.zeros((2, 2)))


def test_control_flow_sees_the_branch_taken():
    f = lambda x: x[0] * x[1] if x[0] > 0 else np.sin(x[2])
    np.testing.assert_array_equal(pat(lambda x: np.atleast_1d(f(x)), [1.0, 1.0, 1.0]),
                                  [[1, 1, 0]])
    np.testing.assert_array_equal(pat(lambda x: np.atleast_1d(f(x)), [-1.0, 1.0, 1.0]),
                                  [[0, 0, 1]])


def test_nested_gradient_uses_the_transposed_rules():
    energy = lambda x: np.sum(x[[0, 1, 2]] * x[[1, 2, 3]]) + np.sum(np.cos(x))
    P = pat(dt.grad(energy), np.ones(4))
    np.testing.assert_array_equal(P, [[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1]])


def test_user_primitive_falls_back_to_dense_and_is_reported():
    @dt.primitive
    def twist(x):
        return x[::-1] * 2.0

    dt.defjvp(twist, lambda t, ans, x: t[::-1] * 2.0)
    f = lambda x: np.concatenate([twist(x[:2]), np.sin(x[2:])])
    np.testing.assert_array_equal(pat(f, np.ones(4)), [[1, 1, 0, 0], [1, 1, 0, 0],
                                                        [0, 0, 1, 0], [0, 0, 0, 1]])
    _, _, trace = trace_pattern(f, np.ones(4))
    assert trace.fallbacks == {"twist": 1}
    report = str(dt.explain_sparse_jacobian(f, np.ones(4)))
    assert "dense fallbacks" in report and "twist x1" in report
    J = dt.sparse_jacobian(f, np.arange(4.0))
    np.testing.assert_allclose(J.toarray(), dt.jacfwd(f)(np.arange(4.0)))


def test_pattern_value_and_shapes():
    x = np.arange(6.0).reshape(2, 3)
    P, value, trace = trace_pattern(lambda x: np.sum(x ** 2, axis=1), x)
    np.testing.assert_allclose(value, [5.0, 50.0])
    assert P.shape == (2, 6) and P.dtype == bool and trace.ops == 2
    p = Pattern._make(x, sp.eye_array(6, format="csr"), trace)
    assert repr(p) == "Pattern(shape=(2, 3), nnz=6)"


def test_errors_name_the_problem():
    with pytest.raises(dt.ShapeError, match="one array"):
        dt.jacobian_sparsity(lambda x: (x, x), np.ones(2))
    with pytest.raises(dt.NonDifferentiableInputError):
        dt.jacobian_sparsity(lambda x: x, np.arange(3))
    with pytest.raises(dt.ShapeError, match="scalar"):
        dt.hessian_sparsity(lambda x: x ** 2, np.ones(2))


def test_multiple_results_fall_back_to_dense_coupling():
    from dualtape.registry import Primitive

    split = Primitive("split_scale", lambda x: (2.0 * x, 3.0 * x), multiple_results=True,
                      user=True)
    split.jvp = lambda tangents, ans, args, kwargs: (2.0 * tangents[0], 3.0 * tangents[0])

    def f(x):
        a, b = split(x[:2])
        return np.concatenate([a * b, np.sin(x[2:])])

    P, _, trace = trace_pattern(f, np.ones(3))
    np.testing.assert_array_equal(P.toarray(), [[1, 1, 0], [1, 1, 0], [0, 0, 1]])
    assert trace.fallbacks == {"split_scale": 1}
    H = dt.hessian_sparsity(lambda x: np.sum(f(x)), np.ones(3)).toarray()
    np.testing.assert_array_equal(H, [[1, 1, 0], [1, 1, 0], [0, 0, 1]])
    np.testing.assert_allclose(dt.sparse_jacobian(f, np.arange(3.0)).toarray(),
                               dt.jacfwd(f)(np.arange(3.0)))
