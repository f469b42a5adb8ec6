"""Root finding for a discretised nonlinear PDE with the exact sparse Jacobian.

Shows: the Bratu problem  -laplace(u) = lam * exp(u)  on the unit square with
u = 0 on the boundary, discretised by the 5-point stencil on an N x N interior
grid (N^2 unknowns, residual written in plain NumPy with slices), solved by

* ``solvers.root(method="newton", sparse=True)``: the Jacobian's sparsity pattern
  is detected once, colored (5 colors for a 5-point stencil, whatever N), and each
  exact Jacobian costs ONE forward pass with 5 tangents; the Newton step uses
  ``scipy.sparse.linalg.spsolve`` with a backtracking line search;
* ``solvers.root(method="newton-krylov")``: GMRES on exact Jacobian-vector
  products (forward mode), the Jacobian never formed;
* scipy's ``root(method="krylov")`` (finite-difference products) for comparison.

Run: python examples/optimize_pde_root.py         (DUALTAPE_QUICK=1: a smaller grid)
"""

from __future__ import annotations

import os
import time

import numpy as np
import scipy.optimize as so

import solvers

N = 24 if os.environ.get("DUALTAPE_QUICK") else 64
LAM = 6.0  # below the fold at lam ~ 6.81, where the lower branch ends


def bratu(u, n: int = N, lam: float = LAM):
    """Residual of -laplace(u) - lam exp(u) on the interior grid (u: n*n values)."""
    h2 = 1.0 / (n + 1) ** 2
    U = np.reshape(u, (n, n))
    col = np.zeros((n, 1))
    row = np.zeros((1, n + 2))
    P = np.concatenate([row, np.concatenate([col, U, col], axis=1), row], axis=0)
    lap = (P[:-2, 1:-1] + P[2:, 1:-1] + P[1:-1, :-2] + P[1:-1, 2:] - 4.0 * U) / h2
    return np.ravel(-lap - lam * np.exp(U))


def main() -> None:
    u0 = np.zeros(N * N)
    print(f"Bratu problem, lam = {LAM}, {N} x {N} grid: {N * N} unknowns\n")
    t0 = time.perf_counter()
    sol = solvers.root(bratu, u0, method="newton", sparse=True)
    secs = time.perf_counter() - t0
    print(f"newton, sparse Jacobian:   {sol.message}; {sol.nit} steps, {sol.njev} Jacobians, "
          f"max|F| = {np.max(np.abs(sol.fun)):.1e}, {secs:.2f} s")
    print(f"  max u = {sol.x.max():.6f} (at the centre)")

    t0 = time.perf_counter()
    kry = solvers.root(bratu, u0, method="newton-krylov")
    secs = time.perf_counter() - t0
    print(f"newton-krylov, exact J @ v: {kry.message}; {kry.nit} steps, {kry.njvp} "
          f"Jacobian-vector products, max|F| = {np.max(np.abs(kry.fun)):.1e}, {secs:.2f} s")
    print(f"  max |u_krylov - u_newton| = {np.max(np.abs(kry.x - sol.x)):.1e}")

    t0 = time.perf_counter()
    ref = so.root(bratu, u0, method="krylov", options={"fatol": 1e-8})
    secs = time.perf_counter() - t0
    print(f"scipy krylov (FD J @ v):   success={ref.success}; {ref.nit} steps, "
          f"max|F| = {np.max(np.abs(ref.fun)):.1e}, {secs:.2f} s, "
          f"max |u - u_newton| = {np.max(np.abs(ref.x - sol.x)):.1e}")


if __name__ == "__main__":
    main()
