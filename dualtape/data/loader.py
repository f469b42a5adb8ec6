"""In-memory datasets, seeded splits and a mini-batch loader.

Everything here is reproducible from a seed: the split, every epoch's shuffle,
and, through :meth:`DataLoader.state_dict`, a training run resumed from a
checkpoint, which sees exactly the batches the uninterrupted run would have.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["DataLoader", "Dataset", "train_val_split"]


@dataclass(frozen=True, eq=False)
class Dataset:
    """A labelled dataset, already split, as the loaders return it.

    Attributes:
        X_train, y_train: training features (float64, ``(N, features)``) and
            int64 labels ``(N,)``.
        X_val, y_val: held-out features and labels, used to choose models.
        n_classes: number of classes; labels are ``0 .. n_classes - 1``.
        name: short name of the source, e.g. ``"digits"`` or ``"mnist"``.
        X_test, y_test: an extra untouched test split, when the loader was
            asked to carve the validation split out of the training data
            (``load_mnist(val_split=...)``); otherwise ``None``.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    n_classes: int
    name: str
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None

    def __repr__(self) -> str:
        # The default repr would print every pixel.
        test = "" if self.X_test is None else f", test={self.X_test.shape}"
        return (
            f"Dataset(name={self.name!r}, train={self.X_train.shape}, "
            f"val={self.X_val.shape}{test}, n_classes={self.n_classes})"
        )


def _check_fraction(val_fraction: float) -> float:
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, numbers.Real):
        raise TypeError(f"val_fraction must be a float in (0, 1), got {val_fraction!r}")
    if not 0.0 < float(val_fraction) < 1.0:
        raise ValueError(f"val_fraction must be strictly between 0 and 1, got {val_fraction}")
    return float(val_fraction)


def train_val_split(
    X: np.ndarray,
    y: np.ndarray,
    val_fraction: float = 0.2,
    seed: int | None = 0,
    stratify: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split ``(X, y)`` into shuffled training and validation parts.

    Stratified by default so that each class keeps its share in both parts,
    which matters for small sets such as the 8x8 digits. The validation part
    has exactly ``round(val_fraction * len(y))`` rows.

    Args:
        X: features, first axis is samples.
        y: labels, one per sample.
        val_fraction: share of samples that go to validation, in (0, 1).
        seed: seed of the ``np.random.Generator``; same seed, same split.
        stratify: keep class proportions (needs discrete labels).

    Returns:
        ``(X_train, y_train, X_val, y_val)``, each in shuffled order.

    Example:
        >>> import numpy as np
        >>> X, y = np.arange(20.0).reshape(10, 2), np.array([0] * 5 + [1] * 5)
        >>> X_tr, y_tr, X_val, y_val = train_val_split(X, y, 0.4, seed=1)
        >>> len(y_tr), len(y_val), np.bincount(y_val).tolist()
        (6, 4, [2, 2])
    """
    X, y = np.asarray(X), np.asarray(y)
    frac = _check_fraction(val_fraction)
    n = _check_lengths(X, y)
    n_val = int(round(frac * n))
    if not 0 < n_val < n:
        raise ValueError(f"val_fraction={frac} of {n} samples leaves one part empty")
    rng = np.random.default_rng(seed)
    if stratify:
        classes, inverse = np.unique(y, return_inverse=True)
        members = [rng.permutation(np.flatnonzero(inverse == k)) for k in range(len(classes))]
        # Largest-remainder rounding: per-class quotas that add up to n_val exactly.
        ideal = np.array([frac * len(m) for m in members])
        quota = np.floor(ideal).astype(np.int64)
        short = n_val - int(quota.sum())
        quota[np.argsort(-(ideal - quota), kind="stable")[:short]] += 1
        val_idx = np.concatenate([m[:q] for m, q in zip(members, quota, strict=True)])
        train_idx = np.concatenate([m[q:] for m, q in zip(members, quota, strict=True)])
        val_idx, train_idx = rng.permutation(val_idx), rng.permutation(train_idx)
    else:
        order = rng.permutation(n)
        val_idx, train_idx = order[:n_val], order[n_val:]
    return X[train_idx], y[train_idx], X[val_idx], y[val_idx]


def _check_lengths(X: np.ndarray, y: np.ndarray) -> int:
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError("X and y must have a leading samples axis; got a 0-d array")
    if len(X) != len(y):
        raise ValueError(f"X and y disagree on the number of samples: {len(X)} vs {len(y)}")
    return len(X)


class DataLoader:
    """Iterate over ``(X_batch, y_batch)`` mini-batches, reshuffled each epoch.

    Each ``iter()`` call (each ``for`` loop) is one epoch and draws a fresh
    permutation from one seeded ``np.random.Generator``, so the sequence of
    epochs is reproducible. :meth:`state_dict` captures the position, even
    mid-epoch, and :meth:`load_state_dict` on a new loader resumes it.

    Args:
        X: features, first axis is samples.
        y: labels or targets, same number of samples as ``X``.
        batch_size: samples per batch, at least 1.
        shuffle: reshuffle every epoch; if False, batches are contiguous views.
        seed: seed of the generator (``None``: fresh OS entropy).
        drop_last: drop the final batch when it is smaller than ``batch_size``.

    Example:
        >>> import numpy as np
        >>> X, y = np.arange(10.0).reshape(5, 2), np.arange(5)
        >>> loader = DataLoader(X, y, batch_size=2, shuffle=False)
        >>> len(loader), [yb.tolist() for _, yb in loader]
        (3, [[0, 1], [2, 3], [4]])
        >>> loader = DataLoader(X, y, batch_size=2, seed=0, drop_last=True)
        >>> saved = loader.state_dict()
        >>> first = [yb.tolist() for _, yb in loader]
        >>> resumed = DataLoader(X, y, batch_size=2, seed=123, drop_last=True)
        >>> resumed.load_state_dict(saved)
        >>> [yb.tolist() for _, yb in resumed] == first
        True
    """

    def __init__(
        self,
        X: np.ndarray,
        y: np.ndarray,
        batch_size: int = 100,
        shuffle: bool = True,
        seed: int | None = 0,
        drop_last: bool = False,
    ) -> None:
        self.X, self.y = np.asarray(X), np.asarray(y)
        self.n_samples = _check_lengths(self.X, self.y)
        if self.n_samples == 0:
            raise ValueError("DataLoader got an empty dataset (0 samples)")
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
            raise TypeError(f"batch_size must be an int, got {type(batch_size).__name__}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if drop_last and batch_size > self.n_samples:
            raise ValueError(
                f"batch_size={batch_size} > {self.n_samples} samples with drop_last=True "
                "gives no batches at all"
            )
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self._rng = np.random.default_rng(seed)
        self._epoch = 0  # index of the epoch the next iter() starts
        self._resume_at = 0  # batches to skip in the next epoch (after load_state_dict)
        self._epoch_start_state: dict[str, Any] | None = None
        self._done = 0  # batches yielded so far in the current epoch

    def __len__(self) -> int:
        """Number of batches in one full epoch."""
        if self.drop_last:
            return self.n_samples // self.batch_size
        return -(-self.n_samples // self.batch_size)

    @property
    def epoch(self) -> int:
        """Number of epochs started so far (``iter()`` calls)."""
        return self._epoch

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        # Draw the permutation now, not on the first next(): state_dict() taken
        # right after iter() must already account for this epoch.
        self._epoch_start_state = copy.deepcopy(self._rng.bit_generator.state)
        order = self._rng.permutation(self.n_samples) if self.shuffle else None
        self._epoch += 1
        self._done = skip = self._resume_at
        self._resume_at = 0
        return self._batches(order, skip)

    def _batches(
        self, order: np.ndarray | None, skip: int
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        bs = self.batch_size
        for b in range(skip, len(self)):
            lo, hi = b * bs, min((b + 1) * bs, self.n_samples)
            if order is None:
                xb, yb = self.X[lo:hi], self.y[lo:hi]
            else:
                idx = order[lo:hi]
                xb, yb = self.X[idx], self.y[idx]
            self._done = b + 1
            yield xb, yb

    def state_dict(self) -> dict[str, Any]:
        """Return the loader's position: RNG state, epoch and batch within it.

        Save it with the model checkpoint; it holds only plain Python values.
        Taken mid-epoch, it records the start of that epoch plus the number of
        batches already consumed, so a resumed loader replays the same
        permutation and continues with the next batch.
        """
        if self._epoch_start_state is not None and self._done < len(self):
            rng, epoch, batch = self._epoch_start_state, self._epoch - 1, self._done
        else:
            rng, epoch, batch = self._rng.bit_generator.state, self._epoch, self._resume_at
        return {"rng": copy.deepcopy(rng), "epoch": epoch, "batch": batch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a position saved by :meth:`state_dict`.

        The loader must be built over the same data with the same
        ``batch_size``, ``shuffle`` and ``drop_last``; the seed is overridden.
        """
        missing = {"rng", "epoch", "batch"} - set(state)
        if missing:
            raise ValueError(f"DataLoader state is missing keys {sorted(missing)}")
        batch = int(state["batch"])
        if not 0 <= batch < len(self):
            raise ValueError(
                f"DataLoader state resumes at batch {batch}, but an epoch here has "
                f"{len(self)} batches (different data or batch_size?)"
            )
        self._rng.bit_generator.state = copy.deepcopy(state["rng"])
        self._epoch = int(state["epoch"])
        self._resume_at = batch
        self._epoch_start_state = None
        self._done = 0

    def __repr__(self) -> str:
        return (
            f"DataLoader(n_samples={self.n_samples}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, epoch={self._epoch})"
        )
