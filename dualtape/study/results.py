"""The result of a comparison study: records, tables, CSV, JSON and the crossover.

>>> r = Record("dense", 4, 2, "fwd", "ok", 1e-4, 9e-5, 5, 10, 2048, 1e-16)
>>> s = Study([r, Record("dense", 4, 2, "rev", "ok", 2e-4, 2e-4, 5, 10, 1024, 0.0)],
...           machine={}, settings={}, reference="exact")
>>> print(s.table("time"))
n  m  n/m  fwd ms  rev ms
-  -  ---  ------  ------
4  2    2   0.100   0.200
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .crossover import Crossover, find_crossover
from .machine import describe
from .tables import format_table


@dataclass
class Record:
    """One method at one grid point.

    ``status`` is ``"ok"``, ``"n/a"`` (the method does not apply, e.g. complex step on
    real-only code) or ``"error: ..."``; the numbers are None unless ``"ok"``.
    ``rel_error`` is ``max|J - J_ref| / max|J_ref|`` against the study's reference.
    """

    problem: str
    n: int
    m: int
    method: str
    status: str
    time: float | None = None
    time_min: float | None = None
    repeats: int = 0
    number: int = 0
    peak_bytes: int | None = None
    rel_error: float | None = None


_METRICS = {
    "time": ("ms", lambda r: f"{r.time * 1e3:.3f}" if r.time is not None else None),
    "memory": ("KiB", lambda r: f"{r.peak_bytes / 1024:.1f}" if r.peak_bytes is not None
               else None),
    "error": ("err", lambda r: f"{r.rel_error:.1e}" if r.rel_error is not None else None),
}


@dataclass
class Study:
    """All records of a study plus where and how they were measured."""

    records: list[Record]
    machine: dict[str, Any]
    settings: dict[str, Any]
    reference: str
    extra: dict[str, Any] = field(default_factory=dict)

    # ---- views ----
    @property
    def methods(self) -> list[str]:
        """Method names, in the order they were run."""
        return list(dict.fromkeys(r.method for r in self.records))

    @property
    def points(self) -> list[tuple[int, int]]:
        """The (n, m) grid points, in the order they were run."""
        return list(dict.fromkeys((r.n, r.m) for r in self.records))

    def times(self) -> dict[tuple[int, int, str], float]:
        """Median seconds per call, keyed by ``(n, m, method)`` (successful runs only)."""
        return {(r.n, r.m, r.method): r.time for r in self.records
                if r.status == "ok" and r.time is not None}

    def crossover(self, fwd: str = "fwd", rev: str = "rev") -> Crossover:
        """The measured crossover of ``fwd`` against ``rev`` (see :mod:`.crossover`)."""
        return find_crossover(self.times(), fwd, rev)

    def crossovers(self) -> list[Crossover]:
        """One crossover per forward/reverse pair present: ``fwd``/``rev``, ``fwd[c=k]``/
        ``rev[c=k]``."""
        names = set(self.methods)
        pairs = [(f, "rev" + f[3:]) for f in self.methods
                 if f.startswith("fwd") and "rev" + f[3:] in names]
        return [self.crossover(f, r) for f, r in pairs]

    # ---- text ----
    def table(self, metric: str = "time") -> str:
        """A wide table: one row per grid point, one column per method.

        Args:
            metric: ``"time"`` (median ms per Jacobian), ``"memory"`` (peak KiB) or
                ``"error"`` (relative error against the reference).
        """
        unit, fmt = _METRICS[metric]
        by_key = {(r.n, r.m, r.method): r for r in self.records}
        heads = ("n", "m", "n/m") + tuple(f"{meth} {unit}" for meth in self.methods)
        rows = []
        for n, m in self.points:
            cells = [str(n), str(m), f"{n / m:.3g}"]
            for meth in self.methods:
                r = by_key.get((n, m, meth))
                if r is None:
                    cells.append("")
                elif r.status != "ok":
                    cells.append("n/a" if r.status == "n/a" else "error")
                else:
                    cells.append(fmt(r) or "")
            rows.append(cells)
        return format_table(heads, rows, right=range(len(heads)))

    def errors(self) -> list[str]:
        """The failures, one line each (method, point, message)."""
        return [f"{r.method} at n={r.n}, m={r.m}: {r.status[7:]}" for r in self.records
                if r.status.startswith("error")]

    def report(self) -> str:
        """The full text report: where, what, the three tables and the crossover."""
        s = self.settings
        parts = [describe(self.machine) if self.machine else "",
                 f"problem: {s.get('problem', '?')}; repeats {s.get('repeats')} "
                 f"(median reported, >= {s.get('min_time', 0) * 1e3:g} ms per sample); "
                 f"accuracy against: {self.reference}"
                 + (f"; points run on {s['executor']}" if s.get("executor") else ""),
                 "", "Time per Jacobian (median, ms)", self.table("time"),
                 "", "Peak memory during one Jacobian (tracemalloc, KiB)", self.table("memory"),
                 "", f"Relative error, max|J - J_ref| / max|J_ref| (J_ref: {self.reference})",
                 self.table("error"), ""]
        parts += [c.describe() for c in self.crossovers()]
        errs = self.errors()
        if errs:
            parts += ["", "Failures:"] + [f"  {e}" for e in errs]
        return "\n".join(p for p in parts if p is not None).strip("\n")

    # ---- files ----
    def to_csv(self, path: str) -> None:
        """One row per record (long format, for spreadsheets and pandas)."""
        names = [f.name for f in fields(Record)]
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=names)
            w.writeheader()
            for r in self.records:
                w.writerow(asdict(r))

    def as_dict(self) -> dict[str, Any]:
        return {"machine": self.machine, "settings": self.settings,
                "reference": self.reference, "records": [asdict(r) for r in self.records],
                "crossovers": [c.as_dict() for c in self.crossovers()], **self.extra}

    def to_json(self, path: str) -> None:
        """Everything: machine, settings, records and crossovers."""
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(self.as_dict(), fh, indent=2, default=str)
            fh.write("\n")

    @classmethod
    def from_json(cls, path: str) -> Study:
        """Read back what :meth:`to_json` wrote (e.g. to re-plot a saved run)."""
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        return cls([Record(**r) for r in data["records"]], data["machine"],
                   data["settings"], data["reference"])
