"""The public surface: options, given patterns, reports, errors, scipy interplay."""

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp

import dualtape as dt
from dualtape.sparse import SparseJacobian, SparseReport


def chain(x):
    return x[1:] ** 2 - 3.0 * x[:-1]


def test_csr_matrix_option_and_default_array():
    x = np.arange(1.0, 6.0)
    J = dt.sparse_jacobian(chain, x, format="csr_matrix")
    assert isinstance(J, sp.csr_matrix) and not isinstance(J, sp.csr_array)
    assert isinstance(dt.sparse_jacobian(chain, x), sp.csr_array)
    np.testing.assert_allclose(J.toarray(), dt.jacfwd(chain)(x))


def test_given_patterns_sparse_dense_and_callable():
    x = np.arange(1.0, 6.0)
    dense = dt.jacfwd(chain)(x)
    given = sp.csr_array(np.ones((4, 5)))  # a superset: the extra entries are explicit zeros
    J = dt.sparse_jacobian(chain, x, sparsity=given)
    assert J.nnz == 20
    np.testing.assert_allclose(J.toarray(), dense)
    J2 = dt.sparse_jacobian(chain, x, sparsity=dense != 0)
    assert J2.nnz == 8
    jac = dt.sparse_jacobian_fn(chain, x, sparsity=lambda x: sp.eye_array(4, 5) + sp.eye_array(
        4, 5, k=1))
    np.testing.assert_allclose(jac(x).toarray(), dense)
    assert "given by a callable" in str(jac)


def test_wrong_pattern_shape_names_the_expected_shape():
    with pytest.raises(dt.ShapeError, match=r"shape \(5, 5\), expected \(4, 5\)"):
        dt.sparse_jacobian(chain, np.ones(5), sparsity=sp.eye_array(5))
    with pytest.raises(dt.ShapeError, match=r"expected \(3, 3\)"):
        dt.sparse_hessian(lambda x: np.sum(x ** 3), np.ones(3), sparsity=np.ones((2, 3)))


def test_other_errors():
    jac = dt.sparse_jacobian_fn(chain, np.ones(5))
    with pytest.raises(dt.ShapeError, match="built for shape"):
        jac(np.ones(6))
    with pytest.raises(ValueError, match="mode"):
        dt.sparse_jacobian(chain, np.ones(5), mode="sideways")
    with pytest.raises(ValueError, match="format"):
        dt.sparse_jacobian(chain, np.ones(5), format="coo")
    with pytest.raises(dt.NonDifferentiableInputError):
        dt.sparse_jacobian(chain, np.arange(5))
    grows = dt.sparse_jacobian_fn(lambda x, k: np.tile(x, k), np.ones(2), args=(1,))
    with pytest.raises(dt.ShapeError, match="was built for"):
        grows(np.ones(2), 2)  # f's output changed shape: the pattern no longer applies


def test_report_tells_pattern_coloring_and_passes():
    jac = dt.sparse_jacobian_fn(chain, np.ones(100))
    rep = jac.report
    assert isinstance(rep, SparseReport) and isinstance(jac, SparseJacobian)
    assert (rep.shape, rep.nnz, rep.mode) == ((99, 100), 198, "forward")
    assert (rep.n_colors_fwd, rep.n_colors_rev, rep.n_passes) == (2, 0, 2)
    assert rep.ops == 5 and "detection" in rep.seconds and "coloring" in rep.seconds
    text = str(jac)
    for piece in ("Sparse Jacobian of sparse_jacobian(chain): 99 x 100, 198 nonzeros",
                  "detected by index-set propagation over 5 operations", "forward mode",
                  "2 forward (tangents, 1 call of f)", "dense: 99"):
        assert piece in text, piece
    assert "nnz=198" in repr(jac)
    assert str(dt.explain_sparse_jacobian(chain, np.ones(100))).splitlines()[0] == \
        text.splitlines()[0]


def test_report_of_reverse_and_bidirectional_plans():
    grad_like = lambda x: np.stack([np.sum(x ** 2), np.sum(np.sin(x))])  # 2 dense rows
    rep = dt.explain_sparse_jacobian(grad_like, np.ones(50))
    assert (rep.mode, rep.n_colors_fwd, rep.n_colors_rev) == ("reverse", 0, 2)
    assert "2 reverse (cotangents, 1 recording + 1 sweep)" in str(rep)
    J = dt.sparse_jacobian(grad_like, np.linspace(0, 1, 50))
    np.testing.assert_allclose(J.toarray(), dt.jacrev(grad_like)(np.linspace(0, 1, 50)))


def test_least_squares_with_detected_sparsity():
    n = 40
    h = 1.0 / (n + 1)

    def residual(u):
        up = np.concatenate([np.zeros(1), u, np.zeros(1)])
        return (up[:-2] - 2.0 * u + up[2:]) / h ** 2 + np.exp(u)

    u0 = np.zeros(n)
    jac = dt.sparse_jacobian_fn(residual, u0)
    res = scipy.optimize.least_squares(residual, u0, jac=jac, method="trf",
                                       jac_sparsity=dt.jacobian_sparsity(residual, u0))
    assert res.success and np.max(np.abs(res.fun)) < 1e-8
    np.testing.assert_allclose(jac(res.x).toarray(), dt.jacfwd(residual)(res.x), rtol=1e-12)
