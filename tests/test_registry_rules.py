"""Every registered primitive, checked from the registry: adding a rule adds its tests.

For each sample attached to a primitive (``registry.sample``): forward mode against
central differences, reverse mode by the dot-product test, second order (the rules
differentiated by themselves), and batched tangents/cotangents (jacfwd == jacrev == FD).
"""

import numpy as np
import pytest

import dualtape as dt
from dualtape.registry import PRIMITIVES, Const

BUILTIN = sorted((p for p in PRIMITIVES.values() if p.differentiable and not p.user),
                 key=lambda p: p.name)
CASES = [(p, i) for p in BUILTIN for i in range(len(p.samples))]


def make_args(prim, index, seed=0):
    rng = np.random.default_rng(seed)
    specs, kwargs = prim.samples[index]
    kwargs = {k: v for k, v in kwargs.items() if k != "check_order"}
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
    return diff, full, kwargs


def as_function(prim, full, kwargs):
    def f(*xs):
        it = iter(xs)
        return prim(*[next(it) if a is None else a for a in full], **kwargs)
    return f


def test_every_primitive_has_a_sample():
    missing = [p.name for p in BUILTIN if not p.samples]
    assert not missing, f"primitives without registry samples (add `sample(...)`): {missing}"


def _ravel_out(y):
    """One flat vector of the output(s): multiple-result primitives return tuples."""
    if isinstance(y, (tuple, list)):
        return np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in y])
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
        return _ravel_out(f(*parts))

    cols = []
    for j in range(x0.size):
        e = np.zeros_like(x0)
        e[j] = eps
        cols.append((call(x0 + e) - call(x0 - e)) / (2 * eps))
    return np.stack(cols, axis=-1)


@pytest.mark.parametrize("prim,index", CASES, ids=[f"{p.name}-{i}" for p, i in CASES])
def test_rule_first_and_second_order(prim, index):
    diff, full, kwargs = make_args(prim, index)
    f = as_function(prim, full, kwargs)
    order = prim.samples[index][1].get("check_order", 2)
    dt.check_grads(f, diff, order=order, modes=("fwd", "rev"))


@pytest.mark.parametrize("prim,index", CASES, ids=[f"{p.name}-{i}" for p, i in CASES])
def test_rule_batched_directions(prim, index):
    """k > 1 tangents (jacfwd) and cotangents (jacrev) agree with finite differences."""
    diff, full, kwargs = make_args(prim, index, seed=1)
    f = as_function(prim, full, kwargs)
    argnums = tuple(range(len(diff)))
    outs = f(*diff)
    outs = outs if prim.multiple_results else (outs,)
    expected = fd_jacobian(f, diff)
    for jac in (dt.jacfwd(f, argnums=argnums), dt.jacrev(f, argnums=argnums)):
        per_out = jac(*diff)
        per_out = per_out if prim.multiple_results else (per_out,)
        got = np.concatenate([np.concatenate([np.reshape(b, (np.size(o), -1)) for b in blocks],
                                             axis=1) for o, blocks in zip(outs, per_out)])
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("prim,index", CASES[::3], ids=[f"{p.name}-{i}" for p, i in CASES[::3]])
def test_rule_in_chunks_of_two(prim, index):
    """Uneven chunks exercise the assembly of several batched passes."""
    diff, full, kwargs = make_args(prim, index, seed=2)
    f = as_function(prim, full, kwargs)
    argnums = tuple(range(len(diff)))
    a = dt.jacfwd(f, argnums=argnums, chunk=2)(*diff)
    b = dt.jacrev(f, argnums=argnums, chunk=2)(*diff)
    for x, y in zip(_leaves(a), _leaves(b)):
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)


def _leaves(tree):
    if isinstance(tree, (tuple, list)):
        return [leaf for t in tree for leaf in _leaves(t)]
    return [tree]
