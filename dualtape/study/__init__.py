"""Studying forward versus reverse mode: Wengert-list traces and timed comparisons.

* :func:`trace`: the Wengert list of a function at a point, with the tangent (forward
  sweep) and the adjoint (reverse sweep) of every variable; :func:`to_dot` draws it.
* :func:`compare`, :func:`compare_function`: time forward mode, reverse mode, auto,
  finite differences and complex step on a grid of sizes; measure peak memory and
  accuracy; find the crossover n/m. The result is a :class:`Study` (text, CSV, JSON,
  and :func:`plot_study` for a PNG).

>>> import numpy as np
>>> from dualtape import study
>>> t = study.trace(study.EXAMPLES["textbook"].fn, (2.0, 5.0))
>>> [round(float(g), 3) for g in t.gradient]
[5.5, 1.716]
"""

from .crossover import Crossover, find_crossover
from .dot import to_dot
from .families import FAMILIES, Problem, make_problem, user_problem
from .functions import EXAMPLES, Example
from .methods import DEFAULT_CHUNKS, DEFAULT_METHODS, complex_step, parse_methods
from .plot import have_matplotlib, plot_study
from .results import Record, Study
from .runner import (
    DEFAULT_MS,
    DEFAULT_NS,
    QUICK_MS,
    QUICK_NS,
    compare,
    compare_function,
    compare_problems,
)
from .sweeps import Trace, trace

__all__ = [
    "DEFAULT_CHUNKS", "DEFAULT_METHODS", "DEFAULT_MS", "DEFAULT_NS", "EXAMPLES", "FAMILIES",
    "QUICK_MS", "QUICK_NS", "Crossover", "Example", "Problem", "Record", "Study", "Trace",
    "compare", "compare_function", "compare_problems", "complex_step", "find_crossover",
    "have_matplotlib", "make_problem", "parse_methods", "plot_study", "to_dot", "trace",
    "user_problem",
]
