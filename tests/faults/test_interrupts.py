"""Kernel > Interrupt at random (seeded) moments of real runs, in every way a run happens.

After each interrupt the study file must be intact, hold no ``running`` trial and number its
trials from 0 without a gap, and the kernel must still run a cell. One kernel serves every
moment of a mode: interrupt, check, next moment.
"""

from __future__ import annotations

import random
import time

import pytest
from kernel_tools import assert_consistent, trial_rows

#: One seed for every moment below: a failure names its delay, and reruns hit the same ones.
RNG = random.Random(20261129)
QUICK = "x = tune.uniform(0, 1)\ntime.sleep(0.02)\nx"
#: Two parameters and the GP sampler: past its first trials most of the time goes to sampling.
GP = "x = tune.uniform(0, 1)\ny = tune.uniform(0, 1)\n(x - 0.3) ** 2 + y"
SLOW = "x = tune.uniform(0, 1)\ntime.sleep(0.05)\nx"


def moments(n: int, low: float, high: float) -> list[float]:
    return [round(RNG.uniform(low, high), 3) for _ in range(n)]


def still_works(kernel) -> None:
    assert kernel.value("sum(range(5))") == "10"


@pytest.fixture(scope="module")
def kernel(module_kernels):
    k = module_kernels.start()
    k.run("import time").check()
    return k


@pytest.mark.parametrize("cell, line, delays", [
    (QUICK, "--sampler random --trials 100000", moments(6, 0.05, 0.8)),
    (GP, "--sampler gp --trials 300", moments(5, 0.3, 2.5)),
], ids=["quick", "gp"])
def test_sequential_runs(kernel, tmp_path, cell, line, delays):
    db = tmp_path / "s.db"
    for delay in delays:
        reply = kernel.interrupt_after(
            f"%%tune {line} --study s --storage {db} --plot none\n{cell}", delay)
        assert "Traceback" not in reply.text, (delay, reply.text)
        assert_consistent(db)
        still_works(kernel)
    assert len(trial_rows(db)) > len(delays)


def test_parallel_runs(kernel, tmp_path):
    db = tmp_path / "s.db"
    for delay in moments(4, 0.3, 2.5):
        kernel.interrupt_after(
            f"%%tune --jobs 2 --trials 100000 --sampler random --study p --storage {db} "
            f"--plot none\n{SLOW}", delay, timeout=30)
        assert_consistent(db)
        still_works(kernel)
        # Interrupted workers are killed, not left behind.
        assert kernel.value("len([p for p in __import__('multiprocessing').active_children()"
                            " if p.name == 'hpt-worker'])") == "0"


def test_background_runs_aborted_or_interrupted_while_waiting(kernel, tmp_path):
    db = tmp_path / "s.db"
    for i, delay in enumerate(moments(4, 0.1, 1.5)):
        kernel.run(f"%%tune --background --trials 100000 --sampler random --study b "
                   f"--storage {db} --plot none\n{QUICK}").check()
        if i % 2:
            kernel.interrupt_after("study.wait()", delay, timeout=30)
        else:
            time.sleep(delay)
        assert kernel.value("study.abort(), study.wait(20)") == "(None, True)"
        assert_consistent(db)
        still_works(kernel)


def test_manual_runs_through_the_tuner_api(kernel, tmp_path):
    db = tmp_path / "s.db"
    kernel.run(f"""\
from hpt_magic import Float, Study
from hpt_magic.widgets import ManualTuner

manual = Study(space={{"x": Float(0, 1)}}, name="m", storage={str(db)!r})

def slow(trial):
    time.sleep(0.05)
    return trial.params["x"]

tuner = ManualTuner(manual, slow, dashboard=False)
""").check()
    for delay in moments(4, 0.05, 0.6):
        kernel.interrupt_after(
            "for i in range(1000):\n    tuner.set_values({'x': (i % 10) / 10})\n    tuner.run()",
            delay)
        assert_consistent(db)
        still_works(kernel)
    assert kernel.value("tuner.run() is not None") == "True"  # the tuner is not stuck


def test_interrupting_wait_leaves_the_background_run_observable_and_abortable(kernel,
                                                                              tmp_path):
    """D7: an interrupted ``study.wait()`` must not lose track of the thread still running."""
    db = tmp_path / "s.db"
    kernel.run(f"%%tune --background --trials 100000 --sampler random --study w "
               f"--storage {db} --plot none\n{QUICK}").check()
    kernel.interrupt_after("study.wait()", 0.5)
    before = int(kernel.value("len(study.trials)"))
    time.sleep(0.5)
    state = kernel.value("study.running, len(study.trials)")
    running, after = state.strip("()").split(", ")
    if int(after) > before:  # trials go on: the study must say it runs
        assert running == "True", state
        started = time.monotonic()
        assert kernel.value("study.wait(0.5)") == "False"
        assert time.monotonic() - started >= 0.4, "wait() returned at once"
    assert kernel.value("study.abort(), study.wait(20), study.running") == "(None, True, False)"
    final = len(trial_rows(db))
    time.sleep(0.3)
    assert len(trial_rows(db)) == final, "trials go on after abort()"
    assert_consistent(db)


@pytest.mark.parametrize("delay", [0.05, 0.1, 0.15, 0.2, 0.3])
def test_an_interrupt_in_the_first_run_of_a_kernel_leaves_later_runs_working(kernels, delay):
    """D8: the first ``%%tune`` imports matplotlib and more; an interrupt half-way through an
    import must not break every later run of the kernel."""
    kernel = kernels.start()
    db = kernel.home / "s.db"
    kernel.interrupt_after(f"%%tune --trials 3 --study a --storage {db}\n"
                           "x = tune.uniform(0, 1)\nx", delay)
    for line in ("--plot none", "--plot live"):
        reply = kernel.run(f"%%tune --trials 3 --study b --storage {db} {line}\n"
                           "x = tune.uniform(0, 1)\nx")
        assert reply.status == "ok", (delay, line, reply.ename, reply.evalue)
        assert "3 complete" in reply.text
