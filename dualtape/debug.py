"""``with dt.debug_nans():`` — stop at the first primitive whose value, tangent or
cotangent turns NaN/inf although its inputs were finite, and say where.

>>> import numpy as np, dualtape as dt
>>> try:
...     with dt.debug_nans():
...         dt.grad(lambda x: np.sum(np.sqrt(x)))(np.array([1.0, 0.0]))
... except dt.NaNError as err:
...     print(str(err).splitlines()[0])
dualtape.debug_nans: the cotangent of sqrt (Wengert entry v2) became inf/NaN in reverse mode
"""

from __future__ import annotations

import os
import traceback
import weakref
from typing import Any

import numpy as np

from .errors import DualtapeError
from .registry import plain

#: Process-wide switch read on the hot paths (a plain attribute: cheap when off).
active = False
_forward_count = 0
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class NaNError(DualtapeError, FloatingPointError):
    """Raised inside ``debug_nans`` at the first operation that produced NaN or inf."""


class debug_nans:
    """Context manager: check every primitive's value, tangent and cotangent."""

    def __enter__(self) -> debug_nans:
        global active, _forward_count
        self._prev = active
        active, _forward_count = True, 0
        return self

    def __exit__(self, *exc: Any) -> None:
        global active
        active = self._prev


def _finite(x: Any) -> bool:
    if x is None:
        return True
    if isinstance(x, (list, tuple)):
        return all(_finite(v) for v in x)
    v = plain(x)
    try:
        return bool(np.all(np.isfinite(v)))
    except TypeError:
        return True


def _user_stack(limit: int = 4) -> str:
    frames = [f for f in traceback.extract_stack()[:-1]
              if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR)]
    return "\n".join(f"  {f.filename}:{f.lineno} in {f.name}: {f.line}" for f in frames[-limit:])


#: Where each entry was recorded (only while debugging): tape -> {slot: stack text}.
_recorded_at: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def remember(tape: Any, slot: int) -> None:
    """Keep the user's stack of a recorded entry, to name it if its cotangent fails later."""
    _recorded_at.setdefault(tape, {})[slot] = _user_stack()


def check(prim: Any, what: str, out: Any, inputs: Any, where: str, mode: str,
          stack: str | None = None) -> None:
    """Raise NaNError if ``out`` is not finite while ``inputs`` were."""
    if _finite(out) or not _finite(inputs):
        return
    raise NaNError(f"dualtape.debug_nans: the {what} of {prim.name} ({where}) became inf/NaN "
                   f"in {mode} mode\n  inputs finite, output not. Recorded at:\n"
                   f"{stack or _user_stack()}")


def recorded_at(tape: Any, slot: int) -> str | None:
    return _recorded_at.get(tape, {}).get(slot)


def forward_index() -> str:
    global _forward_count
    _forward_count += 1
    return f"operation #{_forward_count} of the forward sweep"
