"""sparse_hessian against dt.hessian on random programs with sparse Hessians."""

import numpy as np
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

import dualtape as dt

TERMS = ["neighbours", "diag", "blocks", "arrow", "quadratic", "linear"]


def program(terms: list[str], n: int, rng: np.random.Generator):
    """A scalar f made of ``terms`` and its true Hessian pattern (no cancellation)."""
    fs, true = [], np.zeros((n, n), bool)
    i, j = np.indices((n, n))
    for term in terms:
        if term == "neighbours":
            d = int(rng.integers(1, 4))
            c = rng.uniform(0.5, 2.0, max(n - d, 0))
            fs.append(lambda x, d=d, c=c: np.sum(c * x[:-d] * x[d:]) if n > d else 0.0)
            true |= abs(i - j) == d
        elif term == "diag":
            fs.append(lambda x: np.sum(np.exp(0.3 * x)))
            true |= i == j
        elif term == "blocks":
            s = int(rng.integers(1, 4))
            nb = n // s
            fs.append(lambda x, s=s, nb=nb: np.sum(np.sum(x[: nb * s].reshape(nb, s), axis=1)
                                                   ** 2))
            true |= (i // s == j // s) & (i < nb * s) & (j < nb * s)
        elif term == "arrow":
            fs.append(lambda x: x[0] * np.sum(np.sin(x)))
            true |= (i == 0) | (j == 0) | (i == j)
        elif term == "quadratic":
            A = rng.uniform(0.5, 1.5, (n, n)) * (rng.random((n, n)) < 2.0 / n)
            fs.append(lambda x, A=A: x @ (A @ x))
            true |= (A != 0) | (A.T != 0)
        else:
            c = rng.uniform(size=n)
            fs.append(lambda x, c=c: c @ x)  # linear: no Hessian entries
    return (lambda x: sum(g(x) for g in fs)), true


@given(st.lists(st.sampled_from(TERMS), min_size=1, max_size=4), st.integers(1, 20),
       st.integers(0, 2**32 - 1))
def test_sparse_hessian_matches_dense(terms, n, seed):
    rng = np.random.default_rng(seed)
    f, true = program(terms, n, rng)
    x = rng.uniform(-1.0, 1.0, n)
    H_dense = dt.hessian(f)(x)
    P = dt.hessian_sparsity(f, x).toarray()
    np.testing.assert_array_equal(P, true)  # equal: these programs have no cancellation
    assert not np.any((H_dense != 0) & ~P)
    H = dt.sparse_hessian(f, x)
    assert isinstance(H, sp.csr_array) and H.shape == (n, n)
    np.testing.assert_allclose(H.toarray(), H_dense, rtol=1e-12, atol=1e-12)


def test_reuse_colors_and_nested_gradient():
    f = lambda x, a: np.sum((x[1:] - x[:-1]) ** 2) + a * np.sum(x ** 4)
    x0 = np.linspace(0.0, 1.0, 400)
    hess = dt.sparse_hessian_fn(f, x0, args=(1.0,))
    assert hess.report.n_colors_fwd == 3 and hess.report.mode == "symmetric"
    x = np.random.default_rng(0).normal(size=400)
    H = hess(x, 2.0)
    np.testing.assert_allclose(H.toarray(), dt.hessian(f)(x, 2.0), rtol=1e-13, atol=1e-12)
    J = dt.sparse_jacobian(dt.grad(f), x, args=(2.0,))  # the Jacobian of the gradient
    assert J.nnz == H.nnz
    np.testing.assert_allclose(J.toarray(), H.toarray(), rtol=1e-13, atol=1e-12)


def test_arrow_hessian_takes_few_products():
    f = lambda x: x[0] * np.sum(x ** 2) + np.sum(np.cos(x))
    x = np.linspace(-1.0, 1.0, 200)
    hess = dt.sparse_hessian_fn(f, x)
    assert hess.report.n_colors_fwd <= 3
    np.testing.assert_allclose(hess(x).toarray(), dt.hessian(f)(x), rtol=1e-13)


def test_given_pattern_and_matrix_format():
    f = lambda x: np.sum(x[:-1] * x[1:])
    n = 6
    P = sp.diags_array([np.ones(n - 1), np.ones(n), np.ones(n - 1)], offsets=[-1, 0, 1])
    H = dt.sparse_hessian(f, np.ones(n), sparsity=P, format="csr_matrix")
    assert isinstance(H, sp.csr_matrix)
    assert H.nnz == P.nnz  # the diagonal is structure given by the user: explicit zeros
    np.testing.assert_allclose(H.toarray(), dt.hessian(f)(np.ones(n)))
    assert "given" in str(dt.explain_sparse_hessian(f, np.ones(n), sparsity=P))


def test_hessian_report():
    f = lambda x: np.sum(np.exp(x[1:] * x[:-1]))
    text = str(dt.explain_sparse_hessian(f, np.ones(50)))
    assert "Sparse Hessian" in text and "50 x 50, 148 nonzeros" in text
    assert "symmetric mode" in text and "Hessian-vector products" in text
