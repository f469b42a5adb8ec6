"""Every registered primitive, checked from the registry: adding a rule adds its tests.

For each sample attached to a primitive (``registry.sample``): forward mode against
central differences, reverse mode by the dot-product test, second order (the rules
differentiated by themselves), and batched tangents/cotangents (jacfwd == jacrev == FD).
"""

import importlib
import pkgutil

import numpy as np
import pytest
from covhelp import as_function, fd_jacobian, jac_matrix, leaves, make_args

import dualtape as dt
from dualtape.registry import PRIMITIVES

# Modules outside dualtape/rules that register primitives when imported (the fused
# layers of the nn package); without this their samples would be tested only when
# some other test module happened to import them first.
REGISTERING_MODULES = ("dualtape.nn.functional",)
for _name in REGISTERING_MODULES:
    importlib.import_module(_name)

BUILTIN = sorted((p for p in PRIMITIVES.values() if p.differentiable and not p.user),
                 key=lambda p: p.name)
CASES = [(p, i) for p in BUILTIN for i in range(len(p.samples))]


def sample_case(prim, index, seed=0):
    """(differentiated arguments, a function of them) for one of ``prim``'s samples."""
    specs, kwargs = prim.samples[index]
    diff, full = make_args(specs, seed)
    return diff, as_function(prim, full, kwargs)


def test_every_registering_module_is_listed():
    """Importing all of dualtape registers nothing this table has not already collected."""
    known = set(PRIMITIVES)
    for info in pkgutil.walk_packages(dt.__path__, "dualtape."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    added = sorted(set(PRIMITIVES) - known)
    assert not added, f"primitives registered outside REGISTERING_MODULES: {added}"


def test_every_primitive_has_a_sample():
    missing = [p.name for p in BUILTIN if not p.samples]
    assert not missing, f"primitives without registry samples (add `sample(...)`): {missing}"


@pytest.mark.parametrize("prim,index", CASES, ids=[f"{p.name}-{i}" for p, i in CASES])
def test_rule_first_and_second_order(prim, index):
    diff, f = sample_case(prim, index)
    order = prim.samples[index][1].get("check_order", 2)
    dt.check_grads(f, diff, order=order, modes=("fwd", "rev"))


@pytest.mark.parametrize("prim,index", CASES, ids=[f"{p.name}-{i}" for p, i in CASES])
def test_rule_batched_directions(prim, index):
    """k > 1 tangents (jacfwd) and cotangents (jacrev) agree with finite differences."""
    diff, f = sample_case(prim, index, seed=1)
    argnums = tuple(range(len(diff)))
    outs = f(*diff)
    expected = fd_jacobian(f, diff)
    for jac in (dt.jacfwd(f, argnums=argnums), dt.jacrev(f, argnums=argnums)):
        got = jac_matrix(jac(*diff), outs, len(diff))
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("prim,index", CASES[::3], ids=[f"{p.name}-{i}" for p, i in CASES[::3]])
def test_rule_in_chunks_of_two(prim, index):
    """Uneven chunks exercise the assembly of several batched passes."""
    diff, f = sample_case(prim, index, seed=2)
    argnums = tuple(range(len(diff)))
    a = dt.jacfwd(f, argnums=argnums, chunk=2)(*diff)
    b = dt.jacrev(f, argnums=argnums, chunk=2)(*diff)
    for x, y in zip(leaves(a), leaves(b)):
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)
