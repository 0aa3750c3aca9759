"""Pruning callbacks for deep-learning and boosting frameworks, behind ``tune.*_callback``.

Each callback talks to the running trial only through ``tune.report`` and
``tune.restore``, so it behaves the same in the kernel, in worker processes and on Dask. It
finds the trial at every call and keeps no state from one training to the next, so one
callback object can serve many trials. The frameworks are imported when a callback is made,
never on ``import hpt_magic``.
"""

from __future__ import annotations

from typing import Any

from ..executors._tune import register_framework_callback
from ._framework_base import KERAS_HINT, require


def _keras(monitor: str = "val_loss", *, checkpoint: bool = False,
           validation_freq: int = 1) -> Any:
    require("keras", "keras", "tune.keras_callback", KERAS_HINT)
    from ._keras import KerasCallback

    return KerasCallback(monitor, checkpoint=checkpoint, validation_freq=validation_freq)


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
