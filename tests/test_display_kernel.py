"""The dashboard in a real Jupyter kernel: one output updated in place, kept by nbconvert.

One kernel serves both checks (kernels are slow to start on a busy machine): nbclient runs the
cell through jupyter_client and hands every iopub message to ``process_message``.
"""

from __future__ import annotations

import base64
import io
import re

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter
from PIL import Image

MIME = "application/vnd.hpt-magic.study+json"
CELL = """\
import time
from hpt_magic import Study, Float

study = Study(space={"x": Float(0, 1)}, seed=0)

def objective(trial):
    time.sleep(0.05)
    return trial.params["x"]

study.optimize(objective, n_trials=20, show=True)
"""
BACKGROUND = """\
import threading
from hpt_magic.display import Dashboard

background = Study(space={"x": Float(0, 1)}, seed=1)
dash = Dashboard(background, n_trials=100, controls=True)
stop, abort = dash.controls.children
worker = threading.Thread(target=background.optimize, args=(objective, 100))
worker.start()
time.sleep(0.5)
stop.click()
worker.join()
dash.close()
print(len(background.trials) < 100, stop.disabled)
"""


@pytest.fixture
def jupyter_dirs(tmp_path, monkeypatch):
    """Connection files and IPython profile in a temp folder, not in the real home."""
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    return tmp_path


class RecordingClient(NotebookClient):
    """nbclient's executor (a real kernel through jupyter_client), keeping every message."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.messages = []

    def process_message(self, msg, cell, cell_index):
        self.messages.append(msg)
        return super().process_message(msg, cell, cell_index)


def test_live_dashboard_in_a_kernel_and_after_nbconvert(jupyter_dirs):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL),
                                         nbformat.v4.new_code_cell(BACKGROUND)])
    client = RecordingClient(nb, kernel_name="python3", timeout=60,
                             resources={"metadata": {"path": str(jupyter_dirs)}})
    client.execute()
    messages = client.messages
    first_cell = next(m["parent_header"]["msg_id"] for m in messages
                      if m["msg_type"] == "execute_input")
    messages = [m for m in messages if m["parent_header"]["msg_id"] == first_cell]
    kinds = [m["msg_type"] for m in messages]
    assert "error" not in kinds, [m["content"] for m in messages if m["msg_type"] == "error"]
    shown = [m for m in messages if m["msg_type"] == "display_data"]
    updates = [m for m in messages if m["msg_type"] == "update_display_data"]
    assert len(shown) == 1, "one output, not a stack of figures"
    display_id = shown[0]["content"]["transient"]["display_id"]
    assert kinds.index("display_data") < kinds.index("update_display_data")
    assert updates and all(m["content"]["transient"]["display_id"] == display_id
                           for m in updates)
    # Every update refreshes the progress line and the JSON; once drawn, the image stays.
    data = [set(m["content"]["data"]) for m in updates]
    assert all({"text/plain", MIME} <= d for d in data)
    has_image = ["image/png" in d for d in data]
    assert all(has_image[has_image.index(True):])
    final = updates[-1]["content"]["data"]
    assert set(final) == {"image/png", "text/html", "text/plain", MIME}
    assert final[MIME]["progress"]["status"] == "finished"
    assert final[MIME]["progress"]["done"] == 20
    assert final["text/plain"].startswith("Finished: 20/20 trials")
    image = Image.open(io.BytesIO(base64.b64decode(final["image/png"])))
    assert image.size[0] > 600

    # The saved notebook holds the final state in its one output; HTML shows the PNG.
    outputs = nb.cells[0].outputs
    assert [o.output_type for o in outputs] == ["display_data"]
    assert outputs[0].data["image/png"] == final["image/png"]
    html, _ = HTMLExporter().from_notebook_node(nb)
    # One image per dashboard: one in each of the two cells.
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', html)) == 2
    # The image is shown, with the progress line as its alternative text, not as text.
    assert len(re.findall(r'<img[^>]+alt="Finished: 20/20 trials', html)) == 1
    assert html.count("Finished: 20/20 trials") == 1
    assert "No description has been provided for this image" not in html

    # A study in a worker thread: Stop and Abort above the dashboard; Stop ends the run, and
    # at the end the buttons give way to an empty output (no dead widget in the file).
    controls, board, printed = nb.cells[1].outputs
    assert controls.data == {"text/plain": ""}
    assert board.data[MIME]["progress"]["status"] == "stopped"
    assert "image/png" in board.data
    assert printed.text == "True True\n"
