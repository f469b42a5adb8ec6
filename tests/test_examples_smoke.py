"""Every script in examples/ runs to completion (exit 0) in its short mode.

The examples honour DUALTAPE_QUICK=1 (a short run). An example that needs an optional
extra which is not installed prints a line containing "needs the optional extra" and
exits; it is then skipped here, not failed. Each runs in a fresh temporary directory
(plots and files land there) with a per-example timeout.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TIMEOUT = int(os.environ.get("DUALTAPE_EXAMPLE_TIMEOUT", "180"))
MISSING_EXTRA = "needs the optional extra"


def _scripts() -> list[Path]:
    return sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


@pytest.mark.slow
@pytest.mark.parametrize("script", _scripts(), ids=lambda p: p.name)
def test_example_runs(script: Path, tmp_path: Path) -> None:
    env = dict(os.environ, DUALTAPE_QUICK="1", MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(filter(None, [str(EXAMPLES.parent),
                                                        os.environ.get("PYTHONPATH")])))
    try:
        proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{script.name} did not finish within {TIMEOUT} s with DUALTAPE_QUICK=1")
    output = proc.stdout + proc.stderr
    if MISSING_EXTRA in output:
        line = next(s for s in output.splitlines() if MISSING_EXTRA in s)
        pytest.skip(f"{script.name}: {line.strip()}")
    assert proc.returncode == 0, (f"{script.name} exited with {proc.returncode}\n"
                                  f"--- stdout (tail)\n{proc.stdout[-3000:]}\n"
                                  f"--- stderr (tail)\n{proc.stderr[-3000:]}")


def test_every_example_has_a_docstring() -> None:
    import ast
    for script in _scripts():
        doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")))
        assert doc and len(doc.split()) >= 8, f"{script.name} needs a docstring saying what " \
                                              f"it shows"
