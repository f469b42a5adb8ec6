"""The training loop: progress, periodic validation, metrics, plots, NaN stop, checkpoints.

The training step's loss and gradients can be replayed from a recording
(``compile=``, see :class:`Trainer` and :mod:`dualtape.nn.compiled_step`): the same
numbers as the eager step, BatchNorm running statistics and dropout masks included.

A run is resumable exactly: at every validation the trainer writes (atomically) the
model, the optimizer's buffers, the scheduler, the DataLoader's position and RNG state,
the dropout generators and the history. A run killed at any moment and restarted with
``resume=True`` replays the batches after the last checkpoint and ends with the same
parameters, bit for bit, as a run that was never interrupted.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ..data.loader import DataLoader
from ..tape import Tape, no_grad
from .checkpoint import load_checkpoint, save_checkpoint
from .compiled_step import give_up, make_step
from .history import History
from .losses import CrossEntropyLoss
from .module import Module
from .progress import EpochProgress

__all__ = ["History", "Trainer", "evaluate"]

CHECKPOINT = "checkpoint.npz"


def _value(x: Any) -> np.ndarray:
    return np.asarray(getattr(x, "data", x))


def evaluate(model: Module, X: np.ndarray, y: np.ndarray, loss_fn: Module | None = None,
             batch_size: int = 1000, accuracy: bool = True) -> tuple[float, float | None]:
    """Mean loss and accuracy of ``model`` on ``(X, y)`` in eval mode, without a tape.

    The model's training/eval mode is restored afterwards.

    >>> import numpy as np
    >>> from dualtape.nn import Linear
    >>> loss, acc = evaluate(Linear(2, 3, rng=0), np.eye(2), np.array([0, 1]))
    >>> round(loss, 4), acc
    (1.292, 0.0)
    """
    loss_fn = loss_fn if loss_fn is not None else CrossEntropyLoss()
    was_training = model.training
    model.eval()
    total_loss, correct, n = 0.0, 0, len(X)
    try:
        with no_grad():
            for lo in range(0, n, batch_size):
                xb, yb = X[lo:lo + batch_size], y[lo:lo + batch_size]
                out = model(xb)
                total_loss += float(_value(loss_fn(out, yb))) * len(xb)
                if accuracy:
                    correct += int(np.sum(np.argmax(_value(out), axis=1) == yb))
    finally:
        model.train(was_training)
    return total_loss / n, (correct / n if accuracy else None)


class Trainer:
    """Train a model with a DataLoader; validate, log, plot and checkpoint as it goes.

    Args:
        model: the network (called on a batch of inputs).
        optimizer: e.g. :class:`dualtape.optim.SGD` over ``model.parameters()``.
        loss_fn: ``loss_fn(output, target)``; default :class:`CrossEntropyLoss`.
        scheduler: optional learning-rate schedule, stepped after every epoch.
        out_dir: where metrics.csv/json, the plots and checkpoint.npz go (None: nowhere).
        val_every: validate (and checkpoint) every this many batches, and after each epoch.
        accuracy: report classification accuracy (default: when the loss is cross-entropy).
        progress: show a tqdm bar (plain lines without tqdm); False: silent.
        plot: write validation_accuracy.png and loss.png (needs matplotlib).
        config: JSON-able description of the run, saved with the metrics; a resumed run
            must have the same config (``epochs`` may differ).
        log: where messages go (default: stderr).
        compile: replay the training step's loss and gradients from a ``dt.compile``
            recording (one per batch shape) instead of tracing every step. ``False``
            (default): eager, which measures as fast as or faster than the replay for
            MLPs (their eager step is a handful of fused primitives; see
            docs/replay.md). ``"auto"``: replay when every module of the model and the
            loss are dualtape's own (Linear, BatchNorm1d, Dropout, the activations,
            Sequential; cross-entropy or MSE), with the eager step as the fallback if
            recording or a replay fails; ``True``: replay other modules too (their
            forward pass must be a pure function of parameters and inputs; checked
            against the eager step once per recording), raising
            :class:`~dualtape.nn.CompileError` instead of falling back. BatchNorm running
            statistics and dropout masks are handled so that the run is the one eager
            training gives, bit for bit; ``trainer.compiled`` and
            ``trainer.compile_error`` say what happened.

    >>> import numpy as np
    >>> from dualtape import nn, optim
    >>> from dualtape.data import DataLoader
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 2)); y = (X[:, 0] > 0).astype(int)
    >>> model = nn.mlp((2, 8, 2), rng=0)
    >>> trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.5), progress=False)
    >>> history = trainer.fit(DataLoader(X, y, batch_size=20), (X, y), epochs=5)
    >>> history.final["val_accuracy"] > 0.95
    True
    >>> model = nn.mlp((2, 8, 2), rng=0)                  # the same run, replayed
    >>> replayed = Trainer(model, optim.SGD(model.parameters(), lr=0.5), progress=False,
    ...                    compile=True)
    >>> h = replayed.fit(DataLoader(X, y, batch_size=20), (X, y), epochs=5)
    >>> replayed.compiled, h.train["loss"] == history.train["loss"]
    (True, True)
    """

    def __init__(self, model: Module, optimizer: Any, loss_fn: Module | None = None, *,
                 scheduler: Any = None, out_dir: str | os.PathLike | None = None,
                 val_every: int | None = 100, accuracy: bool | None = None,
                 progress: bool = True, plot: bool = True, config: dict | None = None,
                 eval_batch_size: int = 1000, log: Callable[[str], None] | None = None,
                 compile: Any = False) -> None:
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.loss_fn = loss_fn if loss_fn is not None else CrossEntropyLoss()
        self.accuracy = isinstance(self.loss_fn, CrossEntropyLoss) if accuracy is None \
            else accuracy
        self.out_dir = None if out_dir is None else os.fspath(out_dir)
        self.val_every, self.progress, self.plot = val_every, progress, plot
        self.config, self.eval_batch_size = dict(config or {}), eval_batch_size
        self.log = log or (lambda s: print(s, file=sys.stderr, flush=True))
        self.history = History()
        self.epoch = self.batch_in_epoch = self.step = 0
        self.elapsed = 0.0
        self._running = [0.0, 0, 0, 0]  # loss*n, correct, samples, batches since validation
        self._last_plot = time.monotonic()
        self.compile_mode = compile
        self._step_fn, self.compile_error = make_step(model, self.loss_fn, compile)

    @property
    def compiled(self) -> bool:
        """Whether training steps are (still) replayed from a recording."""
        return self._step_fn is not None

    # ---- checkpoints ----
    @property
    def checkpoint_path(self) -> str | None:
        return None if self.out_dir is None else os.path.join(self.out_dir, CHECKPOINT)

    def save_checkpoint(self, loader: DataLoader) -> None:
        """Write the full training state (see module doc); no-op without ``out_dir``."""
        if self.checkpoint_path is None:
            return
        save_checkpoint(self.checkpoint_path, self.model, self.optimizer,
                        epoch=self.epoch, batch_in_epoch=self.batch_in_epoch, step=self.step,
                        elapsed=self.elapsed, loader=loader.state_dict(),
                        scheduler=None if self.scheduler is None else
                        self.scheduler.state_dict(),
                        history=self.history.to_dict(), config=self.config)

    def _remove_stale_temporaries(self) -> None:
        """Temporary files a killed run left behind (the targets themselves are intact)."""
        prefixes = tuple(f".{n}." for n in (CHECKPOINT, "metrics.csv", "metrics.json"))
        for name in os.listdir(self.out_dir):
            if name.startswith(prefixes) and name.endswith(".part"):
                os.unlink(os.path.join(self.out_dir, name))

    def _resume(self, loader: DataLoader) -> bool:
        path = self.checkpoint_path
        if path is None or not os.path.exists(path):
            self.log(f"resume: no checkpoint at {path}; starting from scratch")
            return False
        meta = load_checkpoint(path)  # check the config before touching the model
        theirs = {k: v for k, v in meta.get("config", {}).items() if k != "epochs"}
        ours = {k: v for k, v in self.config.items() if k != "epochs"}
        diff = sorted(k for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k))
        if diff:
            details = ", ".join(f"{k}: {theirs.get(k)!r} -> {ours.get(k)!r}" for k in diff)
            raise ValueError(f"resume: {path} was written by a run with a different "
                             f"configuration ({details}); use another output directory")
        load_checkpoint(path, self.model, self.optimizer)
        loader.load_state_dict(meta["loader"])
        if self.scheduler is not None and meta.get("scheduler") is not None:
            self.scheduler.load_state_dict(meta["scheduler"])
        self.epoch, self.batch_in_epoch = meta["epoch"], meta["batch_in_epoch"]
        self.step, self.elapsed = meta["step"], meta["elapsed"]
        self.history = History.from_dict(meta["history"])
        self.log(f"resumed from {path} at epoch {self.epoch + 1}, batch {self.batch_in_epoch} "
                 f"(step {self.step})")
        return True

    # ---- the loop ----
    def fit(self, loader: DataLoader, val_data: tuple[np.ndarray, np.ndarray] | None = None,
            epochs: int = 1, resume: bool = False) -> History:
        """Train for ``epochs`` epochs (in total, counting a resumed run's earlier ones).

        Returns:
            The :class:`History`; ``history.stopped`` says why if the run stopped early.
        """
        if self.out_dir is not None:
            os.makedirs(self.out_dir, exist_ok=True)
        if resume and self.out_dir is not None:
            self._remove_stale_temporaries()
        if resume:
            self._resume(loader)
        self.history.batches_per_epoch = len(loader)
        self._running = [0.0, 0, 0, 0]
        while self.epoch < epochs and self.history.stopped is None:
            self._run_epoch(loader, val_data, epochs)
        self._write_outputs()
        return self.history

    def _run_epoch(self, loader: DataLoader, val_data: Any, epochs: int) -> None:
        bar = EpochProgress(len(loader), self.batch_in_epoch, f"epoch {self.epoch + 1}/{epochs}",
                            self.progress, self.log)
        t0 = time.perf_counter()
        try:
            for xb, yb in loader:
                loss, acc = self._train_step(xb, yb)
                if not np.isfinite(loss):
                    self._stop_nonfinite(loss, bar)
                    return
                self.step += 1
                self.batch_in_epoch += 1
                self.history.log_batch(self.step, self.epoch, loss, acc)
                bar.update(self.batch_in_epoch, loss, acc)
                end = self.batch_in_epoch == len(loader)
                periodic = bool(self.val_every) and self.step % self.val_every == 0
                if not (periodic or end):
                    continue
                self._validate(val_data, end, len(loader), bar)
                now = time.perf_counter()
                self.elapsed, t0 = self.elapsed + now - t0, now
                if end:
                    done = sum(self.history.epoch_seconds)
                    self.history.epoch_seconds.append(round(self.elapsed - done, 6))
                    if self.scheduler is not None:
                        self.scheduler.step()
                    self.epoch, self.batch_in_epoch = self.epoch + 1, 0
                self.save_checkpoint(loader)
                if end:
                    self._write_outputs(final=False)
                t0 = time.perf_counter()
        finally:
            bar.close()

    def _train_step(self, xb: np.ndarray, yb: np.ndarray) -> tuple[float, float | None]:
        self.model.train()
        if self._step_fn is not None:
            rng = self._step_fn.rng_states()
            try:
                value, out, grads, stats = self._step_fn(xb, yb)
            except Exception as exc:  # noqa: BLE001 - the eager step decides (below)
                self._step_fn.restore_rng(rng)  # the eager step draws the same masks
                out = self._eager_step(xb, yb)  # raises if the step itself fails
                self.compile_error = give_up(self.compile_mode, exc, self.step + 1)
                self._step_fn = None
                return self._account(out, xb, yb)
            for bn, mean, var in stats:  # what the eager forward pass does as it runs
                bn._update_running(mean, var)
            if np.isfinite(value):
                self.optimizer.zero_grad()
                for p, g in zip(self._step_fn.params, grads):
                    if g is not None:
                        p.grad = g
                self.optimizer.step()
            return self._account((value, out), xb, yb)
        return self._account(self._eager_step(xb, yb), xb, yb)

    def _eager_step(self, xb: np.ndarray, yb: np.ndarray) -> tuple[float, Any]:
        with Tape():  # a private tape per step: nothing leaks into the caller's
            out = self.model(xb)
            loss = self.loss_fn(out, yb)
        value = float(loss.item())
        if np.isfinite(value):
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        return value, out

    def _account(self, step: tuple[float, Any], xb: np.ndarray,
                 yb: np.ndarray) -> tuple[float, float | None]:
        value, out = step
        if not np.isfinite(value):
            return value, None
        r = self._running
        r[0] += value * len(xb)
        r[2] += len(xb)
        r[3] += 1
        if not self.accuracy:
            return value, None
        correct = int(np.sum(np.argmax(_value(out), axis=1) == yb))
        r[1] += correct
        return value, correct / len(xb)

    def _validate(self, val_data: Any, end: bool, per_epoch: int, bar: EpochProgress) -> None:
        val_loss = val_acc = None
        if val_data is not None:
            val_loss, val_acc = evaluate(self.model, val_data[0], val_data[1], self.loss_fn,
                                         self.eval_batch_size, self.accuracy)
        loss_sum, correct, n, _ = self._running
        self._running = [0.0, 0, 0, 0]
        rec = dict(step=self.step, epoch=self.epoch,
                   epoch_progress=round(self.epoch + self.batch_in_epoch / per_epoch, 6),
                   train_loss=loss_sum / n if n else None,
                   train_accuracy=correct / n if n and self.accuracy else None,
                   val_loss=val_loss, val_accuracy=val_acc,
                   lr=float(getattr(self.optimizer, "lr", float("nan"))),
                   elapsed_s=round(self.elapsed, 3), end_of_epoch=end)
        self.history.log_eval(**rec)
        shown = {k: v for k, v in (("val_loss", val_loss), ("val_acc", val_acc))
                 if v is not None}
        text = (f"step {self.step}: train loss {rec['train_loss']:.4f}"
                + "".join(f", {k} {v:.4f}" for k, v in shown.items()))
        bar.note(text, **shown)

    def _stop_nonfinite(self, loss: float, bar: EpochProgress) -> None:
        lr = getattr(self.optimizer, "lr", None)
        self.history.stopped = (
            f"stopped early: the training loss became {loss} at epoch {self.epoch + 1}, "
            f"batch {self.batch_in_epoch + 1} (step {self.step + 1}); the update from that "
            f"batch was not applied. The learning rate ({lr}) is probably too large, or the "
            f"inputs contain NaN/inf; dt.debug_nans() finds the first non-finite operation.")
        bar.message(self.history.stopped)

    def _write_outputs(self, final: bool = True) -> None:
        """Metrics after every epoch; plots at the end and at most every 30 s before."""
        if self.out_dir is None:
            return
        self.history.save(self.out_dir, self.config)
        now = time.monotonic()
        if not self.plot or not (final or now - self._last_plot > 30.0):
            return
        self._last_plot = now
        if not self.history.plot(self.out_dir, self.config.get("title", "")):
            if self.history.evals and not getattr(self, "_warned_plot", False):
                self._warned_plot = True
                self.log("note: matplotlib is not installed; skipping the plots "
                         "(pip install 'dualtape[examples]')")
