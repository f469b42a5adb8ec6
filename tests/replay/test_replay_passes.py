"""The static-graph passes: each one keeps values and derivatives, and each shrinks the
program where it should (constant folding of static arrays, algebraic simplification,
dead code, common subexpressions, activity analysis), as the printed program and its
pass log show. Generated code releases buffers and accumulates adjoints in place
without touching the caller's arrays."""

from __future__ import annotations

import functools
import re

import numpy as np
import pytest

import dualtape as dt
from dualtape.replay.codegen import Source
from dualtape.replay.ir import PASSES, format_program, mark_active
from dualtape.replay.record import Recorder

M = np.arange(9.0).reshape(3, 3) / 10.0


def everything(x, M, X):
    """One function that every pass has work in."""
    A = M @ M.T + np.eye(3)                 # static only: folded
    unused = np.exp(x) * 2.0                # dead
    del unused
    a = np.sin(x[:-1])
    b = np.sin(x[:-1])                      # a common subexpression (getitem and sin)
    y = (x * 1.0) - 0.0                     # identities
    d = np.tanh(X).sum()                    # data only: no derivative
    return np.sum(a * b) + np.sum(A @ y) + np.sum(-(-y)) * d  # noqa: B002


def compiled(rng):
    return dt.compile(everything, rng.standard_normal(3), M, rng.standard_normal(2),
                      static_argnums=(1,))


def log_of(cf) -> dict:
    """(before, after) of each pass's first run."""
    log: dict = {}
    for name, before, after in cf.variants[0].program.log:
        log.setdefault(name, (before, after))
    return log


def prim_names(cf) -> list[str]:
    return [n.fn.name for n in cf.variants[0].program.nodes if n.kind == "prim"]


def test_every_pass_shrinks_the_program(rng):
    cf = compiled(rng)
    log = log_of(cf)
    for name in ("constant folding", "algebraic simplification", "dead-code elimination",
                 "common-subexpression elimination"):
        before, after = log[name]
        assert after < before, (name, log)
    v = cf.variants[0]
    assert v.size_recorded > len(v.program)
    assert f"{v.size_recorded} recorded nodes -> {len(v.program)} after optimisation" in str(cf)
    names = prim_names(cf)
    assert "exp" not in names                                    # dead code
    assert names.count("sin") == 1 and names.count("getitem") == 1  # CSE
    assert "neg" not in names and "sub" not in names             # simplification
    assert "transpose" not in names and "matmul" not in names    # folded: M @ M.T + I
    assert names.count("add") == 2                               # only the data-dependent sums


def test_printed_program_and_pass_log(rng):
    cf = compiled(rng)
    text = str(cf)
    prog = cf.variants[0].program
    assert text.endswith(format_program(prog))
    assert "v1 = x2  (static)" in text
    assert re.search(r"= tanh\(v\d+\)  # no derivative", text)
    assert re.search(r"= sum\(v\d+, axis=\(0,\), keepdims=False\)  # no derivative", text)
    assert "<float64[3, 3]>" in text                             # the folded constant
    for name, before, after in prog.log:
        assert f"# {name}: {before} -> {after} nodes" in text
    assert len(prog.log) == len(PASSES)
    assert re.search(r"\d+ adjoint\(s\) accumulated in place", text)


def test_activity_analysis_marks_data_only_nodes(rng):
    cf = compiled(rng)
    prog = cf.variants[0].program
    nodes = prog.node_map()
    tanh = next(n for n in prog.nodes if n.kind == "prim" and n.fn.name == "tanh")
    assert not tanh.active
    assert nodes[prog.outputs[0].node].active
    assert all(n.active for n in prog.nodes if n.kind == "prim" and n.fn.name == "sin")


def test_optimised_program_matches_eager(rng):
    cf = compiled(rng)
    for _ in range(3):
        x, X = rng.standard_normal(3), rng.standard_normal(2)
        np.testing.assert_allclose(cf(x, M, X), everything(x, M, X), rtol=1e-14)
        np.testing.assert_allclose(cf.grad(x, M, X), dt.grad(everything)(x, M, X), rtol=1e-13)
        v = rng.standard_normal(3)
        of_x = functools.partial(lambda u, data: everything(u, M, data), data=X)
        np.testing.assert_allclose(cf.jvp((x, M, X), (v,))[1], dt.jvp(of_x, (x,), (v,))[1],
                                   rtol=1e-13)
        np.testing.assert_allclose(cf.hvp(v, x, M, X), dt.hvp(of_x, x, v), rtol=1e-12)
    assert cf.retraces == 0


@pytest.mark.parametrize("k", range(1, len(PASSES) + 1))
def test_each_pass_prefix_preserves_values_and_derivatives(rng, k):
    """Run only the first k passes (then activity analysis) and replay every sweep.
    (Constant folding always runs: generated code reads static inputs only as folded
    constants.)"""
    x0, X0 = rng.standard_normal(3), rng.standard_normal(2)
    prog, _ = Recorder().run(everything, (x0, M, X0), (0,), frozenset({1}), False, "f")
    for p in PASSES[:k]:
        p(prog)
    mark_active(prog)
    fns = Source(prog).functions()
    x, X, v = rng.standard_normal(3), rng.standard_normal(2), rng.standard_normal(3)
    want_value, want_grad = dt.value_and_grad(everything)(x, M, X)
    (value,) = fns["value"](x, X)
    np.testing.assert_allclose(value, want_value, rtol=1e-14)
    (value,), (g,) = fns["grad"](x, X)
    np.testing.assert_allclose(value, want_value, rtol=1e-14)
    np.testing.assert_allclose(g, want_grad, rtol=1e-13)
    (_,), (t,) = fns["jvp"](x, X, v)
    np.testing.assert_allclose(t, want_grad @ v, rtol=1e-13)
    outs, saved = fns["forward"](x, X)
    (g2,) = fns["backward"](saved, np.float64(2.0))
    np.testing.assert_allclose(g2, 2.0 * want_grad, rtol=1e-13)


def test_folding_follows_the_static_value(rng):
    cf = compiled(rng)
    M2 = M[::-1].copy()
    x, X = rng.standard_normal(3), rng.standard_normal(2)
    np.testing.assert_allclose(cf.grad(x, M2, X), dt.grad(everything)(x, M2, X), rtol=1e-13)
    assert cf.retraces == 1


def test_cse_merges_repeated_slices_across_a_long_expression(rng):
    def rosen_twice(x):
        a = np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
        b = np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
        return a + b

    cf = dt.compile(rosen_twice, rng.standard_normal(6))
    names = prim_names(cf)
    assert names.count("getitem") == 2 and names.count("pow") == 3
    before, after = log_of(cf)["common-subexpression elimination"]
    assert after <= before // 2 + 1
    x = rng.standard_normal(6)
    np.testing.assert_allclose(cf.grad(x), dt.grad(rosen_twice)(x), rtol=1e-13)
    np.testing.assert_allclose(cf.hessian(x), dt.hessian(rosen_twice)(x), rtol=1e-12)


def test_dce_keeps_what_a_checked_guard_reads():
    def f(x):
        s = np.sum(np.cos(x))              # only read by the comparison
        return np.sum(x ** 2) if s > 0 else np.sum(x)

    cf = dt.compile(f, np.zeros(3))
    assert "cos" in prim_names(cf)
    assert float(cf(np.full(3, 3.0))) == 9.0     # cos(3) < 0: the other path
    assert cf.retraces == 1


def test_a_comparison_with_no_seen_use_stays_a_guard():
    """A mask never seen used may still have been used unseen (np.asarray(mask) then
    plain NumPy): it is kept as a checked guard, conservatively."""
    def f(x):
        _ = x > 0
        return np.sum(x * x)

    cf = dt.compile(f, np.ones(3))
    assert len(cf.variants[0].program.guards()) == 1
    np.testing.assert_allclose(cf.grad(-np.ones(3)), -2.0 * np.ones(3))
    assert cf.retraces == 1


# ---- generated code: in-place accumulation and early release ----

def fan_out(x):
    y = np.sin(x)
    return np.sum(y * x) + np.sum(y ** 2) + np.sum(np.exp(x) * y)


def test_generated_sweeps_release_buffers_and_accumulate_in_place(rng):
    cf = dt.compile(fan_out, rng.standard_normal(5))
    v = cf.variants[0]
    assert v.source.accumulated >= 2
    grad_source = v.source.text("grad")
    assert "del " in grad_source and "_acc(" in grad_source


@pytest.mark.parametrize("f", [
    fan_out,
    lambda x: np.sum(x),
    lambda x: np.sum(x[1:] * x[:-1]) + np.sum(x[::2]),
    lambda x: np.sum(np.cumsum(x) * x),
], ids=["fan_out", "sum", "slices", "cumsum"])
def test_results_never_alias_inputs_or_earlier_results(rng, f):
    cf = dt.compile(f, rng.standard_normal(6))
    x = rng.standard_normal(6)
    x_copy = x.copy()
    g1 = cf.grad(x)
    g1_copy = np.copy(g1)
    _, vjp_fn = cf.vjp(x)
    c1 = vjp_fn(np.float64(1.0))
    c1_copy = np.copy(c1)
    for _ in range(3):
        y = rng.standard_normal(6)
        cf.grad(y)
        cf.value_and_grad(y)
        cf.vjp(y)[1](np.float64(3.0))
        cf.hvp(np.ones(6), y)
    assert np.array_equal(x, x_copy)                 # inputs untouched
    assert np.array_equal(g1, g1_copy)               # earlier results untouched
    assert np.array_equal(c1, c1_copy)
    assert not np.shares_memory(g1, x)
    np.testing.assert_allclose(g1, dt.grad(f)(x), rtol=1e-13)
    np.testing.assert_allclose(vjp_fn(np.float64(2.0)), 2.0 * g1, rtol=1e-13)  # re-usable
