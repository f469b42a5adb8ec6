"""load_mnist on tiny synthetic IDX files; downloads from a local HTTP server only."""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import re
import shutil
import threading

import numpy as np
import pytest

from dualtape.data import (
    MNIST_BASE_URL,
    MNIST_FILES,
    MNIST_SHA256,
    DataError,
    load_mnist,
    write_idx,
)

TRAIN_IMG, TRAIN_LBL, TEST_IMG, TEST_LBL = MNIST_FILES


def make_mnist(directory, n_train=12, n_test=5, rows=4, cols=3, gz=True, seed=0):
    """Write a tiny MNIST-shaped set; return the arrays written."""
    rng = np.random.default_rng(seed)
    arrays = {
        TRAIN_IMG: rng.integers(0, 256, (n_train, rows, cols), dtype=np.uint8),
        TRAIN_LBL: (np.arange(n_train) % 10).astype(np.uint8),
        TEST_IMG: rng.integers(0, 256, (n_test, rows, cols), dtype=np.uint8),
        TEST_LBL: (np.arange(n_test) * 3 % 10).astype(np.uint8),
    }
    os.makedirs(directory, exist_ok=True)
    for stem, arr in arrays.items():
        write_idx(os.path.join(directory, stem + (".gz" if gz else "")), arr)
    return arrays


# ---- reading ----


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_load_values(tmp_path, gz):
    arrays = make_mnist(tmp_path, gz=gz)
    ds = load_mnist(tmp_path)
    assert ds.name == "mnist" and ds.n_classes == 10
    assert ds.X_train.shape == (12, 12) and ds.X_val.shape == (5, 12)
    assert ds.X_train.dtype == np.float64 and ds.y_train.dtype == np.int64
    np.testing.assert_allclose(ds.X_train, arrays[TRAIN_IMG].reshape(12, 12) / 255.0)
    np.testing.assert_allclose(ds.X_val[2], arrays[TEST_IMG][2].ravel() / 255.0)
    assert ds.y_train.tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    assert ds.y_val.tolist() == [0, 3, 6, 9, 2]
    assert ds.X_test is None and ds.y_test is None
    assert repr(ds) == "Dataset(name='mnist', train=(12, 12), val=(5, 12), n_classes=10)"


def test_mixed_raw_and_gz(tmp_path):
    arrays = make_mnist(tmp_path)
    os.remove(tmp_path / (TEST_LBL + ".gz"))
    write_idx(tmp_path / TEST_LBL, arrays[TEST_LBL])
    assert load_mnist(tmp_path).y_val.tolist() == [0, 3, 6, 9, 2]


def test_val_split_carves_validation_from_train(tmp_path):
    arrays = make_mnist(tmp_path, n_train=20)
    ds = load_mnist(tmp_path, val_split=0.25, seed=3)
    assert ds.X_train.shape == (15, 12) and ds.X_val.shape == (5, 12)
    merged = np.concatenate([ds.X_train, ds.X_val]) * 255.0
    expected = arrays[TRAIN_IMG].reshape(20, 12).astype(np.float64)
    np.testing.assert_allclose(np.unique(merged, axis=0), np.unique(expected, axis=0))
    assert ds.y_test.tolist() == [0, 3, 6, 9, 2]
    np.testing.assert_allclose(ds.X_test * 255.0, arrays[TEST_IMG].reshape(5, 12))
    again = load_mnist(tmp_path, val_split=0.25, seed=3)
    np.testing.assert_array_equal(again.y_val, ds.y_val)


# ---- missing and inconsistent files ----


def test_missing_file_names_file_directory_and_options(tmp_path):
    make_mnist(tmp_path)
    os.remove(tmp_path / (TEST_LBL + ".gz"))
    with pytest.raises(DataError) as info:
        load_mnist(tmp_path)
    msg = str(info.value)
    assert TEST_LBL in msg and str(tmp_path) in msg
    assert "download=True" in msg and MNIST_BASE_URL in msg
    assert TRAIN_IMG not in msg


def test_missing_directory(tmp_path):
    with pytest.raises(DataError, match="not found") as info:
        load_mnist(tmp_path / "nowhere")
    assert all(stem in str(info.value) for stem in MNIST_FILES)


def replace(directory, stem, arr):
    os.remove(os.path.join(directory, stem + ".gz"))
    write_idx(os.path.join(directory, stem + ".gz"), arr)


@pytest.mark.parametrize(
    "stem, arr, match",
    [
        (TRAIN_LBL, np.zeros(11, np.uint8), f"{TRAIN_LBL}.gz: 11 labels for 12 images"),
        (TEST_IMG, np.zeros((5, 3, 4), np.uint8), "test images are 3x4 but training images"),
        (TRAIN_IMG, np.zeros((12, 12), np.uint8), "must be a 3-D uint8 array, got 2-D uint8"),
        (TRAIN_IMG, np.zeros((12, 4, 3), np.float32), "3-D uint8 array, got 3-D float32"),
        (TEST_LBL, np.zeros(5, np.int32), f"{TEST_LBL}.gz: MNIST labels must be a 1-D uint8"),
        (TEST_LBL, np.array([1, 2, 10, 3, 4], np.uint8), "label 10 at index 2 is not a digit"),
    ],
)
def test_inconsistent_files(tmp_path, stem, arr, match):
    make_mnist(tmp_path)
    replace(tmp_path, stem, arr)
    with pytest.raises(DataError, match=match):
        load_mnist(tmp_path)


def test_corrupt_file_is_reported_by_name(tmp_path):
    make_mnist(tmp_path, gz=False)
    path = tmp_path / TRAIN_IMG
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(DataError, match=f"{TRAIN_IMG}: truncated IDX data"):
        load_mnist(tmp_path)


# ---- download from a local server ----


@pytest.fixture
def server(tmp_path, monkeypatch):
    """Serve tmp_path/'mirror' on 127.0.0.1; yields (base_url, mirror_dir, requests)."""
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(mirror))
    )
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/mnist/", mirror, requests
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def published(mirror) -> tuple[dict, dict[str, str]]:
    """Put a synthetic MNIST under mirror/mnist; return arrays and their digests."""
    arrays = make_mnist(mirror / "mnist")
    digests = {
        stem + ".gz": hashlib.sha256((mirror / "mnist" / (stem + ".gz")).read_bytes()).hexdigest()
        for stem in MNIST_FILES
    }
    return arrays, digests


def test_download_fetches_verifies_and_loads(tmp_path, server):
    base_url, mirror, requests = server
    arrays, digests = published(mirror)
    target = tmp_path / "cache" / "mnist"
    ds = load_mnist(target, download=True, base_url=base_url, checksums=digests)
    assert sorted(requests) == sorted(f"/mnist/{s}.gz" for s in MNIST_FILES)
    assert sorted(os.listdir(target)) == sorted(s + ".gz" for s in MNIST_FILES)
    np.testing.assert_allclose(ds.X_train * 255.0, arrays[TRAIN_IMG].reshape(12, 12))
    assert ds.y_val.tolist() == arrays[TEST_LBL].tolist()
    load_mnist(target, download=True, base_url=base_url, checksums=digests)
    assert len(requests) == 4  # present files are not fetched again


def test_download_only_missing_files(tmp_path, server):
    base_url, mirror, requests = server
    _, digests = published(mirror)
    target = tmp_path / "target"
    shutil.copytree(mirror / "mnist", target)
    os.remove(target / (TRAIN_LBL + ".gz"))
    load_mnist(target, download=True, base_url=base_url, checksums=digests)
    assert requests == [f"/mnist/{TRAIN_LBL}.gz"]


def test_default_table_rejects_files_that_are_not_official_mnist(tmp_path, server):
    base_url, mirror, _ = server
    _, digests = published(mirror)
    target = tmp_path / "target"
    with pytest.raises(DataError, match="checksum mismatch") as info:
        load_mnist(target, download=True, base_url=base_url)
    msg = str(info.value)
    name = TRAIN_IMG + ".gz"
    assert name in msg and MNIST_SHA256[name] in msg and digests[name] in msg
    assert os.listdir(target) == []  # nothing partial, nothing unverified


def test_mismatch_on_second_file_keeps_verified_first_only(tmp_path, server):
    base_url, mirror, _ = server
    _, digests = published(mirror)
    digests[TRAIN_LBL + ".gz"] = "0" * 64
    target = tmp_path / "target"
    with pytest.raises(DataError, match=f"{TRAIN_LBL}.gz .*expected SHA-256 0{{64}}, got"):
        load_mnist(target, download=True, base_url=base_url, checksums=digests)
    assert os.listdir(target) == [TRAIN_IMG + ".gz"]


def test_http_error_is_a_data_error(tmp_path, server):
    base_url, mirror, _ = server
    _, digests = published(mirror)
    os.remove(mirror / "mnist" / (TEST_IMG + ".gz"))
    target = tmp_path / "target"
    with pytest.raises(DataError, match=re.escape(f"could not download {TEST_IMG}.gz")) as info:
        load_mnist(target, download=True, base_url=base_url, checksums=digests)
    assert "404" in str(info.value)
    assert not any(name.endswith(".part") or name.startswith(".") for name in os.listdir(target))
    assert f"{TEST_IMG}.gz" not in os.listdir(target)


def test_unknown_digest_downloads_with_warning(tmp_path, server):
    base_url, mirror, _ = server
    published(mirror)
    with pytest.warns(UserWarning, match="without a digest check") as record:
        ds = load_mnist(tmp_path / "t", download=True, base_url=base_url, checksums={})
    found = [re.match(r"no SHA-256 known for (\S+):", str(w.message)) for w in record]
    assert sorted(m.group(1) for m in found if m) == sorted(s + ".gz" for s in MNIST_FILES)
    assert ds.X_train.shape == (12, 12)


def test_published_digest_table_is_well_formed():
    assert set(MNIST_SHA256) == {stem + ".gz" for stem in MNIST_FILES}
    assert all(re.fullmatch(r"[0-9a-f]{64}", d) for d in MNIST_SHA256.values())
    assert len(set(MNIST_SHA256.values())) == 4
    assert MNIST_BASE_URL.startswith("https://") and MNIST_BASE_URL.endswith("/")
