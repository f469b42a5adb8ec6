"""docs/coverage.md is generated from the registry; this fails when it is stale."""

import numpy as np

from dualtape.coverage import DOC_PATH, render, rows, uncovered
from dualtape.registry import FUNCTION_HANDLERS, UFUNC_HANDLERS


def test_coverage_table_is_not_stale():
    current = DOC_PATH.read_text() if DOC_PATH.exists() else ""
    assert current == render(), (
        "docs/coverage.md is stale (rules were added or changed): regenerate it with "
        "`python -m dualtape.coverage --write`")


def test_rows_describe_the_registry():
    rs = rows()
    names = {(r.namespace, r.name) for r in rs}
    assert ("numpy", "sin") in names and ("numpy.linalg", "cholesky") in names
    assert ("scipy.special", "erf") in names and ("scipy.linalg", "expm") in names
    for r in rs:
        if r.kind == "no derivative":
            assert not r.forward and not r.reverse
        else:
            assert r.forward and r.reverse, r
    assert len(rs) <= len(set(FUNCTION_HANDLERS) | set(UFUNC_HANDLERS))


def test_uncovered_list_excludes_covered_functions():
    covered = {(r.namespace, r.name) for r in rows()}
    for ns, names in uncovered().items():
        assert not covered & {(ns, n) for n in names}
    assert "fft" in uncovered().get("numpy.fft", []) or np.fft.fft in FUNCTION_HANDLERS
