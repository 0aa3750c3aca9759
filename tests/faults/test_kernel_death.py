"""kill -9 of a kernel or of a worker in the middle of a run, and kernels sharing one file.

A trial left ``running`` by a kernel that died is an orphan: the next run of its study marks
it interrupted and tries its parameters again first. A trial of a kernel that is alive is
never touched, even when another kernel runs the same study in the same file.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time

from kernel_tools import assert_consistent, trial_rows

SLOW = "x = tune.uniform(0, 1)\ntime.sleep(0.5)\nx"
ORPHAN = re.compile(r"trial (\d+) was running when its kernel died: marked interrupted, re-queued")


def cell(db, line: str = "") -> str:
    return (f"%%tune --trials 10 --study d --storage {db} --sampler random --plot none "
            f"{line}\n{SLOW}")


def params_of(db, number: int) -> dict:
    with sqlite3.connect(db) as conn:
        (text,) = conn.execute("SELECT params FROM trials WHERE number = ?", (number,)).fetchone()
    return json.loads(text)


def kill_during_run(kernels, db, line: str, n_orphans: int) -> list[int]:
    """Run the study in a kernel and ``kill -9`` it ~3 s in, once ``n_orphans`` trials run
    (workers take a moment to start); the numbers left ``running``."""
    first = kernels.start()
    first.run("import time").check()
    first.submit(cell(db, line))
    time.sleep(2.5)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        running = [n for _, n, state in trial_rows(db) if state == "running"]
        # Killed once the running trials have drawn their parameters (saved within a
        # fraction of a second): a trial killed before it drew any has nothing to re-run.
        if len(running) == n_orphans and all(params_of(db, n) for n in running):
            break
        time.sleep(0.05)
    first.kill()
    return [n for _, n, state in trial_rows(db) if state == "running"]


def rerun_after_death(kernels, db, line: str, n_orphans: int) -> None:
    orphans = kill_during_run(kernels, db, line, n_orphans)
    assert len(orphans) == n_orphans, orphans  # the kernel did die in the middle of trials
    before = len(trial_rows(db))
    second = kernels.start()
    second.run("import time").check()
    reply = second.run(cell(db, line)).check()
    opening = reply.stdout.splitlines()[0]
    assert sorted(int(n) for n in ORPHAN.findall(reply.stdout)) == orphans, reply.stdout
    assert "continuing study 'd'" in opening
    rows = assert_consistent(db)
    assert {n: s for _, n, s in rows if n in orphans} == dict.fromkeys(orphans, "interrupted")
    # The orphans' parameters are tried first by the new run.
    retried = sorted(params_of(db, n)["x"] for n in range(before, before + n_orphans))
    assert retried == sorted(params_of(db, n)["x"] for n in orphans)


def test_an_orphaned_trial_is_marked_and_requeued_by_the_next_kernel(kernels, tmp_path):
    rerun_after_death(kernels, tmp_path / "s.db", "", n_orphans=1)


def test_two_orphans_of_a_parallel_run(kernels, tmp_path):
    rerun_after_death(kernels, tmp_path / "s.db", "--jobs 2", n_orphans=2)


def test_two_live_kernels_share_a_study_and_a_file(kernels, tmp_path):
    """Both write the same study at once (and a second study each): every trial of both is
    recorded, numbered without a gap, and neither marks the other's running trials."""
    db = tmp_path / "s.db"
    a, b = kernels.start(), kernels.start()
    for k in (a, b):
        k.run("import time").check()
    quick = "x = tune.uniform(0, 1)\ntime.sleep(0.2)\nx"
    runs = [k.submit(f"%%tune --trials 8 --study shared --storage {db} --sampler random "
                     f"--plot none\n{quick}") for k in (a, b)]
    replies = [k.collect(msg_id) for k, msg_id in zip((a, b), runs)]
    for reply in replies:
        reply.check()
        assert "was running when its kernel died" not in reply.text
    runs = [k.submit(f"%%tune --trials 5 --study own{i} --storage {db} --sampler random "
                     f"--plot none\n{quick}") for i, k in enumerate((a, b))]
    for k, msg_id in zip((a, b), runs):
        k.collect(msg_id).check()
    rows = assert_consistent(db)
    states = {}
    for name, _, state in rows:
        states.setdefault(name, []).append(state)
    assert states == {"shared": ["complete"] * 16, "own0": ["complete"] * 5,
                      "own1": ["complete"] * 5}


def test_a_killed_worker_is_retried_and_the_study_completes(kernels, tmp_path):
    db = tmp_path / "s.db"
    kernel = kernels.start()
    kernel.run("import time, multiprocessing").check()
    kernel.run(f"%%tune --background --jobs 2 --retries 1 --trials 6 --study w --storage {db} "
               f"--sampler random --plot none\nx = tune.uniform(0, 1)\ntime.sleep(1.0)\nx"
               ).check()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pids = json.loads(kernel.value(
            "__import__('json').dumps([p.pid for p in multiprocessing.active_children() "
            "if p.name == 'hpt-worker'])"))
        if len(pids) == 2 and any(s == "running" for _, _, s in trial_rows(db)):
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the workers never started a trial")
    time.sleep(0.5)  # in the middle of a 1 s trial
    kernel.run(f"import os, signal; os.kill({pids[0]}, signal.SIGKILL)").check()
    assert kernel.value("study.wait(60)") == "True"
    rows = assert_consistent(db)
    assert [s for _, _, s in rows] == ["complete"] * 6
    assert kernel.value("[t.user_attrs.get('retried') for t in study.trials].count(1)") == "1"
