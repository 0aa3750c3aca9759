import numpy as np
import pytest

from hpt_magic import Choice, Float, Int, Study, TuneError, tune
from hpt_magic.schedulers import MOBSTERScheduler


def _study(**kwargs):
    return Study(space={"x": Float(0, 1)}, scheduler=MOBSTERScheduler(max_steps=9, **kwargs),
                 direction="maximize", seed=0)


def _objective(curve_of):
    """Report ``curve_of(trial.number, x)`` step by step."""

    def objective(trial):
        for step in tune.steps(9):
            tune.report(curve_of(trial.number, trial.params["x"], step))

    return objective


def test_rungs():
    assert MOBSTERScheduler(max_steps=27).rungs == [1, 3, 9]
    assert MOBSTERScheduler(max_steps=100, min_resource=2, reduction_factor=4).rungs == [2, 8, 32]


def test_first_trials_train_fully_then_trusted_rungs_prune():
    # Consistent curves: a trial's rank never changes. Trials 0-4 calibrate (all complete,
    # although trial 4 is the worst at every rung); then every rung is trusted, and a later
    # trial worse than the best third at the first rung is stopped there.
    levels = [0.5, 0.9, 0.7, 0.6, 0.1, 0.05, 0.95]
    study = _study(n_startup_trials=100)
    study.optimize(_objective(lambda n, x, s: levels[n] * (1 + s / 9)), n_trials=len(levels))
    states = [t.state.value for t in study.trials]
    assert states[:5] == ["complete"] * 5
    assert study.scheduler.trusted_rungs == [1, 3]
    assert states[5:] == ["pruned", "complete"]
    assert study.trials[5].last_step == 0


def test_no_pruning_when_early_ranks_mislead():
    # Crossing curves: the fast starters end worst. No rung agrees with the final values, so
    # no rung prunes and every trial trains fully (plain ASHA would stop the slow starters).
    finals = [0.5, 0.9, 0.7, 0.6, 0.1, 0.95, 0.05, 0.8]

    def crossing(n, x, s):
        return finals[n] * s / 8 + (1 - finals[n]) * (1 - s / 8)

    study = _study(n_startup_trials=100)
    study.optimize(_objective(crossing), n_trials=len(finals))
    assert study.scheduler.trusted_rungs == []
    assert all(t.state.value == "complete" for t in study.trials)


def test_model_proposes_once_trials_were_stopped():
    # Consistent curves and two calibration trials: the rungs prune from trial 2 on. While
    # every trial trained fully the study's sampler proposes; after the first stop, the model.
    study = _study(n_startup_trials=2, n_calibration=2)
    study.optimize(_objective(lambda n, x, s: -(x - 0.3) ** 2 * (1 + s)), n_trials=8)
    first_stop = min(t.number for t in study.trials if t.state.value == "pruned")
    proposed = [t.number for t in study.trials if t.user_attrs.get("model") == "mobster"]
    assert proposed == list(range(first_stop + 1, 8))
    assert all(0 <= t.params["x"] <= 1 for t in study.trials)
    assert abs(study.best_params["x"] - 0.3) < 0.2


@pytest.mark.parametrize("kwargs", [{"reduction_factor": 1}, {"min_resource": 0},
                                    {"n_calibration": 1}, {"min_correlation": 2},
                                    {"n_startup_trials": 1}])
def test_bad_options(kwargs):
    with pytest.raises(TuneError):
        MOBSTERScheduler(max_steps=9, **kwargs)


def test_needs_max_steps():
    with pytest.raises(TuneError, match="max_steps"):
        Study(space={"x": Float(0, 1)}, scheduler="mobster")


def test_model_learns_categorical_and_integer_parameters():
    # The model's proposals take valid values of an option and an integer, and exploit the
    # option that is best at every step (the GP compares options by equality, so candidates
    # must sit exactly on an option's value to share what was learned about it).
    space = {"x": Float(0, 1), "kind": Choice(["a", "b", "c"]), "depth": Int(1, 6)}
    gain = {"a": 0.0, "b": 1.0, "c": 0.2}
    study = Study(space=space, direction="maximize", seed=1,
                  scheduler=MOBSTERScheduler(max_steps=9, n_startup_trials=6, n_calibration=2))

    def objective(trial):
        p = trial.params
        for step in tune.steps(9):
            tune.report((gain[p["kind"]] - (p["x"] - 0.3) ** 2 - 0.05 * abs(p["depth"] - 4))
                        * (1 + step))

    study.optimize(objective, n_trials=16)
    model = [t for t in study.trials if t.user_attrs.get("model") == "mobster"]
    assert len(model) >= 8
    assert all(t.params["kind"] in gain and t.params["depth"] in range(1, 7) for t in model)
    assert sum(t.params["kind"] == "b" for t in model) >= len(model) - 1
    assert study.best_params["kind"] == "b"
    assert abs(study.best_params["x"] - 0.3) < 0.1


def test_model_internals_snap_exclude_and_mark_options(monkeypatch):
    # Candidates sit exactly on valid levels; the GP is told which column is an option; and in
    # a space of six configurations the model never proposes one tried before (once all were
    # tried, it gives way to the sampler).
    from hpt_magic.schedulers import _mobster_model

    # (Few points in the fit, so that some trials are left out of it: they count as tried.)
    monkeypatch.setattr(_mobster_model, "_MAX_POINTS", 4)
    masks, scored = [], []
    fit, at_full = _mobster_model.fit_gp, _mobster_model._at_full
    monkeypatch.setattr(_mobster_model, "fit_gp",
                        lambda X, y, cat, *a, **k: masks.append(cat.tolist()) or fit(X, y, cat,
                                                                                       *a, **k))
    monkeypatch.setattr(_mobster_model, "_at_full",
                        lambda gp, configs: scored.append(configs.copy()) or at_full(gp, configs))
    small = {"kind": Choice(["a", "b", "c"]), "depth": Int(1, 2)}
    study = Study(space=small, direction="maximize", seed=0,
                  scheduler=MOBSTERScheduler(max_steps=9, n_startup_trials=2, n_calibration=2))

    def objective(trial):
        p = trial.params
        for step in tune.steps(9):
            tune.report(({"a": 0.0, "b": 1.0, "c": 0.5}[p["kind"]] + p["depth"]) * (1 + step))

    study.optimize(objective, n_trials=12)
    assert masks and all(m == [True, False, False] for m in masks)
    candidates = np.vstack(scored)
    assert len(candidates) > 1000
    for j, dist in enumerate(small.values()):
        on_levels = [dist.to_unit(dist.from_unit(u)) for u in candidates[:, j]]
        assert np.array_equal(candidates[:, j], on_levels)

    def config(t):
        return t.params["kind"], t.params["depth"]

    model = [t for t in study.trials if t.user_attrs.get("model") == "mobster"]
    assert model
    for t in model:
        assert config(t) not in {config(t2) for t2 in study.trials[:t.number]}
