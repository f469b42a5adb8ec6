"""``scipy.linalg`` for traced values: ``import dualtape.scipy.linalg as sla``.

expm, solve_triangular, cholesky, cho_factor, cho_solve, solve, inv, det, eigh,
eigvalsh, svd, pinv, norm, qr and block_diag are wrapped (see dualtape.scipy); the
other names are SciPy's own and raise a clear error on traced values.
"""

import scipy.linalg as _sla

from ._wrap import export as _export

__all__ = _export(__name__, _sla, globals())
