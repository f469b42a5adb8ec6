"""check_grads: compare forward mode, reverse mode and central differences.

Checks, at the given point, along random directions u (inputs) and v (outputs):
``jvp(u)`` against central differences, ``<v, J u> == <J^T v, u>`` (the dot-product
test tying reverse to forward), and, for ``order >= 2``, the same checks applied to
the functions ``x -> jvp(f)(x; u)`` and ``x -> vjp(f)(x; v)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .errors import DualtapeError
from .registry import plain
from .transforms import jvp, vjp
from .tree import flatten, unflatten


class GradCheckError(DualtapeError, AssertionError):
    """The modes disagree with each other or with finite differences."""


def _flat(tree: Any) -> np.ndarray:
    leaves = flatten(tree)[0]
    if not leaves:
        return np.zeros(0)
    return np.concatenate([np.ravel(np.asarray(plain(v), dtype=np.float64)) for v in leaves])


def _directions(args: tuple, rng: np.random.Generator) -> tuple:
    leaves, spec = flatten(args)
    return unflatten(spec, [rng.standard_normal(np.shape(v)).astype(np.result_type(v))
                            if np.ndim(v) else float(rng.standard_normal()) for v in leaves])


def _axpy(a: float, x: tuple, y: tuple) -> tuple:
    lx, spec = flatten(x)
    ly = flatten(y)[0]
    return unflatten(spec, [np.asarray(b) + a * np.asarray(c) if np.ndim(b) else b + a * c
                            for b, c in zip(lx, ly)])


def _close(a: np.ndarray, b: np.ndarray, atol: float, rtol: float) -> tuple[bool, float]:
    err = float(np.max(np.abs(a - b))) if a.size else 0.0
    scale = float(max(np.max(np.abs(a)) if a.size else 0.0, np.max(np.abs(b)) if b.size else 0.0))
    return err <= atol + rtol * scale, err


def check_grads(f: Callable, args: Sequence, order: int = 2,
                modes: Sequence[str] = ("fwd", "rev"), eps: float = 1e-6, atol: float = 1e-5,
                rtol: float = 1e-4, seed: int = 0) -> None:
    """Raise ``GradCheckError`` with a report if the derivatives of f at args are wrong.

    Args:
        f: function of the positional ``args`` (arrays, floats or pytrees).
        args: the point.
        order: check derivatives up to this order (2 = also the derivatives of the jvp/vjp).
        modes: "fwd" checks jvp against central differences, "rev" adds the dot-product
            test of vjp against jvp.
        eps: finite-difference step. atol, rtol: tolerances.

    >>> import numpy as np, dualtape as dt
    >>> dt.check_grads(lambda x: np.sin(x) * x, (np.array([0.5, 1.5]),), order=2)
    """
    args = tuple(args)
    rng = np.random.default_rng(seed)
    _check(f, args, order, tuple(modes), eps, atol, rtol, rng, "f")


def _check(f, args, order, modes, eps, atol, rtol, rng, label):
    u = _directions(args, rng)
    out, t = jvp(f, args, u)
    fd = (_flat(f(*_axpy(eps, args, u))) - _flat(f(*_axpy(-eps, args, u)))) / (2 * eps)
    t_flat = _flat(t)
    if "fwd" in modes:
        ok, err = _close(t_flat, fd, atol, rtol)
        if not ok:
            raise GradCheckError(f"check_grads: forward mode of {label} disagrees with central "
                                 f"differences (max abs error {err:.3g}).\n  jvp: {t_flat}\n"
                                 f"  fd:  {fd}")
    v = _directions((out,), rng)[0]
    if "rev" in modes:
        _, pull = vjp(f, *args)
        w = pull(v)
        lhs = float(_flat(w) @ _flat(u))
        rhs = float(_flat(v) @ t_flat)
        ok, err = _close(np.array([lhs]), np.array([rhs]), atol, rtol)
        if not ok:
            raise GradCheckError(f"check_grads: reverse mode of {label} fails the dot-product "
                                 f"test <J^T v, u> = {lhs!r} but <v, J u> = {rhs!r}")
    if order > 1:
        if "fwd" in modes:
            _check(lambda *a: jvp(f, a, u)[1], args, order - 1, modes, eps, atol, rtol, rng,
                   f"jvp({label})")
        if "rev" in modes:
            _check(lambda *a: vjp(f, *a)[1](v), args, order - 1, modes, eps, atol, rtol, rng,
                   f"vjp({label})")
