"""The 8x8 handwritten digits that scikit-learn ships (1,797 images).

Small enough to train an MLP on in seconds, real enough to show learning; the
data file is inside the scikit-learn wheel, so this works offline.
"""

from __future__ import annotations

import numbers

import numpy as np

from .errors import MissingDependencyError
from .loader import Dataset, train_val_split

__all__ = ["load_digits"]

_INSTALL_HINT = "load_digits needs scikit-learn: pip install 'dualtape[examples]'"


def _val_fraction(split: float | tuple[float, float]) -> float:
    if isinstance(split, numbers.Real) and not isinstance(split, bool):
        if not 0.0 < float(split) < 1.0:
            raise ValueError(f"a val fraction must be strictly between 0 and 1, got {split}")
        return float(split)
    try:
        train, val = (float(s) for s in split)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise ValueError(
            f"split must be (train, val) fractions or a val fraction, got {split!r}"
        ) from None
    if train <= 0 or val <= 0 or abs(train + val - 1.0) > 1e-9:
        raise ValueError(f"split fractions must be positive and sum to 1, got {split!r}")
    return val


def load_digits(split: float | tuple[float, float] = (0.8, 0.2), seed: int | None = 0) -> Dataset:
    """Load scikit-learn's 8x8 digits, scaled to [0, 1] and split.

    The split is stratified (every digit keeps its share in both parts) and
    fixed by ``seed``, so experiments compare on the same validation set.

    Args:
        split: ``(train, val)`` fractions summing to 1, or just the val fraction.
        seed: seed of the split.

    Returns:
        A :class:`Dataset` named ``"digits"``: float64 features of shape
        ``(N, 64)`` (pixel intensity / 16) and int64 labels 0-9.

    Raises:
        MissingDependencyError: scikit-learn is not installed (an ImportError).

    Example:
        >>> ds = load_digits(seed=0)
        >>> ds
        Dataset(name='digits', train=(1438, 64), val=(359, 64), n_classes=10)
        >>> float(ds.X_train.max()), ds.y_val.dtype
        (1.0, dtype('int64'))
    """
    frac = _val_fraction(split)
    try:
        from sklearn.datasets import load_digits as _sk_load_digits
    except ImportError as exc:
        raise MissingDependencyError(_INSTALL_HINT) from exc
    bunch = _sk_load_digits()
    X = np.asarray(bunch.data, dtype=np.float64) / 16.0
    y = np.asarray(bunch.target, dtype=np.int64)
    X_tr, y_tr, X_val, y_val = train_val_split(X, y, frac, seed=seed, stratify=True)
    return Dataset(X_tr, y_tr, X_val, y_val, n_classes=10, name="digits")
