"""Plain-text tables, the one format every report in :mod:`dualtape.study` prints.

>>> print(format_table(("mode", "ms"), [("forward", "1.50"), ("reverse", "0.25")]))
mode     ms
-------  ----
forward  1.50
reverse  0.25
"""

from __future__ import annotations

from collections.abc import Sequence


def format_table(heads: Sequence[str], rows: Sequence[Sequence[str]],
                 right: Sequence[int] = ()) -> str:
    """Columns aligned on the widest cell, a dashed rule under the header.

    Args:
        heads: column titles.
        rows: cells (already formatted strings), one sequence per row.
        right: indices of columns to right-align (numbers).

    Returns:
        The table as one string, without a trailing newline.
    """
    cells = [list(map(str, heads))] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(heads))]

    def line(r: list[str]) -> str:
        parts = [c.rjust(w) if i in right else c.ljust(w)
                 for i, (c, w) in enumerate(zip(r, widths, strict=False))]
        return "  ".join(parts).rstrip()

    out = [line(cells[0]), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells[1:]]
    return "\n".join(out)
