"""Jacobians of F(x) = tanh(A @ x) + (A @ sin(x))**2 (task 4): reverse, forward, auto.

Baseline: the analytic Jacobian diag(1 - tanh^2) A + diag(2 A sin x) A diag(cos x),
vectorised. Reference: the complex-step Jacobian (exact to rounding, no AD tool).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks import peers
from benchmarks.spec import Goal, Task

#: (name suffix, n inputs, m outputs, dualtape transform, peer mode, goal) per scale.
CASES = {
    "full": [("rev", 1000, 10, "jacrev", 3.0), ("fwd", 10, 1000, "jacfwd", 3.0),
             ("auto", 200, 200, "jacobian", 5.0)],
    "tiny": [("rev", 20, 3, "jacrev", 3.0), ("fwd", 3, 20, "jacfwd", 3.0),
             ("auto", 8, 8, "jacobian", 5.0)],
}
CASES["quick"] = CASES["full"]


def make_problem(n: int, m: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A fixed ``(A, x)``; A is (m, n) with entries of scale 1/sqrt(n)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, n)) / np.sqrt(n), rng.standard_normal(n)


def F(x: Any, A: Any, tanh: Callable[[Any], Any] = np.tanh,
      sin: Callable[[Any], Any] = np.sin) -> Any:
    """tanh(A @ x) + (A @ sin(x))**2, generic in tanh and sin."""
    return tanh(A @ x) + (A @ sin(x)) ** 2


def reference(p: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Complex step, all columns at once: J[:, j] = Im F(x + i h e_j) / h."""
    A, x = p
    h = 1e-30
    X = x[:, None] + 1j * h * np.eye(x.size)
    return (np.tanh(A @ X) + (A @ np.sin(X)) ** 2).imag / h


def _baseline(p: tuple[np.ndarray, np.ndarray]) -> Callable[[], Any]:
    A, x = p

    def analytic() -> np.ndarray:
        t = np.tanh(A @ x)
        s = A @ np.sin(x)
        return (1.0 - t * t)[:, None] * A + (2.0 * s)[:, None] * A * np.cos(x)

    return analytic


def _peer_mode(kind: str, n: int, m: int) -> str:
    """The mode the peers use: dualtape's auto rule is forward when n_in <= n_out."""
    if kind == "auto":
        return "fwd" if n <= m else "rev"
    return kind


def _dualtape(transform: str) -> Callable[[Any], Callable[[], Any]]:
    def build(p: tuple[np.ndarray, np.ndarray]) -> Callable[[], Any]:
        A, x = p
        jac = peers.dualtape_feature(transform)(lambda v: F(v, A))
        return lambda: jac(x)

    return build


#: ``Compiled.jacobian`` mode of each dualtape transform.
REPLAY_MODE = {"jacrev": "reverse", "jacfwd": "forward", "jacobian": "auto"}


def _replay(transform: str) -> Callable[[Any], Callable[[], Any]]:
    def build(p: tuple[np.ndarray, np.ndarray]) -> Callable[[], Any]:
        A, x = p
        cf = peers.dualtape_compile()(lambda v: F(v, A), x + 0.1)  # A is a constant
        mode = REPLAY_MODE[transform]
        return peers.no_retrace(cf, lambda: cf.jacobian(x, mode=mode))

    return build


def _autograd(p: tuple[np.ndarray, np.ndarray]) -> Callable[[], Any]:
    ag, anp = peers.autograd()
    A, x = p
    jac = ag.jacobian(lambda v: F(v, A, anp.tanh, anp.sin))  # reverse mode only
    return lambda: jac(x)


def _torch(mode: str) -> Callable[[Any], Callable[[], Any]]:
    def build(p: tuple[np.ndarray, np.ndarray]) -> Callable[[], Any]:
        th = peers.torch()
        A, x = (th.from_numpy(a) for a in p)
        transform = th.func.jacfwd if mode == "fwd" else th.func.jacrev
        jac = transform(lambda v: F(v, A, th.tanh, th.sin))
        return lambda: jac(x)

    return build


def _jax(mode: str, jit: bool) -> Callable[[Any], Callable[[], Any]]:
    def build(p: tuple[np.ndarray, np.ndarray]) -> Callable[[], Any]:
        jx, jnp = peers.jax()
        A, x = (jnp.asarray(a) for a in p)
        transform = jx.jacfwd if mode == "fwd" else jx.jacrev
        jac = transform(lambda v: F(v, A, jnp.tanh, jnp.sin))
        if jit:
            jac = jx.jit(jac)
        return lambda: peers.jax_ready(jac(x))

    return build


def make_tasks(scale: str) -> list[Task]:
    """One row per (n, m) case of ``scale``."""
    tasks = []
    for kind, n, m, transform, goal in CASES[scale]:
        mode = _peer_mode(kind, n, m)
        tasks.append(
            Task(
                name=f"jac-{kind}-n{n}-m{m}",
                title=f"Jacobian (n,m)=({n},{m}) dt.{transform}",
                baseline_name="analytic Jacobian (NumPy)",
                setup=lambda n=n, m=m: make_problem(n, m),
                reference=reference,
                baseline=_baseline,
                impls={
                    "dualtape": _dualtape(transform),
                    peers.REPLAY: _replay(transform),
                    "autograd": _autograd,
                    "torch": _torch(mode),
                    "jax": _jax(mode, jit=False),
                    "jax-jit": _jax(mode, jit=True),
                },
                goal=Goal(goal),
                replay_goal=Goal(goal),
                rtol=1e-10,
                notes=[f"peers use jac{mode}; autograd has reverse mode only; replay: "
                       f"cf.jacobian(x, mode={REPLAY_MODE[transform]!r})"],
            )
        )
    return tasks
