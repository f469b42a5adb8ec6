"""Callbacks: count iterations for error messages, and hand the user x in x0's structure.

scipy calls a callback either as ``callback(xk)`` or, when its only parameter is
named ``intermediate_result``, as ``callback(intermediate_result=OptimizeResult)``
(``trust-constr`` also has ``callback(xk, state)``; ``root`` uses ``callback(x, f)``).
:func:`tracking_callback` builds the one callback given to scipy: it advances the
iteration counter of the functions' error contexts, then calls the user's callback
in the user's own style with ``x`` rebuilt into the structure of ``x0``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from ._errors import EvalContext
from ._pytree import Unravel

__all__ = ["tracking_callback"]

#: Methods whose callback scipy does not wrap: they call ``callback(xk)``.
_PLAIN_CALLBACK = ("tnc", "cobyla", "cobyqa")


def _new_style(callback: Callable) -> bool:
    try:
        return set(inspect.signature(callback).parameters) == {"intermediate_result"}
    except (TypeError, ValueError):  # builtins without a signature
        return False


def _with_tree(res: OptimizeResult, unravel: Unravel) -> OptimizeResult:
    if unravel.trivial:
        return res
    out = OptimizeResult(res)
    out["x_flat"] = np.copy(res.x)
    out["x"] = unravel(np.copy(res.x))
    return out


def tracking_callback(user: Callable | None, method: str, unravel: Unravel,
                      contexts: Sequence[EvalContext]) -> Callable:
    """The callback to give scipy for ``method`` (lower-case).

    Args:
        user: the user's callback, or None.
        method: scipy method name, lower case.
        unravel: rebuilds x's structure.
        contexts: error contexts whose ``iteration`` is advanced on each call.
    """
    new_style = user is not None and _new_style(user)

    def advance() -> None:
        for ctx in contexts:
            ctx.iteration += 1

    if method == "root":  # scipy.optimize.root calls callback(x, f)
        def root_style(xk: np.ndarray, fk: np.ndarray) -> Any:
            advance()
            return None if user is None else user(unravel(np.copy(xk)), fk)

        return root_style

    if method in _PLAIN_CALLBACK:
        def plain(xk: np.ndarray) -> Any:
            advance()
            if user is None:
                return None
            if new_style:
                return user(intermediate_result=OptimizeResult(x=unravel(np.copy(xk))))
            return user(unravel(np.copy(xk)))

        return plain

    def tracker(intermediate_result: OptimizeResult) -> Any:
        advance()
        if user is None:
            return None
        res = intermediate_result
        if new_style:
            return user(intermediate_result=_with_tree(res, unravel))
        if method == "trust-constr":
            return user(unravel(np.copy(res.x)), res)
        return user(unravel(np.copy(res.x)))

    return tracker
