"""The optimizer base class: parameters, per-parameter state, zero_grad, state_dict."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tape import Tensor, no_grad

__all__ = ["Optimizer"]


class Optimizer:
    """Base of the optimizers. Subclasses set ``hyperparameters`` and implement ``_update``.

    ``step()`` reads ``p.grad`` (a plain ndarray) and updates ``p.data`` in place under
    ``dt.no_grad()``, so an update never records on a tape. Parameters whose ``grad``
    is None are skipped.

    Args:
        params: the Tensors to update (e.g. ``model.parameters()``).
    """

    #: names of the float attributes saved by state_dict (lr, momentum, ...).
    hyperparameters: tuple[str, ...] = ("lr",)

    def __init__(self, params: Iterable[Tensor]) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(f"{type(self).__name__}: parameter {i} is not a Tensor with "
                                f"requires_grad=True (got {type(p).__name__})")
        self.state: list[dict[str, np.ndarray]] = [{} for _ in self.params]
        self.step_count = 0

    def zero_grad(self) -> None:
        """Forget the gradients of all parameters (``p.grad = None``)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Apply one update to every parameter that has a gradient."""
        self.step_count += 1
        with no_grad():
            for p, state in zip(self.params, self.state):
                g = p.grad
                if g is None:
                    continue
                w = p.data
                if not isinstance(w, np.ndarray) or not w.flags.writeable:
                    w = p.data = np.array(w, dtype=np.float64)  # own a writable array
                self._update(w, np.asarray(g), state)

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """Hyperparameters, step count and per-parameter buffers (copies)."""
        return {
            "hyperparameters": {k: getattr(self, k) for k in self.hyperparameters},
            "step_count": self.step_count,
            "state": [{k: v.copy() for k, v in s.items()} for s in self.state],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (same parameters, same order)."""
        buffers = state["state"]
        if len(buffers) != len(self.params):
            raise ValueError(f"optimizer state has {len(buffers)} parameters, this "
                             f"{type(self).__name__} has {len(self.params)}")
        for i, (p, s) in enumerate(zip(self.params, buffers)):
            for k, v in s.items():
                if np.shape(v) != np.shape(p.data):
                    raise ValueError(f"optimizer state {k!r} of parameter {i} has shape "
                                     f"{np.shape(v)}, the parameter {np.shape(p.data)}")
        for k, v in state["hyperparameters"].items():
            setattr(self, k, v)
        self.step_count = int(state["step_count"])
        self.state = [{k: np.array(v, dtype=np.float64) for k, v in s.items()} for s in buffers]

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={getattr(self, k)}" for k in self.hyperparameters)
        return f"{type(self).__name__}({hyper})"
