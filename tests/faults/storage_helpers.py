"""Real faults for the storage tests: damaged pages, read-only files and folders, a second
process that holds the lock, child processes that own running trials."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hpt_magic import Float, SQLiteStorage, Study

PAGE = 4096


def study_file(path: Path, n_trials: int, name: str = "a") -> Path:
    """A closed study file with ``n_trials`` complete trials of two reports each (its own
    storage, closed at the end, so no ``-wal`` is left beside it)."""
    study = Study(space={"x": Float(0, 1), "y": Float(0, 1)}, name=name, seed=0,
                  storage=SQLiteStorage(path))
    for _ in range(n_trials):
        trial = study.ask()
        trial.report(trial.params["x"], 0)
        trial.report(trial.params["y"], 1)
        study.tell(trial, trial.params["x"] + trial.params["y"])
    study.storage.close()
    return path


def pages_of(path: Path, table: str) -> list[int]:
    """The page numbers (1-based) holding leaves of ``table``'s b-tree."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return [n for (n,) in conn.execute(
            "SELECT pageno FROM dbstat WHERE name=? AND pagetype='leaf' ORDER BY pageno",
            (table,))]


def zero_page(path: Path, page: int) -> None:
    with open(path, "r+b") as f:
        f.seek((page - 1) * PAGE)
        f.write(bytes(PAGE))


def flip(path: Path, offset: int, n: int = 8) -> None:
    """Invert ``n`` bytes at ``offset``."""
    with open(path, "r+b") as f:
        f.seek(offset)
        data = f.read(n)
        f.seek(offset)
        f.write(bytes(b ^ 0xFF for b in data))


def beside(path: Path) -> list[str]:
    """The ``-wal``/``-shm``/``-journal`` files next to ``path``."""
    return sorted(p.name for p in path.parent.glob(path.name + "-*"))


# -- read-only files and folders ---------------------------------------------------------------
def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@contextlib.contextmanager
def read_only_folder(folder: Path, fill: Callable[[Path], None]) -> Iterator[Path]:
    """``folder`` made by ``fill`` and then read-only for everyone, root included.

    As root (whom chmod does not stop) a tmpfs is mounted there and remounted read-only;
    otherwise the folder is chmod-ed. Undone at the end.
    """
    folder.mkdir()
    if os.geteuid() == 0:
        if not _mount("-t", "tmpfs", "-o", "size=16m", "tmpfs", str(folder)):
            pytest.skip("root without the right to mount: nothing can make a folder read-only")
        try:
            fill(folder)
            assert _mount("-o", "remount,ro", str(folder))
            yield folder
        finally:
            subprocess.run(["umount", "-l", str(folder)], check=True)
    else:
        fill(folder)
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)


@contextlib.contextmanager
def read_only_file(path: Path) -> Iterator[Path]:
    """``path`` read-only (its folder stays writable): a read-only bind mount of the file onto
    itself as root, chmod otherwise. Undone at the end."""
    if os.geteuid() == 0:
        if not _mount("--bind", str(path), str(path)):
            pytest.skip("root without the right to mount: nothing can make a file read-only")
        try:
            assert _mount("-o", "remount,ro,bind", str(path))
            yield path
        finally:
            subprocess.run(["umount", "-l", str(path)], check=True)
    else:
        path.chmod(0o444)
        try:
            yield path
        finally:
            path.chmod(0o644)


def copy_into(src: Path) -> Callable[[Path], None]:
    """A ``fill`` for :func:`read_only_folder` that copies ``src`` into the folder."""
    return lambda folder: shutil.copy(src, folder / src.name)


# -- another process -------------------------------------------------------------------------
@contextlib.contextmanager
def locked_by_another_process(path: Path, seconds: float) -> Iterator[subprocess.Popen]:
    """Another process holds ``BEGIN EXCLUSIVE`` on ``path`` for ``seconds`` from the moment
    this returns."""
    code = ("import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "time.sleep(float(sys.argv[2]))\n"
            "c.execute('ROLLBACK')\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(path), str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        proc.wait(timeout=seconds + 30)


def wait_for(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# -- children for multiprocessing (spawned: they import this module by name) -----------------
def open_at_once(paths: list[str], barrier, results) -> None:
    """For each path, wait for the other children, then open study ``x`` in it at the same
    instant; put ``(path, (study id, whether it continued the study) or error)`` on
    ``results``."""
    for path in paths:
        barrier.wait(timeout=60)
        try:
            study = Study(name="x", storage=path)
            results.put((path, (study._id, study.resumed)))
        except Exception as exc:  # the test shows what went wrong in which round
            results.put((path, f"{type(exc).__name__}: {exc}"))


def run_the_queue_at_once(path: str, seed: int, n_trials: int, barrier) -> None:
    """Open study ``q`` of ``path``, wait for the other children, then run ``n_trials``
    trials (the queued points first)."""
    study = Study(space={"x": Float(0, 1)}, name="q", storage=SQLiteStorage(path, timeout=60),
                  seed=seed)
    barrier.wait(timeout=60)
    study.optimize(lambda trial: trial.params["x"], n_trials=n_trials)


@contextlib.contextmanager
def kernel_with_a_running_trial(path: Path) -> Iterator[tuple[subprocess.Popen, int, int]]:
    """Another process that starts a trial of study ``a`` in ``path`` and then keeps running;
    yields it with the study id and the trial number. Killed at the end if still alive."""
    code = ("import sys, time\n"
            "from hpt_magic import Float, SQLiteStorage, Study\n"
            "study = Study(space={'x': Float(0, 1)}, name='a',\n"
            "              storage=SQLiteStorage(sys.argv[1]))\n"
            "trial = study.ask()\n"
            "print(study._id, trial.number, flush=True)\n"
            "time.sleep(120)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE,
                            text=True)
    try:
        study_id, number = map(int, proc.stdout.readline().split())
        yield proc, study_id, number
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
