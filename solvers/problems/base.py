"""The :class:`TestProblem` record shared by every problem module.

Kept in its own module so that the problem modules and the package's registry
can both import it without an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["TestProblem", "Vector", "frozen_array"]

#: What residual functions take and return: an ndarray, or a traced value of an
#: AD tool (dualtape's Dual/Tensor) that quacks like one.
Vector = Any


def frozen_array(values: Any) -> np.ndarray:
    """Return a read-only float64 copy, so shared problem data cannot be mutated."""
    arr = np.array(values, dtype=np.float64)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class TestProblem:
    """One nonlinear least-squares problem ``f(x) = sum_i r_i(x)**2``.

    Attributes:
        name: registry key, e.g. ``"rosenbrock"`` or ``"extended_rosenbrock_10"``.
        n: number of variables.
        m: number of residuals.
        residuals: ``x -> r`` with ``r.shape == (m,)``; plain NumPy, traceable.
        x0: the paper's standard starting point (read-only).
        f_min: the published minimum value of ``f`` (sum of squares, not 1/2 of it).
        x_min: a point where ``f == f_min`` (to the digits stored), or ``None``.
        source: where the problem comes from, e.g. ``"MGH 1981 #1"``.
        notes: other minima, traps for solvers, choices made here.

    ``eq=False`` because NumPy fields make ``==`` ambiguous; identity is enough.
    """

    # Tell pytest this is not a test class despite its name.
    __test__ = False

    name: str
    n: int
    m: int
    residuals: Callable[[Vector], Vector] = field(repr=False)
    x0: np.ndarray = field(repr=False)
    f_min: float
    x_min: np.ndarray | None = field(default=None, repr=False)
    source: str = "MGH 1981"
    notes: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        # Freeze the arrays: problems live in a global registry and are shared.
        object.__setattr__(self, "x0", frozen_array(self.x0))
        if self.x_min is not None:
            object.__setattr__(self, "x_min", frozen_array(self.x_min))
        if self.x0.shape != (self.n,):
            raise ValueError(f"{self.name}: x0 has shape {self.x0.shape}, expected ({self.n},)")
        if self.x_min is not None and self.x_min.shape != (self.n,):
            raise ValueError(f"{self.name}: x_min has shape {self.x_min.shape}")

    def objective(self, x: Vector) -> Vector:
        """Sum of squared residuals; traceable because ``residuals`` is."""
        r = self.residuals(x)
        return np.sum(r * r)
