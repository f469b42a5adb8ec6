"""``scipy.special`` for traced values: ``from dualtape.scipy.special import logsumexp``.

The ufuncs are SciPy's own (they dispatch by themselves); logsumexp, softmax,
log_softmax, softplus, polygamma and zeta are wrapped (see dualtape.scipy).
"""

import scipy.special as _sp

from ._wrap import export as _export

__all__ = _export(__name__, _sp, globals())
