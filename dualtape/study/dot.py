"""The computational graph of a :class:`~dualtape.study.sweeps.Trace` as Graphviz DOT.

Render with ``dot -Tpng graph.dot -o graph.png`` (Graphviz is not needed to write it).

>>> import numpy as np
>>> from dualtape.study import trace
>>> dot = to_dot(trace(lambda x1, x2: x1 * np.sin(x2), (2.0, 5.0)))
>>> print(dot.splitlines()[0])
digraph wengert {
>>> '"v0" -> "v1"' in dot and '"v-1" -> "v2"' in dot and '"v-1" -> "v1"' not in dot
True
"""

from __future__ import annotations

import numpy as np

from ..wengert import format_value
from .sweeps import Trace


def _quote(s: str) -> str:
    escaped = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped + '"'


def _label_value(v) -> str:
    return format_value(np.asarray(v) + 0.0) if np.size(v) <= 4 else format_value(v)


def to_dot(t: Trace, sweeps: bool = True) -> str:
    """A DOT digraph: one node per variable, an edge from each argument to its use.

    Args:
        t: the trace.
        sweeps: label each node with its tangents and adjoints too.

    Returns:
        The DOT source as a string.
    """
    lines = ["digraph wengert {", "  rankdir=LR;",
             '  node [fontname="Helvetica", fontsize=11];']
    rows = zip(t.names, t.definitions, t.values, t.kinds, strict=True)
    for i, (name, d, v, kind) in enumerate(rows):
        label = f"{name} = {d}\nvalue {format_value(v)}"
        if sweeps:
            tans = ", ".join(_label_value(x) for x in t.tangents[i])
            adjs = ", ".join(_label_value(x) for x in t.adjoints[i])
            label += f"\ntangent ({', '.join(t.directions)}): {tans}"
            label += f"\nadjoint: {adjs}"
        shape = "ellipse" if kind == "input" else "box"
        style = ", peripheries=2" if i == t.output_index else ""
        lines.append(f"  {_quote(name)} [shape={shape}{style}, label={_quote(label)}];")
    for i, parents in enumerate(t.parents):
        for p in dict.fromkeys(parents):  # once per distinct argument, in order
            lines.append(f"  {_quote(t.names[p])} -> {_quote(t.names[i])};")
    lines.append("}")
    return "\n".join(lines) + "\n"
