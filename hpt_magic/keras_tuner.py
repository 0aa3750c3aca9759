"""Keras Tuner's names on our engine: ``import hpt_magic.keras_tuner as kt`` ports an example.

``kt.RandomSearch``, ``kt.BayesianOptimization``, ``kt.Hyperband`` and ``kt.GridSearch`` take
Keras Tuner's arguments (and refuse, with the way out, those without a counterpart);
``kt.HyperModel``, ``kt.HyperParameters`` and ``kt.Objective`` are as in Keras Tuner.
"""

from .integration._hypermodel import HyperModel, HyperParameters
from .integration._keras_tuner import (
    BayesianOptimization,
    GridSearch,
    Hyperband,
    Objective,
    RandomSearch,
    not_ported,
)

__all__ = ["RandomSearch", "BayesianOptimization", "Hyperband", "GridSearch", "HyperModel",
           "HyperParameters", "Objective"]


def __getattr__(name: str) -> None:
    # Keras Tuner's names without a counterpart here say what to use instead.
    raise not_ported(name)
