"""Subscripts, ``x[idx]`` and ``x[idx] = v``: the indexing primitives themselves.

* ``getitem``: a gather, linear in ``x``;
* ``scatter_add``: its transpose, zeros with the cotangent added at ``idx``
  (``np.add.at`` where advanced indices may repeat). A plain reverse-mode cotangent
  is not scattered at all: it goes to the tape as a ``DeferredScatter``, added in place;
* ``setitem`` (``update``): the functional write behind ``__setitem__`` on traced
  values; with repeated advanced indices only the write NumPy keeps (the last) gets a
  cotangent.

The functions built on these (take, sort, roll, select, ...) are in ``indexing.py``.
Batched tangents put their batch axis first; indices are prefixed by ``nb`` slices.
"""

from __future__ import annotations

import numpy as np

from ..registry import Primitive, plain, sample
from .kinds import (
    DeferredScatter,
    align,
    batch_of,
    deflinear,
    shape_of,
    unbroadcast,
    zeros_tangent,
)


def _is_advanced(e) -> bool:
    return isinstance(e, (np.ndarray, list)) or (hasattr(e, "shape") and not
                                                 isinstance(e, (slice, type(Ellipsis))))


def _batch_index(idx: tuple, nb: int) -> tuple[tuple, int]:
    """Prefix ``nb`` full slices; also report how many leading result axes advanced
    indexing moved in front of the batch axis (non-adjacent advanced indices)."""
    if not nb:
        return idx, 0
    adv = any(map(_is_advanced, idx))
    pos = [i for i, e in enumerate(idx)
           if _is_advanced(e) or (adv and isinstance(e, (int, np.integer)))]
    front = 0
    if pos and pos[-1] - pos[0] + 1 != len(pos):
        arrays = [np.asarray(idx[i]) for i in pos]
        shapes = [(int(a.sum()),) if a.dtype == bool else a.shape for a in arrays]
        front = len(np.broadcast_shapes(*shapes))
    return (slice(None),) * nb + idx, front


def _get(t, idx, nb):
    bidx, front = _batch_index(idx, nb)
    out = t[bidx]
    return np.moveaxis(out, front, 0) if front else out


def _scatter_impl(g, idx, shape):
    z = np.zeros(shape, dtype=np.result_type(g))
    if any(map(_is_advanced, idx)):
        np.add.at(z, idx, g)
    else:
        z[idx] = g
    return z


getitem = Primitive("getitem", lambda x, idx: x[idx])
scatter_add = Primitive("scatter_add", _scatter_impl)


def _scatter_batched(g, nb, idx, shape):
    bidx, front = _batch_index(idx, nb)
    if front:
        g = np.moveaxis(g, 0, front)
    return scatter_add(g, idx=bidx, shape=shape_of(g)[:nb] + shape if not front
                       else (shape_of(g)[front],) + shape)


def _getitem_transpose(ct, nb, x, idx):
    if type(ct) is np.ndarray:  # plain cotangent: let the tape add it in place
        bidx, front = _batch_index(idx, nb)
        if not front:
            return DeferredScatter(ct, bidx, shape_of(ct)[:nb] + shape_of(x),
                                   any(map(_is_advanced, idx)))
    return _scatter_batched(ct, nb, idx, shape_of(x))


deflinear(getitem, lambda t, nb, x, idx: _get(t, idx, nb), _getitem_transpose)
deflinear(scatter_add,
          lambda t, nb, g, idx, shape: _scatter_batched(t, nb, idx, shape),
          lambda ct, nb, g, idx, shape: _get(ct, idx, nb))
sample(getitem, ((4, 3),), idx=(slice(1, 3), 0))
sample(getitem, ((4, 3),), idx=(np.array([0, 2, 2]),))
sample(getitem, ((4, 3),), idx=(np.array([[True, False, True]] * 4),))
sample(getitem, ((2, 3, 4),), idx=(np.array([0, 1]), slice(None), np.array([1, 3])))
sample(getitem, ((2, 3),), idx=(Ellipsis, None, 1))
sample(scatter_add, ((3,),), idx=(np.array([0, 2, 0]),), shape=(4,))


def _update_impl(x, v, idx):
    out = np.array(x, dtype=np.result_type(x, v), copy=True)
    out[idx] = v
    return out


update = Primitive("setitem", _update_impl)


def _update_jvp(tangents, ans, args, kwargs):
    x, v = args
    idx = kwargs["idx"]
    tx, tv = tangents
    batch = batch_of(tx, x) if tx is not None else batch_of(tv, v)
    if tx is None:
        tx = zeros_tangent(ans, batch)
    bidx, front = _batch_index(idx, len(batch))
    if tv is None:
        return update(tx, 0.0, idx=bidx)
    if batch:
        region = shape_of(plain(ans)[idx])
        tv = np.broadcast_to(align(tv, shape_of(v), len(region)), batch + region)
        if front:
            tv = np.moveaxis(tv, 0, front)
    return update(tx, tv, idx=bidx)


def _update_vjp(ct, ans, args, kwargs, needed):
    x, v = args
    idx = kwargs["idx"]
    nb = len(shape_of(ct)) - len(shape_of(ans))
    ct_x = update(ct, 0.0, idx=_batch_index(idx, nb)[0]) if needed[0] else None
    ct_v = None
    if needed[1]:
        g = _get(ct, idx, nb)
        if any(map(_is_advanced, idx)):  # repeated indices: only the last write survives
            g = np.where(_last_writes(shape_of(ans), idx), g, 0.0)
        ct_v = unbroadcast(g, shape_of(v), nb)
    return [ct_x, ct_v]


def _last_writes(shape, idx):
    """Mask over the written region: True where that write is the one NumPy keeps."""
    probe = np.full(shape, -1)
    region = np.shape(probe[idx])
    ids = np.arange(int(np.prod(region))).reshape(region)
    probe[idx] = ids
    return probe[idx] == ids


update.jvp, update.vjp, update.kind = _update_jvp, _update_vjp, "linear"
sample(update, ((4, 3),), ((3,),), idx=(1,))
sample(update, ((5,),), ((2,),), idx=(slice(1, 3),))
sample(update, ((4, 3),), ((),), idx=(np.array([0, 2]), slice(None)))
sample(update, ((4,),), ((3,),), idx=(np.array([1, 3, 1]),))  # repeated: the last write wins
