"""Several processes on one study file at the same instant, and a lock another process holds
while trials finish (real processes, real SQLite files)."""

from __future__ import annotations

import json
import multiprocessing as mp
import sqlite3
import time

import pytest
from storage_helpers import locked_by_another_process, open_at_once, run_the_queue_at_once

from hpt_magic import Float, SQLiteStorage, StorageError, Study, TrialState
from hpt_magic.executors._processes import main_module_spec

#: Rounds of each race: SQLite's own lock waits make a lost race rare, so it is run often.
ROUNDS = 20


def _race(paths: list[str], n_children: int = 2) -> dict[str, list]:
    main_module_spec()  # IPython shells of earlier tests leave a __main__ without __spec__
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(n_children), ctx.Queue()
    children = [ctx.Process(target=open_at_once, args=(paths, barrier, results))
                for _ in range(n_children)]
    for child in children:
        child.start()
    got: dict[str, list] = {path: [] for path in paths}
    try:
        for _ in range(n_children * len(paths)):
            path, outcome = results.get(timeout=120)
            got[path].append(outcome)
    finally:
        for child in children:
            child.join(30)
            if child.is_alive():
                child.kill()
    return got


def test_two_processes_create_a_new_file_and_study_at_the_same_instant(tmp_path):
    # One of them creates the study, the other continues it: neither takes the other's
    # study for its own new one.
    paths = [str(tmp_path / f"new{i}.db") for i in range(ROUNDS)]
    for path, opened in _race(paths).items():
        assert len(opened) == 2 and all(isinstance(o, tuple) for o in opened), (path, opened)
        (a, resumed_a), (b, resumed_b) = opened
        assert a == b and sorted([resumed_a, resumed_b]) == [False, True], (path, opened)
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT name FROM studies").fetchall() == [("x",)]


def test_two_processes_create_the_same_study_in_an_existing_file_at_once(tmp_path):
    paths = []
    for i in range(ROUNDS):
        path = tmp_path / f"old{i}.db"
        Study(name="other", storage=SQLiteStorage(path)).storage.close()
        paths.append(str(path))
    for path, opened in _race(paths).items():
        assert len(opened) == 2 and all(isinstance(o, tuple) for o in opened), (path, opened)
        (a, resumed_a), (b, resumed_b) = opened
        assert a == b == 2 and sorted([resumed_a, resumed_b]) == [False, True], (path, opened)


def test_two_processes_run_the_queue_of_one_study_and_each_point_runs_once(tmp_path):
    path = str(tmp_path / "s.db")
    points = [0.125, 0.25, 0.375, 0.5, 0.625, 0.75]
    study = Study(space={"x": Float(0, 1)}, name="q", storage=SQLiteStorage(path))
    for x in points:
        study.enqueue({"x": x})
    main_module_spec()
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    # Both have loaded the whole queue before either takes a point.
    children = [ctx.Process(target=run_the_queue_at_once, args=(path, seed, 6, barrier))
                for seed in (1, 2)]
    for child in children:
        child.start()
    for child in children:
        child.join(120)
        assert child.exitcode == 0
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT params, attrs FROM trials").fetchall()
    queued = sorted(json.loads(params)["x"] for params, attrs in rows
                    if json.loads(attrs).get("enqueued"))
    assert len(rows) == 12 and queued == points


def test_a_trial_finishes_while_another_process_holds_the_lock(tmp_path):
    path = tmp_path / "s.db"
    # timeout (each ordinary write's patience) is far shorter than the lock: the outcome
    # writes must keep retrying, with their own longer patience.
    study = Study(space={"x": Float(0, 1)}, name="a",
                  storage=SQLiteStorage(path, timeout=0.5, write_patience=30))
    trial = study.ask()
    with locked_by_another_process(path, 3.0):
        start = time.monotonic()
        trial.report(0.5, 0)
        study.tell(trial, 0.25)
        waited = time.monotonic() - start
    assert waited > 2.0
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT state, value FROM trials").fetchall() == [("complete", 0.25)]
        assert conn.execute("SELECT step, value FROM reports").fetchall() == [(0, 0.5)]
    assert study.trials[0].state is TrialState.COMPLETE


def test_an_outcome_that_cannot_be_written_in_time_raises(tmp_path):
    path = tmp_path / "s.db"
    study = Study(space={"x": Float(0, 1)}, name="a",
                  storage=SQLiteStorage(path, timeout=0.2, write_patience=0.5))
    trial = study.ask()
    with locked_by_another_process(path, 2.0):
        with pytest.raises(StorageError, match=r"result of trial 0 could not be written and is "
                                                r"not in the file"):
            study.tell(trial, 0.25)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT state FROM trials").fetchall() == [("running",)]
