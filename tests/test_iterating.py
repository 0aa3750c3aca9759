"""Iterating on a study: per-trial time limits, patience, repeated proposals."""

from __future__ import annotations

import sys
import time

import cloudpickle
import numpy as np
import pytest

from hpt_magic import Choice, Float, Int, SQLiteStorage, Study, TrialState, TuneError, tune
from hpt_magic.samplers import Sampler
from hpt_magic.study._optimize import optimize, start_background

cloudpickle.register_pickle_by_value(sys.modules[__name__])


def slow_second(trial):
    x = tune.uniform(0, 1, name="x")
    tune.report(x, 0)
    if trial.number == 1:
        time.sleep(30)  # blocked in C: the alarm still stops it in the main thread
    return x


def test_a_trial_past_its_time_limit_fails_with_its_curve_and_the_run_goes_on():
    study = Study(seed=0)
    started = time.monotonic()
    study.optimize(slow_second, n_trials=3, trial_timeout=0.5)
    assert time.monotonic() - started < 10
    slow = study.trial(1)
    assert slow.state is TrialState.FAILED and slow.error == "timed out after 0.5 s"
    assert slow.intermediate == {0: slow.params["x"]}
    assert [t.state for t in study.trials].count(TrialState.COMPLETE) == 2


def busy_second(trial):
    x = trial.params["x"]
    if trial.number == 1:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # pure Python: stopped at the next instruction
            pass
    return x


def test_time_limit_in_a_background_run():
    study = Study(space={"x": Float(0, 1)}, seed=0)
    start_background(study, busy_second, n_trials=3, trial_timeout=0.5)
    assert study.wait(20)
    assert study.trial(1).error == "timed out after 0.5 s"
    assert study.counts()["complete"] == 2


def sleepy_second(trial):
    if trial.number == 1:
        time.sleep(60)
    return trial.params["x"]


def test_time_limit_replaces_the_worker_process():
    study = Study(space={"x": Float(0, 1)}, seed=0)
    started = time.monotonic()
    study.optimize(sleepy_second, n_trials=5, n_jobs=2, trial_timeout=1.0)
    assert time.monotonic() - started < 30
    assert study.trial(1).state is TrialState.FAILED
    assert study.trial(1).error == "timed out after 1 s"
    assert study.counts()["complete"] == 4


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "10"])
def test_bad_time_limits_are_refused(bad):
    study = Study(space={"x": Float(0, 1)})
    with pytest.raises(TuneError, match="trial_timeout"):
        study.optimize(lambda t: 0.0, n_trials=1, trial_timeout=bad)
    assert study.trials == []


def test_patience_ends_the_run_when_the_best_stops_improving():
    values = iter([5.0, 4.0, 3.0, 3.0, 3.5, 2.9999, 4.0, 1.0])
    study = Study(space={"x": Float(0, 1)}, seed=0)
    study.optimize(lambda t: next(values), n_trials=8, patience=3, min_improvement=0.01)
    # 3.0 at trial 2 is the last real improvement; 3.0, 3.5, 2.9999 (by less than 0.01) follow.
    assert len(study.trials) == 6


def test_patience_with_several_objectives_counts_trials_that_do_not_join_the_front():
    # (accuracy up, latency down): the front grows at trials 0, 1 and 3; trial 2 is dominated
    # by trial 1, trial 4 beats trial 3 by less than 0.05, trial 5 is dominated.
    values = iter([(0.5, 10.0), (0.7, 12.0), (0.6, 13.0), (0.9, 20.0), (0.92, 19.97),
                   (0.8, 25.0), (0.99, 1.0), (0.99, 1.0)])
    study = Study(space={"x": Float(0, 1)}, directions=["maximize", "minimize"],
                  objectives=["accuracy", "latency"], seed=0)
    study.optimize(lambda t: next(values), n_trials=8, patience=2, min_improvement=0.05)
    assert len(study.trials) == 6
    assert [t.number for t in study.best_trials] == [4, 1, 0]  # 4 beats 3, not by 0.05


def test_patience_auto_with_several_objectives_is_refused_with_the_fix():
    study = Study(space={"x": Float(0, 1)}, directions=["maximize", "minimize"],
                  objectives=["a", "b"])
    with pytest.raises(TuneError, match="give a number of trials"):
        study.optimize(lambda t: (1.0, 1.0), n_trials=3, patience="auto")
    assert study.trials == []


def test_a_repeated_proposal_reuses_the_earlier_score_without_running():
    calls = []

    def objective(trial):
        calls.append(dict(trial.params))
        return trial.params["n"] * 10 + ["a", "b"].index(trial.params["c"])

    study = Study(space={"n": Int(1, 3), "c": Choice(["a", "b"])}, sampler="random", seed=0)
    study.optimize(objective, n_trials=4)
    ran = [t for t in study.trials if "repeat_of" not in t.user_attrs]
    reused = [t for t in study.trials if "repeat_of" in t.user_attrs]
    assert len(ran) == len(calls) == 4  # the budget counts trials that ran
    assert len({tuple(sorted(c.items())) for c in calls}) == 4  # never the same point twice
    for t in reused:
        earlier = study.trial(t.user_attrs["repeat_of"])
        assert t.params == earlier.params and t.value == earlier.value
        assert t.state is TrialState.COMPLETE


def test_on_repeat_skip_asks_again_so_that_no_trial_repeats():
    space = {"n": Int(1, 4), "c": Choice(["a", "b", "c"])}  # 12 points
    calls = []
    study = Study(space=space, sampler="tpe", seed=0)
    info = optimize(study, lambda t: calls.append(dict(t.params)) or t.params["n"],
                    n_trials=10, on_repeat="skip")
    points = [tuple(sorted(t.params.items())) for t in study.trials]
    assert len(study.trials) == len(calls) == 10  # every trial ran, none was recorded twice
    assert len(set(points)) == 10
    assert not any("repeat_of" in t.user_attrs for t in study.trials)
    assert info.redrawn > 0  # TPE did propose repeats on 12 points; they were replaced
    # The same seed gives the same trials (a redraw's streams are keyed, not random).
    again = Study(space=space, sampler="tpe", seed=0)
    optimize(again, lambda t: t.params["n"], n_trials=10, on_repeat="skip")
    assert [tuple(sorted(t.params.items())) for t in again.trials] == points


def test_on_repeat_skip_falls_back_to_reuse_when_redraws_only_repeat():
    study = Study(space={"n": Int(1, 1000)}, sampler=_Stuck(seed=0))
    info = optimize(study, lambda t: t.params["n"], n_trials=5, on_repeat="skip")
    assert info.redrawn == 0 and info.reused > 0  # ten redraws each time, all repeats
    assert [t.user_attrs.get("repeat_of") for t in study.trials[1:]] == [0] * info.reused
    assert info.reason == "exhausted" and info.space_size is None


def test_on_repeat_skip_reuses_a_repeated_enqueued_point_without_redrawing():
    study = Study(space={"n": Int(1, 4)}, sampler="random", seed=0)
    study.optimize(lambda t: t.params["n"], n_trials=1)
    study.enqueue(dict(study.trials[0].params))  # every parameter fixed: nothing to redraw
    info = optimize(study, lambda t: t.params["n"], n_trials=1, on_repeat="skip")
    assert info.redrawn == 0
    assert study.trials[1].user_attrs["repeat_of"] == 0


def test_on_repeat_run_runs_every_proposal():
    calls = []
    study = Study(space={"n": Int(1, 2)}, sampler="random", seed=0)
    study.optimize(lambda t: calls.append(1) or t.params["n"], n_trials=6, on_repeat="run")
    assert len(calls) == len(study.trials) == 6


@pytest.mark.parametrize("sampler", ["random", "tpe", "gp"])
def test_a_run_ends_once_every_point_of_a_finite_space_was_tried(sampler):
    space = {"n": Int(1, 3), "c": Choice(["a", "b"])}  # six points
    study = Study(space=space, sampler=sampler, seed=0)
    info = optimize(study, lambda t: t.params["n"], n_trials=20)
    assert info.reason == "exhausted" and info.space_size == 6
    ran = [t for t in study.trials if "repeat_of" not in t.user_attrs]
    assert len({(t.params["n"], t.params["c"]) for t in ran}) == 6
    # No more than the repeats proposed while the last points were still being found; the
    # run ends as soon as the last point is complete.
    assert len(study.trials) - len(ran) == info.reused < 20
    assert "repeat_of" not in study.trials[-1].user_attrs


def test_only_trials_inside_an_edited_space_count_toward_using_it_up(tmp_path):
    path = tmp_path / "s.db"
    wide = Study(space={"n": Int(1, 8)}, name="s", storage=path, seed=0)
    for n in range(4, 9):
        wide.enqueue({"n": n})
    wide.optimize(lambda t: t.params["n"], n_trials=5)
    # Five points tried, none of them inside the narrowed space of three.
    narrow = Study(space={"n": Int(1, 3)}, name="s", storage=path, seed=0)
    info = optimize(narrow, lambda t: t.params["n"], n_trials=10)
    assert info.reason == "exhausted" and info.space_size == 3
    ran = [t for t in narrow.trials[5:] if "repeat_of" not in t.user_attrs]
    assert sorted(t.params["n"] for t in ran) == [1, 2, 3]


def test_values_off_the_steps_of_an_edited_space_are_not_points_of_it(tmp_path):
    path = tmp_path / "s.db"
    Study(space={"x": Float(0, 1)}, name="s", storage=path, seed=0).optimize(
        lambda t: t.params["x"], n_trials=5)
    stepped = Study(space={"x": Float(0, 1, step=0.25)}, name="s", storage=path, seed=0)
    info = optimize(stepped, lambda t: t.params["x"], n_trials=10)
    assert info.reason == "exhausted" and info.space_size == 5
    ran = [t for t in stepped.trials[5:] if "repeat_of" not in t.user_attrs]
    assert sorted(t.params["x"] for t in ran) == [0.0, 0.25, 0.5, 0.75, 1.0]


class _InTurn(Sampler):
    """Proposes the points of ``Int(0, 2)`` in turn, by trial number."""

    def sample_joint(self, study, trial, space):
        return {"n": trial.number % 3}

    def sample_one(self, study, trial, name, dist):
        return trial.number % 3


def test_a_parallel_run_waits_for_the_last_points_instead_of_repeating_them():
    def objective(trial):
        time.sleep(0.3)
        return trial.params["n"]

    study = Study(space={"n": Int(0, 2)}, sampler=_InTurn(seed=0))
    info = optimize(study, objective, n_trials=10, n_jobs=2)
    # Trials 0 and 1 run; the first to end lets trial 2 start on the last point; when the
    # next ends, every point is complete or running: nothing is asked until the end.
    assert info.reason == "exhausted" and info.reused == 0
    assert sorted(t.params["n"] for t in study.trials) == [0, 1, 2]


def fails_first_on_the_last_point(trial):
    time.sleep(0.3)
    if trial.number == 2:
        raise ValueError("a failure that frees the point")
    return trial.params["n"]


def test_a_failed_trial_frees_its_point_in_a_parallel_run():
    study = Study(space={"n": Int(0, 2)}, sampler=_InTurn(seed=0))
    info = optimize(study, fails_first_on_the_last_point, n_trials=10, n_jobs=2)
    assert study.trials[2].state is TrialState.FAILED and study.trials[2].params["n"] == 2
    complete = {t.params["n"] for t in study.trials if t.state is TrialState.COMPLETE
                and "repeat_of" not in t.user_attrs}
    assert complete == {0, 1, 2}  # the point ran again after its failure
    assert info.reason == "exhausted" and info.space_size == 3


def test_enqueued_points_are_still_taken_once_the_space_is_used_up():
    study = Study(space={"n": Int(1, 2)}, sampler="random", seed=0)
    study.optimize(lambda t: t.params["n"], n_trials=5)
    study.enqueue({"n": 2})
    info = optimize(study, lambda t: t.params["n"], n_trials=5)
    assert study.trials[-1].params == {"n": 2} and "repeat_of" in study.trials[-1].user_attrs
    assert info.reason == "exhausted" and not study.storage.read_attrs(study._id).get("queue")


def test_a_point_another_kernel_queues_as_the_space_is_used_up_is_still_taken(tmp_path):
    # The run read the queue at its last ask; before ending as "exhausted" it reads the file
    # once more, so a point queued since then runs now rather than waiting for the next run.
    path = tmp_path / "s.db"
    study = Study(space={"n": Int(1, 2)}, name="s", storage=path, sampler="random", seed=0)

    def other_kernel_queues(study, trial):
        if {t.params["n"] for t in study.trials} == {1, 2} and not study.trials[-1].queued:
            Study(name="s", storage=path).enqueue({"n": 2})

    info = optimize(study, lambda t: t.params["n"], n_trials=20, callbacks=[other_kernel_queues])
    assert info.reason == "exhausted"
    assert study.trials[-1].user_attrs.get("enqueued") and study.trials[-1].params == {"n": 2}
    assert not Study(name="s", storage=path).storage.read_attrs(study._id).get("queue")


class _Stuck(Sampler):
    """Proposes the same point every time."""

    def sample_one(self, study, trial, name, dist):
        return dist.from_unit(0.5)


def test_a_sampler_that_only_repeats_ends_the_run():
    study = Study(space={"n": Int(1, 1000)}, sampler=_Stuck(seed=0))
    info = optimize(study, lambda t: t.params["n"], n_trials=5)
    ran = [t for t in study.trials if "repeat_of" not in t.user_attrs]
    assert len(ran) == 1  # one point, then only repeats until the run gives up
    assert info.reason == "exhausted" and info.space_size is None
    assert 1 < len(study.trials) < 100


@pytest.mark.parametrize("sampler", ["random", "tpe", "cmaes"])
def test_define_by_run_repeats_are_found_before_the_objective_runs(sampler):
    # Random search and a model's start-up trials decide every known parameter at ask time,
    # as a %%tune cell's parameters are: a repeat is reused, not run.
    calls = []

    def objective(trial):
        calls.append(1)
        return trial.suggest_int("a", 0, 3) + (trial.suggest_choice("c", ["x", "y"]) == "x")

    study = Study(sampler=sampler, seed=0)
    info = optimize(study, objective, n_trials=30)
    assert info.reason == "exhausted" and info.space_size == 8
    assert len(calls) == 8 == len(study.trials) - info.reused


@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_repeats_of_a_conditional_space_are_found_when_they_finish(sampler):
    calls = []

    def objective(trial):
        calls.append(1)
        if trial.suggest_choice("model", ["a", "b"]) == "a":
            return trial.suggest_int("depth", 1, 2)
        return 0

    study = Study(sampler=sampler, seed=0)
    info = optimize(study, objective, n_trials=500)
    assert info.reason == "exhausted" and info.space_size is None
    # Three points, then repeats that run (a branch is decided as the objective runs) until
    # 50 come in a row.
    assert len({tuple(sorted(t.params.items())) for t in study.trials}) == 3
    assert 50 <= len(calls) < 200


@pytest.mark.parametrize("sampler", ["random", "tpe", "cmaes"])
def test_a_range_the_objective_computes_anew_is_drawn_from_and_judged_by(sampler):
    # Values decided at ask time come from the range known then; the objective may give
    # another one (computed, so the magic cannot read it before the run).
    study = Study(sampler=sampler, seed=0)
    info = optimize(study, lambda t: t.suggest_int("n", 0, 2), n_trials=4)
    assert info.reason == "exhausted"  # the three points were tried
    first = len(study.trials)
    calls = []

    def moved(trial):
        calls.append(1)
        return trial.suggest_int("n", 5, 6)

    info = optimize(study, moved, n_trials=4)
    # The old range being used up does not end the new run before it ran the objective.
    assert info.reason == "exhausted" and info.space_size == 2
    later = study.trials[first:]
    assert all(t.params["n"] in (5, 6) for t in later)
    # No trial took the score of a point of the old range without running.
    assert all(study.trial(t.user_attrs["repeat_of"]).params["n"] in (5, 6)
               for t in later if "repeat_of" in t.user_attrs)
    assert len(calls) >= 2


def test_magic_options(shell, capsys):
    cell = ("import time\nx = tune.uniform(0, 1)\n"
            "if x > 0.5:\n    time.sleep(20)\nx")
    started = time.monotonic()
    result = shell.run_cell(f"%%tune --trials 6 --trial-timeout 0.3 --sampler random --seed 1 "
                            f"--storage memory --plot none --study t\n{cell}")
    assert result.success
    assert time.monotonic() - started < 15
    study = shell.user_ns["study"]
    timed_out = [t for t in study.trials if t.error == "timed out after 0.3 s"]
    assert timed_out and all(t.params["x"] > 0.5 for t in timed_out)
    result = shell.run_cell("%%tune --trials 3 --patience 0 --storage memory --study u\n1.0")
    assert not result.success
    assert "patience" in str(result.error_in_exec)


def test_the_summary_says_when_the_space_was_used_up(shell, capsys):
    result = shell.run_cell("%%tune --trials 10 --seed 0 --storage memory --plot none "
                            "--study small\nk = tune.choice(['a', 'b'])\nn = tune.int(1, 2)\n"
                            "(k == 'a') + n")
    assert result.success
    out = capsys.readouterr().out
    assert "Stopped: all 4 points of the search space were tried." in out
    assert len(shell.user_ns["study"].trials) < 10


def noisy_quadratic(trial):
    x = trial.params["x"]
    tune.report_noise(0.05)
    return (x - 0.3) ** 2


def test_patience_auto_stops_when_what_is_left_is_below_the_noise():
    study = Study(space={"x": Float(0, 1)}, sampler="gp", seed=0)
    info = optimize(study, noisy_quadratic, n_trials=200, patience="auto")
    assert info.reason == "converged"
    assert 20 <= info.done < 200
    assert info.regret_bound < info.noise == pytest.approx(0.05)


def test_patience_auto_goes_on_while_there_is_more_to_gain_than_noise():
    def precise(trial):
        tune.report_noise(1e-9)
        return (trial.params["x"] - 0.3) ** 2 + 0.3 * trial.params["y"]

    study = Study(space={"x": Float(0, 1), "y": Float(0, 1)}, sampler="random", seed=0)
    info = optimize(study, precise, n_trials=40, patience="auto")
    assert info.reason == "done" and info.regret_bound > info.noise


def test_tune_search_cv_reports_the_fold_noise():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    from hpt_magic.sklearn import TuneSearchCV

    X, y = load_iris(return_X_y=True)
    search = TuneSearchCV(LogisticRegression(max_iter=200), {"C": Float(1e-3, 10, log=True)},
                          n_trials=4, cv=3, random_state=0).fit(X, y)
    noises = [t.user_attrs["noise"] for t in search.study_.trials]
    expected = search.cv_results_["std_test_score"] / np.sqrt(3)
    assert noises == pytest.approx(list(expected))


class SlowFloat:
    """A score whose conversion to float takes a while (after the objective returned)."""

    def __float__(self):
        time.sleep(0.4)
        return 1.0


def test_a_time_limit_striking_after_the_objective_returned_fails_only_that_trial():
    study = Study(space={"x": Float(0, 1)}, seed=0)
    study.optimize(lambda t: SlowFloat() if t.number == 0 else t.params["x"], n_trials=3,
                   trial_timeout=0.2)
    assert study.trial(0).state is TrialState.FAILED
    assert "timed out" in study.trial(0).error
    assert study.counts()["complete"] == 2


def test_a_stop_right_after_a_background_start_is_not_lost():
    def slow(trial):
        time.sleep(0.05)
        return trial.params["x"]

    study = Study(space={"x": Float(0, 1)}, seed=0)
    start_background(study, slow, n_trials=50)
    study.stop()
    assert study.wait(20)
    assert len(study.trials) <= 2


def test_a_manual_trial_beside_a_background_run_leaves_its_trials_alone():
    from hpt_magic.study._optimize import run_one

    def slow(trial):
        time.sleep(0.2)
        return trial.params["x"]

    study = Study(space={"x": Float(0, 1)}, seed=0)
    start_background(study, slow, n_trials=6)
    for _ in range(3):
        run_one(study, lambda t: t.params["x"], {"x": 0.5})
    assert study.wait(30)
    assert study.counts()["interrupted"] == 0
    assert study.counts()["complete"] == 9


class InterruptOnce:
    """A sampler whose first joint proposal is interrupted (Ctrl-C while it works)."""

    def __init__(self, inner):
        self.inner, self.done = inner, False

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def sample_joint(self, study, trial, space):
        if not self.done:
            self.done = True
            raise KeyboardInterrupt
        return self.inner.sample_joint(study, trial, space)


def test_an_enqueued_point_survives_an_interrupt_while_sampling():
    from hpt_magic import RandomSampler

    study = Study(space={"x": Float(0, 1), "y": Float(0, 1)}, seed=0)
    study.sampler = InterruptOnce(RandomSampler(seed=0))
    study.enqueue({"x": 0.3})
    with pytest.raises(KeyboardInterrupt):
        study.optimize(lambda t: t.params["x"], n_trials=2)
    assert study.trial(0).state is TrialState.INTERRUPTED
    study.optimize(lambda t: t.params["x"], n_trials=1)
    assert study.trials[-1].params["x"] == 0.3


class _Forest:
    """An option that JSON cannot hold: the study file keeps its label."""


class _Svm:
    pass


def test_a_reopened_study_knows_its_class_options_repeats(tmp_path):
    # The file gives a new kernel the options as labels; the cell defines them as classes
    # again. Both are the same points: after the run's first trial (which runs the cell and
    # confirms its space), no point with a complete trial runs again.
    path = tmp_path / "s.db"
    ran = []

    def objective(trial):
        model = tune.choice([_Forest, _Svm], name="model")
        k = tune.choice([1, 2], name="k")
        ran.append((model, k))
        return 1.0

    Study(storage=path, name="c", sampler="random", seed=0).optimize(objective, n_trials=3)
    before = set(ran)
    ran.clear()
    again = Study(storage=SQLiteStorage(path), name="c", sampler="random", seed=1)
    again.optimize(objective, n_trials=6)
    assert len(before) == 3 and not before & set(ran[1:]), (before, ran)


class _Plain:
    """Instances print alike (the default repr, its address removed from the label)."""

    def __init__(self, k: int) -> None:
        self.k = k


@pytest.mark.parametrize("options", [
    lambda: [_Plain(1), _Plain(2)],
    lambda: [lambda x: x, lambda x: 2 * x],
], ids=["instances", "lambdas"])
def test_options_that_share_a_label_are_not_repeats_of_each_other(options):
    opts = options()
    ran = []

    def objective(trial):
        option = trial.params["o"]
        ran.append(opts.index(option))
        return float(opts.index(option))

    study = Study(space={"o": Choice(opts)}, sampler="grid", seed=0)
    study.optimize(objective, n_trials=2)
    assert sorted(ran) == [0, 1]
    assert sorted(t.value for t in study.trials) == [0.0, 1.0]


def test_options_that_share_a_label_stay_apart_when_the_study_is_reopened(tmp_path):
    path = tmp_path / "s.db"
    first, second = (lambda x: x), (lambda x: 2 * x)  # both stored as "<lambda>" labels
    opts = [first, second]
    study = Study(space={"o": Choice(opts)}, name="c", storage=SQLiteStorage(path), seed=0)
    study.tell(study.ask({"o": second}), 1.0)
    ran = []

    def objective(trial):
        ran.append(opts.index(trial.params["o"]))
        return float(ran[-1])

    again = Study(space={"o": Choice(opts)}, name="c", storage=SQLiteStorage(path),
                  sampler="grid", seed=0)
    again.optimize(objective, n_trials=2)
    assert ran == [0]  # the first option runs; the second had its trial: the space is used up
    assert sorted(t.value for t in again.trials) == [0.0, 1.0]


def test_reordered_options_of_a_define_by_run_cell_are_not_taken_for_each_other():
    first, second = (lambda x: x), (lambda x: 2 * x)
    ran = []

    def make(order):
        def objective(trial):
            option = tune.choice(order, name="o")
            ran.append(option)
            return 0.0 if option is first else 1.0
        return objective

    study = Study(sampler="random", seed=0)
    study.optimize(make([first, second]), n_trials=1)
    study.optimize(make([second, first]), n_trials=1)  # confirms the reordered space
    study.optimize(make([second, first]), n_trials=6)
    by_option = {}
    for t in study.trials:
        if t.state is TrialState.COMPLETE:
            by_option.setdefault(t.params["o"] is first, set()).add(t.value)
    assert by_option == {True: {0.0}, False: {1.0}}


@pytest.mark.parametrize("sampler", ["random", "tpe", "grid"])
def test_lambdas_a_cell_defines_anew_for_every_trial_keep_apart(sampler):
    # A cell runs again for every trial, so its lambdas are new objects each time, and both
    # carry the label "<lambda>": the second option must still run the second lambda, and
    # the space of 2 x 2 points is used up after four trials.
    def objective(trial):
        f = tune.choice([lambda v: v, lambda v: 2 * v], name="f")
        shape = tune.choice([(32,), (64, 64)], name="shape")
        return f(1.0) + 10 * len(shape)

    study = Study(sampler=sampler, seed=0)
    study.optimize(objective, n_trials=12)
    run = [t for t in study.trials if "repeat_of" not in t.user_attrs]
    assert sorted(t.value for t in run) == [11.0, 12.0, 21.0, 22.0]
    assert len(study.trials) < 12


def test_options_equal_as_numbers_but_of_other_types_are_all_tried():
    ran = []
    opts = [1, True, 0.0, False, {0: 1, "a": 2}]
    study = Study(space={"o": Choice(opts)}, sampler="grid", seed=0)
    study.optimize(lambda t: ran.append(repr(t.params["o"])) or 0.0, n_trials=len(opts))
    assert sorted(ran) == sorted(repr(o) for o in opts)
