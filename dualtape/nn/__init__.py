"""Neural networks on the object API: modules, losses, an MLP builder and a trainer.

Modules hold their parameters as leaf ``dt.Tensor`` attributes (found automatically);
their forward passes are plain NumPy calls and fused registered primitives
(:mod:`dualtape.nn.functional`), so ``loss.backward()`` fills every ``p.grad``.

>>> import numpy as np, dualtape as dt
>>> from dualtape import nn
>>> model = nn.Sequential(nn.Linear(4, 8, rng=0), nn.ReLU(), nn.Linear(8, 3, rng=1))
>>> loss = nn.CrossEntropyLoss()(model(np.ones((5, 4))), np.array([0, 1, 2, 0, 1]))
>>> loss.backward()
>>> [p.grad.shape for p in model.parameters()]
[(8, 4), (8,), (3, 8), (3,)]
"""

from . import functional  # noqa: F401  (registers the fused primitives)
from .checkpoint import load_checkpoint, save_checkpoint
from .compiled_step import CompileError
from .init import manual_seed
from .layers import BatchNorm1d, Dropout, Identity, Linear, ReLU, Sigmoid, Tanh
from .losses import CrossEntropyLoss, MSELoss
from .mlp import mlp
from .module import Module, Parameter, Sequential
from .trainer import History, Trainer, evaluate

__all__ = [
    "BatchNorm1d", "CompileError", "CrossEntropyLoss", "Dropout", "History", "Identity", "Linear",
    "MSELoss", "Module", "Parameter", "ReLU", "Sequential", "Sigmoid", "Tanh", "Trainer",
    "evaluate", "functional", "load_checkpoint", "manual_seed", "mlp", "save_checkpoint",
]
