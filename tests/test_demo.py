"""Execute demo.ipynb headless with nbclient, as `make demo` does, and check what it shows."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
MIME = "application/vnd.hpt-magic.study+json"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo")
    nb = nbformat.read(ROOT / "demo.ipynb", as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}})
    import os

    old = os.environ.get("HPT_MAGIC_STORAGE")
    os.environ["HPT_MAGIC_STORAGE"] = str(tmp / "demo_studies.db")
    try:
        client.execute()
    finally:
        if old is None:
            os.environ.pop("HPT_MAGIC_STORAGE", None)
        else:
            os.environ["HPT_MAGIC_STORAGE"] = old
    return nb


def outputs(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            yield cell, cell.get("outputs", [])


def text_of(output):
    if "text" in output:
        return output["text"]
    data = output.get("data", {})
    return data.get("text/plain", "")


def test_the_notebook_file_is_valid_with_an_id_on_every_cell():
    # nbformat 4.5 gives every cell an id; without one `make demo` printed a
    # MissingIDFieldWarning, and a later nbformat refuses the file.
    import json

    raw = json.loads((ROOT / "demo.ipynb").read_text(encoding="utf-8"))
    assert (raw["nbformat"], raw["nbformat_minor"]) >= (4, 5)
    ids = [cell.get("id") for cell in raw["cells"]]
    assert None not in ids, [i for i, cell_id in enumerate(ids) if cell_id is None]
    assert len(set(ids)) == len(ids)
    nbformat.validate(raw)


def test_no_cell_errors(executed):
    for cell, outs in outputs(executed):
        for out in outs:
            assert out["output_type"] != "error", (cell.source, out.get("evalue"))


def test_first_study_shows_a_summary_and_a_dashboard(executed):
    cell, outs = next((c, o) for c, o in outputs(executed)
                      if c.source.startswith("%%tune --trials 30 --sampler random"))
    texts = "".join(text_of(o) for o in outs)
    assert "new study 'svc-digits'" in texts
    assert "30 complete" in texts and "Best max score" in texts
    bundles = [o["data"] for o in outs if "data" in o]
    assert any("image/png" in b and MIME in b for b in bundles)
    dashboard = next(b[MIME] for b in bundles if MIME in b)
    assert dashboard["version"] == 1 and len(dashboard["trials"]) == 30


def test_every_tune_cell_ends_with_a_summary(executed):
    for cell, outs in outputs(executed):
        if cell.source.startswith("%%tune") and "--manual" not in cell.source \
                and "--background" not in cell.source:
            texts = "".join(text_of(o) for o in outs)
            assert "complete" in texts, cell.source
