"""Tests for dualtape.coloring and dualtape.bicoloring (pure combinatorics, no tracing).

Every compression is checked the way it is used: J @ seed (and/or seed.T @ J) is
decompressed and compared with J exactly; each compressed value is a single entry
plus exact zeros, so equality is exact, not approximate.
"""

import time

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from dualtape.bicoloring import Bicoloring, bicoloring, choose_compression
from dualtape.coloring import (
    _greedy_by_rounds,
    _greedy_sequential,
    _smallest_free,
    _transpose,
    as_pattern,
    column_coloring,
    decompress_columns,
    decompress_rows,
    decompress_symmetric,
    row_coloring,
    seed_matrix,
    symmetric_coloring,
)

KINDS = ["banded", "blocks", "arrow", "random"]


# ---- pattern generators (seeded NumPy, driven by hypothesis) ----


def make_pattern(kind: str, m: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """A boolean m x n pattern of the given family."""
    i, j = np.indices((m, n))
    if kind == "banded":
        lo, hi = rng.integers(0, 4, size=2)
        mask = (j - i >= -lo) & (j - i <= hi) & (rng.random((m, n)) < 0.9)
    elif kind == "blocks":
        cuts_r = np.sort(rng.integers(0, m, size=3))
        cuts_c = np.sort(rng.integers(0, n, size=3))
        mask = (np.searchsorted(cuts_r, i[:, 0], "right")[:, None]
                == np.searchsorted(cuts_c, j[0], "right")[None, :])
        mask &= rng.random((m, n)) < 0.8
    elif kind == "arrow":
        k = int(rng.integers(1, 3))
        mask = (i == j) | (i < k) | (j < k) | (rng.random((m, n)) < 1.0 / max(n, 1))
    else:
        mask = rng.random((m, n)) < min(1.0, 3.0 / max(n, 1))
    return mask


def values_on(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random values on the pattern, a few of them exactly zero (structure still counts)."""
    vals = rng.uniform(1.0, 2.0, mask.shape) * rng.choice([-1.0, 1.0], mask.shape)
    vals[rng.random(mask.shape) < 0.05] = 0.0
    return np.where(mask, vals, 0.0)


def as_sparse(mask: np.ndarray) -> sp.csr_array:
    """The pattern as CSR with explicit zeros as data: values must not matter."""
    r, c = np.nonzero(mask)
    return sp.csr_array((np.zeros(r.size), (r, c)), shape=mask.shape)


def assert_column_coloring(mask: np.ndarray, colors: np.ndarray) -> None:
    """No row has two entries whose columns share a color."""
    assert colors.shape == (mask.shape[1],)
    for c in np.unique(colors):
        assert mask[:, colors == c].sum(axis=1).max(initial=0) <= 1


patterns = st.tuples(st.sampled_from(KINDS), st.integers(1, 30), st.integers(1, 30),
                     st.integers(0, 2**32 - 1))


# ---- one-sided ----


@settings(max_examples=60, deadline=None)
@given(patterns)
def test_column_coloring_is_valid_and_decompresses_exactly(case):
    kind, m, n, seed = case
    rng = np.random.default_rng(seed)
    mask = make_pattern(kind, m, n, rng)
    J = values_on(mask, rng)
    colors = column_coloring(as_sparse(mask))
    assert_column_coloring(mask, colors)
    got = decompress_columns(as_sparse(mask), colors, J @ seed_matrix(colors))
    assert isinstance(got, sp.csr_array)
    np.testing.assert_array_equal(got.toarray(), J)
    assert got.nnz == mask.sum()  # explicit zeros of the pattern stay structure


@settings(max_examples=40, deadline=None)
@given(patterns)
def test_row_coloring_is_valid_and_decompresses_exactly(case):
    kind, m, n, seed = case
    rng = np.random.default_rng(seed)
    mask = make_pattern(kind, m, n, rng)
    J = values_on(mask, rng)
    colors = row_coloring(as_sparse(mask))
    assert_column_coloring(mask.T, colors)
    got = decompress_rows(mask, colors, seed_matrix(colors).T @ J)
    np.testing.assert_array_equal(got.toarray(), J)


@pytest.mark.parametrize("order", ["auto", "natural", "largest_first"])
@pytest.mark.parametrize("n", [4, 7, 100, 5000])
def test_band_color_counts(order, n):
    tri = sp.diags_array([np.ones(n - 1), np.ones(n), np.ones(n - 1)], offsets=[-1, 0, 1])
    penta = sp.diags_array([np.ones(n - abs(k)) for k in range(-2, 3)], offsets=[-2, -1, 0, 1, 2])
    tri_colors = column_coloring(tri, order=order)
    penta_colors = column_coloring(penta, order=order)
    assert_column_coloring(tri.toarray() != 0, tri_colors)
    assert_column_coloring(penta.toarray() != 0, penta_colors)
    if order != "largest_first":  # random tie-breaking is valid but need not be optimal
        assert tri_colors.max() + 1 == 3
        assert penta_colors.max() + 1 == min(5, n)


def test_vectorised_greedy_equals_the_sequential_loop():
    rng = np.random.default_rng(7)
    for kind in KINDS:
        mask = make_pattern(kind, 60, 50, rng)
        P = as_pattern(mask)
        T = _transpose(P)
        for _ in range(5):
            order = rng.permutation(50)
            np.testing.assert_array_equal(_greedy_by_rounds(P, T, order),
                                          _greedy_sequential(P, T, order))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(-1, 80), max_size=12), min_size=1, max_size=10))
def test_smallest_free_color(groups):
    ncol = np.array([c for g in groups for c in g], dtype=np.int64)
    lens = np.array([len(g) for g in groups])
    expected = [min(set(range(100)) - set(g)) for g in groups]
    np.testing.assert_array_equal(_smallest_free(ncol, lens), expected)


def test_many_colors_take_the_sorting_path():
    rng = np.random.default_rng(3)
    mask = rng.random((120, 150)) < 0.5  # needs > 63 colors
    colors = column_coloring(mask)
    assert colors.max() + 1 > 63
    assert_column_coloring(mask, colors)


def test_pattern_canonical_form():
    coo = sp.coo_array((np.array([1.0, 2.0, 0.0]), (np.array([0, 0, 1]), np.array([1, 1, 0]))),
                       shape=(2, 2))  # a duplicate and an explicit zero
    P = as_pattern(coo)
    np.testing.assert_array_equal(P.toarray(), [[0, 1], [1, 0]])
    assert P.has_canonical_format
    with pytest.raises(ValueError, match="2-D"):
        as_pattern(np.ones(3))


def test_large_random_pattern_is_valid():
    rng = np.random.default_rng(0)
    n = 100_000
    rows = np.repeat(np.arange(n), 3)
    P = sp.csr_array((np.ones(3 * n), (rows, rng.integers(0, n, 3 * n))), shape=(n, n))
    colors = column_coloring(P)
    Pc = as_pattern(P)
    key = np.repeat(np.arange(n), np.diff(Pc.indptr)) * (colors.max() + 1) + colors[Pc.indices]
    assert np.unique(key).size == Pc.nnz  # colors within every row are distinct
    assert colors.max() + 1 <= 10


def test_million_tridiagonal_timing():
    n = 10**6
    tri = sp.diags_array([np.ones(n - 1), np.ones(n), np.ones(n - 1)], offsets=[-1, 0, 1])
    t0 = time.perf_counter()
    colors = column_coloring(tri)
    elapsed = time.perf_counter() - t0
    print(f"\ncolumn_coloring, n=10^6 tridiagonal: {colors.max() + 1} colors in {elapsed:.3f} s")
    np.testing.assert_array_equal(colors, np.arange(n) % 3)


# ---- bidirectional ----


@settings(max_examples=60, deadline=None)
@given(patterns)
def test_bicoloring_decompresses_exactly(case):
    kind, m, n, seed = case
    rng = np.random.default_rng(seed)
    mask = make_pattern(kind, m, n, rng)
    J = values_on(mask, rng)
    b = bicoloring(as_sparse(mask))
    got = b.decompress(mask, J @ b.fwd_seed(), b.rev_seed().T @ J)
    np.testing.assert_array_equal(got.toarray(), J)
    one_sided = min(column_coloring(mask).max() + 1, row_coloring(mask).max() + 1)
    assert b.n_passes <= one_sided


@pytest.mark.parametrize("n", [5, 100, 2000])
def test_arrow_head_needs_three_passes(n):
    A = sp.eye_array(n, format="lil")
    A[0, :] = 1.0
    A[:, 0] = 1.0
    assert column_coloring(A).max() + 1 == n  # one-sided: hopeless
    assert row_coloring(A).max() + 1 == n
    b = bicoloring(A)
    assert (b.n_colors_fwd, b.n_colors_rev) == (2, 1)
    J = A.toarray() * np.random.default_rng(n).uniform(1, 2, (n, n))
    got = b.decompress(A, J @ b.fwd_seed(), b.rev_seed().T @ J)
    np.testing.assert_array_equal(got.toarray(), J)
    plan = choose_compression(A)
    assert plan.mode == "bidirectional" and plan.n_passes == 3


def test_bicoloring_rejects_a_foreign_pattern():
    b = Bicoloring(np.array([-1, -1]), np.array([-1, -1]))
    with pytest.raises(ValueError, match="neither seed"):
        b.decompress(np.eye(2), np.zeros((2, 0)), np.zeros((0, 2)))


# ---- the plan ----


@settings(max_examples=40, deadline=None)
@given(patterns)
def test_plan_decompresses_exactly(case):
    kind, m, n, seed = case
    rng = np.random.default_rng(seed)
    mask = make_pattern(kind, m, n, rng)
    J = values_on(mask, rng)
    plan = choose_compression(as_sparse(mask))
    assert plan.mode in ("forward", "reverse", "bidirectional")
    assert plan.n_passes <= min(m, n)
    got = plan.decompress(J @ plan.fwd_seed(), plan.rev_seed().T @ J)
    np.testing.assert_array_equal(got.toarray(), J)


def test_plan_modes_and_report():
    assert choose_compression(np.ones((1, 40))).mode == "reverse"  # a gradient
    assert choose_compression(np.ones((40, 1))).mode == "forward"  # a curve
    tri = sp.diags_array([np.ones(99), np.ones(100), np.ones(99)], offsets=[-1, 0, 1])
    plan = choose_compression(tri)
    assert (plan.mode, plan.n_colors_fwd, plan.n_colors_rev) == ("forward", 3, 0)
    text = str(plan)
    assert "298 nonzeros" in text and "banded" in text and "3 forward + 0 reverse" in text
    empty = choose_compression(sp.csr_array((3, 4)))
    assert empty.n_passes == 0
    assert empty.decompress(np.zeros((3, 0)), np.zeros((0, 4))).nnz == 0


# ---- symmetric (Hessians) ----


@pytest.mark.parametrize("method", ["auto", "hubs", "star", "distance2"])
@settings(max_examples=25, deadline=None)
@given(case=patterns)
def test_symmetric_decompresses_exactly(method, case):
    kind, _, n, seed = case
    rng = np.random.default_rng(seed)
    mask = make_pattern(kind, n, n, rng)
    mask = mask | mask.T
    H = values_on(mask, rng)
    H = np.triu(H) + np.triu(H, 1).T
    colors = symmetric_coloring(as_sparse(mask), method=method)
    got = decompress_symmetric(mask, colors, H @ seed_matrix(colors))
    np.testing.assert_array_equal(got.toarray(), H)
    if method in ("auto", "hubs"):  # they include the plain distance-2 coloring
        assert colors.max(initial=-1) <= column_coloring(mask).max(initial=-1)


def test_symmetric_color_counts():
    n = 1000
    tri = sp.diags_array([np.ones(n - 1), np.ones(n), np.ones(n - 1)], offsets=[-1, 0, 1])
    assert symmetric_coloring(tri).max() + 1 == 3
    assert symmetric_coloring(tri, method="distance2").max() + 1 == 3
    arrow = np.eye(n)
    arrow[0, :] = arrow[:, 0] = 1.0
    assert symmetric_coloring(arrow).max() + 1 == 2
    assert symmetric_coloring(arrow, method="star").max() + 1 == 2
    plan = choose_compression(arrow, symmetric=True)
    assert plan.mode == "symmetric" and plan.n_passes == 2
    H = arrow * np.arange(1.0, n + 1)[:, None] * np.arange(1.0, n + 1)[None, :]
    np.testing.assert_array_equal(plan.decompress(H @ plan.fwd_seed()).toarray(), H)
    assert "Hessian-vector products" in str(plan)


def test_symmetric_rejects_an_invalid_coloring_and_a_non_square_pattern():
    tri = sp.diags_array([np.ones(4), np.ones(5), np.ones(4)], offsets=[-1, 0, 1])
    with pytest.raises(ValueError, match="not a valid symmetric coloring"):
        decompress_symmetric(tri, np.zeros(5, int), np.zeros((5, 1)))
    with pytest.raises(ValueError, match="square"):
        symmetric_coloring(np.ones((2, 3)))


def test_unknown_options_are_named_in_the_error():
    with pytest.raises(ValueError, match="order must be"):
        column_coloring(np.eye(3), order="smallest_last")
    with pytest.raises(ValueError, match="method must be"):
        symmetric_coloring(np.eye(3), method="acyclic")
