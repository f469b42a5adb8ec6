"""MGH problems #1-#19: the fixed-dimension ones, most of them data-fitting.

Each residual function follows the paper's numbering: ``r[i-1]`` is the paper's
``f_i``. Data tables are transcribed from the paper. Where the paper prints a
minimiser only to 4-6 digits, ``x_min`` holds that point refined numerically here
(Levenberg-Marquardt at tight tolerance); it agrees with every digit the paper
prints and reproduces the published ``f_min``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .base import TestProblem, Vector

__all__ = ["FIXED_PROBLEMS"]

_I3 = np.arange(1.0, 4.0)  # i = 1..3
_I10 = np.arange(1.0, 11.0)  # i = 1..10
_I15 = np.arange(1.0, 16.0)  # i = 1..15


def _rosenbrock(x: Vector) -> Vector:
    return np.stack([10.0 * (x[1] - x[0] ** 2), 1.0 - x[0]])


def _freudenstein_roth(x: Vector) -> Vector:
    return np.stack(
        [
            -13.0 + x[0] + ((5.0 - x[1]) * x[1] - 2.0) * x[1],
            -29.0 + x[0] + ((x[1] + 1.0) * x[1] - 14.0) * x[1],
        ]
    )


def _powell_badly_scaled(x: Vector) -> Vector:
    return np.stack([1e4 * x[0] * x[1] - 1.0, np.exp(-x[0]) + np.exp(-x[1]) - 1.0001])


def _brown_badly_scaled(x: Vector) -> Vector:
    return np.stack([x[0] - 1e6, x[1] - 2e-6, x[0] * x[1] - 2.0])


_BEALE_Y = np.array([1.5, 2.25, 2.625])


def _beale(x: Vector) -> Vector:
    return _BEALE_Y - x[0] * (1.0 - x[1] ** _I3)


def _jennrich_sampson(x: Vector) -> Vector:
    return 2.0 + 2.0 * _I10 - (np.exp(_I10 * x[0]) + np.exp(_I10 * x[1]))


def _helical_valley(x: Vector) -> Vector:
    # The paper's theta is arctan(x2/x1)/(2 pi), plus 1/2 when x1 < 0: an angle in
    # (-1/4, 3/4] turns, cut along the negative x2 axis. arctan2(-x1, x2) is the
    # same angle minus a quarter turn with the same cut, so this is smooth wherever
    # the paper's formula is and needs no Python branch on x.
    theta = np.arctan2(-x[0], x[1]) / (2.0 * np.pi) + 0.25
    return np.stack(
        [
            10.0 * (x[2] - 10.0 * theta),
            10.0 * (np.sqrt(x[0] ** 2 + x[1] ** 2) - 1.0),
            x[2],
        ]
    )


# fmt: off
_BARD_Y = np.array([0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39,
                    0.37, 0.58, 0.73, 0.96, 1.34, 2.10, 4.39])
# fmt: on
_BARD_V = 16.0 - _I15
_BARD_W = np.minimum(_I15, _BARD_V)


def _bard(x: Vector) -> Vector:
    return _BARD_Y - (x[0] + _I15 / (_BARD_V * x[1] + _BARD_W * x[2]))


# fmt: off
_GAUSS_Y = np.array([0.0009, 0.0044, 0.0175, 0.0540, 0.1295, 0.2420, 0.3521, 0.3989,
                     0.3521, 0.2420, 0.1295, 0.0540, 0.0175, 0.0044, 0.0009])
# fmt: on
_GAUSS_T = (8.0 - _I15) / 2.0


def _gaussian(x: Vector) -> Vector:
    return x[0] * np.exp(-x[1] * (_GAUSS_T - x[2]) ** 2 / 2.0) - _GAUSS_Y


# fmt: off
_MEYER_Y = np.array([34780., 28610., 23650., 19630., 16370., 13720., 11540., 9744.,
                     8261., 7030., 6005., 5147., 4427., 3820., 3307., 2872.])
# fmt: on
_MEYER_T = 45.0 + 5.0 * np.arange(1.0, 17.0)


def _meyer(x: Vector) -> Vector:
    return x[0] * np.exp(x[1] / (_MEYER_T + x[2])) - _MEYER_Y


# m = 99: the paper allows n <= m <= 100. At m = 100, t = 1 and y = 25 exactly, so
# |y - x2| = 0 at the solution and d/dx3 of |y - x2|**x3 involves log(0).
_GULF_T = np.arange(1.0, 100.0) / 100.0
_GULF_Y = 25.0 + (-50.0 * np.log(_GULF_T)) ** (2.0 / 3.0)


def _gulf_research(x: Vector) -> Vector:
    # np.abs is part of the formula; it is smooth here since y_i > 25 > x2 nearby.
    return np.exp(-(np.abs(_GULF_Y - x[1]) ** x[2]) / x[0]) - _GULF_T


_BOX_T = 0.1 * _I10
_BOX_C = np.exp(-_BOX_T) - np.exp(-10.0 * _BOX_T)


def _box_3d(x: Vector) -> Vector:
    return np.exp(-_BOX_T * x[0]) - np.exp(-_BOX_T * x[1]) - x[2] * _BOX_C


def _powell_singular(x: Vector) -> Vector:
    return np.stack(
        [
            x[0] + 10.0 * x[1],
            np.sqrt(5.0) * (x[2] - x[3]),
            (x[1] - 2.0 * x[2]) ** 2,
            np.sqrt(10.0) * (x[0] - x[3]) ** 2,
        ]
    )


def _wood(x: Vector) -> Vector:
    return np.stack(
        [
            10.0 * (x[1] - x[0] ** 2),
            1.0 - x[0],
            np.sqrt(90.0) * (x[3] - x[2] ** 2),
            1.0 - x[2],
            np.sqrt(10.0) * (x[1] + x[3] - 2.0),
            (x[1] - x[3]) / np.sqrt(10.0),
        ]
    )


# fmt: off
_KO_Y = np.array([0.1957, 0.1947, 0.1735, 0.1600, 0.0844, 0.0627,
                  0.0456, 0.0342, 0.0323, 0.0235, 0.0246])
_KO_U = np.array([4.0, 2.0, 1.0, 0.5, 0.25, 0.167, 0.125, 0.1, 0.0833, 0.0714, 0.0625])
# fmt: on


def _kowalik_osborne(x: Vector) -> Vector:
    u = _KO_U
    return _KO_Y - x[0] * (u**2 + u * x[1]) / (u**2 + u * x[2] + x[3])


_BD_T = np.arange(1.0, 21.0) / 5.0  # m = 20


def _brown_dennis(x: Vector) -> Vector:
    a = x[0] + _BD_T * x[1] - np.exp(_BD_T)
    b = x[2] + x[3] * np.sin(_BD_T) - np.cos(_BD_T)
    return a**2 + b**2


# fmt: off
_OS1_Y = np.array([0.844, 0.908, 0.932, 0.936, 0.925, 0.908, 0.881, 0.850, 0.818, 0.784,
                   0.751, 0.718, 0.685, 0.658, 0.628, 0.603, 0.580, 0.558, 0.538, 0.522,
                   0.506, 0.490, 0.478, 0.467, 0.457, 0.448, 0.438, 0.431, 0.424, 0.420,
                   0.414, 0.411, 0.406])
# fmt: on
_OS1_T = 10.0 * np.arange(33.0)


def _osborne_1(x: Vector) -> Vector:
    t = _OS1_T
    return _OS1_Y - (x[0] + x[1] * np.exp(-t * x[3]) + x[2] * np.exp(-t * x[4]))


_BIGGS_T = 0.1 * np.arange(1.0, 14.0)  # m = 13
_BIGGS_Y = np.exp(-_BIGGS_T) - 5.0 * np.exp(-10.0 * _BIGGS_T) + 3.0 * np.exp(-4.0 * _BIGGS_T)


def _biggs_exp6(x: Vector) -> Vector:
    t = _BIGGS_T
    return (
        x[2] * np.exp(-t * x[0])
        - x[3] * np.exp(-t * x[1])
        + x[5] * np.exp(-t * x[4])
        - _BIGGS_Y
    )


# fmt: off
_OS2_Y = np.array([
    1.366, 1.191, 1.112, 1.013, 0.991, 0.885, 0.831, 0.847, 0.786, 0.725, 0.746, 0.679,
    0.608, 0.655, 0.616, 0.606, 0.602, 0.626, 0.651, 0.724, 0.649, 0.649, 0.694, 0.644,
    0.624, 0.661, 0.612, 0.558, 0.533, 0.495, 0.500, 0.423, 0.395, 0.375, 0.372, 0.391,
    0.396, 0.405, 0.428, 0.429, 0.523, 0.562, 0.607, 0.653, 0.672, 0.708, 0.633, 0.668,
    0.645, 0.632, 0.591, 0.559, 0.597, 0.625, 0.739, 0.710, 0.729, 0.720, 0.636, 0.581,
    0.428, 0.292, 0.162, 0.098, 0.054])
# fmt: on
_OS2_T = np.arange(65.0) / 10.0


def _osborne_2(x: Vector) -> Vector:
    t = _OS2_T
    model = (
        x[0] * np.exp(-t * x[4])
        + x[1] * np.exp(-((t - x[8]) ** 2) * x[5])
        + x[2] * np.exp(-((t - x[9]) ** 2) * x[6])
        + x[3] * np.exp(-((t - x[10]) ** 2) * x[7])
    )
    return _OS2_Y - model


def _p(k: int, name: str, n: int, m: int, residuals: Callable[[Vector], Vector],
       x0: list[float], f_min: float, x_min: list[float] | None = None,
       notes: str = "") -> TestProblem:
    """Build problem #k; positional in the table below to keep each entry short."""
    return TestProblem(name=name, n=n, m=m, residuals=residuals, x0=x0, f_min=f_min,
                       x_min=x_min, source=f"MGH 1981 #{k}", notes=notes)


FIXED_PROBLEMS: list[TestProblem] = [
    _p(1, "rosenbrock", 2, 2, _rosenbrock, [-1.2, 1.0], 0.0, [1.0, 1.0]),
    _p(2, "freudenstein_roth", 2, 2, _freudenstein_roth, [0.5, -2.0], 0.0, [5.0, 4.0],
       notes="Local minimum f = 48.9842... at (11.41..., -0.8968...)."),
    _p(3, "powell_badly_scaled", 2, 2, _powell_badly_scaled, [0.0, 1.0], 0.0,
       [1.0981593296997e-05, 9.1061467398665]),
    _p(4, "brown_badly_scaled", 2, 3, _brown_badly_scaled, [1.0, 1.0], 0.0, [1e6, 2e-6]),
    _p(5, "beale", 2, 3, _beale, [1.0, 1.0], 0.0, [3.0, 0.5]),
    _p(6, "jennrich_sampson", 2, 10, _jennrich_sampson, [0.3, 0.4], 124.362,
       [0.257825213, 0.257825213], notes="m = 10 as in the paper's table."),
    _p(7, "helical_valley", 3, 3, _helical_valley, [-1.0, 0.0, 0.0], 0.0, [1.0, 0.0, 0.0]),
    _p(8, "bard", 3, 15, _bard, [1.0, 1.0, 1.0], 8.21487e-3,
       [0.08241055956, 1.133036088, 2.343695182],
       notes="Also f = 17.4286... at (0.8406..., -inf, -inf)."),
    _p(9, "gaussian", 3, 15, _gaussian, [0.4, 1.0, 0.0], 1.12793e-8,
       [0.3989561378, 1.0000190844, 0.0]),
    _p(10, "meyer", 3, 16, _meyer, [0.02, 4000.0, 250.0], 87.9458,
       [0.005609636587, 6181.346329, 345.2236340],
       notes="Badly scaled exponential fit; many codes stall far from the minimum."),
    _p(11, "gulf_research", 3, 99, _gulf_research, [5.0, 2.5, 0.15], 0.0, [50.0, 25.0, 1.5],
       notes="m = 99. The paper also lists f = 0.038 at x ~ (99.89, 60.61, 9.16) for m = 10."),
    _p(12, "box_3d", 3, 10, _box_3d, [0.0, 10.0, 20.0], 0.0, [1.0, 10.0, 1.0],
       notes="m = 10. Also f = 0 at (10, 1, -1) and wherever x1 = x2, x3 = 0."),
    _p(13, "powell_singular", 4, 4, _powell_singular, [3.0, -1.0, 0.0, 1.0], 0.0,
       [0.0, 0.0, 0.0, 0.0], notes="Singular Jacobian at the solution."),
    _p(14, "wood", 4, 6, _wood, [-3.0, -1.0, -3.0, -1.0], 0.0, [1.0, 1.0, 1.0, 1.0]),
    _p(15, "kowalik_osborne", 4, 11, _kowalik_osborne, [0.25, 0.39, 0.415, 0.39], 3.07505e-4,
       [0.1928069346, 0.1912823288, 0.1230565071, 0.1360623307],
       notes="Also f = 1.02734...e-3 at (+inf, -14.07..., -inf, -inf)."),
    _p(16, "brown_dennis", 4, 20, _brown_dennis, [25.0, 5.0, -5.0, -1.0], 85822.2,
       [-11.59443990, 13.20363005, -0.4034394881, 0.2367787744], notes="m = 20."),
    _p(17, "osborne_1", 5, 33, _osborne_1, [0.5, 1.5, -1.0, 0.01, 0.02], 5.46489e-5,
       [0.3754100529, 1.935847012, -1.464687237, 0.01286753484, 0.02212269926]),
    _p(18, "biggs_exp6", 6, 13, _biggs_exp6, [1.0, 2.0, 1.0, 1.0, 1.0, 1.0], 0.0,
       [1.0, 10.0, 1.0, 5.0, 4.0, 3.0],
       notes="m = 13. Local minimum f = 5.65565...e-3 that solvers from x0 often reach."),
    _p(19, "osborne_2", 11, 65, _osborne_2,
       [1.3, 0.65, 0.65, 0.7, 0.6, 3.0, 5.0, 7.0, 2.0, 4.5, 5.5], 4.01377e-2,
       [1.309977154, 0.4315537921, 0.6336616978, 0.5994305312, 0.7541832194,
        0.9042886040, 1.365811819, 4.823698805, 2.398684866, 4.568874597, 5.675341472]),
]
