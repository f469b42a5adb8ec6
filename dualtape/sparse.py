"""Sparse Jacobians and Hessians: detect the pattern, color it, compute in a few passes.

1. the pattern: detected by :mod:`dualtape.sparsity` (global over the program's
   operations; see docs/sparse.md), or given (a sparse/dense pattern, or a callable);
2. the coloring: :func:`dualtape.bicoloring.choose_compression` picks forward,
   reverse or bidirectional compression (a symmetric coloring for Hessians);
3. the compressed evaluation: ONE call of f pushes all tangent colors as a batch
   of Dual tangents (and/or one recording swept with all cotangent colors);
4. decompression: a single gather, compiled once by decompressing the positions
   of the compressed entries themselves.

Steps 1, 2 and the compilation run once in :func:`sparse_jacobian_fn` /
:func:`sparse_hessian_fn`; the returned object only does steps 3 and 4.

>>> import numpy as np, dualtape as dt
>>> f = lambda x: x[1:] ** 2 - x[:-1]
>>> J = dt.sparse_jacobian(f, np.arange(4.0))
>>> J.toarray()
array([[-1.,  2.,  0.,  0.],
       [ 0., -1.,  4.,  0.],
       [ 0.,  0., -1.,  6.]])
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from .bicoloring import ColoringPlan, choose_compression
from .coloring import as_pattern, column_coloring, row_coloring
from .dual import Dual
from .errors import ShapeError
from .registry import plain
from .sparsity import trace_pattern
from .transforms import Recording, as_input, grad, new_level

_FORMATS = {"csr_array": sp.csr_array, "csr_matrix": sp.csr_matrix}


@dataclass
class SparseReport:
    """What a sparse Jacobian/Hessian costs: pattern, coloring, passes, setup time."""

    kind: str
    name: str
    shape: tuple[int, int]
    nnz: int
    source: str
    mode: str
    method: str
    n_colors_fwd: int
    n_colors_rev: int
    ops: int | None = None
    fallbacks: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)

    @property
    def n_passes(self) -> int:
        """Tangent plus cotangent directions (each color is one direction)."""
        return self.n_colors_fwd + self.n_colors_rev

    def __str__(self) -> str:
        m, n = self.shape
        ops = f" over {self.ops} operations" if self.ops is not None else ""
        lines = [f"Sparse {self.kind} of {self.name}: {m} x {n}, {self.nnz} nonzeros "
                 f"({100.0 * self.nnz / max(m * n, 1):.3g}% of dense)",
                 f"  pattern:  {self.source}{ops}"]
        if self.fallbacks:
            lines.append("  dense fallbacks (no structure rule, all outputs coupled with all "
                         "inputs): " + ", ".join(f"{k} x{v}" for k, v in
                                                 sorted(self.fallbacks.items())))
        lines.append(f"  coloring: {self.mode} mode, {self.method}")
        if self.kind == "Hessian":
            cost = (f"{self.n_colors_fwd} Hessian-vector products (forward-over-reverse, one "
                    f"batched call of grad(f)); dense: {n}")
        else:
            parts = [f"{self.n_colors_fwd} forward (tangents, 1 call of f)"] * (
                self.n_colors_fwd > 0) + [f"{self.n_colors_rev} reverse (cotangents, 1 "
                                          f"recording + 1 sweep)"] * (self.n_colors_rev > 0)
            cost = f"{' + '.join(parts) or '0'} = {self.n_passes} directions; dense: {min(m, n)}"
        lines.append(f"  passes:   {cost}")
        if self.seconds:
            lines.append("  setup:    " + ", ".join(f"{k} {v:.3g} s"
                                                    for k, v in self.seconds.items()))
        return "\n".join(lines)


def _name(f: Callable) -> str:
    return getattr(f, "__name__", type(f).__name__)


def _given_pattern(sparsity: Any, x: Any, shape: tuple[int, int], fname: str) -> sp.csr_array:
    pattern = sparsity(x) if callable(sparsity) else sparsity
    P = as_pattern(pattern)
    if P.shape != shape:
        raise ShapeError(f"{fname}: the sparsity pattern has shape {P.shape}, expected "
                         f"{shape} = (size of f(x), size of x) with both flattened in C order")
    return P


def _compile(plan: ColoringPlan, m: int, n: int) -> tuple:
    """Decompression as one gather: decompress the positions of the compressed entries.

    The forward block is laid out (colors, m) and the reverse block (colors, n), as the
    passes produce them; decompression only selects entries, so positions come out whole.
    """
    cf, cr = plan.n_colors_fwd, plan.n_colors_rev
    fwd = np.arange(cf * m, dtype=np.float64).reshape(cf, m).T if cf else None
    rev = (cf * m + np.arange(cr * n, dtype=np.float64)).reshape(cr, n) if cr else None
    M = plan.decompress(fwd) if plan.mode == "symmetric" else plan.decompress(fwd, rev)
    gather = M.data.astype(np.int64)
    if not np.array_equal(gather, M.data):  # pragma: no cover - a decompression that adds
        raise RuntimeError("sparse: the decompression is not a selection; cannot compile it")
    small = max(M.nnz, *M.shape) < 2**31  # scipy's own choice: int32 indices when they fit
    itype = np.int32 if small else np.int64
    return gather, M.indices.astype(itype), M.indptr.astype(itype)


def _forced_plan(P: sp.csr_array, mode: str, seed: int) -> ColoringPlan:
    m, n = P.shape
    if mode == "forward":
        cols, rows, how = column_coloring(P, seed=seed), np.full(m, -1), "column coloring"
    else:
        cols, rows, how = np.full(n, -1), row_coloring(P, seed=seed), "row coloring"
    keep = np.diff(P.indptr) > 0 if mode == "reverse" else np.bincount(P.indices, minlength=n) > 0
    (rows if mode == "reverse" else cols)[~keep] = -1  # untouched rows/columns need no seed
    return ColoringPlan(mode, f"{how} (mode={mode!r} requested)", P.shape, P.nnz,
                        np.asarray(cols, np.int64), np.asarray(rows, np.int64), pattern=P)


class _Compressed:
    """Shared by SparseJacobian and SparseHessian: pattern, plan, seeds, compiled gather.

    Attributes:
        pattern: the pattern used (int8 CSR, 1 at each structural nonzero; for a Hessian
            the symmetrized one).
        plan: the :class:`~dualtape.bicoloring.ColoringPlan` (colors, seeds, decompression).
        report: a :class:`SparseReport`; ``print(obj)`` shows it.
    """

    _kind = "Jacobian"

    def __init__(self, f: Callable, x: Any, sparsity: Any = "auto", *, args: tuple = (),
                 kwargs: dict | None = None, mode: str = "auto", format: str = "csr_array",
                 seed: int = 0, executor: Any = None, chunk: int | None = None) -> None:
        self.executor, self.chunk = executor, chunk  # see dualtape.distribute
        if mode not in ("auto", "forward", "reverse"):
            raise ValueError(f"mode must be 'auto', 'forward' or 'reverse', got {mode!r}")
        if format not in _FORMATS:
            raise ValueError(f"format must be one of {sorted(_FORMATS)}, got {format!r}")
        hessian = self._kind == "Hessian"
        name = f"sparse_{self._kind.lower()}({_name(f)})"
        self.f, self._cls, t0 = f, _FORMATS[format], time.perf_counter()
        x = as_input(np.asarray(x), f"{name}: x")
        self.in_shape, dtype, n = np.shape(x), np.result_type(x), np.size(x)
        seconds, ops, fallbacks = {}, None, {}
        if isinstance(sparsity, str) and sparsity == "auto":
            P, out, trace = trace_pattern(f, x, args, kwargs, hessian=hessian, fname=name)
            source, ops, fallbacks = "detected by index-set propagation", trace.ops, \
                trace.fallbacks
            source += " (second order)" if hessian else ""
            seconds["detection"] = time.perf_counter() - t0
        else:
            out = x if hessian else f(x, *args, **(kwargs or {}))
            P = _given_pattern(sparsity, x, (np.size(out), n), name)
            source = "given by a callable" if callable(sparsity) else "given"
        self.out_shape = self.in_shape if hessian else np.shape(plain(out))
        t1 = time.perf_counter()
        P = as_pattern(P)
        if hessian or mode == "auto":
            plan = choose_compression(P, symmetric=hessian, seed=seed)
        else:
            plan = _forced_plan(P, mode, seed)
        self.plan, self.pattern = plan, plan.pattern
        self._gather, self._indices, self._indptr = _compile(plan, *plan.shape)
        S, W = plan.fwd_seed().T.astype(dtype), plan.rev_seed().T.astype(dtype)
        self._tangents = S.reshape((S.shape[0],) + self.in_shape)
        self._cotangents = W.reshape((W.shape[0],) + self.out_shape)
        seconds["coloring"] = time.perf_counter() - t1
        self.report = SparseReport(self._kind, name, plan.shape, plan.nnz, source, plan.mode,
                                   plan.method, plan.n_colors_fwd, plan.n_colors_rev, ops,
                                   fallbacks, seconds)

    def _assemble(self, parts: list) -> Any:
        if not parts:
            data = np.zeros(0, self._tangents.dtype)
        else:
            data = (parts[0] if len(parts) == 1 else np.concatenate(parts))[self._gather]
        return self._cls((data, self._indices.copy(), self._indptr.copy()), shape=self.plan.shape)

    def _check_x(self, x: Any) -> np.ndarray:
        x = as_input(np.asarray(x), f"{self.report.name}: x")
        if np.shape(x) != self.in_shape:
            raise ShapeError(f"{self.report.name}: x has shape {np.shape(x)}, but the pattern "
                             f"was built for shape {self.in_shape}; build a new one")
        return x

    def _directions(self, out: Any, level: int, k: int, what: str) -> np.ndarray:
        """The k tangents of ``out`` (a Dual of ``level``, or a constant), flattened."""
        shape = np.shape(plain(out))
        if shape != self.out_shape:
            raise ShapeError(f"{self.report.name}: {what} has shape {shape}, but the pattern was "
                             f"built for {self.out_shape}")
        if isinstance(out, Dual) and out._level == level:
            return np.reshape(out._tangent, -1)
        return np.zeros(k * int(np.prod(shape)), self._tangents.dtype)

    def __str__(self) -> str:
        return str(self.report)

    def __repr__(self) -> str:
        m, n = self.plan.shape
        return (f"<{type(self).__name__} {m} x {n}, nnz={self.plan.nnz}, "
                f"{self.plan.mode}, {self.report.n_passes} directions>")


class SparseJacobian(_Compressed):
    """The sparse Jacobian of ``f`` as a reusable function of x (see :func:`sparse_jacobian_fn`)."""

    def __call__(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        """The Jacobian at x (extra arguments go to f) as a scipy CSR array or matrix."""
        x = self._check_x(x)
        if self.executor is not None:
            from .distribute import sparse_call
            return sparse_call(self, x, args, kwargs)
        parts = []
        cf, cr = self.plan.n_colors_fwd, self.plan.n_colors_rev
        if cf:  # all column colors in ONE call of f
            level = new_level()
            out = self.f(Dual._make(x, self._tangents, level), *args, **kwargs)
            parts.append(self._directions(out, level, cf, "f(x)"))
        if cr:  # one recording, one sweep with all row colors
            rec = Recording(self.f, (x,) + args, (0,), False, self.report.name, kwargs)
            if rec.out_spec.kind != "leaf":
                raise ShapeError(f"{self.report.name}: f must return one array")
            self._directions(rec.out_vals[0], -1, cr, "f(x)")  # the shape check
            grads = rec.pullback([self._cotangents], batch=(cr,), keep=False)
            parts.append(np.reshape(grads[0][0], -1))
        return self._assemble(parts)


class SparseHessian(_Compressed):
    """The sparse Hessian of scalar ``f`` as a reusable function of x (see
    :func:`sparse_hessian_fn`)."""

    _kind = "Hessian"

    def __call__(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        """The Hessian at x (extra arguments go to f) as a scipy CSR array or matrix."""
        x = self._check_x(x)
        if self.executor is not None:
            from .distribute import sparse_call
            return sparse_call(self, x, args, kwargs)
        c = self.plan.n_colors_fwd
        if not c:
            return self._assemble([])
        level = new_level()  # forward over reverse: grad(f) on a Dual holding all colors
        g = grad(lambda y: self.f(y, *args, **kwargs))(Dual._make(x, self._tangents, level))
        return self._assemble([self._directions(g, level, c, "grad(f)(x)")])


# ---- the functional API ----

def sparse_jacobian_fn(f: Callable, x_example: Any, sparsity: Any = "auto", *,
                       args: tuple = (), kwargs: dict | None = None, mode: str = "auto",
                       format: str = "csr_array", seed: int = 0, executor: Any = None,
                       chunk: int | None = None) -> SparseJacobian:
    """Detect (or take) the pattern and color it once; return ``jac(x, *args)`` for reuse.

    Args:
        f: ``f(x, *args, **kwargs)`` -> one array; x is one float array (any shape; the
            Jacobian's columns are its elements in C order, its rows those of f(x)).
        x_example: the point where the pattern is detected (see docs/sparse.md for what
            carries over to other points).
        sparsity: ``"auto"`` (detect), a pattern (scipy.sparse or dense boolean array of
            shape (f(x).size, x.size)), or a callable ``sparsity(x)`` returning one.
        args, kwargs: extra arguments of f used for detection.
        mode: ``"auto"`` (fewest directions: forward, reverse or bidirectional),
            ``"forward"`` (column coloring) or ``"reverse"`` (row coloring).
        format: ``"csr_array"`` or ``"csr_matrix"``.
        seed: seed of the coloring's random tie-breaking.
        executor: a ``concurrent.futures.Executor``: each chunk of ``chunk`` colors (one
            per worker by default) is one task; see :mod:`dualtape.distribute`.
        chunk: colors per task (only with ``executor``).

    Returns:
        A :class:`SparseJacobian`; ``print(jac)`` reports pattern, coloring and passes.

    >>> import numpy as np, dualtape as dt
    >>> jac = dt.sparse_jacobian_fn(lambda x: x[1:] ** 2 - x[:-1] ** 2, np.ones(1000))
    >>> jac.report.n_colors_fwd, jac(np.arange(1000.0))[2, 2:4].toarray()
    (2, array([-4.,  6.]))
    """
    return SparseJacobian(f, x_example, sparsity, args=args, kwargs=kwargs, mode=mode,
                          format=format, seed=seed, executor=executor, chunk=chunk)


def sparse_jacobian(f: Callable, x: Any, sparsity: Any = "auto", *, args: tuple = (),
                    kwargs: dict | None = None, mode: str = "auto",
                    format: str = "csr_array", executor: Any = None,
                    chunk: int | None = None) -> Any:
    """The Jacobian of f at x as a scipy.sparse CSR array of shape (f(x).size, x.size).

    Same arguments as :func:`sparse_jacobian_fn`; to evaluate at many points, build the
    function once with :func:`sparse_jacobian_fn` (detection and coloring are then skipped).

    >>> import numpy as np, dualtape as dt
    >>> dt.sparse_jacobian(lambda x: np.sin(x) * x[0], np.zeros(3)).toarray()
    array([[0., 0., 0.],
           [0., 0., 0.],
           [0., 0., 0.]])
    >>> dt.sparse_jacobian(lambda x: x * x[0], np.ones(3), format="csr_matrix").nnz
    5
    """
    return SparseJacobian(f, x, sparsity, args=args, kwargs=kwargs, mode=mode, format=format,
                          executor=executor, chunk=chunk)(x, *args, **(kwargs or {}))


def jacobian_sparsity(f: Callable, x: Any, *, args: tuple = (),
                      kwargs: dict | None = None) -> sp.csr_array:
    """The global Jacobian pattern of f (boolean CSR, shape (f(x).size, x.size)), e.g. for
    ``scipy.optimize.least_squares(jac_sparsity=...)``.

    >>> import numpy as np, dualtape as dt
    >>> dt.jacobian_sparsity(lambda x: x[:2] * x[1:], np.ones(3)).toarray()
    array([[ True,  True, False],
           [False,  True,  True]])
    """
    return trace_pattern(f, x, args, kwargs)[0]


def hessian_sparsity(f: Callable, x: Any, *, args: tuple = (),
                     kwargs: dict | None = None) -> sp.csr_array:
    """The global (symmetric) Hessian pattern of scalar f, boolean CSR of shape (n, n).

    >>> import numpy as np, dualtape as dt
    >>> dt.hessian_sparsity(lambda x: x[0] * x[1] + np.exp(x[2]), np.ones(3)).toarray()
    array([[False,  True, False],
           [ True, False, False],
           [False, False,  True]])
    """
    return trace_pattern(f, x, args, kwargs, hessian=True, fname="hessian_sparsity")[0]


def sparse_hessian_fn(f: Callable, x_example: Any, sparsity: Any = "auto", *,
                      args: tuple = (), kwargs: dict | None = None, format: str = "csr_array",
                      seed: int = 0, executor: Any = None,
                      chunk: int | None = None) -> SparseHessian:
    """Detect (or take) the Hessian pattern and color it symmetrically once; return
    ``hess(x, *args)`` computing the Hessian by forward-over-reverse products.

    Arguments as in :func:`sparse_jacobian_fn`; a given pattern has shape (n, n).

    >>> import numpy as np, dualtape as dt
    >>> hess = dt.sparse_hessian_fn(lambda x: np.sum((x[1:] - x[:-1]) ** 2), np.ones(500))
    >>> hess.report.n_colors_fwd, hess(np.ones(500))[:2, :3].toarray()
    (3, array([[ 2., -2.,  0.],
           [-2.,  4., -2.]]))
    """
    return SparseHessian(f, x_example, sparsity, args=args, kwargs=kwargs, format=format,
                         seed=seed, executor=executor, chunk=chunk)


def sparse_hessian(f: Callable, x: Any, sparsity: Any = "auto", *, args: tuple = (),
                   kwargs: dict | None = None, format: str = "csr_array",
                   executor: Any = None, chunk: int | None = None) -> Any:
    """The Hessian of scalar f at x as a scipy.sparse CSR array of shape (x.size, x.size).

    >>> import numpy as np, dualtape as dt
    >>> dt.sparse_hessian(lambda x: x[0] ** 2 * x[1], np.array([1.0, 2.0, 3.0])).toarray()
    array([[4., 2., 0.],
           [2., 0., 0.],
           [0., 0., 0.]])
    """
    return SparseHessian(f, x, sparsity, args=args, kwargs=kwargs, format=format,
                         executor=executor, chunk=chunk)(x, *args, **(kwargs or {}))


def explain_sparse_jacobian(f: Callable, x: Any, sparsity: Any = "auto",
                            **options: Any) -> SparseReport:
    """How :func:`sparse_jacobian` would compute the Jacobian of f at x (detection and
    coloring only: no derivative pass).

    >>> import numpy as np, dualtape as dt
    >>> rep = dt.explain_sparse_jacobian(lambda x: x[1:] - x[:-1], np.ones(100))
    >>> rep.nnz, rep.mode, rep.n_colors_fwd, rep.n_colors_rev
    (198, 'forward', 2, 0)
    """
    return SparseJacobian(f, x, sparsity, **options).report


def explain_sparse_hessian(f: Callable, x: Any, sparsity: Any = "auto",
                           **options: Any) -> SparseReport:
    """How :func:`sparse_hessian` would compute the Hessian of f at x (no derivative pass)."""
    return SparseHessian(f, x, sparsity, **options).report
