"""MLP training step (task 6): forward + backward + SGD-momentum update, one fixed batch.

Every implementation starts from the same parameters; the check compares the update
of its first step with the hand-written NumPy step (``mlp_numpy``), then each timed
call takes one more step on its own state. The replayed column compiles the loss over
the parameter dict once (``dt.compile``, untimed) and replays its gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from benchmarks import peers
from benchmarks.spec import Goal, Task, compare, to_numpy
from benchmarks.tasks.mlp_numpy import (
    EPS,
    LR,
    MOMENTUM,
    Net,
    copy_state,
    init_params,
    loss_and_grads,
    loss_generic,
    make_batch,
    one_step,
    sgd_momentum,
)

COURSE = Net((784, 20, 10), batchnorm=True)
WIDE = Net((784, 256, 256, 10), batchnorm=False)
CASES = {
    "full": [("mlp-course", COURSE, 100, 1.5), ("mlp-256", WIDE, 128, 1.2)],
    "tiny": [
        ("mlp-course", Net((12, 5, 3), True), 8, 1.5),
        ("mlp-256", Net((12, 6, 6, 3), False), 8, 1.2),
    ],
}
CASES["quick"] = CASES["full"]

Problem = dict[str, Any]


def make_problem(net: Net, batch: int) -> Problem:
    """The network, its initial parameters and a fixed batch."""
    X, Y, labels = make_batch(net, batch)
    return {"net": net, "params": init_params(net), "X": X, "Y": Y, "labels": labels}


def _baseline(p: Problem) -> Callable[[], Any]:
    params, velocity = copy_state(p["params"])
    X, Y, net = p["X"], p["Y"], p["net"]

    def step() -> Any:
        _, grads = loss_and_grads(params, X, Y, net)
        sgd_momentum(params, velocity, grads)
        return params

    return step


class LiveView(Mapping):
    """Our parameter names mapped to getters that read a module's tensors when accessed."""

    def __init__(self, getters: dict[str, Callable[[], Any]]) -> None:
        self._getters = getters

    def __getitem__(self, key: str) -> Any:
        return self._getters[key]()

    def __iter__(self) -> Iterator[str]:
        return iter(self._getters)

    def __len__(self) -> int:
        return len(self._getters)


def _dualtape_nn(p: Problem) -> Callable[[], Any]:
    """dualtape.nn modules, CrossEntropyLoss and dualtape.optim.SGD (the object API)."""
    peers.dualtape()
    try:
        from dualtape import nn, optim
    except ImportError as exc:
        raise peers.ToolUnavailable(f"dualtape.nn / dualtape.optim not importable ({exc})") from exc
    net, init = p["net"], p["params"]
    layers: list[Any] = []
    getters: dict[str, Callable[[], Any]] = {}
    for i in range(1, net.layers + 1):
        lin = nn.Linear(net.sizes[i - 1], net.sizes[i])
        lin.weight.data = init[f"W{i}"].T.copy()
        lin.bias.data = init[f"b{i}"].copy()
        getters[f"W{i}"] = lambda lin=lin: lin.weight.data.T
        getters[f"b{i}"] = lambda lin=lin: lin.bias.data
        layers.append(lin)
        if i == net.layers:
            break
        if net.batchnorm:
            bn = nn.BatchNorm1d(net.sizes[i], eps=EPS, track_running_stats=False)
            getters[f"gamma{i}"] = lambda bn=bn: bn.weight.data
            getters[f"beta{i}"] = lambda bn=bn: bn.bias.data
            layers.append(bn)
        layers.append(nn.ReLU())
    model = nn.Sequential(*layers).train()
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    X, labels, view = p["X"], p["labels"], LiveView(getters)

    def step() -> Any:
        opt.zero_grad()
        loss_fn(model(X), labels).backward()
        opt.step()
        return view

    return step


def _dualtape_grad(p: Problem) -> Callable[[], Any]:
    """dt.grad over the dict of parameters (the loss in plain NumPy)."""
    dt = peers.dualtape()
    params, velocity = copy_state(p["params"])
    X, Y, net = p["X"], p["Y"], p["net"]
    g = dt.grad(lambda prm: loss_generic(prm, X, Y, net))

    def step() -> Any:
        sgd_momentum(params, velocity, g(params))
        return params

    return step


def _replay(p: Problem) -> Callable[[], Any]:
    """dt.compile of the loss over the parameter dict and the batch (the net static),
    recorded once in the builder; the step replays its gradient, then SGD in NumPy."""
    compile_ = peers.dualtape_compile()
    params, velocity = copy_state(p["params"])
    X, Y, net = p["X"], p["Y"], p["net"]
    example = {k: v + 0.01 for k, v in params.items()}  # recorded away from the start
    cf = compile_(loss_generic, example, X, Y, net, static_argnums=(3,))
    peers.no_retrace(cf, lambda: cf.grad(params, X, Y, net))

    def step() -> Any:
        sgd_momentum(params, velocity, cf.grad(params, X, Y, net))
        return params

    return step


def _autograd(p: Problem) -> Callable[[], Any]:
    ag, anp = peers.autograd()
    params, velocity = copy_state(p["params"])
    X, Y, net = p["X"], p["Y"], p["net"]
    g = ag.grad(lambda prm: loss_generic(prm, X, Y, net, anp))

    def step() -> Any:
        sgd_momentum(params, velocity, g(params))
        return params

    return step


def _torch(p: Problem) -> Callable[[], Any]:
    """torch.nn modules, CrossEntropyLoss and torch.optim.SGD, eager."""
    th = peers.torch()
    nn, net, init = th.nn, p["net"], p["params"]
    layers: list[Any] = []
    view: dict[str, Any] = {}  # our parameter names -> live views of the module's tensors
    with th.no_grad():
        for i in range(1, net.layers + 1):
            lin = nn.Linear(net.sizes[i - 1], net.sizes[i])
            lin.weight.copy_(th.from_numpy(init[f"W{i}"].T))
            lin.bias.copy_(th.from_numpy(init[f"b{i}"]))
            view[f"W{i}"], view[f"b{i}"] = lin.weight.T, lin.bias
            layers.append(lin)
            if i == net.layers:
                break
            if net.batchnorm:
                bn = nn.BatchNorm1d(net.sizes[i], eps=EPS, track_running_stats=False)
                view[f"gamma{i}"], view[f"beta{i}"] = bn.weight, bn.bias
                layers.append(bn)
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers).train()
    loss_fn = nn.CrossEntropyLoss()
    opt = th.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    X, labels = th.from_numpy(p["X"]), th.from_numpy(p["labels"])

    def step() -> Any:
        opt.zero_grad(set_to_none=True)
        loss_fn(model(X), labels).backward()
        opt.step()
        return view

    return step


def _jax(p: Problem, jit: bool = False) -> Callable[[], Any]:
    jx, jnp = peers.jax()
    net = p["net"]
    X, Y = jnp.asarray(p["X"]), jnp.asarray(p["Y"])
    g = jx.grad(lambda prm: loss_generic(prm, X, Y, net, jnp))

    def update(params: Any, velocity: Any) -> tuple[Any, Any]:
        velocity = jx.tree.map(lambda v, d: MOMENTUM * v + d, velocity, g(params))
        return jx.tree.map(lambda w, v: w - LR * v, params, velocity), velocity

    if jit:
        update = jx.jit(update)
    params, velocity = copy_state(p["params"])
    state = [jx.tree.map(jnp.asarray, params), jx.tree.map(jnp.asarray, velocity)]

    def step() -> Any:
        state[0], state[1] = peers.jax_ready(update(state[0], state[1]))
        return state[0]

    return step


def _check(p: Problem, result: Any, expected: Any) -> str | None:
    """Compare the first update (new - initial parameters) with the baseline's."""
    init, got = p["params"], to_numpy(result)
    missing = sorted(set(init) - set(got))
    if missing:
        return f"missing parameters {missing}"
    return compare({k: got[k] - init[k] for k in init},
                   {k: expected[k] - init[k] for k in init}, 1e-7)


def make_tasks(scale: str) -> list[Task]:
    """The course network and the wide MLP, each also as dt.grad over a parameter dict."""
    tasks = []
    for name, net, batch, goal in CASES[scale]:
        common = dict(
            baseline_name="hand-written NumPy fwd/bwd/SGD",
            setup=lambda net=net, batch=batch: make_problem(net, batch),
            reference=lambda p: one_step(p["params"], p["X"], p["Y"], p["net"]),
            baseline=_baseline,
            check=_check,
        )
        bn = ["BatchNorm uses batch statistics only (no running stats)"] if net.batchnorm else []
        tasks.append(Task(
            name=name,
            title=f"MLP step {net.label} batch {batch}",
            impls={
                "dualtape": _dualtape_nn,
                peers.REPLAY: _replay,
                "autograd": _autograd,
                "torch": _torch,
                "jax": _jax,
                "jax-jit": lambda p: _jax(p, jit=True),
            },
            goal=Goal(goal),
            replay_goal=Goal(goal),
            notes=[*bn, "dualtape: nn modules + optim.SGD; dualtape-replay: dt.compile of the "
                   "loss over the parameter dict (batch as input), SGD-momentum in NumPy"],
            **common,
        ))
        tasks.append(Task(
            name=f"{name}-grad",
            title=f"MLP step {net.label} batch {batch}, dt.grad over a dict",
            impls={"dualtape": _dualtape_grad},
            notes=bn,
            **common,
        ))
    return tasks
