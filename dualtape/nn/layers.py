"""Layers: Linear, BatchNorm1d, Dropout and the activations (ReLU, Sigmoid, Tanh, Identity).

Every forward pass is made of registered primitives (the fused ones of
:mod:`dualtape.nn.functional` on the hot path), so gradients come from the tape.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit

from ..registry import plain
from . import functional as F
from .init import as_generator, uniform
from .module import Module, Parameter
from .stateless import current_step

__all__ = ["BatchNorm1d", "Dropout", "Identity", "Linear", "ReLU", "Sigmoid", "Tanh"]


def shape_of(x: Any) -> tuple:
    """Shape of an array, Tensor or nested list (never dispatches on a Tensor)."""
    shape = getattr(x, "shape", None)
    return shape if shape is not None else np.shape(x)


class Linear(Module):
    """``y = x W^T + b`` with ``W`` of shape ``(out_features, in_features)`` (PyTorch layout).

    Weights and bias start uniform in ``(-1/sqrt(in), 1/sqrt(in))``.

    Args:
        in_features: size of each input row.
        out_features: size of each output row.
        bias: learn an additive bias.
        rng: seed or ``np.random.Generator`` of the initialisation (None: the nn default
            generator, see :func:`dualtape.nn.manual_seed`).

    >>> import numpy as np
    >>> lin = Linear(3, 2, rng=0)
    >>> x = np.ones((4, 3))
    >>> np.allclose(lin(x).data, x @ lin.weight.data.T + lin.bias.data)
    True
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 rng: int | np.random.Generator | None = None) -> None:
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        gen = as_generator(rng)
        bound = 1.0 / np.sqrt(in_features)
        self.weight = Parameter(uniform((out_features, in_features), bound, gen))
        self.bias = Parameter(uniform((out_features,), bound, gen)) if bias else None

    def forward(self, x: Any) -> Any:
        if self.bias is not None and len(shape_of(x)) == 2:
            return F.linear(x, self.weight, self.bias)  # one fused tape entry
        out = x @ self.weight.T
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, bias={self.bias is not None}"


class BatchNorm1d(Module):
    """Batch normalisation over the batch axis of ``(batch, features)`` inputs.

    Training mode normalises with the batch mean and the *biased* batch variance and
    updates the running statistics with the *unbiased* one::

        running = (1 - momentum) * running + momentum * batch_statistic

    ``momentum`` has PyTorch's meaning; the course writes the same update as
    ``running = alpha * running + (1 - alpha) * batch`` with ``alpha = 1 - momentum``
    (0.9 by default). ``momentum=None`` gives the cumulative average instead.
    Evaluation mode normalises with the running statistics.

    Args:
        num_features: number of features (columns).
        eps: added to the variance before the square root.
        momentum: weight of the new batch statistic in the running average.
        affine: learn a per-feature scale ``weight`` (gamma) and shift ``bias`` (beta).
        track_running_stats: keep running statistics; if False, evaluation mode also
            uses batch statistics.

    >>> import numpy as np
    >>> bn = BatchNorm1d(2)
    >>> y = bn(np.array([[1.0, 10.0], [3.0, 30.0]]))
    >>> y.data.round(4)
    array([[-1., -1.],
           [ 1.,  1.]])
    >>> bn.running_mean, bn.running_var
    (array([0.2, 2. ]), array([ 1.1, 20.9]))
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = Parameter(np.ones(num_features)) if affine else None
        self.bias = Parameter(np.zeros(num_features)) if affine else None
        self._ones, self._zeros = np.ones(num_features), np.zeros(num_features)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features))
            self.register_buffer("running_var", np.ones(num_features))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))

    @property
    def gamma(self) -> Any:
        """The course's name for ``weight``."""
        return self.weight

    @property
    def beta(self) -> Any:
        """The course's name for ``bias``."""
        return self.bias

    def forward(self, x: Any) -> Any:
        shape = shape_of(x)
        if len(shape) != 2 or shape[1] != self.num_features:
            raise ValueError(f"BatchNorm1d({self.num_features}) expects input of shape "
                             f"(batch, {self.num_features}), got {tuple(shape)}")
        gamma = self.weight if self.affine else self._ones
        beta = self.bias if self.affine else self._zeros
        if self.training or not self.track_running_stats:
            if shape[0] < 2 and self.training:
                raise ValueError("BatchNorm1d in training mode needs more than 1 sample per "
                                 "batch (the batch variance of one sample is 0); use "
                                 "model.eval() or a larger batch")
            step = current_step()
            if step is not None and self.training and self.track_running_stats:
                return self._functional(x, gamma, beta, step)
            stats = None
            if self.training and self.track_running_stats:
                data = plain(x)
                mean, ssd, inv_std = F.batch_stats(np.asarray(data, dtype=float), self.eps)
                self._update_running(mean, ssd * (1.0 / (shape[0] - 1)))
                if type(data) is np.ndarray:
                    stats = (mean, inv_std)  # reused by the primitive's impl and vjp
            return F.batch_norm(x, gamma, beta, eps=self.eps, stats=stats)
        scale = gamma * (1.0 / np.sqrt(self.running_var + self.eps))
        return (x - self.running_mean) * scale + beta

    def _functional(self, x: Any, gamma: Any, beta: Any, step: Any) -> Any:
        """Training mode as a pure function (see :mod:`dualtape.nn.stateless`): the batch
        statistics are computed from ``x`` as values of the step and reported, not applied.

        The formulas of :func:`~dualtape.nn.functional.batch_stats`, so the numbers are
        those of the eager step bit for bit. Their plain values go to ``batch_norm`` as
        ``stats``, as in the eager step: a recording sees them as the values of these
        nodes, so a replay passes the recomputed ones."""
        n = shape_of(x)[0]
        mean = np.sum(x, axis=0) * (1.0 / n)
        d = x - mean
        ssd = np.sum(d * d, axis=0)
        inv_std = 1.0 / np.sqrt(ssd * (1.0 / n) + self.eps)
        step.batch_statistics(self, mean, ssd * (1.0 / (n - 1)))
        stats = (plain(mean), plain(inv_std)) if type(plain(x)) is np.ndarray else None
        return F.batch_norm(x, gamma, beta, eps=self.eps, stats=stats)

    def _update_running(self, mean: np.ndarray, var: np.ndarray) -> None:
        self.num_batches_tracked = self.num_batches_tracked + 1
        m = self.momentum if self.momentum is not None else 1.0 / self.num_batches_tracked
        self.running_mean = (1.0 - m) * self.running_mean + m * mean
        self.running_var = (1.0 - m) * self.running_var + m * var

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class Dropout(Module):
    """Zero each input with probability ``p`` in training mode, scaling the rest by 1/(1-p).

    The mask comes from the layer's own generator, whose state is saved in checkpoints
    (:meth:`get_extra_state`), so a resumed run draws the same masks.

    >>> import numpy as np
    >>> d = Dropout(0.5, rng=0)
    >>> sorted(set(d(np.ones(8)).data.tolist()))
    [0.0, 2.0]
    >>> d.eval()(np.ones(2))
    array([1., 1.])
    """

    def __init__(self, p: float = 0.5, rng: int | np.random.Generator | None = None) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout probability must be in [0, 1], got {p}")
        self.p = float(p)
        self.generator = np.random.default_rng(as_generator(rng).integers(2**63))

    def forward(self, x: Any) -> Any:
        if not self.training or self.p == 0.0:
            return x
        step = current_step()
        if step is None:
            return x * self.draw_mask(shape_of(x))
        mask = step.dropout_mask(self, shape_of(x))  # drawn by the caller (a recorded step)
        return x if mask is None else x * mask

    def draw_mask(self, shape: tuple) -> np.ndarray:
        """The next scaled keep-mask from this layer's generator: 0 where an input is
        dropped, ``1 / (1 - p)`` elsewhere (what training mode multiplies its input by)."""
        keep = self.generator.random(shape) >= self.p
        return keep * (1.0 / (1.0 - self.p)) if self.p < 1.0 else keep * 0.0

    def get_extra_state(self) -> dict:
        return self.generator.bit_generator.state

    def set_extra_state(self, state: dict) -> None:
        self.generator.bit_generator.state = state

    def extra_repr(self) -> str:
        return f"p={self.p}"


class ReLU(Module):
    """``max(x, 0)``; the derivative at 0 is 0."""

    def forward(self, x: Any) -> Any:
        return F.relu(x)


class Sigmoid(Module):
    """``1 / (1 + exp(-x))``, computed stably by ``scipy.special.expit``."""

    def forward(self, x: Any) -> Any:
        return expit(x)


class Tanh(Module):
    """``tanh(x)``."""

    def forward(self, x: Any) -> Any:
        return np.tanh(x)


class Identity(Module):
    """Returns its input unchanged."""

    def forward(self, x: Any) -> Any:
        return x
