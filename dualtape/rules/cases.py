"""Test cases and notes for NumPy/SciPy functions that are *derived* (handlers built on
primitives) rather than primitives themselves.

Primitives carry ``registry.sample`` entries; a handler such as ``np.linalg.norm`` or
``np.einsum`` has no rule of its own, so it carries ``example`` entries here instead.
``tests/coverage/test_cov_functions.py`` runs every example in both modes against finite
differences, and ``dualtape.coverage`` builds docs/coverage.md from the same tables, so
a function cannot be listed as covered without being exercised.
"""

from __future__ import annotations

from typing import Any

#: function -> list of (arg_specs, kwargs), same spec format as ``registry.sample``.
EXAMPLES: dict[Any, list[tuple[tuple, dict]]] = {}
#: function -> one-line note for the coverage table (conventions, restrictions).
NOTES: dict[Any, str] = {}
#: function -> the import to use when SciPy's own function cannot see traced values.
SHIMS: dict[Any, str] = {}
#: function -> the primitive its handler calls (the handler only normalises arguments).
BACKED_BY: dict[Any, Any] = {}


def example(func: Any, *arg_specs: Any, **kwargs: Any) -> None:
    """Attach a test case to a NumPy/SciPy function (see ``registry.sample`` for specs).

    ``check_order`` (default 2) caps the order checked, as for samples.
    """
    EXAMPLES.setdefault(func, []).append((arg_specs, kwargs))


def note(text: str, *funcs: Any) -> None:
    """Record a coverage-table note (a convention or restriction) for ``funcs``."""
    for f in funcs:
        NOTES[f] = text


def backed_by(prim: Any, *funcs: Any) -> None:
    """Record that the handlers of ``funcs`` are argument adapters around ``prim``: the
    coverage table then shows ``prim``'s rule kind instead of 'derived'."""
    for f in funcs:
        BACKED_BY[f] = prim


def shim(module: str, *funcs: Any) -> None:
    """Mark SciPy functions that convert their inputs with np.asarray (so NumPy's dispatch
    never sees the traced value) and must be imported from ``module`` instead."""
    for f in funcs:
        SHIMS[f] = module
