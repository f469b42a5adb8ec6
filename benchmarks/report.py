"""Reports: the Markdown table (ratios t(tool)/t(baseline), dualtape goal) and JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from benchmarks.peers import REPLAY, TOOLS
from benchmarks.runner import FAIL, OK, Outcome, TaskResult


def fmt_time(seconds: float) -> str:
    """Human time with a unit: 812 ns, 3.41 us, 12.7 ms, 1.52 s."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def ratio(res: TaskResult, tool: str) -> float | None:
    """t(tool) / t(baseline), when both were timed: paired when the samples were."""
    out = res.tools.get(tool)
    if out is None or out.timing is None or res.baseline.timing is None:
        return None
    paired = out.timing.paired_ratio
    return paired if paired is not None else out.timing.median / res.baseline.timing.median


def goal_value(res: TaskResult, tool: str = "dualtape") -> float | None:
    """``tool``'s figure for its goal in the row (a ratio, or microseconds per op)."""
    out = res.tools.get(tool)
    goal = res.task.goal_of(tool)
    r = ratio(res, tool)
    if goal is None or out is None or out.timing is None or r is None:
        return None
    return goal.value(out.timing.median, out.timing.median / r)


def _cell(res: TaskResult, tool: str) -> str:
    out = res.tools.get(tool)
    if out is None:
        return ""
    if out.status != OK:
        return out.status
    r = ratio(res, tool)
    if r is None:
        return "ok"
    return f"{r:.3g}x" + ("*" if out.timing and out.timing.single_call else "")


def _goal_cells(res: TaskResult, tool: str = "dualtape") -> tuple[str, str]:
    goal = res.task.goal_of(tool)
    if goal is None:
        return "", ""
    value = goal_value(res, tool)
    if value is None:
        return goal.label, "n/a"
    met = "yes" if value <= goal.limit else "NO"
    shown = f"{value:.3g} us/op" if goal.kind == "us_per_op" else f"{value:.3g}x"
    return goal.label, f"{met} ({shown})"


def _goal_tools(tools: Sequence[str]) -> list[str]:
    """The columns that have goals: dualtape (eager) always, the replay column if run."""
    return ["dualtape"] + ([REPLAY] if REPLAY in tools else [])


def markdown_table(results: Sequence[TaskResult], tools: Sequence[str] = TOOLS) -> str:
    """The main table: one row per task, one ratio column per tool, then the goals."""
    goal_head = {"dualtape": ["dualtape goal", "met"], REPLAY: ["replay goal", "met"]}
    head = ["task", "baseline", "t(baseline)", *tools,
            *(h for t in _goal_tools(tools) for h in goal_head[t])]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for res in results:
        base = res.baseline
        t_base = fmt_time(base.timing.median) if base.timing else base.status
        goals = [c for t in _goal_tools(tools) for c in _goal_cells(res, t)]
        row = [res.task.title, res.task.baseline_name, t_base,
               *(_cell(res, t) for t in tools), *goals]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def _extras(res: TaskResult, tools: Sequence[str]) -> list[str]:
    lines: list[str] = []
    timed = {t: o for t, o in res.tools.items() if t in tools and o.timing is not None}
    if res.task.ops:
        per_op = ", ".join(f"{t} {o.timing.median / res.task.ops * 1e6:.3g}"
                           for t, o in timed.items())
        if res.baseline.timing:
            base = res.baseline.timing.median / res.task.ops * 1e6
            per_op = f"plain floats {base:.3g}; " + per_op
        lines.append(f"us per op: {per_op}")
    if res.function is not None and res.function.timing is not None and res.baseline.timing:
        tf = res.function.timing
        rf = tf.paired_ratio or tf.median / res.baseline.timing.median  # t(f) / t(baseline)
        parts = [f"t(f) = {fmt_time(tf.median)}", f"baseline {1.0 / rf:.3g}"]
        parts += [f"{t} {ratio(res, t) / rf:.3g}" for t in timed]
        lines.append("t(grad)/t(f): " + ", ".join(parts))
    infos = [(name, o.info) for name, o in [("baseline", res.baseline), *res.tools.items()]
             if o.info]
    for name, info in infos:
        lines.append(f"{name}: " + ", ".join(f"{k}={v}" for k, v in info.items()))
    lines += res.task.notes
    return lines


def _problems(results: Sequence[TaskResult]) -> list[str]:
    lines = []
    for res in results:
        for out in [res.baseline, *res.tools.values()]:
            if out.status != OK:
                lines.append(f"- `{res.task.name}` / {out.tool} **{out.status}**: {out.message}")
    return lines


def markdown(results: Sequence[TaskResult], meta: dict[str, Any],
             tools: Sequence[str] = TOOLS) -> str:
    """The whole Markdown report: table, per-row details, failures/skips, environment."""
    parts = ["# dualtape benchmarks", "",
             "Ratios are t(tool) / t(baseline), medians measured in the same run; "
             "lower is better, 1x = as fast as the hand-coded baseline. "
             "FAIL = wrong result or error (not timed); skip = tool or feature missing; "
             "* = too slow to repeat: one timed call after the checked one. "
             "`dualtape` is eager (traced on every call); `dualtape-replay` is `dt.compile` "
             "(recorded once in the untimed setup, the generated code replayed in the "
             "timed call).", "",
             markdown_table(results, tools), "", "## Details", ""]
    for res in results:
        extra = _extras(res, tools)
        if extra:
            parts.append(f"- `{res.task.name}`: " + "; ".join(extra))
    problems = _problems(results)
    parts += ["", "## Failures and skips", ""] + (problems or ["none"])
    parts += ["", "## Environment", "", "```json", json.dumps(meta, indent=2, default=str),
              "```", ""]
    return "\n".join(parts)


def _outcome(out: Outcome | None) -> dict[str, Any] | None:
    return out.as_dict() if out is not None else None


def to_json(results: Sequence[TaskResult], meta: dict[str, Any]) -> dict[str, Any]:
    """Everything measured, JSON-ready."""
    rows = []
    for res in results:
        goal, replay_goal = res.task.goal, res.task.replay_goal
        value, replay_value = goal_value(res), goal_value(res, REPLAY)
        rows.append({
            "name": res.task.name,
            "title": res.task.title,
            "baseline_name": res.task.baseline_name,
            "goal": goal.label if goal else None,
            "goal_value": value,
            "goal_met": (value <= goal.limit) if goal and value is not None else None,
            "replay_goal": replay_goal.label if replay_goal else None,
            "replay_goal_value": replay_value,
            "replay_goal_met": (replay_value <= replay_goal.limit)
            if replay_goal and replay_value is not None else None,
            "ops": res.task.ops or None,
            "baseline": _outcome(res.baseline),
            "function": _outcome(res.function),
            "tools": {t: _outcome(o) for t, o in res.tools.items()},
            "ratios": {t: ratio(res, t) for t in res.tools},
            "notes": res.task.notes,
        })
    return {"meta": meta, "results": rows}


def failed(results: Sequence[TaskResult]) -> bool:
    """True if any baseline or tool gave a wrong result or crashed."""
    return any(o.status == FAIL for r in results for o in [r.baseline, *r.tools.values()])
