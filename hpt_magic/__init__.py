"""hpt_magic: hyperparameter tuning that lives inside the Jupyter notebook.

``%load_ext hpt_magic`` registers the ``%%tune`` cell magic; the Python API offers
:class:`Study` (ask/tell, optimize) and the distributions.
"""

from __future__ import annotations

from typing import Any

from . import nn
from .distributions import Choice, Distribution, Float, Grid, Int, ParameterGrid
from .exceptions import SpaceError, StorageError, TrialPruned, TuneError
from .executors._tune import tune
from .integration._hypermodel import HyperModel, HyperParameters, Tuner
from .integration._loggers import MLflowCallback, TensorBoardCallback
from .samplers import (
    CmaEsSampler,
    GPSampler,
    GridSampler,
    NSGAIISampler,
    RandomSampler,
    Sampler,
    TPESampler,
)
from .schedulers import (
    ASHAScheduler,
    BOHBScheduler,
    EarlyStopping,
    HyperbandScheduler,
    MedianStopping,
    PBTScheduler,
    Scheduler,
)
from .study._events import Event
from .study._salvage import salvage
from .study._storage import InMemoryStorage, SQLiteStorage
from .study._study import Study, load_study
from .trial import Direction, Trial, TrialState

__version__ = "0.1.0"

__all__ = [
    "ASHAScheduler", "BOHBScheduler", "Choice", "CmaEsSampler", "Dashboard", "Direction",
    "NSGAIISampler", "Distribution",
    "EarlyStopping", "Event", "Float", "GPSampler", "Grid", "GridSampler", "HyperbandScheduler",
    "HyperModel", "HyperParameters", "InMemoryStorage", "Int", "load_ipython_extension",
    "load_study", "MedianStopping", "MLflowCallback", "nn", "ParameterGrid", "PBTScheduler",
    "plot", "plot_curves", "plot_history", "plot_params", "RandomSampler", "salvage", "Sampler",
    "Scheduler",
    "SpaceError", "SQLiteStorage", "StorageError", "Study", "study_json", "TensorBoardCallback",
    "TPESampler", "Trial", "TrialPruned", "TrialState", "tune", "TuneError", "Tuner",
    "__version__",
]


# The plots live in the display front end; imported on first use so that `import hpt_magic`
# does not load matplotlib.
_DISPLAY = ("plot", "plot_history", "plot_curves", "plot_params", "study_json", "Dashboard")


def __getattr__(name: str) -> Any:
    if name in _DISPLAY:
        from . import display

        return getattr(display, name)
    raise AttributeError(f"module 'hpt_magic' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext hpt_magic``: register ``%%tune`` and friends, and bind ``tune``."""
    from .notebook._extension import load_ipython_extension as load

    load(ipython)
