"""Sparsity detection: which outputs of a program depend on which inputs.

``Pattern`` is a traced value (its own level, like a transform) that carries the
actual value, so control flow takes the real branch, plus a boolean dependency
matrix ``deps`` (CSR, one row per element of the value, one column per input).
Each primitive propagates the matrices by its STRUCTURE, never from derivative
values, so a zero that happens to occur at this point is never mistaken for
structure: elementwise kinds take the union of the broadcast arguments, linear
primitives that move elements apply their own NumPy code to index arrays,
reductions and ``matmul`` aggregate, the ``zero`` kind depends on nothing, and
anything else (``custom`` rules such as ``solve`` or user primitives) couples
every output with every input of its traced arguments: sound, and reported.

With ``hessian=True`` the trace also collects the Hessian pattern of a scalar
program: every nonlinear operation adds the outer products of the gradient
patterns of its arguments (``mul`` of two traced values only the cross terms).
See docs/sparse.md for what is global and what is not.

>>> import numpy as np
>>> pattern, value, trace = trace_pattern(lambda x: x[1:] * x[:-1], np.ones(4))
>>> pattern.toarray().astype(int)
array([[1, 1, 0, 0],
       [0, 1, 1, 0],
       [0, 0, 1, 1]])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from .dispatch import Traced
from .errors import DualtapeError, ShapeError, TapeError
from .registry import PRIMITIVES, Box, Primitive, plain
from .transforms import as_input, new_level

#: A dense fallback coupling more entries than this raises instead of exhausting memory.
DENSE_LIMIT = 200_000_000


# ---- boolean CSR helpers (rows = elements of a value, columns = the n inputs) ----

def _csr(indices: np.ndarray, indptr: np.ndarray, m: int, n: int) -> sp.csr_array:
    return sp.csr_array((np.ones(indices.size, bool), indices, indptr), shape=(m, n))


def _empty(m: int, n: int) -> sp.csr_array:
    return _csr(np.zeros(0, np.int64), np.zeros(m + 1, np.int64), m, n)


def _gather(P: sp.csr_array, rows: np.ndarray) -> sp.csr_array:
    """Rows ``P[rows]`` (vectorised); a row index of -1 gives an empty row."""
    rows = np.asarray(rows, np.int64).ravel()
    ptr, k, (m, n) = P.indptr, rows.size, P.shape
    lens = ptr[1:] - ptr[:-1]
    if lens.max(initial=0) <= 1:  # at most one input per element: a lookup table
        col = np.full(m + 1, -1, np.int64)  # col[-1] = -1 serves the rows given as -1
        col[:m][lens == 1] = P.indices
        cols = col[rows]
        keep = cols >= 0
        if keep.all():
            return _csr(cols, np.arange(k + 1, dtype=np.int64), k, n)
        indptr = np.zeros(k + 1, np.int64)
        np.cumsum(keep, out=indptr[1:])
        return _csr(cols[keep], indptr, k, n)
    valid = rows >= 0
    starts = ptr[np.where(valid, rows, 0)]
    lens = np.where(valid, lens[np.where(valid, rows, 0)], 0)
    indptr = np.zeros(k + 1, np.int64)
    np.cumsum(lens, out=indptr[1:])
    pos = np.repeat(starts - indptr[:-1], lens) + np.arange(int(indptr[-1]))
    return _csr(P.indices[pos], indptr, k, n)


def _union(mats: list) -> sp.csr_array | None:
    mats = [m for m in mats if m is not None]
    if not mats:
        return None
    out = mats[0]
    for m in mats[1:]:
        out = out + m
    return out


def _aggregate(targets: np.ndarray, sources: np.ndarray, m_out: int,
               P: sp.csr_array) -> sp.csr_array:
    """Row t of the result is the union of rows s of P over the pairs (t, s)."""
    targets, sources = np.ravel(targets), np.ravel(sources)
    A = sp.csr_array((np.ones(targets.size, bool), (targets, sources)),
                     shape=(m_out, P.shape[0]))
    return (A @ P).tocsr()


def _dense(m: int, deps: list, n: int, name: str) -> sp.csr_array:
    """Every one of m outputs depends on every input reached by ``deps`` (the fallback)."""
    cols = np.unique(np.concatenate([d.indices for d in deps if d is not None] + [[]]))
    cols = cols.astype(np.int64)
    if m * cols.size > DENSE_LIMIT:
        raise DualtapeError(
            f"dualtape: sparsity detection has no structure rule for {name!r}, and coupling all "
            f"its {m} outputs with all {cols.size} inputs it depends on is too large. Pass the "
            f"pattern yourself (sparsity=...), or add a rule to dualtape.sparsity.STRUCTURE.")
    return _csr(np.tile(cols, m), np.arange(m + 1, dtype=np.int64) * cols.size, m, n)


def _size(shape: tuple) -> int:
    return int(np.prod(shape, dtype=np.int64))


def _ids(shape: tuple, start: int = 0) -> np.ndarray:
    return np.arange(start, start + _size(shape), dtype=np.int64).reshape(shape)


# ---- structure rules: (prim, vals, deps, kwargs, ans, n) -> deps of the output ----

def _broadcast_args(vals: list, deps: list, out_shape: tuple) -> list:
    """Each traced argument's rows, broadcast to the output's elements (None for constants)."""
    out = []
    for v, d in zip(vals, deps):
        shape = np.shape(plain(v))
        if d is not None and shape != out_shape:
            d = _gather(d, np.broadcast_to(_ids(shape), out_shape))
        out.append(d)
    return out


def _elementwise(prim, vals, deps, kwargs, ans, n):
    parts = _broadcast_args(vals, deps, np.shape(plain(ans)))
    if prim.name == "mul" and _builtin(prim) and sum(d is not None for d in parts) == 1:
        # x * c: entries where the constant c is exactly 0 have a zero derivative everywhere
        const = plain(vals[1] if parts[0] is not None else vals[0])
        zero = np.broadcast_to(np.asarray(const) == 0, np.shape(plain(ans))).ravel()
        if zero.any():
            d = next(d for d in parts if d is not None)
            return _gather(d, np.where(zero, -1, np.arange(zero.size)))
    return _union(parts)


def _select(prim, vals, deps, kwargs, ans, n):
    """Primitives that move or pick elements: run them on index arrays (0 = no input)."""
    idx, stacked, start = [], [], 1
    for v, d in zip(vals, deps):
        shape = np.shape(plain(v))
        if d is None:
            idx.append(np.zeros(shape, np.int64))
        else:
            idx.append(_ids(shape, start))
            stacked.append(d)
            start += _size(shape)
    rows = np.asarray(prim.impl(*idx, **kwargs)).astype(np.int64, copy=False).ravel() - 1
    src = stacked[0] if len(stacked) == 1 else sp.vstack(stacked, format="csr")
    return _gather(src, rows)


def _setitem(prim, vals, deps, kwargs, ans, n):
    """A boolean mask may come from the data: masked entries keep their old dependency too,
    and a scalar written through a mask reaches every entry the mask could select."""
    idx = kwargs["idx"]
    is_mask = [np.asarray(e).dtype == bool and np.ndim(e) > 0 for e in idx]
    if any(is_mask) and deps[0] is not None:
        if np.size(plain(vals[1])) == 1:
            idx = tuple(np.ones_like(e) if m else e for e, m in zip(idx, is_mask))
        return _select(prim, vals, deps, {**kwargs, "idx": idx}, ans, n) + deps[0]
    return _select(prim, vals, deps, kwargs, ans, n)


def _reduce(prim, vals, deps, kwargs, ans, n):
    shape, axes = np.shape(plain(vals[0])), kwargs["axis"]
    keep = tuple(1 if i in axes else s for i, s in enumerate(shape))
    targets = np.broadcast_to(_ids(keep), shape)
    return _aggregate(targets, _ids(shape), _size(keep), deps[0])


def _cumsum(prim, vals, deps, kwargs, ans, n):
    shape = np.shape(plain(vals[0]))
    lines = np.moveaxis(_ids(shape), kwargs["axis"], -1).reshape(-1, shape[kwargs["axis"]])
    later, earlier = np.tril_indices(lines.shape[1])
    return _aggregate(lines[:, later], lines[:, earlier], _size(shape), deps[0])


def _scatter_add(prim, vals, deps, kwargs, ans, n):
    targets = _ids(kwargs["shape"])[kwargs["idx"]]
    sources = np.broadcast_to(_ids(np.shape(plain(vals[0]))), np.shape(targets))
    return _aggregate(targets, sources, _size(kwargs["shape"]), deps[0])


def _as_matrices(prim, vals, ans) -> tuple:
    """Shapes and plain values with matvec's vector promoted to a column (C order kept)."""
    a, b = (np.asarray(plain(v)) for v in vals)
    so = np.shape(plain(ans))
    if prim.name == "matvec":
        b, so = b[..., None], so + (1,)
    return so, [a.shape, b.shape], [a, b]


def _matmul(prim, vals, deps, kwargs, ans, n):
    """out[., i, j] <- a[., i, l] and b[., l, j] for the l where the other factor may be != 0."""
    so, shapes, vals = _as_matrices(prim, vals, ans)
    m, p = shapes[0][-2], shapes[1][-1]
    nb = _size(so[:-2])
    out_ids = _ids((nb, m, p))
    parts = []
    for side, d in enumerate(deps):
        if d is None:
            continue
        own = np.broadcast_to(_ids(shapes[side]), so[:-2] + shapes[side][-2:])
        own = own.reshape((nb,) + shapes[side][-2:])
        other = vals[1 - side]
        if deps[1 - side] is not None or np.all(other != 0):
            # every l counts: union over the contracted axis, then spread over the other one
            keys = _ids((nb, m))[:, :, None] if side == 0 else _ids((nb, p))[:, None, :]
            reduced = _aggregate(np.broadcast_to(keys, own.shape), own, keys.size, d)
            parts.append(_gather(reduced, np.broadcast_to(keys, (nb, m, p))))
            continue
        mask = other != 0
        mask = np.broadcast_to(mask, so[:-2] + mask.shape[-2:]).reshape((nb,) + mask.shape[-2:])
        if side == 0:
            bb, ll, jj = np.nonzero(mask)
            t, s = out_ids[bb, :, jj], own[bb, :, ll]
        else:
            bb, ii, ll = np.nonzero(mask)
            t, s = out_ids[bb, ii, :], own[bb, ll, :]
        parts.append(_aggregate(t, s, _size(so), d))
    return _union(parts)


STRUCTURE: dict[str, Callable] = {
    **{name: _select for name in ("reshape", "transpose", "broadcast_to", "flip", "copy",
                                  "getitem", "concatenate")},
    "astype": lambda prim, vals, deps, kwargs, ans, n: deps[0],  # float32 could not hold ids
    "setitem": _setitem, "where": _elementwise, "scatter_add": _scatter_add,
    "sum": _reduce, "prod": _reduce, "max": _reduce, "min": _reduce, "cumsum": _cumsum,
    "cumprod": _cumsum, "matmul": _matmul, "matvec": _matmul,
}
#: Elementwise primitives whose second derivative is zero (almost everywhere).
_PIECEWISE_LINEAR = {"add", "sub", "neg", "pos", "abs", "maximum", "minimum", "fmax", "fmin",
                     "clip", "deg2rad", "rad2deg"}
#: Non-elementwise primitives that are (piecewise) linear in every traced argument.
_LINEAR = {"max", "min"}


def _builtin(prim: Primitive) -> bool:
    return PRIMITIVES.get(prim.name) is prim  # user primitives never borrow a built-in rule


def _rule(prim: Primitive) -> Callable | None:
    return STRUCTURE.get(prim.name) if _builtin(prim) else None


# ---- Hessian patterns: second-order terms of each operation ----

def _second_order(prim, vals, deps, ans, out_deps, n) -> list[tuple]:
    """Pairs (G1, G2) whose product G1.T @ G2 bounds the op's second-order coupling."""
    traced = [d is not None for d in deps]
    name = prim.name if _builtin(prim) else None
    if ans is None:  # several results: every pair of inputs it reaches
        u = _dense(1, deps, n, prim.name)
        return [(u, u)]
    if prim.kind in ("linear", "zero") or name in _LINEAR or name in _PIECEWISE_LINEAR:
        return []
    if prim.kind == "elementwise":
        parts = _broadcast_args(vals, deps, np.shape(plain(ans)))
        if name == "mul":  # bilinear: only the cross terms
            return [(parts[0], parts[1])] if all(traced) else []
        if name == "div" and not traced[1]:  # linear in the numerator
            return []
        g = _union(parts)
        return [(g, g)]
    if name in ("matmul", "matvec"):
        if not all(traced):
            return []
        so, (a, b), _ = _as_matrices(prim, vals, ans)
        batch = so[:-2]
        k = a[-1]
        ia = np.broadcast_to(_ids(a), batch + a[-2:]).reshape(-1, a[-2], k)
        ib = np.broadcast_to(_ids(b), batch + b[-2:]).reshape(-1, k, b[-1])
        lines = _ids((ia.shape[0], k))  # one row per (batch, l): a[., :, l] meets b[., l, :]
        ga = _aggregate(np.broadcast_to(lines[:, None, :], ia.shape), ia, lines.size, deps[0])
        gb = _aggregate(np.broadcast_to(lines[:, :, None], ib.shape), ib, lines.size, deps[1])
        return [(ga, gb)]
    if name in ("prod", "cumprod"):
        return [(out_deps, out_deps)]
    u = _dense(1, deps, n, prim.name)  # unknown: every pair of inputs it reaches
    return [(u, u)]


# ---- the traced value ----

class _Trace:
    """State shared by the Patterns of one detection: level, sizes, what was seen."""

    __slots__ = ("level", "n", "hess", "ops", "fallbacks")

    def __init__(self, n: int, hessian: bool) -> None:
        self.level = new_level()
        self.n = n
        self.hess: list | None = [] if hessian else None
        self.ops = 0
        self.fallbacks: dict[str, int] = {}


class Pattern(Traced):
    """A value plus the sparse boolean pattern of its dependence on the inputs."""

    __slots__ = ("_value", "_deps", "_level", "_trace")

    @classmethod
    def _make(cls, value: Any, deps: sp.csr_array, trace: _Trace) -> Pattern:
        p = object.__new__(cls)
        p._value, p._deps, p._level, p._trace = value, deps, trace.level, trace
        return p

    def _apply(self, prim: Primitive, args: tuple, kwargs: dict) -> Any:
        trace, level = self._trace, self._level
        vals, deps, lower = [], [], False
        for a in args:
            if isinstance(a, Pattern) and a._level == level:
                deps.append(a._deps)
                a = a._value
            else:
                deps.append(None)
            lower = lower or isinstance(a, Box)
            vals.append(a)
        ans = prim(*vals, **kwargs) if lower else prim.impl(*vals, **kwargs)
        if not prim.differentiable:
            return ans
        trace.ops += 1
        n, rule = trace.n, _rule(prim)
        if prim.multiple_results or (rule is None and prim.kind not in ("elementwise", "zero")):
            trace.fallbacks[prim.name] = trace.fallbacks.get(prim.name, 0) + 1
        if prim.multiple_results:  # no structure rule for these: the dense fallback
            if trace.hess is not None:
                self._add_hessian(_second_order(prim, vals, deps, None, None, n))
            return tuple(Pattern._make(a, _dense(_size(np.shape(plain(a))), deps, n, prim.name),
                                       trace) for a in ans)
        m = _size(np.shape(plain(ans)))
        if rule is not None:
            out = rule(prim, vals, deps, kwargs, ans, n)
        elif prim.kind == "elementwise":
            out = _elementwise(prim, vals, deps, kwargs, ans, n)
        elif prim.kind == "zero":
            out = None
        else:
            out = _dense(m, deps, n, prim.name)
        out = _empty(m, n) if out is None else out
        if trace.hess is not None:
            self._add_hessian(_second_order(prim, vals, deps, ans, out, n))
        return Pattern._make(ans, out, trace)

    def _add_hessian(self, pairs: list) -> None:
        for g1, g2 in pairs:
            if g1 is None or g2 is None or not (g1.nnz and g2.nnz):
                continue
            bound = float(np.dot(np.diff(g1.indptr), np.diff(g2.indptr)))
            if bound > DENSE_LIMIT:
                raise DualtapeError(
                    f"dualtape: the Hessian pattern is too dense to form (up to {bound:.3g} "
                    f"entries from one operation); use dt.hvp / dt.hessian, or pass sparsity=")
            self._trace.hess.append((g1.T @ g2).tocsr())

    def _become(self, other: Any) -> None:
        if not (isinstance(other, Pattern) and other._level == self._level):
            other = Pattern._make(other, _empty(_size(np.shape(plain(other))), self._trace.n),
                                  self._trace)
        self._value, self._deps = other._value, other._deps

    def __repr__(self) -> str:
        return f"Pattern(shape={self.shape}, nnz={self._deps.nnz})"


# ---- entry point ----

def trace_pattern(f: Callable, x: Any, args: tuple = (), kwargs: dict | None = None,
                  hessian: bool = False, fname: str = "jacobian_sparsity",
                  ) -> tuple[sp.csr_array, Any, _Trace]:
    """Run ``f(x, *args, **kwargs)`` on a Pattern; return (pattern, output value, trace).

    The pattern is the (m, n) Jacobian pattern, or with ``hessian=True`` the symmetric
    (n, n) Hessian pattern of a scalar f. Both are boolean ``scipy.sparse.csr_array``.
    """
    x = as_input(x if isinstance(x, Box) else np.asarray(x), f"{fname}: x")
    n = _size(np.shape(plain(x)))
    trace = _Trace(n, hessian)
    ident = _csr(np.arange(n, dtype=np.int64), np.arange(n + 1, dtype=np.int64), n, n)
    out = f(Pattern._make(x, ident, trace), *args, **(kwargs or {}))
    if isinstance(out, (tuple, list, dict)):
        raise ShapeError(f"{fname}: f must return one array, got a {type(out).__name__}; "
                         f"combine the outputs (np.concatenate / np.stack) first")
    if isinstance(out, Pattern) and out._level == trace.level:
        value, pattern = out._value, out._deps
    elif isinstance(out, Box) and out._level > trace.level:
        raise TapeError(f"{fname}: f returned a traced value of a finished inner transform")
    else:  # f does not depend on x
        value, pattern = out, _empty(_size(np.shape(plain(out))), n)
    if hessian:
        if np.size(plain(value)) != 1:
            raise ShapeError(f"{fname}: a Hessian needs a scalar f, got output shape "
                             f"{np.shape(plain(value))}")
        h = _union(trace.hess) if trace.hess else _empty(n, n)
        pattern = (h + h.T).tocsr()
    pattern.sum_duplicates()
    pattern.sort_indices()
    return pattern, value, trace

