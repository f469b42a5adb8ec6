"""Results: scipy's OptimizeResult, with x back in the structure of x0.

``res.x`` is the solution shaped like ``x0`` (the same dict/list/array layout,
float64 leaves), ``res.x_flat`` the flat float64 vector scipy worked on, and
``res.ad_calls`` how many traced evaluations each kind of derivative took.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from ._pytree import Unravel

__all__ = ["structured_result"]


def structured_result(res: Any, unravel: Unravel, ad_calls: dict[str, int]) -> OptimizeResult:
    """Return ``res`` (an OptimizeResult) with ``x`` as a pytree and ``x_flat`` added.

    >>> import numpy as np
    >>> from solvers._pytree import ravel_pytree
    >>> _, unravel = ravel_pytree({"a": 1.0, "b": np.zeros(2)})
    >>> r = structured_result(OptimizeResult(x=np.array([1.0, 2.0, 3.0])), unravel, {})
    >>> r.x["b"], r.x_flat
    (array([2., 3.]), array([1., 2., 3.]))
    """
    flat = np.asarray(res.x, dtype=np.float64).ravel()
    res.x_flat = flat
    res.x = unravel(flat.copy()) if not unravel.trivial else flat
    res.ad_calls = dict(ad_calls)
    return res
