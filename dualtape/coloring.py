"""Graph colorings that compress sparse Jacobians and Hessians.

A sparse Jacobian J (m x n) is recovered from the compressed product J @ S (one
vectorised forward pass with one tangent per color) when S is the 0/1 seed of a
column coloring in which no two columns sharing a row get the same color
(Curtis, Powell & Reid 1974); rows and reverse passes likewise. The definitions
follow Gebremedhin, Manne & Pothen, "What color is your Jacobian?" (SIAM Review
2005). This module is the combinatorial half only (NumPy + scipy.sparse); the
bidirectional scheme and the plan that picks a mode live in ``bicoloring.py``.

Speed: the greedy colorings run one NumPy round per *independent set*: a column
is colored as soon as every neighbor ahead of it in the order has a color
(Jones & Plassmann 1993), which reproduces the sequential greedy in that order
exactly, in a handful of rounds for a random-tie order. Banded patterns take a
fast path: column j gets color ``j mod w``, w the widest row span, which is
optimal when one row fills its span (tridiagonal: 3, pentadiagonal: 5).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

_SEQUENTIAL_LIMIT = 300_000  # natural order is a Python loop: auto runs it below this work
_STAR_WORK_LIMIT = 2_000_000  # star coloring is a Python loop: only when sum(deg**2) stays below
_REFINE_LIMIT = 2_000_000  # iterated-greedy passes only for graphs with fewer edges
_HUB_LEVELS = 8  # how many degree thresholds the hub search of symmetric_coloring tries


def as_pattern(pattern) -> sp.csr_array:
    """Canonical structure of ``pattern``: CSR, sorted, no duplicates, all data 1.

    Every routine here works on this form so that values never matter and the
    nonzeros are enumerated in one agreed order. Explicit zeros of a sparse input
    count as structure; for a dense input its nonzeros do.

    >>> as_pattern(np.array([[0.0, 2.0], [3.0, 0.0]])).toarray()
    array([[0, 1],
           [1, 0]], dtype=int8)
    """
    if sp.issparse(pattern) and pattern.format == "csr" and pattern.has_canonical_format:
        indices, indptr, shape = pattern.indices, pattern.indptr, pattern.shape
    else:
        if sp.issparse(pattern):
            (rows, cols), shape = sp.coo_array(pattern).coords, pattern.shape
        else:
            dense = np.asarray(pattern)
            if dense.ndim != 2:
                raise ValueError(f"a sparsity pattern must be 2-D, got shape {dense.shape}")
            (rows, cols), shape = np.nonzero(dense), dense.shape
        canon = sp.csr_array((np.ones(rows.size, np.int32), (rows, cols)), shape=shape)
        canon.sum_duplicates()
        indices, indptr = canon.indices, canon.indptr
    return sp.csr_array((np.ones(indices.size, np.int8), indices, indptr), shape=shape)


def _row_ids(P: sp.csr_array) -> np.ndarray:
    return np.repeat(np.arange(P.shape[0]), np.diff(P.indptr))


def _transpose(P: sp.csr_array) -> sp.csr_array:
    return as_pattern(P.T.tocsr())


# ---- greedy distance-2 coloring on the bipartite row/column structure ----
# Two columns are neighbors when they share a row. The neighbor lists are never
# built: they are read through the rows (P and its transpose T) when needed, so
# memory stays O(nnz) and a neighbor met through k rows simply counts k times.


def _gather(indptr: np.ndarray, indices: np.ndarray, verts: np.ndarray):
    """The index lists of ``verts``, concatenated in order, and their lengths."""
    start = indptr[verts]
    lens = indptr[verts + 1] - start
    offs = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)
    return indices[np.repeat(start, lens) + offs], lens


def _row_mates(P: sp.csr_array, T: sp.csr_array, cols: np.ndarray):
    """For each column in ``cols``: the columns sharing a row with it (itself included)."""
    rows, per_col = _gather(T.indptr, T.indices, cols)
    mates, per_row = _gather(P.indptr, P.indices, rows)
    bounds = np.concatenate(([0], np.cumsum(per_row)))[np.concatenate(([0], np.cumsum(per_col)))]
    return mates, np.diff(bounds)


def _smallest_free(ncol: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Per group (``lens`` consecutive entries of ``ncol``), the smallest color not used."""
    k = lens.size
    top = int(ncol.max(initial=-1))
    if top < 0:
        return np.zeros(k, np.int64)
    if top < 63:  # bit masks: one OR-reduction, no sort
        bits = np.left_shift(np.uint64(1), np.maximum(ncol, 0).astype(np.uint64))
        bits[ncol < 0] = 0
        used = np.zeros(k, np.uint64)
        has = lens > 0
        used[has] = np.bitwise_or.reduceat(bits, (np.cumsum(lens) - lens)[has])
        free = ~used
        return np.log2((free & (~free + np.uint64(1))).astype(np.float64)).astype(np.int64)
    owner = np.repeat(np.arange(k), lens)
    keep = ncol >= 0
    key = np.unique(owner[keep] * (top + 2) + ncol[keep])
    own, col = key // (top + 2), key % (top + 2)
    rank = np.arange(key.size) - np.searchsorted(own, own)
    out = np.bincount(own, minlength=k)  # no gap: the colors are 0..count-1
    gap = col != rank
    first_owner, first = np.unique(own[gap], return_index=True)
    out[first_owner] = rank[gap][first]
    return out


def _earlier_mates(P: sp.csr_array, pos: np.ndarray) -> np.ndarray:
    """Per column: its row-mates placed before it by ``pos`` (counted once per shared row)."""
    row_nnz = np.diff(P.indptr)
    cols, ranks = [], []
    for r in np.unique(row_nnz[row_nnz > 1]).tolist():  # rows of equal length as one block
        block = P.indices[P.indptr[:-1][row_nnz == r][:, None] + np.arange(r)]
        cols.append(block.ravel())
        ranks.append(np.argsort(np.argsort(pos[block], axis=1), axis=1).ravel())
    if not cols:
        return np.zeros(P.shape[1], np.int64)
    return np.bincount(np.concatenate(cols), np.concatenate(ranks), P.shape[1]).astype(np.int64)


def _greedy_by_rounds(P: sp.csr_array, T: sp.csr_array, order: np.ndarray) -> np.ndarray:
    """Sequential greedy column coloring in ``order``, one ready set per NumPy round.

    A column is ready when all its row-mates ahead of it are colored; ready columns
    share no row, so coloring them together gives what the sequential loop gives.
    """
    n = P.shape[1]
    pos = np.empty(n, np.int64)
    pos[order] = np.arange(n)
    waiting = _earlier_mates(P, pos)
    colors = np.full(n, -1, np.int64)
    stamp = np.zeros(n, np.int64)
    ready = np.flatnonzero(waiting == 0)
    while ready.size:
        mates, lens = _row_mates(P, T, ready)
        ncol = colors[mates]
        colors[ready] = _smallest_free(ncol, lens)
        later = mates[ncol < 0]  # uncolored now: behind `ready` in the order (or itself)
        np.subtract.at(waiting, later, 1)
        ready = later[waiting[later] == 0]
        stamp[ready] = np.arange(ready.size)  # keep one copy of each, without a sort
        ready = ready[stamp[ready] == np.arange(ready.size)]
    return colors


def _greedy_sequential(P: sp.csr_array, T: sp.csr_array, order: np.ndarray) -> np.ndarray:
    """Plain greedy loop, for orders that are one long chain (natural order, small n)."""
    pptr, pidx = P.indptr.tolist(), P.indices.tolist()
    tptr, tidx = T.indptr.tolist(), T.indices.tolist()
    colors = [-1] * P.shape[1]
    for v in order.tolist():
        used = set()
        for i in tidx[tptr[v] : tptr[v + 1]]:
            used.update([colors[u] for u in pidx[pptr[i] : pptr[i + 1]]])
        c = 0
        while c in used:
            c += 1
        colors[v] = c
    return np.asarray(colors, dtype=np.int64)


def _recolor_by_classes(P, T, colors, rng, passes: int, floor: int) -> np.ndarray:
    """Iterated greedy (Culberson 1992): greedy over whole color classes never adds colors.

    Each pass needs only as many rounds as there are colors, so it is cheap.
    """
    for p in range(passes):
        k = int(colors.max()) + 1
        if k <= floor:
            break
        sizes = np.bincount(colors, minlength=k)
        rank = np.argsort(np.arange(k)[::-1] if p % 2 == 0 else -sizes, kind="stable")
        class_pos = np.empty(k, np.int64)
        class_pos[rank] = np.arange(k)
        new = _greedy_by_rounds(P, T, np.argsort(class_pos[colors] + rng.random(colors.size)))
        if new.max() < colors.max():
            colors = new
    return colors


# ---- one-sided (column / row) coloring ----


def _color_columns(P: sp.csr_array, order: str = "auto", seed: int = 0) -> tuple[np.ndarray, str]:
    """Column coloring of canonical ``P`` and a short name of the method that won."""
    if order not in ("auto", "largest_first", "natural"):
        raise ValueError(f"order must be 'auto', 'largest_first' or 'natural', got {order!r}")
    n = P.shape[1]
    row_nnz = np.diff(P.indptr)
    floor = int(row_nnz.max(initial=0))  # a row's columns are a clique: a lower bound
    if floor <= 1:
        return np.zeros(n, np.int64), "trivial (no two columns share a row)"
    if floor == n:
        return np.arange(n), "one color per column (a full row)"
    found: list[tuple[np.ndarray, str]] = []
    if order == "auto":
        full = row_nnz > 0
        span = P.indices[P.indptr[1:][full] - 1] - P.indices[P.indptr[:-1][full]] + 1
        width = int(span.max())
        if width < n:  # any two columns in one row are < width apart: j mod width is valid
            found.append((np.arange(n) % width, f"banded (column j -> j mod {width})"))
            if width == floor:
                return found[0]
    T = _transpose(P)
    work = float(np.dot(row_nnz, row_nnz))  # row-mate visits of one greedy sweep
    if order in ("auto", "largest_first"):
        rng = np.random.default_rng(seed)
        weight = np.repeat(row_nnz - 1, row_nnz)  # row-mates, counted once per shared row
        degree = np.bincount(P.indices, weight, n)
        colors = _greedy_by_rounds(P, T, np.argsort(rng.random(n) - degree))  # random ties
        passes = 2 if work <= _REFINE_LIMIT else 0  # it rarely saves more than a color
        colors = _recolor_by_classes(P, T, colors, rng, passes, floor)
        found.append((colors, "greedy, largest-first"))
    if order == "natural" or (order == "auto" and work <= _SEQUENTIAL_LIMIT):
        found.append((_greedy_sequential(P, T, np.arange(n)), "greedy, natural order"))
    return min(found, key=lambda f: int(f[0].max()))


def column_coloring(pattern, order: str = "auto", seed: int = 0) -> np.ndarray:
    """Colors of the columns such that no two columns sharing a row have the same color.

    This is a distance-2 coloring of the bipartite row/column graph: with seed S
    from :func:`seed_matrix`, each entry of row i sits alone in its color, so
    ``J @ S`` holds it unmixed and one forward pass per color recovers J.
    ``order="auto"`` keeps the fewest colors of: the banded rule ``j mod w``, greedy
    largest-first (random ties, then iterated greedy), and natural order (small patterns).

    >>> P = sp.diags_array([1.0, 1.0, 1.0], offsets=[-1, 0, 1], shape=(6, 6))
    >>> column_coloring(P)
    array([0, 1, 2, 0, 1, 2])
    """
    return _color_columns(as_pattern(pattern), order, seed)[0]


def row_coloring(pattern, order: str = "auto", seed: int = 0) -> np.ndarray:
    """Colors of the rows, no two rows sharing a column alike: seeds for reverse passes.

    >>> row_coloring(sp.csr_array(np.ones((1, 4))))
    array([0])
    """
    return _color_columns(_transpose(as_pattern(pattern)), order, seed)[0]


def seed_matrix(colors: np.ndarray, n_colors: int | None = None) -> np.ndarray:
    """The 0/1 seed S (len(colors) x n_colors) with S[j, colors[j]] = 1; color -1: zero row.

    >>> seed_matrix(np.array([0, 1, 0, -1]))
    array([[1., 0.],
           [0., 1.],
           [1., 0.],
           [0., 0.]])
    """
    colors = np.asarray(colors, dtype=np.int64)
    k = int(colors.max(initial=-1)) + 1 if n_colors is None else n_colors
    S = np.zeros((colors.size, k))
    on = colors >= 0
    S[np.flatnonzero(on), colors[on]] = 1.0
    return S


def decompress_columns(pattern, colors: np.ndarray, compressed: np.ndarray) -> sp.csr_array:
    """Rebuild J from ``compressed = J @ seed_matrix(colors)`` (m x n_colors).

    Entry (i, j) is the only one of row i in color colors[j], so it is read directly.

    >>> P = sp.diags_array([1.0, 1.0, 1.0], offsets=[-1, 0, 1], shape=(4, 4))
    >>> J = np.diag([1.0, 2, 3, 4]) + np.diag([5.0, 6, 7], 1)
    >>> c = column_coloring(P)
    >>> decompress_columns(P, c, J @ seed_matrix(c)).toarray()[0]
    array([1., 5., 0., 0.])
    """
    P = as_pattern(pattern)
    B = np.asarray(compressed)
    data = B.reshape(-1)[_row_ids(P) * B.shape[1] + np.asarray(colors)[P.indices]]
    return sp.csr_array((data, P.indices.copy(), P.indptr.copy()), shape=P.shape)


def decompress_rows(pattern, colors: np.ndarray, compressed: np.ndarray) -> sp.csr_array:
    """Rebuild J from ``compressed = seed_matrix(colors).T @ J`` (n_colors x n).

    >>> J = np.array([[1.0, 2.0, 3.0]])
    >>> decompress_rows(J, np.array([0]), J).toarray()
    array([[1., 2., 3.]])
    """
    P = as_pattern(pattern)
    B = np.asarray(compressed)
    data = B.reshape(-1)[np.asarray(colors)[_row_ids(P)] * B.shape[1] + P.indices]
    return sp.csr_array((data, P.indices.copy(), P.indptr.copy()), shape=P.shape)


# ---- symmetric (Hessian) coloring ----


def _symmetrize(P: sp.csr_array) -> sp.csr_array:
    if P.shape[0] != P.shape[1]:
        raise ValueError(f"a Hessian pattern must be square, got shape {P.shape}")
    return as_pattern(P + P.T)


def _hub_coloring(S: sp.csr_array, seed: int) -> tuple[np.ndarray, str]:
    """Hubs (the densest rows) get a color each; the rest a column coloring among themselves.

    Sound: an entry (i, j) with j a hub is H @ S[i, color of j] since that color is
    j's alone; (hub, j) is its mirror (j, hub); between non-hubs, the column
    coloring of the non-hub block keeps row i's colors distinct. Tries the empty
    hub set (plain distance-2 coloring) and a few degree thresholds.
    """
    n = S.shape[0]
    deg = np.diff(S.indptr)
    rows = _row_ids(S)
    levels = np.unique(deg[deg > 0])[::-1]  # the smallest level would make every row a hub
    trials = []
    for t in [np.inf, *levels[: min(levels.size - 1, _HUB_LEVELS)].tolist()]:
        hub = deg >= t
        inner = ~hub[rows] & ~hub[S.indices]
        floor = int(hub.sum()) + int(np.bincount(rows[inner], minlength=n).max(initial=0))
        trials.append((floor, int(hub.sum()), hub))
    trials.sort(key=lambda tr: tr[:2])
    best: tuple[np.ndarray, str] | None = None
    for floor, n_hubs, hub in trials:
        if best is not None and floor >= int(best[0].max(initial=-1)) + 1:
            break
        rest = np.flatnonzero(~hub)
        inner, how = _color_columns(as_pattern(S[rest][:, rest]), "auto", seed)
        colors = np.empty(n, np.int64)
        colors[rest] = inner
        k = int(inner.max(initial=-1)) + 1
        colors[hub] = k + np.arange(n_hubs)
        name = f"{n_hubs} hub(s) alone + distance-2 {how}" if n_hubs else f"distance-2 {how}"
        if best is None or colors.max(initial=-1) < best[0].max(initial=-1):
            best = (colors, name)
    return best


def _star_greedy(S: sp.csr_array) -> np.ndarray:
    """Greedy star coloring (Gebremedhin, Manne & Pothen 2005), largest degree first.

    Invariant: the colored vertices never hold a path on 4 vertices in 2 colors.
    Forbid (a) the neighbors' colors; (b) the color of x two steps away via w when
    w is uncolored (so no vertex later sees two same-colored neighbors), or when x
    has another neighbor colored like w (the path v-w-x-y would be bicolored).
    """
    rows = _row_ids(S)
    off = rows != S.indices
    n = S.shape[0]
    ptr = np.concatenate(([0], np.cumsum(np.bincount(rows[off], minlength=n)))).tolist()
    idx = S.indices[off].tolist()
    color = [-1] * n
    for v in np.argsort(-np.diff(ptr), kind="stable").tolist():
        forbid = set()
        for w in idx[ptr[v] : ptr[v + 1]]:
            cw = color[w]
            if cw >= 0:
                forbid.add(cw)
            for x in idx[ptr[w] : ptr[w + 1]]:
                cx = color[x]
                if x == v or cx < 0 or cx in forbid:
                    continue
                if cw < 0 or any(y != w and color[y] == cw for y in idx[ptr[x] : ptr[x + 1]]):
                    forbid.add(cx)
        c = 0
        while c in forbid:
            c += 1
        color[v] = c
    return np.asarray(color, dtype=np.int64)


def _color_symmetric(P: sp.csr_array, method: str = "auto", seed: int = 0):
    """Symmetric coloring of canonical ``P`` and the name of the method that won."""
    if method not in ("auto", "hubs", "star", "distance2"):
        raise ValueError(f"method must be 'auto', 'hubs', 'star' or 'distance2', got {method!r}")
    S = _symmetrize(P)
    if method == "distance2":
        colors, how = _color_columns(S, "auto", seed)
        return colors, f"distance-2 {how}"
    found = [] if method == "star" else [_hub_coloring(S, seed)]
    work = float(np.sum(np.diff(S.indptr).astype(np.float64) ** 2))
    if method == "star" or (method == "auto" and found[0][0].max(initial=-1) > 1
                            and work <= _STAR_WORK_LIMIT):
        found.append((_star_greedy(S), "star coloring, greedy largest-first"))
    return min(found, key=lambda f: int(f[0].max(initial=-1)))


def symmetric_coloring(pattern, method: str = "auto", seed: int = 0) -> np.ndarray:
    """Colors for a symmetric (Hessian) pattern, decompressed by :func:`decompress_symmetric`.

    Symmetry lets an entry be read from either H[i, :] or H[j, :], so fewer colors
    than a column coloring can do. Methods: ``"hubs"`` (vectorised: densest rows
    get a color each, the rest a distance-2 coloring; an arrow-head needs 2),
    ``"star"`` (greedy star coloring, a Python loop, for small patterns),
    ``"distance2"`` (plain column coloring); ``"auto"`` keeps the fewest colors.
    The pattern is symmetrized first.

    >>> P = sp.diags_array([1.0, 1.0, 1.0], offsets=[-1, 0, 1], shape=(8, 8))
    >>> int(symmetric_coloring(P).max()) + 1
    3
    """
    return _color_symmetric(as_pattern(pattern), method, seed)[0]


def decompress_symmetric(pattern, colors: np.ndarray, compressed: np.ndarray) -> sp.csr_array:
    """Rebuild a symmetric H from ``compressed = H @ seed_matrix(colors)`` (n x n_colors).

    Entry (i, j) is read from row i when color[j] occurs once in row i, else from
    row j (its mirror); if neither holds the coloring is not valid and a
    ``ValueError`` says so. The result has the symmetrized pattern's structure.

    >>> H = np.array([[2.0, 1.0, 1.0], [1.0, 3.0, 0.0], [1.0, 0.0, 4.0]])
    >>> c = symmetric_coloring(H)
    >>> bool(np.all(decompress_symmetric(H, c, H @ seed_matrix(c)).toarray() == H))
    True
    """
    S = _symmetrize(as_pattern(pattern))
    colors = np.asarray(colors, dtype=np.int64)
    B = np.asarray(compressed)
    rows, cols = _row_ids(S), S.indices
    key = rows * B.shape[1] + colors[cols]  # (row, color): read directly if it occurs once
    if key.size and B.size <= 10 * key.size + 1_000_000:
        direct = np.bincount(key, minlength=B.size)[key] == 1
    else:
        _, inv, count = np.unique(key, return_inverse=True, return_counts=True)
        direct = count[inv] == 1
    where = sp.csr_array((np.arange(S.nnz), cols, S.indptr), shape=S.shape).T.tocsr()
    where.sort_indices()
    mirror = where.data  # position of (j, i) for the entry (i, j)
    if not np.all(direct | direct[mirror]):
        raise ValueError("decompress_symmetric: colors are not a valid symmetric coloring "
                         "of this pattern (an entry is mixed with another in both rows)")
    data = B.reshape(-1)[key]
    fix = np.flatnonzero(~direct)
    data[fix] = B[cols[fix], colors[rows[fix]]]
    return sp.csr_array((data, cols.copy(), S.indptr.copy()), shape=S.shape)
