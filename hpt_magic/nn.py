"""A small numpy multilayer perceptron for hypermodels: ``Dense``, ``Sequential``, ``SGD``,
``Adam``, ``EarlyStopping``, ``TuneReport`` (see :mod:`hpt_magic._nn`)."""

from .integration._nn import (
    ACTIVATIONS,
    SGD,
    Adam,
    Callback,
    Dense,
    EarlyStopping,
    History,
    Sequential,
    TuneReport,
)

__all__ = ["ACTIVATIONS", "SGD", "Adam", "Callback", "Dense", "EarlyStopping", "History",
           "Sequential", "TuneReport"]
