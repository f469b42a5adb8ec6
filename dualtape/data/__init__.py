"""Datasets and mini-batches for the deep-learning layer (pure NumPy).

Nothing here imports the rest of dualtape: data loading must work (and be
testable) whatever state the autodiff core is in.

- :class:`DataLoader`: seeded, resumable mini-batches; :func:`train_val_split`.
- :func:`load_digits`: scikit-learn's 8x8 digits (offline; needs scikit-learn).
- :func:`load_mnist`: MNIST from IDX files, optional verified download.
- :func:`read_idx` / :func:`write_idx`: the IDX array format.
- :class:`DataError`: every bad or missing file (a ``ValueError``).
"""

from .digits import load_digits
from .errors import DataError, MissingDependencyError
from .idx import read_idx, write_idx
from .loader import DataLoader, Dataset, train_val_split
from .mnist import MNIST_BASE_URL, MNIST_FILES, MNIST_SHA256, load_mnist

__all__ = [
    "MNIST_BASE_URL",
    "MNIST_FILES",
    "MNIST_SHA256",
    "DataError",
    "DataLoader",
    "Dataset",
    "MissingDependencyError",
    "load_digits",
    "load_mnist",
    "read_idx",
    "train_val_split",
    "write_idx",
]
