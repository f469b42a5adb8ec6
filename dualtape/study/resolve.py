"""Finding a user's function from the command line: ``package.module:function`` or
``path/to/file.py:function``.

>>> load_callable("numpy:sin")(0.0)
np.float64(0.0)
>>> parse_numbers("2, 5")
[2.0, 5.0]
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable


def load_callable(spec: str) -> Callable:
    """The callable named by ``"module:function"`` (dots allowed after the colon).

    The module part may also be the path of a ``.py`` file. The current directory is
    searched first, so ``mymodel:f`` finds ``./mymodel.py``.

    Raises:
        ValueError: the spec has no colon, or names nothing callable.
    """
    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"expected 'module:function' (or 'file.py:function'), got {spec!r}")
    if module_name.endswith(".py") or os.sep in module_name:
        path = os.path.abspath(module_name)
        name = os.path.splitext(os.path.basename(path))[0]
        loader_spec = importlib.util.spec_from_file_location(name, path)
        if loader_spec is None or not os.path.exists(path):
            raise ValueError(f"no such file: {module_name}")
        module = importlib.util.module_from_spec(loader_spec)
        loader_spec.loader.exec_module(module)
    else:
        if os.getcwd() not in sys.path and "" not in sys.path:
            sys.path.insert(0, os.getcwd())
        module = importlib.import_module(module_name)
    obj = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"{module_name} has no attribute {attr!r}") from None
    if not callable(obj):
        raise ValueError(f"{spec} is not callable")
    return obj


def parse_numbers(text: str) -> list[float]:
    """``"2,5"`` or ``"2 5"`` -> ``[2.0, 5.0]``."""
    parts = text.replace(",", " ").split()
    if not parts:
        raise ValueError("expected numbers, e.g. 2,5")
    return [float(p) for p in parts]


def parse_ints(text: str) -> list[int]:
    """``"10,100,1000"`` -> ``[10, 100, 1000]``."""
    return [int(float(p)) for p in text.replace(",", " ").split()]
