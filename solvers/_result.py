"""Results: scipy's OptimizeResult, with x back in the structure of x0.

``res.x`` is the solution shaped like ``x0`` (the same dict/list/array layout,
float64 leaves), ``res.x_flat`` the flat float64 vector scipy worked on, and
``res.ad_calls`` how many traced evaluations each kind of derivative took;
``res.compiled`` and ``res.compile_error`` report the ``compile=`` option.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from ._pytree import Unravel
from ._replay import AUTO_AFTER

__all__ = ["compile_report", "structured_result"]


def structured_result(res: Any, unravel: Unravel, ad_calls: dict[str, int]) -> OptimizeResult:
    """Return ``res`` (an OptimizeResult) with ``x`` as a pytree and ``x_flat`` added.

    >>> import numpy as np
    >>> from solvers._pytree import ravel_pytree
    >>> _, unravel = ravel_pytree({"a": 1.0, "b": np.zeros(2)})
    >>> r = structured_result(OptimizeResult(x=np.array([1.0, 2.0, 3.0])), unravel, {})
    >>> r.x["b"], r.x_flat
    (array([2., 3.]), array([1., 2., 3.]))
    """
    flat = np.asarray(res.x, dtype=np.float64).ravel()
    res.x_flat = flat
    res.x = unravel(flat.copy()) if not unravel.trivial else flat
    res.ad_calls = dict(ad_calls)
    return res


def compile_report(res: Any, replays: Sequence[Any]) -> Any:
    """Add ``compiled``, ``compile_error`` and ``ad_calls["recordings"]`` to ``res``.

    ``replays`` holds the solve's :class:`~solvers._replay.Replay` objects (None where a
    function was not compiled). ``compiled`` is True when there was at least one and
    every one was recorded and replayed to the end; ``compile_error`` joins the reasons
    of those that were not, each prefixed with the function's role (None if none):
    a fallback to eager, or a solve that ended before ``compile="auto"`` recorded.

    >>> r = compile_report(OptimizeResult(ad_calls={}), [None])
    >>> r.compiled, r.compile_error, r.ad_calls
    (False, None, {'recordings': 0})
    """
    used = [r for r in replays if r is not None]
    res.compiled = bool(used) and all(r.active and r.used for r in used)
    reasons = [f"{r.what}: {r.reason}" for r in used if r.reason]
    reasons += [f"{r.what}: not recorded: the solve asked for fewer than {AUTO_AFTER} "
                f"derivatives, which eager differentiation serves faster (compile=True "
                f"records at once)" for r in used if r.active and not r.used]
    res.compile_error = "; ".join(reasons) if reasons else None
    calls = getattr(res, "ad_calls", None)
    if isinstance(calls, dict):
        calls["recordings"] = sum(r.recordings for r in used)
    return res
