"""Extended Rosenbrock gradient (task 3): vectorised code, n = 10, 100, 10^4 and 10^6.

Baseline: ``scipy.optimize.rosen_der``. The plain function ``rosen`` is timed too, so
the report can set t(grad)/t(f) of each tool beside t(rosen_der)/t(rosen). The goals
are set at n = 100 (eager <= 6x, replayed <= 2x) and n = 10^6 (<= 2x); n = 10 and
10^4 show how the fixed cost per call fades with the size (issue 9).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import rosen, rosen_der

from benchmarks import peers
from benchmarks.spec import Goal, Task

SIZES = {"full": (10, 100, 10**4, 10**6), "quick": (10, 100, 10**4), "tiny": (10, 1000)}
#: (eager goal, replay goal) where the issues set them.
GOALS = {100: (Goal(6.0), Goal(2.0)), 10**6: (Goal(2.0), Goal(2.0))}


def rosen_generic(x: Any, sum_: Callable[[Any], Any] = np.sum) -> Any:
    """sum 100*(x[1:]-x[:-1]**2)**2 + (1-x[:-1])**2, generic in the ``sum`` used."""
    return sum_(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosen_point(n: int, seed: int = 0) -> np.ndarray:
    """A fixed point away from the minimum (uniform in [-2, 2])."""
    return np.random.default_rng(seed).uniform(-2.0, 2.0, n)


# ---- gradient builders, one per tool ----

def _baseline(x: np.ndarray) -> Callable[[], Any]:
    return lambda: rosen_der(x)


def _dualtape(x: np.ndarray) -> Callable[[], Any]:
    g = peers.dualtape().grad(rosen_generic)
    return lambda: g(x)


def _replay(x: np.ndarray) -> Callable[[], Any]:
    # Recorded at another point, so that the check proves a replay at a new input.
    cf = peers.dualtape_compile()(rosen_generic, 0.5 * x + 0.25)
    return peers.no_retrace(cf, lambda: cf.grad(x))


def _autograd(x: np.ndarray) -> Callable[[], Any]:
    ag, anp = peers.autograd()
    g = ag.grad(lambda v: rosen_generic(v, anp.sum))
    return lambda: g(x)


def _torch(x: np.ndarray) -> Callable[[], Any]:
    th = peers.torch()
    xt = th.from_numpy(x)

    def call() -> Any:
        v = xt.detach().requires_grad_(True)
        (g,) = th.autograd.grad(rosen_generic(v, th.sum), v)
        return g

    return call


def _jax(x: np.ndarray, jit: bool = False) -> Callable[[], Any]:
    jx, jnp = peers.jax()
    g = jx.grad(lambda v: rosen_generic(v, jnp.sum))
    if jit:
        g = jx.jit(g)
    xj = jnp.asarray(x)
    return lambda: peers.jax_ready(g(xj))


IMPLS = {
    "dualtape": _dualtape,
    peers.REPLAY: _replay,
    "autograd": _autograd,
    "torch": _torch,
    "jax": _jax,
    "jax-jit": lambda x: _jax(x, jit=True),
}


def _size_label(n: int) -> str:
    return f"10^{round(np.log10(n))}" if n >= 10**4 and n == 10 ** round(np.log10(n)) else str(n)


def make_tasks(scale: str) -> list[Task]:
    """Rosenbrock gradient rows at the sizes of ``scale``."""
    tasks = []
    for n in SIZES[scale]:
        goal, replay_goal = GOALS.get(n, (None, None))
        tasks.append(
            Task(
                name=f"rosen-grad-n{n}",
                title=f"Rosenbrock grad n={_size_label(n)}",
                baseline_name="scipy rosen_der",
                setup=lambda n=n: rosen_point(n),
                reference=rosen_der,
                baseline=_baseline,
                impls=IMPLS,
                goal=goal,
                replay_goal=replay_goal,
                rtol=1e-10,
                function=lambda x: (lambda: rosen(x)),
            )
        )
    return tasks
