"""End-to-end solver benchmark: solvers (exact derivatives) vs scipy with FD and hand-coded.

Run: ``python -m benchmarks.solvers_e2e [--quick] [--markdown FILE]``.

1. L-BFGS-B on Rosenbrock, n = 100, from x0 = (-1.2, 1, -1.2, 1, ...), three ways:
   ``solvers.minimize`` (exact gradient, one reverse pass per point), scipy with
   finite differences (``jac=None``), scipy with a hand-coded gradient. Two
   variants: scipy's chained ``rosen`` (hand-coded: ``rosen_der``) and the
   Extended Rosenbrock of MGH #21 (hand-coded gradient written below).
2. Newton-CG and trust-ncg with Hessian-vector products: solvers (exact hvp,
   forward-over-reverse) vs scipy with ``rosen_der`` + ``rosen_hess_prod``.
3. The per-call overhead: one value-and-gradient evaluation through solvers
   (cache miss and hit) vs the plain function and the hand-coded pair.

Times are medians of repeated runs in this process, one BLAS thread.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before NumPy loads: tiny BLAS calls hate thread pools

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402
import scipy.optimize as so  # noqa: E402
from scipy.optimize import rosen, rosen_der, rosen_hess_prod  # noqa: E402

import dualtape as dt  # noqa: E402
import solvers  # noqa: E402
from solvers._objective import ScalarObjective  # noqa: E402

N = 100


def chained(x):
    """scipy's rosen in plain NumPy (the traced version)."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def extended(x):
    """Extended Rosenbrock, MGH #21: n/2 uncoupled valleys."""
    odd, even = x[0::2], x[1::2]
    return np.sum(100.0 * (even - odd ** 2) ** 2 + (1.0 - odd) ** 2)


def extended_der(x: np.ndarray) -> np.ndarray:
    """Hand-coded gradient of :func:`extended`."""
    odd, even = x[0::2], x[1::2]
    g = np.empty_like(x)
    g[0::2] = -400.0 * odd * (even - odd ** 2) - 2.0 * (1.0 - odd)
    g[1::2] = 200.0 * (even - odd ** 2)
    return g


def timed(run: Callable[[], object], repeats: int) -> tuple[object, float]:
    """The last result and the median wall time of ``repeats`` runs."""
    times, res = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = run()
        times.append(time.perf_counter() - t0)
    return res, statistics.median(times)


def row(name: str, res, seconds: float, ref: float | None = None) -> str:
    err = float(np.max(np.abs(np.asarray(res.x_flat if "x_flat" in res else res.x) - 1.0)))
    ratio = "" if ref is None else f"{seconds / ref:.2f}x"
    return (f"| {name} | {res.success} | {res.nit} | {res.nfev} | {res.get('njev', '')} | "
            f"{res.get('nhev', '')} | {res.fun:.2e} | {err:.1e} | {seconds * 1e3:.1f} | "
            f"{ratio} |")


HEAD = ("| run | success | nit | nfev | njev | nhev | f | max abs(x-1) | wall ms | "
        "vs hand-coded |\n|---|---|---|---|---|---|---|---|---|---|")


def lbfgsb_table(repeats: int) -> list[str]:
    x0 = np.tile([-1.2, 1.0], N // 2)
    out = []
    for label, f_np, f_ref, g_ref in (("chained rosen", chained, rosen, rosen_der),
                                      ("Extended Rosenbrock (MGH #21)", extended,
                                       lambda x: extended(x), extended_der)):
        out += [f"\n### L-BFGS-B, {label}, n = {N}\n", HEAD]
        hand, t_hand = timed(lambda f=f_ref, g=g_ref: so.minimize(f, x0, jac=g,
                                                                  method="L-BFGS-B"), repeats)
        exact, t_exact = timed(lambda f=f_np: solvers.minimize(f, x0, method="L-BFGS-B"),
                               repeats)
        fd, t_fd = timed(lambda f=f_ref: so.minimize(f, x0, method="L-BFGS-B"),
                         max(1, repeats // 3))
        out.append(row("scipy + hand-coded gradient", hand, t_hand, t_hand))
        out.append(row("solvers (exact gradient)", exact, t_exact, t_hand))
        out.append(row("scipy + finite differences", fd, t_fd, t_hand))
    return out


def newton_table(repeats: int) -> list[str]:
    x0 = np.tile([-1.2, 1.0], N // 2)
    out = []
    for label, f_np in (("chained rosen", chained), ("Extended Rosenbrock", extended)):
        for method in ("Newton-CG", "trust-ncg"):
            out += [f"\n### {method} with Hessian-vector products, {label}, n = {N}\n", HEAD]
            if f_np is chained:
                hand, t_hand = timed(lambda m=method: so.minimize(
                    rosen, x0, jac=rosen_der, hessp=rosen_hess_prod, method=m), repeats)
                out.append(row("scipy + rosen_der + rosen_hess_prod", hand, t_hand, t_hand))
            else:
                hand, t_hand = timed(lambda m=method: so.minimize(
                    extended, x0, jac=extended_der, hessp=lambda x, p: dt.hvp(extended, x, p),
                    method=m), repeats)
                out.append(row("scipy + hand-coded gradient + dt.hvp", hand, t_hand, t_hand))
            exact, t_exact = timed(lambda m=method, f=f_np: solvers.minimize(
                f, x0, method=m, hess="hessp"), repeats)
            out.append(row("solvers (hess='hessp')", exact, t_exact, t_hand))
            exact, t_exact = timed(lambda m=method, f=f_np: solvers.minimize(
                f, x0, method=m, hess="exact"), repeats)
            out.append(row("solvers (hess='exact')", exact, t_exact, t_hand))
    return out


def per_call(number: int) -> list[str]:
    x = np.random.default_rng(0).uniform(-2.0, 2.0, N)
    obj = ScalarObjective(chained, x, (), "minimize")
    vg = dt.value_and_grad(chained)
    points = iter([x + 1e-9 * i for i in range(number * 8)])
    h_points = iter([x + 1e-9 * i for i in range(number * 8)])
    p = np.ones(N)

    def each(fn: Callable[[], object], k: int = number) -> float:
        return min(_loop(fn, k) for _ in range(5)) / k * 1e6

    rows = [("chained(x), plain NumPy", each(lambda: chained(x))),
            ("rosen(x) + rosen_der(x), hand-coded", each(lambda: (rosen(x), rosen_der(x)))),
            ("dt.value_and_grad(chained)(x)", each(lambda: vg(x))),
            ("solvers objective, new x (miss)",
             each(lambda: obj.value_and_grad(next(points)), number)),
            ("solvers objective, same x (cache hit)", each(lambda: obj.value_and_grad(x))),
            ("rosen_hess_prod(x, p), hand-coded", each(lambda: rosen_hess_prod(x, p))),
            ("solvers hessp (dt.hvp)", each(lambda: obj.hessp(x, p))),
            ("solvers hess, dense 100 x 100 (one pass)",
             each(lambda: obj.hess(next(h_points)), number // 10))]
    out = [f"\n### Per-call cost, n = {N} (microseconds)\n", "| call | us |", "|---|---|"]
    out += [f"| {name} | {us:.1f} |" for name, us in rows]
    return out


def _loop(fn: Callable[[], object], k: int) -> float:
    t0 = time.perf_counter()
    for _ in range(k):
        fn()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--markdown", help="also write the tables to this file")
    args = parser.parse_args(argv)
    repeats, number = (3, 200) if args.quick else (9, 1000)
    lines = ["## solvers end-to-end (exact derivatives vs finite differences vs hand-coded)"]
    lines += lbfgsb_table(repeats) + newton_table(repeats) + per_call(number)
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write(text + "\n")
    return text


if __name__ == "__main__":
    main()
