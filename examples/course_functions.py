"""The course's example functions, differentiated by dualtape and by hand.

Shows: the same derivative four ways -- reverse mode (``dt.grad``), forward mode
(``dt.jvp`` / a hand-made ``dt.Dual``), the object API (``Tensor.backward()``) and the
calculus derivative written out by hand -- plus central finite differences for scale,
on the two-variable course examples f = log(x1 x2) sin(x2), g = x1 x2 (x1 + x2), the
textbook y = ln(x1) + x1 x2 - sin(x2), and a few one-variable classics. The Hessian of
g is checked against its hand-written form too.

Run: python examples/course_functions.py        (no optional extra needed)
"""

from __future__ import annotations

import numpy as np

import dualtape as dt
from dualtape.study import EXAMPLES
from dualtape.study.tables import format_table

#: name, f, f' by hand, the formula of f'
ONE_VARIABLE = [
    ("x sin x", lambda x: x * np.sin(x), lambda x: np.sin(x) + x * np.cos(x),
     "sin x + x cos x"),
    ("exp(-x^2)", lambda x: np.exp(-x ** 2), lambda x: -2 * x * np.exp(-x ** 2),
     "-2x exp(-x^2)"),
    ("tanh x", np.tanh, lambda x: 1 - np.tanh(x) ** 2, "1 - tanh^2 x"),
    ("sqrt(1 + x^2)", lambda x: np.sqrt(1 + x ** 2), lambda x: x / np.sqrt(1 + x ** 2),
     "x / sqrt(1 + x^2)"),
    ("softplus", lambda x: np.log1p(np.exp(x)), lambda x: 1 / (1 + np.exp(-x)),
     "1 / (1 + e^-x)"),
    ("x^x", lambda x: x ** x, lambda x: x ** x * (np.log(x) + 1), "x^x (ln x + 1)"),
]


def central(f, x: float, h: float = 1e-5) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)


def one_variable(points=(0.3, 1.0, 2.5)) -> list[tuple]:
    rows = []
    for name, f, df, formula in ONE_VARIABLE:
        for x in points:
            exact = df(x)
            rev = float(dt.grad(f)(x))
            fwd = float(f(dt.Dual(x, 1.0)).tangent)          # a dual number by hand
            t = dt.Tensor(x, requires_grad=True)
            f(t).backward()                                  # the object API
            obj = float(t.grad)
            err = max(abs(v - exact) for v in (rev, fwd, obj)) / max(1.0, abs(exact))
            fd = abs(central(f, x) - exact) / max(1.0, abs(exact))
            rows.append((name, f"{x:g}", f"{exact:.10f}", f"{err:.1e}", f"{fd:.1e}", formula))
    return rows


def two_variables(points=((1.0, 2.0), (2.0, 5.0), (0.5, 3.0))) -> list[tuple]:
    rows = []
    for name, ex in EXAMPLES.items():
        for x1, x2 in points:
            exact = ex.gradient(x1, x2)
            rev = np.array(dt.grad(ex.fn, argnums=(0, 1))(x1, x2))
            fwd = np.array([dt.jvp(ex.fn, (x1, x2), t)[1] for t in ((1.0, 0.0), (0.0, 1.0))])
            err = float(np.max(np.abs(np.concatenate([rev, fwd]) - np.tile(exact, 2))))
            rows.append((name, f"({x1:g}, {x2:g})", f"{exact[0]:.6f}", f"{exact[1]:.6f}",
                         f"{err:.1e}", ex.gradient_formula))
    return rows


def hessian_of_g(x1: float = 1.0, x2: float = 2.0) -> float:
    """g = x1^2 x2 + x1 x2^2: H = [[2 x2, 2 x1 + 2 x2], [2 x1 + 2 x2, 2 x1]]."""
    g = EXAMPLES["course-g"].fn
    H = dt.hessian(lambda x: g(x[0], x[1]))(np.array([x1, x2]))
    by_hand = np.array([[2 * x2, 2 * x1 + 2 * x2], [2 * x1 + 2 * x2, 2 * x1]])
    print(f"\nHessian of g at ({x1:g}, {x2:g}) by forward-over-reverse:\n{H}\nby hand:\n{by_hand}")
    return float(np.max(np.abs(H - by_hand)))


def main() -> int:
    print("One variable: |AD - calculus| (reverse, forward, object API; worst of three) and "
          "|central FD - calculus|, relative")
    rows1 = one_variable()
    print(format_table(("f(x)", "x", "f'(x) by hand", "AD error", "FD error", "f'(x)"), rows1))
    print("\nTwo variables: gradient by reverse and forward mode against the hand formula")
    rows2 = two_variables()
    print(format_table(("example", "(x1, x2)", "d/dx1", "d/dx2", "AD error", "by hand"),
                       rows2))
    h_err = hessian_of_g()
    worst = max([float(r[3]) for r in rows1] + [float(r[4]) for r in rows2] + [h_err])
    print(f"\nworst AD error: {worst:.1e} (rounding); central differences lose about five digits")
    return 0 if worst < 1e-12 else 1


if __name__ == "__main__":
    raise SystemExit(main())
