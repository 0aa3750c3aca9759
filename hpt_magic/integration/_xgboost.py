"""The XGBoost callback behind ``tune.xgboost_callback`` (XGBoost's ``TrainingCallback``)."""

from __future__ import annotations

from typing import Any

import xgboost

from ..exceptions import TuneError
from ..executors._tune import tune
from ._framework_base import budget_spent, check_direction, report

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
        #: This training's evaluation log, the last step reported and the log's length then.
        self._last: tuple[dict[str, Any], int, int] | None = None

    def before_training(self, model: Any) -> Any:
        self._last = None
        return model

    def before_iteration(self, model: Any, epoch: int, evals_log: dict[str, Any]) -> bool:
        # The stop comes here, before the next round, not as after_iteration's answer:
        # XGBoost skips the callbacks after one that answers stop, so EarlyStopping's
        # best_iteration and the eval printout would miss the last round trained, and xgb.cv
        # would cut its results at a best_iteration nobody set. A training that starts after
        # the trial was stopped trains one round (a booster with none is empty) and stops.
        rounds = model.num_boosted_rounds()
        return (tune.should_stop() and rounds > 0) or budget_spent(rounds)

    def after_iteration(self, model: Any, epoch: int, evals_log: dict[str, Any]) -> bool:
        self._report(model, evals_log, model.num_boosted_rounds() - 1)
        return False

    def after_training(self, model: Any) -> Any:
        # XGBoost skips the callbacks after one that says stop: listed after its
        # EarlyStopping, this one missed the round that ended training. The log (XGBoost
        # fills the same dict every round) has it. (Counted by the log, not the model: with
        # save_best the model here is cut back to the best round.)
        last, self._last = self._last, None
        if last is not None:
            evals_log, step, logged = last
            data, name = _split(self.metric, evals_log)
            missed = len(evals_log[data][name]) - logged
            if missed > 0:
                self._report(model, evals_log, step + missed, keep=False)
        return model

    def _report(self, model: Any, evals_log: dict[str, Any], step: int, *,
                keep: bool = True) -> None:
        """Report the log's last value of the metric at ``step`` (``keep``: remember it for
        after_training)."""
        data, name = _split(self.metric, evals_log)
        check_direction("tune.xgboost_callback", self.metric, _higher_is_better(name))
        series = evals_log[data][name]
        value = series[-1][0] if isinstance(series[-1], tuple) else series[-1]  # xgb.cv: mean
        report(value, step, model if self.checkpoint else None)
        if keep:
            self._last = (evals_log, step, len(series))


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


#: XGBoost's built-in metrics by the way they rank (the name before any ``@`` or ``-``
#: suffix, as in ``ndcg@5-``); a custom metric is in neither and goes unchecked.
_HIGHER = frozenset({"auc", "aucpr", "pre", "ndcg", "map", "interval-regression-accuracy"})
_LOWER = frozenset({"rmse", "rmsle", "mae", "mape", "mphe", "logloss", "error", "merror",
                    "mlogloss", "poisson-nloglik", "gamma-nloglik", "cox-nloglik",
                    "gamma-deviance", "tweedie-nloglik", "aft-nloglik"})


def _higher_is_better(metric: str) -> bool | None:
    """Whether a higher ``metric`` is better; ``None`` for a metric XGBoost does not define.

    >>> _higher_is_better("ndcg@5-"), _higher_is_better("logloss"), _higher_is_better("f1")
    (True, False, None)
    """
    base = metric.split("@")[0].rstrip("-")
    return True if base in _HIGHER else False if base in _LOWER else None
