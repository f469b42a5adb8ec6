"""A tour of dualtape on embedded defaults: the Wengert list of the textbook example,
one Jacobian by both modes, and more as the toolkit grows."""

from __future__ import annotations

import argparse
import time

import numpy as np

HELP = "a one-minute tour of dualtape on built-in examples"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="skip the slower parts")


def _section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 70 - len(title)))


def run(args: argparse.Namespace) -> int:
    import dualtape as dt

    _section("1. The Wengert list of y = ln(x1) + x1*x2 - sin(x2) at (2, 5)")
    x1 = dt.Tensor(2.0, requires_grad=True)
    x2 = dt.Tensor(5.0, requires_grad=True)
    with dt.Tape() as tape:
        y = np.log(x1) + x1 * x2 - np.sin(x2)
    print(tape)
    y.backward()
    print(f"y = {y.item():.3f}, dy/dx1 = {float(x1.grad):.3f}, dy/dx2 = {float(x2.grad):.3f}")

    _section("2. One Jacobian, both modes: F(x) = tanh(A x) + (A sin x)^2")
    rng = np.random.default_rng(0)
    for n, m in ((10, 400), (400, 10)):
        A = rng.standard_normal((m, n)) / np.sqrt(n)
        F = lambda x, A=A: np.tanh(A @ x) + (A @ np.sin(x)) ** 2
        x = rng.standard_normal(n)
        times = {}
        for name, jac in (("forward", dt.jacfwd(F)), ("reverse", dt.jacrev(F))):
            jac(x)
            t0 = time.perf_counter()
            J = jac(x)
            times[name] = time.perf_counter() - t0
        print(f"n={n:4d} inputs, m={m:4d} outputs: forward {times['forward'] * 1e3:7.2f} ms, "
              f"reverse {times['reverse'] * 1e3:7.2f} ms  -> auto picks "
              f"{dt.explain_jacobian(F, x).mode}; J shape {J.shape}")
    return 0
