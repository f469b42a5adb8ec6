"""Tensor contractions, all derived from matmul / multiply / sum / transpose / reshape /
diagonal (so both modes and every order come from those rules): tensordot, einsum,
kron, cross, multi_dot, matrix_power, vecdot/matvec/vecmat and the np.linalg aliases.

einsum runs pairwise, left to right: repeated indices within an operand become a
diagonal, indices no one else needs are summed first, and each pair is contracted by
one batched matmul (or a broadcast multiply when nothing is contracted).
"""

from __future__ import annotations

import math
import string

import numpy as np

from ..registry import Const, register_function, register_ufunc
from .cases import example, note
from .construct import diagonal, trace
from .kinds import shape_of
from .linalg import matmul

# ---- tensordot ----


@register_function(np.tensordot)
def tensordot(a, b, axes=2):
    na, nb = len(shape_of(a)), len(shape_of(b))
    if isinstance(axes, (int, np.integer)):
        ax_a, ax_b = list(range(na - axes, na)), list(range(axes))
    else:
        ax_a, ax_b = ([x] if isinstance(x, (int, np.integer)) else list(x) for x in axes)
    ax_a, ax_b = [x % na for x in ax_a], [x % nb for x in ax_b]
    free_a = [i for i in range(na) if i not in ax_a]
    free_b = [i for i in range(nb) if i not in ax_b]
    sa, sb = shape_of(a), shape_of(b)
    k = math.prod(sa[i] for i in ax_a)
    a2 = np.reshape(np.transpose(a, free_a + ax_a), (math.prod(sa[i] for i in free_a), k))
    b2 = np.reshape(np.transpose(b, ax_b + free_b), (k, math.prod(sb[i] for i in free_b)))
    return np.reshape(matmul(a2, b2), tuple(sa[i] for i in free_a) + tuple(sb[i] for i in free_b))


example(np.tensordot, ((2, 3, 4),), ((3, 4, 5),))
example(np.tensordot, ((2, 3, 4),), ((4, 2),), axes=([0, 2], [1, 0]))
example(np.tensordot, ((2,),), ((3,),), axes=0)

# ---- einsum ----


def _parse(subscripts: str, shapes: list) -> tuple[list[str], str]:
    """Explicit per-operand index strings and output string, ellipses expanded."""
    subscripts = subscripts.replace(" ", "")
    ins, arrow, out = subscripts.partition("->")
    terms = ins.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: {len(terms)} subscripts for {len(shapes)} operands")
    used = set(subscripts) - set(".,->")
    free = [c for c in string.ascii_letters if c not in used]
    n_ell = max((len(s) - len(t) + 3 for t, s in zip(terms, shapes) if "..." in t), default=0)
    ell = "".join(free[:n_ell])
    terms = [t.replace("...", ell[n_ell - (len(s) - len(t) + 3):] if n_ell else "")
             for t, s in zip(terms, shapes)]
    if not arrow:
        counts = {c: sum(t.count(c) for t in terms) for c in set("".join(terms)) - set(ell)}
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1))
    else:
        out = out.replace("...", ell)
    return terms, out


def _take_diagonals(x, idx: str):
    while len(set(idx)) < len(idx):
        c = next(c for c in idx if idx.count(c) > 1)
        p = idx.index(c)
        q = idx.index(c, p + 1)
        x = diagonal(x, 0, p, q)
        idx = idx[:p] + idx[p + 1:q] + idx[q + 1:] + c
    return x, idx


def _sum_out(x, idx: str, keep: set):
    axes = tuple(i for i, c in enumerate(idx) if c not in keep)
    if axes:
        x = np.sum(x, axis=axes)
        idx = "".join(c for c in idx if c in keep)
    return x, idx


def _arrange(x, idx: str, order: str, sizes: dict, expand: str = ""):
    """Transpose ``x`` to ``order`` (letters of idx), broadcasting the letters in
    ``expand`` to their full size, and inserting size-1 axes for letters it lacks."""
    x = np.transpose(x, [idx.index(c) for c in order if c in idx])
    present = [c for c in order if c in idx]
    shape = [shape_of(x)[present.index(c)] if c in idx else 1 for c in order]
    x = np.reshape(x, tuple(shape)) if len(shape) != len(present) else x
    if any(c in expand and s != sizes[c] for c, s in zip(order, shape)):
        x = np.broadcast_to(x, tuple(sizes[c] if c in expand else s
                                     for c, s in zip(order, shape)))
    return x


def _pair(a, ia: str, b, ib: str, keep: set, sizes: dict):
    batch = [c for c in ia if c in ib and c in keep]
    contract = [c for c in ia if c in ib and c not in keep]
    fa = [c for c in ia if c not in ib]
    fb = [c for c in ib if c not in ia]
    if not contract:
        order = "".join(batch + fa + fb)
        return _arrange(a, ia, order, sizes) * _arrange(b, ib, order, sizes), order
    ctr = "".join(contract)
    a = _arrange(a, ia, "".join(batch + fa) + ctr, sizes, expand=ctr)
    b = _arrange(b, ib, "".join(batch) + ctr + "".join(fb), sizes, expand=ctr)
    nb_a, nb_b = shape_of(a)[:len(batch)], shape_of(b)[:len(batch)]
    k = math.prod(sizes[c] for c in contract)
    a = np.reshape(a, nb_a + (math.prod(sizes[c] for c in fa), k))
    b = np.reshape(b, nb_b + (k, math.prod(sizes[c] for c in fb)))
    out = matmul(a, b)
    bshape = shape_of(out)[:len(batch)]
    out = np.reshape(out, bshape + tuple(sizes[c] for c in fa) + tuple(sizes[c] for c in fb))
    return out, "".join(batch + fa + fb)


def _from_sublists(operands):
    """einsum(a, [0, 1], b, [1, 2], [0, 2]) -> ('ab,bc->ac', a, b)."""
    def letters(sub):
        return "".join("..." if s is Ellipsis else string.ascii_letters[s] for s in sub)
    out = letters(operands[-1]) if len(operands) % 2 else None
    pairs = operands[:-1] if len(operands) % 2 else operands
    arrays, subs = list(pairs[0::2]), [letters(s) for s in pairs[1::2]]
    return ",".join(subs) + ("->" + out if out is not None else ""), arrays


@register_function(np.einsum)
def einsum(*operands, out=None, optimize=False, **kwargs):
    if out is not None:
        raise NotImplementedError("dualtape: np.einsum(..., out=) on traced values")
    if isinstance(operands[0], str):
        subscripts, arrays = operands[0], list(operands[1:])
    else:
        subscripts, arrays = _from_sublists(operands)
    terms, output = _parse(subscripts, [shape_of(a) for a in arrays])
    sizes: dict = {}
    ops = []
    for x, idx in zip(arrays, terms):
        x, idx = _take_diagonals(x, idx)
        for c, s in zip(idx, shape_of(x)):
            sizes[c] = max(sizes.get(c, 1), s)
        ops.append((x, idx))
    ops = [_sum_out(x, idx, set(output) | {c for j, (_, o) in enumerate(ops) if j != i
                                          for c in o})
           for i, (x, idx) in enumerate(ops)]
    x, idx = ops[0]
    for i in range(1, len(ops)):
        keep = set(output) | {c for _, o in ops[i + 1:] for c in o}
        x, idx = _pair(x, idx, ops[i][0], ops[i][1], keep, sizes)
    x, idx = _sum_out(x, idx, set(output))
    return _arrange(x, idx, output, sizes, expand=output)


example(np.einsum, Const("ij,jk->ik"), ((2, 3),), ((3, 4),))
example(np.einsum, Const("ii->i"), ((3, 3),))
example(np.einsum, Const("ii"), ((3, 3),))
example(np.einsum, Const("ij,ij->"), ((2, 3),), ((2, 3),))
example(np.einsum, Const("bij,bjk->bik"), ((2, 2, 3),), ((2, 3, 2),))
example(np.einsum, Const("...ij,...j->...i"), ((2, 1, 3, 4),), ((5, 4),))
example(np.einsum, Const("i,j,k->ijk"), ((2,),), ((3,),), ((2,),))
example(np.einsum, Const("ij,jk,kl->il"), ((2, 3),), ((3, 2),), ((2, 2),))
example(np.einsum, Const("iij,jk"), ((2, 2, 3),), ((3, 2),))
example(np.einsum, ((2, 3),), Const([0, 1]), ((3,),), Const([1]), Const([0]))
note("any subscripts: repeated indices (diagonals), ellipsis broadcasting, implicit output, "
     "sublist form", np.einsum)

# ---- kron, cross ----


@register_function(np.kron)
def _kron(a, b):
    sa, sb = shape_of(a), shape_of(b)
    nd = max(len(sa), len(sb))
    sa, sb = (1,) * (nd - len(sa)) + sa, (1,) * (nd - len(sb)) + sb
    ra = np.reshape(a, tuple(x for s in sa for x in (s, 1)))
    rb = np.reshape(b, tuple(x for s in sb for x in (1, s)))
    return np.reshape(ra * rb, tuple(x * y for x, y in zip(sa, sb)))


example(np.kron, ((2, 2),), ((3, 2),))
example(np.kron, ((3,),), ((2, 2),))


@register_function(np.cross)
def _cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = np.moveaxis(a, axisa, -1), np.moveaxis(b, axisb, -1)
    na, nb = shape_of(a)[-1], shape_of(b)[-1]
    a0, a1, a2 = a[..., 0], a[..., 1], (a[..., 2] if na == 3 else None)
    b0, b1, b2 = b[..., 0], b[..., 1], (b[..., 2] if nb == 3 else None)
    z = a0 * b1 - a1 * b0
    if a2 is None and b2 is None:
        return z
    x = (a1 * b2 if b2 is not None else 0.0) - (a2 * b1 if a2 is not None else 0.0)
    y = (a2 * b0 if a2 is not None else 0.0) - (a0 * b2 if b2 is not None else 0.0)
    x, y, z = np.broadcast_arrays(x, y, z)
    return np.moveaxis(np.stack([x, y, z], axis=-1), -1, axisc)


example(np.cross, ((3,),), ((3,),))
example(np.cross, ((4, 3),), ((3,),))
example(np.cross, ((3, 2),), ((3, 2),), axis=0)

# ---- chains and powers ----


@register_function(np.linalg.multi_dot)
def _multi_dot(arrays, *, out=None):
    arrays = list(arrays)
    first_1d, last_1d = len(shape_of(arrays[0])) == 1, len(shape_of(arrays[-1])) == 1
    if first_1d:
        arrays[0] = np.reshape(arrays[0], (1, -1))
    if last_1d:
        arrays[-1] = np.reshape(arrays[-1], (-1, 1))
    res = arrays[0]
    for m in arrays[1:]:
        res = matmul(res, m)
    shape = shape_of(res)[1 if first_1d else 0: (-1 if last_1d else None)]
    return np.reshape(res, shape)


example(np.linalg.multi_dot, ((3,),), ((3, 4),), ((4, 2),), ((2,),),
        wrap=lambda f, *xs: f(list(xs)))
example(np.linalg.multi_dot, ((2, 3),), ((3, 4),), ((4, 2),), wrap=lambda f, *xs: f(xs))


@register_function(np.linalg.matrix_power)
def _matrix_power(a, n):
    if n == 0:
        return np.zeros_like(a) + np.eye(shape_of(a)[-1])
    if n < 0:
        a, n = np.linalg.inv(a), -n
    result, base = None, a
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


for _n in (0, 3, -2):
    example(np.linalg.matrix_power, lambda rng: rng.uniform(-1, 1, (3, 3)) + 2 * np.eye(3),
            Const(_n))

# ---- vector products (NumPy 2 ufuncs and the np.linalg array-API names) ----


def _vecdot(x1, x2, /, *, axis=-1, **kw):
    return np.sum(x1 * x2, axis=axis)


def _matvec(x1, x2, /, **kw):
    return matmul(x1, x2[..., None])[..., 0]


def _vecmat(x1, x2, /, **kw):
    return matmul(x1[..., None, :], x2)[..., 0, :]


for _name, _fn in (("vecdot", _vecdot), ("matvec", _matvec), ("vecmat", _vecmat)):
    if isinstance(getattr(np, _name, None), np.ufunc):
        register_ufunc(getattr(np, _name), _fn)
register_function(np.linalg.vecdot)(_vecdot)
register_function(np.linalg.outer)(lambda x1, x2, /: np.outer(x1, x2))
register_function(np.linalg.matmul)(lambda x1, x2, /: matmul(x1, x2))
register_function(np.linalg.tensordot)(lambda x1, x2, /, *, axes=2: tensordot(x1, x2, axes))
register_function(np.linalg.matrix_transpose)(lambda x, /: np.swapaxes(x, -1, -2))
register_function(np.linalg.trace)(lambda x, /, *, offset=0, dtype=None: trace(x, offset, -2,
                                                                               -1))
register_function(np.linalg.diagonal)(lambda x, /, *, offset=0: diagonal(x, offset, -2, -1))
register_function(np.linalg.cross)(lambda x1, x2, /, *, axis=-1: _cross(x1, x2, axis=axis))
for _f in (np.linalg.vecdot, getattr(np, "vecdot", None)):
    if _f is not None:
        example(_f, ((2, 3),), ((3,),))
        example(_f, ((3, 2),), ((3, 1),), axis=0)
if isinstance(getattr(np, "matvec", None), np.ufunc):
    example(np.matvec, ((2, 3, 3),), ((3,),))
    example(np.vecmat, ((3,),), ((2, 3, 4),))
example(np.linalg.outer, ((3,),), ((2,),))
example(np.linalg.matmul, ((2, 3),), ((3,),))
example(np.linalg.tensordot, ((2, 3),), ((3, 2),), axes=1)
example(np.linalg.matrix_transpose, ((2, 3, 4),))
example(np.linalg.trace, ((2, 3, 3),), offset=1)
example(np.linalg.diagonal, ((2, 3, 3),))
example(np.linalg.cross, ((2, 3),), ((2, 3),))
