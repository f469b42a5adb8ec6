"""The data subpackage: doctest examples run, and it stays independent of the core."""

from __future__ import annotations

import ast
import doctest
import importlib
import pathlib

import pytest

import dualtape.data

PACKAGE_DIR = pathlib.Path(dualtape.data.__file__).parent
MODULES = ["idx", "loader", "mnist", "digits", "errors"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    if name == "digits":
        pytest.importorskip("sklearn.datasets", reason="scikit-learn is not installed")
    module = importlib.import_module(f"dualtape.data.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    if name != "errors":
        assert result.attempted > 0


@pytest.mark.parametrize("path", sorted(PACKAGE_DIR.glob("*.py")), ids=lambda p: p.name)
def test_imports_nothing_else_from_dualtape(path):
    # The autodiff core is written concurrently: data must load without it.
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level <= 1, f"{path.name}: relative import leaves dualtape.data"
            if node.level == 0 and node.module:
                assert not node.module.startswith("dualtape") or node.module.startswith(
                    "dualtape.data"
                ), f"{path.name} imports {node.module}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                assert not alias.name.startswith("dualtape") or alias.name.startswith(
                    "dualtape.data"
                ), f"{path.name} imports {alias.name}"


def test_public_api():
    assert set(dualtape.data.__all__) <= set(dir(dualtape.data))
    assert issubclass(dualtape.data.DataError, ValueError)
    assert issubclass(dualtape.data.MissingDependencyError, ImportError)
