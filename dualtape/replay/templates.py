"""Source templates of primitives, for generated programs without per-operation calls.

``Primitive.scalar`` (set next to the rules, dualtape/rules/elementwise.py) holds the
value and each partial derivative as Python source in ``{x}``, ``{y}``, ``{ans}``.
The same templates serve two programs: Python floats with ``math`` (scalar.py) and
NumPy arrays (codegen.py's gradient sweep), by binding the names differently.
"""

from __future__ import annotations

import math

import numpy as np

from .ir import Ref

#: Names the templates use, bound to ``math`` for float programs.
FLOAT_MATH = {name: getattr(math, name) for name in (
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "exp", "expm1",
    "log", "log1p", "log2", "log10", "sqrt", "fabs", "pow")}
#: Names the elementwise source templates use, bound to NumPy for array programs.
ARRAY_MATH = {"sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin,
              "acos": np.arccos, "atan": np.arctan, "sinh": np.sinh, "cosh": np.cosh,
              "tanh": np.tanh, "exp": np.exp, "expm1": np.expm1, "log": np.log,
              "log1p": np.log1p, "log2": np.log2, "log10": np.log10, "sqrt": np.sqrt,
              "fabs": np.abs, "pow": np.power}
#: Elementwise templates written for Python floats only.
NOT_INLINE = frozenset({"abs"})


def templates(n) -> tuple[str, ...]:
    """(value, partial per operand) source templates of a primitive node."""
    src = n.fn.scalar
    if n.fn.name == "pow":  # Python's ** turns a negative base complex: use math.pow
        y = n.args[1]
        if type(y) is not Ref and np.ndim(y) == 0 and float(y).is_integer():
            k = int(float(y))
            partial = {0: "0.0", 1: "1.0", 2: "2.0 * {x}"}.get(k, f"{k} * {{x}} ** {k - 1}")
            return (f"{{x}} ** {k}", partial, src[2])
        return ("pow({x}, {y})", "{y} * pow({x}, {y} - 1)", src[2])
    return src
