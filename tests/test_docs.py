"""The examples in the README and the user documentation run and print what they say.

``pycon`` blocks are run as doctests; ``python`` blocks of the README are executed.
Documents written by others are included when they exist (their ``pycon`` blocks only).
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ["README.md", "docs/user-guide.md", "docs/studying-modes.md", "docs/index.md",
        "docs/replay.md", "docs/distributed.md"]
FENCE = re.compile(r"^```(pycon|python)\n(.*?)^```", re.S | re.M)


def _blocks(name: str, kind: str) -> list[str]:
    path = ROOT / name
    if not path.exists():
        return []
    return [body for k, body in FENCE.findall(path.read_text(encoding="utf-8")) if k == kind]


@pytest.mark.parametrize("name", DOCS)
def test_pycon_blocks(name: str, tmp_path, monkeypatch) -> None:
    blocks = _blocks(name, "pycon")
    if not blocks:
        pytest.skip(f"{name}: no pycon examples")
    monkeypatch.chdir(tmp_path)
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    globs: dict = {}
    opts = np.get_printoptions()
    try:
        for i, body in enumerate(blocks):
            test = parser.get_doctest(body, globs, f"{name}[{i}]", name, 0)
            runner.run(test, clear_globs=False)
            globs.update(test.globs)  # DocTest copies its globals; carry them on
    finally:
        np.set_printoptions(**opts)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} example(s) failed in {name}"


def test_readme_python_blocks(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DUALTAPE_QUICK", "1")
    for i, body in enumerate(_blocks("README.md", "python")):
        exec(compile(body, f"README.md[python {i}]", "exec"), {"__name__": "readme"})
