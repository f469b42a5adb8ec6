"""MGH problems #20-#35: the variable-dimension ones, as factories of ``n`` (and ``m``).

Each factory returns a :class:`TestProblem`; the registry holds the sizes the
paper tabulates. Couplings between neighbouring variables are written as
constant matrices applied with ``@`` (or slices), never as in-place writes, so an
AD tool can trace them. ``f_min`` is NaN when the paper gives no value for that n.
"""

from __future__ import annotations

import numpy as np

from .base import TestProblem, Vector

__all__ = [
    "VARIABLE_PROBLEMS",
    "watson",
    "extended_rosenbrock",
    "extended_powell_singular",
    "penalty_i",
    "penalty_ii",
    "variably_dimensioned",
    "trigonometric",
    "brown_almost_linear",
    "discrete_boundary_value",
    "discrete_integral_equation",
    "broyden_tridiagonal",
    "broyden_banded",
    "linear_full_rank",
    "linear_rank_1",
    "linear_rank_1_zero",
    "chebyquad",
]

_NAN = float("nan")


def _src(k: int) -> str:
    return f"MGH 1981 #{k}"


def _check(ok: bool, what: str) -> None:
    """Reject sizes the paper's definition does not allow, before building matrices."""
    if not ok:
        raise ValueError(what)


def _interleave(parts: list[Vector], k: int) -> Vector:
    """Residuals in the paper's order r[p*j + q] = parts[q][j] without reshape/writes."""
    order = np.arange(len(parts) * k).reshape(len(parts), k).T.ravel()
    return np.concatenate(parts)[order]


def watson(n: int) -> TestProblem:
    """#20, 2 <= n <= 31, m = 31: polynomial fit of a first-order ODE solution."""
    _check(2 <= n <= 31, f"watson needs 2 <= n <= 31, got {n}")
    t = np.arange(1.0, 30.0) / 29.0
    j = np.arange(n)
    vand = t[:, None] ** j  # t^(j-1) for j = 1..n
    deriv = j * t[:, None] ** np.maximum(j - 1, 0)  # (j-1) t^(j-2); column 1 is 0

    def residuals(x: Vector) -> Vector:
        head = deriv @ x - (vand @ x) ** 2 - 1.0
        return np.concatenate([head, np.stack([x[0], x[1] - x[0] ** 2 - 1.0])])

    f_min = {6: 2.28767e-3, 9: 1.39976e-6, 12: 4.72238e-10}.get(n, _NAN)
    return TestProblem(f"watson_{n}", n, 31, residuals, np.zeros(n), f_min, source=_src(20))


def extended_rosenbrock(n: int) -> TestProblem:
    """#21, n even: n/2 uncoupled Rosenbrock valleys."""
    _check(n >= 2 and n % 2 == 0, f"extended_rosenbrock needs even n >= 2, got {n}")
    k = n // 2

    def residuals(x: Vector) -> Vector:
        odd, even = x[0::2], x[1::2]
        return _interleave([10.0 * (even - odd**2), 1.0 - odd], k)

    return TestProblem(f"extended_rosenbrock_{n}", n, n, residuals, np.tile([-1.2, 1.0], k),
                       0.0, np.ones(n), source=_src(21))


def extended_powell_singular(n: int) -> TestProblem:
    """#22, n a multiple of 4: singular Jacobian at the solution."""
    _check(n >= 4 and n % 4 == 0, f"extended_powell_singular needs n = 4k, got {n}")
    k = n // 4

    def residuals(x: Vector) -> Vector:
        a, b, c, d = x[0::4], x[1::4], x[2::4], x[3::4]
        parts = [a + 10.0 * b, np.sqrt(5.0) * (c - d), (b - 2.0 * c) ** 2,
                 np.sqrt(10.0) * (a - d) ** 2]
        return _interleave(parts, k)

    return TestProblem(f"extended_powell_singular_{n}", n, n, residuals,
                       np.tile([3.0, -1.0, 0.0, 1.0], k), 0.0, np.zeros(n), source=_src(22))


def penalty_i(n: int) -> TestProblem:
    """#23, m = n + 1: a tiny-weight penalty term, so the minimum is not at zero."""
    sa = np.sqrt(1e-5)

    def residuals(x: Vector) -> Vector:
        return np.concatenate([sa * (x - 1.0), np.stack([np.sum(x**2) - 0.25])])

    f_min = {4: 2.24997e-5, 10: 7.08765e-5}.get(n, _NAN)
    return TestProblem(f"penalty_i_{n}", n, n + 1, residuals, np.arange(1.0, n + 1),
                       f_min, source=_src(23))


def penalty_ii(n: int) -> TestProblem:
    """#24, m = 2n: exponentials of neighbouring variables plus a weighted norm."""
    sa = np.sqrt(1e-5)
    i = np.arange(2.0, n + 1)
    y = np.exp(i / 10.0) + np.exp((i - 1.0) / 10.0)
    weights = np.arange(n, 0, -1.0)  # n - j + 1

    def residuals(x: Vector) -> Vector:
        e = np.exp(x / 10.0)
        return np.concatenate([
            np.stack([x[0] - 0.2]),
            sa * (e[1:] + e[:-1] - y),
            sa * (e[1:] - np.exp(-0.1)),
            np.stack([np.sum(weights * x**2) - 1.0]),
        ])

    f_min = {4: 9.37629e-6, 10: 2.93660e-4}.get(n, _NAN)
    return TestProblem(f"penalty_ii_{n}", n, 2 * n, residuals, np.full(n, 0.5), f_min,
                       source=_src(24))


def variably_dimensioned(n: int) -> TestProblem:
    """#25, m = n + 2: the last residual is the square of the one before."""
    j = np.arange(1.0, n + 1)

    def residuals(x: Vector) -> Vector:
        s = np.sum(j * (x - 1.0))
        return np.concatenate([x - 1.0, np.stack([s, s**2])])

    return TestProblem(f"variably_dimensioned_{n}", n, n + 2, residuals, 1.0 - j / n, 0.0,
                       np.ones(n), source=_src(25))


def trigonometric(n: int) -> TestProblem:
    """#26, m = n: every residual depends on all variables through a cosine sum."""
    i = np.arange(1.0, n + 1)

    def residuals(x: Vector) -> Vector:
        return n - np.sum(np.cos(x)) + i * (1.0 - np.cos(x)) - np.sin(x)

    return TestProblem(f"trigonometric_{n}", n, n, residuals, np.full(n, 1.0 / n), 0.0,
                       source=_src(26),
                       notes="Local minima abound; for n = 10 solvers usually stop at "
                             "f = 2.79506...e-5.")


def brown_almost_linear(n: int) -> TestProblem:
    """#27, m = n: linear except the last residual, a product of all variables."""

    def residuals(x: Vector) -> Vector:
        head = x[:-1] + np.sum(x) - (n + 1.0)
        # np.prod, not exp(sum(log x)): x may be <= 0, and every AD tool has prod.
        return np.concatenate([head, np.stack([np.prod(x) - 1.0])])

    return TestProblem(f"brown_almost_linear_{n}", n, n, residuals, np.full(n, 0.5), 0.0,
                       np.ones(n), source=_src(27),
                       notes="Also f = 1 at (0, ..., 0, n + 1).")


def _grid(n: int) -> tuple[float, np.ndarray]:
    h = 1.0 / (n + 1)
    return h, h * np.arange(1.0, n + 1)


def discrete_boundary_value(n: int) -> TestProblem:
    """#28, m = n: finite differences of a two-point boundary value problem."""
    h, t = _grid(n)
    lap = 2.0 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)

    def residuals(x: Vector) -> Vector:
        return lap @ x + h**2 * (x + t + 1.0) ** 3 / 2.0

    return TestProblem(f"discrete_boundary_value_{n}", n, n, residuals, t * (t - 1.0), 0.0,
                       source=_src(28))


def discrete_integral_equation(n: int) -> TestProblem:
    """#29, m = n: the integral form of #28, so the Jacobian is dense."""
    h, t = _grid(n)
    lower = np.tril(np.ones((n, n)))  # j <= i
    kernel = lower * np.outer(1.0 - t, t) + (1.0 - lower) * np.outer(t, 1.0 - t)

    def residuals(x: Vector) -> Vector:
        return x + h / 2.0 * (kernel @ (x + t + 1.0) ** 3)

    return TestProblem(f"discrete_integral_equation_{n}", n, n, residuals, t * (t - 1.0), 0.0,
                       source=_src(29))


def broyden_tridiagonal(n: int) -> TestProblem:
    """#30, m = n: tridiagonal Jacobian, x_0 = x_{n+1} = 0."""
    sub, sup = np.eye(n, k=-1), np.eye(n, k=1)

    def residuals(x: Vector) -> Vector:
        return (3.0 - 2.0 * x) * x - sub @ x - 2.0 * (sup @ x) + 1.0

    return TestProblem(f"broyden_tridiagonal_{n}", n, n, residuals, -np.ones(n), 0.0,
                       source=_src(30))


def broyden_banded(n: int, ml: int = 5, mu: int = 1) -> TestProblem:
    """#31, m = n: banded Jacobian (ml = 5 below, mu = 1 above the diagonal)."""
    i, j = np.indices((n, n))
    band = ((j != i) & (j >= i - ml) & (j <= i + mu)).astype(float)

    def residuals(x: Vector) -> Vector:
        return x * (2.0 + 5.0 * x**2) + 1.0 - band @ (x * (1.0 + x))

    return TestProblem(f"broyden_banded_{n}", n, n, residuals, -np.ones(n), 0.0,
                       source=_src(31))


def linear_full_rank(n: int, m: int) -> TestProblem:
    """#32, m >= n: affine residuals; minimum m - n at x = -1."""
    _check(m >= n >= 1, f"linear_full_rank needs m >= n >= 1, got n={n}, m={m}")
    a = np.eye(m, n) - 2.0 / m

    def residuals(x: Vector) -> Vector:
        return a @ x - 1.0

    return TestProblem(f"linear_full_rank_{n}_{m}", n, m, residuals, np.ones(n), float(m - n),
                       -np.ones(n), source=_src(32))


def linear_rank_1(n: int, m: int) -> TestProblem:
    """#33, m >= n: a rank-one Jacobian, so the minimiser is not unique."""
    _check(m >= n >= 1, f"linear_rank_1 needs m >= n >= 1, got n={n}, m={m}")
    a = np.outer(np.arange(1.0, m + 1), np.arange(1.0, n + 1))
    x_min = np.zeros(n)
    x_min[0] = 3.0 / (2 * m + 1)  # any x with sum_j j x_j = 3 / (2m + 1)

    def residuals(x: Vector) -> Vector:
        return a @ x - 1.0

    return TestProblem(f"linear_rank_1_{n}_{m}", n, m, residuals, np.ones(n),
                       m * (m - 1) / (2.0 * (2 * m + 1)), x_min, source=_src(33))


def linear_rank_1_zero(n: int, m: int) -> TestProblem:
    """#34, m >= n: #33 with the first and last rows and columns zeroed."""
    _check(m >= n >= 3, f"linear_rank_1_zero needs m >= n >= 3, got n={n}, m={m}")
    row = np.concatenate([[0.0], np.arange(1.0, m - 1), [0.0]])  # i - 1, zero at ends
    col = np.concatenate([[0.0], np.arange(2.0, n), [0.0]])  # j, zero at ends
    a = np.outer(row, col)
    x_min = np.zeros(n)
    x_min[1] = 1.5 / (2 * m - 3)  # any x with sum_j j x_j (2 <= j < n) = 3 / (2m - 3)

    def residuals(x: Vector) -> Vector:
        return a @ x - 1.0

    return TestProblem(f"linear_rank_1_zero_{n}_{m}", n, m, residuals, np.ones(n),
                       (m * m + 3 * m - 6) / (2.0 * (2 * m - 3)), x_min, source=_src(34))


def chebyquad(n: int, m: int | None = None) -> TestProblem:
    """#35, m >= n: nodes whose shifted-Chebyshev moments match the integrals."""
    m = n if m is None else m
    _check(m >= n >= 1, f"chebyquad needs m >= n >= 1, got n={n}, m={m}")
    i = np.arange(1, m + 1)
    integral = np.where(i % 2 == 0, -1.0 / np.maximum(i**2 - 1.0, 1.0), 0.0)  # odd i: 0

    def residuals(x: Vector) -> Vector:
        y = 2.0 * x - 1.0
        prev, cur, rows = 1.0, y, [y]
        for _ in range(m - 1):  # T_{k+1} = 2 y T_k - T_{k-1}; loop over i, not over x
            prev, cur = cur, 2.0 * y * cur - prev
            rows.append(cur)
        return np.sum(np.stack(rows), axis=1) / n - integral

    # The paper tabulates m = n only: zero for n <= 7 and n = 9 (Gauss quadrature exists).
    f_min = {8: 3.51687e-3, 10: 6.50395e-3}.get(n, 0.0 if n <= 9 else _NAN) if m == n else _NAN
    name = f"chebyquad_{n}" if m == n else f"chebyquad_{n}_{m}"
    return TestProblem(name, n, m, residuals, np.arange(1.0, n + 1) / (n + 1), f_min,
                       source=_src(35))


VARIABLE_PROBLEMS: list[TestProblem] = [
    watson(6),
    watson(9),
    extended_rosenbrock(10),
    extended_rosenbrock(100),
    extended_powell_singular(12),
    penalty_i(4),
    penalty_i(10),
    penalty_ii(4),
    penalty_ii(10),
    variably_dimensioned(10),
    trigonometric(10),
    brown_almost_linear(10),
    discrete_boundary_value(10),
    discrete_integral_equation(10),
    broyden_tridiagonal(10),
    broyden_banded(10),
    linear_full_rank(10, 20),
    linear_rank_1(10, 20),
    linear_rank_1_zero(10, 20),
    chebyquad(8),
    chebyquad(9),
]
