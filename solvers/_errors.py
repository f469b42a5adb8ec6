"""Clear failures: the error and warning types of ``solvers`` and their context.

A user function that fails deep inside a scipy loop gives a traceback with no
hint of where the solver was. :class:`EvalContext` counts evaluations and
iterations and turns such failures into an :class:`ObjectiveError` (or, for a
non-finite value after the start, a :class:`NonFiniteWarning`) naming the
function, the evaluation, the iteration and the point.

>>> import numpy as np
>>> ctx = EvalContext("minimize", "fun")
>>> ctx.where(np.array([1.0, 2.0]))
'fun at x = [1. 2.] (evaluation 0, iteration 0)'
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ._pytree import Unravel, describe_structure

__all__ = ["CompileError", "EvalContext", "NonFiniteWarning", "ObjectiveError", "format_point"]


class ObjectiveError(ValueError):
    """A user function (objective, residuals, constraint) cannot be used as given.

    Raised for a non-scalar objective, a non-finite value at x0, a function whose
    shapes do not match x0, a function dualtape cannot differentiate, or an
    exception raised by the function during the solve. The message names the
    function, the solver and, during a solve, the evaluation, iteration and point.
    """


class CompileError(ObjectiveError):
    """``compile=True`` was asked for, but the function cannot be replayed by ``dt.compile``.

    Raised when recording fails, when the first replay differs from an eager evaluation
    at the same point, when a replay fails where eager differentiation succeeds, or
    after too many re-recordings. ``compile="auto"`` (the default) falls back to eager instead and
    says why in ``res.compile_error``.
    """


class NonFiniteWarning(RuntimeWarning):
    """A user function returned NaN or inf (value or derivative) during a solve."""


def format_point(x: np.ndarray, unravel: Unravel | None = None) -> str:
    """A short rendering of the flat point ``x`` (structured when x0 was a pytree)."""
    with np.printoptions(threshold=8, edgeitems=3, precision=6):
        if unravel is None or unravel.trivial:
            return str(np.asarray(x))
        parts = []
        for path, shape, a, b in zip(unravel.paths, unravel.shapes, unravel.offsets[:-1],
                                     unravel.offsets[1:]):
            parts.append(f"{path}={np.reshape(x[a:b], shape)}")
        return ", ".join(parts[:4]) + (", ..." if len(parts) > 4 else "")


class EvalContext:
    """Where a solve is: counts evaluations and iterations for error messages.

    Args:
        who: the public function, e.g. ``"minimize"``.
        what: the user function's role, e.g. ``"fun"`` or ``"constraint 0 (ineq)"``.
        unravel: the pytree structure of x, for naming entries.
    """

    def __init__(self, who: str, what: str, unravel: Unravel | None = None) -> None:
        self.who = who
        self.what = what
        self.unravel = unravel
        self.evaluations = 0
        self.iteration = 0
        self.started = False
        self.warned = False

    def point(self, x: np.ndarray) -> str:
        """``x = ... (evaluation k, iteration i)``."""
        return (f"x = {format_point(x, self.unravel)} "
                f"(evaluation {self.evaluations}, iteration {self.iteration})")

    def where(self, x: np.ndarray) -> str:
        return f"{self.what} at {self.point(x)}"

    def structure(self) -> str:
        return describe_structure(self.unravel) if self.unravel is not None else "x0"

    def error(self, msg: str) -> ObjectiveError:
        return ObjectiveError(f"solvers.{self.who}: {msg}")

    def failed(self, x: np.ndarray, exc: BaseException, action: str = "evaluating") -> \
            ObjectiveError:
        """The error to raise when the user function (or its derivative) raised ``exc``."""
        import dualtape as dt  # only for the error types

        detail = f"{type(exc).__name__}: {exc}"
        if not self.started:
            if isinstance(exc, (dt.NoRuleError, dt.TracerConversionError)):
                hint = (f"{self.what} is not differentiable by dualtape as written; see the "
                        f"message above for the way out")
            elif isinstance(exc, dt.DualtapeError):
                hint = "dualtape could not differentiate it"
            elif isinstance(exc, (IndexError, ValueError, TypeError)):
                hint = (f"x0 is {self.structure()}; check that it has the shape and "
                        f"structure {self.what} expects")
            else:
                hint = f"x0 is {self.structure()}"
            return self.error(f"{action} {self.what} at x0 failed ({hint}).\n  {detail}")
        return self.error(f"{action} {self.where(x)} failed.\n  {detail}")

    def run(self, call: Callable[[], Any], x: np.ndarray, action: str = "evaluating") -> Any:
        """``call()`` counted as one evaluation; its errors re-raised by :meth:`failed`."""
        self.evaluations += 1
        try:
            return call()
        except ObjectiveError:
            raise
        except Exception as exc:  # noqa: BLE001 - re-raised with the solver's context
            raise self.failed(x, exc, action) from exc

    def nonfinite(self, x: np.ndarray, what: str, bad: np.ndarray | None = None) -> None:
        """Raise at x0; warn (once per solve) afterwards, naming the point."""
        names = ""
        if bad is not None and bad.size and self.unravel is not None:
            idx = np.flatnonzero(bad)[:4]
            names = " (entries " + ", ".join(self.unravel.leaf_of(int(i)) for i in idx)
            names += ", ...)" if np.count_nonzero(bad) > 4 else ")"
        if not self.started:
            raise self.error(f"{what} of {self.what} is not finite{names} at x0. The starting "
                             f"point must give finite values; x0 = "
                             f"{format_point(x, self.unravel)}")
        if not self.warned:
            self.warned = True
            warnings.warn(f"solvers.{self.who}: {what} of {self.what} is not finite{names} at "
                          f"{self.point(x)}; the solver may stop or backtrack (further "
                          f"occurrences in this solve are not reported)", NonFiniteWarning,
                          stacklevel=4)


def check_finite_vector(ctx: EvalContext, x: np.ndarray, v: Any, what: str) -> None:
    """Report non-finite entries of ``v`` through ``ctx`` (cheap when all are finite)."""
    arr = np.asarray(v)
    if not np.isfinite(arr).all():
        bad = ~np.isfinite(arr) if arr.shape == x.shape else None
        ctx.nonfinite(x, what, bad)
