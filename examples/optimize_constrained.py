"""A constrained problem with trust-constr: exact constraint Jacobians and Hessians.

Shows: Hock-Schittkowski problem 71 (the classic IPOPT example),

    minimise   x1 x4 (x1 + x2 + x3) + x3
    subject to x1 x2 x3 x4 >= 25,   x1^2 + x2^2 + x3^2 + x4^2 = 40,   1 <= x <= 5,

solved by ``solvers.minimize(method="trust-constr")``. The constraints are given
as scipy gives them (a dict and a ``NonlinearConstraint`` with only ``fun``);
solvers adds their exact Jacobians and the exact Hessian of the Lagrangian
(objective Hessian plus sum_i v_i Hess c_i), dense here since n = 4. The same
problem with scipy's defaults (finite-difference Jacobians, BFGS Hessians) is
run for comparison, and SLSQP with exact Jacobians too. Known optimum:
f* = 17.0140173 at x* = (1, 4.7429994, 3.8211503, 1.3794082).

Run: python examples/optimize_constrained.py
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import scipy.optimize as so
from scipy.optimize import Bounds, NonlinearConstraint

import solvers

X_STAR = np.array([1.0, 4.7429994, 3.8211503, 1.3794082])
F_STAR = 17.0140173
#: trust-constr stops on its own gtol while the barrier parameter is still ~1e-5 (the
#: bound x1 >= 1 is active); tighter tolerances drive the barrier down.
TIGHT = {"gtol": 1e-12, "xtol": 1e-12, "barrier_tol": 1e-12}


def objective(x):
    return x[0] * x[3] * (x[0] + x[1] + x[2]) + x[2]


def product(x):
    return x[0] * x[1] * x[2] * x[3]


def sphere(x):
    return np.sum(x ** 2)


def show(label: str, res, seconds: float) -> None:
    x = res.x_flat if "x_flat" in res else res.x
    print(f"  {label:<44} f={res.fun:.7f}  |x-x*|={np.max(abs(x - X_STAR)):.1e}  "
          f"nit={res.nit:<4} nfev={res.nfev:<5} {seconds * 1e3:7.1f} ms")


def main() -> None:
    x0 = np.array([1.0, 5.0, 5.0, 1.0])
    bounds = Bounds(np.ones(4), 5 * np.ones(4))
    constraints = [{"type": "ineq", "fun": lambda x: product(x) - 25.0},
                   NonlinearConstraint(sphere, 40.0, 40.0)]
    print("Hock-Schittkowski 71 from x0 = (1, 5, 5, 1):\n")
    t0 = time.perf_counter()
    res = solvers.minimize(objective, x0, method="trust-constr", bounds=bounds,
                           constraints=constraints, options=TIGHT)
    show("solvers trust-constr (exact J, exact Lagrangian H)", res, time.perf_counter() - t0)
    print(f"    constraint Jacobians: {res.ad_calls['constraint_jac']}, constraint Hessians: "
          f"{res.ad_calls['constraint_hess']}, objective Hessians: {res.ad_calls['hess']}")
    print(f"    multipliers: product >= 25: {res.v[0][0]:.6f}, sphere = 40: {res.v[1][0]:.6f}")

    t0 = time.perf_counter()
    res = solvers.minimize(objective, x0, method="trust-constr", bounds=bounds,
                           constraints=constraints, options=TIGHT, hess="hessp")
    show("solvers trust-constr (hess='hessp', matrix-free)", res, time.perf_counter() - t0)

    t0 = time.perf_counter()
    with warnings.catch_warnings():  # BFGS updates warn about zero steps; not the point here
        warnings.simplefilter("ignore", UserWarning)
        ref = so.minimize(objective, x0, method="trust-constr", bounds=bounds, options=TIGHT,
                          constraints=[NonlinearConstraint(lambda x: product(x) - 25.0, 0,
                                                           np.inf),
                                       NonlinearConstraint(sphere, 40.0, 40.0)])
    show("scipy trust-constr (FD Jacobians, BFGS)", ref, time.perf_counter() - t0)

    t0 = time.perf_counter()
    res = solvers.minimize(objective, x0, method="SLSQP", bounds=bounds,
                           constraints=constraints, tol=1e-12)
    show("solvers SLSQP (exact Jacobians)", res, time.perf_counter() - t0)
    print(f"\nKnown optimum f* = {F_STAR}")


if __name__ == "__main__":
    main()
