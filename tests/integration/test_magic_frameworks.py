"""A framework callback in a real %%tune cell: the best trial's model stays in the notebook."""

import pytest

xgb = pytest.importorskip("xgboost")

CELL = """
eta = tune.loguniform(1e-4, 0.5)
booster = xgb.train({"objective": "binary:logistic", "eval_metric": "logloss", "eta": eta,
                     "max_depth": 3, "nthread": 1},
                    xgb.DMatrix(X, label=y), num_boost_round=8,
                    evals=[(xgb.DMatrix(Xv, label=yv), "valid")], verbose_eval=False,
                    callbacks=[tune.xgboost_callback("valid-logloss")])
float(booster.eval(xgb.DMatrix(Xv, label=yv)).split(":")[1])
"""


@pytest.mark.parametrize("jobs", [1, 2])
def test_best_booster_is_in_the_notebook(shell, binary, jobs):
    shell.user_ns.update(dict(zip(["X", "y", "Xv", "yv"], binary)))
    shell.run_cell("import xgboost as xgb")
    result = shell.run_cell(
        f"%%tune --trials 6 --seed 0 --scheduler asha --max-steps 8 --jobs {jobs} "
        f"--plot none --study xgb\n{CELL}")
    assert result.success, result.error_in_exec
    study = shell.user_ns["study"]
    assert study.counts()["complete"] + study.counts().get("pruned", 0) == 6
    assert study.counts().get("pruned", 0) >= 1
    for trial in study.trials:
        assert 1 <= len(trial.intermediate) <= 8
    if jobs > 1:
        return  # trial namespaces stay in the workers: the magic brings back no variables
    best = study.best_trial
    booster = shell.user_ns["booster"]
    assert shell.user_ns["eta"] == best.params["eta"]
    assert booster.num_boosted_rounds() == 8
    logloss = float(booster.eval(xgb.DMatrix(binary[2], label=binary[3])).split(":")[1])
    assert logloss == pytest.approx(best.value, rel=1e-5)
    assert best.intermediate[7] == pytest.approx(best.value, rel=1e-5)
