"""IDX reading and writing: round trips, exact bytes, and every kind of damage."""

from __future__ import annotations

import gzip
import os

import numpy as np
import pytest

from dualtape.data import DataError, read_idx, write_idx
from dualtape.data.idx import atomic_output

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


def sample(dtype) -> np.ndarray:
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        flat = np.array([info.min, info.max, 0, 1, info.max // 3, info.min // 5], dtype=dtype)
    else:
        flat = np.array([-1.5, 0.0, 3.25, np.finfo(dtype).max, np.finfo(dtype).tiny, 1e-3], dtype)
    return np.concatenate([flat, flat[::-1]]).reshape(2, 3, 2)


@pytest.mark.parametrize("compressed", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_round_trip(tmp_path, dtype, compressed):
    arr = sample(dtype)
    path = tmp_path / ("a.idx.gz" if compressed else "a.idx")
    write_idx(path, arr)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    assert back.shape == (2, 3, 2)
    np.testing.assert_array_equal(back, arr)
    back[0, 0, 0] = 0  # callers may modify what they read
    assert os.listdir(tmp_path) == [path.name]  # no temp file left behind
    with open(path, "rb") as f:
        assert (f.read(2) == b"\x1f\x8b") == compressed


def test_exact_bytes_big_endian(tmp_path):
    path = tmp_path / "b.idx"
    write_idx(path, np.array([[258, -2, 3]], dtype=np.int16))
    assert path.read_bytes() == (
        b"\x00\x00\x0b\x02"  # magic: type 0x0B (short), 2 dimensions
        + b"\x00\x00\x00\x01\x00\x00\x00\x03"
        + b"\x01\x02\xff\xfe\x00\x03"
    )


def test_hand_made_file_and_1d_and_gz_are_deterministic(tmp_path):
    raw = tmp_path / "labels"
    raw.write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x04" + bytes([5, 0, 4, 1]))
    assert read_idx(raw).tolist() == [5, 0, 4, 1]
    a, b = tmp_path / "x.gz", tmp_path / "y.gz"
    write_idx(a, np.arange(5, dtype=np.uint8))
    write_idx(b, np.arange(5, dtype=np.uint8))
    assert a.read_bytes() == b.read_bytes()


# ---- damaged files ----

GOOD = b"\x00\x00\x08\x02\x00\x00\x00\x02\x00\x00\x00\x03" + bytes(range(6))


@pytest.mark.parametrize(
    "content, match",
    [
        (b"", "too short for an IDX header"),
        (b"\x00\x00\x08", "too short for an IDX header"),
        (b"\x01" + GOOD[1:], "bad IDX magic number 0x01000802"),
        (b"\x00\x07" + GOOD[2:], "bad IDX magic"),
        (GOOD[:2] + b"\x0a" + GOOD[3:], "unknown IDX type code 0x0A"),
        (GOOD[:3] + b"\x00" + GOOD[4:], "0 dimensions"),
        (GOOD[:10], "truncated IDX header: 2 dimensions declared, only 1 present"),
        (GOOD[:-1], r"truncated IDX data: shape \(2, 3\) of uint8 needs 6 bytes .* found 5"),
        (GOOD + b"\x00", "1 unexpected bytes after the data"),
        # Header says 3x3 but data is 2x3: too short.
        (GOOD[:7] + b"\x03" + GOOD[8:], r"shape \(3, 3\) of uint8 needs 9 bytes .* found 6"),
        # Header says 2x2 but data is 2x3: too long.
        (GOOD[:11] + b"\x02" + bytes(6), "2 unexpected bytes"),
        (b"\x00\x00\x0c\x01\x00\x00\x00\x02" + bytes(7), "needs 8 bytes after the header"),
    ],
    ids=[
        "empty",
        "short-magic",
        "magic-byte0",
        "magic-byte1",
        "type-code",
        "zero-dims",
        "short-header",
        "short-data",
        "extra-byte",
        "dims-too-big",
        "dims-too-small",
        "int32-short",
    ],
)
def test_malformed_raw_file(tmp_path, content, match):
    path = tmp_path / "broken-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(DataError, match=match) as info:
        read_idx(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_truncated_and_damaged_gzip(tmp_path):
    path = tmp_path / "imgs.gz"
    write_idx(path, np.arange(4000, dtype=np.int32).reshape(40, 100))
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match="damaged or truncated gzip") as info:
        read_idx(path)
    assert "imgs.gz" in str(info.value)
    path.write_bytes(blob[:20] + b"\xff" * 40 + blob[60:])
    with pytest.raises(DataError, match="imgs.gz"):
        read_idx(path)


def test_gzip_of_truncated_idx_reports_the_idx_problem(tmp_path):
    path = tmp_path / "short.gz"
    path.write_bytes(gzip.compress(GOOD[:-2]))
    with pytest.raises(DataError, match="found 4"):
        read_idx(path)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope")


@pytest.mark.parametrize(
    "arr, match",
    [
        (np.arange(3, dtype=np.int64), "cannot write dtype int64"),
        (np.array([True]), "cannot write dtype bool"),
        (np.uint8(3), "between 1 and 255 dimensions"),
    ],
)
def test_write_rejects_what_idx_cannot_hold(tmp_path, arr, match):
    with pytest.raises(DataError, match=match):
        write_idx(tmp_path / "bad.idx", arr)
    assert os.listdir(tmp_path) == []


def test_atomic_output_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / "target"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_output(path) as f:
        f.write(b"half-written")
        raise RuntimeError("interrupted")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["target"]
    with atomic_output(path) as f:
        f.write(b"new")
    assert path.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["target"]
