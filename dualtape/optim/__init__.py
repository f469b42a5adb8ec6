"""Optimizers that update ``dt.Tensor`` parameters in place from their ``.grad``.

>>> import numpy as np, dualtape as dt
>>> from dualtape.optim import SGD
>>> w = dt.Tensor(np.array([3.0]), requires_grad=True)
>>> opt = SGD([w], lr=0.25)
>>> for _ in range(3):
...     opt.zero_grad(); loss = np.sum(w * w); loss.backward(); opt.step()
>>> w.data      # each step halves w: w - 0.25 * 2w
array([0.375])
"""

from .adam import Adam, AdamW
from .optimizer import Optimizer
from .schedulers import CosineAnnealingLR, ExponentialLR, LRScheduler, StepLR
from .sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "CosineAnnealingLR", "ExponentialLR", "LRScheduler",
           "Optimizer", "StepLR"]
