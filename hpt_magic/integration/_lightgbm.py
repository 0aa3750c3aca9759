"""The LightGBM callback behind ``tune.lightgbm_callback``."""

from __future__ import annotations

from typing import Any

import lightgbm

from ..exceptions import TuneError
from ._framework_base import budget_spent, check_direction, report

__all__ = ["LightGBMCallback"]


class LightGBMCallback:
    """Report one validation metric after every round; stop when the scheduler says so.

    The step is LightGBM's iteration, which goes on counting after a booster continued from a
    checkpoint (``init_model=tune.restore()``).
    """

    def __init__(self, data: str = "valid_0", metric: str | None = None, *,
                 checkpoint: bool = False) -> None:
        # After LightGBM's own logging (10) and recording (20) callbacks, so that the round
        # that stops training is in evals_result_, and before its early_stopping (30), so that
        # the round it stops on is on the curve (lgb.train sorts callbacks from a set: of two
        # of one order either may run first). On the instance: lgb.train gives every callback
        # whose __dict__ has no order one that puts it first.
        self.order = 29
        self.data = data
        self.metric = metric
        self.checkpoint = checkpoint

    def __call__(self, env: Any) -> None:
        results = [r for r in env.evaluation_result_list or () if r[0] == self.data
                   and (self.metric is None or r[1] == self.metric)]
        if not results:
            known = [f"{r[0]} {r[1]}" for r in env.evaluation_result_list or ()]
            raise TuneError(
                f"tune.lightgbm_callback: no metric {self.metric or '(any)'!r} on validation "
                f"set {self.data!r} (found: {known}). Pass valid_sets to lgb.train (or "
                "eval_set to fit) and name the set and metric, e.g. "
                "tune.lightgbm_callback('valid_0', 'auc').")
        data, metric, value, higher_is_better = results[0][:4]
        check_direction("tune.lightgbm_callback", f"{data} {metric}", higher_is_better)
        stop = report(value, env.iteration, env.model if self.checkpoint else None)
        if stop or budget_spent(env.iteration + 1):
            best = [(r[0], r[1], r[2], r[3]) for r in env.evaluation_result_list]
            # LightGBM's own way to end training early: train() catches it and returns.
            raise lightgbm.callback.EarlyStopException(env.iteration, best)
