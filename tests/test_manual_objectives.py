"""The manual tuning panel of a multi-objective study shows every objective of each run."""

from __future__ import annotations

from hpt_magic import Float, Study
from hpt_magic.notebook._widgets import FRONT_ROWS, ManualTuner


def cost(t):
    x = t.params["x"]
    return {"accuracy": x, "latency_ms": 10 * x * x + 1, "size_mb": 30 * x}


def test_each_run_and_the_front_show_every_objective_and_broken_constraints():
    study = Study(space={"x": Float(0, 1)}, directions=["maximize", "minimize"],
                  objectives=["accuracy", "latency_ms"], constraints=["size_mb <= 20"], seed=0)
    tuner = ManualTuner(study, cost, dashboard=False)
    assert "no feasible complete trial yet" in tuner.best_text.value
    tuner.set_values({"x": 0.5})
    tuner.run_button.click()
    assert "Trial 0 complete: accuracy 0.5, latency_ms 3.5." in tuner.message.value
    tuner.set_values({"x": 0.9})
    tuner.run_button.click()
    assert "accuracy 0.9, latency_ms 9.1 (infeasible: breaks size_mb &lt;= 20)" \
        in tuner.message.value
    # The infeasible run is not on the front; the feasible one is, with both objectives.
    assert "<b>Pareto front:</b> 1 trial<ul><li>trial 0 (manual): accuracy 0.5, " \
        "latency_ms 3.5</li></ul>" == tuner.best_text.value
    for x in (0.1, 0.2, 0.3, 0.4, 0.6):
        tuner.set_values({"x": x})
        tuner.run_button.click()
    assert tuner.best_text.value.count("<li>trial") == FRONT_ROWS
    assert "… and 1 more" in tuner.best_text.value
    tuner.close()


def test_objective_names_cannot_reorder_the_message():
    # Names come from the notebook (a shared one may be anyone's): a U+202E in one would turn
    # the rest of the message around, a U+2069 end an isolate; it is isolated, its own
    # controls dropped.
    acc = "acc\u2069\u202e"

    def scores(t):
        return {acc: t.params["x"], "ms": 1.0}

    study = Study(space={"x": Float(0, 1)}, directions=["maximize", "minimize"],
                  objectives=[acc, "ms"], seed=0)
    tuner = ManualTuner(study, scores, dashboard=False)
    tuner.set_values({"x": 0.5})
    tuner.run_button.click()
    assert "Trial 0 complete: \u2068acc\u2069 0.5, ms 1." in tuner.message.value
    tuner.close()
