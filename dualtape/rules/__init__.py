"""The derivative rules, one file per family. Importing this package registers them all."""

from . import elementwise, linalg, reductions, shape  # noqa: F401
from . import construct, contractions, indexing, scans, special, stats  # noqa: F401
from . import decompositions, linsolve, norms, scipy_compat, special_fns  # noqa: F401
from . import examples_core  # noqa: F401  (test cases of the handlers above)
