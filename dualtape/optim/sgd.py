"""Stochastic gradient descent with momentum, in the course's form."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..tape import Tensor
from .optimizer import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    """SGD with (optional) momentum, Nesterov momentum and L2 weight decay.

    With ``g = grad + weight_decay * w``, each step is (the course's form)::

        v = momentum * v - lr * g
        w = w + v                              # classical momentum
        w = w + momentum * v - lr * g          # nesterov=True

    For a constant learning rate this is PyTorch's SGD with ``v_torch = -v / lr``.

    Args:
        params: Tensors to update.
        lr: learning rate.
        momentum: beta in the update above (0: plain SGD).
        nesterov: Nesterov's look-ahead momentum.
        weight_decay: L2 penalty coefficient, added to the gradient.

    >>> import numpy as np, dualtape as dt
    >>> w = dt.Tensor(np.array([1.0]), requires_grad=True)
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     w.grad = np.array([1.0]); opt.step()
    >>> w.data.round(4)      # 1 - 0.1, then - (0.9 * 0.1 + 0.1)
    array([0.71])
    """

    hyperparameters = ("lr", "momentum", "nesterov", "weight_decay")

    def __init__(self, params: Iterable[Tensor], lr: float = 0.01, momentum: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0) -> None:
        super().__init__(params)
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError(f"SGD needs lr, momentum, weight_decay >= 0; got {lr}, "
                             f"{momentum}, {weight_decay}")
        if nesterov and momentum == 0:
            raise ValueError("SGD(nesterov=True) needs a momentum > 0")
        self.lr, self.momentum = float(lr), float(momentum)
        self.nesterov, self.weight_decay = bool(nesterov), float(weight_decay)

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        if self.weight_decay:
            g = g + self.weight_decay * w
        if not self.momentum:
            w -= self.lr * g
            return
        v = state.get("velocity")
        if v is None:
            v = state["velocity"] = np.zeros_like(w)
        v *= self.momentum
        v -= self.lr * g
        if self.nesterov:
            w += self.momentum * v - self.lr * g
        else:
            w += v
