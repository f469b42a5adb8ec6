"""Library op families for the fuzzer: linear algebra, sorting and statistics, gathers,
padding, einsum and friends (the rules beyond the core primitives).

Importing this module registers the ops in ``rel_programs.OPS`` under names starting with
``lib_``; ``programs(library=True)`` draws them. Matrix ops build well-conditioned
matrices from a value (``4 I + ...`` or ``I + B B^T`` with ``tanh``-squashed entries), so
the fuzzer tests derivatives, not conditioning.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from rel_programs import KNOWN_BUGS, MAX_SIZE, OPS, const, has_methods, op, shape_of

LIB = "lib_"


def _vec(a, k: int):
    """k numbers from a (repeated if a is smaller), squashed into (-1, 1)."""
    flat = np.ravel(a)
    n = int(np.size(a))
    if n < k:
        flat = np.concatenate([flat] * (-(-k // n)))
    return np.tanh(flat[:k])


def _general(a, k: int, cseed: int):
    u = _vec(a, k)
    return 4.0 * np.eye(k) + 0.5 * np.outer(u, np.sin(u)) + 0.3 * const((k, k), cseed)


def _spd(a, k: int):
    b = np.reshape(_vec(a, k * k), (k, k))
    return np.eye(k) + b @ np.swapaxes(b, -1, -2)


def _k_gen(draw, pool, i):
    return (i,), {"k": draw(st.integers(2, 3)), "cseed": draw(st.integers(0, 99))}


# ---- linear algebra ----

@op(LIB + "solve", _k_gen)
def _solve(a, *, k, cseed):
    m = _general(a, k, cseed)
    return np.linalg.solve(m, _vec(a * 1.7, k))


@op(LIB + "solve_matrix", _k_gen)
def _solve_matrix(a, *, k, cseed):
    m = _general(a, k, cseed)
    return np.linalg.solve(m, np.reshape(_vec(np.cos(a), 2 * k), (k, 2)))


@op(LIB + "inv", _k_gen)
def _inv(a, *, k, cseed):
    return np.linalg.inv(_general(a, k, cseed))


@op(LIB + "det", _k_gen)
def _det(a, *, k, cseed):
    return np.linalg.det(_general(a, k, cseed))


@op(LIB + "slogdet", _k_gen)
def _slogdet(a, *, k, cseed):
    return np.linalg.slogdet(_spd(a, k))[1]


@op(LIB + "cholesky", _k_gen)
def _cholesky(a, *, k, cseed):
    return np.linalg.cholesky(_spd(a, k))


@op(LIB + "eigh", _k_gen)
def _eigh(a, *, k, cseed):
    """Eigenvalues and squared eigenvectors (the sign of an eigenvector is arbitrary)."""
    w, v = np.linalg.eigh(_spd(a, k) + np.diag(np.arange(k) * 1.0))
    return np.concatenate([w, np.ravel(v * v)])


@op(LIB + "eigvalsh", _k_gen)
def _eigvalsh(a, *, k, cseed):
    shift = np.diag(np.arange(k) * 1.0) if "eigh-degenerate" in KNOWN_BUGS else 0.0
    return np.linalg.eigvalsh(_spd(a, k) + shift)


@op(LIB + "qr", _k_gen)
def _qr(a, *, k, cseed):
    q, r = np.linalg.qr(_general(a, k, cseed))
    return r + q * 0.5


@op(LIB + "svdvals", _k_gen)
def _svdvals(a, *, k, cseed):
    return np.linalg.svdvals(_general(a, k, cseed) + np.diag(np.arange(k) * 1.5))


@op(LIB + "pinv", _k_gen)
def _pinv(a, *, k, cseed):
    return np.linalg.pinv(_general(a, k, cseed))


@op(LIB + "lstsq", _k_gen)
def _lstsq(a, *, k, cseed):
    m = np.concatenate([_general(a, k, cseed), const((1, k), cseed)], axis=0)
    return np.linalg.lstsq(m, _vec(a * 0.9, k + 1))[0]


@op(LIB + "matrix_power", lambda draw, pool, i: ((i,), {"k": draw(st.integers(2, 3)),
                                                        "p": draw(st.integers(0, 3))}))
def _matrix_power(a, *, k, p):
    return np.linalg.matrix_power(np.reshape(_vec(a, k * k), (k, k)), p)


@op(LIB + "multi_dot", _k_gen)
def _multi_dot(a, *, k, cseed):
    m = np.reshape(_vec(a, k * k), (k, k))
    return np.linalg.multi_dot([m, const((k, k), cseed), m, _vec(a, k)])


def _norm_gen(draw, pool, i):
    nd = len(shape_of(pool[i]))
    if nd == 2 and draw(st.booleans()):
        return (i,), {"ord": draw(st.sampled_from([None, "fro", 1, -1, np.inf, 2, "nuc"])),
                      "axis": None}
    if nd == 0:
        return None
    return (i,), {"ord": draw(st.sampled_from([None, 1, 2, 3, np.inf, -np.inf])),
                  "axis": draw(st.integers(-nd, nd - 1)) if nd > 1 else None}


@op(LIB + "norm", _norm_gen)
def _norm(a, *, ord, axis):
    """Shifted away from 0 so the norm stays differentiable."""
    return np.linalg.norm(a + 0.05, ord=ord, axis=axis)


# ---- einsum, tensordot ----

def _einsum_gen(draw, pool, i):
    shape = shape_of(pool[i])
    if not has_methods(pool[i]):
        return None
    letters = "abcd"[:len(shape)]
    out = "".join(draw(st.permutations(letters)))[:draw(st.integers(0, len(letters)))]
    second = draw(st.sampled_from(["none", "self", "const"]))
    sub2 = "".join(c for c in letters if draw(st.booleans()))
    spec = f"{letters},{letters if second == 'self' else sub2}->{out}" if second != "none" \
        else f"{letters}->{out}"
    cshape = tuple(shape[letters.index(c)] for c in sub2)
    return (i,), {"spec": spec, "second": second, "cshape": cshape,
                  "cseed": draw(st.integers(0, 99))}


@op(LIB + "einsum", _einsum_gen)
def _einsum(a, *, spec, second, cshape, cseed):
    if second == "none":
        return np.einsum(spec, a)
    return np.einsum(spec, a, np.sin(a) if second == "self" else const(cshape, cseed))


def _tensordot_gen(draw, pool, i):
    shape = shape_of(pool[i])
    if not shape:
        return None
    n = draw(st.integers(1, min(2, len(shape))))
    return (i,), {"cshape": shape[len(shape) - n:] + (draw(st.integers(1, 3)),), "n": n,
                  "cseed": draw(st.integers(0, 99))}


@op(LIB + "tensordot", _tensordot_gen)
def _tensordot(a, *, cshape, n, cseed):
    return np.tensordot(a, const(cshape, cseed), axes=n)


# ---- sorting and order statistics (kinks at ties) ----

def _axis_gen(extra=None, min_nd: int = 1):
    def gen(draw, pool, i):
        nd = len(shape_of(pool[i]))
        if nd < min_nd or not has_methods(pool[i]):
            return None
        params = {"axis": draw(st.integers(-nd, nd - 1))}
        if extra:
            params.update(extra(draw, shape_of(pool[i]), params["axis"]))
        return (i,), params
    return gen


@op(LIB + "sort", _axis_gen())
def _sort(a, *, axis):
    return np.sort(a, axis=axis) * np.arange(1.0, 1.0 + np.shape(a)[axis]).reshape(
        (-1,) + (1,) * (-axis - 1 if axis < 0 else np.ndim(a) - axis - 1))


@op(LIB + "median", _axis_gen())
def _median(a, *, axis):
    return np.median(a, axis=axis)


@op(LIB + "percentile", _axis_gen(lambda draw, s, ax: {"q": draw(st.sampled_from(
    [10.0, 37.5, 50.0, 90.0]))}))
def _percentile(a, *, axis, q):
    return np.percentile(a, q, axis=axis)


@op(LIB + "quantile", _axis_gen())
def _quantile(a, *, axis):
    return np.quantile(a, [0.25, 0.8], axis=axis)


@op(LIB + "ptp", _axis_gen())
def _ptp(a, *, axis):
    return np.ptp(a, axis=axis)


@op(LIB + "cumprod", _axis_gen())
def _cumprod(a, *, axis):
    return np.cumprod(np.tanh(a) + 1.5, axis=axis)


@op(LIB + "diff", _axis_gen(lambda draw, s, ax: {"n": draw(st.integers(1, max(1, s[ax] - 1)))}))
def _diff(a, *, axis, n):
    return np.diff(a, n=n, axis=axis)


_NAN_KINDS = ["nansum", "nanmean", "nanmax", "nanmin", "nanprod", "nanvar"] + (
    [] if "std-zero-variance" in KNOWN_BUGS else ["nanstd"])


@op(LIB + "nan_reductions", _axis_gen(lambda draw, s, ax: {"kind": draw(st.sampled_from(
    _NAN_KINDS))}))
def _nan_reductions(a, *, axis, kind):
    return getattr(np, kind)(a, axis=axis)


@op(LIB + "average", _axis_gen(lambda draw, s, ax: {"cseed": draw(st.integers(0, 99))}))
def _average(a, *, axis, cseed):
    return np.average(a, axis=axis, weights=const((np.shape(a)[axis],), cseed, 0.1, 2.0))


# ---- gathers, tiling, padding, rolling ----

@op(LIB + "take", _axis_gen(lambda draw, s, ax: {"idx": tuple(draw(st.lists(
    st.integers(-s[ax], s[ax] - 1), min_size=1, max_size=4)))}))
def _take(a, *, axis, idx):
    return np.take(a, np.array(idx), axis=axis)


@op(LIB + "take_along_axis", _axis_gen(lambda draw, s, ax: {"iseed": draw(st.integers(0, 99))}))
def _take_along_axis(a, *, axis, iseed):
    shape = np.shape(a)
    idx = np.random.default_rng(iseed).integers(0, shape[axis], shape)
    return np.take_along_axis(a, idx, axis=axis)


def _tile_gen(draw, pool, i):
    reps = tuple(draw(st.lists(st.integers(1, 2), min_size=1, max_size=3)))
    n = int(np.size(pool[i])) * int(np.prod(reps))
    return ((i,), {"reps": reps}) if n <= MAX_SIZE else None


@op(LIB + "tile", _tile_gen)
def _tile(a, *, reps):
    return np.tile(a, reps)


@op(LIB + "repeat", _axis_gen(lambda draw, s, ax: {"r": draw(st.integers(1, 2))}))
def _repeat(a, *, axis, r):
    return np.repeat(a, r, axis=axis)


def _pad_gen(draw, pool, i):
    shape = shape_of(pool[i])
    if not shape or not has_methods(pool[i]):
        return None
    mode = draw(st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap"]))
    widths = tuple((draw(st.integers(0, 1)), draw(st.integers(0, 1))) for _ in shape)
    if mode == "reflect" and any(s < 2 for s in shape):
        mode = "edge"
    size = int(np.prod([s + w0 + w1 for s, (w0, w1) in zip(shape, widths)]))
    return ((i,), {"widths": widths, "mode": mode}) if size <= MAX_SIZE else None


@op(LIB + "pad", _pad_gen)
def _pad(a, *, widths, mode):
    return np.pad(a, widths, mode=mode)


@op(LIB + "roll", _axis_gen(lambda draw, s, ax: {"shift": draw(st.integers(-3, 3))}))
def _roll(a, *, axis, shift):
    return np.roll(a, shift, axis=axis)


@op(LIB + "rot90", _axis_gen(lambda draw, s, ax: {"k": draw(st.integers(-1, 2))}, min_nd=2))
def _rot90(a, *, axis, k):
    return np.rot90(a, k)


@op(LIB + "tri", _axis_gen(lambda draw, s, ax: {"k": draw(st.integers(-1, 1)),
                                                "upper": draw(st.booleans())}, min_nd=2))
def _tri(a, *, axis, k, upper):
    return np.triu(a, k) if upper else np.tril(a, k)


@op(LIB + "diag", _axis_gen(lambda draw, s, ax: {"k": draw(st.integers(-1, 1))}))
def _diag(a, *, axis, k):
    """diag of a 1-D value builds a matrix; of a 2-D value reads a diagonal."""
    if np.ndim(a) > 2:
        return np.diagonal(a, k, axis1=axis, axis2=(axis + 1) % np.ndim(a))
    if np.ndim(a) == 2 and min(np.shape(a)) <= abs(k):
        k = 0
    return np.diag(a, k)


@op(LIB + "trace", _axis_gen(min_nd=2))
def _trace(a, *, axis):
    return np.trace(a)


@op(LIB + "kron", _axis_gen(lambda draw, s, ax: {"cseed": draw(st.integers(0, 99))}))
def _kron(a, *, axis, cseed):
    return np.kron(a, const((2,) + (1,) * (np.ndim(a) - 1), cseed)) \
        if 2 * np.size(a) <= MAX_SIZE else a


@op(LIB + "split", _axis_gen(lambda draw, s, ax: {"at": draw(st.integers(1, max(1, s[ax] - 1))),
                                                  "part": draw(st.integers(0, 1))}))
def _split(a, *, axis, at, part):
    pieces = np.split(a, [at], axis=axis)
    return pieces[part] if np.size(pieces[part]) else pieces[0]


@op(LIB + "delete", _axis_gen(lambda draw, s, ax: {"j": draw(st.integers(0, s[ax] - 1))}))
def _delete(a, *, axis, j):
    return np.delete(a, j, axis=axis) if np.shape(a)[axis] > 1 else a


@op(LIB + "append", _axis_gen())
def _append(a, *, axis):
    return np.append(a, np.sin(a), axis=axis) if 2 * np.size(a) <= MAX_SIZE else a


# ---- statistics, polynomials, signals ----

@op(LIB + "cov", _axis_gen(min_nd=2))
def _cov(a, *, axis):
    m = np.reshape(a, (np.shape(a)[0], -1))
    return np.cov(m) if np.shape(m)[1] > 1 else m


@op(LIB + "polyval", lambda draw, pool, i: ((i,), {"t": draw(st.sampled_from([-0.7, 0.3, 1.2]))}))
def _polyval(a, *, t):
    """The coefficients traced, and the point traced too."""
    c = np.ravel(a)[:4] if np.ndim(a) else np.stack([a, a * 0.5])
    return np.polyval(c, t) + np.polyval(np.array([0.3, -1.0, 2.0]), np.tanh(c))


@op(LIB + "interp", lambda draw, pool, i: ((i,), {"as_list": draw(st.booleans()) and
                                                  "interp-list-xp" not in KNOWN_BUGS}))
def _interp(a, *, as_list):
    xp, fp = [-2.0, -0.5, 0.4, 2.0], [1.0, -1.0, 0.5, 2.0]
    if not as_list:
        xp, fp = np.array(xp), np.array(fp)
    return np.interp(np.tanh(a) * 1.9, xp, fp)


@op(LIB + "convolve", lambda draw, pool, i: ((i,), {"mode": draw(st.sampled_from(
    ["full", "same", "valid"]))}) if 0 < np.ndim(pool[i]) and np.size(pool[i]) <= 8 else None)
def _convolve(a, *, mode):
    v = np.ravel(a)
    return np.convolve(v, np.cos(v[:2]), mode=mode)


@op(LIB + "cross", lambda draw, pool, i: ((i,), {"cseed": draw(st.integers(0, 99))}))
def _cross(a, *, cseed):
    return np.cross(_vec(a, 3) * 2.0, const((3,), cseed))


@op(LIB + "linspace", lambda draw, pool, i: ((i,), {"n": draw(st.integers(2, 5))}))
def _linspace(a, *, n):
    s = np.sum(a)
    return np.linspace(s, 2.0 * np.sin(s), n)


@op(LIB + "block", _axis_gen(min_nd=2))
def _block(a, *, axis):
    return np.block([[a, np.sin(a)]]) if 2 * np.size(a) <= MAX_SIZE else a


@op(LIB + "select", lambda draw, pool, i: ((i,), {}))
def _select(a):
    return np.select([a > 0.5, a < -0.5], [a * a, np.sin(a)], default=0.5 * a)


@op(LIB + "stacks", lambda draw, pool, i: ((i,), {"kind": draw(st.sampled_from(
    ["column_stack", "dstack", "unstack", "broadcast_arrays"]))})
    if has_methods(pool[i]) and 2 * np.size(pool[i]) <= MAX_SIZE else None)
def _stacks(a, *, kind):
    if kind == "unstack":
        return np.unstack(a)[-1] if np.ndim(a) else a
    if kind == "broadcast_arrays":
        x, y = np.broadcast_arrays(a, np.sum(a))
        return x * y
    return getattr(np, kind)([a, np.cos(a)])


@op(LIB + "gradient", _axis_gen(lambda draw, s, ax: {}))
def _gradient(a, *, axis):
    return np.gradient(a, axis=axis) if np.shape(a)[axis] > 1 else a


@op(LIB + "trapezoid", _axis_gen())
def _trapezoid(a, *, axis):
    return np.trapezoid(a, axis=axis)


LIB_NAMES = tuple(n for n in OPS if n.startswith(LIB))
