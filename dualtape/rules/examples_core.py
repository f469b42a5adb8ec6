"""``example`` entries for the handlers of the core rule files (reductions, shape, linalg,
elementwise), kept apart so those files stay about rules. Axis variants (int, tuple,
negative), keepdims and broadcasting are what these cases exercise."""

from __future__ import annotations

import numpy as np

from ..registry import PRIMITIVES, Const
from . import elementwise, linalg, reductions, shape
from .cases import backed_by, example, note

# ---- reductions ----
for _f in (np.sum, np.mean, np.prod, np.max, np.min, np.amax, np.amin):
    example(_f, ((2, 3, 4),), axis=(0, -1))
    example(_f, ((3, 4),), axis=-1, keepdims=True)
    example(_f, ((3,),))
example(np.sum, ((2, 3),), axis=0, initial=1.5)
example(np.max, ((2, 3),), axis=1, initial=0.5, check_order=1)
for _f in (np.var, np.std):
    example(_f, ((3, 4),), axis=0, ddof=1)
    example(_f, ((2, 3, 4),), axis=(1, 2), keepdims=True)
    example(_f, ((5,),))
note("ties share the derivative equally", np.max, np.min)
note("exact at zeros (no division by zero)", np.prod)

# ---- shape ----
example(np.reshape, ((2, 3),), Const((3, -1)))
example(np.ravel, ((2, 3),))
example(np.transpose, ((2, 3, 4),), axes=(1, -1, 0))
example(np.transpose, ((2, 3),))
example(np.swapaxes, ((2, 3, 4),), Const(0), Const(-1))
example(np.moveaxis, ((2, 3, 4),), Const(0), Const(-1))
example(np.moveaxis, ((2, 3, 4),), source=(0, 1), destination=(-1, 0))
example(np.broadcast_to, ((3, 1),), Const((2, 3, 4)))
example(np.expand_dims, ((2, 3),), axis=(0, -1))
example(np.squeeze, ((2, 1, 3, 1),))
example(np.squeeze, ((2, 1, 3, 1),), axis=-1)
example(np.flip, ((2, 3),))
example(np.flip, ((2, 3, 2),), axis=(0, 2))
example(np.copy, ((3,),))
example(np.concatenate, ((2, 3),), ((1, 3),), wrap=lambda f, a, b: f([a, b]))
example(np.concatenate, ((2, 3),), ((2, 1),), wrap=lambda f, a, b: f((a, b), axis=-1))
example(np.concatenate, ((2, 3),), ((2,),), wrap=lambda f, a, b: f([a, b], axis=None))
example(np.stack, ((2, 3),), ((2, 3),), wrap=lambda f, a, b: f([a, b], axis=-1))
example(np.stack, ((),), ((),), wrap=lambda f, a, b: f([a, b * a, 1.0]))
example(np.hstack, ((),), ((3,),), wrap=lambda f, a, b: f([a, b, a * a]))
example(np.hstack, ((2, 3),), ((2, 1),), wrap=lambda f, a, b: f([a, b]))
example(np.vstack, ((3,),), ((2, 3),), wrap=lambda f, a, b: f([a, b]))
example(np.atleast_1d, ((),))
example(np.atleast_2d, ((3,),))
example(np.where, ((2, 3),), ((3,),), wrap=lambda f, a, b: f(a > 0, a, b))
example(np.where, ((3,),), wrap=lambda f, a: f(a > 0, a * a, 0.0))
def _fill_like(f, a, **kw):
    y = f(a, **kw)
    y[...] = a[0] ** 2 if kw else a * a[0, :1]
    return y


for _f in (np.zeros_like, np.ones_like, np.empty_like):
    example(_f, ((2, 3),), wrap=_fill_like)
    example(_f, ((2, 3),), wrap=_fill_like, shape=(3,))
example(np.full_like, ((2, 3),), wrap=lambda f, a: f(a, 2.0) * a)
example(np.full_like, ((2, 3),), ((),), wrap=lambda f, a, b: f(a, b) * a)

# ---- elementwise handlers ----
example(np.clip, ((2, 3),), Const(-1.0), Const(1.0))
example(np.clip, ((2, 3),), ((3,), (-3.0, -2.5)), ((2, 1), (2.5, 3.0)))
example(np.clip, ((4,),), max=0.5)
note("derivative 1 on the closed interval [lo, hi] (ties at the bounds pass it)", np.clip)

# ---- products ----
example(np.matmul, ((2, 3),), ((3,),))
example(np.matmul, ((3,),), ((2, 3, 4),))
example(np.matmul, ((3,),), ((3,),))
example(np.matmul, ((2, 1, 2, 3),), ((3, 3, 2),))
example(np.dot, ((2, 3),), ((3, 4),))
example(np.dot, ((),), ((3,),))
example(np.dot, ((2, 3, 4),), ((4, 2),))
example(np.inner, ((3,),), ((2, 3),))
example(np.inner, ((2, 3),), ((4, 3),))
example(np.vdot, ((2, 3),), ((6,),))
example(np.outer, ((3,),), ((2, 2),))

# ---- handlers that only adapt NumPy's signature to one primitive (coverage labels) ----
backed_by(reductions.sum_, np.sum)
backed_by(reductions.prod, np.prod)
backed_by(PRIMITIVES["max"], np.max, np.amax)
backed_by(PRIMITIVES["min"], np.min, np.amin)
backed_by(reductions.cumsum, np.cumsum)
backed_by(shape.reshape, np.reshape, np.ravel, np.expand_dims, np.squeeze)
backed_by(shape.transpose, np.transpose, np.swapaxes, np.moveaxis)
backed_by(shape.broadcast_to, np.broadcast_to)
backed_by(shape.flip, np.flip)
backed_by(shape.concatenate, np.concatenate)
backed_by(shape.where, np.where)
backed_by(elementwise.clip, np.clip)
backed_by(linalg.matmul2, np.matmul)
