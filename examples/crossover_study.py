"""Forward versus reverse mode: where is the crossover?

Shows: the cost of a Jacobian of F: R^n -> R^m by forward mode (a pass per input
direction) and by reverse mode (a sweep per output direction), timed on a grid of n and
m with ``dualtape.study.compare``, next to finite differences and complex step; the
measured crossover ratio n/m; and a log-log plot (``crossover.png``, needs matplotlib
from the ``examples`` extra; the study itself runs without it).

Two regimes are measured: one direction per pass (``fwd[c=1]``/``rev[c=1]``, the
textbook picture, where the crossover is near n/m = 1 times the ratio of the per-pass
costs) and dualtape's default of batching all directions into one vectorised pass
(``fwd``/``rev``), where both modes do one pass and the crossover reflects array sizes.

Run: python examples/crossover_study.py          (DUALTAPE_QUICK=1 for a small grid)
The same from the command line: dualtape compare --help
"""

from __future__ import annotations

import os

from dualtape import study

QUICK = os.environ.get("DUALTAPE_QUICK") == "1"


def main() -> int:
    ns = [4, 16, 64] if QUICK else [4, 16, 64, 256, 1024]
    ms = [4, 32] if QUICK else [4, 16, 64, 256]
    result = study.compare("dense", ns=ns, ms=ms, cost=2,
                           repeats=3 if QUICK else 5, min_time=5e-4 if QUICK else 2e-3,
                           budget=0.5 if QUICK else 2.0, memory=not QUICK)
    print(result.report())
    for c in result.crossovers():
        if c.ratio is not None:
            print(f"\n{c.fwd} beats {c.rev} when n/m < {c.ratio:.2g} on this machine")
    if study.have_matplotlib():
        study.plot_study(result, "crossover.png")
        print("wrote crossover.png")
    else:
        print("(plot skipped: matplotlib is in the optional extra 'examples': "
              "pip install 'dualtape[examples]')")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
