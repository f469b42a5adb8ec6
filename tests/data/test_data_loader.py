"""DataLoader batching, shuffling, resumable state; train_val_split."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dualtape.data import DataLoader, train_val_split


def make(n: int = 10) -> tuple[np.ndarray, np.ndarray]:
    # Each row of X encodes its label, so pairing errors show up as mismatches.
    y = np.arange(n)
    X = np.stack([y * 10.0, y * 10.0 + 1.0], axis=1)
    return X, y


def epoch_labels(loader: DataLoader) -> list[list[int]]:
    return [yb.tolist() for _, yb in loader]


# ---- batching ----


def test_batches_in_order_without_shuffle():
    X, y = make(10)
    loader = DataLoader(X, y, batch_size=3, shuffle=False)
    batches = list(loader)
    assert len(loader) == 4
    assert [yb.tolist() for _, yb in batches] == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    np.testing.assert_array_equal(batches[1][0], [[30.0, 31.0], [40.0, 41.0], [50.0, 51.0]])
    # Unshuffled batches are views, not copies.
    assert np.shares_memory(batches[0][0], X)


def test_drop_last_drops_short_batch():
    X, y = make(10)
    loader = DataLoader(X, y, batch_size=3, shuffle=True, drop_last=True)
    batches = list(loader)
    assert len(loader) == 3 == len(batches)
    assert all(xb.shape == (3, 2) and yb.shape == (3,) for xb, yb in batches)
    assert len(set(np.concatenate([yb for _, yb in batches]).tolist())) == 9


def test_exact_multiple_has_no_empty_batch():
    X, y = make(9)
    for drop_last in (False, True):
        loader = DataLoader(X, y, batch_size=3, drop_last=drop_last)
        assert len(loader) == 3 == len(list(loader))


def test_batch_size_larger_than_data():
    X, y = make(4)
    (xb, yb), *rest = list(DataLoader(X, y, batch_size=100, shuffle=False))
    assert rest == [] and yb.tolist() == [0, 1, 2, 3] and xb.shape == (4, 2)


# ---- shuffling ----


def test_shuffled_epoch_is_a_seeded_permutation_with_pairs_kept():
    X, y = make(10)
    loader = DataLoader(X, y, batch_size=4, seed=7)
    xs, ys = zip(*loader, strict=True)
    order = np.concatenate(ys)
    np.testing.assert_array_equal(order, np.random.default_rng(7).permutation(10))
    np.testing.assert_array_equal(np.concatenate(xs)[:, 0], order * 10.0)


def test_same_seed_same_epochs_and_each_epoch_reshuffles():
    X, y = make(50)
    a = DataLoader(X, y, batch_size=8, seed=3)
    b = DataLoader(X, y, batch_size=8, seed=3)
    epochs_a = [epoch_labels(a) for _ in range(3)]
    epochs_b = [epoch_labels(b) for _ in range(3)]
    assert epochs_a == epochs_b
    assert epochs_a[0] != epochs_a[1] != epochs_a[2]
    assert a.epoch == 3
    for ep in epochs_a:
        assert sorted(sum(ep, [])) == list(range(50))
    c = DataLoader(X, y, batch_size=8, seed=4)
    assert epoch_labels(c) != epochs_a[0]


# ---- state ----


def test_state_restore_between_epochs():
    X, y = make(30)
    a = DataLoader(X, y, batch_size=7, seed=11)
    for _ in range(2):
        list(a)
    state = a.state_dict()
    expected = [epoch_labels(a) for _ in range(2)]
    b = DataLoader(X, y, batch_size=7, seed=999)
    b.load_state_dict(json.loads(json.dumps(state)))  # survives a JSON checkpoint
    assert b.epoch == 2
    assert [epoch_labels(b) for _ in range(2)] == expected


def test_state_restore_mid_epoch_continues_with_next_batch():
    X, y = make(30)
    a = DataLoader(X, y, batch_size=7, seed=5)
    list(a)
    it = iter(a)
    seen = [next(it)[1].tolist() for _ in range(2)]
    state = a.state_dict()
    assert state["batch"] == 2 and state["epoch"] == 1
    rest = [yb.tolist() for _, yb in it]
    following = epoch_labels(a)
    b = DataLoader(X, y, batch_size=7, seed=0)
    b.load_state_dict(state)
    assert epoch_labels(b) == rest
    assert epoch_labels(b) == following
    assert sorted(sum(seen + rest, [])) == list(range(30))


def test_state_dict_is_a_copy():
    X, y = make(10)
    loader = DataLoader(X, y, batch_size=3, seed=1)
    state = loader.state_dict()
    first = epoch_labels(loader)
    assert loader.state_dict()["rng"] != state["rng"]
    loader.load_state_dict(state)
    assert epoch_labels(loader) == first


def test_load_state_dict_rejects_bad_state():
    X, y = make(10)
    loader = DataLoader(X, y, batch_size=3)
    with pytest.raises(ValueError, match="missing keys"):
        loader.load_state_dict({"rng": loader.state_dict()["rng"]})
    state = loader.state_dict() | {"batch": 4}
    with pytest.raises(ValueError, match="batch 4"):
        loader.load_state_dict(state)


# ---- argument validation ----


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"batch_size": 0}, ValueError, "at least 1"),
        ({"batch_size": -3}, ValueError, "at least 1"),
        ({"batch_size": 2.5}, TypeError, "batch_size must be an int"),
        ({"batch_size": True}, TypeError, "batch_size must be an int"),
        ({"batch_size": 20, "drop_last": True}, ValueError, "no batches"),
    ],
)
def test_bad_arguments(kwargs, exc, match):
    X, y = make(10)
    with pytest.raises(exc, match=match):
        DataLoader(X, y, **kwargs)


def test_mismatched_lengths_and_empty():
    X, y = make(10)
    with pytest.raises(ValueError, match="10 vs 9"):
        DataLoader(X, y[:9])
    with pytest.raises(ValueError, match="empty"):
        DataLoader(X[:0], y[:0])
    with pytest.raises(ValueError, match="0-d"):
        DataLoader(np.float64(1.0), y)


# ---- train_val_split ----


def test_train_val_split_stratified_exact_and_deterministic():
    y = np.repeat(np.arange(3), [10, 20, 31])
    X = (y * 100 + np.arange(len(y)))[:, None].astype(np.float64)
    X_tr, y_tr, X_val, y_val = train_val_split(X, y, 0.2, seed=0)
    assert len(y_val) == round(0.2 * 61) == 12 and len(y_tr) == 49
    assert np.bincount(y_val).tolist() == [2, 4, 6]
    # Disjoint, covering, with pairs intact.
    assert sorted(np.concatenate([X_tr, X_val])[:, 0].tolist()) == X[:, 0].tolist()
    np.testing.assert_array_equal(X_val[:, 0] // 100, y_val)
    again = train_val_split(X, y, 0.2, seed=0)
    np.testing.assert_array_equal(again[3], y_val)
    other = train_val_split(X, y, 0.2, seed=1)
    assert not np.array_equal(other[2], X_val)


def test_train_val_split_unstratified_and_errors():
    X, y = make(10)
    X_tr, y_tr, X_val, y_val = train_val_split(X, y, 0.3, seed=2, stratify=False)
    perm = np.random.default_rng(2).permutation(10)
    np.testing.assert_array_equal(y_val, perm[:3])
    np.testing.assert_array_equal(y_tr, perm[3:])
    with pytest.raises(ValueError, match="strictly between"):
        train_val_split(X, y, 1.0)
    with pytest.raises(ValueError, match="empty"):
        train_val_split(X, y, 0.01)
    with pytest.raises(ValueError, match="10 vs 8"):
        train_val_split(X, y[:8], 0.5)
