"""A tour of dualtape on embedded defaults (a minute or two; --quick: seconds):

1. the Wengert list of y = ln(x1) + x1*x2 - sin(x2) with its forward and reverse sweeps,
2. one Jacobian by forward and reverse mode, timed,
3. a sparse Jacobian (coloring: a few passes instead of n),
4. scipy.optimize with exact gradients versus finite differences (evaluation counts),
5. a short MLP training run on the bundled digits, writing its plot.

A section whose feature is not installed prints one "(skipped: ...)" line.
"""

from __future__ import annotations

import argparse
import importlib
import os
import time
import traceback

import numpy as np

HELP = "a one-minute tour of dualtape on built-in examples"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--quick", action="store_true",
                        help="smaller sizes and a shorter training run (under 30 s)")
    parser.add_argument("--out", metavar="DIR", default=os.path.join("runs", "demo"),
                        help="where the training section writes its metrics and plots "
                             "(default runs/demo)")


def _section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 74 - len(title)), flush=True)


def _skip(feature: str) -> None:
    print(f"(skipped: {feature} not available)")


def _best_of(fn, repeats: int = 3) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def wengert(args: argparse.Namespace) -> None:
    """The textbook example: the list, the tangents and the adjoints."""
    from dualtape.study import EXAMPLES, trace
    _section("1. The Wengert list of y = ln(x1) + x1*x2 - sin(x2) at (2, 5)")
    t = trace(EXAMPLES["textbook"].fn, (2.0, 5.0))
    print("forward sweep (tangent of every v_i for each input direction):")
    print(t.forward_table())
    print("\nreverse sweep (adjoint dy/dv_i, from the output back):")
    print(t.reverse_table())
    g = t.gradient
    print(f"\ny = {float(t.value):.3f}, dy/dx1 = {g[0]:.3f}, dy/dx2 = {g[1]:.3f}   "
          f"(more: dualtape trace --help)")


def both_modes(args: argparse.Namespace) -> None:
    """F: R^n -> R^m, once with n << m and once with n >> m."""
    import dualtape as dt
    _section("2. One Jacobian, both modes: F(x) = tanh(A x) + (A sin x)^2")
    rng = np.random.default_rng(0)
    big = 200 if args.quick else 400
    for n, m in ((10, big), (big, 10)):
        A = rng.standard_normal((m, n)) / np.sqrt(n)
        F = lambda x, A=A: np.tanh(A @ x) + (A @ np.sin(x)) ** 2
        x = rng.standard_normal(n)
        fwd, rev, auto = dt.jacfwd(F, chunk=1), dt.jacrev(F, chunk=1), dt.jacobian(F)
        assert np.allclose(fwd(x), rev(x))
        tf, tr, tv = (_best_of(lambda j=jac, x=x: j(x)) for jac in (fwd, rev, auto))
        print(f"n={n:4d} inputs, m={m:4d} outputs, one direction per pass: forward "
              f"{tf * 1e3:7.2f} ms ({n} passes), reverse {tr * 1e3:7.2f} ms ({m} sweeps); "
              f"batched auto ({dt.explain_jacobian(F, x).mode}) {tv * 1e3:.2f} ms")
    print("forward mode costs a pass per input, reverse a sweep per output "
          "(more: dualtape compare --quick)")


def sparse(args: argparse.Namespace) -> None:
    """A banded Jacobian from a handful of colored passes."""
    import dualtape as dt
    _section("3. A sparse Jacobian: a discretised reaction-diffusion residual")
    if not hasattr(dt, "sparse_jacobian"):
        _skip("dt.sparse_jacobian")
        return
    n = 300 if args.quick else 2000

    def residual(u):
        lap = np.concatenate([u[:1] * 0, u[2:] - 2 * u[1:-1] + u[:-2], u[:1] * 0])
        return lap * (n + 1) ** 2 + np.exp(u) - 1.0

    u = np.linspace(0.0, 1.0, n) ** 2
    t0 = time.perf_counter()
    if hasattr(dt, "sparse_jacobian_fn"):  # detect and color once, then reuse
        jac = dt.sparse_jacobian_fn(residual, u)
        t_setup = time.perf_counter() - t0
        S = jac(u)
        t_sparse = _best_of(lambda: jac(u))
        how = (f"detection + coloring once {t_setup * 1e3:.1f} ms, then "
               f"{t_sparse * 1e3:.2f} ms per Jacobian")
    else:
        S = dt.sparse_jacobian(residual, u)
        how = f"{(time.perf_counter() - t0) * 1e3:.1f} ms with detection and coloring"
    dense = dt.jacfwd(residual)
    J = dense(u)
    t_dense = _best_of(lambda: dense(u), repeats=1)
    S = S.toarray() if hasattr(S, "toarray") else np.asarray(S)
    ok = "matches" if np.allclose(S, J) else "DIFFERS FROM"
    print(f"n = {n}: {int(np.count_nonzero(S))} nonzeros of {n * n}; sparse: {how}; dense "
          f"jacfwd {t_dense * 1e3:.1f} ms; the sparse result {ok} the dense one")
    if hasattr(dt, "sparse_jacobian_fn"):
        print(jac)


def optimisation(args: argparse.Namespace) -> None:
    """solvers.minimize with exact gradients against scipy with finite differences."""
    _section("4. scipy.optimize: exact gradients versus finite differences")
    try:
        solvers = importlib.import_module("solvers")
    except ImportError:
        solvers = None
    if solvers is None or not hasattr(solvers, "minimize"):
        _skip("solvers.minimize")
        return
    from scipy.optimize import minimize
    n = 10 if args.quick else 40

    def rosen(x):  # the extended Rosenbrock function: n/2 independent 2-D valleys
        a, b = x[0::2], x[1::2]
        return np.sum(100.0 * (b - a ** 2) ** 2 + (1.0 - a) ** 2)

    x0 = np.tile([-1.2, 1.0], n // 2)
    rows = []
    for name, call in (("scipy, finite differences", lambda: minimize(rosen, x0,
                                                                      method="BFGS")),
                       ("solvers.minimize, exact", lambda: solvers.minimize(rosen, x0,
                                                                            method="BFGS"))):
        t0 = time.perf_counter()
        res = call()
        elapsed = time.perf_counter() - t0
        err = float(np.max(np.abs(np.asarray(res.x) - 1.0)))
        rows.append((name, res.get("nit", "?"), res.get("nfev", "?"), res.get("njev", "?"),
                     f"{err:.1e}", f"{elapsed * 1e3:.0f}"))
    from dualtape.study.tables import format_table
    print(f"BFGS on the extended Rosenbrock function, n = {n} (minimum at x = 1):")
    print(format_table(("gradient", "iterations", "f evals", "grad evals", "max|x - 1|",
                        "ms"), rows, right=range(1, 6)))
    print("finite differences spend n + 1 function evaluations per gradient, and each "
          "gradient carries ~1e-8 relative error; the exact one costs about one evaluation")


def training(args: argparse.Namespace) -> None:
    """The MLP trainer on the bundled 8x8 digits, via the `dualtape train` command."""
    _section("5. Training an MLP on the bundled digits (reverse mode through a network)")
    try:
        train = importlib.import_module("dualtape.commands.train")
    except ImportError:
        _skip("dualtape train")
        return
    parser = argparse.ArgumentParser(prog="dualtape train")
    train.add_arguments(parser)
    known = {s for a in parser._actions for s in a.option_strings}
    wanted = [("--dataset", "digits"), ("--epochs", "3" if args.quick else "10"),
              ("--out", args.out)]
    argv = [part for flag, value in wanted if flag in known for part in (flag, value)]
    print(f"$ dualtape train {' '.join(argv)}", flush=True)
    status = train.run(parser.parse_args(argv))
    if status:
        raise RuntimeError(f"dualtape train {' '.join(argv)} exited with {status}")
    plots = sorted(f for f in os.listdir(args.out) if f.endswith(".png")) \
        if os.path.isdir(args.out) else []
    if plots:
        print(f"plots: {', '.join(os.path.join(args.out, f) for f in plots)}")


SECTIONS = (wengert, both_modes, sparse, optimisation, training)


def run(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    failed = []
    for section in SECTIONS:
        try:
            section(args)
        except Exception as exc:  # noqa: BLE001 - one broken section must not hide the rest
            failed.append(section.__name__)
            traceback.print_exc()
            print(f"(failed: {section.__name__}: {type(exc).__name__}: {exc})")
    print(f"\ntour finished in {time.perf_counter() - start:.1f} s"
          + (f"; FAILED sections: {', '.join(failed)}" if failed else ""))
    print("next: dualtape trace, dualtape compare --quick, examples/, docs/index.md")
    return 1 if failed else 0
