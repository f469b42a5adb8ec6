"""The coverage table (docs/coverage.md), generated from the registry, never hand-kept.

Every NumPy/SciPy callable routed to dualtape is listed with how it is differentiated:

* ``rule``: a primitive with its own jvp/vjp (checked by tests/test_registry_rules.py),
* ``derived``: a handler written with NumPy calls on primitives (checked from its
  ``example`` entries by tests/coverage/test_cov_functions.py),
* ``no derivative``: predicates and piecewise-constant functions; they return plain
  arrays (zero derivative) so Python control flow works.

Run ``python -m dualtape.coverage --write`` after adding rules; a test fails when the
file is stale.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.linalg
import scipy.special

from . import dispatch  # noqa: F401  (registers every rule)
from .registry import FUNCTION_HANDLERS, UFUNC_HANDLERS, Primitive
from .rules.cases import BACKED_BY, NOTES, SHIMS

NAMESPACES = (("numpy", np), ("numpy.linalg", np.linalg), ("numpy.fft", np.fft),
              ("scipy.special", scipy.special), ("scipy.linalg", scipy.linalg))
DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "coverage.md"


@dataclass(frozen=True)
class Row:
    namespace: str
    name: str
    kind: str
    forward: bool
    reverse: bool
    note: str


def public_name(func: Any) -> tuple[str, str]:
    """(namespace, name) under which ``func`` is public, e.g. ('numpy.linalg', 'solve')."""
    name = getattr(func, "__name__", repr(func))
    for ns_name, ns in NAMESPACES:
        if getattr(ns, name, None) is func:
            return ns_name, name
    for ns_name, ns in NAMESPACES:  # aliases (np.abs is np.absolute, scipy.special.psi...)
        for attr in dir(ns):
            if not attr.startswith("_") and getattr(ns, attr, None) is func:
                return ns_name, attr
    return (getattr(func, "__module__", "") or "?"), name


def _aliases(ns: Any, func: Any, name: str) -> list[str]:
    return sorted(a for a in dir(ns) if a != name and not a.startswith("_")
                  and getattr(ns, a, None) is func)


def _is_builtin(handler: Any) -> bool:
    return not getattr(handler, "user", False)


def classify(handler: Any) -> tuple[str, bool, bool]:
    """(kind, forward, reverse) of a dispatch-table handler."""
    if getattr(handler, "nondifferentiable", False):
        return "no derivative", False, False
    if isinstance(handler, Primitive):
        return f"rule ({handler.kind})", handler.jvp is not None, handler.vjp is not None
    return "derived", True, True


def derived_functions() -> list[Any]:
    """Callables whose handler is built on primitives (they need ``example`` entries)."""
    return [f for table in (FUNCTION_HANDLERS, UFUNC_HANDLERS) for f, h in table.items()
            if _is_builtin(h) and classify(h)[0] == "derived"]


def rows() -> list[Row]:
    out = []
    for table in (UFUNC_HANDLERS, FUNCTION_HANDLERS):
        for func, handler in table.items():
            if not _is_builtin(handler):
                continue
            ns, name = public_name(func)
            kind, fwd, rev = classify(BACKED_BY.get(func, handler))
            note = NOTES.get(func, "")
            if func in SHIMS:
                note = (f"SciPy converts inputs with np.asarray: import it from "
                        f"`{SHIMS[func]}`. " + note).strip()
            ns_obj = dict(NAMESPACES).get(ns)
            aliases = _aliases(ns_obj, func, name) if ns_obj is not None else []
            if aliases:
                note = (f"alias: {', '.join(aliases)}. " + note).strip()
            out.append(Row(ns, name, kind, fwd, rev, note))
    order = {n: i for i, (n, _) in enumerate(NAMESPACES)}
    return sorted(set(out), key=lambda r: (order.get(r.namespace, 99), r.namespace, r.name))


def uncovered() -> dict[str, list[str]]:
    """Public NumPy functions/ufuncs and SciPy special ufuncs that have no handler."""
    from numpy.testing.overrides import (
        get_overridable_numpy_array_functions,
        get_overridable_numpy_ufuncs,
    )
    known = set(FUNCTION_HANDLERS) | set(UFUNC_HANDLERS)
    covered = {(r.namespace, r.name) for r in rows()}
    out: dict[str, list[str]] = {}
    candidates = list(get_overridable_numpy_array_functions()) + list(
        get_overridable_numpy_ufuncs())
    candidates += [getattr(scipy.special, a) for a in dir(scipy.special)
                   if isinstance(getattr(scipy.special, a), np.ufunc)]
    for func in candidates:
        if func in known:
            continue
        ns, name = public_name(func)
        if ns in dict(NAMESPACES) and not name.startswith("_") and (ns, name) not in covered:
            out.setdefault(ns, []).append(name)
    order = [ns for ns, _ in NAMESPACES]
    return {ns: sorted(set(out[ns])) for ns in order if ns in out}


def _yes(b: bool) -> str:
    return "yes" if b else "-"


def render() -> str:
    rs = rows()
    n_diff = sum(1 for r in rs if r.kind != "no derivative")
    lines = [
        "# Coverage: NumPy and SciPy functions dualtape differentiates",
        "",
        "Generated by `python -m dualtape.coverage --write` from the registry; do not edit.",
        "`rule`: a primitive with its own forward and reverse rules (kind in brackets), called",
        "directly or through a handler that only adapts NumPy's signature;",
        "`derived`: written in NumPy on top of primitives, so both modes follow;",
        "`no derivative`: returns plain arrays (predicates, rounding, index queries).",
        "Conventions at kinks, ties and degenerate points: [conventions.md](conventions.md).",
        "",
        f"**{n_diff} differentiable functions** ({sum(r.kind.startswith('rule') for r in rs)} "
        f"with rules, {sum(r.kind == 'derived' for r in rs)} derived) and "
        f"{len(rs) - n_diff} without derivative.",
        "",
    ]
    for ns, _ in NAMESPACES:
        sub = [r for r in rs if r.namespace == ns]
        if not sub:
            continue
        lines += [f"## {ns}", "", "| function | kind | forward | reverse | notes |",
                  "|---|---|---|---|---|"]
        lines += [f"| `{r.name}` | {r.kind} | {_yes(r.forward)} | {_yes(r.reverse)} | "
                  f"{r.note} |" for r in sub]
        lines.append("")
    lines += ["## Not covered yet", "",
              "Calling these on a traced value raises `NoRuleError` (never a silent wrong "
              "derivative).", ""]
    for ns, names in uncovered().items():
        lines += [f"**{ns}** ({len(names)}): " + ", ".join(f"`{n}`" for n in names), ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = render()
    if "--write" in argv:
        DOC_PATH.write_text(text)
        print(f"wrote {DOC_PATH}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
