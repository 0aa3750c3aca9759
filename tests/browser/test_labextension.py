"""The JupyterLab extension in a real JupyterLab and Chromium: the study view renders and
updates live, shows tooltips, survives a reload without kernel, renders hostile strings as
text, explains documents it cannot show, and stays fast on a large study."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import LabPage, display_output, follow_view, wait_for, watch_view

from hpt_magic.display import MIME

VIEW = ".jp-NotebookPanel:not(.lm-mod-hidden) .hpt-StudyView"
PAYLOAD = "<img src=x onerror=alert(1)>"
N_TUNED = 20
SETUP_CELL = "%load_ext hpt_magic\nimport math"
TUNE_CELL = f"""%%tune --trials {N_TUNED} --new --study live --seed 1 --sampler random
import time
lr = tune.loguniform(1e-4, 1e-1)
layers = tune.int(1, 4)
act = tune.choice(["relu", "tanh"])
for step in tune.steps(6):
    tune.report(abs(math.log10(lr) + 2.5) + 0.1 * layers + 1.0 / (step + 1), step)
    time.sleep(0.08)  # about 10 s in all: a loaded machine spaces the live updates out
abs(math.log10(lr) + 2.5) + 0.1 * layers + (act == "tanh")
"""


def study_doc(n_trials: int, n_steps: int, seed: int = 0) -> dict[str, Any]:
    """A version-1 study document with float (log), int and choice parameters."""
    rng = random.Random(seed)
    trials = []
    for number in range(n_trials):
        lr, depth, kind = 10 ** rng.uniform(-4, -1), rng.randint(1, 8), rng.choice("abc")
        final = abs(math.log10(lr) + 2.5) + 0.05 * depth + 0.1 * "abc".index(kind)
        state = "failed" if number % 17 == 5 else "pruned" if number % 5 == 3 else "complete"
        steps = n_steps if state == "complete" else n_steps // 2
        curve = [[s, round(final + 2.0 / (s + 1), 6)] for s in range(steps)]
        trials.append({
            "number": number, "state": state, "value": None if state == "failed" else final,
            "params": {"lr": lr, "depth": depth, "kind": kind},
            "curve": [] if state == "failed" else curve, "manual": False,
            "error": "ValueError: boom" if state == "failed" else None, "parent": None,
        })
    scored = [t for t in trials if t["state"] == "complete"]
    best = min(scored, key=lambda t: t["value"])
    return {
        "version": 1,
        "study": {"name": f"study-{n_trials}", "direction": "minimize", "sampler": "random",
                  "scheduler": None},
        "progress": {"status": "finished", "done": n_trials, "planned": n_trials,
                     "timeout": None, "elapsed": 12.5, "eta": None,
                     "counts": {"complete": len(scored)},
                     "best": {"number": best["number"], "value": best["value"]}},
        "params": [
            {"name": "lr", "type": "float", "low": 1e-4, "high": 1e-1, "log": True},
            {"name": "depth", "type": "int", "low": 1, "high": 8, "log": False},
            {"name": "kind", "type": "choice", "options": ["a", "b", "c"]},
        ],
        "trials": trials,
    }


def output_cell(*docs: Any) -> dict[str, Any]:
    """A code cell whose saved outputs show ``docs`` (with a text fallback)."""
    return {"source": "# saved output", "outputs": [
        display_output({MIME: doc, "text/plain": "study"}) for doc in docs]}


def view_attr(lp: LabPage, name: str, index: int = 0) -> str | None:
    return lp.js("([sel, i, n]) => { const v = document.querySelectorAll(sel)[i];"
                 " return v ? v.getAttribute(n) : null; }", [VIEW, index, name])


def find_trial_point(lp: LabPage, canvas_selector: str, number: int | None = None) -> Any:
    """Client coordinates over ``canvas_selector`` where hovering shows a tooltip (of trial
    ``number`` if given), found by sweeping synthetic mouse moves inside the page."""
    return lp.js("""([sel, number]) => {
        const canvas = document.querySelector(sel);
        const view = canvas.closest('.hpt-StudyView');
        const tip = view.querySelector('.hpt-tooltip');
        const box = canvas.getBoundingClientRect();
        for (let y = box.top + 2; y < box.bottom; y += 2) {
            for (let x = box.left + 2; x < box.right; x += 2) {
                canvas.dispatchEvent(new MouseEvent('mousemove', {clientX: x, clientY: y}));
                if (!tip.hidden && (number === null || tip.dataset.trial === String(number))) {
                    tip.hidden = true;
                    return {x, y};
                }
            }
        }
        return null;
    }""", [canvas_selector, number])


def tooltip_lines(lp: LabPage) -> list[str]:
    tip = lp.page.locator(f"{VIEW} .hpt-tooltip")
    tip.wait_for(state="visible")
    return tip.locator("div").all_inner_texts()


def selected_pixels(lp: LabPage, canvas_selector: str) -> int:
    """How many pixels of a canvas have the highlight colour (#e7298a)."""
    return lp.js("""sel => {
        const c = document.querySelector(sel);
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
            if (Math.abs(d[i] - 231) < 12 && Math.abs(d[i + 1] - 41) < 12 &&
                Math.abs(d[i + 2] - 138) < 12) { n++; }
        }
        return n;
    }""", canvas_selector)


@dataclass
class LiveRun:
    """A notebook whose ``%%tune`` cell ran in the lab, and what the view showed meanwhile."""

    lp: LabPage
    seen: list[tuple[int, str]]  # (trials, status) of the view, each change once
    same_element: bool  # the view at the end is the element that showed the first update


@pytest.fixture(scope="module")
def tuned(browser: Any, lab: Any) -> Iterator[LiveRun]:
    lp = LabPage(browser.new_page(), lab)
    try:
        lp.open_notebook("tuned.ipynb", [SETUP_CELL, TUNE_CELL])
        watch_view(lp, VIEW)
        lp.run_all()
        lp.page.locator(VIEW).wait_for()
        lp.js(f"() => {{ document.querySelector('{VIEW}').hptMark = 'first'; }}")
        seen = follow_view(lp, VIEW)
        lp.wait_idle()
        same = lp.js(f"() => document.querySelector('{VIEW}').hptMark === 'first'")
        yield LiveRun(lp, seen, same)
    finally:
        lp.page.close()
        lab.shutdown_kernels()


def test_view_renders_and_updates_while_the_cell_runs(tuned: LiveRun) -> None:
    counts = [n for n, status in tuned.seen if status == "running"]
    assert len({n for n in counts if 0 < n < N_TUNED}) >= 2, f"too few updates: {tuned.seen}"
    print(f"\nview states seen while the cell ran: {tuned.seen}")
    assert counts == sorted(counts)
    assert tuned.seen[-1] == (N_TUNED, "finished"), tuned.seen
    # Updates reuse the element instead of re-creating the output.
    assert tuned.same_element
    lp = tuned.lp
    assert int(view_attr(lp, "data-renders")) >= 3
    text = lp.page.locator(f"{VIEW} .hpt-progress-text").inner_text()
    assert text.startswith(f"finished · {N_TUNED} / {N_TUNED} trials")
    assert lp.page.locator(f"{VIEW} .hpt-Table tbody tr").count() == 10
    lp.screenshot("study-view.png", lp.page.locator(VIEW))


def rendered_doc(lp: LabPage, cell: int) -> dict[str, Any]:
    """The study document held by the outputs of a cell of the current notebook."""
    return lp.js("""([cell, mime]) => {
        const model = window.jupyterapp.shell.currentWidget.content.widgets[cell].outputArea.model;
        for (let i = 0; i < model.length; i++) {
            if (mime in model.get(i).data) { return model.get(i).data[mime]; }
        }
        return null;
    }""", [cell, MIME])


def test_hover_shows_the_trial_and_click_highlights_it_everywhere(tuned: LiveRun) -> None:
    lp = tuned.lp
    point = find_trial_point(lp, f"{VIEW} .hpt-history canvas")
    assert point, "no trial found under the mouse in the history chart"
    lp.page.mouse.move(point["x"], point["y"])
    lines = tooltip_lines(lp)
    assert lines[0].startswith("Trial #")
    number = int(lines[0][len("Trial #"):].split()[0])
    trial = next(t for t in rendered_doc(lp, 1)["trials"] if t["number"] == number)
    assert lines[1] == trial["state"]
    assert float(lines[2].removeprefix("score: ")) == pytest.approx(trial["value"], rel=1e-3)
    shown = dict(line.split(" = ", 1) for line in lines if " = " in line)
    assert set(shown) == set(trial["params"]) == {"lr", "layers", "act"}
    assert shown["act"] == trial["params"]["act"]
    assert int(shown["layers"]) == trial["params"]["layers"]
    assert float(shown["lr"]) == pytest.approx(trial["params"]["lr"], rel=1e-3)

    panels = [f"{VIEW} .hpt-history canvas", f"{VIEW} .hpt-curves canvas",
              *[f"{VIEW} .hpt-param:nth-child({i}) canvas" for i in (1, 2, 3)]]
    assert all(selected_pixels(lp, p) == 0 for p in panels)
    lp.page.mouse.click(point["x"], point["y"])
    assert view_attr(lp, "data-selected") == str(number)
    assert all(selected_pixels(lp, p) > 20 for p in panels)


def test_view_is_still_there_after_save_and_reload_without_kernel(tuned: LiveRun) -> None:
    lp = tuned.lp
    lp.save()
    saved = lp.lab.read_notebook("tuned.ipynb")["cells"][1]["outputs"]
    assert any(MIME in out.get("data", {}) for out in saved)
    lp.shutdown_kernel()
    # Lab starts a fresh kernel for the reopened notebook; the view comes from the file.
    lp.reload()
    view = lp.page.locator(VIEW)
    view.wait_for()
    assert view_attr(lp, "data-trials") == str(N_TUNED)
    assert view_attr(lp, "data-state") == "ok"
    assert view_attr(lp, "data-status") == "finished"


def hostile_doc() -> dict[str, Any]:
    """A study whose every string is markup that would run script if parsed as HTML."""
    doc = study_doc(12, 3)
    doc["study"].update(name=PAYLOAD, sampler=PAYLOAD, scheduler="<script>alert(2)</script>")
    doc["params"] = [
        {"name": PAYLOAD, "type": "float", "low": 0.0, "high": 1.0, "log": False},
        {"name": "kind", "type": "choice", "options": [PAYLOAD, "<b onmouseover=alert(3)>b</b>"]},
    ]
    doc["params"].append({"name": "constructor", "type": "choice", "options": ["x"]})
    for i, t in enumerate(doc["trials"]):
        t["params"] = {PAYLOAD: i / 12, "kind": doc["params"][1]["options"][i % 2],
                       "constructor": "x"}
        if t["state"] == "failed":
            t["error"] = f"ValueError: {PAYLOAD}"
    doc["trials"][0]["state"] = PAYLOAD
    return doc


def test_strings_from_the_document_are_shown_as_text_and_run_nothing(
        lab_page: LabPage) -> None:
    lp = lab_page
    lp.open_notebook("hostile.ipynb", [output_cell(hostile_doc())], kernel=False)
    view = lp.page.locator(VIEW)
    view.wait_for()
    assert view.locator(".hpt-title").inner_text() == PAYLOAD
    assert PAYLOAD in view.locator(".hpt-meta").inner_text()
    header = view.locator(".hpt-Table th").all_inner_texts()
    assert PAYLOAD in header
    assert PAYLOAD in view.locator(".hpt-Table tbody").inner_text()
    failed = find_trial_point(lp, f"{VIEW} .hpt-history canvas", 5)
    assert failed, "the failed trial is not under the mouse"
    lp.page.mouse.move(failed["x"], failed["y"])
    assert f"ValueError: {PAYLOAD}" in tooltip_lines(lp)
    lp.page.mouse.move(0, 0)
    lp.page.wait_for_timeout(300)
    assert lp.dialogs == []
    assert lp.js("() => document.querySelectorAll('img[src=\"x\"], .hpt-StudyView img,"
                 " .hpt-StudyView script, .hpt-StudyView b').length") == 0
    lp.screenshot("study-view-hostile.png", view)


def test_documents_it_cannot_show_give_a_short_message(lab_page: LabPage) -> None:
    future = {**study_doc(3, 2), "version": 2}
    broken = {"version": 1, "trials": [{"number": "one", "state": "complete"}]}
    lp = lab_page
    lp.open_notebook("broken.ipynb", [output_cell(future, broken, "not json {", [1, 2])],
                     kernel=False)
    views = lp.page.locator(VIEW)
    wait_for(lambda: views.count() == 4, 30, 0.1, "four study outputs")
    messages = views.locator(".hpt-message").all_inner_texts()
    assert all(m.startswith("hpt-magic cannot show this study: ") for m in messages)
    assert "version 2" in messages[0] and "upgrade hpt-magic" in messages[0]
    assert "trials[0].number" in messages[1]
    assert "not valid JSON" in messages[2]
    assert "not a JSON object" in messages[3]
    assert [view_attr(lp, "data-state", i) for i in range(4)] == ["error"] * 4


def test_render_time_of_2000_trials_by_20_steps(lab_page: LabPage) -> None:
    lp = lab_page
    doc = study_doc(2000, 20)
    lp.open_notebook("large.ipynb", [output_cell(doc)], kernel=False)
    lp.page.locator(VIEW).wait_for()
    first = float(wait_for(lambda: view_attr(lp, "data-render-ms"), 30, 0.1, "a render"))
    # Re-render the same model in place, as a display update does, and time it: renderModel
    # alone, and until the next frame has been painted.
    times = lp.js("""async () => {
        const area = window.jupyterapp.shell.currentWidget.content.widgets[0].outputArea;
        const renderer = area.widgets[0].widgets[1];
        const out = [];
        for (let k = 0; k < 5; k++) {
            const start = performance.now();
            await renderer.renderModel(area.model.get(0));
            const rendered = performance.now() - start;
            await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
            out.push([rendered, performance.now() - start]);
        }
        return out;
    }""")
    assert view_attr(lp, "data-trials") == "2000"
    assert view_attr(lp, "data-renders") == "6"
    rendered = sorted(t[0] for t in times)
    painted = sorted(t[1] for t in times)
    print(f"\nrender of 2000 trials x 20 steps: first {first:.1f} ms; update (5 runs) "
          f"median {rendered[2]:.1f} ms (min {rendered[0]:.1f}), "
          f"until painted median {painted[2]:.1f} ms (min {painted[0]:.1f})")
    lp.screenshot("study-view-2000x20.png", lp.page.locator(VIEW))


def canvas_digest(lp: LabPage, selector: str) -> str:
    return lp.js("sel => document.querySelector(sel).toDataURL()", selector)


def test_table_sorts_by_a_clicked_column_and_log_axis_toggles(lab_page: LabPage) -> None:
    lp = lab_page
    doc = study_doc(60, 4)
    lp.open_notebook("sort.ipynb", [output_cell(doc)], kernel=False)
    table = lp.page.locator(f"{VIEW} .hpt-Table")
    table.locator("tbody tr").first.wait_for()

    def column(i: int) -> list[str]:
        return table.locator(f"tbody td:nth-child({i})").all_inner_texts()

    best = sorted((t for t in doc["trials"] if t["state"] == "complete"),
                  key=lambda t: t["value"])[:10]
    assert column(1) == [str(t["number"]) for t in best]
    table.locator("th", has_text="#").click()
    assert column(1) == sorted(column(1), key=int)
    table.locator("th", has_text="#").click()
    assert column(1) == sorted(column(1), key=int, reverse=True)
    assert table.locator("th").first.inner_text() == "# ▼"
    table.locator("th", has_text="kind").click()
    assert column(6) == sorted(column(6))
    table.locator("tbody tr").nth(2).click()
    assert view_attr(lp, "data-selected") == column(1)[2]
    assert "hpt-mod-selected" in table.locator("tbody tr").nth(2).get_attribute("class")

    history = f"{VIEW} .hpt-history canvas"
    linear = canvas_digest(lp, history)
    lp.page.locator(f"{VIEW} .hpt-log").check()
    logged = canvas_digest(lp, history)
    assert logged != linear
    lp.page.locator(f"{VIEW} .hpt-log").uncheck()
    assert canvas_digest(lp, history) == linear


def test_tuning_side_panel_lists_the_studies_of_the_current_notebook(
        lab_page: LabPage) -> None:
    lp = lab_page
    first, second = study_doc(30, 2), study_doc(8, 2)
    second["study"]["name"] = PAYLOAD
    second["progress"].update(status="running", done=8, planned=40)
    lp.open_notebook("panel.ipynb", [output_cell(first), output_cell(second)], kernel=False)
    wait_for(lambda: lp.page.locator(VIEW).count() == 2, 30, 0.1, "two study views")
    lp.js("() => window.jupyterapp.shell.activateById('hpt-magic-tuning')")
    rows = lp.page.locator("#hpt-magic-tuning li")
    wait_for(lambda: rows.count() == 2, 30, 0.1, "two studies in the panel")
    assert rows.locator(".hpt-TuningPanel-name").all_inner_texts() == [
        "study-30 · cell 1", f"{PAYLOAD} · cell 2"]
    lines = rows.locator(".hpt-TuningPanel-line").all_inner_texts()
    assert lines[0].startswith("finished · 30 / 30 trials")
    assert lines[1].startswith("running · 8 / 40 trials")
    assert lp.js("() => document.querySelectorAll('#hpt-magic-tuning img').length") == 0
    lp.screenshot("tuning-panel.png", lp.page.locator("#hpt-magic-tuning"))


def test_a_figure_of_the_study_shows_with_its_alternative_text(lab_page: LabPage) -> None:
    # plot_* figures travel as a PNG and as an <img> in HTML with the alternative text (what
    # an HTML export keeps and a screen reader says): JupyterLab shows the HTML one, drawn.
    lab_page.open_notebook("figure.ipynb", [
        "from hpt_magic import Float, Study\nfrom hpt_magic.display import plot_history\n"
        "study = Study(space={'x': Float(0, 1)}, name='shown', seed=0)\n"
        "study.optimize(lambda t: t.params['x'], n_trials=5)\nplot_history(study)"])
    lab_page.run_all()
    image = lab_page.page.locator(".jp-OutputArea-output img[alt^='History. Study']")
    image.wait_for()
    lab_page.wait_idle()
    assert "'shown': 5 complete" in image.get_attribute("alt")
    assert wait_for(lambda: image.evaluate("img => img.complete && img.naturalWidth") > 0)
    lab_page.screenshot("figure-with-alt-text.png", image)
