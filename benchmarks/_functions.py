"""Test functions with known optima, and their search spaces in a library-neutral form.

A space is a list of :class:`Param`; a function takes a dict of values and returns the value to
minimise. ``regret = f(x) - optimum``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Param", "Problem", "PROBLEMS"]


@dataclass(frozen=True)
class Param:
    """One parameter: ``kind`` is ``"float"``, ``"int"`` or ``"choice"``."""

    name: str
    kind: str
    low: float = 0.0
    high: float = 1.0
    log: bool = False
    options: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Problem:
    name: str
    space: list[Param]
    f: Callable[[dict[str, Any]], float]
    optimum: float
    tags: tuple[str, ...] = field(default=())


def _floats(prefix: str, d: int, low: float, high: float) -> list[Param]:
    return [Param(f"{prefix}{i}", "float", low, high) for i in range(d)]


def _vec(p: dict[str, Any], d: int) -> np.ndarray:
    return np.array([p[f"x{i}"] for i in range(d)], dtype=float)


def branin(p: dict[str, Any]) -> float:
    x1, x2 = p["x0"], p["x1"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def rosenbrock(p: dict[str, Any]) -> float:
    x = _vec(p, 4)
    return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


def ackley(p: dict[str, Any]) -> float:
    x = _vec(p, 5)
    d = len(x)
    return float(-20 * np.exp(-0.2 * np.sqrt(np.sum(x**2) / d))
                 - np.exp(np.sum(np.cos(2 * np.pi * x)) / d) + 20 + math.e)


def styblinski_tang(p: dict[str, Any]) -> float:
    x = _vec(p, 4)
    return float(0.5 * np.sum(x**4 - 16 * x**2 + 5 * x))


_H3_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
_H3_C = np.array([1.0, 1.2, 3.0, 3.2])
_H3_P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547],
                         [381, 5743, 8828]])


def hartmann3(p: dict[str, Any]) -> float:
    x = _vec(p, 3)
    return float(-np.sum(_H3_C * np.exp(-np.sum(_H3_A * (x - _H3_P) ** 2, axis=1))))


_ACTIVATION = {"relu": 0.3, "tanh": 0.6, "gelu": 0.0, "sigmoid": 1.2}


def mixed(p: dict[str, Any]) -> float:
    """A network-tuning caricature: log-scale optima, integer optima, and a best option.

    The best learning rate depends on the batch size (interaction); the optimum 0 is at
    ``lr = 10**-2.5 * sqrt(batch / 64)`` with ``batch=64``, ``units=128``, ``layers=3``,
    ``wd=1e-4``, ``activation="gelu"``.
    """
    lr_opt = -2.5 + 0.5 * math.log10(p["batch"] / 64)
    return float((math.log10(p["lr"]) - lr_opt) ** 2
                 + 0.25 * (math.log10(p["wd"]) + 4) ** 2
                 + 0.2 * (math.log2(p["units"]) - 7) ** 2
                 + 0.15 * (p["layers"] - 3) ** 2
                 + 0.05 * (math.log2(p["batch"]) - 6) ** 2
                 + _ACTIVATION[p["activation"]])


PROBLEMS: dict[str, Problem] = {
    "branin": Problem("branin", [Param("x0", "float", -5, 10), Param("x1", "float", 0, 15)],
                      branin, 0.397887357729739),
    "rosenbrock4": Problem("rosenbrock4", _floats("x", 4, -5, 10), rosenbrock, 0.0),
    "ackley5": Problem("ackley5", _floats("x", 5, -32.768, 32.768), ackley, 0.0),
    "styblinski4": Problem("styblinski4", _floats("x", 4, -5, 5), styblinski_tang,
                           -39.16616570377142 * 4),
    "hartmann3": Problem("hartmann3", _floats("x", 3, 0, 1), hartmann3, -3.862782147820756),
    "mixed": Problem("mixed", [
        Param("lr", "float", 1e-5, 1.0, log=True),
        Param("wd", "float", 1e-7, 1e-1, log=True),
        Param("units", "int", 8, 1024, log=True),
        Param("layers", "int", 1, 8),
        Param("batch", "int", 16, 512, log=True),
        Param("activation", "choice", options=("relu", "tanh", "gelu", "sigmoid")),
    ], mixed, 0.0),
}
