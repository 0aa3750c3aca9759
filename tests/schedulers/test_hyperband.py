from collections import Counter

import pytest

from hpt_magic import Choice, Float, Int, Study, TrialPruned, TuneError, tune
from hpt_magic.schedulers import HyperbandScheduler


def test_bracket_sizes_of_the_paper():
    hb = HyperbandScheduler(max_steps=81, reduction_factor=3)
    assert hb.brackets == [(81, 1), (34, 3), (15, 9), (8, 27), (5, 81)]
    assert hb.rungs == [[1, 3, 9, 27], [3, 9, 27], [9, 27], [27], []]


def test_trials_are_dealt_in_the_bracket_sizes():
    study = Study(space={"x": Float(0, 1)}, scheduler="hyperband", max_steps=81)
    trials = [study.ask() for _ in range(143)]
    brackets = [t.user_attrs["bracket"] for t in trials]
    assert Counter(brackets) == {0: 81, 1: 34, 2: 15, 3: 8, 4: 5}
    # Bracket by bracket, the most aggressive first, then round again.
    assert brackets == [0] * 81 + [1] * 34 + [2] * 15 + [3] * 8 + [4] * 5
    assert study.ask().user_attrs["bracket"] == 0


def test_a_short_budget_is_not_spent_on_full_trainings(curves):
    # 12 trials of up to 27 steps, each worse than the one before. Dealt to every bracket
    # from the start, the first trial of each bracket would climb alone to 27 steps; dealt
    # bracket by bracket, all 12 are in the first one: only the first trains fully.
    table = [[n / 10] * 27 for n in range(12)]
    study = Study(scheduler="hyperband", max_steps=27)
    study.optimize(curves(table), n_trials=12)
    assert [t.last_step + 1 for t in study.trials] == [27] + [1] * 11


def test_each_bracket_judges_on_its_own_rungs():
    study = Study(space={"x": Float(0, 1)}, scheduler=HyperbandScheduler(max_steps=81))
    by_bracket = {}
    for _ in range(143):
        t = study.ask()
        by_bracket.setdefault(t.user_attrs["bracket"], []).append(t)
    # Bracket 3 (first rung at 27): a worse second trial runs 27 steps, then stops.
    good, bad = by_bracket[3][:2]
    good.report(0.0, step=26)
    for step in range(26):
        assert not bad.report(1.0, step=step)
    with pytest.raises(TrialPruned):
        bad.report(1.0, step=26)
    # Bracket 4 trains fully: never stopped.
    first, second = by_bracket[4][:2]
    first.report(0.0, step=0)
    assert not any(second.report(9.0, step=s) for s in range(81))


def test_continued_study_goes_on_where_it_stopped(tmp_path, curves):
    table = [[(n * 7) % 10 / 10] * 9 for n in range(12)]
    whole = Study(scheduler="hyperband", max_steps=9)
    whole.optimize(curves(table), n_trials=12)
    path = tmp_path / "hb.db"
    Study(name="hb", storage=path, scheduler="hyperband", max_steps=9).optimize(
        curves(table), n_trials=7)
    again = Study(name="hb", storage=path, scheduler="hyperband", max_steps=9)
    again.optimize(curves(table), n_trials=5)
    assert [t.user_attrs["bracket"] for t in again.trials] == \
        [t.user_attrs["bracket"] for t in whole.trials]
    assert [t.last_step for t in again.trials] == [t.last_step for t in whole.trials]


def test_needs_max_steps_before_anything_is_stored(tmp_path):
    path = tmp_path / "s.db"
    with pytest.raises(TuneError, match="max_steps"):
        Study(space={"x": Float(0, 1)}, scheduler=HyperbandScheduler(), storage=path,
              name="hb")
    with pytest.raises(TuneError, match="max_steps"):
        Study(space={"x": Float(0, 1)}, scheduler="hyperband", storage=path, name="hb")
    # Refused before the storage was even opened: no file, so no study and no running trial.
    assert not path.exists()


def test_a_bracket_short_of_its_share_is_filled_first():
    # Trials dealt elsewhere (another kernel on the same file, an older dealing rule) leave
    # the brackets uneven; new trials fill the current round's shortfall before going on.
    study = Study(space={"x": Float(0, 1)}, scheduler=HyperbandScheduler(max_steps=9))
    study.ask()
    hb = study.scheduler
    assert [n for n, _ in hb.brackets] == [9, 5, 3]
    hb._counts = [12, 1, 0]  # bracket 0 ran ahead into the second round
    dealt = [study.ask().user_attrs["bracket"] for _ in range(10)]
    assert dealt == [1, 1, 1, 1, 2, 2, 2, 0, 0, 0]


def test_a_reused_repeat_leaves_its_bracket_place_to_the_next_trial():
    def objective(trial):
        for step in tune.steps(9):
            tune.report(float(step))
        return 0.0

    def brackets(space, n):
        study = Study(space=space, sampler="random", seed=0, scheduler="hyperband", max_steps=9)
        study.optimize(objective, n_trials=n)
        reused = sum("repeat_of" in t.user_attrs for t in study.trials)
        return [t.user_attrs["bracket"] for t in study.trials
                if "repeat_of" not in t.user_attrs], reused

    ran, reused = brackets({"k": Choice(["a", "b", "c"]), "n": Int(1, 3)}, 9)
    assert reused > 0  # this small space makes the random sampler repeat itself
    # The trials that ran are dealt as in a space without repeats.
    assert ran == brackets({"x": Float(0, 1)}, len(ran))[0]
