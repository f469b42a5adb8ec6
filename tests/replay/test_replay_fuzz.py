"""Replays of the reliability fuzzer's random programs equal eager dualtape.

Each drawn program is compiled at its own inputs and replayed at inputs drawn with
another seed (values, vjp, jvp, Jacobians in both modes, and for a scalarized program
gradient, hvp and Hessian). Replay runs the same primitives as eager mode, so the
results must agree to rounding.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import example, given, settings
from rel_programs import Program as RandomProgram
from rel_programs import S, const, programs

import dualtape as dt

#: Programs per test = base budget x the profile's factor (modest: replay is checked
#: against eager mode, which the reliability fuzzer checks against finite differences).
_FACTOR = {"long": 25.0, "dev": 0.5}.get(settings.get_current_profile_name(), 1.0)


def budget(n: int) -> settings:
    return settings(max_examples=max(5, int(n * _FACTOR)))


def _max(a) -> float:
    a = np.asarray(a, dtype=float)
    return float(np.max(np.abs(a), initial=0.0)) if a.size else 0.0


def check(got, want, what: str, prog, rel: float = 1e-9) -> None:
    """Same shape, same non-finite entries, finite entries within rel * scale."""
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}\n{prog!r}"
    finite = np.isfinite(want)
    assert np.array_equal(np.isfinite(got), finite), f"{what}: non-finite entries differ\n" \
                                                     f"{got}\n{want}\n{prog!r}"
    scale = max(1.0, _max(want[finite]))
    err = _max(got[finite] - want[finite])
    assert err <= rel * scale, f"{what}: error {err:.3g}\ngot {got}\nwant {want}\n{prog!r}"


def elsewhere(prog: RandomProgram) -> list:
    """Inputs of the same shapes (and kinds) drawn with another seed."""
    return dataclasses.replace(prog, seed=prog.seed + 1).inputs()


def uses(prog: RandomProgram, names: set) -> bool:
    return any(step.op in names for step in prog.steps)


def tangent_like(x, rng):
    v = rng.standard_normal(np.shape(x))
    return float(v) if isinstance(x, float) else v


@budget(40)
@given(prog=programs(n_inputs=1))
@example(prog=RandomProgram(shapes=((2, 3),), seed=1, steps=(
    S("copy_set", 0, fill="sin", idx=(("a", (1, 0)),)),
    S("sum", 1, axis=0, keepdims=False))))
def test_first_order_replay_equals_eager(prog):
    cf = dt.compile(prog, *prog.inputs())
    rng = np.random.default_rng(prog.seed)
    for xs in (elsewhere(prog), prog.inputs()):
        (x,) = xs
        with np.errstate(all="ignore"):
            want = prog(x)
            check(cf(x), want, "value", prog)
            v = tangent_like(x, rng)
            out, t = cf.jvp((x,), (v,))
            check(out, want, "jvp value", prog)
            check(t, dt.jvp(prog, (x,), (v,))[1], "jvp tangent", prog)
            ct = rng.standard_normal(np.shape(want))
            out, vjp_fn = cf.vjp(x)
            check(vjp_fn(ct), dt.vjp(prog, x)[1](ct)[0], "vjp", prog)
            jac = dt.jacfwd(prog)(x)
            check(cf.jacobian(x, mode="forward"), jac, "jacobian forward", prog)
            check(cf.jacobian(x, mode="reverse"), jac, "jacobian reverse", prog)


@budget(30)
@given(prog=programs(n_inputs=2, max_size=8))
@example(prog=RandomProgram(shapes=((1,), ()), seed=0, steps=(  # x ** constant array
    S("stack_scalars", 1, ks=(0,)),
    S("squeeze", 0, axis=None),
    S("pow", 3, cseed=0, mode="const", shape=(2,), swap=False),
    S("collect", 4, 2))))
def test_two_argument_gradients_equal_eager(prog):
    xs = prog.inputs()
    w = const(np.shape(prog(*xs)), prog.seed % 97)
    s = lambda a, b: np.sum(prog(a, b) * w)
    cf = dt.compile(s, *xs, argnums=(0, 1))
    for ys in (elsewhere(prog), xs):
        with np.errstate(all="ignore"):
            value, grads = cf.value_and_grad(*ys)
            want_value, want_grads = dt.value_and_grad(s, argnums=(0, 1))(*ys)
            check(value, want_value, "value", prog)
            for g, wg in zip(grads, want_grads):
                check(g, wg, "gradient", prog)


@budget(30)
@given(prog=programs(n_inputs=1, max_steps=6, max_size=8))
def test_second_order_replay_equals_eager(prog):
    xs = prog.inputs()
    w = const(np.shape(prog(*xs)), prog.seed % 97)
    s = lambda a: np.sum(prog(a) * w)
    cf = dt.compile(s, *xs)
    rng = np.random.default_rng(prog.seed)
    for (x,) in (xs, elsewhere(prog)):   # the gradient is recorded at the first point
        with np.errstate(all="ignore"):
            check(cf.grad(x), dt.grad(s)(x), "gradient", prog)
            v = np.asarray(tangent_like(x, rng))
            check(cf.hvp(v, x), dt.hvp(s, x, v), "hvp", prog, rel=1e-8)
            check(cf.hessian(x), dt.hessian(s)(x), "hessian", prog, rel=1e-8)
