"""Fused primitives of the neural-network layer, registered like any NumPy rule.

Each one replaces a handful of generic tape entries by ONE entry whose rules do
exactly the BLAS calls and reductions of hand-written backpropagation:

* ``linear(x, weight, bias)``: ``x @ weight.T + bias`` (one matmul per needed
  cotangent, no transpose entry, no broadcast-add entry);
* ``batch_norm(x, gamma, beta, eps, stats)``: training-mode batch normalisation with
  the batch mean and the biased batch variance (``stats`` optionally passes them in,
  from :func:`batch_stats`, when the caller needs them anyway);
* ``softmax_cross_entropy(logits, labels)``: mean over the batch of
  ``logsumexp(logits) - logits[label]``, stable by the log-sum-exp trick;
* ``relu`` (derivative 0 at 0, as PyTorch).

The rules are NumPy calls, so they are differentiated themselves (second order);
tangents and cotangents may carry one leading batch axis (``jacfwd``/``jacrev``).
Importing :mod:`dualtape.nn` registers them; their ``sample`` entries feed the
registry-driven tests.

>>> import numpy as np, dualtape as dt
>>> from dualtape.nn import functional as F
>>> float(F.softmax_cross_entropy(np.zeros((2, 4)), labels=np.array([0, 3])))
1.3862943611198906
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..registry import Primitive, sample
from ..rules.kinds import defderiv, shape_of

__all__ = ["batch_norm", "batch_stats", "linear", "log_softmax", "relu", "softmax",
           "softmax_cross_entropy"]


def _lead(t: Any, x: Any) -> int:
    """Number of batch axes (0 or 1) a tangent/cotangent ``t`` carries over ``x``."""
    return len(shape_of(t)) - len(shape_of(x))


def _swap(a: Any) -> Any:
    return np.swapaxes(a, -1, -2)


# ---- linear: x @ W.T + b ----

def _linear_impl(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    out = x @ weight.T
    out += bias
    return out


def _linear_jvp(tangents, ans, args, kwargs):
    (tx, tw, tb), (x, w, b) = tangents, args
    out = None
    if tx is not None:
        out = tx @ _swap(w)
    if tw is not None:
        term = x @ _swap(tw)
        out = term if out is None else out + term
    if tb is not None:
        if _lead(tb, b):
            tb = np.reshape(tb, shape_of(tb)[:1] + (1,) + shape_of(b))
        out = tb if out is None else out + tb
    full = shape_of(out)[:len(shape_of(out)) - 2] + shape_of(ans)
    return out if shape_of(out) == full else np.broadcast_to(out, full)


def _linear_vjp(ct, ans, args, kwargs, needed):
    x, w, b = args
    return [ct @ w if needed[0] else None,
            _swap(ct) @ x if needed[1] else None,
            np.sum(ct, axis=-2) if needed[2] else None]


linear = Primitive("linear", _linear_impl)
linear.jvp, linear.vjp, linear.kind = _linear_jvp, _linear_vjp, "bilinear"
linear.doc = "x @ weight.T + bias for a batch x of shape (B, in)"
sample(linear, ((4, 3),), ((2, 3),), ((2,),))
sample(linear, ((1, 5),), ((3, 5),), ((3,),))


# ---- batch normalisation (training mode: batch statistics) ----

def _mean0(x: Any, axis: int) -> Any:
    """Mean over ``axis`` keeping it (np.sum * 1/n: cheaper than np.mean's bookkeeping)."""
    return np.sum(x, axis=axis, keepdims=True) * (1.0 / shape_of(x)[axis])


def batch_stats(x: np.ndarray, eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mean, sum of squared deviations, 1 / sqrt(biased var + eps))`` of plain ``x``.

    >>> [s.tolist() for s in batch_stats(np.array([[1.0], [3.0]]), eps=0.0)]
    [[2.0], [2.0], [1.0]]
    """
    n = x.shape[0]
    mean = x.sum(axis=0) * (1.0 / n)
    d = x - mean
    d *= d
    ssd = d.sum(axis=0)  # the formulas of BatchNorm1d's recorded step, bit for bit
    return mean, ssd, 1.0 / np.sqrt(ssd * (1.0 / n) + eps)


def _normalise(x: Any, eps: float, stats: tuple | None = None) -> tuple[Any, Any]:
    """``(xhat, 1 / sqrt(var + eps))`` with the batch mean and biased batch variance.

    ``stats = (mean, inv_std)``, computed by the caller from the same plain ``x``, saves
    recomputing them; it is ignored when ``x`` is traced (nested derivatives need the
    statistics as functions of ``x``).
    """
    if type(x) is np.ndarray:  # plain values (first order): fewer temporaries
        if stats is None:
            mean, _, inv_std = batch_stats(x, eps)
        else:
            mean, inv_std = stats
        d = x - mean
        d *= inv_std
        return d, inv_std
    d = x - _mean0(x, 0)
    inv_std = 1.0 / np.sqrt(_mean0(d * d, 0) + eps)
    return d * inv_std, inv_std


def _batch_norm_impl(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
                     eps: float = 1e-5, stats: tuple | None = None) -> np.ndarray:
    mean, inv_std = stats if stats is not None else batch_stats(x, eps)[::2]
    y = x - mean
    y *= inv_std * gamma
    y += beta
    return y


def _batch_norm_jvp(tangents, ans, args, kwargs):
    (tx, tg, tb), (x, gamma, beta) = tangents, args
    xhat, inv_std = _normalise(x, kwargs.get("eps", 1e-5), kwargs.get("stats"))
    out = None
    if tx is not None:  # the Jacobian of x -> xhat, per feature column (symmetric)
        out = (gamma * inv_std) * (tx - _mean0(tx, -2) - xhat * _mean0(tx * xhat, -2))
    for t, v, factor in ((tg, gamma, xhat), (tb, beta, None)):
        if t is None:
            continue
        if _lead(t, v):
            t = np.reshape(t, shape_of(t)[:1] + (1,) + shape_of(v))
        term = t * factor if factor is not None else t
        out = term if out is None else out + term
    full = shape_of(out)[:len(shape_of(out)) - 2] + shape_of(ans)
    return out if shape_of(out) == full else np.broadcast_to(out, full)


def _batch_norm_vjp(ct, ans, args, kwargs, needed):
    x, gamma, _ = args
    xhat, inv_std = _normalise(x, kwargs.get("eps", 1e-5), kwargs.get("stats"))
    d_beta = np.sum(ct, axis=-2)
    d_gamma = np.sum(ct * xhat, axis=-2)
    d_x = None
    if needed[0]:  # gamma/sqrt(var+eps) * (ct - mean(ct) - xhat * mean(ct * xhat))
        n = shape_of(x)[0]
        sb, sg = d_beta, d_gamma
        if _lead(ct, ans):
            sb, sg = (np.reshape(s, shape_of(s)[:1] + (1,) + shape_of(s)[1:]) for s in (sb, sg))
        d_x = (gamma * inv_std) * (ct - (sb + xhat * sg) * (1.0 / n))
    return [d_x, d_gamma if needed[1] else None, d_beta if needed[2] else None]


batch_norm = Primitive("batch_norm", _batch_norm_impl)
batch_norm.jvp, batch_norm.vjp = _batch_norm_jvp, _batch_norm_vjp
batch_norm.doc = ("training-mode BatchNorm1d: (x - mean) / sqrt(biased var + eps) * gamma + beta; "
                  "optional stats=(mean, inv_std) of plain x from batch_stats")
sample(batch_norm, ((5, 3),), ((3,), (0.5, 2.0)), ((3,),), eps=1e-5)
sample(batch_norm, ((4, 2),), ((2,), (0.5, 2.0)), ((2,),), eps=0.1)


# ---- softmax cross-entropy from logits, integer labels, mean over the batch ----

def softmax(z: Any, axis: int = -1) -> Any:
    """Softmax along ``axis``, shifted by the maximum (plain NumPy calls, traceable).

    >>> softmax(np.array([0.0, np.log(3.0)])).round(3)
    array([0.25, 0.75])
    """
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(z: Any, axis: int = -1) -> Any:
    """Log-softmax along ``axis`` with the log-sum-exp trick (traceable).

    >>> np.exp(log_softmax(np.array([1000.0, 1000.0])))
    array([0.5, 0.5])
    """
    s = z - np.max(z, axis=axis, keepdims=True)
    return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))


def _xent_impl(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    s = logits - logits.max(axis=-1, keepdims=True)
    lse = np.log(np.exp(s).sum(axis=-1))
    picked = s[np.arange(len(labels)), labels]
    return np.sum(lse - picked) / len(labels)


def _xent_grad(logits: Any, labels: np.ndarray) -> Any:
    """d loss / d logits = (softmax - onehot) / B."""
    n, c = shape_of(logits)
    if type(logits) is np.ndarray:  # plain values: in place, no one-hot matrix
        p = np.exp(logits - logits.max(axis=-1, keepdims=True))
        p *= 1.0 / (n * p.sum(axis=-1, keepdims=True))
        p[np.arange(n), labels] -= 1.0 / n
        return p
    return (softmax(logits) - np.eye(c)[labels]) * (1.0 / n)


def _xent_jvp(tangents, ans, args, kwargs):
    return np.sum(tangents[0] * _xent_grad(args[0], kwargs["labels"]), axis=(-2, -1))


def _xent_vjp(ct, ans, args, kwargs, needed):
    if _lead(ct, ans):
        ct = np.reshape(ct, shape_of(ct) + (1, 1))
    return [ct * _xent_grad(args[0], kwargs["labels"])]


softmax_cross_entropy = Primitive("softmax_cross_entropy", _xent_impl)
softmax_cross_entropy.jvp, softmax_cross_entropy.vjp = _xent_jvp, _xent_vjp
softmax_cross_entropy.doc = "mean over the batch of logsumexp(logits) - logits[label]"
sample(softmax_cross_entropy, ((4, 3),), labels=np.array([0, 2, 1, 2]))
sample(softmax_cross_entropy, ((1, 5), (-30.0, 30.0)), labels=np.array([4]))


# ---- activations ----

relu = defderiv(Primitive("relu", lambda x: np.maximum(x, 0.0)), lambda ans, x: x > 0)
relu.doc = "max(x, 0) with derivative 0 at 0"
sample(relu, lambda rng: rng.uniform(0.2, 2.0, (3, 4)) * rng.choice([-1.0, 1.0], (3, 4)))
sample(relu, lambda rng: 0.7)
sample(relu, lambda rng: -0.7)
