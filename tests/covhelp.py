"""Shared helpers of the registry and coverage tests: arguments from sample/example
specs, finite-difference Jacobians, and Jacobian assembly."""

from __future__ import annotations

import importlib

import numpy as np

from dualtape.registry import Const
from dualtape.rules.cases import SHIMS


def callable_for(func):
    """SciPy functions that convert inputs with np.asarray run through their drop-in."""
    if func in SHIMS:
        return getattr(importlib.import_module(SHIMS[func]), func.__name__)
    return func


def make_args(specs, seed=0):
    """(differentiated values, full argument list with None where they go)."""
    rng = np.random.default_rng(seed)
    diff, full = [], []
    for spec in specs:
        if isinstance(spec, Const):
            full.append(spec.value)
            continue
        if callable(spec):
            value = spec(rng)
        else:
            shape, (lo, hi) = (spec[0], spec[1]) if len(spec) == 2 and isinstance(
                spec[1], tuple) else (spec[0], (-2.0, 2.0))
            value = rng.uniform(lo, hi, shape)
            value = float(value) if shape == () else value
        diff.append(value)
        full.append(None)
    return diff, full


def as_function(func, full, kwargs):
    """f(*differentiated) calling ``func`` (through ``wrap(func, *args)`` if given)."""
    kwargs = dict(kwargs)
    kwargs.pop("check_order", None)
    wrap = kwargs.pop("wrap", None)

    def f(*xs):
        it = iter(xs)
        args = [next(it) if a is None else a for a in full]
        return wrap(func, *args, **kwargs) if wrap else func(*args, **kwargs)
    return f


def ravel_out(y):
    if isinstance(y, (tuple, list)):
        return np.concatenate([ravel_out(v) for v in y]) if len(y) else np.zeros(0)
    return np.ravel(np.asarray(y, dtype=float))


def fd_jacobian(f, args, eps=1e-6):
    flat = [np.ravel(np.asarray(a, dtype=float)) for a in args]
    sizes = [x.size for x in flat]
    x0 = np.concatenate(flat)

    def call(x):
        parts, start = [], 0
        for a, s in zip(args, sizes):
            piece = x[start:start + s].reshape(np.shape(a))
            parts.append(float(piece) if np.ndim(a) == 0 else piece)
            start += s
        return ravel_out(f(*parts))

    cols = []
    for j in range(x0.size):
        e = np.zeros_like(x0)
        e[j] = eps
        cols.append((call(x0 + e) - call(x0 - e)) / (2 * eps))
    return np.stack(cols, axis=-1)


def leaves(tree):
    if isinstance(tree, (tuple, list)):
        return [leaf for t in tree for leaf in leaves(t)]
    return [tree]


def jac_matrix(jac_out, outs, n_args):
    """Assemble jacfwd/jacrev output (out tree of per-argnum tuples) into one matrix."""
    rows = []
    for o, blocks in _pairs(jac_out, outs):
        assert len(blocks) == n_args
        rows.append(np.concatenate([np.reshape(b, (np.size(o), -1)) for b in blocks], axis=1))
    return np.concatenate(rows, axis=0)


def _pairs(jac, outs):
    if isinstance(outs, (tuple, list)):
        for j, o in zip(jac, outs):
            yield from _pairs(j, o)
    else:
        yield outs, jac
