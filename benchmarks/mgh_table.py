"""The MGH 1981 test set: exact derivatives (solvers) vs finite differences (scipy).

Run: ``python -m benchmarks.mgh_table [--only NAME] [--markdown FILE]``.

For every problem in ``solvers.problems.PROBLEMS`` (35 problems, 40 sizes), from
the paper's standard x0, two solvers are run twice each, with the same options:

- ``minimize(f, method="L-BFGS-B")``, f = sum r_i^2: solvers (exact gradient)
  vs scipy's default 2-point finite differences (``jac=None``);
- ``least_squares(r)`` (trf): solvers (exact Jacobian) vs scipy's ``"2-point"``.

"evals" counts every evaluation of the user's function: for finite differences
that includes the ones spent on differences (scipy's ``nfev`` for minimize;
``nfev + n * njev`` for least_squares, whose ``nfev`` leaves them out). For the
exact runs each evaluation also gives the gradient (one reverse pass) or feeds a
Jacobian (one forward pass per ``njev``).

A run "solves" the problem when ``f - f_min <= 1e-4 * f_min + 1e-8 * min(1, f(x0))``
(f as a plain sum of squares). Where the paper gives no f_min, the best f any run
found is the reference. Local minima therefore count as failures.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import scipy.optimize as so  # noqa: E402

import solvers  # noqa: E402
from solvers.problems import PROBLEMS, TestProblem  # noqa: E402

LBFGSB_OPTIONS = {"ftol": 1e-15, "gtol": 1e-10, "maxiter": 20000, "maxfun": 200000}
LSQ_OPTIONS = {"ftol": 1e-12, "xtol": 1e-12, "gtol": 1e-12, "max_nfev": 20000}


def _run(call) -> tuple[object, float]:
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = call()
    return res, time.perf_counter() - t0


def run_problem(p: TestProblem) -> dict:
    """Four runs on one problem; f values are plain sums of squares."""
    x0, n = np.array(p.x0), p.n
    out: dict = {"name": p.name, "n": n, "m": p.m, "f_min": p.f_min,
                 "f0": float(p.objective(x0))}
    res, t = _run(lambda: solvers.minimize(p.objective, x0, method="L-BFGS-B",
                                           options=LBFGSB_OPTIONS))
    out["min_exact"] = (float(res.fun), int(res.nfev), t)
    res, t = _run(lambda: so.minimize(p.objective, x0, method="L-BFGS-B",
                                      options=LBFGSB_OPTIONS))
    out["min_fd"] = (float(res.fun), int(res.nfev), t)
    res, t = _run(lambda: solvers.least_squares(p.residuals, x0, **LSQ_OPTIONS))
    out["lsq_exact"] = (2 * float(res.cost), int(res.nfev), t, int(res.njev))
    res, t = _run(lambda: so.least_squares(p.residuals, x0, jac="2-point", **LSQ_OPTIONS))
    out["lsq_fd"] = (2 * float(res.cost), int(res.nfev) + n * int(res.njev), t,
                     int(res.njev))
    return out


def solved(f: float, row: dict) -> bool:
    ref = row["f_min"]
    if math.isnan(ref):
        ref = min(row[k][0] for k in ("min_exact", "min_fd", "lsq_exact", "lsq_fd"))
    return bool(f - ref <= 1e-4 * abs(ref) + 1e-8 * min(1.0, row["f0"]))


def _cell(entry: tuple, row: dict) -> str:
    mark = "yes" if solved(entry[0], row) else "**no**"
    return f"{mark} | {entry[1]} | {entry[0]:.3g}"


def table(rows: list[dict]) -> str:
    lines = [
        "| problem | n | m | f_min | L-BFGS-B exact: solved / evals / f "
        "| | | L-BFGS-B FD: solved / evals / f | | "
        "| least_squares exact: solved / evals / f | | | least_squares FD | | |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['name']} | {r['n']} | {r['m']} | {r['f_min']:.6g} | "
                     f"{_cell(r['min_exact'], r)} | {_cell(r['min_fd'], r)} | "
                     f"{_cell(r['lsq_exact'], r)} | {_cell(r['lsq_fd'], r)} |")
    return "\n".join(lines)


def summary(rows: list[dict]) -> str:
    lines = ["| solver | derivatives | solved | total evals | median evals | total time s |",
             "|---|---|---|---|---|---|"]
    for key, solver, how in (("min_exact", "L-BFGS-B", "exact (solvers)"),
                             ("min_fd", "L-BFGS-B", "2-point FD (scipy)"),
                             ("lsq_exact", "least_squares trf", "exact (solvers)"),
                             ("lsq_fd", "least_squares trf", "2-point FD (scipy)")):
        ok = sum(solved(r[key][0], r) for r in rows)
        evals = [r[key][1] for r in rows]
        secs = sum(r[key][2] for r in rows)
        lines.append(f"| {solver} | {how} | {ok}/{len(rows)} | {sum(evals)} | "
                     f"{int(np.median(evals))} | {secs:.2f} |")
    both = [r for r in rows if solved(r["min_exact"][0], r) and solved(r["min_fd"][0], r)]
    if both:
        ratio = np.median([r["min_fd"][1] / r["min_exact"][1] for r in both])
        lines.append(f"\nL-BFGS-B, problems both solved ({len(both)}): median ratio of "
                     f"evaluations FD / exact = {ratio:.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run the problems whose name contains this")
    parser.add_argument("--markdown", help="also write the tables to this file")
    args = parser.parse_args(argv)
    problems = [p for p in PROBLEMS.values() if not args.only or args.only in p.name]
    rows = []
    for p in problems:
        rows.append(run_problem(p))
    text = ("## MGH 1981: exact derivatives vs finite differences\n\n" + summary(rows) +
            "\n\n" + table(rows))
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write(text + "\n")
    return text


if __name__ == "__main__":
    main()
