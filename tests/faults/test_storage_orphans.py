"""Trials left ``running`` by a kernel that died are found and marked ``interrupted``; trials of
live kernels are never touched (real child processes, killed with SIGKILL)."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import threading
import time

import pytest
from storage_helpers import kernel_with_a_running_trial, wait_for

from hpt_magic import Float, InMemoryStorage, SQLiteStorage, Study, TrialState


def states(path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT number, state FROM trials ORDER BY number").fetchall()


def test_the_trial_of_a_killed_kernel_is_marked_interrupted_with_its_params(tmp_path):
    path = tmp_path / "s.db"
    with kernel_with_a_running_trial(path) as (child, study_id, number):
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        storage = SQLiteStorage(path)
        orphans = storage.recover_orphans(study_id)
    assert [t.number for t in orphans] == [number]
    (trial,) = orphans
    assert trial.state is TrialState.INTERRUPTED and 0 <= trial.params["x"] <= 1
    assert trial.error == (f"its kernel (pid {child.pid} on host {socket.gethostname()}) died "
                           "while it ran")
    assert states(path) == [(number, "interrupted")]
    assert storage.recover_orphans(study_id) == []  # marked once
    study = Study(space={"x": Float(0, 1)}, name="a", storage=storage)
    assert study.trials[0].error == trial.error
    assert study.ask().number == number + 1


def test_an_orphan_outside_the_edited_space_is_not_queued_and_the_run_goes_on(tmp_path):
    path = tmp_path / "s.db"
    with kernel_with_a_running_trial(path) as (child, _, number):
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    # Its x lies in [0, 1]: the space moved away from it.
    with pytest.warns(UserWarning, match=rf"Trial {number} of study 'a' was running when its "
                                         r"kernel died; its parameters \{'x': .*\} are not "
                                         r"queued again: .* is outside Float\(2, 3\)"):
        study = Study(space={"x": Float(2, 3)}, name="a", storage=SQLiteStorage(path))
    assert [t.number for t in study.orphans] == [number] and study.orphans_queued == []
    study.optimize(lambda t: t.params["x"], n_trials=3)
    assert [t.state for t in study.trials] == [TrialState.INTERRUPTED] + \
        [TrialState.COMPLETE] * 3


def test_the_trial_of_a_live_kernel_is_never_marked(tmp_path):
    path = tmp_path / "s.db"
    storage = SQLiteStorage(path)
    with kernel_with_a_running_trial(path) as (child, study_id, number):
        mine = Study(space={"x": Float(0, 1)}, name="a", storage=storage).ask()
        assert storage.recover_orphans(study_id, grace=0.0) == []
        assert child.poll() is None
        assert states(path) == [(number, "running"), (mine.number, "running")]


def test_a_reused_pid_does_not_keep_a_dead_kernel_alive(tmp_path):
    # The trial names a live pid (our parent) with another process's start time: the kernel
    # that had that pid is gone.
    path = tmp_path / "s.db"
    storage = SQLiteStorage(path)
    study = Study(space={"x": Float(0, 1)}, name="a", storage=storage)
    study.ask()
    with sqlite3.connect(path) as conn:
        (token,) = conn.execute("SELECT owner_token FROM trials").fetchone()
        boot, namespace, _, rest = token.split("/")
        conn.execute("UPDATE trials SET owner_pid=?, owner_token=?",
                     (os.getppid(), f"{boot}/{namespace}/1/{rest}"))
    (trial,) = storage.recover_orphans(study._id)
    assert f"pid {os.getppid()} " in trial.error


def test_a_kernel_on_another_host_is_judged_by_its_heartbeat(tmp_path):
    path = tmp_path / "s.db"
    storage = SQLiteStorage(path)
    study = Study(space={"x": Float(0, 1)}, name="a", storage=storage)
    study.ask(), study.ask()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE trials SET owner_host='elsewhere', owner_token='b/n/1/r', "
                     "heartbeat=? WHERE number=0", (time.time() - 120,))
        conn.execute("UPDATE trials SET owner_host='elsewhere', owner_token='b/n/1/r', "
                     "heartbeat=? WHERE number=1", (time.time() - 5,))
    (trial,) = storage.recover_orphans(study._id, grace=60)
    assert trial.number == 0 and "on host elsewhere) sent no heartbeat for 120 s" in trial.error
    assert states(path) == [(0, "interrupted"), (1, "running")]


def test_the_storage_beats_for_its_running_trials_and_stops_when_none(tmp_path):
    path = tmp_path / "s.db"
    storage = SQLiteStorage(path, heartbeat_interval=0.05)
    study = Study(space={"x": Float(0, 1)}, name="a", storage=storage)
    trial = study.ask()

    def beat() -> float:
        with sqlite3.connect(path) as conn:
            return conn.execute("SELECT heartbeat FROM trials").fetchone()[0]
    def beating() -> bool:
        return any(t.name == f"hpt-heartbeat {path}" for t in threading.enumerate())
    first = beat()
    wait_for(lambda: beat() > first, timeout=5)
    assert beating()
    study.tell(trial, 1.0)
    wait_for(lambda: not beating(), timeout=5)
    last = beat()
    time.sleep(0.2)
    assert beat() == last
    storage.close()


def test_nothing_is_ever_orphaned_in_memory():
    storage = InMemoryStorage()
    study = Study(space={"x": Float(0, 1)}, storage=storage)
    study.ask()
    assert storage.recover_orphans(study._id, grace=0.0) == []
