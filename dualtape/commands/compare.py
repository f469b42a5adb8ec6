"""Time forward mode, reverse mode, auto, finite differences and complex step on a grid
of sizes; measure their peak memory and accuracy against the exact Jacobian; report the
measured crossover n/m where forward and reverse mode cost the same.

PROBLEM is a built-in family (dense: F(x) = h(A g(x)), R^n -> R^m with --cost steps of
elementwise work per element; rosenbrock: extended Rosenbrock, R^n -> R; mlp: the
per-example losses of an MLP, n parameters, m examples) or module:function, a function
of one array (give the input sizes with --n, or shapes with --shape).

examples:
  dualtape compare --quick
  dualtape compare dense --n 4,16,64,256 --m 4,64 --cost 3 --csv out.csv --plot out.png
  dualtape compare rosenbrock --n 10,100,1000
  dualtape compare mymodel.py:residuals --shape 10 --shape 100 --jac mymodel.py:jac
  dualtape compare dense --workers 2                 # grid points on 2 local processes
  dualtape compare dense --scheduler tcp://127.0.0.1:8786   # ... or on a Dask cluster
"""

from __future__ import annotations

import argparse
import contextlib
import sys

HELP = "forward vs reverse vs finite differences: time, memory, accuracy, crossover"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("problem", nargs="?", default="dense",
                        help="dense (default), rosenbrock, mlp, or module:function")
    parser.add_argument("--n", metavar="N1,N2,...", help="input sizes to sweep")
    parser.add_argument("--m", metavar="M1,M2,...", help="output sizes to sweep (families)")
    parser.add_argument("--shape", action="append", metavar="D1,D2,...",
                        help="input shape for module:function (repeat to sweep)")
    parser.add_argument("--jac", metavar="module:function",
                        help="the exact Jacobian of module:function, for the accuracy column")
    parser.add_argument("--cost", type=int, default=1,
                        help="elementwise steps per element for dense (default 1)")
    parser.add_argument("--methods", default="",
                        help="comma-separated: fwd,rev,auto,fd-fwd,fd-cen,cstep,fwd[c=K],"
                             "rev[c=K] (default: all)")
    parser.add_argument("--chunks", default="1",
                        help="chunk sizes K added as fwd[c=K] and rev[c=K] (default 1; "
                             "'' for none)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timing samples per measurement, median reported (default 5)")
    parser.add_argument("--min-time", type=float, default=None,
                        help="seconds per timing sample at least (default 0.002)")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads during the run (default 1, for stable timings on "
                             "a busy machine; 0 leaves them as they are; needs threadpoolctl)")
    parser.add_argument("--quick", action="store_true",
                        help="a small grid and fewer repeats (seconds, for tests)")
    parser.add_argument("--csv", metavar="FILE", help="write one row per measurement")
    parser.add_argument("--json", metavar="FILE", help="write everything as JSON")
    parser.add_argument("--plot", metavar="FILE", default=None,
                        help="PNG of time vs n and vs m (default compare-PROBLEM.png)")
    parser.add_argument("--no-plot", action="store_true", help="do not draw the plot")
    parser.add_argument("--no-memory", action="store_true",
                        help="skip the tracemalloc pass (faster)")
    parser.add_argument("--no-progress", action="store_true", help="no progress output")
    parser.add_argument("--workers", type=int, default=0, metavar="N",
                        help="run the grid points as tasks on N local processes (times of "
                             "points running side by side compete for cores)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run the grid points as tasks on the Dask cluster at ADDRESS "
                             "(needs the 'distributed' extra); a file.py:function must be "
                             "readable there, a module:function importable")


@contextlib.contextmanager
def _executor(args: argparse.Namespace):
    """None, a ProcessPoolExecutor (--workers) or a Dask client's executor (--scheduler)."""
    if args.scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise ImportError("--scheduler needs dask.distributed: "
                              "pip install 'dualtape[distributed]'") from None
        with Client(args.scheduler) as client:
            yield client.get_executor()
    elif args.workers and args.workers > 0:
        from concurrent.futures import ProcessPoolExecutor
        with ProcessPoolExecutor(args.workers) as pool:
            yield pool
    else:
        yield None


def _study(args: argparse.Namespace, executor=None):
    from dualtape import study
    from dualtape.study.resolve import load_callable, parse_ints

    quick = args.quick
    options = {
        "methods": study.parse_methods(args.methods, parse_ints(args.chunks or "")),
        "repeats": args.repeats or (3 if quick else 5),
        "min_time": args.min_time if args.min_time is not None else (5e-4 if quick else 2e-3),
        "budget": 0.5 if quick else 2.0,
        "memory": not args.no_memory,
        "progress": not args.no_progress,
        "threads": args.threads or None,
        "executor": executor,
    }
    ns = parse_ints(args.n) if args.n else list(study.QUICK_NS if quick else study.DEFAULT_NS)
    if ":" in args.problem:
        fn = load_callable(args.problem)
        jac = load_callable(args.jac) if args.jac else None
        shapes = ([tuple(parse_ints(s)) for s in args.shape] if args.shape
                  else [(n,) for n in ns])
        return study.compare_function(fn, shapes, jac=jac, **options)
    ms = parse_ints(args.m) if args.m else list(study.QUICK_MS if quick else study.DEFAULT_MS)
    return study.compare(args.problem, ns, ms, cost=args.cost, **options)


def run(args: argparse.Namespace) -> int:
    from dualtape.study import have_matplotlib, plot_study
    try:
        with _executor(args) as executor:
            result = _study(args, executor)
    except (ValueError, ImportError) as exc:
        print(f"dualtape compare: {exc}", file=sys.stderr)
        return 2
    print(result.report())
    if args.csv:
        result.to_csv(args.csv)
        print(f"\nwrote {args.csv}")
    if args.json:
        result.to_json(args.json)
        print(f"wrote {args.json}")
    if not args.no_plot:
        name = args.problem.replace(":", "-").replace("/", "_").replace(".py", "")
        path = args.plot or f"compare-{name}.png"
        if not have_matplotlib():
            print("(plot skipped: matplotlib not installed; pip install 'dualtape[examples]')")
        elif len(result.points) < 2:
            print("(plot skipped: a single grid point)")
        else:
            plot_study(result, path)
            print(f"wrote {path}")
    return 0
