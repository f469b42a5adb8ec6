"""The metrics history of a training run: per-batch losses, validation records, files, plots."""

from __future__ import annotations

import csv
import io
import json
import os
from typing import Any

__all__ = ["History"]

#: Columns of metrics.csv (one row per validation).
EVAL_FIELDS = ("step", "epoch", "epoch_progress", "train_loss", "train_accuracy", "val_loss",
               "val_accuracy", "lr", "elapsed_s", "end_of_epoch")


class History:
    """What a run recorded: every batch's loss/accuracy and every validation.

    Attributes:
        train: lists ``step``, ``epoch``, ``loss``, ``accuracy`` (one entry per batch).
        evals: one dict per validation, with the keys :data:`EVAL_FIELDS`.
        epoch_seconds: wall time of each completed epoch (training and validation).
        batches_per_epoch: set by the trainer; the x axis of the loss plot uses it.
        stopped: None, or why the run stopped early (e.g. a NaN loss).

    >>> h = History()
    >>> h.log_batch(step=1, epoch=0, loss=2.3, accuracy=0.1)
    >>> h.log_eval(step=1, epoch=0, epoch_progress=0.5, val_accuracy=0.2)
    >>> h.val_accuracy, h.to_csv().splitlines()[0].split(",")[:3]
    ([0.2], ['step', 'epoch', 'epoch_progress'])
    """

    def __init__(self) -> None:
        self.train: dict[str, list] = {"step": [], "epoch": [], "loss": [], "accuracy": []}
        self.evals: list[dict[str, Any]] = []
        self.epoch_seconds: list[float] = []
        self.stopped: str | None = None
        self.batches_per_epoch: int | None = None

    def log_batch(self, step: int, epoch: int, loss: float, accuracy: float | None) -> None:
        t = self.train
        t["step"].append(step)
        t["epoch"].append(epoch)
        t["loss"].append(loss)
        t["accuracy"].append(accuracy)

    def log_eval(self, **record: Any) -> None:
        self.evals.append({k: record.get(k) for k in EVAL_FIELDS})

    @property
    def val_accuracy(self) -> list[float]:
        return [e["val_accuracy"] for e in self.evals]

    @property
    def final(self) -> dict[str, Any]:
        """The last validation record (empty before the first one)."""
        return dict(self.evals[-1]) if self.evals else {}

    # ---- (de)serialisation ----
    def to_dict(self) -> dict[str, Any]:
        return {"train": self.train, "evals": self.evals,
                "epoch_seconds": self.epoch_seconds, "stopped": self.stopped,
                "batches_per_epoch": self.batches_per_epoch}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> History:
        h = cls()
        h.train = {k: list(v) for k, v in d["train"].items()}
        h.evals = [dict(e) for e in d["evals"]]
        h.epoch_seconds = list(d.get("epoch_seconds", []))
        h.stopped = d.get("stopped")
        h.batches_per_epoch = d.get("batches_per_epoch")
        return h

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=EVAL_FIELDS, lineterminator="\n")
        w.writeheader()
        for e in self.evals:
            w.writerow({k: ("" if v is None else v) for k, v in e.items()})
        return buf.getvalue()

    def save(self, out_dir: str | os.PathLike, config: dict | None = None) -> list[str]:
        """Write ``metrics.csv`` (validations) and ``metrics.json`` (everything)."""
        from ..data.idx import atomic_output

        paths = [os.path.join(out_dir, "metrics.csv"), os.path.join(out_dir, "metrics.json")]
        body = {"config": config or {}, **self.to_dict()}
        for path, text in zip(paths, (self.to_csv(), json.dumps(body, indent=1))):
            with atomic_output(path) as f:
                f.write(text.encode())
            os.chmod(path, 0o644)  # the temporary file was private (mkstemp)
        return paths

    # ---- plots ----
    def plot(self, out_dir: str | os.PathLike, title: str = "") -> list[str]:
        """Write ``validation_accuracy.png`` and ``loss.png``; [] without matplotlib.

        Uses matplotlib's object API (no pyplot, no global backend change).
        """
        try:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure
        except ImportError:
            return []
        written = []
        x = [e["epoch_progress"] for e in self.evals]
        if any(e["val_accuracy"] is not None for e in self.evals):
            fig = Figure(figsize=(6, 4))
            ax = fig.add_subplot()
            ax.plot(x, [e["val_accuracy"] for e in self.evals], "o-", label="validation")
            if any(e["train_accuracy"] is not None for e in self.evals):
                ax.plot(x, [e["train_accuracy"] for e in self.evals], ".--", alpha=0.7,
                        label="training (running)")
            ax.set(xlabel="epoch", ylabel="accuracy", title=title or "validation accuracy")
            ax.grid(alpha=0.3)
            ax.legend()
            written.append(_save(FigureCanvasAgg, fig, out_dir, "validation_accuracy.png"))
        if self.train["loss"]:
            fig = Figure(figsize=(6, 4))
            ax = fig.add_subplot()
            per_epoch = float(self.batches_per_epoch or max(len(self.train["step"]), 1))
            bx = [(s - 1) / per_epoch for s in self.train["step"]]
            ax.plot(bx, self.train["loss"], lw=0.6, alpha=0.6, label="training batch")
            if any(e["val_loss"] is not None for e in self.evals):
                ax.plot(x, [e["val_loss"] for e in self.evals], "o-", label="validation")
            ax.set(xlabel="epoch", ylabel="loss", title=title or "loss")
            ax.set_yscale("log")
            ax.grid(alpha=0.3)
            ax.legend()
            written.append(_save(FigureCanvasAgg, fig, out_dir, "loss.png"))
        return written


def _save(canvas_cls: Any, fig: Any, out_dir: str | os.PathLike, name: str) -> str:
    path = os.path.join(out_dir, name)
    canvas_cls(fig)
    fig.tight_layout()
    tmp = os.path.join(out_dir, f".{name}.part.png")
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, path)
    return path
