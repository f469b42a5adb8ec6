"""The Wengert list, step by step, on the textbook example y = ln(x1) + x1 x2 - sin(x2).

Shows, at (x1, x2) = (2, 5) as in Griewank & Walther and Baydin et al. (2018):

1. recording: ``with dt.Tape() as tape`` and ``print(tape)`` give the evaluation trace;
2. the forward sweep with a dual number by hand: each v_i carries its tangent;
3. the reverse sweep: ``y.backward()`` fills ``x.grad``; the adjoint of every v_i comes
   from ``dualtape.study.trace``, which sweeps the recorded list both ways;
4. the computational graph as Graphviz DOT (written next to the script's working
   directory as ``wengert.dot``; render with ``dot -Tpng wengert.dot -o wengert.png``).

Expected: y = 11.652, dy/dx1 = 5.5, dy/dx2 = 1.716.

Run: python examples/wengert_walkthrough.py      (no optional extra needed)
"""

from __future__ import annotations

import numpy as np

import dualtape as dt
from dualtape.study import EXAMPLES, to_dot, trace


def f(x1, x2):
    return np.log(x1) + x1 * x2 - np.sin(x2)


def record() -> None:
    print("1. Recording: every NumPy call on a Tensor appends one line to the tape\n")
    x1 = dt.Tensor(2.0, requires_grad=True)
    x2 = dt.Tensor(5.0, requires_grad=True)
    with dt.Tape() as tape:
        y = f(x1, x2)
    print(tape)
    y.backward()
    print(f"\ny.backward(): x1.grad = {float(x1.grad):.4f}, x2.grad = {float(x2.grad):.4f}")


def forward_by_hand() -> None:
    print("\n2. Forward mode with dual numbers: seed x1' = 1, x2' = 0 and read y'\n")
    x1, x2 = dt.Dual(2.0, 1.0), dt.Dual(5.0, 0.0)
    steps = [("v1 = ln x1", np.log(x1)), ("v2 = x1 * x2", x1 * x2),
             ("v3 = sin x2", np.sin(x2))]
    for label, v in steps:
        print(f"  {label:14s} value {float(v.value):8.4f}   tangent {float(v.tangent):8.4f}")
    y = f(x1, x2)
    print(f"  {'y':14s} value {float(y.value):8.4f}   tangent {float(y.tangent):8.4f}"
          "   <- dy/dx1, one forward pass per input")


def sweeps() -> None:
    print("\n3. Both sweeps over the recorded list (dualtape.study.trace)\n")
    t = trace(f, (2.0, 5.0))
    print(t.forward_table())
    print()
    print(t.reverse_table())
    g = t.gradient
    print(f"\ny = {float(t.value):.3f}, dy/dx1 = {g[0]:.3f}, dy/dx2 = {g[1]:.3f} "
          f"(one reverse sweep gives both)")
    hand = EXAMPLES["textbook"].gradient(2.0, 5.0)
    assert np.allclose(g, hand, rtol=1e-14) and round(float(t.value), 3) == 11.652
    with open("wengert.dot", "w", encoding="utf-8") as fh:
        fh.write(to_dot(t))
    print("\n4. wrote wengert.dot (render: dot -Tpng wengert.dot -o wengert.png)")


def main() -> int:
    record()
    forward_by_hand()
    sweeps()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
