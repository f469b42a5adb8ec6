"""What a benchmark task is (problem, reference, baseline, one implementation per tool).

An implementation is a *builder*: ``build(problem) -> call``. The builder does the
untimed setup (converting data, compiling with jit, creating tensors); ``call()`` is
the timed unit of work and returns the tool's native result. Results are converted
to NumPy only for the correctness check, outside the timed region.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmarks.peers import REPLAY

Builder = Callable[[Any], Callable[[], Any]]


@dataclass(frozen=True)
class Goal:
    """The dualtape goal of a row: ``kind`` is "ratio" (t/t_baseline) or "us_per_op"."""

    limit: float
    kind: str = "ratio"
    ops: int = 0

    @property
    def label(self) -> str:
        """E.g. ``<= 3x`` or ``<= 2 us/op``."""
        if self.kind == "us_per_op":
            return f"<= {self.limit:g} us/op"
        return f"<= {self.limit:g}x"

    def value(self, t_tool: float, t_baseline: float) -> float:
        """The figure compared with ``limit``."""
        if self.kind == "us_per_op":
            return t_tool / self.ops * 1e6
        return t_tool / t_baseline


@dataclass
class Task:
    """One row of the report.

    Attributes:
        name: stable id used by ``--only`` (e.g. ``rosen-grad-n100``).
        title: human label for the table.
        baseline_name: what the baseline is (e.g. ``scipy rosen_der``).
        setup: ``() -> problem`` (sizes are baked in by the task module).
        reference: ``problem -> expected`` (independent of the tools).
        baseline: builder of the hand-coded baseline, checked like every tool.
        impls: ``{tool: builder}`` with tool names from ``peers.TOOLS``.
        goal: the goal of eager dualtape (column "dualtape"), if an issue sets one.
        replay_goal: the goal of the replayed column ("dualtape-replay", ``dt.compile``
            built once, the replay timed): the issue's replay goal where it sets one,
            else the row's own goal (a replay should not be slower than eager).
        rtol: tolerance of the default check.
        check: ``(problem, result, expected) -> error message or None``; default is
            a norm-relative comparison of the flattened results.
        function: builder timing the plain function itself (``t(f)`` for ratios).
        info: ``(problem, result) -> dict`` of extra per-tool figures (nfev, ...).
        ops: traced operations per call (scalar code: gives microseconds per op).
        baseline_reference: expected result of the baseline when the baseline does
            not compute the derivative itself (the scalar chain times f).
    """

    name: str
    title: str
    baseline_name: str
    setup: Callable[[], Any]
    reference: Callable[[Any], Any]
    baseline: Builder
    impls: Mapping[str, Builder]
    goal: Goal | None = None
    replay_goal: Goal | None = None
    rtol: float = 1e-8
    check: Callable[[Any, Any, Any], str | None] | None = None
    function: Builder | None = None
    info: Callable[[Any, Any], dict[str, Any]] | None = None
    ops: int = 0
    baseline_reference: Callable[[Any], Any] | None = None
    notes: list[str] = field(default_factory=list)

    def goal_of(self, tool: str) -> Goal | None:
        """The goal of column ``tool``: ``goal`` for dualtape, ``replay_goal`` for replay."""
        return {"dualtape": self.goal, REPLAY: self.replay_goal}.get(tool)

    @property
    def keywords(self) -> str:
        """What ``--only`` matches: the name, the title, and "replay" for every row with a
        replayed implementation (``--only replay`` is the record-once-replay-many group)."""
        extra = " replay" if REPLAY in self.impls else ""
        return f"{self.name} {self.title}{extra}".lower()


def to_numpy(obj: Any) -> Any:
    """Convert a tool's result (tensors, jax arrays, containers of them) to NumPy."""
    if isinstance(obj, Mapping):
        return {k: to_numpy(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_numpy(v) for v in obj)
    if hasattr(obj, "detach") and hasattr(obj, "numpy"):  # torch.Tensor
        return obj.detach().cpu().numpy()
    for attr in ("value", "data"):  # traced values that leaked (dualtape Tensor)
        inner = getattr(obj, attr, None)
        if isinstance(inner, np.ndarray | float):
            return np.asarray(inner)
    return np.asarray(obj, dtype=np.float64)


def flatten(obj: Any) -> np.ndarray:
    """Concatenate every array leaf (dict leaves in sorted key order) into one vector."""
    if isinstance(obj, Mapping):
        parts = [flatten(obj[k]) for k in sorted(obj)]
    elif isinstance(obj, (list, tuple)):
        parts = [flatten(v) for v in obj]
    else:
        return np.ravel(np.asarray(obj, dtype=np.float64))
    return np.concatenate(parts) if parts else np.zeros(0)


def compare(result: Any, expected: Any, rtol: float) -> str | None:
    """Norm-relative check: max|r - e| <= rtol * max(1, max|e|); message on failure."""
    r, e = flatten(to_numpy(result)), flatten(expected)
    if r.shape != e.shape:
        return f"shape {r.shape} != expected {e.shape}"
    if not np.all(np.isfinite(r)):
        return "result has non-finite entries"
    err = float(np.max(np.abs(r - e))) if r.size else 0.0
    scale = max(1.0, float(np.max(np.abs(e)))) if e.size else 1.0
    if err > rtol * scale:
        return f"max abs error {err:.3e} > {rtol:g} * {scale:.3e}"
    return None


def select(tasks: Sequence[Task], pattern: str | None) -> list[Task]:
    """Tasks whose name or title contains ``pattern`` (case-insensitive; ``,`` = or);
    ``replay`` also selects every row with a replayed (``dt.compile``) implementation."""
    if not pattern:
        return list(tasks)
    pats = [p.strip().lower() for p in pattern.split(",") if p.strip()]
    return [t for t in tasks if any(p in t.keywords for p in pats)]
