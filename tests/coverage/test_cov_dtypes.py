"""dtypes: float32 in gives float32 derivatives (every primitive, from its samples);
integer inputs to grad raise the typed error; complex inputs raise 'not supported yet'."""

import importlib

import numpy as np
import pytest
from covhelp import as_function, callable_for, leaves, make_args

import dualtape as dt
from dualtape.registry import PRIMITIVES
from dualtape.rules.cases import EXAMPLES

# The fused nn primitives register on import (see REGISTERING_MODULES in
# tests/test_registry_rules.py); load them so their samples are checked here too.
importlib.import_module("dualtape.nn.functional")

BUILTIN = sorted((p for p in PRIMITIVES.values() if p.differentiable and not p.user),
                 key=lambda p: p.name)
CASES = [(p, i) for p in BUILTIN for i in range(len(p.samples))]


def _f32(v):
    return np.float32(v) if np.ndim(v) == 0 else np.asarray(v, dtype=np.float32)


def _dtypes(tree):
    return {np.result_type(leaf) for leaf in leaves(tree)}


@pytest.mark.parametrize("prim,index", CASES, ids=[f"{p.name}-{i}" for p, i in CASES])
def test_float32_in_float32_derivatives_out(prim, index):
    specs, kwargs = prim.samples[index]
    kwargs = {k: v for k, v in kwargs.items() if k != "check_order"}
    if prim.name == "astype":
        kwargs = {"dtype": np.dtype(np.float32)}
    diff, full = make_args(specs)
    diff = [_f32(v) for v in diff]
    full = [_f32(v) if isinstance(v, np.ndarray) and v.dtype == np.float64 else v for v in full]

    def f(*xs):
        it = iter(xs)
        return prim(*[next(it) if a is None else a for a in full], **kwargs)

    out = f(*diff)
    if _dtypes(out) != {np.dtype(np.float32)}:
        pytest.skip(f"{prim.name} itself returns {_dtypes(out)} for float32 inputs")
    tangents = [np.ones_like(v) for v in diff]
    _, t = dt.jvp(f, diff, tangents)
    assert _dtypes(t) == {np.dtype(np.float32)}, f"jvp of {prim.name}: {_dtypes(t)}"
    _, pull = dt.vjp(f, *diff)
    cts = pull(out)
    for c, x in zip(cts, diff):
        assert np.result_type(c) == np.float32, f"vjp of {prim.name}: {np.result_type(c)}"
        assert np.shape(c) == np.shape(x)
    jac = dt.jacfwd(f, argnums=tuple(range(len(diff))))(*diff)
    assert _dtypes(jac) == {np.dtype(np.float32)}, f"jacfwd of {prim.name}: {_dtypes(jac)}"


def test_float32_end_to_end():
    x = np.linspace(0.1, 1.0, 4, dtype=np.float32)
    f = lambda x: np.sum(np.tanh(x @ np.ones((4, 3), np.float32)) ** 2) + np.linalg.norm(x)
    g = dt.grad(f)(x)
    assert g.dtype == np.float32
    assert dt.hessian(f)(x).dtype == np.float32
    assert dt.jacrev(lambda x: np.cumsum(np.exp(x)))(x).dtype == np.float32


def test_astype_float32_is_a_cast_with_a_derivative():
    x = np.array([0.5, 1.5])
    g = dt.grad(lambda x: np.sum(x.astype(np.float32) ** 2))(x)
    np.testing.assert_allclose(g, 2 * x, rtol=1e-6)
    assert g.dtype == np.float64   # the cotangent goes back to the input's dtype
    y = dt.jvp(lambda x: x.astype(np.float32), (x,), (np.ones(2),))[1]
    assert y.dtype == np.float32
    idx = dt.grad(lambda x: x[x.astype(int)[0]] * 3.0)(np.array([1.0, 2.0]))
    np.testing.assert_allclose(idx, [0.0, 3.0])  # astype(int) is plain: usable as an index


@pytest.mark.parametrize("bad", [np.array([1, 2]), 3, np.array([True, False])])
def test_integer_and_boolean_inputs_raise(bad):
    with pytest.raises(dt.NonDifferentiableInputError, match="floating-point"):
        dt.grad(lambda x: np.sum(x * 1.0))(bad)
    with pytest.raises(dt.NonDifferentiableInputError):
        dt.jacfwd(lambda x: x * 1.0)(bad)


def test_complex_inputs_raise_not_supported():
    with pytest.raises(dt.NonDifferentiableInputError, match="complex.*not supported yet"):
        dt.grad(lambda z: np.abs(z))(1.0 + 2.0j)
    with pytest.raises(dt.NonDifferentiableInputError, match="complex"):
        dt.jacrev(lambda z: z * 2)(np.array([1.0 + 1j]))


def test_complex_intermediates_raise_no_rule():
    with pytest.raises(dt.NoRuleError, match="numpy.fft"):
        dt.grad(lambda x: np.sum(np.abs(np.fft.fft(x))))(np.ones(4))

EXAMPLE_CASES = [(f, i) for f in EXAMPLES for i in range(len(EXAMPLES[f]))]


@pytest.mark.parametrize("func,index", EXAMPLE_CASES,
                         ids=[f"{getattr(f, '__name__', f)}-{i}" for f, i in EXAMPLE_CASES])
def test_float32_through_derived_functions(func, index):
    specs, kwargs = EXAMPLES[func][index]
    diff, full = make_args(specs)
    diff = [_f32(v) for v in diff]
    f = as_function(callable_for(func), full, kwargs)
    out = f(*diff)
    if _dtypes(out) != {np.dtype(np.float32)}:
        pytest.skip(f"returns {_dtypes(out)} for float32 inputs")
    _, t = dt.jvp(f, diff, [np.ones_like(v) for v in diff])
    assert _dtypes(t) == {np.dtype(np.float32)}, f"jvp: {_dtypes(t)}"
    out, pull = dt.vjp(f, *diff)
    for c in pull(out):
        assert np.result_type(c) == np.float32, f"vjp: {np.result_type(c)}"
