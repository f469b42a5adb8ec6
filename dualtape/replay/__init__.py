"""Record once, replay many: ``dt.compile`` turns a NumPy function into straight-line code.

Optimisers and training loops differentiate the same function thousands of times.
``dt.compile(f, *example_args)`` records f's Wengert list once, optimises it (constant
folding, dead-code and common-subexpression elimination, activity analysis), and
generates Python source for its value, gradient, vjp, jvp, Jacobian and Hessian-vector
products: one direct call per operation, no NumPy dispatch, no traced objects.

It is never silently wrong: every comparison, ``bool()``, ``argmax``-like value or
boolean index computed from the inputs during recording is a *guard*, recomputed on
every replay; when one differs, f is recorded again on the new path (``retraces``
counts it). Masks that only feed ``np.where`` or arithmetic are recomputed as data and
need no guard. See docs/replay.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .codegen import Retrace
from .compiled import Compiled, RetraceWarning

__all__ = ["Compiled", "Retrace", "RetraceWarning", "compile"]


def compile(f: Callable, *example_args: Any, argnums: int | Sequence[int] = 0,
            static_argnums: Sequence[int] = (), has_aux: bool = False, warn: bool = False,
            max_variants: int = 8) -> Compiled:
    """Record ``f`` (at ``example_args`` if given) for fast replays.

    Args:
        f: a function of NumPy arrays/floats (pytrees allowed), written in plain NumPy.
        example_args: arguments to record at now; without them, the first call records.
        argnums: the argument(s) that ``grad``/``jacobian``/``hvp`` differentiate. Every
            other array argument is still an input (data that may change per call).
        static_argnums: arguments baked into the recording (compared on every call; a
            different value records again). Arrays among them are constant-folded.
        has_aux: f returns ``(output, aux)``.
        warn: emit a ``RetraceWarning`` whenever a guard forces a new recording.
        max_variants: how many recorded paths to keep (a piecewise f alternates).

    Returns:
        A ``Compiled`` object: call it, or use ``.grad``, ``.value_and_grad``, ``.vjp``,
        ``.jvp``, ``.jacobian``, ``.hvp``, ``.hessian``; ``print()`` shows the optimised
        Wengert list.

    >>> import numpy as np, dualtape as dt
    >>> rosen = lambda x: np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    >>> cf = dt.compile(rosen, np.zeros(3))
    >>> cf.grad(np.array([1.0, 1.0, 1.0]))
    array([0., 0., 0.])
    >>> def relu_sum(x):
    ...     return np.sum(x) if np.sum(x) > 0 else 0.0 * np.sum(x)
    >>> cr = dt.compile(relu_sum, np.ones(2))
    >>> cr.grad(-np.ones(2)), cr.retraces     # another branch: recorded again
    (array([0., 0.]), 1)
    """
    compiled = Compiled(f, argnums, static_argnums, has_aux, warn, max_variants)
    if example_args:
        compiled.record(*example_args)
    return compiled
