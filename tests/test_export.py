"""Exports: tables, CSV, the list of stored studies, parameter importances."""

from __future__ import annotations

import csv
import sys

import pytest

from hpt_magic import Choice, Float, Int, Study, TrialState, TuneError, tune
from hpt_magic.study._export import (
    MIN_TRIALS_AFTER_EDIT,
    importance_params,
    importances,
    list_studies,
    to_csv,
    to_dataframe,
)


def objective(trial):
    p = trial.params
    if p["n"] == 5:
        raise ValueError("n=5 is not allowed")
    return (p["x"] - 1) ** 2 + 0.01 * p["y"] + (4.0 if p["kind"] == "b" else 0.0)


def make_study(n_trials: int = 30, **kwargs) -> Study:
    space = {"x": Float(-5, 5), "y": Float(0, 1), "kind": Choice(["a", "b"]), "n": Int(1, 5)}
    study = Study(space=space, seed=3, **kwargs)
    study.optimize(objective, n_trials=n_trials)
    return study


def test_to_dataframe_has_one_row_per_trial():
    pytest.importorskip("pandas")
    study = make_study(8)
    df = to_dataframe(study)
    assert list(df.columns) == ["number", "state", "value", "started", "finished", "duration",
                                "last_step", "error", "params_x", "params_y", "params_kind",
                                "params_n"]
    assert df["number"].tolist() == list(range(8))
    assert df["params_x"].tolist() == [t.params["x"] for t in study.trials]
    failed = df[df["state"] == "failed"]
    assert failed["value"].isna().all() and failed["error"].str.contains("n=5").all()


def test_to_dataframe_without_pandas_says_how_to_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(TuneError, match="pip install pandas"):
        to_dataframe(make_study(2))


def test_to_csv_round_trips_the_table(tmp_path):
    study = make_study(5)
    path = tmp_path / "trials.csv"
    to_csv(study, path)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["number"]) for r in rows] == [0, 1, 2, 3, 4]
    assert [float(r["params_x"]) for r in rows] == pytest.approx(
        [t.params["x"] for t in study.trials])
    assert [r["value"] for r in rows if r["state"] == "failed"] == \
        [""] * study.counts()["failed"]


def test_list_studies_reads_a_study_file(tmp_path):
    path = tmp_path / "studies.db"
    first = make_study(4, name="first", storage=path)
    make_study(2, name="second", storage=path)
    rows = list_studies(path)
    assert [r["name"] for r in rows] == ["first", "second"]
    assert rows[0]["n_trials"] == 4
    assert rows[0]["n_complete"] == first.counts()["complete"]
    assert rows[0]["best_value"] == pytest.approx(first.best_value)
    assert rows[0]["created"].year >= 2024
    with pytest.raises(TuneError, match="no study file"):
        list_studies(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()


def test_an_empty_file_is_read_as_no_study_file_and_left_empty(tmp_path):
    # Listing or loading from an empty file (made by touch, a failed copy) wrote a study
    # database into it, with its -wal and -shm files beside it.
    from hpt_magic import load_study

    path = tmp_path / "empty.db"
    path.touch()
    with pytest.raises(TuneError, match="'.*empty.db' is empty: no study was ever stored"):
        list_studies(path)
    with pytest.raises(TuneError, match="is empty"):
        load_study("s", path)
    assert path.stat().st_size == 0 and sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]


@pytest.mark.parametrize("storage", ["file", "memory"])
def test_list_studies_never_gives_a_trial_that_breaks_a_constraint_as_best(tmp_path, storage):
    from hpt_magic import InMemoryStorage

    where = tmp_path / "c.db" if storage == "file" else InMemoryStorage()
    study = Study(direction="max", objectives=["acc"], constraints=["mem >= 0"],
                  storage=where, name="c")
    study.tell(study.ask(), {"acc": 0.99, "mem": -1})
    study.tell(study.ask(), {"acc": 0.5, "mem": 1})
    empty = Study(direction="max", objectives=["acc"], constraints=["mem >= 0"],
                  storage=where, name="none-feasible")
    empty.tell(empty.ask(), {"acc": 0.9, "mem": -1})
    rows = {r["name"]: r for r in list_studies(where)}
    assert rows["c"]["best_value"] == study.best_value == 0.5
    assert rows["none-feasible"]["best_value"] is None


def _constrained_studies(where):
    """A constrained study of each kind whose best (or front) changes when the trials that
    break the constraint are left out, and an unconstrained one."""
    space = {"x": Float(0, 1)}
    single = Study(space=space, direction="max", objectives=["acc"], constraints=["mem <= 0.5"],
                   storage=where, name="single", seed=0)
    single.optimize(lambda t: {"acc": t.params["x"], "mem": t.params["x"]}, n_trials=30)
    multi = Study(space=space, directions=["max", "min"], objectives=["acc", "ms"],
                  constraints=["mem <= 0.5"], storage=where, name="multi", seed=0)
    multi.optimize(lambda t: {"acc": t.params["x"], "ms": t.params["x"] ** 2,
                              "mem": 1 - t.params["x"]}, n_trials=30)
    plain = Study(space=space, storage=where, name="plain", seed=0)
    plain.optimize(lambda t: t.params["x"], n_trials=10)
    return single, multi, plain


def test_list_studies_gives_what_the_studies_say_without_loading_their_trials(
        tmp_path, monkeypatch):
    from hpt_magic import SQLiteStorage

    path = tmp_path / "c.db"
    single, multi, plain = _constrained_studies(path)
    raw_best = max(t.value for t in single.trials if t.state is TrialState.COMPLETE)
    assert single.best_value <= 0.5 < raw_best  # the constraint changes the answer
    # Every trial of "multi" trades acc for ms: all would be on the front, but half break mem.
    assert 0 < len(multi.best_trials) < multi.counts()["complete"]
    loaded = []
    load_trials = SQLiteStorage.load_trials
    monkeypatch.setattr(SQLiteStorage, "load_trials",
                        lambda self, *args: loaded.append(args) or load_trials(self, *args))
    rows = {r["name"]: r for r in list_studies(path)}
    assert loaded == []  # no Trial built: the front and the best come from two columns
    assert rows["single"]["best_value"] == single.best_value
    assert rows["multi"]["best_value"] is None
    assert rows["multi"]["front"] == [t.values for t in multi.best_trials]
    assert rows["plain"]["best_value"] == plain.best_value
    assert [rows[n]["n_complete"] for n in rows] == [30, 30, 10]


def test_list_studies_reads_the_same_from_memory_and_from_a_file(tmp_path):
    from hpt_magic import InMemoryStorage

    memory = InMemoryStorage()
    _constrained_studies(memory), _constrained_studies(tmp_path / "c.db")
    drop = ("created",)
    assert [{k: v for k, v in r.items() if k not in drop} for r in list_studies(memory)] == \
        [{k: v for k, v in r.items() if k not in drop} for r in list_studies(tmp_path / "c.db")]


def test_importances_rank_the_parameter_that_matters():
    scores = importances(make_study(40))
    assert set(scores) == {"x", "y", "kind", "n"}
    assert sum(scores.values()) == pytest.approx(1.0)
    assert list(scores)[0] == "x"
    assert scores["x"] > 0.5 and scores["y"] < 0.1
    assert importances(make_study(40), params=["y", "kind"]).keys() == {"y", "kind"}


def test_importances_need_complete_trials():
    with pytest.raises(TuneError, match="at least 4 complete trials"):
        importances(make_study(2))
    with pytest.raises(TuneError, match="not parameters"):
        importances(make_study(6), params=["z"])


def test_importances_rank_a_parameter_added_by_an_edit_once_it_has_trials(tmp_path):
    # The trials from before the edit lack the new parameter: it was never ranked (and the
    # dashboard's panel gave all the importance to the others, for ever).
    from hpt_magic.visualization._importance import ped_anova

    path = tmp_path / "s.db"
    before = Study(space={"x": Float(0, 1)}, name="s", storage=path, seed=0)
    before.optimize(lambda t: t.params["x"], n_trials=8)
    space = {"x": Float(0, 1), "kind": Choice(["a", "b"])}
    study = Study(space=space, name="s", storage=path, seed=0)
    assert study.space_version == 1

    def objective(trial):
        return trial.params["x"] + 10 * (trial.params["kind"] == "b")
    study.optimize(objective, n_trials=MIN_TRIALS_AFTER_EDIT - 1)
    assert importances(study).keys() == {"x"}  # too few trials of the edited space yet
    study.optimize(objective, n_trials=1)
    assert list(importances(study)) == ["kind", "x"]
    assert ped_anova(study).keys() == {"kind", "x"}


def test_a_parameter_of_a_branch_stays_out_of_the_importances_after_an_edit(tmp_path):
    # 'depth' exists only when kind == "tree": trials before the edit took both branches, so
    # the trials since an edit that all happen to take the tree branch do not make it a
    # parameter the edit added.
    def objective(trial):
        kind = tune.choice(["tree", "line"], name="kind")
        x = tune.uniform(0, 1, name="x")
        return x + (tune.int(1, 8, name="depth") if kind == "tree" else 5)

    path = tmp_path / "s.db"
    study = Study(name="s", storage=path, seed=0)
    study.optimize(objective, n_trials=30)
    study.edit_space({"x": Float(0, 0.5), "kind": Choice(["tree"])})
    study.optimize(objective, n_trials=MIN_TRIALS_AFTER_EDIT)
    assert importance_params(study) == ["kind", "x"]


def test_constant_score_shares_importance_equally():
    study = Study(space={"a": Float(0, 1), "b": Float(0, 1)}, seed=0)
    study.optimize(lambda t: 1.0, n_trials=6)
    assert importances(study) == {"a": 0.5, "b": 0.5}


def test_importances_refit_only_when_trials_were_added(monkeypatch):
    from hpt_magic.study import _export

    calls = []
    real = _export._main_effects
    monkeypatch.setattr(_export, "_main_effects", lambda *a: calls.append(1) or real(*a))
    study = make_study(8)
    first = importances(study)
    assert importances(study) == first and len(calls) == 1
    study.optimize(objective, n_trials=3)
    importances(study)
    assert len(calls) == 2


def test_to_csv_escapes_text_a_spreadsheet_would_run_as_a_formula(tmp_path):
    risky = ["=HYPERLINK(\"http://x\")", "+1+cmd", "-1+2", "@SUM(A1)", "\tx", "\rx"]
    safe = ["plain", "-0.5", "+3", "1e-3"]
    study = Study(space={"f": Choice(risky + safe), "neg": Float(-2, -1)}, seed=0)
    for option in risky + safe:
        study.enqueue({"f": option})
    study.optimize(lambda t: t.params["neg"], n_trials=len(risky + safe))
    path = tmp_path / "trials.csv"
    to_csv(study, path)
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["params_f"] for r in rows] == ["'" + o for o in risky] + safe
    for row, trial in zip(rows, study.trials):
        assert float(row["params_neg"]) == trial.params["neg"] < 0
        assert float(row["value"]) == trial.value < 0


def test_to_csv_escapes_formulas_behind_spaces_and_in_full_width(tmp_path):
    # Spreadsheets skip leading blanks, and some read the full-width ＝ ＋ － ＠ as = + - @.
    risky = ["  =1+1", "\n=1+1", "\u3000@SUM(A1)", "\N{FULLWIDTH EQUALS SIGN}1+1",
             "\N{FULLWIDTH PLUS SIGN}1+cmd", "\N{FULLWIDTH HYPHEN-MINUS}1+2",
             "\N{FULLWIDTH COMMERCIAL AT}SUM(A1)", " \N{FULLWIDTH EQUALS SIGN}1",
             "\t-1", "\r2.5"]  # a tab or CR first: escaped whatever follows
    safe = ["  plain", " -0.5", "x=1", "a\N{FULLWIDTH EQUALS SIGN}1"]
    study = Study(space={"f": Choice(risky + safe)}, seed=0)
    for option in risky + safe:
        study.enqueue({"f": option})
    study.optimize(lambda t: -0.5, n_trials=len(risky + safe))
    path = tmp_path / "trials.csv"
    to_csv(study, path)
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["params_f"] for r in rows] == ["'" + o for o in risky] + safe
    assert {r["value"] for r in rows} == {"-0.5"}


def test_to_dataframe_keeps_formula_like_text_unchanged():
    pytest.importorskip("pandas")
    study = Study(space={"f": Choice(["=1+1", "@x"])}, seed=0)
    study.enqueue({"f": "=1+1"})
    study.enqueue({"f": "@x"})
    study.optimize(lambda t: -0.5, n_trials=2)
    df = to_dataframe(study)
    assert df["params_f"].tolist() == ["=1+1", "@x"]
    assert df["value"].tolist() == [-0.5, -0.5]
