import pytest

from hpt_magic import Float, Study, TrialPruned, TuneError
from hpt_magic.schedulers import ASHAScheduler


def test_rungs():
    assert ASHAScheduler(max_steps=81).rungs == [[1, 3, 9, 27]]
    assert ASHAScheduler(max_steps=100, min_resource=2, reduction_factor=4).rungs == [[2, 8, 32]]
    assert ASHAScheduler(max_steps=27, brackets=3).rungs == [[1, 3, 9], [3, 9], [9]]


def test_rung_promotions(curves):
    # Flat curves; rungs after 1 and 3 steps (steps 0 and 2); one in three goes on.
    values = [5, 3, 8, 1, 9, 8.5, 2]
    study = Study(direction="maximize", scheduler="asha", max_steps=9, seed=0)
    study.optimize(curves([[v] * 9 for v in values]), n_trials=len(values))
    # t1: 2nd at rung 0 of 2 -> stop; t3, t6: not in the top third; t5: passes rung 0 (2nd of
    # 6) but is 2nd of 4 at rung 1, where only the best goes on.
    assert [t.last_step for t in study.trials] == [8, 0, 8, 0, 8, 2, 0]
    assert [t.state.value for t in study.trials] == [
        "complete", "pruned", "complete", "pruned", "complete", "pruned", "pruned"]
    assert study.trials[5].value == 8.5


def test_rungs_compare_smoothed_curves_not_one_noisy_report(curves):
    # The second trial is better all along but dips at the 9-step rung (step 8). A straight
    # line through its reports after 5..9 steps reads 0.42 at the rung, above the leader's
    # 0.4: it goes on. Judged on the one report (0.3) it would be stopped.
    steady = [0.4] * 27
    dipping = [0.6] * 8 + [0.3] + [0.6] * 18
    study = Study(direction="maximize", scheduler="asha", max_steps=27, seed=0)
    study.optimize(curves([steady, dipping]), n_trials=2)
    assert [t.state.value for t in study.trials] == ["complete", "complete"]


def test_minimize_and_ties_go_on():
    study = Study(space={"x": Float(0, 1)}, scheduler=ASHAScheduler(max_steps=9))
    first, second, worse = study.ask(), study.ask(), study.ask()
    assert not first.report(1.0, step=0)
    assert not second.report(1.0, step=0)
    with pytest.raises(TrialPruned):
        worse.report(2.0, step=0)


def test_reports_that_skip_rungs_are_recorded_at_each_passed_rung():
    study = Study(space={"x": Float(0, 1)}, scheduler=ASHAScheduler(max_steps=27))
    skipper, late = study.ask(), study.ask()
    assert not skipper.report(0.0, step=4)    # 5 steps done: passes the rungs at 1 and 3
    assert not late.report(-1.0, step=0)      # best at rung 1
    with pytest.raises(TrialPruned):          # 2nd of 2 at rung 3, behind the skipper
        late.report(0.5, step=2)


def test_brackets_are_dealt_in_turn(curves):
    study = Study(scheduler=ASHAScheduler(max_steps=9, brackets=2))
    study.optimize(curves([[1.0]] * 4), n_trials=4)
    assert [t.user_attrs["bracket"] for t in study.trials] == [0, 1, 0, 1]


@pytest.mark.parametrize("kwargs", [{"reduction_factor": 1}, {"min_resource": 0},
                                    {"brackets": 0}, {"max_steps": 0}])
def test_bad_options(kwargs):
    with pytest.raises(TuneError):
        ASHAScheduler(**kwargs)
