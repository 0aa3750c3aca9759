"""%%tune in a real kernel (nbclient + jupyter_client): live updates, background runs."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

MIME = "application/vnd.hpt-magic.study+json"
CELLS = [
    "%load_ext hpt_magic\nimport time",
    "%%tune --trials 15 --study live --seed 0 --maximize\n"
    "x = tune.uniform(0, 1)\nfor step in tune.steps(3):\n    time.sleep(0.02)\n"
    "    tune.report(x * step)\n",
    "%%tune --trials 500 --study bg --background\n"
    "x = tune.uniform(0, 1)\ntime.sleep(0.02)\nx\n",
    "%%tune --trials 5 --study bg2 --background --out second\n"
    "x = tune.uniform(0, 1)\ntime.sleep(0.02)\nx\n",
    "print('kernel free while the study runs:', study.running)\n"
    "study.stop()\nprint('ended:', study.wait(30), len(study.trials) < 500)\n"
    "print('second:', second.wait(30), len(second.trials))",
]


class RecordingClient(NotebookClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.messages = []

    def process_message(self, msg, cell, cell_index):
        self.messages.append((cell_index, msg))
        return super().process_message(msg, cell, cell_index)


def test_tune_cell_updates_one_dashboard_and_background_runs_return(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    client = RecordingClient(nb, kernel_name="python3", timeout=120,
                             resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    live = [m for i, m in client.messages if i == 1]
    kinds = [m["msg_type"] for m in live]
    assert "error" not in kinds
    updates = [m["content"]["data"] for m in live if m["msg_type"] == "update_display_data"]
    assert updates, kinds
    assert any({"image/png", "text/plain", MIME} <= set(d) for d in updates)
    assert updates[-1][MIME]["progress"]["done"] == 15
    counts = [len(d[MIME]["trials"]) for d in updates]
    assert counts == sorted(counts) and counts[0] < counts[-1]
    text = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "")
                   for o in nb.cells[1].outputs)
    assert "new study 'live'" in text and "15 complete" in text
    # The top trials are listed once: by the view (its HTML fallback), not again by the summary.
    board, summary = [o.data for o in nb.cells[1].outputs if o.output_type == "display_data"]
    assert MIME in board and "<table>" in board["text/html"]
    assert "15 complete" in summary["text/html"] and "<table>" not in summary["text/html"]
    printed = "".join(o.get("text", "") for o in nb.cells[4].outputs)
    assert "kernel free while the study runs: True" in printed
    assert "ended: True True" in printed
    assert "second: True 5" in printed
    assert (tmp_path / "hpt_studies.db").exists()
