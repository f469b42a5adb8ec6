"""``compile=``: derivatives replayed from a recording (``dt.compile``), eager as the fallback.

A solver evaluates the same function hundreds of times. With ``compile`` the function of
the flat vector (``args`` and the pytree already closed over: constants of the
recording, as they do not change during a solve) is recorded by ``dt.compile`` at x0,
and its derivatives are replayed from generated code:

- ``True``: recorded before the solve starts;
- ``"auto"`` (the default): recorded once the solve has asked for ``AUTO_AFTER``
  derivatives (eager until then). A recording costs about as much as four to six eager
  derivative evaluations of a small function, so a solve that needs only a handful
  (``root``'s hybr, a short ``least_squares``) is left eager and never pays for it;
- ``False``: never recorded.

The eager path (a fresh trace per call) stays the reference:

- recording fails (a construct ``dt.compile`` cannot record), or a first replay
  differs from an eager evaluation at the same point (the first replay of each kind of
  derivative is checked so: e.g. random numbers drawn inside the function): eager from
  then on;
- a replay fails during the solve: the eager call decides. If it fails too, its error
  is the function's own and is raised as usual; if it succeeds, the solve continues
  eagerly from there;
- more than ``RETRACE_LIMIT`` re-recordings (a function whose branches change at
  almost every point): eager from there, since recording costs several eager calls.

Each switch is kept in ``reason`` (``res.compile_error``); ``res.compiled`` says whether
the derivatives were replayed to the end of the solve. With ``compile=True`` each of
these situations raises :class:`~solvers.CompileError` instead (except an error the
eager call raises too: that one is the function's).

Branches are guarded: a point that takes another path through the function is recorded
again (``dt.compile``'s guards), so a replay is never silently on the wrong branch.
What a recording cannot see is Python state read inside the function (a global that
changes during the solve): use ``compile=False`` for such a function.

>>> import numpy as np
>>> rp = Replay(lambda x: np.sum(x ** 3), np.array([1.0, 2.0]), True, "minimize", "fun")
>>> rp.active, rp.call("value_and_grad", None, np.array([1.0, -1.0]))
(True, (np.float64(0.0), array([3., 3.])))
>>> bad = Replay(lambda x: float(np.sum(x)) * x[0], np.ones(2), "auto", "minimize", "fun",
...              defer=0)
>>> bad.active, bad.reason.split(":")[0]
(False, 'recording failed')
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import dualtape as dt

from ._errors import CompileError

__all__ = ["AUTO_AFTER", "RETRACE_LIMIT", "Replay", "check_compile"]

#: With compile="auto", the function is recorded at its this-many-th derivative request.
AUTO_AFTER = 4
#: After this many re-recordings of one function, the rest of the solve is eager.
RETRACE_LIMIT = 32


def check_compile(compile: Any, who: str) -> Any:
    """Validate the ``compile=`` argument: "auto", True or False.

    >>> check_compile("auto", "minimize"), check_compile(False, "root")
    ('auto', False)
    """
    if compile is True or compile is False or compile == "auto":
        return compile if isinstance(compile, bool) else "auto"
    raise ValueError(f"solvers.{who}: compile must be 'auto', True or False, got {compile!r}")


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


class Replay:
    """One function of the flat vector recorded by ``dt.compile``, with eager fallback.

    Args:
        flat: the function of one flat float64 vector (``args`` closed over).
        x0: where to record.
        mode: ``"auto"`` (record at the ``defer``-th call; fall back to eager, noting
            why) or ``True`` (record now; raise :class:`CompileError` instead of falling
            back).
        who: the public solver name; ``what``: the function's role (for messages).
        extra: further example arguments after x (data inputs, e.g. constraint weights).
        defer: with "auto", how many calls stay eager before the recording (default
            ``AUTO_AFTER - 1``: the ``AUTO_AFTER``-th call records and replays).
    """

    def __init__(self, flat: Callable | None, x0: np.ndarray | None, mode: Any, who: str,
                 what: str, extra: tuple = (), defer: int | None = None) -> None:
        self.mode, self.who, self.what = mode, who, what
        self._example = (flat, x0, extra)
        self._verified: set[str] = set()  # methods whose first replay matched eager
        self.reason: str | None = None
        self.cf: Any = None
        self._recorded: Any = None  # the Compiled, kept after giving up (for its counts)
        self._second_order = False
        wait = (AUTO_AFTER - 1 if defer is None else defer) if mode == "auto" else 0
        self._pending = wait if flat is not None else 0  # eager calls before recording
        self._deferred = flat is not None and wait > 0
        if flat is not None and wait == 0:
            self._record()

    @classmethod
    def not_used(cls, who: str, what: str, reason: str) -> Replay:
        """A Replay that records nothing: the derivatives are eager for ``reason``."""
        rp = cls(None, None, "auto", who, what)
        rp.reason = reason
        return rp

    def _record(self) -> None:
        flat, x0, extra = self._example
        self._pending, self._deferred = 0, False
        try:
            self.cf = self._recorded = dt.compile(flat, x0, *extra)
        except Exception as exc:  # noqa: BLE001 - any recording failure means: eager
            self.give_up(f"recording failed: {_describe(exc)}", exc)

    @property
    def active(self) -> bool:
        """Whether calls are replayed (or will be, once recorded)."""
        return self.cf is not None or self._deferred

    @property
    def used(self) -> bool:
        """Whether the function was recorded (False for a solve too short to pay)."""
        return self._recorded is not None

    @property
    def recordings(self) -> int:
        """How many times the function was recorded (1 + re-recordings), 0 if never."""
        cf = self._recorded
        if cf is None:
            return 0
        n = 1 + cf.retraces
        if self._second_order:  # hvp/hessian replay the recorded gradient (recorded too)
            g = cf.gradient()
            n += (1 + g.retraces) if g.variants else 0
        return n

    def give_up(self, reason: str, exc: BaseException | None = None) -> None:
        """Switch to eager for good (``mode="auto"``) or raise CompileError (``True``)."""
        if self.mode is True:
            raise CompileError(
                f"solvers.{self.who}: compile=True, but {self.what} cannot be replayed by "
                f"dt.compile ({reason}). Use compile='auto' to fall back to eager "
                f"differentiation, or compile=False.") from exc
        self.cf = None
        self._pending, self._deferred = 0, False
        self.reason = reason if self.reason is None else f"{self.reason}; {reason}"

    def call(self, name: str, eager: Callable | None, *args: Any, **kwargs: Any) -> Any:
        """``cf.<name>(*args)``; ``eager(*args)`` if compilation is off (or not yet on) or
        the replay fails (eager decides whether the failure is the function's own)."""
        if self._pending:
            self._pending -= 1
            return eager(*args)
        if self._deferred:
            self._record()
        cf = self.cf
        if cf is None:
            return eager(*args)
        if name in ("hessian", "hvp"):
            self._second_order = True
        try:
            out = getattr(cf, name)(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - eager says whose failure it is
            if eager is None:
                raise
            result = eager(*args)  # raises if the function itself fails here
            self.give_up(f"a replay of {name} failed where eager succeeded: "
                         f"{_describe(exc)}", exc)
            return result
        if name not in self._verified and eager is not None:  # a first replay: check it
            self._verified.add(name)
            want = eager(*args)
            if not _close(out, want):
                self.give_up("the first replay differs from eager differentiation at the "
                             "same point (does the function draw random numbers or read "
                             "changing state?)")
            return want
        if cf.retraces > RETRACE_LIMIT:
            self.give_up(f"{cf.retraces} re-recordings (the branches taken change with x; "
                         f"last: {cf.last_retrace})")
        return out


def _close(got: Any, want: Any) -> bool:
    """Equal up to rounding (replays may use other, equally rounded formulas), leaf by
    leaf for tuples such as ``(value, gradient)``; dense or scipy sparse arrays."""
    if isinstance(want, (tuple, list)):
        return (isinstance(got, (tuple, list)) and len(got) == len(want) and
                all(_close(a, b) for a, b in zip(got, want)))
    a = np.asarray(getattr(got, "toarray", lambda: got)(), dtype=np.float64)
    b = np.asarray(getattr(want, "toarray", lambda: want)(), dtype=np.float64)
    if a.shape != b.shape:
        return False
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return bool(np.array_equal(a, b, equal_nan=True))
    scale = max(1.0, float(np.max(np.abs(b), initial=0.0)))
    return bool(np.max(np.abs(a - b), initial=0.0) <= 1e-9 * scale)
