"""``python -m benchmarks``: check, time and report every task.

Thread counts are pinned here, before NumPy or any peer is imported.
"""

from __future__ import annotations

from benchmarks.timing import pin_threads

PINNED = pin_threads()  # must run before numpy is imported (by the imports below)

import argparse  # noqa: E402
import json  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from benchmarks import peers, report  # noqa: E402
from benchmarks.runner import run_all  # noqa: E402
from benchmarks.spec import select  # noqa: E402
from benchmarks.tasks import all_tasks  # noqa: E402
from benchmarks.timing import Settings, machine_info, settle_allocator  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    ap.add_argument("--quick", action="store_true",
                    help="smaller sizes, 3 samples of >= 5 ms: under a minute")
    ap.add_argument("--only", metavar="PATTERN",
                    help="run tasks whose name or title contains PATTERN (comma = or)")
    ap.add_argument("--tools",
                    help=f"comma-separated subset of {','.join(peers.TOOLS)} (default: all; "
                    "--quick leaves out jax eager, which spends seconds per row)")
    ap.add_argument("--samples", type=int, help="samples per median (default 7; quick 3)")
    ap.add_argument("--min-time", type=float,
                    help="seconds each sample lasts at least (default 0.02; quick 0.005)")
    ap.add_argument("--budget", type=float,
                    help="seconds of sampling per implementation before fewer samples are "
                    "taken (default 5; quick 0.3)")
    ap.add_argument("--check-only", action="store_true",
                    help="only check correctness, time nothing")
    ap.add_argument("--list", action="store_true", help="list the tasks and exit")
    ap.add_argument("--json", metavar="FILE", help="write every measurement as JSON")
    ap.add_argument("--markdown", metavar="FILE", help="write the Markdown report")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the suite; exit status 1 if any implementation gave a wrong result or crashed."""
    args = parse_args(argv)
    scale = "quick" if args.quick else "full"
    settings = Settings.for_scale(args.quick)
    settings = Settings(args.samples or settings.samples, args.min_time or settings.min_time,
                        args.budget or settings.budget)
    default = [t for t in peers.TOOLS if not (args.quick and t == "jax")]
    tools = [t.strip() for t in args.tools.split(",") if t.strip()] if args.tools else default
    unknown = sorted(set(tools) - set(peers.TOOLS))
    if unknown:
        print(f"unknown tools {unknown}; choose from {peers.TOOLS}", file=sys.stderr)
        return 2
    tasks = select(all_tasks(scale), args.only)
    if args.list:
        for task in tasks:
            print(f"{task.name:<24} {task.title}")
        return 0
    if not tasks:
        print(f"no task matches {args.only!r}", file=sys.stderr)
        return 2

    allocator = settle_allocator()
    start = time.perf_counter()
    results = run_all(tasks, tools, settings, time_it=not args.check_only,
                      log=lambda msg: print(msg, flush=True))
    meta = machine_info(PINNED)
    meta.update({
        "command": "python -m benchmarks " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "scale": scale,
        "tools": tools,
        "samples": settings.samples,
        "min_time_s": settings.min_time,
        "budget_s": settings.budget,
        "wall_time_s": round(time.perf_counter() - start, 1),
        "peer_settings": peers.SETTINGS,
        "allocator": allocator,
    })
    text = report.markdown(results, meta, tools)
    print()
    print(report.markdown_table(results, tools))
    if args.markdown:
        Path(args.markdown).write_text(text, encoding="utf-8")
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_json(results, meta), indent=2,
                                              default=str), encoding="utf-8")
    print(f"\n{len(tasks)} tasks in {meta['wall_time_s']} s", flush=True)
    return 1 if report.failed(results) else 0


if __name__ == "__main__":
    sys.exit(main())
