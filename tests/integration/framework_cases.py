"""Helpers of the framework tests: a scheduler that stops at a fixed step, curve checks."""

import numpy as np

from hpt_magic import Scheduler


class StopAfter(Scheduler):
    """Stops every trial once it reported ``step``: a decision that does not depend on timing."""

    def __init__(self, step: int) -> None:
        super().__init__()
        self.step = step

    def on_report(self, study, trial, step, value):
        return "stop" if step >= self.step else "continue"


def assert_pruned_with_curve(trial, steps):
    assert trial.state.value == "pruned", (trial, trial.error, trial.output[-2000:])
    assert sorted(trial.intermediate) == list(steps)
    assert all(np.isfinite(v) for v in trial.intermediate.values())


def assert_refused_direction(trial, metric, better, direction):
    """``trial`` failed with the paragraph of a metric ranked against the study's direction:
    which way ``metric`` is better, and the option that turns the study around."""
    assert trial.state.value == "failed"
    assert f"for {metric} {better} is better, but the study {direction}s" in trial.error
    other = "maximize" if direction == "minimize" else "minimize"
    assert f"--{other} (Study(direction='{other}'))" in trial.error


def assert_continued_boosters_stop_at_max_steps(objective, rounds):
    """Run a PBT study of ``objective`` (which keeps its booster's round count in
    ``user_attrs["rounds"]``): a child continued from a checkpoint (``xgb_model=`` /
    ``init_model=``, which add rounds) ends at ``rounds`` in all, as its population did."""
    from hpt_magic import Study, TrialState

    study = Study(scheduler="pbt", max_steps=rounds, seed=0,
                  scheduler_args={"population_size": 4, "interval": rounds // 2})
    study.optimize(objective, n_trials=8)
    children = [t for t in study.trials if "resume_step" in t.user_attrs]
    assert children
    for child in children:
        assert sorted(child.intermediate) == list(range(child.user_attrs["resume_step"], rounds))
        if child.state is TrialState.COMPLETE:
            assert child.user_attrs["rounds"] == rounds
