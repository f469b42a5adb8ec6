"""Plots of a study (log-log): time against n at fixed m, and against m at fixed n.

Needs matplotlib (the ``examples`` extra); :func:`have_matplotlib` says whether it
is there, and :func:`plot_study` raises ``ModuleNotFoundError`` with the install
command otherwise.
"""

from __future__ import annotations

import importlib.util

from .results import Study

INSTALL_HINT = "matplotlib is needed for plots: pip install 'dualtape[examples]'"


def have_matplotlib() -> bool:
    """Whether matplotlib can be imported.

    >>> isinstance(have_matplotlib(), bool)
    True
    """
    return importlib.util.find_spec("matplotlib") is not None


def _middle(values: list[int]) -> int:
    return sorted(values)[(len(values) - 1) // 2]


def plot_study(study: Study, path: str, fixed_m: int | None = None,
               fixed_n: int | None = None, title: str | None = None) -> str:
    """Save the time-vs-size plots of ``study`` as a PNG at ``path``.

    Args:
        study: the results.
        path: where to write the PNG.
        fixed_m: the m of the time-vs-n panel (default: the middle of the grid).
        fixed_n: the n of the time-vs-m panel (default: the middle of the grid).
        title: a figure title (default: the problem).

    Returns:
        ``path``.
    """
    if not have_matplotlib():
        raise ModuleNotFoundError(INSTALL_HINT)
    from matplotlib.figure import Figure  # no pyplot: the user's backend is left alone
    from matplotlib.ticker import NullFormatter

    times = study.times()
    ns = sorted({n for n, _ in study.points})
    ms = sorted({m for _, m in study.points})
    panels = []
    if len(ns) > 1:
        m0 = fixed_m if fixed_m in ms else _middle(ms)
        panels.append(("n (inputs)", f"m = {m0}", [(n, m0) for n in ns]))
    if len(ms) > 1:
        n0 = fixed_n if fixed_n in ns else _middle(ns)
        panels.append(("m (outputs)", f"n = {n0}", [(n0, m) for m in ms]))
    if not panels:
        raise ValueError("plot_study: the grid has a single point; sweep n or m")
    fig = Figure(figsize=(6.2 * len(panels), 4.6))
    axes = fig.subplots(1, len(panels), squeeze=False)
    for ax, (xlabel, fixed, pts) in zip(axes[0], panels, strict=False):
        along_n = xlabel.startswith("n")
        for meth in study.methods:
            xy = [(n if along_n else m, times[(n, m, meth)]) for n, m in pts
                  if (n, m, meth) in times]
            if len(xy) < 2:
                continue
            style = "-" if meth.startswith(("fwd", "rev", "auto")) else "--"
            ax.loglog([p[0] for p in xy], [p[1] * 1e3 for p in xy], style, marker="o",
                      markersize=3, label=meth)
        ticks = sorted({n if along_n else m for n, m in pts})
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.set_xlabel(xlabel)
        ax.set_ylabel("time per Jacobian (ms, median)")
        ax.set_title(fixed)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title or f"Jacobian cost: {study.settings.get('problem', '')}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path
