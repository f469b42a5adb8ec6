"""Every derived NumPy/SciPy function (a handler built on primitives, not a primitive)
is run from its ``example`` entries: both modes against central differences, second
order, and whole Jacobians by jacfwd and jacrev."""

import numpy as np
import pytest
from covhelp import as_function, callable_for, fd_jacobian, jac_matrix, make_args

import dualtape as dt
from dualtape.coverage import derived_functions
from dualtape.registry import qualified_name
from dualtape.rules.cases import EXAMPLES
from dualtape.tree import flatten

CASES = [(f, i) for f in EXAMPLES for i in range(len(EXAMPLES[f]))]
IDS = [f"{qualified_name(f)}-{i}" for f, i in CASES]


def test_every_derived_function_has_an_example():
    missing = [qualified_name(f) for f in derived_functions() if f not in EXAMPLES]
    assert not missing, f"derived functions without `example(...)` entries: {missing}"


@pytest.mark.parametrize("func,index", CASES, ids=IDS)
def test_example_first_and_second_order(func, index):
    specs, kwargs = EXAMPLES[func][index]
    diff, full = make_args(specs)
    f = as_function(callable_for(func), full, kwargs)
    dt.check_grads(f, diff, order=kwargs.get("check_order", 2), modes=("fwd", "rev"))


@pytest.mark.parametrize("func,index", CASES, ids=IDS)
def test_example_traced_values_equal_numpy(func, index):
    """Traced evaluation returns NumPy's/SciPy's own values, with the same structure."""
    specs, kwargs = EXAMPLES[func][index]
    diff, full = make_args(specs, seed=3)
    f = as_function(callable_for(func), full, kwargs)
    expected = f(*diff)
    for got in (dt.vjp(f, *diff)[0], dt.jvp(f, diff, [np.zeros_like(d) for d in diff])[0]):
        assert flatten(got)[1] == flatten(expected)[1]
        for g, e in zip(flatten(got)[0], flatten(expected)[0]):
            np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("func,index", CASES, ids=IDS)
def test_example_jacobians(func, index):
    specs, kwargs = EXAMPLES[func][index]
    diff, full = make_args(specs, seed=1)
    f = as_function(callable_for(func), full, kwargs)
    argnums = tuple(range(len(diff)))
    outs = f(*diff)
    expected = fd_jacobian(f, diff)
    for jac in (dt.jacfwd(f, argnums=argnums), dt.jacrev(f, argnums=argnums)):
        got = jac_matrix(jac(*diff), outs, len(diff))
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
