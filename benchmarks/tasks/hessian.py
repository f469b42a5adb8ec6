"""Second order on extended Rosenbrock (task 5): dense Hessian and Hessian-vector product.

Baselines: ``scipy.optimize.rosen_hess`` and ``rosen_hess_prod``. The peers use their
forward-over-reverse transforms (autograd: its own hessian / reverse-over-reverse hvp);
the replayed column ``cf.hessian`` / ``cf.hvp``: forward mode over the replayed
reverse sweep.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import rosen_hess, rosen_hess_prod

from benchmarks import peers
from benchmarks.spec import Goal, Task
from benchmarks.tasks.rosenbrock import rosen_generic, rosen_point

SIZES = {"full": 500, "quick": 500, "tiny": 20}

Pair = tuple[np.ndarray, np.ndarray]


def make_problem(n: int) -> Pair:
    """``(x, v)``: the point and a fixed direction for the product."""
    return rosen_point(n, seed=2), np.random.default_rng(3).standard_normal(n)


# ---- dense Hessian ----

def _hess_dualtape(p: Pair) -> Callable[[], Any]:
    h = peers.dualtape_feature("hessian")(rosen_generic)
    return lambda: h(p[0])


def _hess_replay(p: Pair) -> Callable[[], Any]:
    cf = peers.dualtape_compile()(rosen_generic, 0.5 * p[0] + 0.25)
    return peers.no_retrace(cf, lambda: cf.hessian(p[0]))


def _hess_autograd(p: Pair) -> Callable[[], Any]:
    ag, anp = peers.autograd()
    h = ag.hessian(lambda v: rosen_generic(v, anp.sum))
    return lambda: h(p[0])


def _hess_torch(p: Pair) -> Callable[[], Any]:
    th = peers.torch()
    h = th.func.hessian(lambda v: rosen_generic(v, th.sum))
    x = th.from_numpy(p[0])
    return lambda: h(x)


def _hess_jax(p: Pair, jit: bool = False) -> Callable[[], Any]:
    jx, jnp = peers.jax()
    h = jx.hessian(lambda v: rosen_generic(v, jnp.sum))
    if jit:
        h = jx.jit(h)
    x = jnp.asarray(p[0])
    return lambda: peers.jax_ready(h(x))


# ---- Hessian-vector product ----

def _hvp_dualtape(p: Pair) -> Callable[[], Any]:
    hvp = peers.dualtape_feature("hvp")
    x, v = p
    return lambda: hvp(rosen_generic, x, v)


def _hvp_replay(p: Pair) -> Callable[[], Any]:
    x, v = p
    cf = peers.dualtape_compile()(rosen_generic, 0.5 * x + 0.25)
    return peers.no_retrace(cf, lambda: cf.hvp(v, x))


def _hvp_autograd(p: Pair) -> Callable[[], Any]:
    ag, anp = peers.autograd()
    hvp = ag.hessian_tensor_product(lambda v: rosen_generic(v, anp.sum))
    x, v = p
    return lambda: hvp(x, v)


def _hvp_torch(p: Pair) -> Callable[[], Any]:
    th = peers.torch()
    g = th.func.grad(lambda v: rosen_generic(v, th.sum))
    x, v = (th.from_numpy(a) for a in p)
    return lambda: th.func.jvp(g, (x,), (v,))[1]


def _hvp_jax(p: Pair, jit: bool = False) -> Callable[[], Any]:
    jx, jnp = peers.jax()
    g = jx.grad(lambda u: rosen_generic(u, jnp.sum))

    def hvp(x: Any, v: Any) -> Any:
        return jx.jvp(g, (x,), (v,))[1]

    if jit:
        hvp = jx.jit(hvp)
    x, v = (jnp.asarray(a) for a in p)
    return lambda: peers.jax_ready(hvp(x, v))


def make_tasks(scale: str) -> list[Task]:
    """The Hessian row and the hvp row."""
    n = SIZES[scale]
    return [
        Task(
            name=f"hessian-n{n}",
            title=f"Rosenbrock Hessian n={n} dt.hessian",
            baseline_name="scipy rosen_hess",
            setup=lambda: make_problem(n),
            reference=lambda p: rosen_hess(p[0]),
            baseline=lambda p: (lambda: rosen_hess(p[0])),
            impls={
                "dualtape": _hess_dualtape,
                peers.REPLAY: _hess_replay,
                "autograd": _hess_autograd,
                "torch": _hess_torch,
                "jax": _hess_jax,
                "jax-jit": lambda p: _hess_jax(p, jit=True),
            },
            goal=Goal(3.0),
            replay_goal=Goal(3.0),
            rtol=1e-10,
        ),
        Task(
            name=f"hvp-n{n}",
            title=f"Rosenbrock hvp n={n} dt.hvp",
            baseline_name="scipy rosen_hess_prod",
            setup=lambda: make_problem(n),
            reference=lambda p: rosen_hess_prod(*p),
            baseline=lambda p: (lambda: rosen_hess_prod(*p)),
            impls={
                "dualtape": _hvp_dualtape,
                peers.REPLAY: _hvp_replay,
                "autograd": _hvp_autograd,
                "torch": _hvp_torch,
                "jax": _hvp_jax,
                "jax-jit": lambda p: _hvp_jax(p, jit=True),
            },
            goal=Goal(3.0),
            replay_goal=Goal(3.0),
            rtol=1e-10,
        ),
    ]
