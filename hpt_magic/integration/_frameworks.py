"""Pruning callbacks for deep-learning and boosting frameworks, behind ``tune.*_callback``.

Each callback talks to the running trial only through ``tune.report`` and
``tune.restore``, so it behaves the same in the kernel, in worker processes and on Dask. It
finds the trial at every call and keeps no state from one training to the next, so one
callback object can serve many trials. The frameworks are imported when a callback is made,
never on ``import hpt_magic``.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from ..exceptions import TrialPruned, TuneError
from ..executors._tune import register_framework_callback, tune

__all__ = ["KERAS_HINT", "require", "report", "resume_step"]


def require(module: str, extra: str, what: str, hint: str = "") -> ModuleType:
    """Import ``module`` for ``what``, or raise a :class:`TuneError` naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise TuneError(
            f"{what} needs the {module!r} package, which cannot be imported here ({exc}). "
            f"Install it with `pip install hpt_magic[{extra}]` (in the kernel and in every "
            f"worker environment), then restart the kernel.{hint}") from None


def report(value: Any, step: int, checkpoint: Any = None) -> bool:
    """Report a point of the curve; ``True`` when the scheduler stops the trial.

    ``tune.report`` raises :class:`TrialPruned` outside ``tune.steps``; a callback instead
    lets the framework end its training loop cleanly, and the run records the trial as
    pruned with its curve once the objective returns.
    """
    try:
        return tune.report(float(value), step, checkpoint=checkpoint)
    except TrialPruned:
        return True


def resume_step() -> int:
    """The step a trial continued from a checkpoint starts at (0 for a fresh trial)."""
    trial = tune.trial
    return int(trial.user_attrs.get("resume_step", 0)) if trial is not None else 0


#: Keras 3 imports its backend at once; without one installed the import fails.
KERAS_HINT = (" Keras 3 also needs a backend: set the environment variable KERAS_BACKEND "
              "(e.g. to 'torch') before keras is first imported.")


def _keras(monitor: str = "val_loss", *, checkpoint: bool = False) -> Any:
    require("keras", "keras", "tune.keras_callback", KERAS_HINT)
    from ._keras import KerasCallback

    return KerasCallback(monitor, checkpoint=checkpoint)


def _xgboost(metric: str = "validation_0-logloss", *, checkpoint: bool = False) -> Any:
    require("xgboost", "xgboost", "tune.xgboost_callback")
    from ._xgboost import XGBoostCallback

    return XGBoostCallback(metric, checkpoint=checkpoint)


def _lightgbm(data: str = "valid_0", metric: str | None = None, *,
              checkpoint: bool = False) -> Any:
    require("lightgbm", "lightgbm", "tune.lightgbm_callback")
    from ._lightgbm import LightGBMCallback

    return LightGBMCallback(data, metric, checkpoint=checkpoint)


def _lightning(monitor: str = "val_loss", *, checkpoint: bool = False) -> Any:
    require("lightning", "lightning", "tune.lightning_callback")
    from ._lightning import LightningCallback

    return LightningCallback(monitor, checkpoint=checkpoint)


for _name, _factory in (("keras", _keras), ("xgboost", _xgboost), ("lightgbm", _lightgbm),
                        ("lightning", _lightning)):
    register_framework_callback(_name, _factory)
