"""The edges of a trial: scores and exceptions that end it in unexpected ways (D3), a closing
``tune.report`` (D6), scheduler options checked before anything is stored (D4), and option
checks of ``%%tune``. Run through the magic on a real SQLite file, as a notebook runs them."""

from __future__ import annotations

import sqlite3

import pytest

from hpt_magic import SpaceError, Study, TrialState, TuneError
from hpt_magic.schedulers import make_scheduler

UNEXPECTED_ENDS = {
    "overflow": ("10**400", "OverflowError"),
    "bad __float__": ("class Score:\n    def __float__(self):\n        raise RuntimeError('no')\n"
                      "Score()", "RuntimeError: no"),
    "SystemExit": ("if x >= 0:\n    raise SystemExit(3)\nx", "SystemExit: 3"),
    "GeneratorExit": ("if x >= 0:\n    raise GeneratorExit\nx", "GeneratorExit"),
    "own BaseException": ("class Stop(BaseException):\n    pass\nif x >= 0:\n"
                          "    raise Stop('mine')\nx", "Stop: mine"),
    "str score": ("'0.5'", "the score is a str ('0.5'): return a number, e.g. float(...)"),
}


def tune_cell(shell, line: str, body: str):
    return shell.run_cell(f"%%tune --plot none {line}\n{body}\n")


def rows(path, study=None):
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT s.name, t.number, t.state, t.error FROM trials t JOIN studies s "
            "ON s.id = t.study_id ORDER BY s.name, t.number").fetchall()


@pytest.mark.parametrize("case", sorted(UNEXPECTED_ENDS))
@pytest.mark.parametrize("jobs", [1, 2])
def test_an_unexpected_end_fails_the_trial_and_the_run_goes_on(shell, tmp_path, case, jobs):
    last, reason = UNEXPECTED_ENDS[case]
    db = tmp_path / "s.db"
    r = tune_cell(shell, f"--trials 3 --study s --storage {db} --sampler random --jobs {jobs}",
                  f"x = tune.uniform(0, 1)\n{last}")
    assert r.success, r.error_in_exec
    study = shell.user_ns["study"]
    assert [t.state for t in study.trials] == [TrialState.FAILED] * 3
    for t in study.trials:
        assert reason in t.error and "\n" not in t.error, t.error
    assert [row[2] for row in rows(db)] == ["failed"] * 3
    if "score" not in case and case not in ("overflow", "bad __float__"):
        assert reason.split(":")[0] in study.trials[0].traceback


def test_keyboard_interrupt_in_a_cell_still_stops_the_run(shell, tmp_path):
    db = tmp_path / "s.db"
    shell.run_cell("calls = []")
    tune_cell(shell, f"--trials 5 --study s --storage {db} --sampler random",
              "x = tune.uniform(0, 1)\ncalls.append(x)\nif len(calls) == 2:\n"
              "    raise KeyboardInterrupt\nx")
    assert [s for _, _, s, _ in rows(db)] == ["complete", "interrupted"]


def test_a_closing_report_is_not_the_score(shell, tmp_path):
    db = tmp_path / "s.db"
    r = tune_cell(shell, f"--trials 3 --study s --storage {db} --sampler random",
                  "x = tune.uniform(0, 1)\ntune.report(x * 2)")
    assert r.success, r.error_in_exec
    study = shell.user_ns["study"]
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 3
    assert all(t.value == pytest.approx(2 * t.params["x"]) for t in study.trials)


def test_a_study_whose_scheduler_cannot_run_stores_nothing(tmp_path):
    db = tmp_path / "s.db"
    with pytest.raises(TuneError, match="needs max_steps.*--max-steps 81"):
        Study(scheduler="hyperband", storage=db, name="s")
    with pytest.raises(TuneError, match="needs max_steps"):
        Study(scheduler="bohb", storage=db, name="s")
    assert not db.exists() or rows(db) == []


def test_the_magic_refuses_hyperband_without_max_steps_before_any_row(shell, tmp_path, capsys):
    db = tmp_path / "s.db"
    r = tune_cell(shell, f"--trials 3 --study s --storage {db} --scheduler hyperband",
                  "x = tune.uniform(0, 1)\nfor step in tune.steps(9):\n    tune.report(x)")
    assert "needs max_steps" in str(r.error_in_exec)
    assert not db.exists() or rows(db) == []


@pytest.mark.parametrize("name, options", [
    ("asha", {"max_steps": "ten"}), ("asha", {"max_steps": 2.5}),
    ("asha", {"reduction_factor": "three"}), ("hyperband", {"max_steps": 0}),
    ("bohb", {"max_steps": 9, "min_resource": 10}), ("early-stop", {"min_delta": "x"}),
    ("pbt", {"perturb": 0.8}), ("median", {"max_steps": -1}),
])
def test_bad_scheduler_options_are_one_clear_error_when_built(name, options):
    with pytest.raises(TuneError) as info:
        make_scheduler(name, **options)
    assert "\n" not in str(info.value)
    assert any(repr(v) in str(info.value) for v in options.values()), info.value


@pytest.mark.parametrize("value", ["-5", "nan", "0"])
def test_timeout_must_be_a_positive_number(shell, tmp_path, value):
    r = tune_cell(shell, f"--trials 3 --storage {tmp_path / 's.db'} --timeout {value}",
                  "x = tune.uniform(0, 1)\nx")
    message = str(r.error_in_exec)
    assert "--timeout must be a positive number of seconds" in message and value in message
    assert "\n" not in message
    assert not (tmp_path / "s.db").exists()


def test_enqueue_refuses_an_unknown_name_on_a_fixed_space():
    from hpt_magic import Float

    study = Study(space={"lr": Float(0, 1)})
    with pytest.raises(SpaceError, match=r"\['lrr'\] are not in the study's space \(lr\)"):
        study.enqueue({"lrr": 0.1})
    assert study.ask().params["lr"] != 0.1  # nothing was queued


def test_enqueue_on_a_define_by_run_space_accepts_names_not_seen_yet():
    study = Study()
    study.enqueue({"depth": 3})
    trial = study.ask()
    assert trial.suggest("depth", __import__("hpt_magic").Int(1, 5)) == 3


def test_magic_warns_once_about_an_enqueued_name_the_cell_never_defines(shell, tmp_path,
                                                                        capsys):
    r = tune_cell(shell, f"--trials 2 --storage {tmp_path / 's.db'} --enqueue '{{\"lrr\": 0.1}}'",
                  "lr = tune.uniform(0, 1)\nlr")
    assert r.success, r.error_in_exec
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "lrr" in line]
    assert len(lines) == 1 and "does not define" in lines[0] and "['lr']" in lines[0]


def test_a_scheduler_on_a_cell_that_never_reports_is_one_warning(shell, tmp_path, capsys):
    r = tune_cell(shell, f"--trials 3 --storage {tmp_path / 's.db'} --scheduler asha",
                  "x = tune.uniform(0, 1)\nx")
    assert r.success, r.error_in_exec
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "nothing to act on" in line]
    assert len(lines) == 1 and "tune.report" in lines[0]
    capsys.readouterr()
    tune_cell(shell, f"--trials 1 --storage {tmp_path / 's.db'} --scheduler asha --study r",
              "x = tune.uniform(0, 1)\nfor s in tune.steps(3):\n    tune.report(x)")
    assert "nothing to act on" not in capsys.readouterr().err


@pytest.mark.parametrize("options, named", [
    ("--max-steps 27", "--max-steps only tells"),
    ("--scheduler-args min_resource=3", "--scheduler-args only tells"),
    ("--max-steps 27 --scheduler-args min_resource=3 --scheduler none",
     "--max-steps and --scheduler-args only tell"),
])
def test_scheduler_options_without_a_scheduler_are_one_note(shell, tmp_path, capsys, options,
                                                           named):
    # Options that only a scheduler reads do nothing without one: most likely the user meant
    # to add --scheduler. One line says so, and the cell runs.
    r = tune_cell(shell, f"--trials 2 --storage {tmp_path / 's.db'} {options}",
                  "x = tune.uniform(0, 1)\nfor s in tune.steps(3):\n    tune.report(x)\nx")
    assert r.success, r.error_in_exec
    lines = [line for line in capsys.readouterr().err.splitlines() if "scheduler" in line]
    assert len(lines) == 1 and named in lines[0] and "add --scheduler" in lines[0]
    tune_cell(shell, f"--trials 1 --storage {tmp_path / 's.db'} --scheduler asha --max-steps 3 "
              "--study r", "x = tune.uniform(0, 1)\nfor s in tune.steps(3):\n    tune.report(x)")
    assert "only tell" not in capsys.readouterr().err
    # A cell refused as its study opens shows its error alone, no note before it.
    r = tune_cell(shell, f"--trials 2 --storage {tmp_path / 's.db'} --max-steps 27 --sampler grid "
                  "--study g", "x = tune.uniform(0, 1)\nx")
    assert not r.success and "only tell" not in capsys.readouterr().err


def test_a_callback_made_in_an_earlier_cell_is_no_cell_that_never_reports(shell, tmp_path,
                                                                          capsys):
    # tune.*_callback made once in the notebook and used by name in the cell reports every
    # round: the note that the scheduler has nothing to act on would be false.
    pytest.importorskip("lightgbm")
    shell.run_cell("from sklearn.datasets import make_classification\nimport lightgbm as lgb\n"
                   "X, y = make_classification(300, 8, random_state=0)\n"
                   "cb = tune.lightgbm_callback('valid_0', 'binary_logloss')")
    capsys.readouterr()
    r = tune_cell(shell, f"--trials 3 --storage {tmp_path / 's.db'} --scheduler asha "
                  "--max-steps 9 --study cb",
                  "lr = tune.loguniform(0.01, 0.5)\n"
                  "clf = lgb.LGBMClassifier(n_estimators=9, learning_rate=lr, verbose=-1, "
                  "n_jobs=1)\n"
                  "clf.fit(X[:200], y[:200], eval_set=[(X[200:], y[200:])], callbacks=[cb])\n"
                  "clf.evals_result_['valid_0']['binary_logloss'][-1]")
    assert r.success, r.error_in_exec
    assert "nothing to act on" not in capsys.readouterr().err
    study = shell.user_ns["study"]
    assert all(len(t.intermediate) >= 1 for t in study.trials), \
        [(t.state, t.error, t.intermediate) for t in study.trials]
