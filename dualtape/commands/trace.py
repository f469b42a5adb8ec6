"""Print the Wengert list of a function at a point, then its forward sweep (the tangent
of every v_i, one column per input) and its reverse sweep (the adjoint of every v_i).

FUNCTION is a built-in example (textbook, course-f, course-g) or module:function
(file.py:function works too); the function takes scalars f(x1, x2, ...) or one vector.

examples:
  dualtape trace                                 # y = ln(x1) + x1*x2 - sin(x2) at (2, 5)
  dualtape trace course-f --at 1,2
  dualtape trace mymodel.py:energy --at 0.5,1.5,2 --dot graph.dot
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

HELP = "the Wengert list of a function with its forward and reverse sweeps"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("function", nargs="?", default="textbook",
                        help="textbook (default), course-f, course-g, or module:function")
    parser.add_argument("--at", metavar="X1,X2,...",
                        help="the point (default: the example's own, (2, 5) for textbook)")
    parser.add_argument("--vector", action="store_true",
                        help="pass the point as ONE array argument f(x)")
    parser.add_argument("--numbering", choices=("textbook", "tape"), default="textbook",
                        help="inputs as v-1, v0 (Griewank & Walther, Baydin et al.; default) "
                             "or from v1 as print(tape) does")
    parser.add_argument("--dot", metavar="FILE",
                        help="also write the graph as Graphviz DOT (render: dot -Tpng FILE)")


def _resolve(name: str):
    from dualtape.study import EXAMPLES
    from dualtape.study.resolve import load_callable
    if name in EXAMPLES:
        ex = EXAMPLES[name]
        return ex.fn, ex.at, ex
    return load_callable(name), None, None


def _summary(t, ex) -> list[str]:
    """The result line, and for a built-in example the hand-derived gradient beside it."""
    grad = np.atleast_1d(t.gradient)
    value = np.asarray(t.value)
    shown = f"{value.item():.6g}" if value.ndim == 0 else np.array2string(value, precision=6)
    lines = [f"{t.outputs[0] if len(t.outputs) == 1 else 'y'} = {shown}"]
    if len(t.outputs) == 1:
        lines += [f"d{t.outputs[0]}/d{d} = {g:.6g}" for d, g in zip(t.directions, grad,
                                                                     strict=True)]
        agree = np.allclose(t.jacobian_forward, grad, rtol=1e-12, atol=1e-12)
        lines.append(f"forward sweep (last row) and reverse sweep (input rows) "
                     f"{'agree' if agree else 'DISAGREE'}")
    if ex is not None:
        point = np.asarray(t.values[0]) if len(t.directions) == 1 else [
            float(v) for v, k in zip(t.values, t.kinds, strict=True) if k == "input"]
        by_hand = ex.gradient(*point)
        lines.append(f"by hand: {ex.gradient_formula} = "
                     f"{', '.join(f'{v:.6g}' for v in by_hand)}")
        if ex.note:
            lines.append(ex.note)
    return lines


def run(args: argparse.Namespace) -> int:
    from dualtape.errors import DualtapeError
    from dualtape.study import to_dot, trace
    from dualtape.study.resolve import parse_numbers
    try:
        fn, default_at, ex = _resolve(args.function)
        at = parse_numbers(args.at) if args.at else default_at
        if at is None:
            raise ValueError(f"{args.function}: give the point with --at, e.g. --at 2,5")
        t = trace(fn, at, vector=True if args.vector else None, numbering=args.numbering)
    except (ValueError, TypeError, ImportError, DualtapeError) as exc:
        print(f"dualtape trace: {exc}", file=sys.stderr)
        return 2
    title = ex.formula if ex is not None else args.function
    point = ", ".join(f"{v:g}" for v in at)
    print(f"{title}  at ({point})\n")
    print("Wengert list (evaluation trace)")
    print(t.wengert_table())
    print("\nForward sweep: tangents, one column per input direction (seed x_j = 1)")
    print(t.forward_table())
    print("\nReverse sweep, last entry first: adjoints (seed on the output = 1)")
    print(t.reverse_table())
    print()
    print("\n".join(_summary(t, ex)))
    if args.dot:
        with open(args.dot, "w", encoding="utf-8") as fh:
            fh.write(to_dot(t))
        print(f"\nwrote {args.dot} (render with: dot -Tpng {args.dot} -o graph.png)")
    return 0
