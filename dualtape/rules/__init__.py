"""The derivative rules, one file per family. Importing this package registers them all."""

from . import elementwise, linalg, reductions, shape  # noqa: F401
