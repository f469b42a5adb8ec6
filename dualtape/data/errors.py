"""Errors raised by :mod:`dualtape.data`.

They live in their own module so that every loader can raise them without
importing the others.
"""

from __future__ import annotations

__all__ = ["DataError", "MissingDependencyError"]


class DataError(ValueError):
    """A data file is missing, malformed, truncated or fails its checksum.

    A subclass of ``ValueError`` so that code catching bad input in general
    still catches it; the message always names the file and what is wrong.
    """


class MissingDependencyError(ImportError):
    """An optional package a loader needs is not installed.

    The message says which package and the ``pip install`` line that fixes it.
    """
