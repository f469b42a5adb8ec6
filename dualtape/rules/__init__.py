"""The derivative rules, one file per family. Importing this package registers them all.

Modules import what they build on, so the order below does not matter; ``examples_core``
only attaches test cases to the handlers of the core files.
"""

from . import (  # noqa: F401
    arrayops,
    construct,
    contractions,
    decompositions,
    elementwise,
    examples_core,
    floatparts,
    indexing,
    joining,
    linalg,
    linsolve,
    norms,
    polynomials,
    reductions,
    scans,
    scipy_compat,
    shape,
    special,
    special_fns,
    special_more,
    stats,
    subscript,
)
