"""Losses: softmax cross-entropy from logits (integer labels) and mean squared error."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..registry import Box, plain
from . import functional as F
from .layers import shape_of
from .module import Module

__all__ = ["CrossEntropyLoss", "MSELoss"]


class CrossEntropyLoss(Module):
    """Softmax cross-entropy from logits, averaged over the batch.

    ``loss = mean_i [ logsumexp(z_i) - z_i[y_i] ]``, computed with the log-sum-exp
    trick by the fused primitive ``softmax_cross_entropy`` (one tape entry whose vjp
    is ``(softmax(z) - onehot(y)) / B``).

    >>> import numpy as np
    >>> loss = CrossEntropyLoss()(np.array([[2.0, 0.0], [0.0, 2.0]]), np.array([0, 0]))
    >>> round(float(loss), 4)
    1.1269
    """

    def forward(self, logits: Any, target: Any) -> Any:
        # traced labels (a recorded step, where they are data of each replay) keep their
        # checks traced, so a replay with other labels checks them again
        labels = target if isinstance(target, Box) else np.asarray(target)
        shape = shape_of(logits)
        if len(shape) != 2:
            raise ValueError(f"CrossEntropyLoss expects logits of shape (batch, classes), "
                             f"got {tuple(shape)}")
        if labels.shape != shape[:1] or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"CrossEntropyLoss expects integer class labels of shape "
                             f"({shape[0]},), got dtype {labels.dtype} shape {labels.shape}")
        if labels.size and (labels.min() < 0 or labels.max() >= shape[1]):
            raise ValueError(f"CrossEntropyLoss: labels must be in 0..{shape[1] - 1}, got "
                             f"{labels.min()}..{labels.max()}")
        return F.softmax_cross_entropy(logits, labels=plain(labels))


class MSELoss(Module):
    """Mean squared error ``mean((prediction - target) ** 2)`` over all elements.

    >>> import numpy as np
    >>> float(MSELoss()(np.array([1.0, 3.0]), np.array([0.0, 0.0])))
    5.0
    """

    def forward(self, prediction: Any, target: Any) -> Any:
        d = prediction - target
        return np.mean(d * d)
