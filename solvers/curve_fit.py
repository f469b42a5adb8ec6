"""solvers.curve_fit: scipy.optimize.curve_fit with the exact Jacobian of the model.

The Jacobian of ``model(xdata, *params)`` with respect to the parameters is
computed exactly (forward mode: one pass with one tangent per parameter) and
handed to scipy as ``jac``; scipy then applies ``sigma`` and forms the covariance
``pcov`` from it, so ``pcov`` carries no finite-difference error.

With ``compile="auto"`` (the default) the model is recorded once by ``dt.compile``
(``xdata`` a constant of the recording; at the fourth Jacobian, a shorter fit stays
eager) and its Jacobian replayed from generated code; eager for a model that cannot
be recorded (``infodict["compiled"]`` and
``infodict["compile_error"]`` with ``full_output=True``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.optimize as so

from ._errors import ObjectiveError
from ._pytree import ravel_pytree
from ._replay import check_compile
from ._result import compile_report
from ._vector import VectorFunction

__all__ = ["curve_fit"]


def _n_params(model: Callable, p0: Any) -> np.ndarray:
    if p0 is not None:
        return np.atleast_1d(np.asarray(p0, dtype=np.float64)).ravel()
    try:
        params = inspect.signature(model).parameters.values()
    except (TypeError, ValueError) as exc:
        raise ValueError("solvers.curve_fit: cannot count the model's parameters; give p0") \
            from exc
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.kind == p.VAR_POSITIONAL for p in params) or len(positional) < 2:
        raise ValueError("solvers.curve_fit: cannot count the model's parameters; give p0")
    return np.ones(len(positional) - 1)


def curve_fit(f: Callable, xdata: Any, ydata: Any, p0: Any = None, sigma: Any = None,
              absolute_sigma: bool = False, check_finite: bool | None = None,
              bounds: Any = (-np.inf, np.inf), method: str | None = None, *,
              full_output: bool = False, nan_policy: str | None = None,
              compile: Any = "auto", **kwargs: Any) -> tuple:
    """Fit ``ydata ~ f(xdata, *params)``; the covariance uses the exact Jacobian.

    Args:
        f: the model ``f(xdata, p1, p2, ...)`` in plain NumPy.
        xdata, ydata, p0, sigma, absolute_sigma, check_finite, bounds, method,
            full_output, nan_policy: as scipy.optimize.curve_fit (p0 defaults to
            ones, one per parameter of f after the first).
        compile: ``"auto"`` (default): replay the model's Jacobian from a
            ``dt.compile`` recording, eager if the model cannot be recorded; ``True``:
            raise :class:`~solvers.CompileError` instead; ``False``: eager. With
            ``full_output`` the infodict reports ``compiled`` and ``compile_error``.
        **kwargs: passed to scipy's leastsq / least_squares (``jac`` is refused).

    Returns:
        ``(popt, pcov)`` as scipy (plus ``infodict, mesg, ier`` with full_output).

    >>> import numpy as np, solvers
    >>> x = np.linspace(0, 2, 30); y = 3.0 * np.exp(-0.7 * x)
    >>> popt, pcov = solvers.curve_fit(lambda x, a, k: a * np.exp(-k * x), x, y, p0=[1, 1])
    >>> np.round(popt, 6)
    array([3. , 0.7])
    >>> out = solvers.curve_fit(lambda x, a, k: a * np.exp(-k * x), x, y, p0=[1, 1],
    ...                         full_output=True, compile=True)
    >>> out[2]["compiled"], out[2]["compile_error"]
    (True, None)
    """
    compile = check_compile(compile, "curve_fit")
    if "jac" in kwargs:
        raise TypeError("solvers.curve_fit: jac= is not accepted: the Jacobian is exact")
    p_start = _n_params(f, p0)
    n = p_start.size
    _, unravel = ravel_pytree(p_start)

    def make(xd: Any) -> VectorFunction:
        def flat_model(p: Any) -> Any:
            return f(xd, *[p[i] for i in range(n)])
        vf = VectorFunction(flat_model, p_start, unravel, (), "curve_fit", "the model")
        vf.use_compile(compile)
        made.append(vf)
        return vf

    made: list[VectorFunction] = []
    xd0 = np.asarray(xdata, dtype=np.float64) if isinstance(
        xdata, (list, tuple, np.ndarray)) else xdata
    vf0 = make(xd0)
    y_size = np.size(ydata)
    if vf0.m != y_size:
        raise ObjectiveError(f"solvers.curve_fit: the model returns {vf0.m} values at p0 but "
                             f"ydata has {y_size}; they must match")
    vf0.check_jacobian()
    vf0.start()
    state: dict[str, Any] = {"xd": xd0, "vf": vf0}

    def jac(xd: Any, *params: Any) -> np.ndarray:
        if xd is not state["xd"]:  # scipy converted or filtered xdata: differentiate on its own
            state["xd"], state["vf"] = xd, make(xd)
            state["vf"].start()
        return state["vf"].jac(np.asarray(params, dtype=np.float64))

    out = so.curve_fit(f, xdata, ydata, p0=p_start, sigma=sigma, absolute_sigma=absolute_sigma,
                       check_finite=check_finite, bounds=bounds, method=method, jac=jac,
                       full_output=full_output, nan_policy=nan_policy, **kwargs)
    if full_output and isinstance(out[2], dict):
        report = compile_report(so.OptimizeResult(), [r for vf in made for r in vf.replays()])
        out[2]["compiled"], out[2]["compile_error"] = report.compiled, report.compile_error
    return out
