"""Jacobians, Hessians and sweeps on other processes or a cluster, through any
``concurrent.futures.Executor`` (a ``ProcessPoolExecutor``, or Dask through
``distributed.Client(...).get_executor()``). dualtape schedules nothing itself.

``executor=`` on :func:`~dualtape.jacfwd`, :func:`~dualtape.jacrev`,
:func:`~dualtape.jacobian`, :func:`~dualtape.hessian` and the sparse Jacobians and
Hessians splits the directions into chunks of ``chunk`` directions; each chunk is ONE
task (one vectorised pass on a worker) and the results are assembled in order, so the
answer is, bit for bit, that of the serial call with the same ``chunk``.

What travels: the function and its arguments, serialized once per call with cloudpickle
(lambdas, closures and functions of ``__main__`` go by value; functions of an importable
module go by reference, so that module, dualtape, numpy and scipy must be importable on
the workers; ``cloudpickle.register_pickle_by_value(module)`` sends a module's code
instead). Without cloudpickle plain pickle is used, which sends top-level functions of
importable modules only.

Failures: an exception on a worker is raised here as a :class:`~dualtape.errors.ChunkError`
naming the chunk, the worker's exception chained. A lost worker: Dask reschedules its
task itself (``distributed.scheduler.allowed-failures`` times) and then reports
``KilledWorker``; a ``ProcessPoolExecutor`` whose process dies is broken for good and
reports ``BrokenProcessPool``. Either way the error names the chunk: nothing is dropped.

>>> from concurrent.futures import ThreadPoolExecutor
>>> import numpy as np, dualtape as dt
>>> f = lambda x: np.sin(x) * x[0]
>>> with ThreadPoolExecutor(2) as ex:
...     J = dt.jacfwd(f, chunk=2, executor=ex)(np.ones(5))
>>> np.array_equal(J, dt.jacfwd(f, chunk=2)(np.ones(5)))
True
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import os
import pickle
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .dual import Dual
from .errors import ChunkError, DistributedError, ShapeError
from .jacobians import (
    _assemble,
    _forward,
    _forward_pass,
    _itemsize,
    _reverse,
    _reverse_pass,
    _size,
    _structure,
    plan_jacobian,
)
from .registry import Box, plain
from .transforms import (
    Recording,
    grad,
    new_level,
    normalize_argnums,
    split_aux,
    trace_inputs,
    unbox_output,
)
from .tree import flatten, tree_map

#: Exceptions that mean the worker itself was lost, not that the function raised.
_LOST = {"BrokenProcessPool", "BrokenExecutor", "KilledWorker", "CancelledError",
         "CommClosedError"}


# ---- executors, chunks, serialization ----

def as_executor(executor: Any) -> cf.Executor:
    """``executor`` itself, or ``client.get_executor()`` for a ``distributed.Client``."""
    if not isinstance(executor, cf.Executor) and hasattr(executor, "get_executor"):
        executor = executor.get_executor()
    if not callable(getattr(executor, "submit", None)):
        raise TypeError(f"executor= must be a concurrent.futures.Executor (e.g. "
                        f"ProcessPoolExecutor, or distributed.Client(...).get_executor()), "
                        f"got {type(executor).__name__}")
    return executor


def workers_of(executor: Any) -> int:
    """How many tasks ``executor`` runs at once: ``max_workers`` of the standard pools, the
    total threads of a Dask cluster, else ``os.cpu_count()``.

    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with ThreadPoolExecutor(3) as ex:
    ...     workers_of(ex)
    3
    """
    executor = as_executor(executor)
    n = getattr(executor, "_max_workers", None)
    client = getattr(executor, "_client", None)
    if n is None and client is not None:
        try:
            n = sum(client.nthreads().values())
        except Exception:  # noqa: BLE001 - a guess is enough here
            n = None
    return max(1, int(n or os.cpu_count() or 1))


def plan_chunks(n: int, chunk: int) -> list[tuple[int, int]]:
    """``[start, stop)`` ranges of at most ``chunk`` directions covering ``0..n-1``, in order.

    >>> plan_chunks(7, 3)
    [(0, 3), (3, 6), (6, 7)]
    """
    chunk = max(1, int(chunk))
    return [(a, min(a + chunk, n)) for a in range(0, n, chunk)]


def _chunk_size(n: int, chunk: int | None, executor: Any, cap: int | None = None) -> int:
    """The given chunk, else one task per worker (no more than ``cap`` directions)."""
    if chunk is not None:
        return max(1, min(int(chunk), max(n, 1)))
    size = math.ceil(n / workers_of(executor)) if n else 1
    return max(1, min(size, cap or size))


def dumps(obj: Any, what: str = "task") -> bytes:
    """``obj`` as bytes for the workers: cloudpickle when installed, else pickle.

    Raises:
        DistributedError: ``obj`` cannot be serialized; says what to do.
    """
    try:
        import cloudpickle
    except ImportError:
        cloudpickle = None
    try:
        if cloudpickle is not None:
            return cloudpickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001 - pickling raises many types
        how = ("everything the function uses (globals, closure cells, arguments) must be "
               "picklable: no open files, locks, sockets or generators" if cloudpickle else
               "without cloudpickle only functions defined at the top level of an importable "
               "module can be sent (no lambdas or closures); install it: "
               "pip install 'dualtape[distributed]'")
        raise DistributedError(f"{what}: cannot send the function and its arguments to the "
                               f"workers ({type(exc).__name__}: {exc}); {how}") from exc


_cached: tuple[str, Any] = ("", None)


def _run(token: str, blob: bytes, item: bytes) -> bytes:
    """The worker side of every task: ``job(item)``, the job unpickled once per call."""
    global _cached
    cached = _cached
    if cached[0] != token:  # one entry: the chunks of one call share the job
        cached = _cached = (token, pickle.loads(blob))
    return dumps(cached[1](pickle.loads(item)), "the result")


def _error(what: str, label: str, index: int, exc: BaseException) -> ChunkError:
    msg = f"{what}: {label} failed on a worker: {type(exc).__name__}: {exc}"
    if type(exc).__name__ in _LOST:
        msg += (". The worker was lost (it crashed, was killed or ran out of memory). A "
                "ProcessPoolExecutor cannot retry: it is broken now, create a new one and call "
                "again. A Dask cluster retries a lost worker's task itself before reporting "
                "KilledWorker (distributed.scheduler.allowed-failures).")
    else:
        msg += " (the worker's exception is chained below)"
    return ChunkError(msg, index, label)


def _collect(executor: Any, job: Callable, items: Sequence, labels: Sequence[str], what: str,
             errors: str = "raise", on_done: Callable[[int], Any] | None = None) -> list:
    """Submit ``job(item)`` for every item; the results in the order of ``items``."""
    executor = as_executor(executor)
    blob, token = dumps(job, what), uuid.uuid4().hex
    futures: list = []
    try:
        try:
            for item in items:
                futures.append(executor.submit(_run, token, blob, dumps(item, what)))
        except Exception as exc:  # noqa: BLE001 - e.g. an executor already shut down
            raise DistributedError(f"{what}: the executor refused the work "
                                   f"({type(exc).__name__}: {exc})") from exc
        position = {fut: i for i, fut in enumerate(futures)}
        results: list = [None] * len(futures)
        for fut in cf.as_completed(futures):
            i = position[fut]
            try:
                results[i] = pickle.loads(fut.result())
            except Exception as exc:  # noqa: BLE001 - reported, with the chunk named
                err = _error(what, labels[i], i, exc)
                if errors == "raise":
                    raise err from exc
                err.__cause__ = exc
                results[i] = err
            if on_done is not None:
                on_done(i)
        return results
    finally:
        for fut in futures:  # after a failure, do not leave the rest running
            fut.cancel()


def map_ordered(fn: Callable, items: Sequence, executor: Any = None, *, what: str = "task",
                labels: Sequence[str] | None = None, errors: str = "raise",
                on_done: Callable[[int], Any] | None = None) -> list:
    """``[fn(item) for item in items]``, each call one task on ``executor``, in order.

    Args:
        fn: a function of one item (sent with cloudpickle, once).
        items: the work, one task each.
        executor: a ``concurrent.futures.Executor``; None runs here, one after another.
        what: names the work in errors.
        labels: names each item in errors (default "task i of n").
        errors: ``"raise"`` (the first failure raises a ChunkError naming the item) or
            ``"return"`` (a failed item's result is its ChunkError; the rest run on).
        on_done: called with the index of each finished item, as it finishes.

    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with ThreadPoolExecutor(2) as ex:
    ...     map_ordered(lambda v: v * v, [3, 1, 2], ex)
    [9, 1, 4]
    >>> map_ordered(lambda v: 1 / v, [1, 0], errors="return")[1]
    ChunkError('task: task 1 of 2 failed: ZeroDivisionError: division by zero')
    """
    if errors not in ("raise", "return"):
        raise ValueError(f"errors must be 'raise' or 'return', got {errors!r}")
    labels = list(labels) if labels is not None else [f"task {i} of {len(items)}"
                                                      for i in range(len(items))]
    if executor is not None:
        return _collect(executor, _Map(fn), items, labels, what, errors, on_done)
    results = []
    for i, item in enumerate(items):
        try:
            results.append(fn(item))
        except Exception as exc:
            if errors == "raise":
                raise
            err = ChunkError(f"{what}: {labels[i]} failed: {type(exc).__name__}: {exc}", i,
                             labels[i])
            err.__cause__ = exc
            results.append(err)
        if on_done is not None:
            on_done(i)
    return results


@dataclass
class _Map:
    fn: Callable

    def __call__(self, item: Any) -> Any:
        return self.fn(item)


# ---- dense Jacobians and Hessians ----

@dataclass
class _Forward:
    """Tangent directions [start, stop) of f (of grad(f) for a Hessian)."""

    f: Callable
    args: tuple
    kwargs: dict
    nums: tuple
    argnums: Any
    has_aux: bool
    hessian: bool
    fname: str
    in_shapes: list

    def __call__(self, item: tuple[int, int]) -> tuple:
        start, stop = item
        fn = grad(self.f, self.argnums) if self.hessian else self.f
        level = new_level()
        offsets = np.cumsum([0] + [_size(s) for s in self.in_shapes])
        cols, out_shapes, out_spec, aux, _ = _forward_pass(
            fn, self.args, self.kwargs, self.nums, self.has_aux, self.fname, level, start,
            stop - start, self.in_shapes, offsets)
        if self.has_aux:
            aux = tree_map(lambda a: unbox_output(a, level, Dual, self.fname)[0], aux)
        return [np.asarray(c) for c in cols], out_shapes, out_spec, aux


@dataclass
class _Reverse:
    """Cotangent directions [start, stop) of f: one recording, one batched sweep."""

    f: Callable
    args: tuple
    kwargs: dict
    nums: tuple
    has_aux: bool
    fname: str

    def __call__(self, item: tuple[int, int]) -> list:
        start, stop = item
        rec = Recording(self.f, self.args, self.nums, self.has_aux, self.fname, self.kwargs)
        shapes = [np.shape(plain(v)) for v in rec.out_vals]
        offsets = np.cumsum([0] + [_size(s) for s in shapes])
        return [np.asarray(g) for g in _reverse_pass(rec, start, stop - start, False, shapes,
                                                     offsets)]


def _untraced(args: tuple, kwargs: dict, fname: str) -> None:
    if any(isinstance(leaf, Box) for leaf in flatten((args, kwargs))[0]):
        raise DistributedError(f"{fname}: executor= cannot be used inside another transform "
                               f"(its traced values cannot travel to the workers); use it on "
                               f"the outermost transform only")


def dense_jacobian(f: Callable, args: tuple, kwargs: dict, argnums: Any, mode: str,
                   has_aux: bool, chunk: int | None, max_memory: int | None, executor: Any,
                   fname: str, hessian: bool = False) -> Any:
    """The engine behind ``executor=`` of jacfwd, jacrev, jacobian and hessian.

    Forward mode needs no evaluation here; reverse and auto mode evaluate f once (plain
    NumPy, no tape) for the output's size and structure, then each worker records f
    again for its chunk of cotangents.
    """
    nums, single = normalize_argnums(argnums, len(args), fname)
    _untraced(args, kwargs, fname)
    _, in_specs = trace_inputs(args, nums, lambda v, name: v, fname)
    in_vals = [v for _, vals in in_specs for v in vals]
    in_shapes = [np.shape(plain(v)) for v in in_vals]
    n_in = sum(map(_size, in_shapes))
    mode = {"fwd": "forward", "rev": "reverse"}.get(mode, mode)
    if mode == "forward":
        n_out, out_vals = n_in, []
    else:
        out, aux = split_aux(f(*args, **kwargs), has_aux, fname)
        out_vals, out_spec = flatten(out)
        n_out = sum(_size(np.shape(plain(v))) for v in out_vals)
        if mode == "auto":
            mode = "forward" if n_in <= n_out else "reverse"
    what = "Hessian" if hessian else "Jacobian"
    plan = plan_jacobian(n_in, n_out, mode, _itemsize(in_vals + out_vals), chunk, max_memory,
                         what)
    dirs = n_in if mode == "forward" else n_out
    if dirs == 0:  # nothing to split: the serial path handles the empty cases
        if mode == "forward":
            g = grad(f, argnums) if hessian else f
            return _forward(g, args, kwargs, nums, single, has_aux, chunk, max_memory, fname)
        out = _reverse(Recording(f, args, nums, has_aux, fname, kwargs), single, chunk,
                       max_memory)
        return (out, aux) if has_aux else out
    ranges = plan_chunks(dirs, _chunk_size(dirs, chunk, executor, plan.chunk))
    kind = "tangent" if mode == "forward" else "cotangent"
    labels = [f"chunk {i} of {len(ranges)} ({kind} directions {a} to {b - 1} of {dirs})"
              for i, (a, b) in enumerate(ranges)]
    if mode == "forward":
        job = _Forward(f, args, kwargs, nums, argnums, has_aux, hessian, fname, in_shapes)
        parts = _collect(executor, job, ranges, labels, fname)
        _, out_shapes, out_spec, aux = parts[0]
        per_out = _assemble([p[0] for p in parts], out_shapes, in_shapes, False)
    else:
        parts = _collect(executor, _Reverse(f, args, kwargs, nums, has_aux, fname), ranges, labels,
                         fname)
        out_shapes = [np.shape(plain(v)) for v in out_vals]
        per_out = _assemble(parts, out_shapes, in_shapes, True)
    result = _structure(per_out, out_spec, in_specs, single)
    return (result, aux) if has_aux else result


# ---- sparse Jacobians and Hessians ----

@dataclass
class _Sparse:
    """Forward colors [a, b) (one call of f, or of grad(f) for a Hessian) or reverse
    colors [a, b) (one recording, one sweep), flattened as the serial pass lays them out."""

    f: Callable
    x: np.ndarray
    args: tuple
    kwargs: dict
    tangents: np.ndarray
    cotangents: np.ndarray | None
    out_shape: tuple
    name: str
    hessian: bool

    def _flat(self, out: Any, level: int, k: int, what: str) -> np.ndarray:
        shape = np.shape(plain(out))
        if shape != self.out_shape:
            raise ShapeError(f"{self.name}: {what} has shape {shape}, but the pattern was "
                             f"built for {self.out_shape}")
        if isinstance(out, Dual) and out._level == level:
            return np.reshape(out._tangent, -1)
        return np.zeros(k * int(np.prod(shape)), self.tangents.dtype)

    def __call__(self, item: tuple[str, int, int]) -> np.ndarray:
        side, a, b = item
        if side == "fwd":
            level = new_level()
            seed = Dual._make(self.x, self.tangents[a:b], level)
            if self.hessian:
                out = grad(lambda y: self.f(y, *self.args, **self.kwargs))(seed)
            else:
                out = self.f(seed, *self.args, **self.kwargs)
            return self._flat(out, level, b - a, "grad(f)(x)" if self.hessian else "f(x)")
        rec = Recording(self.f, (self.x,) + self.args, (0,), False, self.name, self.kwargs)
        if rec.out_spec.kind != "leaf":
            raise ShapeError(f"{self.name}: f must return one array")
        self._flat(rec.out_vals[0], -1, b - a, "f(x)")  # the shape check
        grads = rec.pullback([self.cotangents[a:b]], batch=(b - a,), keep=False)
        return np.reshape(grads[0][0], -1)


def sparse_call(obj: Any, x: np.ndarray, args: tuple, kwargs: dict) -> Any:
    """The engine behind ``executor=`` of SparseJacobian / SparseHessian: the colors
    split into chunks (forward and reverse colors never share a chunk)."""
    _untraced((x,) + tuple(args), kwargs, obj.report.name)
    hessian = obj._kind == "Hessian"
    cf_, cr = obj.plan.n_colors_fwd, (0 if hessian else obj.plan.n_colors_rev)
    size = _chunk_size(cf_ + cr, obj.chunk, obj.executor)
    items = [("fwd", a, b) for a, b in plan_chunks(cf_, size)]
    items += [("rev", a, b) for a, b in plan_chunks(cr, size)]
    if not items:
        return obj._assemble([])
    side = {"fwd": ("forward", cf_), "rev": ("reverse", cr)}
    labels = [f"chunk {i} of {len(items)} ({side[s][0]} colors {a} to {b - 1} of "
              f"{side[s][1]})" for i, (s, a, b) in enumerate(items)]
    job = _Sparse(obj.f, x, tuple(args), dict(kwargs), obj._tangents,
                  None if hessian else obj._cotangents, obj.out_shape, obj.report.name,
                  hessian)
    parts = _collect(obj.executor, job, items, labels, obj.report.name)
    blocks = [np.concatenate([p for it, p in zip(items, parts) if it[0] == s])
              for s in ("fwd", "rev") if any(it[0] == s for it in items)]
    return obj._assemble(blocks)
