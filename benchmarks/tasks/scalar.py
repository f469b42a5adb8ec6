"""Scalar code: the per-operation cost of tracing (the 1,750-op chain) and the course seed.

Tasks 1 and 2 of the suite. The baseline of the chain is the plain-float function
itself, so its ratio is t(grad) / t(f); the eager goal is in microseconds per traced
op, the replayed one (``dt.compile``) a ratio to f.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from benchmarks import peers
from benchmarks.spec import Goal, Task

STEPS = 250
OPS = 7 * STEPS  # sin, *1.0001, 0.1*y, *y, +, 0.05*y, -
#: The smoke test's chain: recording (dt.compile) costs more per op than a call, so
#: the tiny scale checks the same code on a tenth of the chain.
TINY_STEPS = 25
X0 = 0.3
SEED = (2.0, 5.0)


class Chain(NamedTuple):
    """The chain's problem: the point and the number of steps (7 ops each)."""

    x: float
    steps: int = STEPS


def chain(x: Any, sin: Callable[[Any], Any], steps: int = STEPS) -> Any:
    """y = x; ``steps`` times: y = sin(y)*1.0001 + 0.1*y*y - 0.05*y (any scalar type)."""
    y = x
    for _ in range(steps):
        y = sin(y) * 1.0001 + 0.1 * y * y - 0.05 * y
    return y


def chain_derivative(p: Chain) -> float:
    """dy/dx by the chain rule, accumulated forward in plain floats (the reference)."""
    y, dy = p.x, 1.0
    for _ in range(p.steps):
        y, dy = math.sin(y) * 1.0001 + 0.1 * y * y - 0.05 * y, (
            math.cos(y) * 1.0001 + 0.2 * y - 0.05
        ) * dy
    return dy


def _chain_value(p: Chain) -> float:
    """f itself in plain floats: what the baseline (timing f) must return."""
    return chain(p.x, math.sin, p.steps)


# ---- 1. scalar chain, reverse mode ----

def _chain_baseline(p: Chain) -> Callable[[], Any]:
    x, n = p
    return lambda: chain(x, math.sin, n)


def _chain_dualtape(p: Chain) -> Callable[[], Any]:
    x, n = p
    g = peers.dualtape().grad(lambda v: chain(v, np.sin, n))
    return lambda: g(x)


def _chain_replay(p: Chain) -> Callable[[], Any]:
    x, n = p
    # Recorded at another point, so that the check proves a replay at a new input.
    cf = peers.dualtape_compile()(lambda v: chain(v, np.sin, n), x + 0.1)
    return peers.no_retrace(cf, lambda: cf.grad(x))


def _chain_autograd(p: Chain) -> Callable[[], Any]:
    x, n = p
    ag, anp = peers.autograd()
    g = ag.grad(lambda v: chain(v, anp.sin, n))
    return lambda: g(x)


def _chain_torch(p: Chain) -> Callable[[], Any]:
    x, n = p
    th = peers.torch()

    def call() -> Any:
        v = th.tensor(x, requires_grad=True)
        (g,) = th.autograd.grad(chain(v, th.sin, n), v)
        return g

    return call


def _chain_jax(p: Chain, jit: bool = False) -> Callable[[], Any]:
    x, n = p
    jx, jnp = peers.jax()
    g = jx.grad(lambda v: chain(v, jnp.sin, n))
    if jit:
        g = jx.jit(g)
    return lambda: peers.jax_ready(g(x))


# ---- 1b. scalar chain, forward mode (no goal: shows the fixed cost of a Dual) ----

def _fwd_dualtape(p: Chain) -> Callable[[], Any]:
    x, n = p
    jvp = peers.dualtape_feature("jvp")
    return lambda: jvp(lambda v: chain(v, np.sin, n), (x,), (1.0,))[1]


def _fwd_replay(p: Chain) -> Callable[[], Any]:
    x, n = p
    cf = peers.dualtape_compile()(lambda v: chain(v, np.sin, n), x + 0.1)
    return peers.no_retrace(cf, lambda: cf.jvp((x,), (1.0,))[1])


def _fwd_autograd(p: Chain) -> Callable[[], Any]:
    x, n = p
    ag, anp = peers.autograd()
    g = ag.make_jvp(lambda v: chain(v, anp.sin, n))
    return lambda: g(x)(1.0)[1]


def _fwd_torch(p: Chain) -> Callable[[], Any]:
    x, n = p
    th = peers.torch()
    one, x0 = th.tensor(1.0), th.tensor(x)
    return lambda: th.func.jvp(lambda v: chain(v, th.sin, n), (x0,), (one,))[1]


def _fwd_jax(p: Chain, jit: bool = False) -> Callable[[], Any]:
    x, n = p
    jx, jnp = peers.jax()

    def tangent(v: Any) -> Any:
        return jx.jvp(lambda u: chain(u, jnp.sin, n), (v,), (1.0,))[1]

    g = jx.jit(tangent) if jit else tangent
    return lambda: peers.jax_ready(g(x))


# ---- 2. course seed: f(x1, x2) = log(x1*x2)*sin(x2) ----

def seed_f(x1: Any, x2: Any, log: Callable[[Any], Any], sin: Callable[[Any], Any]) -> Any:
    """The course's seed function, generic in its log and sin."""
    return log(x1 * x2) * sin(x2)


def _seed_reference(p: tuple[float, float]) -> tuple[float, float]:
    """Complex-step derivatives: exact to rounding, independent of any AD tool."""
    h = 1e-30
    d1 = seed_f(p[0] + 1j * h, p[1], cmath.log, cmath.sin).imag / h
    d2 = seed_f(p[0], p[1] + 1j * h, cmath.log, cmath.sin).imag / h
    return d1, d2


def _seed_baseline(p: tuple[float, float]) -> Callable[[], Any]:
    def grad_by_hand() -> tuple[float, float]:
        x1, x2 = p
        s = math.sin(x2)
        return s / x1, s / x2 + math.log(x1 * x2) * math.cos(x2)

    return grad_by_hand


def _seed_dualtape(p: tuple[float, float]) -> Callable[[], Any]:
    g = peers.dualtape().grad(lambda a, b: seed_f(a, b, np.log, np.sin), argnums=(0, 1))
    return lambda: g(*p)


def _seed_replay(p: tuple[float, float]) -> Callable[[], Any]:
    cf = peers.dualtape_compile()(lambda a, b: seed_f(a, b, np.log, np.sin),
                                  p[0] + 0.5, p[1] + 0.5, argnums=(0, 1))
    return peers.no_retrace(cf, lambda: cf.grad(*p))


def _seed_dualtape_object(p: tuple[float, float]) -> Callable[[], Any]:
    dt = peers.dualtape_feature("Tensor")

    def call() -> Any:
        x = dt(np.array(p), requires_grad=True)
        y = seed_f(x[0], x[1], np.log, np.sin)
        y.backward()
        return x.grad

    return call


def _seed_autograd(p: tuple[float, float]) -> Callable[[], Any]:
    ag, anp = peers.autograd()
    g = ag.grad(lambda a, b: seed_f(a, b, anp.log, anp.sin), argnum=(0, 1))
    return lambda: g(*p)


def _seed_torch(p: tuple[float, float]) -> Callable[[], Any]:
    th = peers.torch()

    def call() -> Any:
        a = th.tensor(p[0], requires_grad=True)
        b = th.tensor(p[1], requires_grad=True)
        return th.autograd.grad(seed_f(a, b, th.log, th.sin), (a, b))

    return call


def _seed_torch_object(p: tuple[float, float]) -> Callable[[], Any]:
    th = peers.torch()

    def call() -> Any:
        x = th.tensor(p, requires_grad=True)
        seed_f(x[0], x[1], th.log, th.sin).backward()
        return x.grad

    return call


def _seed_jax(p: tuple[float, float], jit: bool = False) -> Callable[[], Any]:
    jx, jnp = peers.jax()
    g = jx.grad(lambda a, b: seed_f(a, b, jnp.log, jnp.sin), argnums=(0, 1))
    if jit:
        g = jx.jit(g)
    return lambda: peers.jax_ready(g(*p))


def make_tasks(scale: str) -> list[Task]:
    """Scalar tasks; the sizes are fixed by the definition, except the smoke test's
    ("tiny") chain, a tenth as long."""
    steps = TINY_STEPS if scale == "tiny" else STEPS
    ops = 7 * steps
    return [
        Task(
            name="scalar-chain",
            title=f"scalar chain grad ({ops:,} ops)",
            baseline_name="plain-float f (t(grad)/t(f))",
            setup=lambda: Chain(X0, steps),
            reference=chain_derivative,
            baseline=_chain_baseline,
            impls={
                "dualtape": _chain_dualtape,
                peers.REPLAY: _chain_replay,
                "autograd": _chain_autograd,
                "torch": _chain_torch,
                "jax": _chain_jax,
                "jax-jit": lambda p: _chain_jax(p, jit=True),
            },
            goal=Goal(2.0, "us_per_op", ops),
            replay_goal=Goal(3.0),
            rtol=1e-9,
            ops=ops,
            baseline_reference=_chain_value,
            notes=["replay goal: within 3x of the plain-float f (issue 9; issue 3 asked "
                   "<= 5x)"],
        ),
        Task(
            name="scalar-chain-fwd",
            title=f"scalar chain derivative, forward mode ({ops:,} ops)",
            baseline_name="plain-float f (t(jvp)/t(f))",
            setup=lambda: Chain(X0, steps),
            reference=chain_derivative,
            baseline=_chain_baseline,
            impls={
                "dualtape": _fwd_dualtape,
                peers.REPLAY: _fwd_replay,
                "autograd": _fwd_autograd,
                "torch": _fwd_torch,
                "jax": _fwd_jax,
                "jax-jit": lambda p: _fwd_jax(p, jit=True),
            },
            rtol=1e-9,
            ops=ops,
            baseline_reference=_chain_value,
        ),
        Task(
            name="course-seed",
            title="course seed grad log(x1*x2)*sin(x2)",
            baseline_name="hand-coded float gradient",
            setup=lambda: SEED,
            reference=_seed_reference,
            baseline=_seed_baseline,
            impls={
                "dualtape": _seed_dualtape,
                peers.REPLAY: _seed_replay,
                "autograd": _seed_autograd,
                "torch": _seed_torch,
                "jax": _seed_jax,
                "jax-jit": lambda p: _seed_jax(p, jit=True),
            },
            goal=Goal(60.0),
            rtol=1e-12,
        ),
        Task(
            name="course-seed-object",
            title="course seed, object API (Tensor.backward)",
            baseline_name="hand-coded float gradient",
            setup=lambda: SEED,
            reference=_seed_reference,
            baseline=_seed_baseline,
            impls={"dualtape": _seed_dualtape_object, "torch": _seed_torch_object},
            rtol=1e-12,
        ),
    ]

