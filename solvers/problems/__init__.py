"""The Moré-Garbow-Hillstrom least-squares test problems, written in plain NumPy.

Source: J. J. Moré, B. S. Garbow and K. E. Hillstrom, "Testing Unconstrained
Optimization Software", ACM Trans. Math. Softw. 7(1):17-41, 1981. All 35 of the
paper's problems are here, written from the paper's formulas, with its standard
starting points ``x0`` and its published minimum values ``f_min``.

Why they are here: they are the standard yardstick for least-squares and
unconstrained solvers, and each ``residuals`` function uses only traceable NumPy
(ufuncs, ``@`` with constant matrices, slicing, ``np.stack``/``np.concatenate``,
reductions; no in-place writes, no Python branches on values of ``x``), so the
same code feeds dualtape's ``jacfwd``/``jacrev`` and finite differences alike.

``f`` is the plain sum of squares, ``f(x) = sum_i r_i(x)**2``; note that
``scipy.optimize.least_squares`` reports ``cost = f / 2``.

>>> import numpy as np
>>> from scipy.optimize import least_squares
>>> from solvers.problems import PROBLEMS, get_problem
>>> p = get_problem("rosenbrock")
>>> (p.n, p.m, round(float(p.objective(p.x0)), 10), p.f_min)
(2, 2, 24.2, 0.0)
>>> fit = least_squares(p.residuals, p.x0)
>>> bool(np.allclose(fit.x, p.x_min))
True
>>> sorted(PROBLEMS)[:3]
['bard', 'beale', 'biggs_exp6']

Other sizes of the variable-dimension problems come from their factories, e.g.
``extended_rosenbrock(1000)`` or ``linear_full_rank(5, 50)``.
"""

from __future__ import annotations

import difflib

from .base import TestProblem
from .mgh import FIXED_PROBLEMS
from .mgh_variable import (
    VARIABLE_PROBLEMS,
    brown_almost_linear,
    broyden_banded,
    broyden_tridiagonal,
    chebyquad,
    discrete_boundary_value,
    discrete_integral_equation,
    extended_powell_singular,
    extended_rosenbrock,
    linear_full_rank,
    linear_rank_1,
    linear_rank_1_zero,
    penalty_i,
    penalty_ii,
    trigonometric,
    variably_dimensioned,
    watson,
)

__all__ = [
    "PROBLEMS",
    "TestProblem",
    "get_problem",
    "broyden_banded",
    "broyden_tridiagonal",
    "brown_almost_linear",
    "chebyquad",
    "discrete_boundary_value",
    "discrete_integral_equation",
    "extended_powell_singular",
    "extended_rosenbrock",
    "linear_full_rank",
    "linear_rank_1",
    "linear_rank_1_zero",
    "penalty_i",
    "penalty_ii",
    "trigonometric",
    "variably_dimensioned",
    "watson",
]

#: Every registered problem by name, in the paper's order.
PROBLEMS: dict[str, TestProblem] = {p.name: p for p in FIXED_PROBLEMS + VARIABLE_PROBLEMS}


def get_problem(name: str) -> TestProblem:
    """Look a problem up by name; a typo gets the closest names in the error."""
    try:
        return PROBLEMS[name]
    except KeyError:
        close = difflib.get_close_matches(name, PROBLEMS, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise KeyError(f"unknown problem {name!r}{hint}") from None
