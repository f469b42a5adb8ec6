"""Where forward and reverse mode cost the same: the crossover ratio n/m.

Forward mode costs about one pass per input direction, reverse mode one sweep per
output, so the textbook answer is "forward when n < m". The measured answer differs
by the constant factors of each mode. Along each line of the grid (fixed m, varying
n; and fixed n, varying m) the sign change of ``log(t_fwd / t_rev)`` is located by
linear interpolation in log space; the crossover ratio is the median over lines.

>>> times = {(n, 10, "fwd"): n * 1.0 for n in (1, 10, 100)}
>>> times.update({(n, 10, "rev"): 20.0 for n in (1, 10, 100)})
>>> c = find_crossover(times, "fwd", "rev")
>>> round(c.along_n[0][1]), round(c.ratio, 1)
(20, 2.0)
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field


@dataclass
class Crossover:
    """The measured crossover of method ``fwd`` against method ``rev``.

    Attributes:
        along_n: ``(m, n*)`` per fixed m: forward is faster below n*.
        along_m: ``(n, m*)`` per fixed n: forward is faster above m*.
        ratio: the median of ``n*/m`` and ``n/m*`` (None when no line crosses).
        fit_ratio: where a least-squares line ``log(t_fwd/t_rev) ~ a + b log(n/m)`` crosses
            zero, over all points (None when it does not slope upward).
        notes: lines that never cross, e.g. ``"m=4: reverse faster throughout"``.
    """

    fwd: str
    rev: str
    along_n: list[tuple[int, float]] = field(default_factory=list)
    along_m: list[tuple[int, float]] = field(default_factory=list)
    ratio: float | None = None
    fit_ratio: float | None = None
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """A few lines for the report."""
        head = f"crossover {self.fwd} vs {self.rev}: "
        if self.ratio is None:
            head += "no crossing on this grid"
        else:
            head += f"n/m = {self.ratio:.3g} (forward mode is faster when n/m is below it)"
        lines = [head]
        if self.fit_ratio is not None:
            lines.append(f"  log-linear fit over all points: n/m = {self.fit_ratio:.3g}")
        for m, n_star in self.along_n:
            lines.append(f"  m = {m}: equal at n = {n_star:.3g} (n/m = {n_star / m:.3g})")
        for n, m_star in self.along_m:
            lines.append(f"  n = {n}: equal at m = {m_star:.3g} (n/m = {n / m_star:.3g})")
        lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {"fwd": self.fwd, "rev": self.rev, "ratio": self.ratio,
                "fit_ratio": self.fit_ratio, "along_n": self.along_n,
                "along_m": self.along_m, "notes": self.notes}


def _cross(points: list[tuple[float, float]]) -> float | None:
    """The first x where y changes sign (linear interpolation in log x)."""
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        if y0 == 0:
            return x0
        if (y0 < 0) != (y1 < 0) or y1 == 0:
            lx0, lx1 = math.log(x0), math.log(x1)
            return math.exp(lx0 + (0 - y0) * (lx1 - lx0) / (y1 - y0))
    return None


def _crossings(logr: dict[tuple[int, int], float], fixed: list[int], varied: list[int],
               names: tuple[str, str], notes: list[str]) -> list[tuple[int, float]]:
    """``(a, b*)`` for each fixed ``a`` whose line ``logr[(a, b)]`` over ``b`` changes sign;
    a line that never does gets a note naming the mode that is faster throughout."""
    found = []
    for a in fixed:
        pts = [(b, logr[(a, b)]) for b in varied if (a, b) in logr]
        if len(pts) < 2:
            continue
        star = _cross(pts)
        if star is None:
            faster = "forward" if pts[0][1] < 0 else "reverse"
            notes.append(f"{names[0]} = {a}: {faster} faster throughout "
                         f"{names[1]} = {pts[0][0]}..{pts[-1][0]}")
        else:
            found.append((a, star))
    return found


def find_crossover(times: dict[tuple[int, int, str], float], fwd: str = "fwd",
                   rev: str = "rev") -> Crossover:
    """Locate the crossover from median times keyed by ``(n, m, method)``.

    Args:
        times: seconds per call; missing keys (n/a, failed) are skipped.
        fwd: the forward-mode method's name.
        rev: the reverse-mode method's name.
    """
    logr = {(n, m): math.log(t / times[(n, m, rev)])
            for (n, m, meth), t in times.items()
            if meth == fwd and (n, m, rev) in times and t > 0 and times[(n, m, rev)] > 0}
    out = Crossover(fwd, rev)
    ns = sorted({n for n, _ in logr})
    ms = sorted({m for _, m in logr})
    by_mn = {(m, n): r for (n, m), r in logr.items()}
    out.along_n = _crossings(by_mn, ms, ns, ("m", "n"), out.notes)
    out.along_m = _crossings(logr, ns, ms, ("n", "m"), out.notes)
    ratios = ([n_star / m for m, n_star in out.along_n]
              + [n / m_star for n, m_star in out.along_m])
    if ratios:
        out.ratio = math.exp(statistics.median(math.log(r) for r in ratios))
    out.fit_ratio = _fit(logr)
    return out


def _fit(logr: dict[tuple[int, int], float]) -> float | None:
    xs = [math.log(n / m) for n, m in logr]
    ys = list(logr.values())
    if len(set(xs)) < 2:
        return None
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=False)) / sxx
    if b <= 0:
        return None
    return math.exp(mx - my / b)
