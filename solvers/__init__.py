"""scipy.optimize with exact derivatives from dualtape, and no boilerplate.

The functions here have scipy's names, arguments and results; the derivatives
(gradients, Jacobians, Hessians, Hessian- and Jacobian-vector products, sparse
Jacobians) are computed exactly by dualtape from the plain NumPy function:

- :func:`minimize` every scipy method; value and gradient from one reverse pass;
  ``hess=`` picks exact / Hessian-vector products / sparse / quasi-Newton;
  constraints get exact Jacobians (and Lagrangian Hessians for trust-constr);
- :func:`least_squares`, :func:`curve_fit` with the exact (dense or sparse) Jacobian;
- :func:`root` (scipy's methods plus "newton" and "newton-krylov"), :func:`fsolve`.

Each records the function once with ``dt.compile`` and replays its derivatives
(``compile="auto"``, the default, once a solve has asked for a few derivatives; eager
for a function that cannot be recorded, and ``res.compiled`` says which;
``compile=False`` is always eager).

Parameters may be pytrees (dicts/lists/tuples of arrays); ``res.x`` comes back in
the same structure and ``res.x_flat`` holds the flat vector. Everything is
float64, whatever the input dtype: scipy's solvers work in float64 and a float32
gradient is too coarse for their line searches and stopping tests.

>>> import numpy as np, solvers
>>> res = solvers.minimize(lambda x: np.sum((x - 2.0) ** 2), np.zeros(3), method="L-BFGS-B")
>>> np.round(res.x, 6)
array([2., 2., 2.])
"""

from ._errors import CompileError, NonFiniteWarning, ObjectiveError
from .curve_fit import curve_fit
from .least_squares import least_squares
from .minimize import minimize
from .multistart import multistart
from .root import fsolve, root

__all__ = ["CompileError", "NonFiniteWarning", "ObjectiveError", "curve_fit", "fsolve",
           "least_squares", "minimize", "multistart", "root"]
