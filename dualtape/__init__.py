"""dualtape: forward-mode (dual numbers) and reverse-mode (Wengert list) automatic
differentiation for plain NumPy code, sharing one registry of derivative rules.

>>> import numpy as np, dualtape as dt
>>> dt.grad(lambda x: np.sum(np.sin(x) * x))(np.array([0.0, 1.0]))
array([0.        , 1.38177329])
"""

import importlib
from typing import TYPE_CHECKING

from .check import check_grads
from .custom import Function, defderiv, defjvp, defvjp, primitive
from .debug import NaNError, debug_nans
from .dual import Dual
from .errors import (
    ArgnumsError,
    ChunkError,
    DistributedError,
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
from .sparse import (
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

if TYPE_CHECKING:  # for editors and type checkers; at run time these load lazily
    from . import data as data
    from . import nn as nn
    from . import optim as optim

__version__ = "0.1.0"

__all__ = [
    "ArgnumsError", "ChunkError", "Compiled", "DistributedError", "Dual", "DualtapeError",
    "Function", "JacobianPlan",
    "MemoryCapError", "NaNError", "NoRuleError", "NonDifferentiableInputError", "ShapeError",
    "Tape", "TapeError", "Tensor", "TracerConversionError", "array", "check_grads", "compile",
    "debug_nans", "defderiv", "defjvp", "defvjp", "explain_jacobian",
    "explain_sparse_hessian", "explain_sparse_jacobian", "grad", "hessian", "hessian_sparsity",
    "hvp", "is_grad_enabled", "jacfwd", "jacobian", "jacobian_sparsity", "jacrev", "jvp",
    "no_grad", "primitive", "sparse_hessian", "sparse_hessian_fn", "sparse_jacobian",
    "sparse_jacobian_fn", "stop_gradient", "value_and_grad", "vjp",
]

# The deep-learning layer sits on top of the core and is not needed to take a
# derivative, so `import dualtape` does not pay for it: `dt.nn`, `dt.optim` and
# `dt.data` are imported on first attribute access (PEP 562); so is `dt.distribute`
# (work on executors), which the transforms import only when given executor=.
_LAZY_SUBMODULES = ("data", "distribute", "nn", "optim")


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))
