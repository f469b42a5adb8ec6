"""Smoke test of the speed suite: correctness checks only, tiny sizes, never timings.

Every baseline must match its independent reference; every dualtape implementation,
eager and replayed (``dt.compile``), must match it too (skipped until the dualtape core
exists). The hand-written MLP
backward pass is checked against central differences. No peer is imported.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.peers import REPLAY
from benchmarks.report import markdown, markdown_table
from benchmarks.runner import FAIL, OK, SKIP, Outcome, TaskResult, check_one, run_task
from benchmarks.spec import Goal, Task, compare, select
from benchmarks.tasks import all_tasks
from benchmarks.tasks.mlp_numpy import Net, init_params, loss_and_grads, loss_generic, make_batch
from benchmarks.timing import Settings, Timing, measure

ROOT = Path(__file__).resolve().parents[1]
TASKS = all_tasks("tiny")
try:
    import dualtape

    _WHY = "dualtape core not importable yet (no dualtape.grad)"
    _CORE = hasattr(dualtape, "grad")
except ImportError as exc:  # the baselines are still checked without dualtape
    _WHY, _CORE = f"dualtape not importable: {exc}", False
needs_core = pytest.mark.skipif(not _CORE, reason=_WHY)


def _expected(task: Task, problem: object, baseline: bool) -> object:
    if baseline and task.baseline_reference is not None:
        return task.baseline_reference(problem)
    return task.reference(problem)


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_baseline_matches_reference(task: Task) -> None:
    problem = task.setup()
    outcome, call = check_one(task, "baseline", task.baseline, problem,
                              _expected(task, problem, baseline=True))
    assert outcome.status == OK, outcome.message
    assert call is not None


@needs_core
@pytest.mark.parametrize("task", [t for t in TASKS if "dualtape" in t.impls],
                         ids=lambda t: t.name)
def test_dualtape_matches_reference(task: Task) -> None:
    problem = task.setup()
    outcome, _ = check_one(task, "dualtape", task.impls["dualtape"], problem,
                           _expected(task, problem, baseline=False))
    if outcome.status == SKIP:
        pytest.skip(outcome.message)
    assert outcome.status == OK, outcome.message


@needs_core
@pytest.mark.parametrize("task", [t for t in TASKS if REPLAY in t.impls], ids=lambda t: t.name)
def test_replayed_matches_reference(task: Task) -> None:
    """dt.compile in the builder (recorded elsewhere), replayed at the row's input."""
    problem = task.setup()
    outcome, _ = check_one(task, REPLAY, task.impls[REPLAY], problem,
                           _expected(task, problem, baseline=False))
    if outcome.status == SKIP:
        pytest.skip(outcome.message)
    assert outcome.status == OK, outcome.message


def test_only_replay_selects_the_replayed_rows() -> None:
    chosen = select(TASKS, "replay")
    assert chosen and all(REPLAY in t.impls for t in chosen)
    assert {t.name for t in chosen} >= {"scalar-chain", "rosen-grad-n10", "mlp-course",
                                        "lbfgsb-n10"}
    assert "course-seed-object" not in {t.name for t in chosen}


@pytest.mark.parametrize("net", [Net((7, 5, 3), True), Net((7, 4, 4, 3), False)],
                         ids=["batchnorm", "plain"])
def test_mlp_baseline_gradients_match_finite_differences(net: Net) -> None:
    params = init_params(net, seed=3)
    X, Y, _ = make_batch(net, 6, seed=4)
    loss, grads = loss_and_grads(params, X, Y, net)
    assert loss == pytest.approx(loss_generic(params, X, Y, net), rel=1e-12)
    h = 1e-6
    for name, p in params.items():
        numeric = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + h
            up = loss_generic(params, X, Y, net)
            p[idx] = old - h
            down = loss_generic(params, X, Y, net)
            p[idx] = old
            numeric[idx] = (up - down) / (2 * h)
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-5, atol=1e-8, err_msg=name)


def test_wrong_result_is_fail_and_not_timed() -> None:
    task = Task(
        name="toy", title="toy", baseline_name="exact", setup=lambda: 2.0,
        reference=lambda x: 2 * x, baseline=lambda x: (lambda: 2 * x),
        impls={"dualtape": lambda x: (lambda: 2 * x + 1e-3)}, goal=Goal(3.0),
    )
    res = run_task(task, ["dualtape"], Settings(samples=1, min_time=1e-4, budget=0.05))
    assert res.baseline.status == OK and res.baseline.timing is not None
    assert res.tools["dualtape"].status == FAIL
    assert res.tools["dualtape"].timing is None
    assert "wrong result" in res.tools["dualtape"].message
    row = markdown_table([res], ["dualtape"]).splitlines()[-1]
    assert "FAIL" in row and "<= 3x" in row


def test_report_shows_ratio_skip_and_goal() -> None:
    task = Task(name="t", title="t", baseline_name="b", setup=lambda: None,
                reference=lambda p: None, baseline=lambda p: (lambda: None),
                impls={}, goal=Goal(2.0))
    res = TaskResult(
        task, Outcome("baseline", OK, timing=Timing(1e-3, 1e-3, 1)), None,
        {"dualtape": Outcome("dualtape", OK, timing=Timing(3e-3, 3e-3, 1)),
         "torch": Outcome("torch", SKIP, "torch not installed")},
    )
    text = markdown([res], {"cpu": "x"}, ["dualtape", "torch"])
    assert "| 3x | skip | <= 2x | NO (3x) |" in text
    assert "torch not installed" in text


def test_report_has_replay_goal_column() -> None:
    task = Task(name="t", title="t", baseline_name="b", setup=lambda: None,
                reference=lambda p: None, baseline=lambda p: (lambda: None),
                impls={}, goal=Goal(6.0), replay_goal=Goal(2.0))
    res = TaskResult(
        task, Outcome("baseline", OK, timing=Timing(1e-3, 1e-3, 1)), None,
        {"dualtape": Outcome("dualtape", OK, timing=Timing(3e-3, 3e-3, 1)),
         REPLAY: Outcome(REPLAY, OK, timing=Timing(1.5e-3, 1.5e-3, 1))},
    )
    table = markdown_table([res], ["dualtape", REPLAY])
    assert "| dualtape goal | met | replay goal | met |" in table
    assert "| 3x | 1.5x | <= 6x | yes (3x) | <= 2x | yes (1.5x) |" in table
    assert "replay goal" not in markdown_table([res], ["dualtape"])


def test_compare_is_norm_relative() -> None:
    assert compare([1.0, 2.0], np.array([1.0, 2.0 + 1e-12]), 1e-10) is None
    assert "max abs error" in compare([1.0, 2.1], np.array([1.0, 2.0]), 1e-10)
    assert "shape" in compare([1.0], np.array([1.0, 2.0]), 1e-10)


def test_measure_reports_per_call_time() -> None:
    t = measure(lambda: sum(range(100)), Settings(samples=3, min_time=1e-4, budget=1.0))
    assert t.number >= 1 and len(t.samples) == 3
    assert 0 < t.minimum <= t.median


def test_cli_lists_tasks() -> None:
    out = subprocess.run([sys.executable, "-m", "benchmarks", "--list"], cwd=ROOT,
                         capture_output=True, text=True, check=True, timeout=120).stdout
    names = {line.split()[0] for line in out.splitlines() if line.strip()}
    assert {"scalar-chain", "rosen-grad-n10", "rosen-grad-n10000", "rosen-grad-n1000000",
            "mlp-course", "newton-cg-n100"} <= names
