"""tune.lightgbm_callback: LightGBM rounds reported to the trial."""

import pytest
from framework_cases import (
    StopAfter,
    assert_continued_boosters_stop_at_max_steps,
    assert_pruned_with_curve,
    assert_refused_direction,
)
from sklearn.metrics import log_loss

from hpt_magic import Study, TrialState, tune

lgb = pytest.importorskip("lightgbm")

ROUNDS = 8
#: One callback object for every trial: it must carry nothing between them (Optuna's
#: LightGBM callback once kept the first trial in a closure).
CALLBACK = tune.lightgbm_callback("valid", "binary_logloss")


def objective_for(data):
    X, y, Xv, yv = data

    def objective(trial):
        params = {"objective": "binary", "learning_rate": tune.loguniform(1e-4, 0.5, name="lr"),
                  "num_leaves": 7, "verbosity": -1, "num_threads": 1}
        booster = lgb.train(params, lgb.Dataset(X, y), num_boost_round=ROUNDS,
                            valid_sets=[lgb.Dataset(Xv, yv)], valid_names=["valid"],
                            callbacks=[CALLBACK])
        return log_loss(yv, booster.predict(Xv))
    return objective


def test_asha_prunes_a_poor_trial_and_the_callback_carries_nothing_over(binary):
    study = Study(scheduler="asha", max_steps=ROUNDS, scheduler_args={"reduction_factor": 2})
    for lr in (0.2, 1e-4, 0.4):  # distinct (a repeat reuses its result), the last best
        study.enqueue({"lr": lr})
    study.optimize(objective_for(binary), n_trials=3)
    good, poor, again = study.trials
    assert good.state is again.state is TrialState.COMPLETE
    assert sorted(good.intermediate) == sorted(again.intermediate) == list(range(ROUNDS))
    assert_pruned_with_curve(poor, [0])


def test_scikit_learn_api_stops_cleanly(binary):
    X, y, Xv, yv = binary
    models = []

    def objective(trial):
        model = lgb.LGBMClassifier(n_estimators=ROUNDS, num_leaves=7, verbosity=-1, n_jobs=1,
                                   learning_rate=tune.uniform(0.1, 0.5, name="lr"))
        model.fit(X, y, eval_set=[(Xv, yv)], eval_metric="auc",
                  callbacks=[tune.lightgbm_callback("valid_0", "auc")])
        models.append(model)
        return model.score(Xv, yv)

    study = Study(direction="maximize", scheduler=StopAfter(2), seed=0)
    study.optimize(objective, n_trials=2)
    for trial, model in zip(study.trials, models, strict=True):
        assert_pruned_with_curve(trial, [0, 1, 2])
        assert model.booster_.current_iteration() == 3
        # LightGBM's own recording ran before the callback stopped training: every round
        # trained is in evals_result_, the last one included.
        assert len(model.evals_result_["valid_0"]["binary_logloss"]) == 3


def test_the_round_that_early_stopping_ends_on_is_on_the_curve(binary):
    # lgb.early_stopping raises in the round it ends on; LightGBM orders the callbacks from a
    # set, so one of the same order ran after it in about half the trainings and that
    # round's point was missing from the curve (the last point of a trial that returns
    # nothing is its score).
    X, y, Xv, yv = binary
    rounds = []

    def objective(trial):
        log = {}
        params = {"objective": "binary", "learning_rate": tune.uniform(0.3, 0.4, name="lr"),
                  "num_leaves": 7, "verbosity": -1, "num_threads": 1}
        lgb.train(params, lgb.Dataset(X, y), num_boost_round=50,
                  valid_sets=[lgb.Dataset(Xv, yv)], callbacks=[
                      lgb.early_stopping(2, verbose=False), lgb.record_evaluation(log),
                      tune.lightgbm_callback("valid_0", "binary_logloss")])
        rounds.append(len(log["valid_0"]["binary_logloss"]))

    study = Study(seed=0)
    study.optimize(objective, n_trials=10)
    for trial, trained in zip(study.trials, rounds, strict=True):
        assert trained < 50  # early stopping ended it
        assert sorted(trial.intermediate) == list(range(trained))


def test_unknown_validation_set_names_the_known_ones(binary):
    X, y, Xv, yv = binary
    study = Study(seed=0)
    study.optimize(lambda t: lgb.train(
        {"objective": "binary", "verbosity": -1}, lgb.Dataset(X, y), num_boost_round=2,
        valid_sets=[lgb.Dataset(Xv, yv)], callbacks=[tune.lightgbm_callback("valid")]) and 0.0,
        n_trials=1)
    trial = study.trials[0]
    assert trial.state is TrialState.FAILED
    assert "validation set 'valid' (found: ['valid_0 binary_logloss'])" in trial.error


@pytest.mark.parametrize("direction, metric, passes", [
    ("maximize", "auc", True), ("minimize", "binary_logloss", True),
    ("minimize", "auc", False), ("maximize", "binary_logloss", False)])
def test_a_metric_ranked_against_the_study_is_refused(binary, direction, metric, passes):
    """A scheduler judges the curve by the study's direction: AUC in a study that minimises
    would stop the best trials first."""
    X, y, Xv, yv = binary

    def objective(trial):
        model = lgb.LGBMClassifier(n_estimators=ROUNDS, num_leaves=7, verbosity=-1, n_jobs=1,
                                   learning_rate=tune.uniform(0.1, 0.5, name="lr"))
        model.fit(X, y, eval_set=[(Xv, yv)], eval_metric=["auc", "binary_logloss"],
                  callbacks=[tune.lightgbm_callback("valid_0", metric)])
        return model.evals_result_["valid_0"][metric][-1]

    study = Study(direction=direction, scheduler=StopAfter(2), seed=0)
    study.optimize(objective, n_trials=1)
    trial = study.trials[0]
    if passes:
        assert_pruned_with_curve(trial, [0, 1, 2])
        return
    better = "higher" if metric == "auc" else "lower"
    assert_refused_direction(trial, f"'valid_0 {metric}'", better, direction)
    assert "\n" not in trial.error


def test_a_continued_booster_stops_at_the_studys_max_steps(binary):
    """lgb.train(init_model=...) trains num_boost_round rounds more than the checkpoint has:
    a child continued at round 4 of 8 must end at round 8, as its population did."""
    X, y, Xv, yv = binary

    def objective(trial):
        params = {"objective": "binary", "learning_rate": tune.loguniform(1e-3, 0.5, name="lr"),
                  "num_leaves": 7, "verbosity": -1, "num_threads": 1}
        booster = lgb.train(params, lgb.Dataset(X, y), num_boost_round=ROUNDS,
                            valid_sets=[lgb.Dataset(Xv, yv)], valid_names=["valid"],
                            init_model=tune.restore(),
                            callbacks=[tune.lightgbm_callback("valid", "binary_logloss",
                                                              checkpoint=True)])
        trial.user_attrs["rounds"] = booster.current_iteration()
        return log_loss(yv, booster.predict(Xv))

    assert_continued_boosters_stop_at_max_steps(objective, ROUNDS)
