"""Progress display for the trainer: a tqdm bar when tqdm is installed, else plain lines."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

__all__ = ["EpochProgress"]


class EpochProgress:
    """One epoch's progress: ``update()`` per batch, ``note()`` for validation results.

    Args:
        total: batches in the epoch.
        initial: batches already done (a resumed epoch).
        desc: label, e.g. ``"epoch 2/3"``.
        enabled: False: silent. True: tqdm if importable, else plain lines via ``log``.
        log: where plain lines go (``print`` to stderr by default).
    """

    def __init__(self, total: int, initial: int, desc: str, enabled: bool = True,
                 log: Callable[[str], None] | None = None) -> None:
        self.desc, self.enabled = desc, enabled
        self.log = log or (lambda s: print(s, file=sys.stderr, flush=True))
        self.bar: Any = None
        self.postfix: dict[str, str] = {}
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(total=total, initial=initial, desc=desc, unit="batch",
                                leave=True, dynamic_ncols=True, mininterval=0.2)

    def update(self, batch: int, loss: float, accuracy: float | None) -> None:
        """After each batch: advance the bar; refresh the loss shown every 10 batches."""
        if self.bar is None:
            return
        self.bar.update(1)
        if batch % 10 == 0:
            self.postfix["loss"] = f"{loss:.4f}"
            if accuracy is not None:
                self.postfix["acc"] = f"{accuracy:.3f}"
            self.bar.set_postfix(self.postfix, refresh=False)

    def note(self, text: str, **postfix: float) -> None:
        """A validation result: into the bar's postfix, or one plain line."""
        if not self.enabled:
            return
        if self.bar is None:
            self.log(f"{self.desc} {text}")
            return
        self.postfix.update({k: f"{v:.4f}" for k, v in postfix.items()})
        self.bar.set_postfix(self.postfix)

    def message(self, text: str) -> None:
        """A line that must not be overwritten by the bar (warnings, early stops)."""
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        elif self.enabled:
            self.log(text)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
