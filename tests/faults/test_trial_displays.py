"""In a real kernel, what a trial shows through IPython's display (rich's progress bars and
tables, which Lightning shows by default) stays with the trial, as its prints do."""

from __future__ import annotations

import pytest

pytest.importorskip("rich")

CELL = """\
%%tune --trials 2 --storage memory --seed 0
x = tune.uniform(0, 1)
import threading, time
from IPython.display import display
from rich.progress import track
display("a display of the trial")
t = threading.Thread(target=lambda: print("from a thread of the trial")); t.start(); t.join()
for i in track(range(3), description="training"):
    time.sleep(0.05)
x
"""


def test_displays_and_thread_prints_of_a_trial_stay_in_its_output(kernels):
    k = kernels.start()
    reply = k.run(CELL, timeout=120).check()
    shown = reply.text
    for leaked in ("a display of the trial", "from a thread of the trial", "training"):
        assert leaked not in shown, shown
    # One progress line and one summary, as any run.
    assert sum("Study " in d for d in reply.displays) == 1
    output = k.value("study.trial(0).output")
    assert "a display of the trial" in output and "from a thread of the trial" in output
    assert "training" in output
    # The notebook's own displays are untouched after the run.
    assert "after the run" in k.run("display('after the run')").check().text
