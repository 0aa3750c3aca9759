"""tune.xgboost_callback: XGBoost 3's TrainingCallback reporting rounds to the trial."""

import sys

import cloudpickle
import numpy as np
import pytest
from framework_cases import (
    StopAfter,
    assert_continued_boosters_stop_at_max_steps,
    assert_pruned_with_curve,
    assert_refused_direction,
)

from hpt_magic import Study, TrialState, TuneError, tune

xgb = pytest.importorskip("xgboost")
cloudpickle.register_pickle_by_value(sys.modules[__name__])

ROUNDS = 8
#: One callback object for every trial of every test: it must carry nothing between them.
CALLBACK = tune.xgboost_callback("valid-logloss")


def train(data, eta, callback=CALLBACK, **extra):
    X, y, Xv, yv = data
    dtrain, dvalid = xgb.DMatrix(X, label=y), xgb.DMatrix(Xv, label=yv)
    params = {"objective": "binary:logistic", "eval_metric": "logloss", "eta": eta,
              "max_depth": 3, "nthread": 1}
    return xgb.train(params, dtrain, num_boost_round=ROUNDS, evals=[(dvalid, "valid")],
                     callbacks=[callback], verbose_eval=False, **extra)


def objective_for(data):
    def objective(trial):
        booster = train(data, tune.loguniform(1e-4, 1.0, name="eta"))
        return float(booster.eval(xgb.DMatrix(data[2], label=data[3])).split(":")[1])
    return objective


def test_is_an_xgboost3_training_callback():
    assert isinstance(CALLBACK, xgb.callback.TrainingCallback)


def test_asha_prunes_a_poor_trial_and_the_callback_carries_nothing_over(binary):
    study = Study(scheduler="asha", max_steps=ROUNDS, scheduler_args={"reduction_factor": 2})
    for eta in (0.3, 1e-4, 0.6):  # distinct (a repeat reuses its result), the last best
        study.enqueue({"eta": eta})
    study.optimize(objective_for(binary), n_trials=3)
    good, poor, again = study.trials
    assert good.state is again.state is TrialState.COMPLETE
    # After a pruned trial the next one trains and reports all its rounds.
    assert sorted(good.intermediate) == sorted(again.intermediate) == list(range(ROUNDS))
    assert_pruned_with_curve(poor, [0])
    # The curve is the booster's own validation log-loss, round by round.
    assert good.intermediate[ROUNDS - 1] == pytest.approx(good.value, rel=1e-5)


def test_scikit_learn_api_stops_cleanly(binary):
    X, y, Xv, yv = binary
    models = []

    def objective(trial):
        model = xgb.XGBClassifier(n_estimators=ROUNDS, max_depth=3, n_jobs=1,
                                  learning_rate=tune.uniform(0.1, 0.5, name="lr"),
                                  callbacks=[tune.xgboost_callback("validation_0-logloss")])
        model.fit(X, y, eval_set=[(Xv, yv)], verbose=False)
        models.append(model)
        return model.evals_result()["validation_0"]["logloss"][-1]

    study = Study(scheduler=StopAfter(2), seed=0)
    study.optimize(objective, n_trials=2)
    for trial, model in zip(study.trials, models, strict=True):
        assert_pruned_with_curve(trial, [0, 1, 2])
        assert model.get_booster().num_boosted_rounds() == 3


@pytest.mark.parametrize("where", ["processes", "dask"])
def test_in_worker_processes_and_on_dask(binary, where, request):
    executor = {"n_jobs": 2} if where == "processes" else \
        {"dask": request.getfixturevalue("client")}
    study = Study(scheduler=StopAfter(3), seed=0)
    study.optimize(objective_for(binary), n_trials=4, **executor)
    for trial in study.trials:
        assert_pruned_with_curve(trial, [0, 1, 2, 3])


def test_checkpoint_continues_the_booster(binary):
    """Under population-based training a child goes on from its parent's booster."""
    X, y, Xv, yv = binary

    def objective(trial):
        eta = tune.loguniform(0.01, 0.5, name="eta")
        booster = train(binary, eta, tune.xgboost_callback("valid-logloss", checkpoint=True),
                        xgb_model=tune.restore())
        return float(booster.eval(xgb.DMatrix(Xv, label=yv)).split(":")[1])

    study = Study(scheduler="pbt", max_steps=3 * ROUNDS, seed=0,
                  scheduler_args={"population_size": 4, "interval": ROUNDS // 2})
    study.optimize(objective, n_trials=8)
    children = [t for t in study.trials if "parent" in t.user_attrs]
    assert children
    for child in children:
        start = child.user_attrs["resume_step"]
        assert min(child.intermediate) == start
        assert len(child.intermediate) == ROUNDS


def test_unknown_metric_names_the_known_ones(binary):
    study = Study(seed=0)
    study.optimize(lambda t: train(binary, 0.3, tune.xgboost_callback("valid-auc")) and 0.0,
                   n_trials=1)
    trial = study.trials[0]
    assert trial.state is TrialState.FAILED
    assert "'valid-auc' is not among the evaluation results (['valid-logloss'])" in trial.error


def test_outside_a_trial_it_only_trains(binary):
    booster = train(binary, 0.3)
    assert booster.num_boosted_rounds() == ROUNDS
    assert np.isfinite(booster.predict(xgb.DMatrix(binary[2]))).all()


def test_bad_metric_is_a_tune_error(binary):
    with pytest.raises(TuneError, match="valid-auc"):
        train(binary, 0.3, tune.xgboost_callback("valid-auc"))


def test_xgb_cv_keeps_every_round_of_a_pruned_trial(binary):
    X, y, _, _ = binary
    results = []

    def objective(trial):
        params = {"objective": "binary:logistic", "eval_metric": "logloss", "nthread": 1,
                  "eta": tune.uniform(0.1, 0.5, name="eta")}
        cv = xgb.cv(params, xgb.DMatrix(X, label=y), ROUNDS, nfold=2,
                    callbacks=[tune.xgboost_callback("test-logloss")])
        results.append(cv)
        return float(cv["test-logloss-mean"].iloc[-1])

    study = Study(scheduler=StopAfter(2), seed=0)
    study.optimize(objective, n_trials=1)
    assert_pruned_with_curve(study.trials[0], [0, 1, 2])
    assert len(results[0]) == 3  # the three rounds trained, not cut at a missing best


def test_early_stopping_and_the_eval_printout_see_the_round_that_stopped(binary):
    """XGBoost skips the callbacks after one that says stop: the stop must not come from
    after_iteration, or EarlyStopping's best round and the printout miss the last round."""
    X, y, Xv, yv = binary
    models = []

    def objective(trial):
        # A small learning rate: every round lowers the log-loss, so the last one is best.
        model = xgb.XGBClassifier(n_estimators=ROUNDS, max_depth=2, n_jobs=1,
                                  learning_rate=tune.uniform(0.01, 0.02, name="lr"),
                                  eval_metric="logloss", early_stopping_rounds=3,
                                  callbacks=[tune.xgboost_callback("validation_0-logloss")])
        model.fit(X, y, eval_set=[(Xv, yv)], verbose=True)
        models.append(model)
        return model.evals_result()["validation_0"]["logloss"][-1]

    study = Study(scheduler=StopAfter(2), seed=0)
    study.optimize(objective, n_trials=1)
    trial, model = study.trials[0], models[0]
    assert_pruned_with_curve(trial, [0, 1, 2])
    losses = model.evals_result()["validation_0"]["logloss"]
    assert len(losses) == 3 and losses[2] < losses[1]
    assert model.best_iteration == 2  # predictions use every round trained
    assert "[2]\tvalidation_0-logloss" in trial.output


@pytest.mark.parametrize("save_best", [False, True])
def test_the_round_a_callback_listed_first_ends_on_is_on_the_curve(binary, save_best):
    # XGBoost skips the callbacks after one that says stop: with its EarlyStopping listed
    # first, the round it ended on was missing from the curve, whose last point is the score
    # of a trial that returns nothing. (With save_best the model handed on is cut back to
    # the best round: the log, not the model, counts the rounds.)
    X, y, Xv, yv = binary
    logs = []

    def objective(trial):
        log = {}
        params = {"objective": "binary:logistic", "nthread": 1,
                  "eta": tune.uniform(0.5, 0.6, name="eta")}
        xgb.train(params, xgb.DMatrix(X, label=y), 100, evals=[(xgb.DMatrix(Xv, label=yv),
                  "valid")], evals_result=log, verbose_eval=False,
                  callbacks=[xgb.callback.EarlyStopping(rounds=2, save_best=save_best),
                             CALLBACK])
        logs.append(log["valid"]["logloss"])

    study = Study(seed=0)
    study.optimize(objective, n_trials=2)
    for trial, losses in zip(study.trials, logs, strict=True):
        assert trial.state is TrialState.COMPLETE, trial.error
        assert len(losses) < 100  # early stopping ended it
        assert [trial.intermediate[s] for s in sorted(trial.intermediate)] == \
            pytest.approx(losses)
        assert trial.value == pytest.approx(losses[-1])


@pytest.mark.parametrize("direction, metric, passes", [
    ("maximize", "valid-auc", True), ("minimize", "valid-logloss", True),
    ("minimize", "valid-auc", False), ("maximize", "valid-logloss", False),
    ("minimize", "valid-ndcg@3-", False), ("maximize", "valid-spread", True),
    ("minimize", "valid-spread", True)])
def test_a_metric_ranked_against_the_study_is_refused(binary, direction, metric, passes):
    """A scheduler judges the curve by the study's direction: AUC in a study that minimises
    would stop the best trials first. A custom metric's ranking is the user's to know."""
    X, y, Xv, yv = binary

    def spread(predt, dmatrix):
        return "spread", float(predt.std())

    def objective(trial):
        params = {"objective": "binary:logistic", "eval_metric": ["logloss", "auc", "ndcg@3-"],
                  "eta": tune.uniform(0.1, 0.5, name="eta"), "nthread": 1}
        log = {}
        xgb.train(params, xgb.DMatrix(X, label=y), ROUNDS, evals=[(xgb.DMatrix(Xv, label=yv),
                  "valid")], evals_result=log, custom_metric=spread, verbose_eval=False,
                  callbacks=[tune.xgboost_callback(metric)])
        return log["valid"][metric.split("-", 1)[1]][-1]

    study = Study(direction=direction, scheduler=StopAfter(2), seed=0)
    study.optimize(objective, n_trials=1)
    trial = study.trials[0]
    if passes:
        assert_pruned_with_curve(trial, [0, 1, 2])
        return
    better = "lower" if metric == "valid-logloss" else "higher"
    assert_refused_direction(trial, repr(metric), better, direction)


def test_the_benchmarks_timing_wrapper_passes_the_stop_through(binary):
    # benchmarks/frameworks.py times the callback by wrapping it. A wrapper that answers
    # before_iteration itself trains every trial to the end while the study marks it pruned,
    # and the benchmark then compares schedulers that never stopped a round.
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[2] / "benchmarks" / "frameworks.py"
    spec = importlib.util.spec_from_file_location("hpt_benchmark_frameworks", path)
    frameworks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(frameworks)
    clock = {"rounds": 0, "callback": 0.0, "round": 0.0, "start": 0.0}
    boosters = []

    def objective(trial):
        boosters.append(train(binary, tune.uniform(0.1, 0.5, name="eta"),
                              callback=frameworks._timed(CALLBACK, clock)))
        return 0.0

    study = Study(scheduler=StopAfter(2), seed=0)
    study.optimize(objective, n_trials=2)
    for trial, booster in zip(study.trials, boosters, strict=True):
        assert_pruned_with_curve(trial, [0, 1, 2])
        assert booster.num_boosted_rounds() == 3
    assert clock["rounds"] == 6
    assert 0 < clock["callback"] < clock["round"]


def test_a_continued_booster_stops_at_the_studys_max_steps(binary):
    """xgb.train(xgb_model=...) trains num_boost_round rounds more than the checkpoint has:
    a child continued at round 4 of 8 must end at round 8, as its population did (and as
    Keras and Lightning children do), not at round 12."""
    Xv, yv = binary[2], binary[3]

    def objective(trial):
        eta = tune.loguniform(0.01, 0.5, name="eta")
        booster = train(binary, eta, tune.xgboost_callback("valid-logloss", checkpoint=True),
                        xgb_model=tune.restore())
        trial.user_attrs["rounds"] = booster.num_boosted_rounds()
        return float(booster.eval(xgb.DMatrix(Xv, label=yv)).split(":")[1])

    assert_continued_boosters_stop_at_max_steps(objective, ROUNDS)
