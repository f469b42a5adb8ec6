"""dualtape: forward-mode (dual numbers) and reverse-mode (Wengert list) automatic
differentiation for plain NumPy code, sharing one registry of derivative rules.

>>> import numpy as np, dualtape as dt
>>> dt.grad(lambda x: np.sum(np.sin(x) * x))(np.array([0.0, 1.0]))
array([0.        , 1.38177329])
"""

from .check import check_grads
from .custom import Function, defderiv, defjvp, defvjp, primitive
from .debug import NaNError, debug_nans
from .dual import Dual
from .errors import (
                     ArgnumsError,
                     DualtapeError,
                     MemoryCapError,
                     NonDifferentiableInputError,
                     NoRuleError,
                     ShapeError,
                     TapeError,
                     TracerConversionError,
)
from .jacobians import JacobianPlan, explain_jacobian, hessian, jacfwd, jacobian, jacrev
from .replay import Compiled, compile
from .rules.construct import array
from .sparse import (  # noqa: F401  (public; to be listed in __all__)
                     explain_sparse_hessian,
                     explain_sparse_jacobian,
                     hessian_sparsity,
                     jacobian_sparsity,
                     sparse_hessian,
                     sparse_hessian_fn,
                     sparse_jacobian,
                     sparse_jacobian_fn,
)
from .tape import Tape, Tensor, is_grad_enabled, no_grad
from .transforms import grad, hvp, jvp, stop_gradient, value_and_grad, vjp

__version__ = "0.1.0"

__all__ = [
    "ArgnumsError", "Compiled", "Dual", "DualtapeError", "Function", "JacobianPlan",
    "MemoryCapError", "NaNError", "NoRuleError", "NonDifferentiableInputError", "ShapeError",
    "Tape", "TapeError", "Tensor", "TracerConversionError", "array", "check_grads", "compile",
    "debug_nans", "defderiv", "defjvp", "defvjp", "explain_jacobian", "grad", "hessian", "hvp",
    "is_grad_enabled", "jacfwd", "jacobian", "jacrev", "jvp", "no_grad", "primitive",
    "stop_gradient", "value_and_grad", "vjp",
]
