"""Build a drop-in namespace: SciPy's own function for plain inputs, the rule otherwise."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .. import dispatch  # noqa: F401  (registers every rule)
from ..registry import FUNCTION_HANDLERS, Box
from ..rules.cases import SHIMS


def _traced(obj: Any) -> bool:
    if isinstance(obj, Box):
        return True
    if isinstance(obj, (list, tuple)):
        return any(_traced(o) for o in obj)
    return False


def drop_in(original: Callable) -> Callable:
    """``original`` for plain arguments; its registered dualtape handler for traced ones."""
    handler = FUNCTION_HANDLERS[original]

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _traced(args) or _traced(list(kwargs.values())):
            return handler(*args, **kwargs)
        return original(*args, **kwargs)

    return wrapper


def export(module_name: str, scipy_module: Any, namespace: dict) -> list[str]:
    """Fill ``namespace`` with ``scipy_module``'s public names, wrapping the shimmed ones."""
    names = [n for n in getattr(scipy_module, "__all__", dir(scipy_module))
             if not n.startswith("_")]
    for n in names:
        obj = getattr(scipy_module, n)
        namespace[n] = drop_in(obj) if SHIMS.get(obj) == module_name else obj
    return names
