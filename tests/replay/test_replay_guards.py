"""Branch guards: a replay is never silently wrong. Values that steer Python control
flow re-record when they change (``retraces`` counts exactly those), masks that only
feed primitives as data need no guard, variants are kept and reused, ``warn=True``
emits a RetraceWarning, ``max_variants`` bounds the cache."""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np
import pytest

import dualtape as dt
import dualtape.scipy.special as dt_special
from dualtape.replay import RetraceWarning


def close(got, want, rtol=1e-12, atol=1e-13):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            close(g, w, rtol, atol)
        return
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def guards(cf) -> int:
    return len(cf.variants[0].program.guards())


@contextmanager
def no_warnings():
    """A context in which any warning (a RetraceWarning included) is an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# ---- piecewise functions ----

def piecewise(x):
    return x ** 2 if x > 1.0 else 3.0 * x


def test_piecewise_scalar_retraces_exactly_on_branch_changes():
    cf = dt.compile(piecewise, 2.0)
    assert guards(cf) == 1 and cf.retraces == 0
    expected_retraces = 0
    seen = {True}
    for x in [3.0, 1.5, 0.5, -2.0, 7.0, 0.9, 1.0, 1.0000001]:
        branch = x > 1.0
        if branch not in seen:
            expected_retraces += 1
            seen.add(branch)
        close(cf(x), piecewise(x))
        close(cf.grad(x), dt.grad(piecewise)(x))
        close(cf.value_and_grad(x), dt.value_and_grad(piecewise)(x))
        assert cf.retraces == expected_retraces, (x, cf.last_retrace)
    assert cf.retraces == 1 and len(cf.variants) == 2
    assert cf.last_retrace == "guard gt -> True changed"


def test_piecewise_array_branch_on_a_reduction(rng):
    def f(x):
        s = np.sum(x)
        return np.sum(x ** 3) if s > 0 else np.sum(np.exp(x)) * s

    cf = dt.compile(f, np.ones(4))
    for _ in range(6):
        x = rng.standard_normal(4)
        close(cf.grad(x), dt.grad(f)(x))
        close(cf.jacobian(x), dt.jacobian(f)(x))
    assert cf.retraces == 1 and len(cf.variants) == 2


def test_seen_variants_are_reused_without_retrace():
    cf = dt.compile(piecewise, 2.0)
    cf.grad(0.0)
    assert cf.retraces == 1
    with no_warnings():
        for x in [2.0, -1.0, 5.0, 0.25] * 5:
            close(cf.grad(x), dt.grad(piecewise)(x))
    assert cf.retraces == 1 and len(cf.variants) == 2
    assert cf.variants[0].program.guards()[0].guard.result == np.bool_(False)  # last used first


def three_way(x):
    if x < -1.0:
        return -x
    if x < 1.0:
        return x * x
    return 2.0 * x


@pytest.mark.parametrize("max_variants", [1, 2, 3])
def test_max_variants_bounds_the_cache(max_variants):
    cf = dt.compile(three_way, 0.0, max_variants=max_variants)
    path = [0.5, 3.0, -2.0, 0.1, 2.0, -3.0, 0.2]      # middle, right, left, ... cycling
    retraces = 0
    kept: list[int] = [1]                            # branch ids, most recent first
    for x in path:
        branch = 0 if x < -1.0 else 1 if x < 1.0 else 2
        if branch not in kept:
            retraces += 1
        else:
            kept.remove(branch)
        kept = ([branch] + kept)[:max_variants]
        close(cf.grad(x), dt.grad(three_way)(x))
        close(cf(x), three_way(x))
        assert cf.retraces == retraces, (x, max_variants)
        assert len(cf.variants) <= max_variants
    assert len(cf.variants) == min(max_variants, 3)


def test_warn_emits_a_retrace_warning_naming_the_guard():
    cf = dt.compile(piecewise, 2.0, warn=True)
    with pytest.warns(RetraceWarning, match=r"guard gt -> True changed.*retraces so far: 1"):
        cf.grad(0.5)
    with no_warnings():
        cf.grad(0.25)             # the recorded second path: no warning
        cf.grad(4.0)
    with pytest.warns(RetraceWarning, match="new argument shapes"):
        cf.grad(np.float32(4.0))   # another dtype records again


def test_no_warning_without_warn():
    cf = dt.compile(piecewise, 2.0)
    with no_warnings():
        cf.grad(0.5)
    assert cf.retraces == 1


@pytest.mark.parametrize("call", [lambda cf, x: cf(x), lambda cf, x: cf.grad(x),
                                  lambda cf, x: cf.value_and_grad(x),
                                  lambda cf, x: cf.hvp(1.0, x)])
def test_retrace_warning_points_at_the_calling_line(call):
    cf = dt.compile(piecewise, 2.0, warn=True)
    call(cf, 2.0)
    with pytest.warns(RetraceWarning) as record:
        call(cf, 0.5)
    assert record[0].filename == __file__


def test_new_shapes_record_a_new_variant():
    cf = dt.compile(lambda x: np.sum(np.sin(x) ** 2), np.ones(3))
    for n in (3, 4, 3, 5, 4):
        x = np.linspace(-1.0, 2.0, n)
        close(cf.grad(x), dt.grad(lambda u: np.sum(np.sin(u) ** 2))(x))
    assert cf.retraces == 2 and len(cf.variants) == 3
    assert cf.last_retrace == "new argument shapes, dtypes or static values"
    cf.grad(np.ones(3, dtype=np.float32))             # another dtype: recorded again
    assert cf.retraces == 3
    assert cf.grad(np.ones(3, dtype=np.float32)).dtype == np.float32


# ---- loops ----

def newton_sqrt(a):
    """sqrt(a) by Newton's iteration: the number of steps depends on a."""
    x = a
    while np.abs(x * x - a) > 1e-12 * a:
        x = 0.5 * (x + a / x)
    return x


def test_while_loop_to_convergence_retraces_on_another_iteration_count():
    cf = dt.compile(newton_sqrt, 2.0)
    n_guards = guards(cf)
    assert n_guards >= 4       # one comparison per iteration, the last one False
    for a in (2.0, 3.0, 2.5):  # the same number of iterations as a = 2
        close(cf(a), newton_sqrt(a))
        close(cf.grad(a), dt.grad(newton_sqrt)(a))
    assert cf.retraces == 0
    for a in (100.0, 1e-3, 1e4):
        close(cf(a), newton_sqrt(a))
        close(cf.grad(a), dt.grad(newton_sqrt)(a))
        close(cf.grad(a), 0.5 / np.sqrt(a), rtol=1e-9)
    assert cf.retraces == 3
    assert guards(cf) != n_guards   # the newest variant ran another number of steps
    close(cf.grad(2.0), dt.grad(newton_sqrt)(2.0))
    assert cf.retraces == 3         # the first path is still kept


def test_fixed_point_iteration_on_arrays(rng):
    A = rng.standard_normal((3, 3)) * 0.2

    def f(b):
        x = np.zeros(3) + b
        for _ in range(100):
            new = A @ np.tanh(x) + b
            if np.max(np.abs(new - x)) < 1e-13:
                break
            x = new
        return np.sum(x ** 2)

    cf = dt.compile(f, rng.standard_normal(3))
    for _ in range(3):
        b = rng.standard_normal(3) * 2.0
        close(cf.grad(b), dt.grad(f)(b), rtol=1e-10)
    assert all(n.guard.func is not np.abs for v in cf.variants for n in v.program.guards())


# ---- masks that are data need no guard ----

def test_where_mask_is_data_not_a_guard(rng):
    def f(x):
        return np.sum(np.where(x > 0, x ** 2, -np.sin(x)))

    cf = dt.compile(f, np.ones(5))
    assert guards(cf) == 0
    assert "recomputed as data" in str(cf)
    with no_warnings():
        for _ in range(5):
            x = rng.standard_normal(5)       # signs change: other "branches"
            close(cf(x), f(x))
            close(cf.grad(x), dt.grad(f)(x))
            close(cf.hvp(np.ones(5), x), dt.hvp(f, x, np.ones(5)))
    assert cf.retraces == 0


def test_mask_arithmetic_with_traced_values_is_data(rng):
    def f(x):
        relu = x * (x > 0)
        return np.sum(relu ** 2) + np.sum(np.sin(x) * (np.abs(x) < 0.5))

    cf = dt.compile(f, np.ones(6))
    for _ in range(4):
        x = rng.standard_normal(6)
        close(cf.grad(x), dt.grad(f)(x))
    assert cf.retraces == 0


def test_mask_used_for_control_flow_is_a_guard(rng):
    def f(x):
        m = x > 0
        if m.any():
            return np.sum(x * m)
        return np.sum(np.exp(x))

    cf = dt.compile(f, np.ones(3))
    assert guards(cf) == 1
    assert "# guard: must give [True, True, True]" in str(cf)
    x = np.array([-1.0, 2.0, -3.0])
    close(cf.grad(x), dt.grad(f)(x))
    assert cf.retraces == 1          # the mask itself changed: checked
    close(cf.grad(-np.ones(3)), dt.grad(f)(-np.ones(3)))
    assert cf.retraces == 2


@pytest.mark.parametrize("f", [
    lambda x: np.sum(np.abs(x) * np.arange(1.0, 6.0)),
    lambda x: np.sum(np.maximum(x, 0.0) ** 2 + np.minimum(x, 0.5)),
    lambda x: np.sum(np.clip(x, -0.5, 0.5) * x),
    lambda x: np.max(x) ** 2 + np.min(x),
], ids=["abs", "maximum", "clip", "max"])
def test_kinks_need_no_guard_first_order(rng, f):
    cf = dt.compile(f, np.linspace(-1.0, 1.0, 5))
    with no_warnings():
        for _ in range(5):
            x = rng.standard_normal(5)
            close(cf(x), f(x))
            close(cf.grad(x), dt.grad(f)(x))
            out, vjp_fn = cf.vjp(x)
            close(vjp_fn(np.float64(1.0)), dt.vjp(f, x)[1](np.float64(1.0))[0])
    assert cf.retraces == 0


# ---- data-dependent shapes and indices are guards ----

def test_boolean_mask_index_is_a_guard():
    def f(x):
        return np.sum(x[x > 0] ** 2) + np.sum(np.cos(x))

    cf = dt.compile(f, np.array([1.0, -1.0, 2.0]))
    assert guards(cf) == 1
    for x in ([3.0, -2.0, 1.0], [0.5, -0.1, 9.0]):        # same mask: replayed
        close(cf.grad(np.array(x)), dt.grad(f)(np.array(x)))
    assert cf.retraces == 0
    for x in ([-3.0, 2.0, 1.0], [1.0, 2.0, -3.0]):         # same count, other positions
        close(cf.grad(np.array(x)), dt.grad(f)(np.array(x)))
    assert cf.retraces == 2
    close(cf.grad(np.array([1.0, 2.0, 3.0])), dt.grad(f)(np.array([1.0, 2.0, 3.0])))
    assert cf.retraces == 3
    assert cf.last_retrace.startswith("guard gt")


def test_argmax_dependent_indexing_is_a_guard():
    def f(x):
        k = np.argmax(x)
        return x[k] ** 2 * np.sum(x) + x[(k + 1) % 3]

    cf = dt.compile(f, np.array([1.0, 3.0, 2.0]))
    assert "argmax(v0)  # guard: must give 1" in str(cf)
    for x in ([0.0, 5.0, 1.0], [2.0, 1.0, 0.0], [0.0, 1.0, 2.0], [-1.0, 0.0, -2.0]):
        x = np.array(x)
        close(cf(x), f(x))
        close(cf.grad(x), dt.grad(f)(x))
    assert cf.retraces == 2


def test_sign_and_rounding_are_guards():
    def f(x):
        return np.sum(np.sign(x) * x ** 2) + np.sum(np.floor(x[:1]) * x[1:])

    cf = dt.compile(f, np.array([1.5, 2.0]))
    for x, retraces in (([1.2, -3.0], 1), ([1.9, -0.5], 1), ([2.1, -0.5], 2)):
        x = np.array(x)
        close(cf.grad(x), dt.grad(f)(x))
        assert cf.retraces == retraces


def test_float_of_a_traced_value_raises_as_in_grad():
    """float()/int() on a traced value would lose the derivative: an error, as in dt.grad
    (documented in docs/replay.md), not a silently baked constant."""
    def f(x):
        return float(x) * 2.0 + x

    with pytest.raises(dt.TracerConversionError):
        dt.grad(f)(1.0)
    with pytest.raises(dt.TracerConversionError):
        dt.compile(f, 1.0)
    cf = dt.compile(f)                      # recorded on first use: the same error
    with pytest.raises(dt.TracerConversionError):
        cf(1.0)


def test_stop_gradient_comparisons_are_baked_in_as_documented():
    """Values taken out of tracing with dt.stop_gradient are not seen (docs/replay.md):
    the branch is the recording's. Pin the documented limit so a change is noticed."""
    def f(x):
        return x * 2.0 if dt.stop_gradient(x) > 0 else x * 3.0

    cf = dt.compile(f, 1.0)
    assert guards(cf) == 0
    assert float(cf.grad(-1.0)) == 2.0 and cf.retraces == 0


def test_bool_arguments_and_bool_data_inputs():
    def f(x, flag):
        return np.sum(x) if flag else np.sum(x * x)

    x = np.full(2, 3.0)
    cf = dt.compile(f, x, True)                       # a Python bool: static
    close(cf.grad(x, False), dt.grad(f)(x, False))
    assert cf.retraces == 1
    cg = dt.compile(f, x, np.bool_(True))             # a NumPy bool: an input, guarded
    assert guards(cg) == 1
    close(cg.grad(x, np.bool_(False)), dt.grad(f)(x, np.bool_(False)))
    close(cg.grad(x, np.bool_(True)), dt.grad(f)(x, np.bool_(True)))
    assert cg.retraces == 1


def test_index_and_mask_data_arguments_change_per_call():
    def f(x, idx, m):
        return np.sum(x[idx] ** 2) + np.sum(np.where(m, x, 0.0))

    x = np.arange(1.0, 5.0)
    cf = dt.compile(f, x, np.array([0, 1]), np.array([True, False, True, False]))
    for idx, m in (([2, 3], [False, True, True, True]), ([3, 3], [True, True, False, False])):
        idx, m = np.array(idx), np.array(m)
        close(cf(x, idx, m), f(x, idx, m))
        close(cf.grad(x, idx, m), dt.grad(f)(x, idx, m))
    assert cf.retraces == 0


# ---- second order follows the same guards ----

def test_hvp_and_hessian_follow_guards():
    cf = dt.compile(piecewise, 2.0)
    for x in (3.0, 0.5, -1.0, 2.0):
        close(cf.hvp(np.float64(1.0), np.float64(x)), dt.hessian(piecewise)(x))
    assert cf.gradient().retraces == 1


# ---- values rules observe (registry.observe): recomputed or checked, never baked in ----

def test_sort_order_is_guarded():
    f = lambda x: np.sort(x)[0] + 2.0 * np.median(x)
    cf = dt.compile(f, np.array([1.0, 2.0, 3.0]))
    x = np.array([3.0, 0.0, 1.0])
    close(cf(x), f(x))                  # replay gives 5.0, NumPy 2.0
    close(cf.grad(x), dt.grad(f)(x))


def test_hvp_of_max_after_argmax_moves():
    f = lambda x: np.max(x) ** 2
    cf = dt.compile(f, np.array([1.0, 3.0, 2.0]))
    v = np.ones(3)
    close(cf.hvp(v, np.array([1.0, 3.0, 2.0])), dt.hvp(f, np.array([1.0, 3.0, 2.0]), v))
    x = np.array([5.0, 3.0, 2.0])
    close(cf.gradient()(x), dt.grad(f)(x))      # replay gives [0, 10, 0]
    close(cf.hvp(v, x), dt.hvp(f, x, v))        # replay gives [0, 2, 0], eager [2, 0, 0]


def test_hvp_of_maximum_after_the_sign_changes():
    f = lambda x: np.sum(np.maximum(x, 0.0) ** 2)
    cf = dt.compile(f, np.array([1.0, -2.0]))
    v = np.ones(2)
    cf.hvp(v, np.array([1.0, -2.0]))
    x = np.array([-1.0, 2.0])
    close(cf.hvp(v, x), dt.hvp(f, x, v))


def test_hvp_of_prod_after_a_zero_moves():
    f = lambda x: np.prod(x)
    cf = dt.compile(f, np.array([1.0, 0.0, 3.0]))
    v = np.ones(3)
    cf.hvp(v, np.array([1.0, 0.0, 3.0]))
    x = np.array([2.0, 1.0, 3.0])
    close(cf.hvp(v, x), dt.hvp(f, x, v))


@pytest.mark.parametrize("name, f", [
    ("interp", lambda x: np.sum(np.interp(x, [0.0, 1.0, 2.0, 3.0], [0.0, 2.0, -1.0, 4.0]) ** 2)),
    ("nan_to_num", lambda x: np.sum(np.nan_to_num(np.log(x)) * x)),
    ("logsumexp", lambda x: dt_special.logsumexp(3.0 * x) + np.sum(x)),
    ("unwrap", lambda x: np.sum(np.unwrap(4.0 * x) ** 2)),
    ("frexp", lambda x: np.sum(np.frexp(x)[0] * x)),
    ("quantile", lambda x: np.quantile(x, 0.3) ** 2 + np.sum(x)),
    ("prod", lambda x: np.prod(x) ** 2),
])
def test_observed_values_follow_the_input(name, f):
    """Each function's value-dependent choice differs between the two points."""
    a = np.array([0.5, 2.5, 1.2, 0.1])
    b = np.array([2.9, 0.4, 0.0 if name == "prod" else 1.6, 1.1])
    if name == "nan_to_num":
        a, b = np.array([0.5, 2.5, 0.0, 0.1]), np.array([0.0, 0.4, 1.6, 1.1])
    cf = dt.compile(f, a)
    for x in (a, b, a):
        with np.errstate(all="ignore"):   # log(0) in nan_to_num: nan partials, both ways
            close(cf(x), f(x))
            close(cf.grad(x), dt.grad(f)(x))
            close(cf.hvp(np.ones(4), x), dt.hvp(f, x, np.ones(4)))


def test_a_converted_mask_is_checked():
    """np.asarray(mask, float) is a copy no hook sees: the recording notices a constant
    that looks like it and checks the mask instead of trusting it as data."""
    def f(x):
        m = x > 0
        return np.sum(np.where(m, x, 0.0)) + np.sum(x * np.asarray(m, dtype=float))

    cf = dt.compile(f, np.array([1.0, 2.0]))
    x = np.array([-3.0, 4.0])
    close(cf(x), f(x))
    close(cf.grad(x), dt.grad(f)(x))


def test_relu_weights_are_data():
    """The tie weights of np.maximum feed the recorded gradient as data: a sign change
    needs no re-recording for the Hessian-vector product either."""
    f = lambda x: np.sum(np.maximum(x, 0.0) ** 3)
    cf = dt.compile(f, np.array([1.0, -2.0, 0.5]))
    v = np.array([1.0, 2.0, 3.0])
    for x in (np.array([1.0, -2.0, 0.5]), np.array([-1.0, 2.0, 0.5]), np.array([3.0, 1.0, -1.0])):
        close(cf.hvp(v, x), dt.hvp(f, x, v))
        close(cf.grad(x), dt.grad(f)(x))
    assert cf.retraces == 0 and cf.gradient().retraces == 0
