"""Dense Hessians of compiled functions from a handful of tangent directions.

A recorded path is a fixed program, so its Hessian pattern is fixed too: detect it once
(index-set propagation, ``dt.hessian_sparsity``), color its columns, and every later
Hessian is one batched tangent sweep of the replayed gradient with as many directions as
colors (three for a tridiagonal Hessian, whatever n), scattered into a dense matrix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ColumnPlan:
    """Seeds (colors, n) and where each compressed entry goes in the dense (n, n) result."""

    seeds: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    source: np.ndarray  # flat index into the compressed block (colors, n) per entry

    @property
    def n_colors(self) -> int:
        return self.seeds.shape[0]

    def assemble(self, compressed: np.ndarray) -> np.ndarray:
        """The dense Hessian from the compressed block H @ seeds.T laid out (colors, n)."""
        n = self.seeds.shape[1]
        dense = np.zeros((n, n), dtype=compressed.dtype)
        dense[self.rows, self.cols] = compressed.reshape(-1)[self.source]
        return dense


def plan_columns(f_at: Callable, x: np.ndarray) -> ColumnPlan | None:
    """A compressed plan for the Hessian of ``f_at`` near ``x``, or None when it would not
    pay (more than n/4 colors) or the pattern cannot be detected."""
    from ..coloring import column_coloring
    from ..errors import DualtapeError
    from ..sparse import hessian_sparsity

    n = x.size
    if n < 8:
        return None
    try:
        pattern = hessian_sparsity(f_at, x)
    except DualtapeError:  # a construct the detector refuses: the dense sweep serves
        return None
    colors = np.asarray(column_coloring(pattern), dtype=np.int64)
    n_colors = int(colors.max()) + 1 if colors.size else 0
    if n_colors == 0 or 4 * n_colors > n:
        return None
    seeds = np.zeros((n_colors, n), dtype=x.dtype)
    seeds[colors, np.arange(n)] = 1.0
    coo = pattern.tocoo()
    rows, cols = coo.row.astype(np.intp), coo.col.astype(np.intp)
    return ColumnPlan(seeds, rows, cols, colors[cols] * n + rows)
