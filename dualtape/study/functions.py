"""The small textbook functions used to teach the two modes, with their calculus
derivatives written out by hand (so a trace can be checked against pencil and paper).

>>> ex = EXAMPLES["textbook"]
>>> [round(float(v), 3) for v in ex.gradient(*ex.at)]
[5.5, 1.716]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


def textbook(x1, x2):
    """y = ln(x1) + x1 x2 - sin(x2): Griewank & Walther's and Baydin et al.'s example."""
    return np.log(x1) + x1 * x2 - np.sin(x2)


def course_f(x1, x2):
    """f(x1, x2) = log(x1 x2) sin(x2)."""
    return np.log(x1 * x2) * np.sin(x2)


def course_g(x1, x2):
    """g(x1, x2) = x1 x2 (x1 + x2)."""
    return x1 * x2 * (x1 + x2)


@dataclass(frozen=True)
class Example:
    """A function, a point, its formula, and its gradient by hand."""

    fn: Callable
    at: tuple[float, ...]
    formula: str
    gradient: Callable
    gradient_formula: str
    note: str = ""


EXAMPLES: dict[str, Example] = {
    "textbook": Example(
        textbook, (2.0, 5.0), "y = ln(x1) + x1*x2 - sin(x2)",
        lambda x1, x2: np.array([1.0 / x1 + x2, x1 - np.cos(x2)]),
        "dy/dx1 = 1/x1 + x2,  dy/dx2 = x1 - cos(x2)",
        "(Baydin et al. 2018 list sin(x2) as v3 and the sum as v4; Python "
        "evaluates the sum first. The values are the same.)"),
    "course-f": Example(
        course_f, (1.0, 2.0), "f = log(x1*x2) * sin(x2)",
        lambda x1, x2: np.array([np.sin(x2) / x1,
                                 np.sin(x2) / x2 + np.log(x1 * x2) * np.cos(x2)]),
        "df/dx1 = sin(x2)/x1,  df/dx2 = sin(x2)/x2 + log(x1*x2)*cos(x2)"),
    "course-g": Example(
        course_g, (1.0, 2.0), "g = x1*x2*(x1 + x2)",
        lambda x1, x2: np.array([2 * x1 * x2 + x2 ** 2, x1 ** 2 + 2 * x1 * x2]),
        "dg/dx1 = 2*x1*x2 + x2**2,  dg/dx2 = x1**2 + 2*x1*x2"),
}
