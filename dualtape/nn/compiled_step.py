"""The trainer's step recorded once (``dt.compile``) and replayed: loss, logits, gradients.

The model runs as a pure function of its parameters (:mod:`dualtape.nn.stateless`):
``loss(trainable, frozen, xb, yb, masks, signature)`` swaps the parameter values into
the modules, runs the forward pass and the loss, and returns the loss with the logits
and the BatchNorm batch statistics as auxiliary outputs. It is recorded once per batch
shape and replayed with ``cf.vjp`` (one forward and one reverse sweep of generated
code). Around each replay, :class:`CompiledStep` does what the eager step does as side
effects, in the same order and with the same numbers:

- the dropout masks are drawn from each Dropout's own generator before the replay (the
  shapes come from a shape probe, one plain forward pass per batch shape that draws
  nothing), exactly the draws the eager forward pass makes;
- the running statistics of each BatchNorm1d are updated after it, from the replayed
  batch mean and variance (``BatchNorm1d._update_running``, as eager).

``signature`` (a static argument) holds what the recording reads from the modules
besides parameter values (training flags, dropout ``p``, BatchNorm ``eps``): changing
one records again. Branches in the forward pass are guarded by ``dt.compile``.

Checked, never trusted: the second replay of every recording (at parameters and data
other than the recording's) is compared with an eager evaluation of the same pure step;
a disagreement (a module reading ``.data`` or Python state, which a recording freezes)
ends compilation for the run. The trainer runs the eager step in place of one that fails
to record or replay, with the dropout generators restored first
(:meth:`CompiledStep.rng_states`), so that no draw is lost or repeated.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import DualtapeError
from ..replay import compile as dt_compile
from ..tape import Tensor
from ..transforms import value_and_grad
from .layers import BatchNorm1d, Dropout, Identity, Linear, ReLU, Sigmoid, Tanh
from .losses import CrossEntropyLoss, MSELoss
from .module import Module, Sequential
from .stateless import StepError, StepState, functional_step

__all__ = ["CompileError", "CompiledStep", "KNOWN_LOSSES", "KNOWN_MODULES", "give_up",
           "make_step", "unknown_parts"]

#: Module types whose forward pass is a pure function of parameters, inputs and (for
#: BatchNorm1d and Dropout) the state handled above: ``compile="auto"`` records only these.
KNOWN_MODULES = (Sequential, Linear, BatchNorm1d, Dropout, ReLU, Sigmoid, Tanh, Identity)
KNOWN_LOSSES = (CrossEntropyLoss, MSELoss)


class CompileError(DualtapeError, RuntimeError):
    """``compile=True`` was asked for, but the training step cannot be replayed."""


def unknown_parts(model: Module, loss_fn: Any) -> list[str]:
    """Names of the module/loss types ``compile="auto"`` does not know to be pure.

    >>> from dualtape import nn
    >>> unknown_parts(nn.mlp((4, 3, 2), dropout=0.5), nn.CrossEntropyLoss())
    []
    """
    names = {type(m).__name__ for m in model.modules() if type(m) not in KNOWN_MODULES}
    if type(loss_fn) not in KNOWN_LOSSES:
        names.add(type(loss_fn).__name__)
    return sorted(names)


def make_step(model: Module, loss_fn: Any, mode: Any) -> tuple[CompiledStep | None, str | None]:
    """The trainer's ``compile=`` choice: ``(CompiledStep or None, why not)``.

    >>> from dualtape import nn
    >>> make_step(nn.mlp((3, 2)), nn.MSELoss(), "auto")[0] is not None
    True
    """
    if not (mode is True or mode is False or mode == "auto"):
        raise ValueError(f"Trainer: compile must be 'auto', True or False, got {mode!r}")
    if mode is False:
        return None, None
    unknown = unknown_parts(model, loss_fn)
    if unknown and mode == "auto":
        return None, (f"not compiled: {', '.join(unknown)} may not be a pure function of its "
                      f"parameters (compile=True records it anyway, checked against the eager "
                      f"step)")
    return CompiledStep(model, loss_fn), None


def give_up(mode: Any, exc: BaseException, step: int) -> str:
    """Why the trainer stops replaying at ``step`` (``mode="auto"``); with ``True``, raise
    :class:`CompileError` instead."""
    detail = str(exc).strip().splitlines()
    reason = f"{type(exc).__name__}: {detail[0] if detail else ''}"
    if mode is True:
        raise CompileError(f"Trainer(compile=True): the training step cannot be replayed "
                           f"({reason}); use compile='auto' to fall back to eager steps, or "
                           f"compile=False") from exc
    return f"fell back to eager steps at step {step}: {reason}"


def _close(a: Any, b: Any, rtol: float = 1e-8) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(b), initial=0.0)))
    return a.shape == b.shape and bool(np.max(np.abs(a - b), initial=0.0) <= rtol * scale)


class CompiledStep:
    """``step(xb, yb) -> (loss, logits, grads, stats)`` replayed; see the module doc.

    Args:
        model: the network; its parameters are found once, here.
        loss_fn: ``loss_fn(output, target)``.
    """

    def __init__(self, model: Module, loss_fn: Any) -> None:
        self.model, self.loss_fn = model, loss_fn
        self.params: list[Tensor] = model.parameters()
        index = {id(p): i for i, p in enumerate(self.params)}
        # every (module, attribute) holding a parameter: a shared one is swapped everywhere
        self.owners = [(m, name, index[id(v)]) for m in model.modules()
                       for name, v in vars(m).items() if id(v) in index and v is
                       self.params[index[id(v)]]]
        self.trainable = [i for i, p in enumerate(self.params) if p.requires_grad]
        self.frozen = [i for i, p in enumerate(self.params) if not p.requires_grad]
        self.batchnorms = [m for m in model.modules()
                           if isinstance(m, BatchNorm1d) and m.track_running_stats]
        self.dropouts = [m for m in model.modules() if isinstance(m, Dropout)]
        self._modules = list(model.modules())
        self.cf = dt_compile(self._pure, argnums=0, static_argnums=(5,), has_aux=True)
        self._probes: dict[tuple, list] = {}
        self._uses: dict[Any, int] = {}
        self._expected: list | None = None

    # ---- the pure step that is recorded ----
    def _pure(self, trainable: Sequence, frozen: Sequence, xb: Any, yb: Any,
              masks: Sequence, signature: tuple) -> tuple:
        values: list[Any] = [None] * len(self.params)
        for i, v in zip(self.trainable, trainable):
            values[i] = v
        for i, v in zip(self.frozen, frozen):
            values[i] = v
        state = StepState(masks, self._expected)
        saved = [(m, name, getattr(m, name)) for m, name, _ in self.owners]
        try:
            for m, name, i in self.owners:
                setattr(m, name, values[i])
            with functional_step(state):
                out = self.model(xb)
                loss = self.loss_fn(out, yb)
        finally:
            for m, name, v in saved:
                setattr(m, name, v)
        stats = []
        for bn in self.batchnorms:
            found = [(mean, var) for m, mean, var in state.stats if m is bn]
            if len(found) != 1:
                raise StepError(f"{bn!r} ran {len(found)} times in one forward pass; a "
                                f"recorded step supports one call per BatchNorm1d")
            stats.extend(found[0])
        if len(state.mask_shapes) != len(masks):
            raise StepError(f"the forward pass made {len(state.mask_shapes)} dropout "
                            f"call(s), the shape probe {len(masks)}")
        return loss, (out, stats)

    def signature(self) -> tuple:
        """What the recording reads from the modules besides parameters (static)."""
        return tuple((m.training, getattr(m, "p", None), getattr(m, "eps", None))
                     for m in self._modules)

    def _probe(self, xb: Any, yb: Any) -> list:
        """The (module, shape) of each dropout call for this batch shape: one plain
        forward pass with the current parameter values that draws nothing."""
        key = (np.shape(xb), np.result_type(xb).str, np.shape(yb))
        probe = self._probes.get(key)
        if probe is None:
            state = StepState()
            saved = [(m, name, getattr(m, name)) for m, name, _ in self.owners]
            try:
                for m, name, i in self.owners:
                    setattr(m, name, self.params[i].data)
                with functional_step(state):
                    self.model(xb)
            finally:
                for m, name, v in saved:
                    setattr(m, name, v)
            probe = self._probes[key] = state.mask_shapes
        return probe

    # ---- one step ----
    def __call__(self, xb: np.ndarray, yb: np.ndarray) -> tuple:
        """Loss value, logits, gradients (aligned with ``self.params``, None for frozen
        ones) and the BatchNorm statistics ``[(module, mean, var)]`` to apply.

        The dropout generators advance as in the eager step (a caller that runs the
        eager step after a failure restores them first: :meth:`rng_states`).
        """
        probe = self._probe(xb, yb)
        self._expected = probe
        masks = [m.draw_mask(shape) for m, shape in probe]
        trainable = [self.params[i].data for i in self.trainable]
        frozen = [self.params[i].data for i in self.frozen]
        args = (trainable, frozen, xb, yb, masks, self.signature())
        (loss, (logits, stats)), vjp_fn = self.cf.vjp(*args)
        grads = vjp_fn(np.float64(1.0))
        variant = self.cf.variants[0]
        uses = self._uses[variant] = self._uses.get(variant, 0) + 1
        if uses == 2:  # the first replay away from the recording point: check it
            self._check(args, loss, logits, stats, grads)
        full: list[Any] = [None] * len(self.params)
        for i, g in zip(self.trainable, grads):
            full[i] = g
        pairs = [(bn, stats[2 * k], stats[2 * k + 1]) for k, bn in enumerate(self.batchnorms)]
        return float(loss), logits, full, pairs

    def rng_states(self) -> list:
        """The dropout generators' states; ``restore_rng(states)`` puts them back."""
        return [d.generator.bit_generator.state for d in self.dropouts]

    def restore_rng(self, states: list) -> None:
        for d, state in zip(self.dropouts, states):
            d.generator.bit_generator.state = state

    def _check(self, args: tuple, loss: Any, logits: Any, stats: list, grads: list) -> None:
        (want_loss, (want_logits, want_stats)), want_grads = value_and_grad(
            self._pure, has_aux=True)(*args)
        ok = (_close(loss, want_loss) and _close(logits, want_logits) and
              len(stats) == len(want_stats) and len(grads) == len(want_grads) and
              all(_close(a, b) for a, b in zip(stats, want_stats)) and
              all(_close(a, b, 1e-7) for a, b in zip(grads, want_grads)))
        if not ok:
            raise StepError("the replayed step disagrees with the eager step at new "
                            "parameters (does a module read .data, random numbers or other "
                            "Python state in its forward pass?)")
