"""Multi-objective studies and constraints: the Study API, storage, and the %%tune cell."""

import json
import math
import sqlite3

import numpy as np
import pytest

import hpt_magic
from hpt_magic import Float, Int, Study, TrialState, load_study
from hpt_magic.display import summary_html
from hpt_magic.exceptions import TuneError
from hpt_magic.study._pareto import hypervolume, non_dominated_ranks, pareto_front
from hpt_magic.study._results import summary_text
from hpt_magic.visualization._document import document


def _mo_study(**kwargs):
    return Study(directions=["maximize", "minimize"], objectives=["accuracy", "latency_ms"],
                 **kwargs)


def test_tell_a_dict_gives_values_metrics_and_the_front():
    study = _mo_study(constraints=["size_mb <= 20"])
    results = [(0.9, 5.0, 10), (0.8, 1.0, 30), (0.7, 3.0, 5), (0.95, 6.0, 10), (0.6, 4.0, 1)]
    for acc, ms, size in results:
        study.tell(study.ask(), {"accuracy": acc, "latency_ms": ms, "size_mb": size})
    t1 = study.trial(1)
    assert t1.values == [0.8, 1.0] and t1.value == 0.8
    assert t1.metrics == {"accuracy": 0.8, "latency_ms": 1.0, "size_mb": 30.0}
    assert t1.feasible is False and study.trial(0).feasible is True
    # Trial 1 is fast but breaks the constraint; trial 4 is dominated by trial 2.
    assert [t.number for t in study.best_trials] == [3, 0, 2]
    assert study.is_multi_objective and study.objectives == ["accuracy", "latency_ms"]
    assert [d.value for d in study.directions] == ["maximize", "minimize"]
    assert study.direction == "maximize" and study.constraints == ["size_mb <= 20"]
    # Default reference: nadir of the feasible complete trials (0.6, 6.0) moved 10 % of their
    # ranges (0.35 and 3.0: trial 1 is infeasible) towards worse.
    ref = [0.6 - 0.035, 6.0 + 0.3]
    front = np.array([[-0.95, 6.0], [-0.9, 5.0], [-0.7, 3.0]])
    assert study.hypervolume() == pytest.approx(
        hypervolume(front, [-ref[0], ref[1]]))
    # Slabs from the best accuracy down: 0.05 * (10 - 6) + 0.2 * (10 - 5) + 0.7 * (10 - 3).
    assert study.hypervolume([0.0, 10.0]) == pytest.approx(6.1)
    d = t1.to_dict()
    assert d["values"] == [0.8, 1.0] and d["feasible"] is False and d["metrics"]["size_mb"] == 30


def test_hypervolume_matches_slabs_by_hand():
    # Loss space: points (1,3), (2,2), (3,1), reference (4,4): 3 + 2 + 1 = 6 unit squares.
    assert hypervolume(np.array([[1, 3], [2, 2], [3, 1]]), [4, 4]) == 6.0
    assert hypervolume(np.array([[5, 5]]), [4, 4]) == 0.0
    assert non_dominated_ranks(np.array([[1, 1], [2, 2], [1, 3]])).tolist() == [0, 1, 1]


def test_a_sequence_of_values_and_failures_with_their_reason():
    study = _mo_study()
    assert study.tell(study.ask(), (0.9, 2)).values == [0.9, 2.0]
    missing = study.tell(study.ask(), {"accuracy": 0.9})
    assert missing.state is TrialState.FAILED and "no 'latency_ms'" in missing.error
    nan = study.tell(study.ask(), {"accuracy": 0.9, "latency_ms": math.nan})
    assert nan.state is TrialState.FAILED and "'latency_ms'" in nan.error and "nan" in nan.error
    one = study.tell(study.ask(), 0.5)
    assert one.state is TrialState.FAILED and "2 objectives" in one.error
    three = study.tell(study.ask(), (1, 2, 3))
    assert three.state is TrialState.FAILED and "3 values" in three.error


@pytest.mark.parametrize("result, said", [
    ("fast", "returned a str ('fast')"), (None, "returned None"),
    (object(), "returned an object of type object"), (math.nan, "returned one number (nan)")])
def test_a_result_that_is_no_number_is_named_as_what_it_is(result, said):
    # Text, None or a model was "one number (None)".
    study = _mo_study()
    t = study.tell(study.ask(), result)
    assert t.state is TrialState.FAILED and said in t.error and "(None)" not in t.error
    assert "2 objectives (accuracy, latency_ms)" in t.error


def test_constraint_metric_missing_fails_and_bad_constraints_are_refused():
    study = _mo_study(constraints=["size_mb <= 20"])
    t = study.tell(study.ask(), {"accuracy": 0.9, "latency_ms": 1})
    assert t.state is TrialState.FAILED and "size_mb" in t.error
    # A NAME is a key, read as text and never run: this one is simply missing from the dict.
    odd = _mo_study(constraints=["__import__('os').system('x') <= 1"])
    assert odd.constraints == ["__import__('os').system('x') <= 1"]
    t = odd.tell(odd.ask(), {"accuracy": 0.9, "latency_ms": 1})
    assert t.state is TrialState.FAILED and "__import__('os').system('x')" in t.error
    for bad in ("size_mb < 20", "<= 20", "size_mb <= big"):
        with pytest.raises(TuneError, match="NAME <= NUMBER"):
            _mo_study(constraints=[bad])
    for two in ("size_mb<=20, acc>=0.5", "a <= 1 >= 2", "size_mb <= 20 and acc >= 0.5"):
        with pytest.raises(TuneError, match="more than one bound: give each as a constraint"):
            _mo_study(constraints=[two])


@pytest.mark.parametrize("kwargs", [
    {"directions": "maximize"}, {"directions": ["max", "min"], "objectives": "ab"},
    {"objectives": "acc"}, {"constraints": "size_mb <= 20"}])
def test_one_string_where_a_list_belongs_is_refused_naming_the_fix(kwargs):
    # A string is a sequence of letters: 'ab' made the objectives 'a' and 'b'.
    (key, value), = [(k, v) for k, v in kwargs.items() if isinstance(v, str)]
    with pytest.raises(TuneError, match=rf"{key}={value!r} is one string.*{key}=\[{value!r}\]"):
        Study(**kwargs)


def test_a_constraint_given_as_a_function_is_refused_with_the_form_to_use():
    with pytest.raises(TuneError, match="'NAME <= NUMBER'.*not a function") as info:
        _mo_study(constraints=[lambda trial: [trial.params["x"] - 1]])
    assert " at 0x" not in str(info.value)


def test_single_objective_with_a_constraint_keeps_best_trial_feasible():
    study = Study(direction="max", objectives=["acc"], constraints=["mem >= 0"])
    study.tell(study.ask(), {"acc": 0.99, "mem": -1})
    study.tell(study.ask(), {"acc": 0.5, "mem": 1})
    assert study.best_trial.number == 1 and [t.number for t in study.best_trials] == [1]
    assert not study.is_multi_objective


def test_when_every_complete_trial_breaks_a_constraint_the_errors_say_so():
    study = Study(direction="max", objectives=["acc"], constraints=["mem >= 0"])
    study.tell(study.ask(), {"acc": 0.99, "mem": -1})
    with pytest.raises(TuneError, match=r"1 complete trial.*breaks? the constraints \(mem >= 0\)"):
        _ = study.best_trial
    summary = study.summary()
    assert "1 complete" in summary and "No complete trial yet" not in summary
    assert "No complete trial meets the constraints (mem >= 0) yet." in summary
    empty = Study(direction="max", objectives=["acc"], constraints=["mem >= 0"])
    with pytest.raises(TuneError, match="no complete trial yet"):
        _ = empty.best_trial


def test_a_multi_objective_summary_without_a_front_says_why():
    # Both cases said "No complete feasible trial yet.": with 5 complete trials that break
    # the constraint (which one, it did not say), and in a study that has no constraint.
    broken = _mo_study(constraints=["mem <= 1"])
    for _ in range(2):
        broken.tell(broken.ask(), {"accuracy": 0.9, "latency_ms": 1, "mem": 5})
    assert broken.summary().endswith(
        "2 complete, 0 pruned, 0 failed.\nNo complete trial meets the constraints "
        "(mem <= 1) yet.")
    failed = _mo_study()
    failed.tell(failed.ask(), "text")
    assert failed.summary().endswith("1 failed.\nNo complete trial yet.")


def test_best_trial_of_a_multi_objective_study_is_on_the_front():
    # Trials 0 and 1 tie on the first objective; 1 is better on the second, so 0 is dominated.
    # Trial 3 beats them all but breaks the constraint.
    study = Study(directions=["min", "max"], objectives=["a", "b"], constraints=["m <= 1"])
    for a, b, m in [(0.5, 1.0, 0), (0.5, 2.0, 0), (0.7, 3.0, 0), (0.1, 9.0, 2)]:
        study.tell(study.ask(), {"a": a, "b": b, "m": m})
    assert [t.number for t in study.best_trials] == [1, 2]
    assert study.best_trial.number == 1 and study.best_value == 0.5
    assert study.best_params == study.trial(1).params


def test_the_trial_the_notebook_keeps_is_best_trial_also_on_a_tie():
    from hpt_magic.notebook._run_summary import picked_trial

    # Three objectives: trials 0 and 1 tie on the first and are both on the front.
    study = Study(directions=["min"] * 3, objectives=["a", "b", "c"])
    for values in [(0, 2, 1), (0, 1, 2)]:
        study.tell(study.ask(), dict(zip("abc", values)))
    assert {t.number for t in study.best_trials} == {0, 1}
    assert picked_trial(study, None) is study.best_trial
    assert picked_trial(study, "c").number == 0


def test_report_dicts_record_every_curve_and_the_first_objective():
    study = _mo_study()

    def objective(trial):
        for step in range(3):
            trial.report({"accuracy": 0.5 + step / 10, "latency_ms": 3 - step}, step=step)
        # Nothing returned: the last reports are the result.

    study.optimize(objective, n_trials=1)
    t = study.trials[0]
    assert t.intermediate == {0: 0.5, 1: 0.6, 2: 0.7}
    assert t.intermediate_metrics["latency_ms"] == {0: 3.0, 1: 2.0, 2: 1.0}
    assert t.state is TrialState.COMPLETE and t.values == [0.7, 1.0]
    trial = study.ask()
    with pytest.raises(TuneError, match="without 'accuracy'"):
        trial.report({"latency_ms": 1.0}, step=0)


def test_reports_of_one_number_in_a_multi_objective_study_fail_saying_to_report_a_dict():
    study = _mo_study(constraints=["size_mb <= 20"])

    def objective(trial):
        for step in range(3):
            trial.report(0.5 + step / 10, step=step)

    study.optimize(objective, n_trials=1)
    t = study.trials[0]
    assert t.state is TrialState.FAILED and t.intermediate == {0: 0.5, 1: 0.6, 2: 0.7}
    assert "the objective returned one number" not in t.error
    assert "reported one number (0.7)" in t.error
    assert "tune.report({'accuracy': ..., 'latency_ms': ..., 'size_mb': ...}" in t.error
    # One objective and a constraint: the constrained metric must be reported too.
    study = Study(objectives=["loss"], constraints=["size_mb <= 20"])
    study.optimize(objective, n_trials=1)
    assert "tune.report({'loss': ..., 'size_mb': ...}" in study.trials[0].error


def test_stored_values_metrics_and_curves_survive_a_reload(tmp_path):
    path = tmp_path / "s.db"
    study = _mo_study(name="mo", storage=path, constraints=["size_mb <= 20"])

    def objective(trial):
        x = trial.suggest_float("x", 0, 1)
        trial.report({"accuracy": x / 2, "latency_ms": 2.0}, step=0)
        return {"accuracy": x, "latency_ms": 1 + x, "size_mb": 30 * x, "note": "text"}

    study.optimize(objective, n_trials=4)
    loaded = load_study("mo", path)
    assert loaded.objectives == ["accuracy", "latency_ms"] and loaded.constraints == [
        "size_mb <= 20"]
    for a, b in zip(study.trials, loaded.trials):
        assert (a.values, a.metrics, a.feasible, a.intermediate_metrics) == (
            b.values, b.metrics, b.feasible, b.intermediate_metrics)
    assert "note" not in loaded.trials[0].metrics  # text is not a metric
    assert [t.number for t in loaded.best_trials] == [t.number for t in study.best_trials]
    with sqlite3.connect(path) as db:
        value, values = db.execute("SELECT value, trial_values FROM trials LIMIT 1").fetchone()
    # Older readers see the first objective in `value`.
    assert json.loads(values)[0] == value


def test_a_bound_of_many_digits_is_stored_as_given(tmp_path):
    # Stored as 'peak_bytes <= 1.23457e+06': a reopened study judged 1234569 bytes feasible
    # under a limit of 1234567, and took a run asking for another limit as the same one.
    path = tmp_path / "s.db"
    study = _mo_study(name="mo", storage=path, constraints=["peak_bytes <= 1234567"])
    assert study.constraints == ["peak_bytes <= 1234567"]
    loaded = load_study("mo", path)
    assert loaded.constraints == ["peak_bytes <= 1234567"]
    t = loaded.tell(loaded.ask(), {"accuracy": 0.9, "latency_ms": 1, "peak_bytes": 1234569})
    assert t.feasible is False
    with pytest.raises(TuneError, match=r"constraints \['peak_bytes <= 1234567'\], not "
                                        r"\['peak_bytes <= 1234569.5'\]"):
        _mo_study(name="mo", storage=path, constraints=["peak_bytes <= 1234569.5"])
    assert Study(objectives=["a"], constraints=["lat <= 1.2345678e-4"]).constraints == [
        "lat <= 0.00012345678"]
    # A study written by the version that rounded the bound: the refusal says so, and the
    # stored text continues it (its constraint is never replaced without a word).
    _mo_study(name="old", storage=path, constraints=["peak_bytes <= 1.23457e+06"])
    with pytest.raises(TuneError, match="an earlier version stored rounded to 6 digits"):
        _mo_study(name="old", storage=path, constraints=["peak_bytes <= 1234567"])
    assert _mo_study(name="old", storage=path, constraints=["peak_bytes <= 1.23457e+06"])


def test_a_single_objective_study_refuses_a_multi_objective_run_and_back(tmp_path):
    path = tmp_path / "s.db"
    Study(name="so", storage=path, direction="max")
    with pytest.raises(TuneError, match="single-objective.*--new"):
        _mo_study(name="so", storage=path)
    _mo_study(name="mo", storage=path)
    with pytest.raises(TuneError, match="multi-objective.*--new"):
        Study(name="mo", storage=path, direction="max")
    with pytest.raises(TuneError, match="not with the objectives"):
        Study(name="mo", storage=path, directions=["max", "min"], objectives=["a", "b"])
    assert _mo_study(name="so", storage=path, new=True).is_multi_objective


def test_a_file_of_revision_2_read_only_still_opens(tmp_path):
    from tests.test_storage import _VERSION_1

    path = tmp_path / "v1.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(_VERSION_1)
    path.chmod(0o444)
    try:
        study = load_study("old", path)
        assert study.trials[0].values == [0.5] and study.best_trials[0].number == 0
        assert study.objectives == ["value"]
    finally:
        path.chmod(0o644)


def test_pareto_front_function_for_the_dashboard():
    study = _mo_study()
    for acc, ms in [(0.9, 5), (0.8, 1), (0.7, 3)]:
        study.tell(study.ask(), {"accuracy": acc, "latency_ms": ms})
    assert [t.number for t in pareto_front(study.trials, study.directions)] == [0, 1]


def test_study_document_carries_objectives_values_and_feasibility():
    study = _mo_study(constraints=["size_mb <= 20"])
    study.tell(study.ask(), {"accuracy": 0.9, "latency_ms": 5, "size_mb": 30})
    doc = document(study)
    assert doc["objectives"] == [{"name": "accuracy", "direction": "maximize"},
                                 {"name": "latency_ms", "direction": "minimize"}]
    assert doc["constraints"] == ["size_mb <= 20"]
    trial = doc["trials"][0]
    assert trial["values"] == [0.9, 5.0] and trial["feasible"] is False
    assert trial["metrics"]["size_mb"] == 30.0


def test_a_bounded_live_document_keeps_every_front_trial():
    # A live update of a large study carries a sample of its trials; the JupyterLab view
    # draws the front from them, so every front trial must be in it.
    from hpt_magic.notebook._dashboard import Dashboard

    study = Study(directions=["max", "min"], objectives=["acc", "ms"])
    rng = np.random.default_rng(0)
    for _ in range(400):
        x = rng.random()
        study.tell(study.ask(), {"acc": x, "ms": x ** 2 + rng.random() / 10})
    front = {t.number for t in study.best_trials}
    assert len(front) > 4  # more than the document's top tenth of 40
    view = Dashboard(study, mode="none")._model
    doc = document(view, max_trials=40)
    assert doc["progress"]["sampled"] > 0
    assert front <= {t["number"] for t in doc["trials"]}
    # Its best is the front's best accuracy, not a trial that ties on it and is dominated.
    tie = Study(directions=["max", "min"], objectives=["acc", "ms"])
    for ms in (2.0, 1.0):
        tie.tell(tie.ask(), {"acc": 0.9, "ms": ms})
    assert document(tie)["progress"]["best"]["number"] == 1


def test_multi_objective_runs_in_worker_processes():
    study = Study(space={"x": Float(0, 1), "n": Int(1, 3)}, directions=["min", "min"],
                  objectives=["f1", "f2"], constraints=["g <= 0.9"], seed=0)
    study.optimize(_zdt_like, n_trials=6, n_jobs=2)
    assert all(t.state is TrialState.COMPLETE for t in study.trials)
    assert all(len(t.values) == 2 and "g" in t.metrics for t in study.trials)
    assert any(t.feasible is False for t in study.trials) or all(
        t.metrics["g"] <= 0.9 for t in study.trials)


def _zdt_like(trial):
    x, n = trial.params["x"], trial.params["n"]
    return {"f1": x, "f2": 1 - math.sqrt(x) + n / 10, "g": x * n / 2}


MO_CELL = """
width = tune.int(16, 512, log=True)
depth = tune.int(1, 6)
model = (width, depth)
dict(accuracy=1 - 1 / (width * depth), latency_ms=width * depth / 100, size_mb=width / 20)
"""


def test_a_tune_cell_with_two_objectives_and_a_constraint(shell, capsys):
    r = shell.run_cell("%%tune --trials 12 --maximize accuracy --minimize latency_ms "
                       "--constraint 'size_mb <= 20' --seed 0 --plot none --study mo "
                       "--storage memory\n" + MO_CELL)
    assert r.success, r.error_in_exec
    study = shell.user_ns["study"]
    assert study.objectives == ["accuracy", "latency_ms"] and study.constraints == [
        "size_mb <= 20"]
    assert all(t.state is TrialState.COMPLETE for t in study.trials)
    assert all((t.metrics["size_mb"] <= 20) == t.feasible for t in study.trials)
    front = study.best_trials
    assert front and all(t.feasible for t in front)
    # By default the notebook keeps the front's best accuracy.
    best_acc = max(front, key=lambda t: t.values[0])
    assert shell.user_ns["model"] == (best_acc.params["width"], best_acc.params["depth"])
    out = capsys.readouterr().out
    assert "Pareto front" in out and "accuracy (max)" in out
    # --pick chooses another objective of the front.
    r = shell.run_cell("%%tune --trials 8 --maximize accuracy --minimize latency_ms "
                       "--constraint 'size_mb <= 20' --plot none --study mo2 --storage memory "
                       "--pick latency_ms --seed 1\n" + MO_CELL)
    assert r.success, r.error_in_exec
    study = shell.user_ns["study"]
    fastest = min(study.best_trials, key=lambda t: t.values[1])
    assert shell.user_ns["model"] == (fastest.params["width"], fastest.params["depth"])


def test_a_constraint_on_a_metric_named_as_loggers_name_them(shell):
    # 'val/loss <= 0.5' (Lightning's and TensorBoard's names) was refused as "not of the form
    # 'NAME <= NUMBER'".
    cell = ("%%tune --trials 3 --maximize val/acc --minimize ms --constraint 'val/loss <= 0.5' "
            "--constraint 'recall@10>=0.1' --constraint 'mAP50(B) >= 0.1' --plot none "
            "--storage memory\nx = tune.uniform(0, 1)\n"
            "{'val/acc': x, 'ms': 1 - x, 'val/loss': x, 'recall@10': 0.2, 'mAP50(B)': 0.5}")
    r = shell.run_cell(cell)
    assert r.success, r.error_in_exec
    study = shell.user_ns["study"]
    assert study.constraints == ["val/loss <= 0.5", "recall@10 >= 0.1", "mAP50(B) >= 0.1"]
    assert all(t.feasible == (t.metrics["val/loss"] <= 0.5) for t in study.trials)


def test_quoted_objective_names_lose_their_quotes_as_other_options_do(shell):
    cell = 'x = tune.float(0, 1)\n{"<b>acc</b>": x, "lat ms": 1 - x}'
    r = shell.run_cell("%%tune --trials 2 --maximize '<b>acc</b>' --minimize \"lat ms\" "
                       "--plot none --storage memory\n" + cell)
    assert r.success, r.error_in_exec
    study = shell.user_ns["study"]
    assert study.objectives == ["<b>acc</b>", "lat ms"]
    assert all(t.state is TrialState.COMPLETE for t in study.trials)


def test_a_cell_missing_an_objective_fails_its_trials_with_the_reason(shell, capsys):
    r = shell.run_cell("%%tune --trials 2 --maximize accuracy --minimize energy --plot none "
                       "--storage memory\n" + MO_CELL)
    assert r.success
    study = shell.user_ns["study"]
    assert all(t.state is TrialState.FAILED for t in study.trials)
    assert "no 'energy'" in study.trials[0].error
    assert "no 'energy'" in capsys.readouterr().out


def test_directions_with_a_tuple_and_a_refused_multi_objective_rerun(shell):
    cell = "x = tune.float(0, 1)\n(x, 1 - x ** 0.5)"
    r = shell.run_cell("%%tune --trials 4 --directions min,min --plot none --study t "
                       "--storage memory\n" + cell)
    assert r.success, r.error_in_exec
    assert shell.user_ns["study"].objectives == ["value_0", "value_1"]
    shell.run_cell("%%tune --trials 2 --maximize --plot none --study s --storage memory\n"
                   "x = tune.float(0, 1)\nx")
    r = shell.run_cell("%%tune --trials 2 --maximize accuracy --minimize latency_ms "
                       "--plot none --study s --storage memory\n" + MO_CELL)
    assert not r.success
    assert "single-objective" in str(r.error_in_exec) and "--new" in str(r.error_in_exec)
    r = shell.run_cell("%%tune --trials 2 --maximize --minimize latency_ms --plot none "
                       "--storage memory\n" + MO_CELL)
    assert "Name every objective" in str(r.error_in_exec)
    r = shell.run_cell("%%tune --trials 2 --maximize accuracy --minimize latency_ms "
                       "--pick size --plot none --storage memory\n" + MO_CELL)
    assert "--pick 'size'" in str(r.error_in_exec)


def test_tune_search_cv_multi_metric_scoring_and_objectives():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    from hpt_magic.sklearn import TuneSearchCV

    X, y = load_iris(return_X_y=True)
    scoring = {"acc": "accuracy", "f1": "f1_macro"}
    search = TuneSearchCV(LogisticRegression(max_iter=300), {"C": Float(1e-3, 10, log=True)},
                          n_trials=5, cv=3, scoring=scoring, refit="acc", random_state=0)
    search.fit(X, y)
    grid = GridSearchCV(LogisticRegression(max_iter=300), {"C": [1.0]}, cv=3, scoring=scoring,
                        refit="acc").fit(X, y)
    assert set(grid.cv_results_) <= set(search.cv_results_)
    assert "rank_test_f1" in search.cv_results_ and search.best_score_ == max(
        search.cv_results_["mean_test_acc"])
    front = TuneSearchCV(LogisticRegression(max_iter=300), {"C": Float(1e-3, 10, log=True)},
                         n_trials=6, cv=3, scoring=scoring, refit="acc", random_state=0,
                         objectives=["acc", "f1"]).fit(X, y)
    study = front.study_
    assert study.objectives == ["acc", "f1"] and study.best_trials
    assert all(set(t.metrics) == {"acc", "f1"} for t in study.trials)
    # It said "are not keys of scoring (None)" of scoring="accuracy".
    with pytest.raises(TuneError, match="not names in scoring, and scoring='accuracy' is one "
                                        "metric") as info:
        TuneSearchCV(LogisticRegression(), {"C": Float(0.1, 1)}, n_trials=2, cv=3,
                     scoring="accuracy", objectives=["acc"]).fit(X, y)
    assert "(None)" not in str(info.value)
    with pytest.raises(TuneError, match="not names in scoring, which is the estimator's "
                                        "default score"):
        TuneSearchCV(LogisticRegression(), {"C": Float(0.1, 1)}, n_trials=2, cv=3,
                     objectives=["acc"]).fit(X, y)
    with pytest.raises(TuneError, match=r"\['loss'\] are not names in scoring \(\['acc', "
                                        r"'f1'\]\)"):
        TuneSearchCV(LogisticRegression(), {"C": Float(0.1, 1)}, n_trials=2, cv=3,
                     scoring=scoring, refit="acc", objectives=["acc", "loss"]).fit(X, y)
    # A list of scorer names is multi-metric scoring as well, its names the keys.
    listed = TuneSearchCV(LogisticRegression(max_iter=300), {"C": Float(1e-3, 10, log=True)},
                          n_trials=3, cv=3, scoring=["accuracy", "f1_macro"],
                          refit="accuracy", random_state=0,
                          objectives=["accuracy", "f1_macro"]).fit(X, y)
    assert listed.study_.objectives == ["accuracy", "f1_macro"]


def _mo_objective(trial):
    x = trial.suggest_float("x", 0, 1)
    for step in range(3):
        trial.report({"f1": x * (3 - step), "f2": 1 - x, "aux": step}, step=step)
    return {"f1": x, "f2": (1 - x) ** 2, "aux": 7.0}


def test_exports_and_tune_list_carry_every_value(tmp_path, shell, capsys):
    pd = pytest.importorskip("pandas")
    path = tmp_path / "s.db"
    study = Study(name="mo", storage=path, directions=["min", "min"], objectives=["f1", "f2"],
                  constraints=["aux <= 10"], seed=0)
    study.optimize(_mo_objective, n_trials=4)
    df = study.to_dataframe()
    assert {"values_f1", "values_f2", "metrics_aux", "feasible"} <= set(df.columns)
    assert df["values_f2"].tolist() == [t.values[1] for t in study.trials]
    study.to_csv(tmp_path / "t.csv")
    assert "values_f1" in pd.read_csv(tmp_path / "t.csv").columns
    shell.run_cell(f"%tune_list {path}")
    out = capsys.readouterr().out
    assert "min,min" in out and f"front of {len(study.best_trials)} (f1, f2)" in out


def test_tune_list_aligns_three_objectives_and_shows_no_empty_front(tmp_path, shell, capsys):
    # "max,min,min" pushed its row's numbers out of their columns, and a study whose trials
    # all broke the constraint (or failed) was listed as "front of 0 (a, b): ".
    path = tmp_path / "s.db"
    three = Study(name="three", storage=path, directions=["max", "min", "min"],
                  objectives=["a", "b", "c"])
    three.tell(three.ask(), {"a": 1, "b": 2, "c": 3})
    broken = Study(name="broken", storage=path, directions=["max", "min"],
                   objectives=["a", "b"], constraints=["mem <= 1"])
    broken.tell(broken.ask(), {"a": 1, "b": 2, "mem": 5})
    shell.run_cell(f"%tune_list {path}")
    header, *rows = capsys.readouterr().out.splitlines()
    trials = header.index("trials") + len("trials")
    assert all(row[trials - 1] == "1" and row[trials] == " " for row in rows), rows
    assert rows[1].split()[:2] == ["broken", "max,min"] and rows[1].endswith("  -")
    assert "front of 0" not in "".join(rows)


def test_loggers_write_every_objective_and_metric_curve(tmp_path):
    pytest.importorskip("tensorboardX")
    from hpt_magic.callbacks import TensorBoardCallback
    from tests.test_callbacks import read_events, scalars

    study = Study(name="tb", directions=["min", "min"], objectives=["f1", "f2"], seed=0)
    study.subscribe(TensorBoardCallback(tmp_path))
    study.optimize(_mo_objective, n_trials=2)
    trial = study.trials[1]
    events = read_events(tmp_path / "tb" / "trial-0001")
    assert scalars(events, "f2") == pytest.approx({**trial.intermediate_metrics["f2"],
                                                   2: trial.values[1]})
    assert scalars(events, "aux")[2] == pytest.approx(7.0)


@pytest.mark.parametrize("sampler", ["tpe", "gp", "nsga2"])
def test_samplers_treat_infeasible_trials_as_bad(sampler):
    # The feasible region is x <= 0.3; both objectives prefer large x beyond it.
    study = Study(space={"x": Float(0, 1)}, directions=["max", "max"], objectives=["a", "b"],
                  constraints=["x <= 0.3"], seed=0,
                  sampler=sampler, sampler_args={"population_size": 8}
                  if sampler == "nsga2" else {})
    study.optimize(lambda t: {"a": t.params["x"], "b": t.params["x"] ** 2,
                              "x": t.params["x"]}, n_trials=40)
    late = study.trials[20:]
    assert sum(t.feasible for t in late) >= 9  # random search: 3 to 6 of 20
    assert max(t.values[0] for t in study.best_trials) == pytest.approx(0.3, abs=0.05)


@pytest.mark.parametrize("scheduler", ["asha", "hyperband", "median"])
def test_schedulers_stop_dominated_curves_in_a_multi_objective_study(scheduler):
    def objective(trial):
        quality = trial.suggest_float("q", 0, 1)
        for step in range(9):
            trial.report({"acc": quality * (step + 1) / 9, "cost": 1 - quality / 2}, step=step)
        return {"acc": quality, "cost": 1 - quality / 2}

    study = Study(directions=["max", "min"], objectives=["acc", "cost"], scheduler=scheduler,
                  scheduler_args={"n_warmup_steps": 1, "n_min_trials": 3}
                  if scheduler == "median" else {}, max_steps=9, seed=0)
    study.optimize(objective, n_trials=30)
    pruned = [t for t in study.trials if t.state is TrialState.PRUNED]
    assert pruned
    complete = [t.params["q"] for t in study.trials if t.state is TrialState.COMPLETE]
    # Stopped trials are the dominated ones: worse on both curves than what went on.
    assert np.median([t.params["q"] for t in pruned]) < np.median(complete)
    with pytest.raises(TuneError, match="compares one score"):
        Study(directions=["max", "min"], scheduler="pbt")


def test_a_repeated_proposal_reuses_every_value_of_the_earlier_trial():
    from hpt_magic import Choice

    study = Study(space={"c": Choice(["a", "b"])}, directions=["min", "min"],
                  objectives=["f1", "f2"], constraints=["g <= 1"], seed=0)
    calls = []

    def objective(trial):
        calls.append(1)
        return {"f1": 1.0, "f2": 2.0 if trial.params["c"] == "a" else 0.5, "g": 0.0}

    study.optimize(objective, n_trials=2)
    study.enqueue({"c": "a"})
    study.optimize(objective, n_trials=1)
    repeat = next(t for t in study.trials if "repeat_of" in t.user_attrs)
    earlier = study.trial(repeat.user_attrs["repeat_of"])
    assert repeat.state is TrialState.COMPLETE and repeat.values == earlier.values
    assert repeat.feasible is True and repeat.metrics == earlier.metrics


def test_a_rung_lets_its_pareto_front_climb_while_it_is_at_most_half_the_rung():
    from hpt_magic.schedulers._pareto_rank import climb

    # Nine trials on a rung, four of them on a trade-off staircase; the tenth (eta 3: a
    # quota of three) lands in the middle of the staircase, beaten in every objective by
    # nobody, but behind the others by crowding distance: it climbs.
    rung = [(1.0, 8.0), (3.0, 6.0), (5.0, 4.0), (7.0, 2.0)] + [(9.0, 9.0)] * 5
    assert climb(rung, (4.0, 5.5), 3)
    # A dominated trial still needs the best third of the rung.
    assert not climb(rung, (8.0, 8.0), 3)
    # A front wider than half the rung: its best half by crowding distance climbs, not more.
    # Ten trials evenly along a line and an eleventh between two of them (least crowded).
    line = [(float(k), float(10 - k)) for k in range(10)]
    assert not climb(list(line), (4.5, 5.5), 3)  # 11 on the front: quota 5, it is 11th
    # A front of exactly half the rung climbs whole: five on a line, five dominated.
    half = [(float(k), float(5 - k)) for k in range(4)] + [(9.0, 9.0)] * 5
    assert climb(half, (1.5, 3.5), 3)  # the front's 5th of 10: quota max(3, 5) = 5


def _mo_curves(study, runs):
    """Trials of ``study`` from ``(acc, size, steps)`` runs: reports up to ``steps``; nine
    steps finish the trial, fewer prune it (a size over 40 breaks a constraint, if any)."""
    for acc, size, steps in runs:
        trial = study.ask({"x": acc})
        for step in range(steps):
            trial.report({"acc": acc * (step + 1) / 9, "size": size}, step=step)
        if steps == 9:
            study.tell(trial, {"acc": acc, "size": size})
        else:
            study.tell(trial, state="pruned")


def test_tpe_compares_cut_curves_with_others_at_a_common_step():
    from hpt_magic.samplers import TPESampler
    from hpt_magic.samplers._mo import rank_order, staged_order

    # Maximise accuracy, minimise size. Six trials reach step 2 and two of them finish; a
    # tiny model is cut at step 0 with a poor accuracy. Beside the finished values its last
    # report is a trade-off nobody beats in size (the old ranking put it in the good group);
    # compared where the others were at a common step, it was never in the race.
    study = Study(space={"x": Float(0, 1)}, directions=["max", "min"],
                  objectives=["acc", "size"], seed=0)
    _mo_curves(study, [(0.2, 10.0, 9), (0.5, 50.0, 9), (0.6, 60.0, 3), (0.7, 70.0, 3),
                       (0.8, 80.0, 3), (0.9, 90.0, 3), (0.1, 1.0, 1)])
    trials = list(study.trials)
    order = staged_order(study, trials, n_min=4).tolist()
    # Six trials reached step 2 (the furthest step four did): ranked by their reports there,
    # where the tiny model is absent; it comes after them.
    assert order[-1] == 6 and sorted(order[:6]) == [0, 1, 2, 3, 4, 5]
    # Two finished trials are enough at n_min=2: they lead with their final values.
    assert staged_order(study, trials, n_min=2).tolist()[:2] in ([0, 1], [1, 0])
    # Without pruned trials the final values say everything.
    assert staged_order(study, trials[:2], n_min=2) is None

    # TPE's good group (two trials here): the old ranking of last reports put the cut model
    # in it; the sampler's history now ranks at step 2, where the two ends of the front lead.
    sampler = TPESampler(seed=0, n_startup_trials=4, gamma=lambda n: 2)
    history = sampler._refresh(study, study.ask())
    _, y = history.matrix(("x",))
    assert 6 in rank_order(y)[:2].tolist()
    good = history.order(("x",), 4)[:2].tolist()
    assert sorted(good) == [0, 5]
    # Kept per finished trial: the same order until another trial finishes, then rebuilt.
    assert history.order(("x",), 4) is history.order(("x",), 4)
    _mo_curves(study, [(0.3, 5.0, 3)])
    history = sampler._refresh(study, study.ask())
    assert len(history.order(("x",), 4)) == 8


def test_with_no_step_reached_by_enough_trials_the_most_reached_one_is_common():
    from hpt_magic.samplers._mo import staged_order

    study = Study(space={"x": Float(0, 1)}, directions=["max", "min"],
                  objectives=["acc", "size"], seed=0)
    cut = study.ask({"x": 0.1})
    cut.report({"acc": 0.05, "size": 1.0}, step=0)  # a tiny model, one report at step 0
    study.tell(cut, state="pruned")
    for acc in (0.5, 0.6, 0.7):  # three larger ones, reporting from step 5 on
        trial = study.ask({"x": acc})
        for step in (5, 6):
            trial.report({"acc": acc, "size": 100 * acc}, step=step)
        study.tell(trial, state="pruned")
    # No step has ten trials: step 6 (three, the furthest of the most reached) is common,
    # not the earliest step, where the tiny model would be alone and first.
    assert staged_order(study, list(study.trials), n_min=10).tolist()[-1] == 0


def test_a_finished_trial_that_breaks_a_constraint_ranks_after_the_pruned_ones():
    from hpt_magic.samplers._mo import staged_order

    study = Study(space={"x": Float(0, 1)}, directions=["max", "min"],
                  objectives=["acc", "size"], constraints=["size <= 40"], seed=0)
    _mo_curves(study, [(0.9, 90.0, 9), (0.2, 10.0, 9), (0.5, 20.0, 3), (0.6, 30.0, 3)])
    # Two finished trials (n_min=2): compared at their final values, the feasible one first;
    # the one over the size limit is bad whatever its accuracy, after the cut curves.
    order = staged_order(study, list(study.trials), n_min=2).tolist()
    assert order[0] == 1 and sorted(order[1:3]) == [2, 3] and order[3] == 0
    # Compared at step 2, where all four were: still last.
    assert staged_order(study, list(study.trials), n_min=3).tolist()[-1] == 0
    # A finished trial over the limit that reported only its first step (outside the common
    # step's group) is bad too: after the cut curves, by violation (50, then 55).
    bad = study.ask({"x": 0.95})
    bad.report({"acc": 0.1, "size": 95.0}, step=0)
    study.tell(bad, {"acc": 0.95, "size": 95.0})
    order = staged_order(study, list(study.trials), n_min=4).tolist()  # four at step 2
    assert sorted(order) == [0, 1, 2, 3, 4] and order[-2:] == [0, 4]



def test_summaries_give_the_whole_front_size_when_the_table_shows_part_of_it():
    study = Study(space={"x": Float(0, 1)}, directions=["maximize", "minimize"],
                  objectives=["accuracy", "latency_ms"], seed=0)
    study.optimize(lambda t: {"accuracy": t.params["x"], "latency_ms": t.params["x"]},
                   n_trials=8)
    size = len(study.best_trials)
    assert size == 8  # every trial trades one objective for the other
    assert f"Pareto front ({size} trials, the first 5 shown):" in summary_text(study, k=5)
    assert f"Pareto front ({size} trials, the first 5 shown):" in summary_html(study)
    assert f"Pareto front ({size} trials):" in summary_text(study, k=size)


def test_salvage_keeps_every_objective_and_metric_curve(tmp_path):
    path = tmp_path / "s.db"
    study = Study(name="mo", storage=path, directions=["min", "min"], objectives=["f1", "f2"],
                  constraints=["aux <= 10"], seed=0)
    study.optimize(_mo_objective, n_trials=3)
    hpt_magic.salvage(path, tmp_path / "copy.db")
    copied = load_study("mo", tmp_path / "copy.db")
    assert [t.values for t in copied.trials] == [t.values for t in study.trials]
    assert [t.metrics for t in copied.trials] == [t.metrics for t in study.trials]
    assert [t.intermediate_metrics for t in copied.trials] == \
        [t.intermediate_metrics for t in study.trials]
