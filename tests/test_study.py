import math
import sqlite3
import threading
import time
import warnings

import numpy as np
import pytest

from hpt_magic import (
    Choice,
    Float,
    Int,
    SpaceError,
    SQLiteStorage,
    StorageError,
    Study,
    TrialState,
    TuneError,
    load_study,
    tune,
)
from hpt_magic.trial import Direction


def quadratic(trial):
    return (trial.params["x"] - 1) ** 2


def test_ask_tell_and_best():
    study = Study(space={"x": Float(-5, 10), "lr": Float(1e-4, 1e-1, log=True),
                         "depth": Int(1, 8), "act": Choice(["relu", "tanh"])}, seed=0)
    trial = study.ask()
    assert set(trial.params) == {"x", "lr", "depth", "act"}
    assert trial.number == 0 and trial.state is TrialState.RUNNING
    study.tell(trial, 3.0)
    t2 = study.ask()
    study.tell(t2, 1.0)
    t3 = study.ask()
    study.tell(t3, state="failed")
    assert study.best_value == 1.0
    assert study.best_trial is t2
    assert study.best_params == t2.params
    assert [t.number for t in study.trials] == [0, 1, 2]
    assert study.counts()["failed"] == 1


def test_maximize_picks_the_largest():
    study = Study(space={"x": Float(0, 1)}, direction="maximize", seed=0)
    study.optimize(lambda t: t.params["x"], n_trials=10)
    assert study.best_value == max(t.value for t in study.trials)


def test_optimize_finds_the_minimum_and_is_reproducible():
    runs = []
    for _ in range(2):
        study = Study(space={"x": Float(-5, 5)}, seed=42)
        study.optimize(quadratic, n_trials=30)
        runs.append([t.params["x"] for t in study.trials])
    assert runs[0] == runs[1]
    assert min((x - 1) ** 2 for x in runs[0]) < 0.5


def test_different_seeds_give_different_trials():
    a = Study(space={"x": Float(0, 1)}, seed=1)
    b = Study(space={"x": Float(0, 1)}, seed=2)
    assert a.ask().params != b.ask().params


@pytest.mark.parametrize("score, fragment", [
    (float("nan"), "not finite"), (float("inf"), "not finite"), ("abc", "is a str"),
    (None, "returned None"), (True, "bool"),
])
def test_bad_scores_fail_the_trial_with_a_reason(score, fragment):
    study = Study(space={"x": Float(0, 1)})
    study.optimize(lambda t: score, n_trials=1)
    t = study.trials[0]
    assert t.state is TrialState.FAILED
    assert fragment in t.error


def test_a_raising_trial_is_recorded_and_the_study_goes_on():
    def objective(trial):
        if trial.number == 1:
            print("about to fail")
            raise ValueError("boom")
        return trial.params["x"]

    study = Study(space={"x": Float(0, 1)}, seed=0)
    study.optimize(objective, n_trials=4)
    states = [t.state for t in study.trials]
    assert states.count(TrialState.FAILED) == 1 and states.count(TrialState.COMPLETE) == 3
    failed = study.trial(1)
    assert failed.error == "ValueError: boom"
    assert "raise ValueError" in failed.traceback
    assert failed.output == "about to fail\n"


def test_catch_false_reraises():
    study = Study(space={"x": Float(0, 1)})
    with pytest.raises(ZeroDivisionError):
        study.optimize(lambda t: 1 / 0, n_trials=3, catch=False)
    assert len(study.trials) == 1 and study.trials[0].state is TrialState.FAILED


def test_keyboard_interrupt_marks_the_running_trial_and_keeps_the_rest():
    def objective(trial):
        if trial.number == 3:
            raise KeyboardInterrupt
        return 1.0

    study = Study(space={"x": Float(0, 1)})
    with pytest.raises(KeyboardInterrupt):
        study.optimize(objective, n_trials=10)
    assert [t.state.value for t in study.trials] == ["complete"] * 3 + ["interrupted"]


def test_prints_and_warnings_are_captured_per_trial(capsys):
    import warnings

    def objective(trial):
        print("trial", trial.number)
        warnings.warn("careful", UserWarning, stacklevel=1)
        return 0.0

    study = Study(space={"x": Float(0, 1)})
    study.optimize(objective, n_trials=2)
    assert capsys.readouterr().out == ""
    assert study.trial(1).output.startswith("trial 1\nUserWarning: careful")


def test_define_by_run_and_conditional_params():
    def objective(trial):
        kind = tune.choice(["linear", "tree"], name="kind")
        if kind == "tree":
            depth = tune.int(1, 10, name="depth")
            return depth
        return tune.uniform(0, 1, name="c")

    study = Study(seed=3)
    study.optimize(objective, n_trials=20)
    kinds = {t.params["kind"] for t in study.trials}
    assert kinds == {"linear", "tree"}
    for t in study.trials:
        assert ("depth" in t.params) == (t.params["kind"] == "tree")
        assert ("c" in t.params) == (t.params["kind"] == "linear")
    assert set(study.search_space()) == {"kind", "depth", "c"}


def test_tune_outside_a_trial_returns_defaults():
    assert tune.loguniform(1e-4, 1e-2) == pytest.approx(1e-3)
    assert tune.choice(["a", "b"]) == "a"
    assert tune.int(1, 9) == 5
    assert tune.uniform(0, 1, default=0.3) == 0.3
    assert tune.report(1.0) is False
    assert list(tune.steps(3)) == [0, 1, 2]


def test_tune_inside_a_trial_needs_a_name():
    study = Study()
    study.optimize(lambda t: tune.uniform(0, 1), n_trials=1)
    assert "needs a parameter name" in study.trials[0].error


def test_a_definition_changed_mid_study_is_an_edit_unless_its_type_changes():
    study = Study()
    study.optimize(lambda t: tune.uniform(0, 1, name="x"), n_trials=1)
    study.optimize(lambda t: tune.uniform(0, 2, name="x"), n_trials=1)
    assert study.space_version == 1 and study.search_space()["x"] == Float(0, 2)
    with pytest.raises(SpaceError, match="type or a scale"):
        study.optimize(lambda t: tune.int(0, 2, name="x"), n_trials=1)


def test_report_records_curves_and_last_value_is_the_score():
    def objective(trial):
        for step in tune.steps(4):
            tune.report(step * 0.5)

    study = Study(space={"x": Float(0, 1)})
    study.optimize(objective, n_trials=2)
    t = study.trials[0]
    assert t.intermediate == {0: 0.0, 1: 0.5, 2: 1.0, 3: 1.5}
    assert t.state is TrialState.COMPLETE and t.value == 1.5


def test_enqueue_is_tried_first_and_validated():
    study = Study(space={"x": Float(0, 1), "n": Int(1, 5)}, seed=0)
    study.enqueue({"x": 0.25, "n": 3})
    first = study.ask()
    assert first.params == {"x": 0.25, "n": 3}
    with pytest.raises(SpaceError, match="outside"):
        study.enqueue({"x": 5.0})


def test_enqueue_skip_if_exists_queues_a_point_once(tmp_path):
    path = tmp_path / "s.db"
    study = Study(space={"x": Float(0, 1), "n": Int(1, 5)}, name="q", storage=path, seed=0)

    def queue():
        return study._read_attrs().get("queue", [])
    study.enqueue({"x": 0.25}, skip_if_exists=True)
    # Queued already, also as another kernel opening the file sees it.
    Study(name="q", storage=path).enqueue({"x": 0.25}, skip_if_exists=True)
    assert queue() == [{"x": 0.25}]
    study.optimize(lambda t: t.params["x"], n_trials=2)
    study.enqueue({"x": 0.25}, skip_if_exists=True)  # tried by trial 0
    assert queue() == []
    other = 2 if study.trials[0].params["n"] == 1 else 1
    study.enqueue({"x": 0.25, "n": other}, skip_if_exists=True)  # another point
    assert queue() == [{"x": 0.25, "n": other}]
    study.tell(study.ask(), state="failed")  # takes that point
    study.enqueue({"x": 0.25, "n": other}, skip_if_exists=True)  # failed: tried again
    study.enqueue({"x": 0.25})  # without it, queued again
    assert queue() == [{"x": 0.25, "n": other}, {"x": 0.25}]


def test_enqueue_skip_if_exists_knows_a_point_as_trials_take_it(tmp_path):
    # A stepped value at its step, a number given as text, and trials another kernel ran
    # since this one opened the study.
    path = tmp_path / "s.db"
    space = {"x": Float(0, 1, step=0.1), "n": Int(1, 5)}
    study = Study(space=space, name="q", storage=path, seed=0)
    study.enqueue({"x": 0.3, "n": "3"})
    study.optimize(lambda t: t.params["x"], n_trials=1)
    assert study.trials[0].params["x"] != 0.3  # 0.30000000000000004, as the step gives it
    study.enqueue({"x": 0.3, "n": 3}, skip_if_exists=True)
    study.enqueue({"x": 0.31, "n": "3"}, skip_if_exists=True)  # taken at the same step
    assert study._read_attrs().get("queue", []) == []
    late = Study(space=space, name="q", storage=path)
    other = Study(space=space, name="q", storage=path)
    other.optimize(lambda t: t.params["x"], n_trials=1)
    late._loaded -= 2  # (a study just loaded does not look again for a second)
    late.enqueue(dict(other.trials[1].params), skip_if_exists=True)
    assert late._read_attrs().get("queue", []) == []


@pytest.mark.parametrize("value, why", [(float("nan"), "is not a number"),
                                        (float("inf"), r"is outside Int\(0, 10\)"),
                                        (10**400, r"is outside Int\(0, 10\)")],
                         ids=["nan", "inf", "10**400"])
def test_enqueue_refuses_a_number_that_is_no_integer_of_the_range(value, why):
    with pytest.raises(SpaceError, match=f"for 'n' {why}"):
        Study(space={"n": Int(0, 10)}).enqueue({"n": value})


@pytest.mark.parametrize("name, value, why", [
    ("n", 2.5, r"2\.5 for 'n' is not an integer\. Give a whole number in the range of "
               r"Int\(0, 10\)\."),
    ("x", "abc", r"'abc' for 'x' is not a number\. Give a number in the range of Float"),
    ("x", float("nan"), r"nan for 'x' is not a number\."),
    ("act", "gelu", r"'gelu' for 'act' is not one of the options of Choice\(\['relu', "
                    r"'tanh'\]\)\. Give one of them\."),
    ("n", 11, r"11 for 'n' is outside Int\(0, 10\)\. Give a value in that range\."),
    ("n", True, r"True for 'n' is a truth value, not a number\. Give a number in the range"),
    ("x", False, r"False for 'x' is a truth value, not a number\."),
    ("even", 3, r"3 for 'even' is not on a step of Int\(0, 10, step=2\)\. Give 0 plus a "
                r"multiple of 2\."),
])
def test_enqueue_says_why_a_value_is_refused(name, value, why):
    study = Study(space={"n": Int(0, 10), "x": Float(0, 1), "act": Choice(["relu", "tanh"]),
                         "even": Int(0, 10, step=2)})
    with pytest.raises(SpaceError, match=why):
        study.enqueue({name: value})


def test_a_queued_point_outside_the_edited_space_is_dropped_and_the_run_goes_on(tmp_path):
    path = tmp_path / "s.db"
    study = Study(space={"x": Float(0, 1)}, name="q", storage=path, seed=0)
    study.optimize(lambda t: t.params["x"], n_trials=1)
    study.enqueue({"x": 0.5})
    study.enqueue({"x": 0.05})
    narrowed = Study(space={"x": Float(0, 0.1)}, name="q", storage=path, seed=0)
    with pytest.warns(UserWarning, match=r"dropped the queued point \{'x': 0.5\}, which does "
                                         r"not fit its search space now \(x = 0.5 is outside "
                                         r"Float\(0, 0.1\)\)"):
        narrowed.optimize(lambda t: t.params["x"], n_trials=3)
    later = narrowed.trials[1:]
    assert [t.state for t in later] == [TrialState.COMPLETE] * 3
    assert later[0].params == {"x": 0.05} and all(t.params["x"] <= 0.1 for t in later)


def test_a_queued_value_outside_the_range_the_objective_gives_is_sampled_instead():
    def objective(trial):
        return trial.suggest_float("x", 0, 1) + trial.suggest_int("n", 1, 3)

    study = Study(seed=0)
    study.enqueue({"x": 5.0, "n": 2})
    with pytest.warns(UserWarning, match=r"Trial 0 did not use the queued value x = 5.0: it is "
                                         r"outside Float\(0, 1\)"):
        study.optimize(objective, n_trials=5)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 5
    first = study.trials[0]
    assert first.params["n"] == 2 and 0 <= first.params["x"] <= 1


def test_tell_refuses_a_trial_of_another_study_and_writes_nothing(tmp_path):
    ours = Study(space={"x": Float(0, 1)}, name="a", storage=tmp_path / "a.db", seed=0)
    ours.optimize(lambda t: t.params["x"], n_trials=1)
    theirs = Study(space={"y": Float(5, 6)}, name="b", storage=tmp_path / "b.db")
    other = theirs.ask()  # number 0, and the same row id as ours' trial 0
    assert (other.number, other.trial_id) == (ours.trials[0].number, ours.trials[0].trial_id)
    with pytest.raises(TuneError, match="Trial 0 is not a trial of study 'a'"):
        ours.tell(other, 123.0)
    assert other.state is TrialState.RUNNING
    (stored,) = load_study("a", tmp_path / "a.db").trials
    assert stored.params == ours.trials[0].params and stored.value == ours.trials[0].value
    with pytest.raises(TuneError, match="is not a trial of study"):
        Study().tell(Study().ask(), 1.0)


def test_load_study_from_a_missing_file_says_so_and_creates_no_file(tmp_path):
    # A misspelt path is no empty study file: nothing is created, and the error names the path.
    with pytest.raises(StorageError, match="no study file at .*missing.db"):
        load_study("a", tmp_path / "missing.db")
    assert list(tmp_path.iterdir()) == []


def test_a_study_missing_from_memory_is_named_without_an_object_address():
    # %%tune --storage memory --warm-start nothere said "No study named 'nothere' in
    # <hpt_magic.study._storage_base.InMemoryStorage object at 0x7f...>".
    from hpt_magic.study._storage import InMemoryStorage

    with pytest.raises(TuneError, match=r"No study named 'nothere' in InMemoryStorage\(\)\."):
        load_study("nothere", InMemoryStorage())


@pytest.mark.parametrize("state", ["running", "waiting", "bogus"])
def test_tell_needs_a_final_state(state):
    study = Study(space={"x": Float(0, 1)})
    trial = study.ask()
    with pytest.raises(TuneError, match=rf"tell\(state='{state}'\): a trial is told once it is "
                                        r"over, so its state is one of 'complete', 'pruned', "
                                        r"'failed', 'interrupted'"):
        study.tell(trial, 0.5, state=state)
    assert trial.state is TrialState.RUNNING
    assert study.tell(trial, 0.5).state is TrialState.COMPLETE


def test_grid_search_enumerates_everything_once_then_stops():
    study = Study(space={"a": Int(1, 3), "b": Choice(["x", "y"])}, sampler="grid", seed=0)
    study.optimize(lambda t: t.params["a"], n_trials=100)
    combos = [(t.params["a"], t.params["b"]) for t in study.trials]
    assert len(combos) == 6 == len(set(combos))


def test_timeout_stops_the_run():
    study = Study(space={"x": Float(0, 1)})
    t0 = time.time()
    study.optimize(lambda t: time.sleep(0.05) or 1.0, timeout=0.3)
    assert time.time() - t0 < 2
    assert 2 <= len(study.trials) <= 8


def test_events_reach_subscribers_in_order():
    seen = []
    study = Study(space={"x": Float(0, 1)})
    study.subscribe(lambda e: seen.append(e.kind))

    def objective(trial):
        trial.report(1.0, 0)
        return 1.0

    study.optimize(objective, n_trials=1)
    assert seen == ["run_started", "trial_started", "trial_reported", "trial_finished",
                    "run_finished"]


def test_a_failing_subscriber_does_not_stop_the_study():
    study = Study(space={"x": Float(0, 1)})
    study.subscribe(lambda e: 1 / 0)
    with pytest.warns(RuntimeWarning, match="removed"):
        study.optimize(lambda t: 1.0, n_trials=3)
    assert len(study.get_trials(["complete"])) == 3


def test_invalid_arguments_are_clear():
    with pytest.raises(TuneError, match="direction"):
        Study(direction="up")
    with pytest.raises(TuneError, match="Unknown sampler"):
        Study(sampler="nope")
    with pytest.raises(TuneError, match="no complete trial"):
        _ = Study().best_trial
    study = Study(space={"x": Float(0, 1)})
    t = study.ask()
    study.tell(t, 1.0)
    with pytest.raises(TuneError, match="already complete"):
        study.tell(t, 2.0)


def test_background_run_can_be_stopped_and_waited_for():
    from hpt_magic.study._optimize import start_background

    study = Study(space={"x": Float(0, 1)})
    ended = threading.Event()
    start_background(study, lambda t: time.sleep(0.02) or 1.0, n_trials=10_000,
                     on_done=lambda info, err: ended.set())
    time.sleep(0.2)
    assert study.running
    study.stop()
    assert study.wait(5)
    assert ended.is_set()
    assert all(t.state.finished for t in study.trials)


def test_abort_interrupts_the_running_trial_of_a_background_run():
    from hpt_magic.study._optimize import start_background

    study = Study(space={"x": Float(0, 1)})

    def slow(trial):
        for _ in range(400):
            time.sleep(0.01)
        return 1.0

    start_background(study, slow, n_trials=5)
    time.sleep(0.2)
    study.abort()
    assert study.wait(5)
    assert study.trials[-1].state is TrialState.INTERRUPTED
    assert not math.isnan(len(study.trials))


@pytest.mark.parametrize("given, minimising", [("minimize", True), ("min", True),
                                               ("maximize", False), ("max", False)])
def test_direction_accepts_short_names_and_still_compares_as_a_string(given, minimising):
    study = Study(direction=given)
    word = "minimize" if minimising else "maximize"
    assert study.direction == word and study.direction.value == word
    assert study.direction is Direction(word) and str(study.direction) == word
    assert study.is_better(1.0, 2.0) is minimising
    assert study.direction.best([2.0, math.nan, 1.0, 3.0]) == (1.0 if minimising else 3.0)
    assert study.direction.to_loss(2.0) == (2.0 if minimising else -2.0)
    assert study.direction.to_loss(None) == study.direction.to_loss(math.inf) == math.inf


def test_top_trials_are_complete_scored_trials_best_first_ties_by_number():
    study = Study(direction="max")
    for value, state in [(0.5, None), (0.9, None), (2.0, "pruned"), (None, "failed"),
                         (0.9, None), (0.7, None)]:
        study.tell(study.ask(), value, state=state)
    study.ask()  # still running
    assert [t.number for t in study.top_trials(3)] == [1, 4, 5]
    assert [t.number for t in study.top_trials()] == [1, 4, 5, 0]
    assert study.top_trials(0) == []
    assert study.best_trial is study.top_trials(1)[0]
    assert [t.number for t in Direction.MINIMIZE.sort(study.top_trials())] == [0, 5, 1, 4]
    assert Study().top_trials(5) == []


def test_the_direction_is_stored_as_its_full_word(tmp_path):
    path = tmp_path / "s.db"
    Study(name="a", storage=path, direction="max")
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT direction FROM studies").fetchall() == [("maximize",)]
    assert load_study("a", path).direction == "maximize"
    with pytest.raises(TuneError, match="created to maximize, not to minimize"):
        Study(name="a", storage=path, direction="min")


def test_a_renamed_single_objective_is_refused_naming_both_names(tmp_path):
    path = tmp_path / "s.db"
    Study(name="a", storage=path, direction="max", objectives=["acc"])
    with pytest.raises(TuneError, match="created to maximize 'acc', not to maximize 'val acc'"):
        Study(name="a", storage=path, direction="max", objectives=["val acc"])


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
def test_a_study_pickles_and_its_copy_goes_on(tmp_path, storage):
    # As with Optuna's studies: joblib.dump(study) / pickle, then continue the copy.
    import pickle

    def objective(trial):
        x = tune.uniform(0, 1, name="x")
        for step in tune.steps(9):
            tune.report(x * (step + 1))
        return x

    path = None if storage == "memory" else tmp_path / "s.db"
    study = Study(sampler="tpe", scheduler="asha", max_steps=9, seed=0, storage=path, name="p")
    study.events.subscribe(lambda event: None)  # the notebook's subscribers stay behind
    study.optimize(objective, n_trials=12)
    copy = pickle.loads(pickle.dumps(study))
    assert [(t.params, t.state, t.value) for t in copy.trials] == \
        [(t.params, t.state, t.value) for t in study.trials]
    assert copy.best_value == study.best_value
    copy.optimize(objective, n_trials=3)
    assert len(copy.trials) == 15
    if path is not None:  # the copy wrote to the same file, on a connection of its own
        assert len(load_study("p", str(path)).trials) == 15
    else:
        assert len(study.trials) == 12  # an in-memory copy is a copy


def test_a_study_pickles_in_the_middle_of_its_run(tmp_path):
    import pickle

    study = Study(space={"x": Float(0, 1)}, seed=0, storage=tmp_path / "s.db", name="p")
    copies = []

    def objective(trial):
        copies.append(pickle.dumps(study))  # a running trial links to its run and host
        return trial.params["x"]

    study.optimize(objective, n_trials=2)
    copy = pickle.loads(copies[-1])
    assert [t.state.value for t in copy.trials] == ["complete", "running"]


def test_a_pickled_study_whose_file_is_gone_is_refused(tmp_path):
    import pickle

    path = tmp_path / "s.db"
    study = Study(space={"x": Float(0, 1)}, seed=0, storage=SQLiteStorage(path), name="p")
    study.optimize(lambda t: t.params["x"], n_trials=2)
    data = pickle.dumps(study)
    study.storage.close()
    path.rename(tmp_path / "moved.db")
    with pytest.raises(StorageError, match="gone"):
        pickle.loads(data)
    assert not path.exists()  # no new empty file took the copy's trials
    Study(name="other", storage=SQLiteStorage(path)).storage.close()  # a new file, no "p"
    with pytest.raises(StorageError, match="not in"):
        pickle.loads(data)


def test_a_run_whose_first_trials_all_fail_alike_stops_and_says_why():
    # Five failures in a row with one message, and nothing else this run: a bug in the
    # objective, which the other fifteen trials would hit too.
    study = Study(space={"x": Float(0, 1)}, seed=0)
    with pytest.warns(UserWarning, match=r"first 5 trials of this run all failed with "
                                         r"NameError: name 'modle' is not defined.*fix it"):
        study.optimize(lambda t: modle.fit(t.params["x"]), n_trials=20)  # noqa: F821
    assert study.counts()["failed"] == 5
    # Failures that differ, or a trial that works, are the space's business: the run goes on.
    study = Study(space={"x": Float(0, 1)}, seed=0)

    def differs(t):
        raise ValueError(f"x={t.params['x']:.3f} is too large")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        study.optimize(differs, n_trials=8)
        assert study.counts()["failed"] == 8
        scores = iter([0.5])
        study.optimize(lambda t: next(scores), n_trials=8)  # one works, then StopIteration
    assert study.counts()["failed"] == 15


def test_nan_scores_are_no_bug():
    # A score that is no number, five times: the parameters' doing (a diverging region), not
    # a bug; the run goes on and the samplers keep the evidence.
    study = Study(space={"x": Float(0, 1)}, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        study.optimize(lambda t: float("nan"), n_trials=8)
    assert study.counts()["failed"] == 8 and not study._attrs.get("failed_alike")


def _text_score(t):
    return f"{t.params['x']:.3f}"  # a formatted score: text, and different every trial


@pytest.mark.parametrize("objectives, objective, n_jobs, why", [
    (None, _text_score, 1, r"the score is a str \('0\.\d+'\)"),
    (None, _text_score, 2, r"the score is a str \('0\.\d+'\)"),
    (None, lambda t: [t.params["x"], 1.0], 1,
     r"the objective returned 2 values where the study has one objective: return one number "
     r"\(for several objectives, give them: --directions max,min"),
    (None, lambda t: np.full(2, t.params["x"]), 1, "the objective returned 2 values"),
    ({"objectives": ["loss"], "constraints": ["size <= 3"]}, lambda t: (t.params["x"], 2.0), 1,
     r"the objective returned 2 values where the study has one objective: return a dict with "
     r"loss, size \(the objective and the metrics its constraints read\)\. That"),
    (None, lambda t: {"accuracy": t.params["x"]}, 1, "the objective returned a dict"),
    (["a", "b"], lambda t: (t.params["x"], 1.0, 2.0), 1, "the objective returned 3 values"),
    (["a", "b"], lambda t: t.params["x"], 1, r"the objective returned one number \(0\.\d+"),
    (["a", "b"], lambda t: {"a": t.params["x"], "b": str(t.params["x"])}, 1,
     r"'b': the score is a str"),
])
def test_results_of_the_wrong_type_or_shape_are_a_bug(objectives, objective, n_jobs, why):
    # Every trial fails with a message that shows its own value, and no traceback: still the
    # same bug, which every further trial would hit. The run stops after five.
    kwargs = objectives if isinstance(objectives, dict) else {"objectives": objectives}
    study = Study(space={"x": Float(0, 1)}, seed=0, **kwargs)
    with pytest.warns(UserWarning, match=f"first 5 trials of this run all failed because {why}"):
        study.optimize(objective, n_trials=20, n_jobs=n_jobs)
    failed = [t.number for t in study.trials if t.state is TrialState.FAILED]
    assert len(study.trials) == len(failed) < 20
    assert study._attrs["failed_alike"] == failed


@pytest.mark.parametrize("objectives, objective", [
    (None, lambda t: math.inf),
    (None, lambda t: 10 ** 400),  # too large a number: the value's doing, not its type's
    (["a", "b"], lambda t: {"a": math.nan, "b": t.params["x"]}),
    (None, lambda t: time.sleep(10)),  # timed out, in the kernel (with a traceback)
])
def test_failures_the_parameters_may_cause_are_no_bug(objectives, objective):
    # Infinite, NaN or overflowing scores and timeouts, however many in a row: a diverging or
    # slow region of the space, not a bug. The run goes on, and the samplers keep the evidence.
    study = Study(space={"x": Float(0, 1)}, seed=0, objectives=objectives)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        study.optimize(objective, n_trials=7, trial_timeout=0.05)
    assert study.counts()["failed"] == 7 and not study._attrs.get("failed_alike")


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_every_trial_a_bug_failed_is_marked_whatever_ends_the_run(n_jobs):
    # A budget of five ends the run before the rule would; in parallel, trials still running
    # when it fires fail with the same bug after it. All of them are marked.
    def buggy(trial):
        raise TypeError("unsupported operand")

    study = Study(space={"x": Float(0, 1)}, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(buggy, n_trials=5 if n_jobs == 1 else 20, n_jobs=n_jobs)
    failed = [t.number for t in study.trials if t.state is TrialState.FAILED]
    assert len(failed) >= 5 and study._attrs["failed_alike"] == failed


def test_user_attrs_are_stored_with_the_study(tmp_path):
    path = tmp_path / "s.db"
    study = Study(name="s", storage=path)
    study.set_user_attr("data", {"rows": [1, 2]})
    study.set_user_attr("note", "digits")
    assert Study(name="s", storage=path).user_attrs == {"data": {"rows": [1, 2]},
                                                        "note": "digits"}
    study.user_attrs["note"] = "changed"  # a copy
    assert study.user_attrs["note"] == "digits"
    with pytest.raises(TuneError, match="user attribute 'model' = .* cannot be stored"):
        study.set_user_attr("model", object())
    with pytest.raises(TuneError, match="key is text, got 1"):
        study.set_user_attr(1, "a number key would come back from the file as '1'")
    # Another kernel's value is seen by a study already open; inf survives (as in Optuna).
    Study(name="s", storage=path).set_user_attr("limit", math.inf)
    assert study.user_attrs["limit"] == math.inf


@pytest.mark.parametrize("in_file", [False, True])
def test_setdefault_user_attr_gives_the_stored_value_each_time(tmp_path, in_file):
    # Also on the call that stores it: as the storage gives it back (a file's JSON has no
    # tuples), so a caller never sees one type first and another later.
    study = Study(name="s", storage=tmp_path / "s.db" if in_file else None)
    first = study.setdefault_user_attr("shape", (1, 2))
    again = study.setdefault_user_attr("shape", (3,))
    assert first == again == study.user_attrs["shape"]
    assert type(first) is (list if in_file else tuple)
