"""dualtape.study comparisons: families, methods, measurement, crossover, results."""

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dualtape as dt
from dualtape.study import (
    Study,
    compare,
    compare_function,
    find_crossover,
    make_problem,
    parse_methods,
    user_problem,
)
from dualtape.study.measure import peak_memory, relative_error, time_call
from dualtape.study.methods import NotApplicable, build, complex_step, complex_step_ok

FAST = dict(repeats=1, min_time=0.0, progress=False)


# ---- families: the hand-written Jacobians are exact ----

@pytest.mark.parametrize("family", ["dense", "rosenbrock", "mlp"])
@given(n=st.integers(1, 40), m=st.integers(1, 12), cost=st.integers(0, 3))
def test_family_jacobians_are_exact(family, n, m, cost):
    p = make_problem(family, n, m, cost)
    J = p.jac(p.x)
    assert J.shape == (p.m, p.n) == np.shape(p.fn(p.x)) + (p.n,)
    np.testing.assert_allclose(J, dt.jacfwd(p.fn)(p.x).reshape(p.m, p.n), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(J, complex_step(p.fn, p.x), rtol=1e-10, atol=1e-12)


def test_family_sizes():
    assert (make_problem("dense", 7, 3).n, make_problem("dense", 7, 3).m) == (7, 3)
    assert make_problem("rosenbrock", 5, 9).m == 1 and make_problem("rosenbrock", 5, 9).n == 6
    mlp = make_problem("mlp", 101, 5)
    assert mlp.m == 5 and abs(mlp.n - 101) <= 10
    with pytest.raises(ValueError, match="unknown family"):
        make_problem("nope", 2, 2)


def test_user_problem_flattens_shapes():
    p = user_problem(lambda X: X @ X.T, (3, 2))
    assert (p.n, p.m) == (6, 9) and p.jac is None
    J = dt.jacrev(p.fn)(p.x)
    assert J.shape == (9, 6)


# ---- methods ----

@pytest.mark.parametrize("method,tol", [("fwd", 1e-13), ("rev", 1e-13), ("auto", 1e-13),
                                        ("fwd[c=2]", 1e-13), ("rev[c=3]", 1e-13),
                                        ("fd-fwd", 1e-6), ("fd-cen", 1e-9), ("cstep", 1e-13)])
def test_methods_agree_with_exact(method, tol):
    p = make_problem("dense", 9, 5, cost=2)
    J = build(method, p.fn, p.x, p.m)(p.x)
    assert J.shape == (5, 9)
    assert relative_error(J, p.jac(p.x)) < tol


def test_finite_differences_are_less_accurate_than_ad():
    p = make_problem("dense", 6, 4)
    ref = p.jac(p.x)
    errs = {m: relative_error(build(m, p.fn, p.x)(p.x), ref) for m in ("rev", "fd-fwd",
                                                                      "fd-cen")}
    assert errs["rev"] < 1e-14 < errs["fd-cen"] < errs["fd-fwd"] < 1e-5


def test_complex_step_detection():
    x = np.array([0.5, -1.0])
    assert complex_step_ok(np.sin, x)
    assert not complex_step_ok(np.abs, x)              # real output: the step is lost
    with pytest.raises(NotApplicable):
        build("cstep", np.abs, x)
    with pytest.raises(ValueError, match="unknown method"):
        build("magic", np.sin, x)


def test_parse_methods():
    assert parse_methods("fwd, rev") == ["fwd", "rev"]
    assert parse_methods("", [1, 8])[:7] == ["fwd", "rev", "auto", "fwd[c=1]", "rev[c=1]",
                                             "fwd[c=8]", "rev[c=8]"]


# ---- measurement ----

def test_time_call_takes_the_median_of_repeats():
    calls = []
    t = time_call(lambda: calls.append(1), repeats=5, min_time=1e-4)
    assert t.repeats == 5 and t.number >= 1 and len(calls) == 1 + 5 * t.number
    assert 0 < t.minimum <= t.median


def test_time_call_budget_stops_slow_calls():
    import time
    t = time_call(lambda: time.sleep(0.02), repeats=50, min_time=0.0, budget=0.05, first=0.02)
    assert 1 <= t.repeats <= 4 and t.median >= 0.015


def test_peak_memory_sees_numpy_buffers():
    assert peak_memory(lambda: np.ones(200_000)) >= 200_000 * 8
    assert peak_memory(lambda: None) < 10_000


def test_relative_error():
    assert relative_error([[1.0, 2.0]], [[1.0, 2.0]]) == 0.0
    assert relative_error([[1.0]], [[0.0]]) == 1.0           # absolute when ref is zero
    assert math.isclose(relative_error([2.0, 4.0], [2.0, 4.4]), 0.4 / 4.4)


# ---- crossover ----

def _times(t_fwd, t_rev, ns, ms):
    out = {}
    for n in ns:
        for m in ms:
            out[(n, m, "fwd")] = t_fwd(n, m)
            out[(n, m, "rev")] = t_rev(n, m)
    return out


def test_crossover_of_pass_counting_model():
    # forward costs n passes of 1, reverse m sweeps of 3: equal at n/m = 3
    times = _times(lambda n, m: n * 1.0, lambda n, m: m * 3.0, [1, 4, 16, 64, 256], [2, 8, 32])
    c = find_crossover(times)
    assert math.isclose(c.ratio, 3.0, rel_tol=1e-9)
    assert math.isclose(c.fit_ratio, 3.0, rel_tol=1e-9)
    assert [m for m, _ in c.along_n] == [2, 8, 32]
    assert all(math.isclose(n_star, 3 * m) for m, n_star in c.along_n)
    assert "n/m = 3" in c.describe()


def test_crossover_absent():
    times = _times(lambda n, m: 1.0, lambda n, m: 2.0, [1, 10], [1, 10])
    c = find_crossover(times)
    assert c.ratio is None and "no crossing" in c.describe()
    assert any("forward faster throughout" in note for note in c.notes)


# ---- whole studies ----

def test_compare_dense_small_grid():
    s = compare("dense", ns=[2, 16], ms=[3, 12], methods=["fwd", "rev", "auto", "cstep",
                                                          "fd-cen"], **FAST)
    assert len(s.records) == 4 * 5 and s.points == [(2, 3), (16, 3), (2, 12), (16, 12)]
    assert all(r.status == "ok" for r in s.records)
    assert all(r.rel_error < 1e-12 for r in s.records if r.method != "fd-cen")
    assert all(r.peak_bytes is not None and r.time > 0 for r in s.records)
    assert s.reference == "exact (by hand)"
    assert set(s.times()) == {(r.n, r.m, r.method) for r in s.records}
    text = s.report()
    assert "Time per Jacobian" in text and "crossover fwd vs rev" in text
    assert "numpy" in text and "threads" in text


def test_compare_rosenbrock_has_one_output():
    s = compare("rosenbrock", ns=[4, 8], ms=[5, 6], methods=["rev"], memory=False, **FAST)
    assert {r.m for r in s.records} == {1}


def test_compare_function_reference_and_failures():
    def f(x):
        return np.abs(x) * np.sin(x)

    s = compare_function(f, [(3,), (2, 2)], methods=["fwd", "cstep"], memory=False, **FAST)
    assert "forward mode" in s.reference
    by = {(r.n, r.method): r for r in s.records}
    assert by[(4, "fwd")].status == "ok" and by[(4, "fwd")].rel_error == 0.0
    # complex step runs (the output is complex) but np.abs drops the step: visibly wrong
    assert by[(3, "cstep")].status == "ok" and by[(3, "cstep")].rel_error > 0.1
    s = compare_function(np.abs, [(3,)], methods=["cstep"], memory=False, **FAST)
    assert s.records[0].status == "n/a"

    norule = dt.primitive(lambda v: v * 2.0, name="norule")   # no derivative rules at all

    def broken(x):
        return norule(x) if x.size > 2 else x

    s = compare_function(broken, [(2,), (3,)], methods=["fwd", "fd-fwd"], memory=False,
                         **FAST)
    assert [(r.n, r.method) for r in s.records] == [(2, "fwd"), (2, "fd-fwd"), (3, "fwd"),
                                                     (3, "fd-fwd")]
    assert [r.status for r in s.records[:2]] == ["ok", "ok"]
    assert s.records[2].status.startswith("error: NoRuleError")
    assert s.records[3].status == "ok" and s.records[3].rel_error is None   # no reference
    assert "norule" in s.errors()[0] and "Failures:" in s.report()


def test_study_files_roundtrip(tmp_path):
    s = compare("dense", ns=[2, 4], ms=[2], methods=["fwd", "rev"], memory=False, **FAST)
    s.to_csv(tmp_path / "s.csv")
    s.to_json(tmp_path / "s.json")
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert lines[0].startswith("problem,n,m,method,status,time") and len(lines) == 5
    data = json.loads((tmp_path / "s.json").read_text())
    assert {"machine", "settings", "records", "crossovers"} <= set(data)
    back = Study.from_json(tmp_path / "s.json")
    assert back.records == s.records and back.table() == s.table()


def test_plot(tmp_path):
    pytest.importorskip("matplotlib")
    from dualtape.study import plot_study
    s = compare("dense", ns=[2, 4, 8], ms=[2, 3], methods=["fwd", "rev"], memory=False,
                **FAST)
    path = plot_study(s, str(tmp_path / "p.png"))
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG" and path.endswith("p.png")
    single = compare("dense", ns=[2], ms=[2], methods=["fwd"], memory=False, **FAST)
    with pytest.raises(ValueError, match="single point"):
        plot_study(single, str(tmp_path / "q.png"))


def test_progress_plain_lines():
    import io

    from dualtape.study.progress import Progress
    out = io.StringIO()
    with Progress(3, "t", stream=out, use_tqdm=False) as p:
        for i in range(3):
            p.step(f"s{i}")
    assert out.getvalue().splitlines() == ["t [1/3] s0", "t [2/3] s1", "t [3/3] s2"]
    silent = io.StringIO()
    with Progress(1, "t", stream=silent, enabled=False) as p:
        p.step("x")
    assert silent.getvalue() == ""
