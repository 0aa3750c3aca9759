import pytest

from hpt_magic import Study, TuneError
from hpt_magic.schedulers import MedianStopping


def test_median_rule_against_complete_trials(curves):
    table = [[1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 6],
             [0, 3.5, 3.6, 9],      # best 3.5 at step 1 > median 3: goes on; 3.6 < 4 at step 2
             [0, 2.5, 9, 9]]        # 2.5 < median 3 at step 1
    study = Study(direction="maximize",
                  scheduler=MedianStopping(n_warmup_steps=1, n_min_trials=3))
    study.optimize(curves(table), n_trials=len(table))
    assert [t.state.value for t in study.trials] == ["complete"] * 3 + ["pruned"] * 2
    assert [t.last_step for t in study.trials[3:]] == [2, 1]


def test_warmup_and_min_trials(curves):
    table = [[5, 5, 5], [1, 1, 1], [0, 0, 0]]
    warm = Study(direction="maximize", scheduler=MedianStopping(n_warmup_steps=2, n_min_trials=1))
    warm.optimize(curves(table), n_trials=3)
    assert [t.last_step for t in warm.trials] == [2, 2, 2]
    assert [t.state.value for t in warm.trials] == ["complete", "pruned", "pruned"]
    few = Study(direction="maximize", scheduler=MedianStopping(n_warmup_steps=0, n_min_trials=3))
    few.optimize(curves(table), n_trials=3)
    assert all(t.state.value == "complete" for t in few.trials)


def test_pruned_trials_do_not_lower_the_median(curves):
    # Trial 1 is pruned at step 0; trial 2 is compared with trial 0 alone (median 5), not 3.
    table = [[5, 5], [1, 1], [4, 4]]
    study = Study(direction="maximize", scheduler=MedianStopping(n_warmup_steps=0, n_min_trials=1))
    study.optimize(curves(table), n_trials=3)
    assert [t.state.value for t in study.trials] == ["complete", "pruned", "pruned"]


def test_minimize_uses_best_so_far(curves):
    table = [[1, 1, 1], [1, 1, 1], [0.5, 3, 3]]   # 0.5 so far beats the median 1 at every step
    study = Study(scheduler=MedianStopping(n_warmup_steps=0, n_min_trials=2))
    study.optimize(curves(table), n_trials=3)
    assert study.trials[2].state.value == "complete"


def test_continued_study_remembers_earlier_curves(tmp_path, curves):
    table = [[5, 5], [6, 6], [1, 1]]
    path = tmp_path / "s.db"
    Study(name="m", storage=path, direction="maximize").optimize(curves(table), n_trials=2)
    study = Study(name="m", storage=path, direction="maximize",
                  scheduler=MedianStopping(n_warmup_steps=0, n_min_trials=2))
    study.optimize(curves(table), n_trials=1)
    assert study.trials[2].state.value == "pruned"


@pytest.mark.parametrize("kwargs", [{"n_warmup_steps": -1}, {"n_min_trials": 0}])
def test_bad_options(kwargs):
    with pytest.raises(TuneError):
        MedianStopping(**kwargs)
