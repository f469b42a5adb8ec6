"""Progress while a study runs: a tqdm bar when tqdm is installed, plain lines otherwise.

Progress goes to stderr, so stdout stays the report.

>>> import io
>>> out = io.StringIO()
>>> with Progress(2, "demo", stream=out, use_tqdm=False) as p:
...     p.step("n=4 m=4"); p.step("n=16 m=4")
>>> print(out.getvalue().strip())
demo [1/2] n=4 m=4
demo [2/2] n=16 m=4
"""

from __future__ import annotations

import sys
from typing import Any, TextIO


class Progress:
    """Counts ``total`` steps; ``step(label)`` advances by one.

    Args:
        total: number of steps.
        title: shown before the count.
        stream: where to write (stderr by default).
        use_tqdm: None = when installed; False = plain lines; True = require tqdm.
        enabled: False prints nothing.
    """

    def __init__(self, total: int, title: str = "", stream: TextIO | None = None,
                 use_tqdm: bool | None = None, enabled: bool = True) -> None:
        self.total, self.title, self.count = total, title, 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self._bar: Any = None
        if enabled and use_tqdm is not False:
            try:
                from tqdm import tqdm
            except ImportError:
                if use_tqdm:
                    raise
            else:
                self._bar = tqdm(total=total, desc=title, file=self.stream, leave=False,
                                 dynamic_ncols=True)

    def step(self, label: str = "") -> None:
        self.count += 1
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.set_postfix_str(label, refresh=False)
            self._bar.update(1)
        else:
            print(f"{self.title} [{self.count}/{self.total}] {label}".strip(), file=self.stream,
                  flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
