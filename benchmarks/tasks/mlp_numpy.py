"""The MLP problem and its hand-written NumPy forward/backward/update (task 6 baseline).

Networks are Linear layers with ReLU between them, optionally BatchNorm1d (batch
statistics, biased variance, eps = 1e-5, affine; no running statistics) after every
hidden Linear, and a softmax cross-entropy loss averaged over the batch. Parameters
live in a flat dict: ``W1, b1, [gamma1, beta1,] W2, b2, ...`` with ``W`` of shape
(fan_in, fan_out). The update is SGD with momentum as PyTorch defines it:
``v = mu * v + g; p -= lr * v``.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

EPS = 1e-5
LR = 0.05
MOMENTUM = 0.9

Params = dict[str, np.ndarray]


@dataclass(frozen=True)
class Net:
    """Layer widths, e.g. (784, 20, 10), and whether hidden layers are batch-normalised."""

    sizes: tuple[int, ...]
    batchnorm: bool

    @property
    def layers(self) -> int:
        """Number of Linear layers."""
        return len(self.sizes) - 1

    @property
    def label(self) -> str:
        """E.g. ``784-20-BN-ReLU-10``."""
        act = "-BN-ReLU" if self.batchnorm else "-ReLU"
        hidden = [f"{s}{act}" for s in self.sizes[1:-1]]
        return "-".join([str(self.sizes[0]), *hidden, str(self.sizes[-1])])


def init_params(net: Net, seed: int = 0) -> Params:
    """PyTorch-like uniform(+-1/sqrt(fan_in)) weights and biases; gamma = 1, beta = 0."""
    rng = np.random.default_rng(seed)
    params: Params = {}
    for i in range(1, net.layers + 1):
        fan_in, fan_out = net.sizes[i - 1], net.sizes[i]
        bound = 1.0 / np.sqrt(fan_in)
        params[f"W{i}"] = rng.uniform(-bound, bound, (fan_in, fan_out))
        params[f"b{i}"] = rng.uniform(-bound, bound, fan_out)
        if net.batchnorm and i < net.layers:
            params[f"gamma{i}"] = np.ones(fan_out)
            params[f"beta{i}"] = np.zeros(fan_out)
    return params


def make_batch(net: Net, batch: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(X, Y_onehot, labels)``: a fixed random batch."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, net.sizes[0]))
    labels = rng.integers(0, net.sizes[-1], batch)
    return X, np.eye(net.sizes[-1])[labels], labels


def loss_generic(params: Any, X: Any, Y: Any, net: Net, xp: ModuleType = np) -> Any:
    """The loss in array-API calls only (``xp`` = numpy, autograd.numpy or jax.numpy)."""
    a = X
    for i in range(1, net.layers + 1):
        z = a @ params[f"W{i}"] + params[f"b{i}"]
        if i == net.layers:
            break
        if net.batchnorm:
            d = z - xp.mean(z, axis=0)
            z = d / xp.sqrt(xp.mean(d * d, axis=0) + EPS) * params[f"gamma{i}"] + params[f"beta{i}"]
        a = xp.maximum(z, 0.0)
    s = z - xp.max(z, axis=1, keepdims=True)
    logp = s - xp.log(xp.sum(xp.exp(s), axis=1, keepdims=True))
    return -xp.sum(Y * logp) / X.shape[0]


def loss_and_grads(params: Params, X: np.ndarray, Y: np.ndarray, net: Net) -> tuple[float, Params]:
    """Hand-written forward and backward pass."""
    B = X.shape[0]
    acts = [X]            # input of each Linear layer
    cache = {}            # per hidden layer: (xhat, inv_std, post-BN pre-ReLU value)
    a = X
    for i in range(1, net.layers + 1):
        z = a @ params[f"W{i}"] + params[f"b{i}"]
        if i == net.layers:
            break
        xhat = inv_std = None
        if net.batchnorm:
            d = z - z.mean(axis=0)
            inv_std = 1.0 / np.sqrt((d * d).mean(axis=0) + EPS)
            xhat = d * inv_std
            z = xhat * params[f"gamma{i}"] + params[f"beta{i}"]
        cache[i] = (xhat, inv_std, z)
        a = np.maximum(z, 0.0)
        acts.append(a)
    s = z - z.max(axis=1, keepdims=True)
    e = np.exp(s)
    sum_e = e.sum(axis=1, keepdims=True)
    loss = float(-(Y * (s - np.log(sum_e))).sum() / B)

    grads: Params = {}
    dz = (e / sum_e - Y) / B
    for i in range(net.layers, 0, -1):
        grads[f"W{i}"] = acts[i - 1].T @ dz
        grads[f"b{i}"] = dz.sum(axis=0)
        if i == 1:
            break
        xhat, inv_std, h = cache[i - 1]
        dh = (dz @ params[f"W{i}"].T) * (h > 0)
        if net.batchnorm:
            grads[f"gamma{i - 1}"] = (dh * xhat).sum(axis=0)
            grads[f"beta{i - 1}"] = dh.sum(axis=0)
            dxhat = dh * params[f"gamma{i - 1}"]
            dz = inv_std / B * (
                B * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0)
            )
        else:
            dz = dh
    return loss, grads


def sgd_momentum(params: Params, velocity: Params, grads: Any) -> None:
    """In place: ``v = mu * v + g; p -= lr * v`` for every parameter."""
    for k, p in params.items():
        v = velocity[k]
        v *= MOMENTUM
        v += grads[k]
        p -= LR * v


def copy_state(params: Params) -> tuple[Params, Params]:
    """Fresh copies of the parameters and zero velocities (builders mutate their state)."""
    copies = {k: v.copy() for k, v in params.items()}
    return copies, {k: np.zeros_like(v) for k, v in params.items()}


def one_step(params: Params, X: np.ndarray, Y: np.ndarray, net: Net) -> Params:
    """Parameters after one baseline step from ``params`` (the reference of the check)."""
    p, v = copy_state(params)
    _, grads = loss_and_grads(p, X, Y, net)
    sgd_momentum(p, v, grads)
    return p
