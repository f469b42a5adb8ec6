"""Bidirectional compression and the plan that picks forward, reverse or both.

One-sided compression fails on patterns with a dense row (a column coloring then
needs a color per column) and a dense column (a row coloring likewise); an
arrow-head has both. Bidirectional compression (Coleman & Verma 1998; Hossain &
Steihaug 1998) recovers part of J from reverse passes ``W.T @ J`` and the rest
from forward passes ``J @ S``.

The scheme here is a documented simplification of star bicoloring, a *split by
rows*: choose a set D of dense rows.

- reverse passes: rows in D get a row coloring of J[D, :] (no two rows of D
  sharing a column alike); rows outside D are not seeded. Then for i in D,
  (W.T @ J)[color(i), j] sums the rows of D with i's color at column j, and only
  i has an entry there, so it equals J[i, j].
- forward passes: columns get a column coloring of J[~D, :] (rows of D are
  ignored). For i outside D, (J @ S)[i, color(j)] holds J[i, j] alone.

Every nonzero lies in a row of D or not, so all of J is recovered, exactly (each
compressed value is one entry plus exact zeros). The mirror image, a *split by
columns* (dense columns by forward passes, the rest by a row coloring), is tried
too. D runs over thresholds on the row lengths, ordered by a lower bound on the
passes (the densest row left, plus the most D-rows in one column); the empty D
is plain forward mode and the mirror's empty set is plain reverse mode, so the
best plan is never worse than one-sided. An n x n arrow-head costs 3 passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .coloring import (
    _color_columns,
    _color_symmetric,
    _row_ids,
    _transpose,
    as_pattern,
    decompress_symmetric,
    seed_matrix,
)

_LEVELS = 8  # row-length thresholds tried per side


@dataclass(frozen=True, eq=False)
class Bicoloring:
    """Seeds for forward and reverse passes and the rule to read J back.

    Attributes:
        col_colors: (n,) color of each column in the forward seed; -1 = not seeded.
        row_colors: (m,) color of each row in the reverse seed; -1 = not seeded.
        split: ``"rows"``: an entry whose row is seeded is read from the reverse
            passes, the others from the forward ones; ``"cols"``: an entry whose
            column is seeded is read from the forward passes, the others from reverse.
        method: a readable name of the scheme.
    """

    col_colors: np.ndarray
    row_colors: np.ndarray
    split: str = "rows"
    method: str = ""

    @property
    def n_colors_fwd(self) -> int:
        return int(self.col_colors.max(initial=-1)) + 1

    @property
    def n_colors_rev(self) -> int:
        return int(self.row_colors.max(initial=-1)) + 1

    @property
    def n_passes(self) -> int:
        """Tangent plus cotangent directions: the price of the compressed Jacobian."""
        return self.n_colors_fwd + self.n_colors_rev

    def fwd_seed(self) -> np.ndarray:
        """S (n x n_colors_fwd): the forward passes compute J @ S."""
        return seed_matrix(self.col_colors, self.n_colors_fwd)

    def rev_seed(self) -> np.ndarray:
        """W (m x n_colors_rev): the reverse passes compute W.T @ J."""
        return seed_matrix(self.row_colors, self.n_colors_rev)

    def decompress(self, pattern, fwd_compressed=None, rev_compressed=None) -> sp.csr_array:
        """J as CSR from ``J @ fwd_seed()`` (m x n_fwd) and ``rev_seed().T @ J`` (n_rev x n).

        >>> A = np.eye(4); A[0, :] = A[:, 0] = 1.0
        >>> b = bicoloring(A)
        >>> J = A * np.arange(1.0, 17.0).reshape(4, 4)
        >>> bool(np.all(b.decompress(A, J @ b.fwd_seed(), b.rev_seed().T @ J).toarray() == J))
        True
        """
        P = as_pattern(pattern)
        rows, cols = _row_ids(P), P.indices
        c, r = self.col_colors[cols], self.row_colors[rows]
        from_rev = r >= 0 if self.split == "rows" else c < 0
        if np.any(c[~from_rev] < 0) or np.any(r[from_rev] < 0):
            raise ValueError("Bicoloring.decompress: an entry is in neither seed "
                             "(was the bicoloring made for another pattern?)")
        parts = [np.asarray(x) for x in (fwd_compressed, rev_compressed) if x is not None]
        data = np.zeros(P.nnz, np.result_type(*parts) if parts else np.float64)
        if np.any(~from_rev):
            data[~from_rev] = np.asarray(fwd_compressed)[rows[~from_rev], c[~from_rev]]
        if np.any(from_rev):
            data[from_rev] = np.asarray(rev_compressed)[r[from_rev], cols[from_rev]]
        return sp.csr_array((data, cols.copy(), P.indptr.copy()), shape=P.shape)


def _split_candidates(Q: sp.csr_array, side: str) -> list[tuple[int, int, str, float]]:
    """(lower bound on passes, lower bound on reverse passes, side, threshold) per split of Q."""
    row_nnz = np.diff(Q.indptr)
    rows = _row_ids(Q)
    levels = np.unique(row_nnz[row_nnz > 0])[::-1]  # the smallest level would be a pure mirror
    out = []
    for t in [np.inf, *levels[: min(levels.size - 1, _LEVELS)].tolist()]:
        dense = row_nnz >= t
        fwd = int(row_nnz[~dense].max(initial=0))
        rev = int(np.bincount(Q.indices[dense[rows]], minlength=Q.shape[1]).max(initial=0))
        out.append((fwd + rev, rev if side == "rows" else fwd, side, t))
    return out


def _split(Q: sp.csr_array, t: float, seed: int):
    """Dense rows of Q (length >= t) by reverse, the rest by forward: Q-side colors."""
    m, n = Q.shape
    row_nnz = np.diff(Q.indptr)
    dense = row_nnz >= t
    sparse_rows = as_pattern(Q[np.flatnonzero(~dense)])
    col_colors, how = _color_columns(sparse_rows, "auto", seed)
    col_colors[np.bincount(sparse_rows.indices, minlength=n) == 0] = -1  # never read
    row_colors = np.full(m, -1, np.int64)
    n_dense = int(dense.sum())
    if n_dense:
        dense_rows = _transpose(as_pattern(Q[np.flatnonzero(dense)]))
        row_colors[dense] = _color_columns(dense_rows, "auto", seed)[0]
    return col_colors, row_colors, n_dense, how


def bicoloring(pattern, seed: int = 0) -> Bicoloring:
    """Fewest-passes compression of a Jacobian pattern by forward and/or reverse passes.

    See the module docstring for the scheme and why it is exact. Includes the
    one-sided plans, so the result may have no reverse (or no forward) colors.

    >>> A = np.eye(100); A[0, :] = A[:, 0] = 1.0   # arrow-head: one-sided needs 100
    >>> b = bicoloring(A)
    >>> b.n_colors_fwd, b.n_colors_rev
    (2, 1)
    """
    P = as_pattern(pattern)
    T = _transpose(P)
    cands = sorted(_split_candidates(P, "rows") + _split_candidates(T, "cols"),
                   key=lambda c: c[:2])
    best, best_key = None, None
    for floor, rev_floor, side, t in cands:
        if best_key is not None and (floor, rev_floor) >= best_key:
            break  # sorted by lower bounds: nothing left can beat the best
        if side == "rows":
            cols, rows, n_dense, how = _split(P, t, seed)
        else:
            rows, cols, n_dense, how = _split(T, t, seed)
        b = Bicoloring(cols, rows, side)
        key = (b.n_passes, b.n_colors_rev)  # ties: fewer reverse passes (they need a tape)
        if best_key is None or key < best_key:
            if n_dense == 0:
                method = ("column coloring" if side == "rows" else "row coloring") + f", {how}"
            elif side == "rows":
                method = (f"{n_dense} dense row(s) by reverse passes + column coloring "
                          f"of the other rows ({how})")
            else:
                method = (f"{n_dense} dense column(s) by forward passes + row coloring "
                          f"of the other columns ({how})")
            best, best_key = Bicoloring(cols, rows, side, method), key
    return best


@dataclass(frozen=True, eq=False)
class ColoringPlan:
    """What a sparse Jacobian/Hessian costs and how to seed and decompress it.

    ``mode`` is "forward", "reverse", "bidirectional" or "symmetric" (Hessian:
    each color is one forward-over-reverse Hessian-vector product). ``print(plan)``
    shows nonzeros, method, colors and passes.
    """

    mode: str
    method: str
    shape: tuple[int, int]
    nnz: int
    col_colors: np.ndarray
    row_colors: np.ndarray
    split: str = "rows"
    pattern: sp.csr_array | None = field(default=None, repr=False, compare=False)

    @property
    def n_colors_fwd(self) -> int:
        return int(self.col_colors.max(initial=-1)) + 1

    @property
    def n_colors_rev(self) -> int:
        return int(self.row_colors.max(initial=-1)) + 1

    @property
    def n_passes(self) -> int:
        return self.n_colors_fwd + self.n_colors_rev

    def fwd_seed(self) -> np.ndarray:
        """Tangent directions (n x n_colors_fwd); for "symmetric", the HVP directions."""
        return seed_matrix(self.col_colors, self.n_colors_fwd)

    def rev_seed(self) -> np.ndarray:
        """Cotangent directions (m x n_colors_rev)."""
        return seed_matrix(self.row_colors, self.n_colors_rev)

    def decompress(self, fwd_compressed=None, rev_compressed=None) -> sp.csr_array:
        """The sparse matrix from ``J @ fwd_seed()`` and/or ``rev_seed().T @ J``."""
        if self.mode == "symmetric":
            return decompress_symmetric(self.pattern, self.col_colors, fwd_compressed)
        b = Bicoloring(self.col_colors, self.row_colors, self.split, self.method)
        return b.decompress(self.pattern, fwd_compressed, rev_compressed)

    def __str__(self) -> str:
        m, n = self.shape
        head = f"ColoringPlan: {m} x {n}, {self.nnz} nonzeros, {self.mode} mode"
        if self.mode == "symmetric":
            cost = (f"{self.n_colors_fwd} colors -> {self.n_colors_fwd} Hessian-vector products "
                    f"(dense: {n})")
        else:
            cost = (f"{self.n_colors_fwd} forward + {self.n_colors_rev} reverse passes = "
                    f"{self.n_passes} (dense: {min(m, n)})")
        return f"{head}\n  method: {self.method}\n  cost:   {cost}"


def choose_compression(pattern, symmetric: bool = False, seed: int = 0) -> ColoringPlan:
    """Pick forward, reverse or bidirectional compression by the fewest passes.

    With ``symmetric=True`` the pattern is a Hessian's and a symmetric coloring
    is used (see :func:`dualtape.coloring.symmetric_coloring`).

    >>> P = sp.diags_array([1.0, 1.0, 1.0], offsets=[-1, 0, 1], shape=(1000, 1000))
    >>> plan = choose_compression(P)
    >>> plan.mode, plan.n_colors_fwd, plan.n_colors_rev
    ('forward', 3, 0)
    >>> choose_compression(np.ones((1, 50))).mode   # a gradient: one reverse pass
    'reverse'
    """
    P = as_pattern(pattern)
    if symmetric:
        colors, method = _color_symmetric(P, "auto", seed)
        S = as_pattern(P + P.T)
        return ColoringPlan("symmetric", method, S.shape, S.nnz, colors,
                            np.full(0, -1, np.int64), pattern=S)
    b = bicoloring(P, seed)
    mode = ("forward" if b.n_colors_rev == 0 else "reverse" if b.n_colors_fwd == 0
            else "bidirectional")
    return ColoringPlan(mode, b.method, P.shape, P.nnz, b.col_colors, b.row_colors, b.split,
                        pattern=P)
