"""SciPy functions that are not ufuncs convert their inputs with np.asarray, so NumPy's
dispatch never sees a traced value. Their rules are registered here (so the coverage
table lists them) and reached through drop-in modules: ``dualtape.scipy.linalg`` and
``dualtape.scipy.special``. ``caller_hint`` names the SciPy function in the conversion
error and the import to change.
"""

from __future__ import annotations

import sys

from .cases import SHIMS


def caller_hint() -> str:
    """If a SciPy function is converting a traced value, say which and what to import."""
    frame, outer = sys._getframe(2), None
    while frame is not None:
        mod = frame.f_globals.get("__name__", "")
        if mod.startswith("scipy."):
            outer = frame
        elif outer is not None and not mod.startswith("numpy"):
            break
        frame = frame.f_back
    if outer is None:
        return ""
    parts = outer.f_globals["__name__"].split(".")
    public = ".".join(p for p in parts if not p.startswith("_")) if parts else "scipy"
    name = f"{public}.{outer.f_code.co_name}"
    shim = next((m for f, m in SHIMS.items() if f"{m.split('.', 1)[1]}.{f.__name__}" == name),
                None)
    fix = (f"use the drop-in `from {shim} import {outer.f_code.co_name}`" if shim else
           "no drop-in exists yet: write it with NumPy functions or register a rule")
    return (f"\n{name} converts its input with np.asarray (SciPy functions other than ufuncs "
            f"do not use NumPy's dispatch), so the traced value cannot reach a rule: {fix}.")
