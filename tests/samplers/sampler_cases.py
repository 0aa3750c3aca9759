"""Spaces and objectives that the sampler tests share."""

import math

from hpt_magic import Choice, Float, Int

#: Every kind of distribution: linear, log, stepped floats; linear, log, stepped ints; a choice.
SPACE = {
    "lin": Float(-2.0, 3.0),
    "log": Float(1e-4, 1.0, log=True),
    "stepped": Float(0.0, 1.0, step=0.25),
    "int": Int(1, 7),
    "logint": Int(2, 500, log=True),
    "intstep": Int(0, 20, step=5),
    "act": Choice(["relu", "tanh", "gelu"]),
}
PLANE = {"x": Float(-5.0, 5.0), "y": Float(-5.0, 5.0)}


def score(p):
    """A separable bowl over :data:`SPACE`, lowest (0) inside every range."""
    return ((p["lin"] - 1) ** 2 + (math.log10(p["log"]) + 2) ** 2 + (p["stepped"] - 0.5) ** 2
            + (p["int"] - 3) ** 2 + (math.log(p["logint"]) - 3) ** 2
            + (p["intstep"] - 10) ** 2 / 25 + (p["act"] != "tanh"))


def quadratic(trial):
    """A 2-D bowl over :data:`PLANE` with its minimum at (1, -2)."""
    return (trial.params["x"] - 1) ** 2 + (trial.params["y"] + 2) ** 2
