"""The XGBoost callback behind ``tune.xgboost_callback`` (XGBoost's ``TrainingCallback``)."""

from __future__ import annotations

from typing import Any

import xgboost

from ..exceptions import TuneError
from ._framework_base import report

__all__ = ["XGBoostCallback"]


class XGBoostCallback(xgboost.callback.TrainingCallback):
    """Report ``"<data>-<metric>"`` after every boosting round; stop when the scheduler says so.

    The step is the booster's round count minus one, so a booster continued from a
    checkpoint (``xgb_model=tune.restore()``) goes on counting where it was.
    """

    def __init__(self, metric: str = "validation_0-logloss", *,
                 checkpoint: bool = False) -> None:
        super().__init__()
        self.metric = metric
        self.checkpoint = checkpoint

    def after_iteration(self, model: Any, epoch: int, evals_log: dict[str, Any]) -> bool:
        data, name = _split(self.metric, evals_log)
        value = evals_log[data][name][-1]
        if isinstance(value, tuple):  # xgb.cv logs (mean, std)
            value = value[0]
        step = model.num_boosted_rounds() - 1
        stop = report(value, step, model if self.checkpoint else None)
        if stop and hasattr(model, "cvfolds") and model.attr("best_iteration") is None:
            # xgb.cv cuts its results at best_iteration when a callback stops it: keep every
            # round trained (an early-stopping callback's own best is left as it set it).
            model.best_iteration = epoch
        return stop


def _split(metric: str, evals_log: dict[str, Any]) -> tuple[str, str]:
    """``"valid-logloss"`` as ``("valid", "logloss")``; data and metric names may hold ``-``."""
    for i, char in enumerate(metric):
        if char == "-" and metric[i + 1:] in evals_log.get(metric[:i], {}):
            return metric[:i], metric[i + 1:]
    known = [f"{d}-{m}" for d, metrics in evals_log.items() for m in metrics]
    raise TuneError(
        f"tune.xgboost_callback: {metric!r} is not among the evaluation results ({known}). "
        "Pass evals=[(dvalid, 'valid')] to xgb.train (or eval_set to fit) and name one of "
        "them, e.g. 'valid-logloss'.")
