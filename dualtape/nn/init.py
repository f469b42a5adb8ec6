"""Seeded initialisation: one default generator for the nn layer, reset by ``manual_seed``.

Layers take ``rng`` (an int seed or a ``np.random.Generator``); without one they draw
from the default generator, which starts from seed 0, so a script that builds the same
model twice in a fresh process gets the same numbers.

>>> import numpy as np
>>> manual_seed(3); a = uniform((2,), 1.0)
>>> manual_seed(3); bool(np.all(a == uniform((2,), 1.0)))
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["as_generator", "manual_seed", "uniform"]

_default = np.random.default_rng(0)


def manual_seed(seed: int) -> None:
    """Reset the default generator used by layers built without ``rng``."""
    global _default
    _default = np.random.default_rng(seed)


def as_generator(rng: int | np.random.Generator | None) -> np.random.Generator:
    """``rng`` as a Generator: an int seeds a new one; None gives the default generator."""
    if rng is None:
        return _default
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def uniform(shape: tuple, bound: float, rng: Any = None) -> np.ndarray:
    """Float64 samples from uniform(-bound, bound)."""
    return as_generator(rng).uniform(-bound, bound, shape)
