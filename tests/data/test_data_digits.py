"""load_digits: the real 8x8 digits scikit-learn ships."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from dualtape.data import MissingDependencyError, load_digits


def _sklearn_available() -> bool:
    try:
        import sklearn.datasets  # noqa: F401
    except ImportError:
        return False
    return True


needs_sklearn = pytest.mark.skipif(
    not _sklearn_available(),
    reason="scikit-learn is not installed (pip install 'dualtape[examples]')",
)


@needs_sklearn
def test_shapes_types_and_scaling():
    ds = load_digits()
    assert ds.name == "digits" and ds.n_classes == 10
    assert len(ds.y_train) + len(ds.y_val) == 1797
    assert ds.X_train.shape == (1438, 64) and ds.X_val.shape == (359, 64)
    assert ds.X_train.dtype == np.float64 and ds.y_train.dtype == np.int64
    X = np.concatenate([ds.X_train, ds.X_val])
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.all(X * 16 == np.round(X * 16))  # intensities 0..16, divided by 16
    y = np.concatenate([ds.y_train, ds.y_val])
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


@needs_sklearn
def test_split_is_the_sklearn_data_stratified_and_seeded():
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    ds = load_digits(seed=0)
    # Every image lands in exactly one part, with its own label.
    full = np.concatenate([bunch.data / 16.0, bunch.target[:, None]], axis=1)
    ours = np.concatenate(
        [
            np.concatenate([ds.X_train, ds.y_train[:, None]], axis=1),
            np.concatenate([ds.X_val, ds.y_val[:, None]], axis=1),
        ]
    )
    np.testing.assert_array_equal(np.unique(ours, axis=0), np.unique(full, axis=0))
    per_class = np.bincount(bunch.target)
    assert np.all(np.abs(np.bincount(ds.y_val) - 0.2 * per_class) <= 1)
    same = load_digits(seed=0)
    np.testing.assert_array_equal(same.X_val, ds.X_val)
    other = load_digits(seed=1)
    assert not np.array_equal(other.y_val, ds.y_val)


@needs_sklearn
def test_split_forms():
    a, b = load_digits(split=0.5, seed=2), load_digits(split=(0.5, 0.5), seed=2)
    assert len(a.y_val) == len(b.y_val) == 898
    np.testing.assert_array_equal(a.y_val, b.y_val)


@pytest.mark.parametrize("split", [(0.7, 0.2), (1.0, 0.0), (0.5,), "0.2", 1.5])
def test_bad_split(split):
    with pytest.raises(ValueError):
        load_digits(split=split)


def test_missing_sklearn_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # makes the import fail
    with pytest.raises(ImportError) as info:
        load_digits()
    assert isinstance(info.value, MissingDependencyError)
    assert str(info.value) == "load_digits needs scikit-learn: pip install 'dualtape[examples]'"
