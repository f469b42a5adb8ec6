"""Build multilayer perceptrons: the course network and its wider relatives."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .init import as_generator
from .layers import BatchNorm1d, Dropout, Linear, ReLU, Sigmoid, Tanh
from .module import Module, Sequential

__all__ = ["mlp"]

_ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}


def mlp(sizes: Sequence[int], batchnorm: bool = False, activation: str = "relu",
        dropout: float = 0.0, rng: int | np.random.Generator | None = None) -> Sequential:
    """``Linear -> [BatchNorm1d] -> activation -> [Dropout]`` per hidden layer, then Linear.

    Args:
        sizes: layer widths, input first, e.g. ``(784, 20, 10)``.
        batchnorm: a BatchNorm1d after every hidden Linear (the course network).
        activation: ``"relu"``, ``"tanh"`` or ``"sigmoid"``.
        dropout: dropout probability after every hidden activation (0: none).
        rng: seed or generator of the initialisation (and of the dropout masks).

    >>> mlp((784, 20, 10), batchnorm=True, rng=0)
    Sequential(
      (0): Linear(784, 20, bias=True)
      (1): BatchNorm1d(20, eps=1e-05, momentum=0.1)
      (2): ReLU()
      (3): Linear(20, 10, bias=True)
    )
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"mlp needs at least an input and an output width >= 1, got {sizes}")
    if activation not in _ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; use one of {sorted(_ACTIVATIONS)}")
    gen = as_generator(rng)
    layers: list[Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(fan_in, fan_out, rng=gen))
        if i == len(sizes) - 2:
            break
        if batchnorm:
            layers.append(BatchNorm1d(fan_out))
        layers.append(_ACTIVATIONS[activation]())
        if dropout > 0:
            layers.append(Dropout(dropout, rng=gen))
    return Sequential(*layers)
