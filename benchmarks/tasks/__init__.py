"""The task families, one module each; ``all_tasks(scale)`` lists every row in report order.

``scale`` is "full" (the sizes of the issue), "quick" (the large Rosenbrock at 10^4,
for a run under a minute) or "tiny" (the smoke test's correctness checks).
"""

from __future__ import annotations

from benchmarks.spec import Task
from benchmarks.tasks import e2e, hessian, jacobian, mlp, rosenbrock, scalar

FAMILIES = (scalar, rosenbrock, jacobian, hessian, mlp, e2e)
SCALES = ("full", "quick", "tiny")


def all_tasks(scale: str = "full") -> list[Task]:
    """Every task at ``scale``."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    return [task for family in FAMILIES for task in family.make_tasks(scale)]
