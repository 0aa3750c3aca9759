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
from IPython.display import clear_output
for i in range(40):                      # a bar redrawn in place
    clear_output(wait=True)
    display(f"frame {i}")
print("between")
status = display("status 0", display_id=True)
for i in range(1, 30):
    status.update(f"status {i}")
print("and")
for i in track(range(3), description="training"):
    time.sleep(0.05)
import ipywidgets
box = ipywidgets.Output()
with box:                                # diverts nothing of the cell's
    print("in the box, msg_id", repr(box.msg_id))
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
    # Redrawn in place: the last frame and the last status, once each.
    assert output.count("frame ") == 1 and "'frame 39'" in output
    assert output.count("status ") == 1 and "'status 29'" in output
    assert "in the box, msg_id ''" in output
    # The notebook's own displays and widgets are untouched after the run.
    assert k.value("ipywidgets.Output.__enter__.__qualname__") == "Output.__enter__"
    assert "after the run" in k.run("display('after the run')").check().text
