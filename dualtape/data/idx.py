"""Read and write IDX files, the binary array format MNIST ships in.

Layout: a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), one big-endian uint32 per dimension, then the data, big-endian,
in C order. Files may be gzip-compressed; compression is recognised from the
content, not the name. Reading checks everything the header promises, because
a truncated download otherwise shows up much later as nonsense pixels.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import tempfile
import zlib
from collections.abc import Iterator
from typing import IO

import numpy as np

from .errors import DataError

__all__ = ["IDX_DTYPES", "read_idx", "write_idx"]

StrPath = str | os.PathLike[str]

#: IDX type code -> big-endian NumPy dtype of the stored data.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF_KIND = {(dt.kind, dt.itemsize): code for code, dt in IDX_DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"
_MAX_DIM = 2**32 - 1


def _read_exact(f: IO[bytes], n: int) -> bytes:
    """Read n bytes, looping because gzip streams may return short reads."""
    parts, got = [], 0
    while got < n:
        chunk = f.read(min(n - got, 1 << 24))
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def read_idx(path: StrPath) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed) into an array.

    The header is validated and the payload must have exactly the declared
    size, so a truncated or padded file is reported instead of reshaped.

    Args:
        path: the file to read.

    Returns:
        A writable array of the declared shape, in native byte order.

    Raises:
        DataError: the file is malformed, truncated, too long, or not gzip
            data although it starts like it. The message names the file.
        FileNotFoundError: the file does not exist.

    Example:
        >>> import os, tempfile
        >>> import numpy as np
        >>> from dualtape.data import read_idx, write_idx
        >>> p = os.path.join(tempfile.mkdtemp(), "a.idx.gz")
        >>> write_idx(p, np.arange(6, dtype=np.int16).reshape(2, 3))
        >>> read_idx(p)
        array([[0, 1, 2],
               [3, 4, 5]], dtype=int16)
    """
    name = os.fspath(path)
    with open(name, "rb") as raw:
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        if not compressed:
            return _parse(raw, name)
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as gz:
                return _parse(gz, name)
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise DataError(f"{name}: damaged or truncated gzip data ({exc})") from exc


def _parse(f: IO[bytes], name: str) -> np.ndarray:
    magic = _read_exact(f, 4)
    if len(magic) < 4:
        raise DataError(f"{name}: file too short for an IDX header ({len(magic)} bytes, need 4)")
    if magic[0] != 0 or magic[1] != 0:
        raise DataError(
            f"{name}: bad IDX magic number 0x{magic.hex()}: the first two bytes must be zero "
            "(is this an IDX file?)"
        )
    code, ndim = magic[2], magic[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise DataError(f"{name}: unknown IDX type code 0x{code:02X} (known: {known})")
    if ndim == 0:
        raise DataError(f"{name}: IDX header declares 0 dimensions")
    header = _read_exact(f, 4 * ndim)
    if len(header) < 4 * ndim:
        raise DataError(
            f"{name}: truncated IDX header: {ndim} dimensions declared, "
            f"only {len(header) // 4} present"
        )
    shape = tuple(int(d) for d in np.frombuffer(header, dtype=">u4"))
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=object)) * dtype.itemsize
    data = _read_exact(f, expected)
    if len(data) < expected:
        raise DataError(
            f"{name}: truncated IDX data: shape {shape} of {dtype.newbyteorder('=')} needs "
            f"{expected} bytes after the header, found {len(data)}"
        )
    extra = len(f.read(1 << 16))
    if extra:
        more = "" if extra < (1 << 16) else " or more"
        raise DataError(
            f"{name}: {extra}{more} unexpected bytes after the data declared by the header "
            f"(shape {shape}, {dtype.newbyteorder('=')}): wrong dimensions or a corrupt file"
        )
    return np.frombuffer(data, dtype=dtype).astype(dtype.newbyteorder("=")).reshape(shape)


@contextlib.contextmanager
def atomic_output(path: StrPath) -> Iterator[IO[bytes]]:
    """Open a temporary file next to ``path``; move it over ``path`` on success.

    Readers never see a half-written file: the data goes to a temporary file in
    the same directory (so ``os.replace`` is an atomic rename), which replaces
    ``path`` only if the ``with`` block finishes; on any exception it is deleted.
    """
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(
        dir=directory, prefix=f".{os.path.basename(target)}.", suffix=".part"
    )
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_idx(path: StrPath, array: np.ndarray) -> None:
    """Write an array as an IDX file, gzip-compressed if ``path`` ends in ``.gz``.

    Writes atomically, so an interrupted write never leaves a file that
    :func:`read_idx` would later half-read. The gzip header carries no
    timestamp, so equal arrays give byte-identical files (stable checksums).

    Args:
        path: destination file.
        array: at least 1-D, of dtype uint8, int8, int16, int32, float32 or float64.

    Raises:
        DataError: the dtype has no IDX type code, the array is 0-d, or it has
            more than 255 dimensions or a dimension of 2**32 or more.

    Example:
        >>> import os, tempfile
        >>> import numpy as np
        >>> from dualtape.data import read_idx, write_idx
        >>> p = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte")
        >>> write_idx(p, np.array([7, 2, 1], dtype=np.uint8))
        >>> os.path.getsize(p)  # 4 magic + 4 for the one dimension + 3 data
        11
        >>> read_idx(p).tolist()
        [7, 2, 1]
    """
    arr = np.asarray(array)
    name = os.fspath(path)
    code = _CODE_OF_KIND.get((arr.dtype.kind, arr.dtype.itemsize))
    if code is None:
        raise DataError(
            f"{name}: cannot write dtype {arr.dtype} as IDX; "
            "supported: uint8, int8, int16, int32, float32, float64"
        )
    if not 1 <= arr.ndim <= 255:
        raise DataError(f"{name}: IDX needs between 1 and 255 dimensions, array has {arr.ndim}")
    if any(d > _MAX_DIM for d in arr.shape):
        raise DataError(f"{name}: dimension too large for IDX (max {_MAX_DIM}): {arr.shape}")
    header = bytes([0, 0, code, arr.ndim]) + np.asarray(arr.shape, dtype=">u4").tobytes()
    payload = np.ascontiguousarray(arr, dtype=IDX_DTYPES[code]).tobytes()
    with atomic_output(name) as f:
        if name.endswith(".gz"):
            with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as gz:
                gz.write(header)
                gz.write(payload)
        else:
            f.write(header)
            f.write(payload)
