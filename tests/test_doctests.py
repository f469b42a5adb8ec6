"""Every docstring example in dualtape/ and solvers/ runs, via doctest.

A module that cannot be imported fails the test, unless what is missing is an optional
extra (matplotlib, tqdm, scikit-learn, threadpoolctl, the peers): then it is skipped.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import dualtape
import solvers

#: Top-level modules whose absence means "an optional extra is not installed".
OPTIONAL = {"matplotlib", "tqdm", "sklearn", "threadpoolctl", "jax", "jaxlib", "torch",
            "autograd", "graphviz", "pandas"}


def _modules() -> list[str]:
    names = []
    for pkg in (dualtape, solvers):
        names.append(pkg.__name__)
        for info in pkgutil.walk_packages(pkg.__path__, prefix=pkg.__name__ + "."):
            if info.name.rsplit(".", 1)[-1] == "__main__":  # running it would exit
                continue
            names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_doctests(name: str) -> None:
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] in OPTIONAL:
            pytest.skip(f"{name} needs the optional {exc.name}")
        raise
    printopts = np.get_printoptions()
    try:
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS |
                                 doctest.NORMALIZE_WHITESPACE, verbose=False)
    finally:
        np.set_printoptions(**printopts)
    assert result.failed == 0, f"{result.failed} of {result.attempted} doctests failed in {name}"
