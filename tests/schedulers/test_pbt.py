import numpy as np
import pytest

from hpt_magic import Float, Study, TrialPruned, TuneError, tune
from hpt_magic.schedulers import PBTScheduler


def population(**kwargs):
    sched = PBTScheduler(population_size=4, interval=2, resample_probability=0.0, max_steps=8,
                         **kwargs)
    study = Study(space={"h": Float(0.1, 10, log=True)}, direction="maximize", seed=0,
                  scheduler=sched)
    members = []
    for h in (1.0, 2.0, 3.0, 0.5):
        study.enqueue({"h": h})
        members.append(study.ask())
    return study, members


def first_round(members):
    """Every member reports round 1 (steps 0, 1) with score h and checkpoint [number]."""
    for t in members[:3]:
        t.report(t.params["h"], step=0)
        assert not t.report(t.params["h"], step=1, checkpoint=[t.number])


def test_bottom_member_is_paused_and_replaced_by_a_perturbed_top_member():
    study, members = population()
    first_round(members)
    worst = members[3]
    worst.report(0.5, step=0)
    with pytest.raises(TrialPruned):
        worst.report(0.5, step=1, checkpoint=[3])
    assert worst.user_attrs["decision"] == "pause"
    study.tell(worst, state="pruned")
    child = study.ask()
    assert child.user_attrs["parent"] == 2         # the top quarter of four: h=3
    assert child.user_attrs["replaces"] == 3
    assert child.user_attrs["resume_step"] == 2
    assert child.checkpoint == [2]
    assert child.params["h"] in (pytest.approx(2.4), pytest.approx(3.6))


def test_mutate_limits_explore_to_named_hyperparameters():
    study = Study(space={"h": Float(0.1, 10, log=True), "width": Float(1, 100)},
                  direction="maximize", seed=0,
                  scheduler=PBTScheduler(population_size=4, interval=1, mutate=["h"],
                                         resample_probability=0.0))
    for h in (1.0, 2.0, 3.0, 0.5):
        study.enqueue({"h": h, "width": 10 * h})
        t = study.ask()
        try:
            t.report(h, step=0, checkpoint=[t.number])
        except TrialPruned:
            study.tell(t, state="pruned")
    child = study.ask()
    assert child.params["width"] == 30.0
    assert child.params["h"] in (pytest.approx(2.4), pytest.approx(3.6))


def test_no_replacement_pending_gives_a_new_member():
    study, members = population()
    first_round(members)
    assert "parent" not in study.ask().user_attrs


def test_checkpoint_is_a_snapshot_and_each_child_gets_its_own_copy():
    study, members = population()
    state = [0]
    for t in members[:3]:
        t.report(t.params["h"], step=0)
        t.report(t.params["h"], step=1, checkpoint=state)
    state.append("trained further in place")
    with pytest.raises(TrialPruned):
        members[3].report(0.1, step=1)
    child = study.ask()
    assert child.checkpoint == [0]
    assert child.checkpoint is not state


def test_checkpoint_dir_keeps_only_the_current_population(tmp_path):
    study, members = population(checkpoint_dir=tmp_path / "ckpt")
    first_round(members)
    assert len(list((tmp_path / "ckpt").glob("*.pkl"))) == 3
    with pytest.raises(TrialPruned):
        members[3].report(0.5, step=1, checkpoint=[3])
    child = study.ask()
    assert child.checkpoint == [2]
    # Two more members push the two oldest out of the population of four.
    for h in (4.0, 5.0):
        study.enqueue({"h": h})
        t = study.ask()
        t.report(h, step=1, checkpoint=[t.number])
    assert len(list((tmp_path / "ckpt").glob("*.pkl"))) == 4


def test_replacement_continues_from_the_checkpoint_step():
    seen = {}

    def objective(trial):
        w = tune.restore(0.0)
        seen[trial.number] = (w, [])
        for step in tune.steps(8):
            seen[trial.number][1].append(step)
            w += trial.params["h"]
            tune.report(w, checkpoint=w)
        return w

    study = Study(space={"h": Float(0.1, 10, log=True)}, direction="maximize", seed=1,
                  scheduler=PBTScheduler(population_size=4, interval=2, max_steps=8))
    study.optimize(objective, n_trials=12)
    children = [t for t in study.trials if "parent" in t.user_attrs]
    assert children
    for child in children:
        start = child.user_attrs["resume_step"]
        restored, steps = seen[child.number]
        parent = study.trial(child.user_attrs["parent"])
        assert steps[0] == start == min(child.intermediate)
        assert restored == pytest.approx(parent.intermediate[start - 1])


T = 20


def target(t):
    """The best hyperparameter drifts from 0.9 to 0.1 during training."""
    return 0.9 - 0.8 * t / (T - 1)


def toy(trial):
    h = trial.params["h"]
    w = tune.restore(0.0)
    for t in tune.steps(T):
        w += 1 - abs(h - target(t))
        tune.report(w, checkpoint=w)
    return w


def test_pbt_beats_any_fixed_hyperparameter_on_a_drifting_optimum():
    best_fixed = max(sum(1 - abs(h - target(t)) for t in range(T))
                     for h in np.linspace(0, 1, 101))
    fixed = Study(space={"h": Float(0, 1)}, direction="maximize", seed=0)
    fixed.optimize(toy, n_trials=25)
    pbt = Study(space={"h": Float(0, 1)}, direction="maximize", seed=0,
                scheduler=PBTScheduler(population_size=8, interval=2, max_steps=T))
    pbt.optimize(toy, n_trials=40)
    steps = sum(len(t.intermediate) for t in pbt.trials)
    assert steps <= 25 * T
    assert fixed.best_value <= best_fixed
    assert pbt.best_value > best_fixed + 1.0
    # The winner's lineage changed its hyperparameter downwards over time.
    lineage, t = [], pbt.best_trial
    while True:
        lineage.append(t.params["h"])
        if "parent" not in t.user_attrs:
            break
        t = pbt.trial(t.user_attrs["parent"])
    assert len(lineage) > 2 and lineage[0] < lineage[-1]


@pytest.mark.parametrize("kwargs", [{"population_size": 1}, {"interval": 0},
                                    {"quantile": 0.5}, {"perturb": (0.8, -1)},
                                    {"resample_probability": 1.5}])
def test_bad_options(kwargs):
    with pytest.raises(TuneError):
        PBTScheduler(**kwargs)


def test_a_child_with_its_parents_exact_values_still_trains():
    # perturb 1.0 and no resampling: every child has its parent's parameters. It continues
    # the parent's training from the checkpoint, so it is not a repeat to reuse.
    def grow(trial):
        lr = trial.suggest("lr", Float(0.01, 1.0, log=True))
        w = trial.checkpoint or 0.0
        for step in range(trial.user_attrs.get("resume_step", 0), 6):
            w += lr
            if trial.report(w, step, checkpoint=w):
                break
        return w

    study = Study(direction="maximize", seed=1,
                  scheduler=PBTScheduler(population_size=4, interval=2, perturb=(1.0, 1.0),
                                         resample_probability=0.0))
    study.optimize(grow, n_trials=16)
    children = [t for t in study.trials if "parent" in t.user_attrs]
    assert children
    for child in children:
        assert "repeat_of" not in child.user_attrs
        if child.user_attrs["resume_step"] < 6:  # else the parent's training was complete
            assert min(child.intermediate) == child.user_attrs["resume_step"]


def _drifting(trial):
    x = trial.params["x"]
    for step in tune.steps(9):
        tune.report((x - 0.3) ** 2 + 1 / (step + 1), checkpoint=[trial.number, step])
    return (x - 0.3) ** 2


@pytest.mark.parametrize("split", [7, 10, 14])
def test_a_continued_study_pauses_and_replaces_as_one_run_does(tmp_path, split):
    def lineage(parts, name):
        options = dict(space={"x": Float(0, 1)}, sampler="random", seed=3, max_steps=9,
                       name=name, storage=tmp_path / f"{name}.db")
        for n in parts:  # a new kernel each time: a new scheduler from the stored trials
            study = Study(**options, scheduler=PBTScheduler(
                population_size=4, interval=3, checkpoint_dir=tmp_path / name, max_steps=9))
            study.optimize(_drifting, n_trials=n)
            study.storage.close()
        return [(t.state.value, t.user_attrs.get("parent"), t.user_attrs.get("replaces"),
                 t.user_attrs.get("resume_step")) for t in study.trials]

    whole = lineage([20], "whole")
    assert sum(r[2] is not None for r in whole) >= 2  # members were replaced
    assert lineage([split, 20 - split], "continued") == whole
