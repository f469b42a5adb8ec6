"""A training step as a pure function: how stateful layers behave when it is recorded.

An eager training step has two side effects besides the gradients: BatchNorm1d updates
its running statistics, and Dropout draws its masks from its generator. A recording
(``dt.compile``) can replay neither: an update made while recording happens once, and a
mask drawn while recording would be a constant of every replay. Inside
``with functional_step(state):`` the two layers behave as pure functions instead:

- BatchNorm1d (training mode, tracking statistics) *reports* the batch mean and the
  unbiased batch variance (as values of the step, so a replay recomputes them) through
  :meth:`StepState.batch_statistics`; the caller applies them with
  ``module._update_running(mean, var)`` after the step, as the eager step would have;
- Dropout takes its scaled keep-mask from ``state.masks`` (drawn by the caller with
  :meth:`Dropout.draw_mask`, from the layer's own generator, in the order the eager
  forward pass draws them). With ``masks=None`` it draws nothing and only notes the
  shape it needs (a *shape probe*, run once per batch shape).

The state is per thread.

>>> import numpy as np
>>> from dualtape import nn
>>> model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.BatchNorm1d(4), nn.Dropout(0.5, rng=1))
>>> probe = StepState()
>>> with functional_step(probe):
...     _ = model(np.ones((5, 3)))
>>> [(type(m).__name__, shape) for m, shape in probe.mask_shapes]
[('Dropout', (5, 4))]
>>> [type(m).__name__ for m, _, _ in probe.stats], model[1].num_batches_tracked
(['BatchNorm1d'], array(0))
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..errors import DualtapeError

__all__ = ["StepError", "StepState", "current_step", "functional_step"]

_LOCAL = threading.local()


class StepError(DualtapeError, RuntimeError):
    """A model does not run as the recorded pure step expects (e.g. a Dropout layer called
    in another order or on another shape than the probe found)."""


class StepState:
    """What the stateful layers report or receive during one functional step.

    Args:
        masks: the dropout masks, in call order (None: a shape probe).
        expected: the probe's ``(module, shape)`` list the masks were drawn for; each
            Dropout call is checked against it.
    """

    def __init__(self, masks: Sequence[Any] | None = None,
                 expected: Sequence[tuple] | None = None) -> None:
        self.masks, self.expected = masks, expected
        self.mask_shapes: list[tuple[Any, tuple]] = []
        self.stats: list[tuple[Any, Any, Any]] = []

    def dropout_mask(self, module: Any, shape: tuple) -> Any:
        """The next mask for ``module`` (input of that shape), or None in a shape probe."""
        i = len(self.mask_shapes)
        self.mask_shapes.append((module, tuple(shape)))
        if self.masks is None:
            return None
        if self.expected is not None and (i >= len(self.expected) or
                                          self.expected[i][0] is not module or
                                          tuple(self.expected[i][1]) != tuple(shape)):
            raise StepError(f"Dropout call {i} ({module!r} on shape {tuple(shape)}) does not "
                            f"match the shape probe of this batch; the model's dropout calls "
                            f"depend on more than the batch shape")
        if i >= len(self.masks):
            raise StepError(f"Dropout call {i}: only {len(self.masks)} mask(s) were drawn")
        return self.masks[i]

    def batch_statistics(self, module: Any, mean: Any, var: Any) -> None:
        """BatchNorm1d's batch mean and unbiased variance, to update its running stats."""
        self.stats.append((module, mean, var))


def current_step() -> StepState | None:
    """The functional step running in this thread, or None (eager: layers as usual)."""
    return getattr(_LOCAL, "state", None)


@contextmanager
def functional_step(state: StepState) -> Iterator[StepState]:
    """Run the stateful layers as pure functions reporting to ``state`` (see module doc)."""
    previous = current_step()
    _LOCAL.state = state
    try:
        yield state
    finally:
        _LOCAL.state = previous
