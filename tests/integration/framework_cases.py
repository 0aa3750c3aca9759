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
