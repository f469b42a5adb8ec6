"""Random NumPy programs for the reliability fuzzer (helpers, not tests).

A ``Program`` is plain data: input shapes, a seed for the input values and a list of
``S`` steps, each naming an op family of ``OPS`` and the earlier values it reads
(inputs first, then one value per step). Calling it runs the steps with plain NumPy
calls, so the same program runs on arrays, Python floats, Duals and Tensors. Its
``repr`` is valid Python, so a failing example printed by hypothesis can be pasted
into ``@example(...)`` as a regression.

Every op keeps its inputs inside the domain of the primitives it uses (``np.log`` is
applied to ``x*x + 0.5``, ``np.arcsin`` to ``0.9*tanh(x)``, ...). Steps whose value is
non-finite, huge or too large in size are dropped while the program is drawn.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

import dualtape as dt

MAX_SIZE = 24          # elements per value: keeps finite differences cheap
MAX_ABS = 1e3          # values beyond this are dropped (conditioning)

#: Core bugs with an xfail(strict=True) regression test in test_rel_regressions.py. The
#: fuzzer steers around them until they are fixed; delete an entry to fuzz it again.
KNOWN_BUGS: set[str] = {
    "std-zero-variance",  # np.std / np.nanstd of constant data: nan instead of 0
    "eigh-degenerate",    # eigvalsh/eigh eigenvalues at a repeated eigenvalue: nan in reverse
}   # fixed since: "setitem-repeated-index", "where-constant-branch", "interp-list-xp"


# ---- programs as data ----

class S:
    """One step: ``S("sin", 0)`` applies op ``sin`` to value 0; params are keywords."""

    __slots__ = ("op", "args", "params")

    def __init__(self, op: str, *args: int, **params: Any) -> None:
        self.op, self.args, self.params = op, tuple(args), params

    def __repr__(self) -> str:
        parts = [repr(self.op)] + [repr(a) for a in self.args]
        parts += [f"{k}={v!r}" for k, v in sorted(self.params.items())]
        return f"S({', '.join(parts)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, S) and repr(self) == repr(other)

    def __hash__(self) -> int:
        return hash(repr(self))


@dataclass(frozen=True)
class Program:
    """A straight-line program over ``len(shapes)`` inputs; the last value is the output.

    ``scalar`` passes 0-d inputs as Python floats (the scalar fast paths of the core).
    ``scale`` multiplies the random inputs drawn in [-1, 1).
    """

    shapes: tuple
    seed: int
    steps: tuple
    scalar: bool = False
    scale: float = 1.5
    name: str = field(default="program", compare=False)

    def inputs(self) -> list:
        rng = np.random.default_rng(self.seed)
        out = []
        for shape in self.shapes:
            v = np.asarray(rng.uniform(-1.0, 1.0, shape) * self.scale)
            out.append(float(v) if self.scalar and shape == () else v)
        return out

    def __call__(self, *xs: Any) -> Any:
        env = list(xs)
        for step in self.steps:
            env.append(OPS[step.op].fn(*[env[i] for i in step.args], **step.params))
        return env[-1]

    def __repr__(self) -> str:
        steps = "".join(f"\n    {s!r}," for s in self.steps)
        return (f"Program(shapes={self.shapes!r}, seed={self.seed!r}, steps=({steps}\n), "
                f"scalar={self.scalar!r}, scale={self.scale!r})")


@dataclass(frozen=True)
class Op:
    name: str
    fn: Callable
    gen: Callable          # (draw, pool, i) -> (args, params) or None if not applicable


OPS: dict[str, Op] = {}


def op(name: str, gen: Callable | None = None) -> Callable:
    def deco(fn: Callable) -> Callable:
        OPS[name] = Op(name, fn, gen or _unary)
        return fn
    return deco


def const(shape: tuple, cseed: int, lo: float = -1.5, hi: float = 1.5) -> np.ndarray:
    """A constant array (not differentiated) determined by its seed."""
    return np.random.default_rng(cseed + 7919).uniform(lo, hi, shape)


def mask(shape: tuple, mseed: int) -> np.ndarray:
    """A constant boolean mask with at least one True."""
    m = np.random.default_rng(mseed + 104729).random(shape) < 0.5
    if m.size and not m.any():
        m.flat[mseed % m.size] = True
    return m


def shape_of(v: Any) -> tuple:
    return np.shape(v)


def has_methods(v: Any) -> bool:
    """Python floats have no .sum(); NumPy arrays and scalars (and traced values) do."""
    return isinstance(v, (np.ndarray, np.generic))


# ---- parameter generators ----

def _unary(draw, pool, i):
    return (i,), {}


def _axis(draw, nd: int, tuples: bool = True, none: bool = True):
    """None, an int (negative allowed) or a tuple of distinct axes."""
    if nd == 0:
        return None
    choices = ["int"] + (["none"] if none else []) + (["tuple"] if tuples and nd > 1 else [])
    kind = draw(st.sampled_from(choices))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-nd, nd - 1))
    axes = draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True))
    return tuple(a - nd if draw(st.booleans()) else a for a in axes)


def _norm(axis, nd: int) -> tuple:
    if axis is None:
        return tuple(range(nd))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(sorted(a % nd for a in axes))


def _count(shape: tuple, axis) -> int:
    return int(np.prod([shape[a] for a in _norm(axis, len(shape))]))


def _reduce_gen(min_count: int = 1, method: bool = True):
    def gen(draw, pool, i):
        v = pool[i]
        nd = len(shape_of(v))
        axis = _axis(draw, nd)
        if _count(shape_of(v), axis) < min_count:
            return None
        params = {"axis": axis, "keepdims": draw(st.booleans())}
        if method and has_methods(v) and nd and draw(st.booleans()):
            params["method"] = True
        return (i,), params
    return gen


def _bcast_partner_shape(draw, shape: tuple) -> tuple:
    """A shape that broadcasts against ``shape`` (a suffix, with some dims set to 1)."""
    nd = len(shape)
    keep = draw(st.integers(0, nd))
    suffix = shape[nd - keep:]
    out = tuple(1 if draw(st.integers(0, 3)) == 0 else s for s in suffix)
    if draw(st.integers(0, 5)) == 0 and np.prod(shape) * 2 <= MAX_SIZE:
        out = (2,) + (1,) * (nd - len(out)) + out   # grows the result: broadcasting up
    return out


def _binary_gen(draw, pool, i):
    a_shape = shape_of(pool[i])
    mode = draw(st.sampled_from(["pool", "pool", "mean", "const", "float"]))
    swap = draw(st.booleans())
    if mode == "pool":
        cands = [j for j, b in enumerate(pool) if _fits(a_shape, shape_of(b))]
        if not cands:
            return None
        return (i, draw(st.sampled_from(cands))), {"mode": "pool", "swap": swap}
    if mode == "mean":
        return (i, draw(st.integers(0, len(pool) - 1))), {"mode": "mean", "swap": swap}
    if mode == "float":
        return (i,), {"mode": "float", "c": draw(st.sampled_from([-1.25, 0.5, 2.0])),
                      "swap": swap}
    return (i,), {"mode": "const", "shape": _bcast_partner_shape(draw, a_shape),
                  "cseed": draw(st.integers(0, 99)), "swap": swap}


def _fits(a: tuple, b: tuple) -> bool:
    try:
        out = np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return int(np.prod(out)) <= MAX_SIZE


def _partner(a, b=None, *, mode, swap, shape=None, cseed=None, c=None):
    if mode == "mean":
        b = np.mean(b)
    elif mode == "const":
        b = const(shape, cseed)
    elif mode == "float":
        b = c
    return (b, a) if swap else (a, b)


# ---- unary elementwise: domain-safe compositions ----

UNARY: dict[str, Callable] = {
    "sin": np.sin,
    "cos": np.cos,
    "tanh": np.tanh,
    "arctan": np.arctan,
    "arcsinh": np.arcsinh,
    "exp_tanh": lambda x: np.exp(np.tanh(x)),
    "exp_gauss": lambda x: np.exp(-x * x),
    "expm1_sin": lambda x: np.expm1(np.sin(x)),
    "exp2_cos": lambda x: np.exp2(np.cos(x)),
    "log_exp": lambda x: np.log(np.exp(np.tanh(x) * 3.0)),
    "log_sq": lambda x: np.log(x * x + 0.5),
    "log1p_sq": lambda x: np.log1p(x * x),
    "log2_cosh": lambda x: np.log2(np.cosh(np.sin(x) * 2.0)),
    "log10_sq": lambda x: np.log10(x ** 2 + 1.0),
    "sqrt_sq": lambda x: np.sqrt(x * x + 0.25),
    "cbrt": lambda x: np.cbrt(x * x + 0.1),
    "reciprocal": lambda x: np.reciprocal(1.0 + x * x),
    "rational": lambda x: x / (1.0 + x * x),
    "arcsin": lambda x: np.arcsin(0.9 * np.tanh(x)),
    "arccos": lambda x: np.arccos(0.9 * np.sin(x)),
    "arctanh": lambda x: np.arctanh(0.9 * np.tanh(x)),
    "arccosh": lambda x: np.arccosh(1.5 + x * x),
    "tan": lambda x: np.tan(np.tanh(x)),
    "sinh": lambda x: np.sinh(2.0 * np.tanh(x)),
    "cosh": lambda x: np.cosh(np.sin(x)),
    "square": np.square,
    "pow2": lambda x: x ** 2,
    "pow3": lambda x: x ** 3,
    "pow_frac": lambda x: (x * x + 0.5) ** 1.5,
    "pow_neg": lambda x: (x * x + 1.0) ** -0.5,
    "rpow": lambda x: 2.0 ** np.sin(x),
    "float_power": lambda x: np.float_power(x * x + 0.5, 0.7),
    "abs": np.abs,
    "relu": lambda x: np.maximum(x, 0.0),
    "clip": lambda x: np.clip(x, -0.7, 0.7),
    "sinc": np.sinc,
    "neg": lambda x: -x,
    "pos": lambda x: +x,
    "affine": lambda x: 0.75 * x - 0.25,
    "rsub_div": lambda x: 1.0 - 2.0 / (3.0 + np.sin(x)),
    "softplus": lambda x: np.logaddexp(0.0, x),
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-np.clip(x, -30.0, 30.0))),
    "hypot1": lambda x: np.hypot(x, 1.0),
    "radians": lambda x: np.radians(np.degrees(x) * 0.5),
    "fmax_sin": lambda x: np.fmax(x, np.sin(2.0 * x)),
    "remainder": lambda x: np.remainder(x, 0.7),
    "fmod": lambda x: np.fmod(x, 0.9),
    "copysign": lambda x: np.copysign(x, -1.0),
    "where_safe_log": lambda x: np.where(x > 0, np.log1p(np.where(x > 0, x, 0.0)), x),
    "stop_mix": lambda x: np.sin(x - dt.stop_gradient(x) + dt.stop_gradient(x)),
}
for _name, _f in UNARY.items():
    op(_name)(_f)


@op("clip_method", lambda draw, pool, i: ((i,), {}) if has_methods(pool[i]) else None)
def _clip_method(x):
    return x.clip(-0.6, 0.8)


# ---- binary elementwise with broadcasting ----

BINARY: dict[str, Callable] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 0.5),
    "pow": lambda a, b: (a * a + 0.5) ** np.sin(b),
    "maximum": np.maximum,
    "minimum": np.minimum,
    "fmin": np.fmin,
    "logaddexp": np.logaddexp,
    "logaddexp2": np.logaddexp2,
    "arctan2": lambda a, b: np.arctan2(a, 1.0 + b * b),
    "hypot": lambda a, b: np.hypot(a, 0.5 + b * b),
    "np_add": np.add,
    "np_multiply": np.multiply,
    "np_subtract": np.subtract,
    "np_divide": lambda a, b: np.divide(a, np.exp(np.sin(b))),
}
for _name, _f in BINARY.items():
    op(_name, _binary_gen)(lambda a, b=None, _f=_f, **kw: _f(*_partner(a, b, **kw)))


def _where_gen(draw, pool, i):
    found = _binary_gen(draw, pool, i)
    if found is None:
        return None
    args, params = found
    shapes = [shape_of(pool[args[0]]), {"pool": shape_of(pool[args[-1]]), "mean": (),
                                        "float": (), "const": params.get("shape")}[params["mode"]]]
    out = np.broadcast_shapes(*shapes)
    mshape = out[len(out) - draw(st.integers(0, len(out))):]
    params.update(mshape=mshape, mseed=draw(st.integers(0, 99)))
    return args, params


@op("where", _where_gen)
def _where(a, b=None, *, mshape, mseed, **kw):
    return np.where(mask(mshape, mseed), *_partner(a, b, **kw))


# ---- reductions ----

@op("sum", _reduce_gen())
def _sum(a, *, axis, keepdims, method=False):
    return a.sum(axis=axis, keepdims=keepdims) if method else np.sum(a, axis, keepdims=keepdims)


@op("mean", _reduce_gen())
def _mean(a, *, axis, keepdims, method=False):
    return a.mean(axis=axis, keepdims=keepdims) if method else np.mean(a, axis,
                                                                        keepdims=keepdims)


@op("prod", _reduce_gen())
def _prod(a, *, axis, keepdims, method=False):
    return a.prod(axis=axis, keepdims=keepdims) if method else np.prod(a, axis,
                                                                        keepdims=keepdims)


@op("max", _reduce_gen())
def _max(a, *, axis, keepdims, method=False):
    return a.max(axis=axis, keepdims=keepdims) if method else np.max(a, axis, keepdims=keepdims)


@op("min", _reduce_gen())
def _min(a, *, axis, keepdims, method=False):
    return a.min(axis=axis, keepdims=keepdims) if method else np.amin(a, axis,
                                                                       keepdims=keepdims)


@op("var", _reduce_gen(min_count=3))
def _var(a, *, axis, keepdims, method=False):
    return a.var(axis=axis, ddof=1, keepdims=keepdims) if method else np.var(
        a, axis, ddof=1, keepdims=keepdims)


@op("std", _reduce_gen(min_count=2))
def _std(a, *, axis, keepdims, method=False):
    """std with a floor inside the sqrt: sqrt at 0 has no derivative."""
    return np.sqrt(np.var(a, axis, keepdims=keepdims) + 0.05)


@op("logsumexp", _reduce_gen())
def _logsumexp(a, *, axis, keepdims, method=False):
    """The stable formulation with max and a stop_gradient shift (exact for any shift)."""
    m = np.max(a, axis, keepdims=True)
    s = dt.stop_gradient(m) if method else m
    out = s + np.log(np.sum(np.exp(a - s), axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=_norm(axis, np.ndim(out)))


@op("softmax", _reduce_gen())
def _softmax(a, *, axis, keepdims, method=False):
    e = np.exp(a - np.max(a, axis, keepdims=True))
    return e / np.sum(e, axis, keepdims=True)


@op("norm2", _reduce_gen())
def _norm2(a, *, axis, keepdims, method=False):
    return np.sqrt(np.sum(a * a, axis, keepdims=keepdims) + 0.1)


def _cumsum_gen(draw, pool, i):
    nd = len(shape_of(pool[i]))
    axis = None if nd == 0 else draw(st.one_of(st.none(), st.integers(-nd, nd - 1)))
    return (i,), {"axis": axis, "method": has_methods(pool[i]) and draw(st.booleans())}


@op("cumsum", _cumsum_gen)
def _cumsum(a, *, axis, method):
    return a.cumsum(axis=axis) if method else np.cumsum(a, axis=axis)


# ---- shape ----

def _factorizations(size: int, max_nd: int = 4) -> list[tuple]:
    out = []
    for nd in range(0 if size == 1 else 1, max_nd + 1):
        for dims in itertools.product(range(1, size + 1), repeat=nd):
            if int(np.prod(dims)) == size:
                out.append(dims)
    return out


_FACT = {n: _factorizations(n, 3) for n in range(1, MAX_SIZE + 1)}


def _reshape_gen(draw, pool, i):
    v = pool[i]
    shape = draw(st.sampled_from(_FACT[int(np.size(v))]))
    if shape and draw(st.booleans()):
        k = draw(st.integers(0, len(shape) - 1))
        shape = shape[:k] + (-1,) + shape[k + 1:]
    return (i,), {"shape": shape, "method": has_methods(v) and draw(st.booleans())}


@op("reshape", _reshape_gen)
def _reshape(a, *, shape, method):
    return a.reshape(shape) if method else np.reshape(a, shape)


@op("ravel", lambda draw, pool, i: ((i,), {"method": has_methods(pool[i]) and draw(
    st.booleans())}))
def _ravel(a, *, method):
    return a.ravel() if method else np.ravel(a)


def _transpose_gen(draw, pool, i):
    nd = len(shape_of(pool[i]))
    kind = draw(st.sampled_from(["perm", "T", "swap", "move"]))
    if nd < 2 or (kind == "T" and not has_methods(pool[i])):
        return None
    if kind == "perm":
        return (i,), {"kind": kind, "axes": tuple(draw(st.permutations(range(nd))))}
    if kind == "T":
        return (i,), {"kind": kind}
    return (i,), {"kind": kind, "axes": (draw(st.integers(-nd, nd - 1)),
                                         draw(st.integers(-nd, nd - 1)))}


@op("transpose", _transpose_gen)
def _transpose(a, *, kind, axes=None):
    if kind == "perm":
        return np.transpose(a, axes)
    if kind == "T":
        return a.T
    if kind == "swap":
        return np.swapaxes(a, *axes)
    return np.moveaxis(a, *axes)


@op("expand_dims", lambda draw, pool, i: ((i,), {"axis": draw(st.integers(
    -len(shape_of(pool[i])) - 1, len(shape_of(pool[i]))))}))
def _expand_dims(a, *, axis):
    return np.expand_dims(a, axis)


def _squeeze_gen(draw, pool, i):
    shape = shape_of(pool[i])
    ones = [k for k, s in enumerate(shape) if s == 1]
    if not ones:
        return None
    return (i,), {"axis": draw(st.one_of(st.none(), st.sampled_from(ones)))}


@op("squeeze", _squeeze_gen)
def _squeeze(a, *, axis):
    return np.squeeze(a, axis)


@op("flip", lambda draw, pool, i: ((i,), {"axis": _axis(draw, len(shape_of(pool[i])))})
    if shape_of(pool[i]) else None)
def _flip(a, *, axis):
    return np.flip(a, axis)


def _broadcast_gen(draw, pool, i):
    shape = shape_of(pool[i])
    k = draw(st.integers(1, 3))
    new = tuple(k if (s == 1 and draw(st.booleans())) else s for s in shape)
    if draw(st.booleans()):
        new = (k,) + new
    if int(np.prod(new)) > MAX_SIZE:
        return None
    return (i,), {"shape": new}


@op("broadcast_to", _broadcast_gen)
def _broadcast_to(a, *, shape):
    return np.broadcast_to(a, shape)


@op("atleast_2d")
def _atleast_2d(a):
    return np.atleast_2d(a)


@op("copy")
def _copy(a):
    return np.copy(a)


# ---- indexing: basic, integer arrays, masks, newaxis ----

def _index_spec(draw, shape: tuple, for_setitem: bool = False):
    """An index as data: a tuple of ('s', start, stop, step) | ('i', k) | ('a', ints) |
    ('m', mseed, mshape) | ('n',) | ('e',) items. Results are never empty."""
    nd = len(shape)
    if nd == 0:
        return (("e",),) if for_setitem else draw(st.sampled_from([(("n",),), (("e",),)]))
    kind = draw(st.sampled_from(["basic", "basic", "array", "mask", "mask_axis0",
                                 "two_arrays", "newaxis", "element"]))
    if kind == "mask":
        return (("m", draw(st.integers(0, 99)), shape),)
    if kind == "mask_axis0":
        return (("m", draw(st.integers(0, 99)), shape[:1]),)
    if kind == "element":
        return tuple(("i", draw(st.integers(-s, s - 1))) for s in shape)
    if kind == "newaxis" and not for_setitem:
        return draw(st.sampled_from([(("n",),), (("e",), ("n",)), (("s", None, None, None),
                                                                       ("n",))]))[:nd + 1]
    if kind == "two_arrays" and nd >= 2:
        n = draw(st.integers(1, 3))
        first = ("a", tuple(draw(st.integers(-shape[0], shape[0] - 1)) for _ in range(n)))
        last = ("a", tuple(draw(st.integers(-shape[-1], shape[-1] - 1)) for _ in range(n)))
        middle = (("s", None, None, None),) * (nd - 2) if draw(st.booleans()) else ()
        if middle:      # non-adjacent advanced indices: result axes move to the front
            return (first,) + middle + (last,)
        return (first, ("a", tuple(draw(st.integers(-shape[1], shape[1] - 1))
                                   for _ in range(n))))
    ax = draw(st.integers(0, nd - 1))
    s = shape[ax]
    lead = (("s", None, None, None),) * ax
    if kind == "array":
        n = draw(st.integers(1, 4))
        return lead + (("a", tuple(draw(st.integers(-s, s - 1)) for _ in range(n))),)
    if draw(st.booleans()) and not for_setitem:
        return lead + (("i", draw(st.integers(-s, s - 1))),)
    step = draw(st.sampled_from([1, 1, 2, -1, -2]))
    start = draw(st.integers(0, s - 1))
    if step > 0:
        stop = draw(st.integers(start + 1, s))
    else:
        stop = draw(st.integers(-1, start - 1))
        stop = None if stop < 0 else stop
    if draw(st.integers(0, 3)) == 0 and ax == nd - 1 and nd > 1:
        return (("e",), ("s", start, stop, step))
    return lead + (("s", start, stop, step),)


def build_index(spec: tuple) -> tuple:
    out = []
    for item in spec:
        tag = item[0]
        if tag == "s":
            out.append(slice(*item[1:]))
        elif tag == "i":
            out.append(item[1])
        elif tag == "a":
            out.append(np.array(item[1], dtype=np.intp))
        elif tag == "l":
            out.append(list(item[1]))
        elif tag == "m":
            out.append(mask(item[2], item[1]))
        elif tag == "n":
            out.append(None)
        else:
            out.append(Ellipsis)
    return tuple(out)


def _getitem_gen(draw, pool, i):
    if not has_methods(pool[i]):    # a Python float cannot be indexed
        return None
    return (i,), {"idx": _index_spec(draw, shape_of(pool[i]))}


@op("getitem", _getitem_gen)
def _getitem(a, *, idx):
    return a[build_index(idx)]


def _write_index_gen(draw, pool, i):
    """For writes. NumPy lets the last of repeated writes win (z[[0, 0]] = v sets v[1])."""
    shape = shape_of(pool[i])
    if not shape:                    # NumPy scalars do not support item assignment
        return None
    spec = _index_spec(draw, shape, for_setitem=True)
    if "setitem-repeated-index" in KNOWN_BUGS and addressed_twice(shape, spec):
        return None
    return (i,), {"idx": spec, "fill": draw(st.sampled_from(["sin", "sum", "const", "self"]))}


def addressed_twice(shape: tuple, spec: tuple) -> bool:
    """Whether an index names some element more than once (repeated integer entries)."""
    count = np.zeros(shape)
    np.add.at(count, build_index(spec), 1.0)
    return bool(np.any(count > 1))


def _fill_value(a, idx, fill):
    if fill == "sin":
        return np.sin(a[idx]) * 2.0
    if fill == "sum":
        return np.sum(a) * 0.25
    if fill == "const":
        return 0.5
    return a[idx] * a[idx]


@op("zeros_set", _write_index_gen)
def _zeros_set(a, *, idx, fill):
    idx_ = build_index(idx)
    z = np.zeros_like(a)
    z[idx_] = _fill_value(a, idx_, fill)
    return z + 0.1 * a


@op("copy_set", _write_index_gen)
def _copy_set(a, *, idx, fill):
    idx_ = build_index(idx)
    z = a.copy() if has_methods(a) else np.copy(a)
    z[idx_] = _fill_value(a, idx_, fill)
    return z


@op("iadd", _write_index_gen)
def _iadd(a, *, idx, fill):
    idx_ = build_index(idx)
    z = a * 1.0
    z[idx_] += _fill_value(a, idx_, fill)
    return z


@op("mask_zero", lambda draw, pool, i: ((i,), {"mseed": draw(st.integers(0, 99))})
    if shape_of(pool[i]) else None)
def _mask_zero(a, *, mseed):
    z = a * 1.0
    z[mask(np.shape(a), mseed)] = 0.0
    return z


@op("full_like")
def _full_like(a):
    return np.full_like(a, 2.0) * a + np.ones_like(a)


# ---- joining ----

def _join_gen(draw, pool, i):
    shape = shape_of(pool[i])
    kind = draw(st.sampled_from(["concatenate", "stack", "hstack", "vstack"]))
    nd = len(shape)
    if kind == "concatenate" and nd == 0:
        return None
    axis = (draw(st.integers(-nd - 1, nd)) if kind == "stack" else
            draw(st.integers(-nd, nd - 1)) if kind == "concatenate" else None)
    if 2 * int(np.prod(shape)) > MAX_SIZE:
        return None
    other = draw(st.sampled_from(["self", "sin", "pool"]))
    params = {"kind": kind, "axis": axis, "other": other}
    if other == "pool":
        cands = [j for j, b in enumerate(pool) if shape_of(b) == shape]
        return (i, draw(st.sampled_from(cands))), params
    return (i,), params


@op("join", _join_gen)
def _join(a, b=None, *, kind, axis, other):
    b = a if other == "self" else np.sin(a) if other == "sin" else b
    if kind == "concatenate":
        return np.concatenate([a, b], axis=axis)
    if kind == "stack":
        return np.stack([a, b], axis=axis)
    return np.hstack([a, b]) if kind == "hstack" else np.vstack([a, b])


def _stack_scalars_gen(draw, pool, i):
    n = int(np.size(pool[i]))
    ks = tuple(draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=5)))
    return (i,), {"ks": ks}


@op("stack_scalars", _stack_scalars_gen)
def _stack_scalars(a, *, ks):
    """Build an array from traced scalars (the supported way: np.stack, not np.array)."""
    flat = np.ravel(a)
    return np.stack([flat[k] * (j + 1.0) for j, k in enumerate(ks)])


# ---- products ----

def _matmul_gen(draw, pool, i):
    shape = shape_of(pool[i])
    nd = len(shape)
    if nd == 0:
        return None
    side = draw(st.sampled_from(["right", "left", "gram", "vector"]))
    k = draw(st.integers(1, 3))
    how = draw(st.sampled_from(["@", "matmul", "dot"]))
    if side == "right":
        if how == "dot" and nd > 2:
            how = "@"
        out = shape[:-1] + (k,)
        cshape = (shape[-1], k)
    elif side == "left":
        if how == "dot" and nd > 2:
            how = "@"
        cshape = (k, shape[0]) if nd == 1 else (k, shape[-2])
        out = (k,) if nd == 1 else shape[:-2] + (k, shape[-1])
    elif side == "vector":
        cshape = (shape[-1],)
        out = shape[:-1]
    else:
        how = draw(st.sampled_from(["aaT", "aTa", "outer", "inner", "vdot"]))
        cshape = None
        out = (shape[0], shape[0]) if how == "outer" else ()
    if int(np.prod(out)) > MAX_SIZE:
        return None
    return (i,), {"side": side, "how": how, "cshape": cshape, "cseed": draw(st.integers(0, 99))}


@op("matmul", _matmul_gen)
def _matmul(a, *, side, how, cshape, cseed):
    if side == "gram":
        if how == "aaT":
            return a @ np.swapaxes(a, -1, -2) if np.ndim(a) >= 2 else a @ a
        if how == "aTa":
            return np.swapaxes(a, -1, -2) @ a if np.ndim(a) >= 2 else np.dot(a, a)
        flat = np.ravel(a)[: int(np.shape(a)[0])]
        if how == "outer":
            return np.outer(flat, np.sin(flat))
        return np.inner(flat, flat) if how == "inner" else np.vdot(flat, np.cos(flat))
    c = const(cshape, cseed)
    if side == "left":
        return c @ a if how == "@" else np.matmul(c, a) if how == "matmul" else np.dot(c, a)
    return a @ c if how == "@" else np.matmul(a, c) if how == "matmul" else np.dot(a, c)


def _pair_gen(draw, pool, i):
    j = draw(st.integers(0, len(pool) - 1))
    n = min(int(np.size(pool[i])), int(np.size(pool[j])), 4)
    return (i, j), {"n": n, "kind": draw(st.sampled_from(["dot", "outer"]))}


@op("pair", _pair_gen)
def _pair(a, b, *, n, kind):
    """Both operands traced: the bilinear rules see two tangents at once."""
    x, y = np.ravel(a)[:n], np.ravel(b)[:n]
    return np.dot(x, y) if kind == "dot" else np.outer(x, y)


@op("collect", lambda draw, pool, i: None)
def _collect(a, *others):
    """The output plus a small multiple of every value no later step read."""
    for k, o in enumerate(others):
        a = a + np.sum(np.sin(o)) * (0.1 + 0.05 * k)
    return a


# ---- the strategy ----

OP_NAMES = tuple(n for n in OPS if n != "collect")
SHAPE_OPS = ("reshape", "ravel", "transpose", "expand_dims", "squeeze", "flip", "broadcast_to",
             "getitem", "join", "stack_scalars", "matmul", "zeros_set", "copy_set", "iadd",
             "mask_zero", "where", "sum", "mean", "prod", "max", "min", "cumsum", "pair")


@st.composite
def shapes(draw, max_nd: int = 3, max_size: int = 12):
    nd = draw(st.integers(0, max_nd))
    dims = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    while int(np.prod(dims)) > max_size:
        dims = dims[1:]
    return dims


def _ok(v: Any) -> bool:
    a = np.asarray(v)
    return (a.dtype.kind == "f" and 0 < a.size <= MAX_SIZE and bool(np.all(np.isfinite(a)))
            and float(np.max(np.abs(a))) <= MAX_ABS)


@st.composite
def programs(draw, n_inputs: int = 1, max_steps: int = 8, max_size: int = 12,
             scalar_ok: bool = True, library: bool = False):
    """A random Program. Most steps read the newest value (deep nesting); some read an
    older one (fan-out, so adjoints accumulate). ``library=True`` mixes in the ``lib_``
    ops of rel_library (import it first)."""
    lib = tuple(n for n in OPS if n.startswith("lib_")) if library else ()
    in_shapes = tuple(draw(shapes(max_size=max_size)) for _ in range(n_inputs))
    scalar = scalar_ok and any(s == () for s in in_shapes) and draw(st.booleans())
    prog = Program(in_shapes, draw(st.integers(0, 2 ** 16)), (), scalar,
                   draw(st.sampled_from([0.5, 1.5, 3.0])))
    pool = prog.inputs()
    steps = []
    # op names come from a seeded generator: hypothesis' preference for the first element
    # of sampled_from would make most programs chains of np.sin
    picker = random.Random(draw(st.integers(0, 2 ** 32 - 1)))
    n_steps = draw(st.sampled_from(range(1, max_steps + 1)))
    attempts = 0
    while len(steps) < n_steps and attempts < 4 * max_steps:
        attempts += 1
        r = picker.random()
        name = picker.choice(lib if r < 0.5 and lib else SHAPE_OPS if r < 0.7 else OP_NAMES)
        i = len(pool) - 1 if picker.random() < 0.7 else picker.randrange(len(pool))
        found = OPS[name].gen(draw, pool, i)
        if found is None:
            continue
        args, params = found
        with np.errstate(all="ignore"):
            try:
                value = OPS[name].fn(*[pool[a] for a in args], **params)
            except (ValueError, IndexError, TypeError):   # a combination NumPy refuses
                continue
        if not _ok(value):
            continue
        pool.append(value)
        steps.append(S(name, *args, **params))
    if not steps:
        steps.append(S("sin", 0))
    # every value reaches the output, so a wrong derivative anywhere is visible
    used = {a for st_ in steps for a in st_.args}
    dangling = [k for k in range(n_inputs, len(pool) - 1) if k not in used]
    if dangling:
        steps.append(S("collect", len(pool) - 1, *dangling))
    return Program(in_shapes, prog.seed, tuple(steps), scalar, prog.scale)


# ---- reference derivatives ----

def flat_inputs(xs: list) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(x, dtype=float)) for x in xs]) if xs else \
        np.zeros(0)


def split_inputs(v: np.ndarray, like: list) -> list:
    out, start = [], 0
    for x in like:
        n = int(np.size(x))
        piece = v[start:start + n].reshape(np.shape(x))
        out.append(float(piece) if type(x) is float else piece)
        start += n
    return out


def fd_jacobian(fun: Callable, xs: list, h: float = 1e-3) -> np.ndarray:
    """Fourth-order central differences, (m, n) with the inputs flattened and joined.

    Steps are relative to each input's magnitude.
    """
    x0 = flat_inputs(xs)
    cols = []
    for j in range(x0.size):
        hj = h * max(1.0, abs(x0[j]))
        vals = []
        for k in (2, 1, -1, -2):
            x = x0.copy()
            x[j] += k * hj
            with np.errstate(all="ignore"):
                vals.append(np.ravel(np.asarray(fun(*split_inputs(x, xs)), dtype=float)))
        cols.append((-vals[0] + 8 * vals[1] - 8 * vals[2] + vals[3]) / (12 * hj))
    if not cols:
        return np.zeros((int(np.size(fun(*xs))), 0))
    return np.stack(cols, axis=-1)


def as_matrix(blocks: Any, out_size: int, n_args: int) -> np.ndarray:
    """Jacobian blocks (one per argnum, each out.shape + in.shape) as one (m, n) matrix."""
    if n_args == 1:
        blocks = (blocks,)
    return np.concatenate([np.reshape(np.asarray(b, dtype=float), (out_size, -1))
                           for b in blocks], axis=1)
