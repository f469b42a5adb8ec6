"""The examples in docs/reliability.md run and print what the page says."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import numpy as np

PAGE = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
FENCE = re.compile(r"^```pycon\n(.*?)^```", re.S | re.M)


def test_pycon_examples_on_the_reliability_page():
    blocks = FENCE.findall(PAGE.read_text(encoding="utf-8"))
    assert len(blocks) >= 3
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    globs: dict = {}
    with np.errstate(all="ignore"):
        for i, body in enumerate(blocks):
            test = parser.get_doctest(body, globs, f"reliability.md[{i}]", str(PAGE), 0)
            runner.run(test, clear_globs=False)
            globs.update(test.globs)
    assert runner.summarize(verbose=False).failed == 0
