"""Run tasks: check every implementation against the reference, then time the correct ones."""

from __future__ import annotations

import gc
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.peers import ToolUnavailable
from benchmarks.spec import Task, compare
from benchmarks.timing import Paired, Settings, Timing, measure

OK, FAIL, SKIP = "ok", "FAIL", "skip"


@dataclass
class Outcome:
    """What happened to one implementation (the baseline or a tool) of one task."""

    tool: str
    status: str
    message: str = ""
    timing: Timing | None = None
    info: dict[str, Any] = field(default_factory=dict)
    first_call: float | None = None  # seconds taken by the checked (first) call

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "tool": self.tool,
            "status": self.status,
            "message": self.message,
            "timing": self.timing.as_dict() if self.timing else None,
            "info": self.info,
            "first_call_s": self.first_call,
        }


@dataclass
class TaskResult:
    """The baseline, the plain-function timing (if any) and every tool of one task."""

    task: Task
    baseline: Outcome
    function: Outcome | None
    tools: dict[str, Outcome]


def _short_error(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" at {last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno}" if last else ""
    text = f"{type(exc).__name__}: {exc}".strip()
    if len(text) > 400:
        text = text[:400] + "..."
    return text + where


def check_one(task: Task, tool: str, build: Callable[[Any], Callable[[], Any]],
              problem: Any, expected: Any) -> tuple[Outcome, Callable[[], Any] | None]:
    """Build and call an implementation once; return its outcome and the timed callable.

    The callable is returned only when the result matched the reference. The
    outcome's ``info["check_call_s"]`` is how long that first (warm-up) call took.
    """
    try:
        call = build(problem)
    except ToolUnavailable as exc:
        return Outcome(tool, SKIP, str(exc)), None
    except Exception as exc:  # a build error is a failure of the tool, not of the suite
        return Outcome(tool, FAIL, "build: " + _short_error(exc)), None
    try:
        start = time.perf_counter()
        result = call()
        elapsed = time.perf_counter() - start
    except ToolUnavailable as exc:
        return Outcome(tool, SKIP, str(exc)), None
    except Exception as exc:
        return Outcome(tool, FAIL, "call: " + _short_error(exc)), None
    try:
        if task.check is not None:
            error = task.check(problem, result, expected)
        else:
            error = compare(result, expected, task.rtol)
    except Exception as exc:
        error = "check: " + _short_error(exc)
    if error:
        return Outcome(tool, FAIL, "wrong result: " + error), None
    info = task.info(problem, result) if task.info else {}
    return Outcome(tool, OK, info=info, first_call=elapsed), call


def run_task(task: Task, tools: Sequence[str], settings: Settings,
             time_it: bool = True, log: Callable[[str], None] | None = None) -> TaskResult:
    """Check (and unless ``time_it`` is false, time) the baseline and ``tools``."""
    # Collect once, then freeze what survives (the peers' modules): the collections
    # between samples then scan only the task's own objects, cheap and alike for all.
    gc.collect()
    gc.freeze()
    try:
        return _run_task(task, tools, settings, time_it, log or (lambda _msg: None))
    finally:
        gc.unfreeze()


def _run_task(task: Task, tools: Sequence[str], settings: Settings, time_it: bool,
              say: Callable[[str], None]) -> TaskResult:
    problem = task.setup()
    expected = task.reference(problem)

    pair: list[Paired] = []  # the checked baseline, once timed

    def run(tool: str, build: Callable[[Any], Callable[[], Any]], want: Any) -> Outcome:
        start = time.perf_counter()
        outcome, call = check_one(task, tool, build, problem, want)
        if call is not None and time_it:
            outcome.timing = measure(call, settings, outcome.first_call, *pair[:1])
            if tool == "baseline":
                pair.append(Paired(call, outcome.timing.number))
        shown = f"{outcome.timing.median * 1e3:.4g} ms" if outcome.timing else outcome.message
        say(f"  {tool:<15} {outcome.status:<4} {shown:<12} "
            f"[{time.perf_counter() - start:.2f} s with build and check]")
        return outcome

    say(f"{task.name}: {task.title}")
    want_baseline = expected
    if task.baseline_reference is not None:
        want_baseline = task.baseline_reference(problem)
    baseline = run("baseline", task.baseline, want_baseline)
    function = None
    if task.function is not None and time_it:
        call = task.function(problem)
        function = Outcome("f", OK, timing=measure(call, settings, None, *pair[:1]))
    outcomes = {tool: run(tool, task.impls[tool], expected) for tool in tools if tool in task.impls}
    return TaskResult(task, baseline, function, outcomes)


def run_all(tasks: Iterable[Task], tools: Sequence[str], settings: Settings,
            time_it: bool = True, log: Callable[[str], None] | None = None) -> list[TaskResult]:
    """``run_task`` over every task; a crash in a task's own setup is reported, not raised."""
    results = []
    for task in tasks:
        start = time.perf_counter()
        try:
            results.append(run_task(task, tools, settings, time_it, log))
        except Exception as exc:
            msg = "setup/reference: " + _short_error(exc)
            if log:
                log(f"{task.name}: {FAIL} {msg}")
            results.append(TaskResult(task, Outcome("baseline", FAIL, msg), None, {}))
        if log:
            log(f"  ({time.perf_counter() - start:.1f} s)")
    return results
