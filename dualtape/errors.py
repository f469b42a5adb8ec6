"""The typed errors dualtape raises. Each message names the culprit and the way out."""

from __future__ import annotations


class DualtapeError(Exception):
    """Base class of every error dualtape raises on purpose."""


class NoRuleError(DualtapeError, NotImplementedError):
    """A NumPy/SciPy function was called on a traced value but has no derivative rule."""

    def __init__(self, name: str, detail: str = "") -> None:
        self.function_name = name
        msg = (
            f"dualtape has no derivative rule for {name}{detail}. A traced value (Dual or Tensor) "
            f"reached it, and a silently wrong derivative is worse than an error. Ways out:\n"
            f"  * use a supported function (see docs/coverage.md), or\n"
            f"  * register a rule once for both modes:\n"
            f"        prim = dt.primitive({name})\n"
            f"        dt.defvjp(prim, lambda g, ans, x: ...)   # reverse mode\n"
            f"        dt.defjvp(prim, lambda t, ans, x: ...)   # forward mode\n"
            f"    (elementwise: dt.defderiv(prim, lambda ans, x: ...) gives both), or\n"
            f"  * wrap the call in dt.stop_gradient(...) if you really want no derivative."
        )
        super().__init__(msg)


class NonDifferentiableInputError(DualtapeError, TypeError):
    """A derivative was asked of an integer, boolean, complex or non-numeric argument."""


class TracerConversionError(DualtapeError, TypeError):
    """A traced value was converted to a plain number/array, which would drop its derivative."""


class TapeError(DualtapeError, RuntimeError):
    """A tape was used wrongly: backward twice on a freed graph, or after its block closed."""


class ShapeError(DualtapeError, ValueError):
    """Shapes or tree structures given to a transform do not match the function."""


class ArgnumsError(DualtapeError, ValueError):
    """argnums names an argument the function was not called with."""


class MemoryCapError(DualtapeError, MemoryError):
    """A dense result would exceed the memory cap; a matrix-free or sparse method is suggested."""


class DistributedError(DualtapeError, RuntimeError):
    """Work could not be sent to an executor's workers (e.g. an unpicklable function)."""


class ChunkError(DistributedError):
    """One task sent to an executor failed: a chunk of directions, a grid point or a start.

    The message names the task (``label``, e.g. "chunk 2 of 4 (directions 4 to 5 of 8)");
    the worker's exception is chained as ``__cause__``. ``index`` is the task's position.
    """

    def __init__(self, message: str, index: int = -1, label: str = "") -> None:
        super().__init__(message)
        self.index, self.label = index, label

    def __reduce__(self):  # picklable with its attributes (it may cross processes)
        return type(self), (self.args[0], self.index, self.label)
