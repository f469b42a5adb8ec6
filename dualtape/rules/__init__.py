"""The derivative rules, one file per family. Importing this package registers them all."""

from . import elementwise, linalg, reductions, shape  # noqa: F401
from . import construct, indexing, scans, special, stats  # noqa: F401
from . import examples_core  # noqa: F401  (test cases of the handlers above)
