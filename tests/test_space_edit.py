"""Editing a study's search space between runs of a %%tune cell."""

from __future__ import annotations

from hpt_magic import Choice, Float, Int, SQLiteStorage, Study, load_study
from hpt_magic.samplers import observations

NARROW = "lr = tune.loguniform(1e-3, 1e-2)\nact = tune.choice(['relu', 'tanh'])\nlr"
WIDE = "lr = tune.loguniform(1e-5, 1e-1)\nact = tune.choice(['relu', 'tanh', 'gelu'])\nlr"
NEW_SCALE = "lr = tune.uniform(1e-5, 1e-1)\nact = tune.choice(['relu', 'tanh'])\nlr"


def run(shell, cell, trials=6):
    return shell.run_cell(f"%%tune --trials {trials} --study edit --storage {shell.db} "
                          f"--sampler random --seed 0 --plot none\n{cell}")


def test_widening_continues_the_study_and_says_what_changed(shell, tmp_path, capsys):
    shell.db = tmp_path / "s.db"
    assert run(shell, NARROW).success
    capsys.readouterr()
    assert run(shell, WIDE).success
    opening = capsys.readouterr().out.splitlines()[0]
    assert opening.startswith("continuing study 'edit' on an edited space: ")
    assert "lr widened to [1e-05, 0.1]" in opening and "'gelu' added to act" in opening
    assert "6 earlier trials, 6 inside the new space" in opening
    study = shell.user_ns["study"]
    assert len(study.trials) == 12
    assert [t.user_attrs.get("space_version", 0) for t in study.trials] == [0] * 6 + [1] * 6


def test_a_new_scale_is_refused_before_anything_is_stored(shell, tmp_path):
    shell.db = tmp_path / "s.db"
    assert run(shell, NARROW).success
    result = run(shell, NEW_SCALE)
    assert not result.success
    assert "type or a scale" in str(result.error_in_exec)
    study = Study(name="edit", storage=shell.db, direction="minimize")
    assert len(study.trials) == 6 and study.counts()["failed"] == 0


def test_samplers_learn_only_from_trials_inside_the_edited_space(tmp_path):
    path = tmp_path / "s.db"
    Study(space={"x": Float(0, 10)}, name="s", storage=path, seed=0).optimize(
        lambda t: t.params["x"], n_trials=20)
    narrowed = Study(space={"x": Float(0, 5)}, name="s", storage=path, seed=0)
    X, y, used = observations(narrowed, narrowed.search_space())
    inside = [t for t in narrowed.trials if t.params["x"] <= 5]
    assert 0 < len(used) == len(inside) < 20
    assert X.min() >= 0 and X.max() <= 1


def test_the_history_panel_marks_where_an_edited_space_begins(tmp_path):
    from hpt_magic import display

    path = tmp_path / "s.db"
    Study(space={"x": Float(0, 1)}, name="s", storage=path, seed=0).optimize(
        lambda t: t.params["x"], n_trials=4)
    edited = Study(space={"x": Float(0, 2)}, name="s", storage=path, seed=0)
    edited.optimize(lambda t: t.params["x"], n_trials=3)
    fig = display.plot_history(edited)
    lines = [a for a in fig.axes[0].get_lines() if a.get_gid() == "space-v1"]
    assert len(lines) == 1 and lines[0].get_xdata()[0] == 3.5


def test_a_space_version_that_is_no_number_is_not_drawn():
    # A study file written elsewhere may hold anything in a trial's attributes; the panel
    # draws the versions it can read and no error.
    from hpt_magic import display

    study = Study(space={"x": Float(0, 1)}, seed=0)
    study.optimize(lambda t: t.params["x"], n_trials=4)
    for trial, version in zip(study.trials, ["2", None, True, 1]):
        trial.user_attrs["space_version"] = version
    fig = display.plot_history(study)
    marked = [a.get_gid() for a in fig.axes[0].get_lines() if str(a.get_gid()).startswith("space")]
    assert marked == ["space-v1"]


def test_a_prior_puts_half_of_the_random_trials_near_the_guess():
    from hpt_magic import tune

    def objective(trial):
        return tune.loguniform(1e-5, 1e-1, prior=1e-3, name="lr")

    study = Study(sampler="random", seed=0)
    study.optimize(objective, n_trials=200)
    near = sum(3e-4 < t.params["lr"] < 3e-3 for t in study.trials)
    # Uniform on the log scale puts 1/4 of the draws in that decade; the prior about half more.
    assert 0.45 < near / 200 < 0.8
    plain = Study(sampler="random", seed=0)
    plain.optimize(lambda t: tune.loguniform(1e-5, 1e-1, name="lr"), n_trials=200)
    assert sum(3e-4 < t.params["lr"] < 3e-3 for t in plain.trials) / 200 < 0.35


def test_a_new_prior_is_not_a_space_edit(tmp_path):
    from hpt_magic import tune

    path = tmp_path / "s.db"
    study = Study(name="p", storage=path, seed=0)
    study.optimize(lambda t: tune.uniform(0, 1, name="x"), n_trials=3)
    study.optimize(lambda t: tune.uniform(0, 1, prior=0.2, name="x"), n_trials=3)
    assert study.space_version == 0 and study.search_space()["x"].prior == 0.2


def test_warm_start_takes_priors_and_the_best_configurations(shell, tmp_path, capsys):
    shell.db = tmp_path / "s.db"
    cell = "x = tune.uniform(0, 10)\nn = tune.int(1, 5)\n(x - 7) ** 2 + n"
    assert shell.run_cell(f"%%tune --trials 15 --study small --storage {shell.db} "
                          f"--sampler random --seed 0 --plot none\n{cell}").success
    small = shell.user_ns["study"]
    capsys.readouterr()
    assert shell.run_cell(f"%%tune --trials 4 --study big --storage {shell.db} --sampler random "
                          f"--seed 1 --plot none --warm-start small\n{cell}").success
    out = capsys.readouterr().out
    assert "warm start from 'small' (15 trials)" in out and "priors of x, n" in out
    big = shell.user_ns["study"]
    best = small.top_trials(2)
    assert [t.params for t in big.trials[:2]] == [b.params for b in best]
    assert big.search_space()["x"].prior == best[0].params["x"]


def test_a_warm_start_that_takes_nothing_or_the_study_itself_is_said(shell, tmp_path, capsys):
    shell.db = tmp_path / "s.db"
    run = f"%%tune --trials 3 --storage {shell.db} --sampler random --seed 0 --plot none "
    assert shell.run_cell(f"{run} --study a\nx = tune.uniform(0, 10)\nx").success
    capsys.readouterr()
    # No parameter in common: nothing is taken, and the line says so.
    assert shell.run_cell(f"{run} --study b --warm-start a\ny = tune.uniform(0, 1)\ny").success
    out = capsys.readouterr().out
    assert "warm start from 'a': nothing taken, as none of its best trial's values (x=" in out
    # From the study the cell continues: refused before anything is stored.
    result = shell.run_cell(f"{run} --study a --warm-start a\nx = tune.uniform(0, 10)\nx")
    assert "--warm-start a: that is the study this cell continues" in str(
        result.error_in_exec)
    result = shell.run_cell(f"{run} --study a --warm-start a --warm-start-storage "
                            f"{shell.db.parent}/./s.db\nx = tune.uniform(0, 10)\nx")
    assert "that is the study this cell continues" in str(result.error_in_exec)
    assert len(load_study("a", shell.db).trials) == 3
    # An in-memory study of that name warm-starts from the file's, twice.
    for _ in range(2):
        assert shell.run_cell(f"%%tune --trials 2 --storage memory --study a --warm-start a "
                              f"--warm-start-storage {shell.db} --plot none\n"
                              "x = tune.uniform(0, 10)\nx").success
    # With --new the old one is a fine place to start from.
    assert shell.run_cell(f"{run} --study a --warm-start a --new\nx = tune.uniform(0, 10)\nx"
                          ).success
    assert "priors of x" in capsys.readouterr().out


def test_a_removed_parameter_is_one_edit_and_its_return_another(tmp_path):
    db = tmp_path / "s.db"

    def opened(space):
        study = Study(space=space, name="s", storage=db, seed=0)
        study.optimize(lambda t: t.params["x"], n_trials=1)
        changes = study.space_changes
        study.storage.close()
        return changes, study.space_version

    opened({"x": Float(0, 1), "n": Float(0, 1)})
    changes, version = opened({"x": Float(0, 1)})
    assert changes[0] == "n removed (earlier trials keep it)" and version == 1
    for _ in range(2):  # the same space again: no change, no new version
        assert opened({"x": Float(0, 1)}) == ([], 1)
    changes, version = opened({"x": Float(0, 1), "n": Float(0, 2)})
    assert changes[:2] == ["n widened to [0, 2]", "n back"] and version == 2
    assert opened({"x": Float(0, 1), "n": Float(0, 2)}) == ([], 2)


HIDDEN = Choice([(32,), (64, 64)])  # sklearn's hidden_layer_sizes


def _layers(trial):
    return len(trial.params["hidden"]) + trial.params["k"]


def test_tuple_options_reopen_as_the_same_space_with_the_same_trials(tmp_path):
    path = tmp_path / "s.db"
    space = {"hidden": HIDDEN, "k": Int(1, 2)}
    first = Study(space=space, name="t", storage=path, seed=0)
    first.optimize(_layers, n_trials=20)
    assert first.counts()["complete"] < 20  # every point of the space, then exhausted

    again = Study(space=space, name="t", storage=SQLiteStorage(path), seed=0)
    assert again.space_changes == []
    assert [t.params for t in again.trials] == [t.params for t in first.trials]
    assert all(type(t.params["hidden"]) is tuple for t in again.trials)
    assert again.best_params == {"hidden": (32,), "k": 1}
    again.optimize(_layers, n_trials=20)
    assert len(again.trials) == len(first.trials)  # the earlier trials count: none runs again
    assert type(load_study("t", path).best_params["hidden"]) is tuple


def test_an_added_tuple_option_is_the_only_change(tmp_path):
    path = tmp_path / "s.db"
    first = Study(space={"hidden": HIDDEN}, name="t", storage=path, seed=0)
    first.optimize(lambda t: len(t.params["hidden"]), n_trials=2)
    n = len(first.trials)
    wider = Choice([(32,), (64, 64), (128,)])
    edited = Study(space={"hidden": wider}, name="t", storage=SQLiteStorage(path), seed=0)
    assert edited.space_changes == ["(128,) added to hidden",
                                    f"{n} earlier trials, {n} inside the new space"]
    assert {t.params["hidden"] for t in edited.trials} == {(32,), (64, 64)}
