"""Random-program fuzzing: forward mode, reverse mode and finite differences must agree.

Programs are drawn by ``rel_programs.programs`` (compositions of registered primitives
with random shapes, broadcasting, axes, indexing, joins, products and in-place writes).
The budget scales with the hypothesis profile: ``ci`` (default) checks several hundred
programs, ``--hypothesis-profile=long`` (or HYPOTHESIS_PROFILE=long) thousands.
Failures found by the fuzzer stay below as ``@example`` regressions.
"""

from __future__ import annotations

import numpy as np
import rel_library  # noqa: F401  (registers the lib_ ops)
from hypothesis import event, example, given, reject, settings
from hypothesis import strategies as st
from rel_programs import Program, S, as_matrix, const, fd_jacobian, flat_inputs, programs

import dualtape as dt

#: Programs per test = base budget x the profile's factor.
_FACTOR = {"long": 25.0, "dev": 0.25}.get(settings.get_current_profile_name(), 1.0)


def budget(n: int) -> settings:
    return settings(max_examples=max(5, int(n * _FACTOR)))


# ---- tolerances ----

def _max(a: np.ndarray) -> float:
    return float(np.max(np.abs(a))) if np.size(a) else 0.0


def _check(got: np.ndarray, want: np.ndarray, tol: float, what: str, prog: Program) -> None:
    err = _max(np.asarray(got, dtype=float) - np.asarray(want, dtype=float))
    assert err <= tol, (f"{what}: max abs error {err:.3g} exceeds {tol:.3g}\n"
                        f"got:\n{got}\nwant:\n{want}\nprogram: {prog!r}")


def reference(fun, xs: list, scale_values: float) -> tuple[np.ndarray, float]:
    """Finite-difference Jacobian and the tolerance it deserves.

    Two step sizes estimate the finite-difference error; where they disagree badly a
    kink or a pole sits inside the stencil and the example is rejected (the modes are
    still compared with each other elsewhere).
    """
    j1 = fd_jacobian(fun, xs, 1e-3)
    j2 = fd_jacobian(fun, xs, 5e-4)
    est = _max(j1 - j2)
    jscale = max(_max(j1), _max(j2))
    if est > 1e-4 * max(jscale, 1e-6) + 1e-10 * scale_values:
        event("rejected: finite differences not self-consistent (kink or pole)")
        reject()
    tol = 1e-6 * jscale + 4.0 * est + 1e-10 * max(1.0, scale_values)
    return j2, tol


def mode_tol(*mats: np.ndarray) -> float:
    """Forward and reverse mode sum the same products in different orders."""
    return 1e-9 * max([1.0] + [_max(m) for m in mats])


def evaluate(prog: Program) -> tuple[list, np.ndarray]:
    xs = prog.inputs()
    with np.errstate(all="ignore"):
        out = np.asarray(prog(*xs), dtype=float)
    return xs, out


# ---- the properties ----

@budget(300)
@given(prog=programs(n_inputs=1))
@example(prog=Program(shapes=((2, 3),), seed=1, steps=(
    S("copy_set", 0, fill="sin", idx=(("a", (1, 0)),)),
    S("sum", 1, axis=0, keepdims=False))))
@example(prog=Program(shapes=((3,),), seed=0, steps=(   # where: constant branch, chunk=2
    S("sin", 0),
    S("where", 1, c=-1.25, mode="float", mseed=0, mshape=(), swap=False))))
def test_jacfwd_jacrev_and_finite_differences_agree(prog):
    """The Jacobian three ways (and chunked) must agree: no silently wrong derivative."""
    xs, out = evaluate(prog)
    m = out.size
    jf = as_matrix(dt.jacfwd(prog)(*xs), m, 1)
    jr = as_matrix(dt.jacrev(prog)(*xs), m, 1)
    jc = as_matrix(dt.jacfwd(prog, chunk=2)(*xs), m, 1)
    jrc = as_matrix(dt.jacrev(prog, chunk=2)(*xs), m, 1)
    ja = as_matrix(dt.jacobian(prog)(*xs), m, 1)
    tol = mode_tol(jf, jr)
    _check(jr, jf, tol, "jacrev vs jacfwd", prog)
    _check(jc, jf, tol, "jacfwd(chunk=2) vs jacfwd", prog)
    _check(jrc, jr, tol, "jacrev(chunk=2) vs jacrev", prog)
    _check(ja, jf, tol, "jacobian(auto) vs jacfwd", prog)
    fd, fd_tol = reference(prog, xs, max(_max(out), _max(flat_inputs(xs))))
    _check(jf, fd, fd_tol, "jacfwd vs central differences", prog)
    event(f"steps={len(prog.steps)}")


@budget(150)
@given(prog=programs(n_inputs=2, max_size=8))
def test_two_argument_programs(prog):
    """argnums=(0, 1): the blocks of both arguments, in both modes, against differences."""
    xs, out = evaluate(prog)
    m = out.size
    jf = as_matrix(dt.jacfwd(prog, argnums=(0, 1))(*xs), m, 2)
    jr = as_matrix(dt.jacrev(prog, argnums=(0, 1))(*xs), m, 2)
    _check(jr, jf, mode_tol(jf, jr), "jacrev vs jacfwd (argnums=(0, 1))", prog)
    fd, fd_tol = reference(prog, xs, max(_max(out), _max(flat_inputs(xs))))
    _check(jf, fd, fd_tol, "jacfwd vs central differences (argnums=(0, 1))", prog)


def scalarized(prog: Program, out_shape: tuple):
    """sum(w * prog(x)) with fixed random weights: a scalar with a generic Hessian."""
    w = const(out_shape, prog.seed % 97)

    def s(*xs):
        return np.sum(prog(*xs) * w)
    return s


@budget(150)
@given(prog=programs(n_inputs=1, max_steps=6, max_size=8))
def test_hessians_agree(prog):
    """hessian == jacfwd(grad) == jacrev(grad) == differences of grad; symmetric; hvp."""
    xs, out = evaluate(prog)
    s = scalarized(prog, out.shape)
    n = flat_inputs(xs).size
    h = np.reshape(dt.hessian(s)(*xs), (n, n))
    hfg = np.reshape(dt.jacfwd(dt.grad(s))(*xs), (n, n))
    hrg = np.reshape(dt.jacrev(dt.grad(s))(*xs), (n, n))
    tol = 1e-8 * max(1.0, _max(h))
    _check(hfg, h, tol, "jacfwd(grad) vs hessian", prog)
    _check(hrg, h, tol, "jacrev(grad) (reverse-over-reverse) vs hessian", prog)
    _check(h.T, h, tol, "hessian symmetry", prog)
    v = np.random.default_rng(prog.seed).standard_normal(np.shape(xs[0]))
    hv = dt.hvp(s, xs[0], float(v) if isinstance(xs[0], float) else v)
    _check(np.ravel(hv), h @ np.ravel(v), tol * max(1.0, _max(v)) * n, "hvp vs hessian @ v",
           prog)
    g = np.ravel(dt.grad(s)(*xs))
    fd_g, tol_g = reference(s, xs, max(_max(out), _max(flat_inputs(xs))))
    _check(g, np.ravel(fd_g), tol_g, "grad vs central differences", prog)
    fd_h, tol_h = reference(lambda *a: dt.grad(s)(*a), xs, max(1.0, _max(g)))
    _check(h, fd_h, tol_h, "hessian vs central differences of grad", prog)


@budget(200)
@given(prog=programs(n_inputs=1))
@example(prog=Program(shapes=((2,),), seed=0, steps=(   # exact cancellation: J = 0
    S("rational", 0),
    S("where", 1, 0, mode="mean", mseed=0, mshape=(), swap=True),
    S("join", 2, axis=0, kind="concatenate", other="self"),
    S("sub", 3, 0, mode="mean", swap=False))))
def test_dot_product_identity_values_and_object_api(prog):
    """<v, J u> == <J^T v, u>; traced values equal NumPy's; Tensor.backward == vjp."""
    xs, out = evaluate(prog)
    rng = np.random.default_rng(prog.seed + 1)
    u = rng.standard_normal(np.shape(xs[0]))
    u = float(u) if isinstance(xs[0], float) else u
    v = rng.standard_normal(out.shape)
    y, t = dt.jvp(prog, (xs[0],), (u,))
    y2, pull = dt.vjp(prog, xs[0])
    (ct,) = pull(v)
    for val in (y, y2):
        assert isinstance(val, (np.ndarray, np.generic, float)), type(val)
        np.testing.assert_allclose(val, out, rtol=1e-12, atol=1e-12 * max(1.0, _max(out)))
    lhs, rhs = float(np.sum(v * t)), float(np.sum(ct * u))
    # the floor covers products that cancel to 0 (their rounding is relative to the
    # O(1) partials, not to the vanishing result)
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    tol = 1e-9 * (nv * np.linalg.norm(t) + np.linalg.norm(ct) * nu) + 1e-12 * nu * nv
    assert abs(lhs - rhs) <= tol, f"<v, Ju> = {lhs!r} but <J^T v, u> = {rhs!r}\n{prog!r}"
    # the object API (its own recording path) pulls back the same cotangent
    x = dt.Tensor(np.asarray(xs[0], dtype=float), requires_grad=True)
    yt = prog(x)
    if isinstance(yt, dt.Tensor) and yt.requires_grad:
        yt.backward(gradient=v)
        got = x.grad
    else:   # the output does not depend on x
        got = np.zeros(np.shape(xs[0]))
    _check(got, ct, 1e-9 * max(1.0, _max(ct)), "Tensor.backward vs vjp", prog)


@budget(200)
@given(prog=programs(n_inputs=1, max_steps=6, library=True))
def test_library_functions_in_programs(prog):
    """Linear algebra, sorting, statistics, gathers, padding and einsum composed with the
    core families: both modes and both orders against differences."""
    xs, out = evaluate(prog)
    m = out.size
    jf = as_matrix(dt.jacfwd(prog)(*xs), m, 1)
    jr = as_matrix(dt.jacrev(prog)(*xs), m, 1)
    _check(jr, jf, mode_tol(jf, jr), "jacrev vs jacfwd", prog)
    fd, fd_tol = reference(prog, xs, max(_max(out), _max(flat_inputs(xs))))
    _check(jf, fd, fd_tol, "jacfwd vs central differences", prog)
    if flat_inputs(xs).size <= 8:
        s = scalarized(prog, out.shape)
        n = flat_inputs(xs).size
        h = np.reshape(dt.hessian(s)(*xs), (n, n))
        hrg = np.reshape(dt.jacrev(dt.grad(s))(*xs), (n, n))
        tol = 1e-8 * max(1.0, _max(h))
        _check(hrg, h, tol, "jacrev(grad) vs hessian", prog)
        _check(h.T, h, tol, "hessian symmetry", prog)


@budget(100)
@given(prog=programs(n_inputs=1, max_steps=6), bad=st.sampled_from([np.nan, np.inf, -np.inf]),
       where=st.integers(0, 11))
def test_nan_and_inf_inputs_never_crash(prog, bad, where):
    """NaN/inf inputs propagate like NumPy in every transform: results of the right shape
    and traced values equal to NumPy's, never an exception."""
    xs = prog.inputs()
    x = np.array(xs[0], dtype=float)
    x.flat[where % x.size] = bad
    x = float(x) if isinstance(xs[0], float) else x
    with np.errstate(all="ignore"):
        out = np.asarray(prog(x), dtype=float)
        n, m = np.size(x), out.size
        jf = as_matrix(dt.jacfwd(prog)(x), m, 1)
        jr = as_matrix(dt.jacrev(prog)(x), m, 1)
        s = scalarized(prog, out.shape)
        h = np.reshape(dt.hessian(s)(x), (n, n))
        y, _ = dt.jvp(prog, (x,), (x * 0.0 + 1.0,))
    assert jf.shape == jr.shape == (m, n) and h.shape == (n, n)
    np.testing.assert_array_equal(np.asarray(y, dtype=float), out)
