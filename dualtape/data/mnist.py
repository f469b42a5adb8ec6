"""MNIST from the four standard IDX files, with an opt-in, verified download.

Nothing is fetched unless asked (``download=True``); what is fetched is
checked against published SHA-256 digests before it is moved into place, so a
failed or tampered download never leaves a file that looks like MNIST.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
import warnings
from collections.abc import Mapping

import numpy as np

from .errors import DataError
from .idx import atomic_output, read_idx
from .loader import Dataset, train_val_split

__all__ = ["MNIST_BASE_URL", "MNIST_FILES", "MNIST_SHA256", "load_mnist"]

StrPath = str | os.PathLike[str]

#: Default mirror: the copy TensorFlow Datasets downloads from (the original
#: yann.lecun.com site no longer serves the files reliably). Another mirror
#: holding the same ``.gz`` files, e.g. ``https://ossci-datasets.s3.amazonaws.com/mnist/``
#: (torchvision's), works as ``base_url`` and passes the same digests.
MNIST_BASE_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"

#: The four files, in the order (train images, train labels, test images, test labels).
MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

#: SHA-256 of the official ``.gz`` files, as published in TensorFlow Datasets'
#: ``url_checksums/mnist.txt`` and torchvision's MNIST dataset (they agree).
#: A name missing from the table (or mapped to ``None``) is downloaded without
#: a digest check, with a warning.
MNIST_SHA256: dict[str, str | None] = {
    "train-images-idx3-ubyte.gz": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
    ),
    "train-labels-idx1-ubyte.gz": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
    ),
    "t10k-images-idx3-ubyte.gz": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
    ),
}

_CHUNK = 1 << 20


def _find(directory: str, stem: str) -> str | None:
    for name in (stem, stem + ".gz"):
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def _download(url: str, target: str, expected: str | None, timeout: float) -> None:
    """Stream ``url`` into ``target`` atomically, checking its SHA-256 first."""
    name = os.path.basename(target)
    if expected is None:
        warnings.warn(
            f"no SHA-256 known for {name}: downloaded from {url} without a digest check",
            UserWarning,
            stacklevel=3,
        )
    digest = hashlib.sha256()
    # A fresh opener per call reads the proxy settings in force now.
    opener = urllib.request.build_opener()
    with atomic_output(target) as out:
        try:
            with opener.open(url, timeout=timeout) as response:
                while chunk := response.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            if isinstance(exc, urllib.error.HTTPError):
                exc.close()  # an HTTP error carries the open response; free its socket
            raise DataError(f"could not download {name} from {url}: {exc}") from exc
        got = digest.hexdigest()
        if expected is not None and got != expected.lower():
            raise DataError(
                f"checksum mismatch for {name} downloaded from {url}: "
                f"expected SHA-256 {expected}, got {got}; the file was discarded"
            )


def _fetch_missing(
    directory: str,
    missing: list[str],
    base_url: str | None,
    checksums: Mapping[str, str | None] | None,
    timeout: float,
) -> None:
    os.makedirs(directory, exist_ok=True)
    base = (base_url or MNIST_BASE_URL).rstrip("/") + "/"
    table = MNIST_SHA256 if checksums is None else checksums
    for stem in missing:
        gz = stem + ".gz"
        _download(base + gz, os.path.join(directory, gz), table.get(gz), timeout)


def _check_pair(images: np.ndarray, labels: np.ndarray, img_path: str, lbl_path: str) -> None:
    if images.dtype != np.uint8 or images.ndim != 3:
        raise DataError(
            f"{img_path}: MNIST images must be a 3-D uint8 array, "
            f"got {images.ndim}-D {images.dtype}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataError(
            f"{lbl_path}: MNIST labels must be a 1-D uint8 array, "
            f"got {labels.ndim}-D {labels.dtype}"
        )
    if len(images) != len(labels):
        raise DataError(f"{lbl_path}: {len(labels)} labels for {len(images)} images in {img_path}")
    if labels.size and labels.max() > 9:
        bad = int(np.argmax(labels > 9))
        raise DataError(f"{lbl_path}: label {labels[bad]} at index {bad} is not a digit 0-9")


def load_mnist(
    path: StrPath,
    download: bool = False,
    base_url: str | None = None,
    val_split: float | None = None,
    *,
    seed: int | None = 0,
    checksums: Mapping[str, str | None] | None = None,
    timeout: float = 60.0,
) -> Dataset:
    """Load MNIST from a directory holding the four IDX files (raw or ``.gz``).

    Any well-formed IDX files of the right types are accepted, so small
    synthetic sets work too. Images are flattened to ``rows * cols`` features
    and scaled to [0, 1].

    Args:
        path: directory with ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
            ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (each optionally ``.gz``).
        download: fetch the missing files into ``path`` (created if needed).
        base_url: mirror to fetch from; defaults to :data:`MNIST_BASE_URL`.
        val_split: ``None``: validation = the t10k files. A fraction in (0, 1):
            validation is a stratified, seeded share of the training files and
            the t10k files become ``X_test``/``y_test``, kept for a final check.
        seed: seed of the ``val_split`` split.
        checksums: ``{"<file>.gz": sha256 or None}`` for downloads; defaults to
            :data:`MNIST_SHA256`. Files without a digest are fetched with a warning.
        timeout: seconds to wait on the network per request.

    Returns:
        A :class:`Dataset` named ``"mnist"`` with float64 X and int64 y.

    Raises:
        DataError: a file is missing (and ``download`` is False), malformed,
            inconsistent with its partner, fails its checksum, or the download fails.

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> from dualtape.data import write_idx
        >>> d = tempfile.mkdtemp()
        >>> for split, n in (("train", 6), ("t10k", 2)):
        ...     write_idx(f"{d}/{split}-images-idx3-ubyte.gz", np.zeros((n, 4, 4), np.uint8))
        ...     write_idx(f"{d}/{split}-labels-idx1-ubyte", np.arange(n, dtype=np.uint8))
        >>> load_mnist(d)
        Dataset(name='mnist', train=(6, 16), val=(2, 16), n_classes=10)
    """
    directory = os.path.abspath(os.fspath(path))
    missing = [stem for stem in MNIST_FILES if _find(directory, stem) is None]
    if missing and download:
        _fetch_missing(directory, missing, base_url, checksums, timeout)
    elif missing:
        names = ", ".join(f"{stem}[.gz]" for stem in missing)
        raise DataError(
            f"MNIST file(s) not found: {names} in directory {directory}. "
            f"Pass download=True to fetch them from {base_url or MNIST_BASE_URL}, "
            "or download the four files from an MNIST mirror and put them (raw or .gz) there."
        )
    paths = [_find(directory, stem) for stem in MNIST_FILES]
    if any(p is None for p in paths):  # pragma: no cover - a file vanished mid-call
        raise DataError(f"MNIST files disappeared from {directory} while loading")
    arrays = [read_idx(p) for p in paths]  # type: ignore[arg-type]
    tr_img, tr_lbl, te_img, te_lbl = arrays
    _check_pair(tr_img, tr_lbl, paths[0], paths[1])  # type: ignore[arg-type]
    _check_pair(te_img, te_lbl, paths[2], paths[3])  # type: ignore[arg-type]
    if tr_img.shape[1:] != te_img.shape[1:]:
        raise DataError(
            f"{paths[2]}: test images are {te_img.shape[1]}x{te_img.shape[2]} but training "
            f"images in {paths[0]} are {tr_img.shape[1]}x{tr_img.shape[2]}"
        )

    def features(images: np.ndarray) -> np.ndarray:
        return images.reshape(len(images), -1).astype(np.float64) / 255.0

    X_tr, y_tr = features(tr_img), tr_lbl.astype(np.int64)
    X_te, y_te = features(te_img), te_lbl.astype(np.int64)
    if val_split is None:
        return Dataset(X_tr, y_tr, X_te, y_te, n_classes=10, name="mnist")
    X_tr, y_tr, X_val, y_val = train_val_split(X_tr, y_tr, val_split, seed=seed)
    return Dataset(X_tr, y_tr, X_val, y_val, n_classes=10, name="mnist", X_test=X_te, y_test=y_te)
