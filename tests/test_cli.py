"""The `dualtape` command: trace, compare and demo, through cli.main (and one subprocess)."""

import argparse
import json
import subprocess
import sys
import types

import numpy as np
import pytest

import dualtape as dt
from dualtape.cli import build_parser, main


def run_cli(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_help_lists_the_commands(capsys):
    rc, out, _ = run_cli(capsys)
    assert rc == 0
    for name in ("demo", "trace", "compare"):
        assert name in out
    assert set(build_parser()._subparsers._group_actions[0].choices) >= {"demo", "trace",
                                                                         "compare"}


def test_python_dash_m():
    proc = subprocess.run([sys.executable, "-m", "dualtape", "trace"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "dy/dx2 = 1.71634" in proc.stdout


# ---- trace ----

def test_trace_textbook_literature_values(capsys):
    rc, out, _ = run_cli(capsys, "trace")
    assert rc == 0
    assert "y = 11.6521" in out and "dy/dx1 = 5.5\n" in out and "dy/dx2 = 1.71634" in out
    assert "Wengert list" in out and "Forward sweep" in out and "Reverse sweep" in out
    assert "v1   log(v-1)" in out and "agree" in out and "DISAGREE" not in out
    assert "by hand" in out


def test_trace_course_examples(capsys):
    rc, out, _ = run_cli(capsys, "trace", "course-f", "--at", "1,2")
    assert rc == 0 and "df/dx1 = sin(x2)/x1" in out and "dy/dx1 = 0.909297" in out
    rc, out, _ = run_cli(capsys, "trace", "course-g", "--numbering", "tape")
    assert rc == 0 and "dy/dx1 = 8\n" in out and "v1   x1" in out


def test_trace_user_function_and_dot(capsys, tmp_path, monkeypatch):
    (tmp_path / "usermod.py").write_text(
        "import numpy as np\n\ndef energy(x):\n    return np.sum(x ** 2) * np.exp(x[0])\n")
    monkeypatch.chdir(tmp_path)
    rc, out, _ = run_cli(capsys, "trace", "usermod:energy", "--at", "1,2", "--dot", "g.dot")
    assert rc == 0
    expected = dt.grad(lambda x: np.sum(x ** 2) * np.exp(x[0]))(np.array([1.0, 2.0]))
    assert f"dy/dx[0] = {expected[0]:.6g}" in out and f"dy/dx[1] = {expected[1]:.6g}" in out
    dot = (tmp_path / "g.dot").read_text()
    assert dot.startswith("digraph") and '"v0" -> "v1"' in dot
    rc, out, _ = run_cli(capsys, "trace", str(tmp_path / "usermod.py") + ":energy", "--at",
                         "1,2", "--vector")
    assert rc == 0 and "dy/dx[1]" in out


@pytest.mark.parametrize("argv,msg", [
    (["trace", "numpy:sin"], "--at"),
    (["trace", "nosuchmodule_xyz:f", "--at", "1"], "nosuchmodule_xyz"),
    (["trace", "numpy:no_such_fn", "--at", "1"], "no attribute"),
    (["trace", "justaname"], "module:function"),
])
def test_trace_errors(capsys, argv, msg):
    rc, _, err = run_cli(capsys, *argv)
    assert rc == 2 and msg in err


# ---- compare ----

def test_compare_writes_all_outputs(capsys, tmp_path):
    files = {k: str(tmp_path / f"out.{k}") for k in ("csv", "json", "png")}
    rc, out, _ = run_cli(capsys, "compare", "dense", "--n", "2,8,32", "--m", "3,12",
                         "--methods", "fwd,rev,auto,cstep", "--chunks", "1", "--repeats", "1",
                         "--min-time", "0", "--no-progress", "--csv", files["csv"],
                         "--json", files["json"], "--plot", files["png"])
    assert rc == 0
    assert "Time per Jacobian" in out and "Peak memory" in out and "Relative error" in out
    assert "crossover fwd vs rev" in out and "crossover fwd[c=1] vs rev[c=1]" in out
    assert "machine:" in out and "threads:" in out
    rows = open(files["csv"]).read().splitlines()
    assert len(rows) == 1 + 6 * 6
    data = json.loads(open(files["json"]).read())
    assert data["settings"]["ns"] == [2, 8, 32] and len(data["crossovers"]) == 2
    if "(plot skipped" not in out:
        assert open(files["png"], "rb").read(4) == b"\x89PNG"


def test_compare_user_function(capsys, tmp_path, monkeypatch):
    (tmp_path / "resid.py").write_text(
        "import numpy as np\n\ndef r(x):\n    return np.sin(x) * x.sum()\n\n"
        "def jac(x):\n    return np.diag(np.cos(x) * x.sum()) + np.sin(x)[:, None]\n")
    monkeypatch.chdir(tmp_path)
    rc, out, _ = run_cli(capsys, "compare", "resid:r", "--jac", "resid:jac", "--shape", "3",
                         "--shape", "6", "--methods", "rev,fd-cen", "--chunks", "",
                         "--repeats", "1", "--min-time", "0", "--no-progress", "--no-memory",
                         "--no-plot")
    assert rc == 0 and "exact (by hand)" in out
    err_table = out.split("Relative error")[1]
    assert "e-1" in err_table  # rev ~1e-16, fd-cen ~1e-11


def test_compare_unknown_family(capsys):
    rc, _, err = run_cli(capsys, "compare", "nope", "--no-progress", "--no-plot")
    assert rc == 2 and "unknown family" in err


# ---- demo ----

def _fake_train_module(calls):
    mod = types.ModuleType("dualtape.commands.train")
    mod.HELP = "fake"

    def add_arguments(p):
        p.add_argument("--epochs", type=int, default=50)
        p.add_argument("--out", default=None)

    def run(args):
        import os
        calls.append(args)
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "loss.png"), "wb") as fh:
            fh.write(b"\x89PNG fake")
        print("trained")
        return 0

    mod.add_arguments, mod.run = add_arguments, run
    return mod


def test_demo_runs_every_section_with_the_features(capsys, monkeypatch, tmp_path):
    import scipy.optimize
    from scipy.sparse import csr_array

    import solvers
    monkeypatch.setattr(dt, "sparse_jacobian", lambda f, x, sparsity="auto": csr_array(
        dt.jacfwd(f)(x)), raising=False)
    monkeypatch.setattr(solvers, "minimize", lambda f, x0, method=None: scipy.optimize.minimize(
        f, x0, jac=dt.grad(f), method=method), raising=False)
    calls = []
    monkeypatch.setitem(sys.modules, "dualtape.commands.train", _fake_train_module(calls))
    out_dir = str(tmp_path / "run")
    rc, out, _ = run_cli(capsys, "demo", "--quick", "--out", out_dir)
    assert rc == 0, out
    assert "skipped" not in out and "failed" not in out
    assert "y = 11.652, dy/dx1 = 5.500, dy/dx2 = 1.716" in out
    assert "the sparse result matches the dense one" in out
    assert "solvers.minimize, exact" in out and "scipy, finite differences" in out
    assert calls and calls[0].epochs == 3 and calls[0].out == out_dir and "trained" in out
    assert "loss.png" in out


def test_demo_skips_missing_features(capsys, monkeypatch):
    monkeypatch.delattr(dt, "sparse_jacobian", raising=False)
    monkeypatch.setitem(sys.modules, "dualtape.commands.train", None)  # import -> ImportError
    import solvers
    monkeypatch.delattr(solvers, "minimize", raising=False)
    args = argparse.Namespace(quick=True, out="unused")
    from dualtape.commands import demo
    for section in (demo.sparse, demo.optimisation, demo.training):
        section(args)
    out = capsys.readouterr().out
    assert out.count("(skipped:") == 3


def test_demo_reports_a_failing_section(capsys, monkeypatch):
    from dualtape.commands import demo

    def broken(args):
        raise RuntimeError("boom")

    monkeypatch.setattr(demo, "SECTIONS", (demo.wengert, broken))
    rc = demo.run(argparse.Namespace(quick=True, out="unused"))
    out = capsys.readouterr().out
    assert rc == 1 and "(failed: broken: RuntimeError: boom)" in out and "FAILED" in out


@pytest.mark.slow
def test_demo_quick_for_real(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "dualtape", "demo", "--quick"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "tour finished" in proc.stdout
