"""The ways to get a Jacobian that the comparison times: AD modes and numerical ones.

Each method turns a flat ``fn: R^n -> R^m`` into ``x -> J`` (an ``m x n`` array):

========================  ==========================================================
``fwd``                   forward mode, ``dt.jacfwd`` (chunk chosen by memory cap)
``fwd[c=k]``              forward mode, k tangent directions per pass
``rev``                   reverse mode, ``dt.jacrev``
``rev[c=k]``              reverse mode, k cotangent directions per sweep
``auto``                  ``dt.jacobian``: forward if n <= m, else reverse
``fd-fwd``, ``fd-cen``    finite differences, forward / central (scipy)
``cstep``                 complex step, Im f(x + i h e_j) / h column by column
========================  ==========================================================

>>> import numpy as np
>>> jac = build("cstep", lambda x: np.sin(x) * x[0], np.array([0.5, 2.0]))
>>> np.allclose(jac(np.array([0.5, 2.0])), [[np.sin(.5) + .5 * np.cos(.5), 0.],
...                                          [np.sin(2.), .5 * np.cos(2.)]])
True
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable

import numpy as np

import dualtape as dt

#: The default set, in the order tables list them.
DEFAULT_METHODS = ("fwd", "rev", "auto", "fd-fwd", "fd-cen", "cstep")
#: Chunk sizes added by default (``fwd[c=1]``: one direction per pass, the textbook mode).
DEFAULT_CHUNKS = (1,)
#: The methods that are automatic differentiation (their accuracy is to rounding).
AD_PREFIXES = ("fwd", "rev", "auto")

_CHUNKED = re.compile(r"^(fwd|rev)\[c=(\d+)\]$")


class NotApplicable(Exception):
    """The method cannot be used on this function (e.g. complex step on real-only code)."""


def _as_matrix(J: np.ndarray, m: int, n: int) -> np.ndarray:
    return np.reshape(np.asarray(J), (m, n))


def _approx_derivative() -> Callable:
    try:
        from scipy.optimize._numdiff import approx_derivative
        return approx_derivative
    except ImportError:  # pragma: no cover - scipy moved it; fall back to our own
        return _own_differences


def _own_differences(fn: Callable, x: np.ndarray, method: str = "2-point") -> np.ndarray:
    """Finite differences with scipy's default relative steps."""
    eps = np.finfo(float).eps
    h = (eps ** 0.5 if method == "2-point" else eps ** (1 / 3)) * np.maximum(1.0, np.abs(x))
    f0 = fn(x) if method == "2-point" else None
    cols = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h[j]
        cols.append((fn(x + e) - f0) / h[j] if f0 is not None
                    else (fn(x + e) - fn(x - e)) / (2 * h[j]))
    return np.stack(cols, axis=-1)


def complex_step_ok(fn: Callable, x: np.ndarray) -> bool:
    """Whether ``fn`` accepts complex input and keeps the imaginary part (by trying)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", np.exceptions.ComplexWarning)
            out = np.asarray(fn(x.astype(complex) + 1e-20j))
    except Exception:  # noqa: BLE001 - any failure means "not applicable"
        return False
    return bool(np.iscomplexobj(out) and np.all(np.isfinite(out)))


def complex_step(fn: Callable, x: np.ndarray, h: float = 1e-20) -> np.ndarray:
    """J[:, j] = Im fn(x + i h e_j) / h: exact to rounding, no subtractive cancellation."""
    xc = x.astype(complex)
    cols = []
    for j in range(x.size):
        xc[j] += 1j * h
        cols.append(np.imag(np.asarray(fn(xc))).ravel() / h)
        xc[j] = x[j]
    return np.stack(cols, axis=-1)


def build(name: str, fn: Callable, x: np.ndarray, m: int | None = None) -> Callable:
    """``x -> J`` (``m x n``) for method ``name`` applied to ``fn``.

    Raises:
        NotApplicable: the method cannot run on ``fn``.
        ValueError: unknown method name.
    """
    n = x.size
    m = int(np.size(fn(x))) if m is None else m
    chunked = _CHUNKED.match(name)
    if chunked:
        mode, k = chunked.group(1), int(chunked.group(2))
        jac = (dt.jacfwd if mode == "fwd" else dt.jacrev)(fn, chunk=k)
        return lambda v: _as_matrix(jac(v), m, n)
    if name in ("fwd", "rev", "auto"):
        jac = {"fwd": dt.jacfwd, "rev": dt.jacrev, "auto": dt.jacobian}[name](fn)
        return lambda v: _as_matrix(jac(v), m, n)
    if name in ("fd-fwd", "fd-cen"):
        approx = _approx_derivative()
        method = "2-point" if name == "fd-fwd" else "3-point"
        return lambda v: _as_matrix(approx(fn, v, method=method), m, n)
    if name == "cstep":
        if not complex_step_ok(fn, x):
            raise NotApplicable("the function does not accept complex input")
        return lambda v: _as_matrix(complex_step(fn, v), m, n)
    raise ValueError(f"unknown method {name!r}; known: fwd, rev, auto, fwd[c=K], rev[c=K], "
                     f"fd-fwd, fd-cen, cstep")


def parse_methods(text: str, chunks: list[int] | None = None) -> list[str]:
    """``"fwd,rev,cstep"`` -> names; ``chunks`` adds ``fwd[c=k]`` and ``rev[c=k]`` per k
    (after ``auto``). An empty ``text`` means :data:`DEFAULT_METHODS`.

    >>> parse_methods("fwd,rev", chunks=[4])
    ['fwd', 'rev', 'fwd[c=4]', 'rev[c=4]']
    >>> parse_methods("", chunks=[1])
    ['fwd', 'rev', 'auto', 'fwd[c=1]', 'rev[c=1]', 'fd-fwd', 'fd-cen', 'cstep']
    """
    names = [s.strip() for s in text.split(",") if s.strip()] if text else list(DEFAULT_METHODS)
    at = names.index("auto") + 1 if "auto" in names else len(names)
    for k in chunks or []:
        for mode in ("fwd", "rev"):
            if f"{mode}[c={k}]" not in names:
                names.insert(at, f"{mode}[c={k}]")
                at += 1
    return names
