"""Adam (Kingma & Ba, 2015) and AdamW (decoupled weight decay)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..tape import Tensor
from .optimizer import Optimizer

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam with bias correction; ``weight_decay`` is an L2 term added to the gradient.

    With ``t`` the step count::

        m = b1 * m + (1 - b1) * g;   v = b2 * v + (1 - b2) * g**2
        w = w - lr * (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t)) + eps)

    Args:
        params: Tensors to update.
        lr: step size.
        betas: ``(b1, b2)`` decay rates of the moment estimates.
        eps: added to the denominator.
        weight_decay: L2 penalty coefficient.

    >>> import numpy as np, dualtape as dt
    >>> w = dt.Tensor(np.array([1.0, -1.0]), requires_grad=True)
    >>> opt = Adam([w], lr=0.1)
    >>> w.grad = np.array([3.0, -0.5]); opt.step()
    >>> w.data.round(6)          # the first step moves every weight by about lr
    array([ 0.9, -0.9])
    """

    hyperparameters = ("lr", "betas", "eps", "weight_decay")

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params)
        b1, b2 = betas
        if lr < 0 or not (0 <= b1 < 1 and 0 <= b2 < 1) or eps < 0 or weight_decay < 0:
            raise ValueError(f"{type(self).__name__}: invalid lr={lr}, betas={betas}, "
                             f"eps={eps} or weight_decay={weight_decay}")
        self.lr, self.betas = float(lr), (float(b1), float(b2))
        self.eps, self.weight_decay = float(eps), float(weight_decay)

    def _decay(self, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        return g + self.weight_decay * w if self.weight_decay else g

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        g = self._decay(w, g)
        b1, b2 = self.betas
        if "m" not in state:
            state["m"], state["v"] = np.zeros_like(w), np.zeros_like(w)
        m, v = state["m"], state["v"]
        m *= b1
        m += (1.0 - b1) * g
        v *= b2
        v += (1.0 - b2) * (g * g)
        t = self.step_count
        denom = np.sqrt(v * (1.0 / (1.0 - b2 ** t)))
        denom += self.eps
        w -= (self.lr / (1.0 - b1 ** t)) * m / denom

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.betas = tuple(float(b) for b in self.betas)


class AdamW(Adam):
    """Adam with decoupled weight decay: ``w -= lr * weight_decay * w`` before the Adam step.

    >>> import numpy as np, dualtape as dt
    >>> w = dt.Tensor(np.array([2.0]), requires_grad=True)
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
    >>> w.grad = np.array([0.0]); opt.step(); w.data
    array([1.9])
    """

    def _decay(self, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        if self.weight_decay:
            w *= 1.0 - self.lr * self.weight_decay
        return g
