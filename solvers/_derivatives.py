"""The derivative plumbing: every call into dualtape made by ``solvers`` is here.

Each builder takes a function of ONE flat float64 vector (the pytree, ``args``
and output flattening are already closed over) and returns a callable that
evaluates a derivative at a point. Nothing else in ``solvers`` imports dualtape
for derivatives, so a later backend (e.g. a tape recorded once and replayed)
replaces this module and nothing more.

Sparse Jacobians and Hessians use ``dt.sparse_jacobian_fn`` (pattern and
coloring computed once, then reused) and ``dt.sparse_hessian``; they are looked
up when needed, so the dense paths work with a dualtape that has no sparse module.

>>> import numpy as np
>>> vg = value_and_grad(lambda x: np.sum(x ** 2))
>>> vg(np.array([1.0, 2.0]))
(np.float64(5.0), array([2., 4.]))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import dualtape as dt

__all__ = ["hessian", "hvp", "jvp", "sparse_available", "sparse_hessian", "sparse_jacobian",
           "value_and_grad", "value_and_jacobian", "value_grad_hessian"]

Vector = np.ndarray


def value_and_grad(f: Callable[[Vector], Any]) -> Callable[[Vector], tuple[Any, Vector]]:
    """``x -> (f(x), grad f(x))`` from one reverse pass."""
    return dt.value_and_grad(f)


def value_grad_hessian(f: Callable[[Vector], Any]) -> Callable[[Vector], tuple]:
    """``x -> (f(x), grad, Hessian)``: one forward-over-reverse pass gives all three."""
    vg = dt.value_and_grad(f)

    def grad_with_aux(x: Any) -> tuple:
        value, g = vg(x)
        return g, (value, g)

    jac = dt.jacfwd(grad_with_aux, has_aux=True)

    def vgh(x: Vector) -> tuple:
        h, (value, g) = jac(x)
        return value, g, h

    return vgh


def hessian(f: Callable[[Vector], Any]) -> Callable[[Vector], Vector]:
    """``x -> Hessian of scalar f`` (dense, forward-over-reverse)."""
    return dt.hessian(f)


def hvp(f: Callable[[Vector], Any]) -> Callable[[Vector, Vector], Vector]:
    """``(x, v) -> H(x) @ v`` without forming H (forward-over-reverse, one pass)."""
    return lambda x, v: dt.hvp(f, x, v)


def value_and_jacobian(f: Callable[[Vector], Any],
                       mode: str = "auto") -> Callable[[Vector], tuple[Any, Vector]]:
    """``x -> (f(x), J(x))`` for vector f, in one traced evaluation (J is m x n)."""

    def with_aux(x: Any) -> tuple:
        y = f(x)
        return y, y

    jac = dt.jacobian(with_aux, mode=mode, has_aux=True)

    def vj(x: Vector) -> tuple:
        j, value = jac(x)
        return value, j

    return vj


def jvp(f: Callable[[Vector], Any]) -> Callable[[Vector, Vector], tuple[Any, Vector]]:
    """``(x, v) -> (f(x), J(x) @ v)`` by forward mode, without forming J."""
    return lambda x, v: dt.jvp(f, (x,), (v,))


# ---- sparse (optional: dualtape's sparse module may be absent) ----

_SPARSE_NAMES = ("sparse_jacobian_fn", "sparse_hessian")  # sparse_hessian_fn: used if present


def sparse_available() -> bool:
    """Whether this dualtape provides the sparse Jacobian and Hessian functions."""
    return all(getattr(dt, name, None) is not None for name in _SPARSE_NAMES)


def _require(name: str, who: str) -> Callable:
    fn = getattr(dt, name, None)
    if fn is None:
        raise NotImplementedError(
            f"{who}: a sparse derivative was asked for, but this dualtape has no "
            f"dt.{name} (its sparse module is not installed or not finished). Use the dense "
            f"path (sparse=False / hess='exact' or 'hessp'), which needs no sparse support.")
    return fn


def sparse_jacobian(f: Callable[[Vector], Any], x_example: Vector,
                    who: str = "solvers") -> Callable[[Vector], Any]:
    """``x -> J(x)`` as a ``scipy.sparse.csr_array``; pattern and coloring found once."""
    return _require("sparse_jacobian_fn", who)(f, x_example)


def sparse_hessian(f: Callable[[Vector], Any], who: str = "solvers") -> Callable[[Vector], Any]:
    """``x -> H(x)`` of scalar f as a sparse array.

    Uses ``dt.sparse_hessian_fn`` when dualtape offers it (pattern and coloring found
    at the first point, then reused), else ``dt.sparse_hessian`` at every call.
    """
    reusable = getattr(dt, "sparse_hessian_fn", None)
    if reusable is None:
        one_shot = _require("sparse_hessian", who)
        return lambda x: one_shot(f, x)
    built: list[Callable] = []

    def hess(x: Vector) -> Any:
        if not built:
            built.append(reusable(f, x))
        return built[0](x)

    return hess
