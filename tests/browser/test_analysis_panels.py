"""The analysis panels of the study view in a real JupyterLab and Chromium: the empirical
distribution of the scores (its steps are the complete trials' scores, the brush filter
makes it the kept trials' one), the timeline (a row per worker of a real ``--jobs 2`` run,
a bar per trial, worker names as labels, running trials reaching "now"), the contour over
two chosen parameters, hover and click on each, and their axis text on both themes."""

from __future__ import annotations

from typing import Any

from conftest import LabPage, wait_for
from test_labextension import VIEW, output_cell, study_doc, view_attr
from test_parallel_view import brush, drag, geometry, open_study
from test_study_view import THEMES, ink_match, set_theme

from hpt_magic import Float, Study
from hpt_magic.visualization._document import document

EDF = f"{VIEW} .hpt-edf"
TIMELINE = f"{VIEW} .hpt-timeline"
CONTOUR = f"{VIEW} .hpt-contour"
T0 = 1_700_000_000.0


def timed_doc(n: int = 30, names: list[str] | None = None,
              direction: str = "minimize") -> dict[str, Any]:
    """``study_doc`` run on two workers: each trial starts when its worker is free; trial 7
    is a straggler."""
    doc = study_doc(n, 3)
    doc["study"]["direction"] = direction
    free = [T0, T0 + 0.3]
    for t in doc["trials"]:
        w = min((0, 1), key=free.__getitem__)
        took = 20.0 if t["number"] == 7 else 1.0 + (t["number"] % 5) * 0.4
        t.update(started=free[w], finished=free[w] + took, worker=w,
                 worker_name=names[w] if names else None)
        free[w] += took + 0.1
    doc["now"] = max(free)
    if direction == "maximize":
        best = max((t for t in doc["trials"] if t["state"] == "complete"),
                   key=lambda t: t["value"])
        doc["progress"]["best"] = {"number": best["number"], "value": best["value"]}
    return doc


def sweep(lp: LabPage, selector: str, step: int = 4) -> dict[int, bool]:
    """Hover a canvas every ``step`` pixels (less than the 7 px reach of a point): each
    trial whose tooltip showed, and whether it said the trial is outside the filter."""
    return lp.sweep(selector, step, step)


def complete(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in doc["trials"] if t["state"] == "complete" and t["value"] is not None]


def steps(lp: LabPage) -> list[float]:
    return [float(v) for v in lp.page.locator(EDF).get_attribute("data-steps").split(",")]


def test_document_carries_each_trials_times_and_worker() -> None:
    study = Study(space={"x": Float(0, 1)}, seed=0)
    first = study.ask()
    first.user_attrs.update(worker=1, worker_name="tcp://10.0.0.5:4242")
    study.tell(first, 0.5)
    running = study.ask()
    doc = document(study)
    done, run = doc["trials"]
    assert done["started"] == first.started and done["finished"] == first.finished
    assert (done["worker"], done["worker_name"]) == (1, "tcp://10.0.0.5:4242")
    assert run["finished"] is None and run["worker"] is None and run["worker_name"] is None
    assert run["started"] == running.started <= doc["now"]


def test_edf_steps_are_the_complete_scores_and_follow_the_filter(lab_page: LabPage) -> None:
    lp = lab_page
    doc = timed_doc(40)
    open_study(lp, "edf.ipynb", doc)
    edf = lp.page.locator(EDF)
    edf.wait_for()
    scores = sorted(t["value"] for t in complete(doc))
    assert steps(lp) == scores
    caption = edf.locator("figcaption").inner_text()
    assert caption == f"Scores: share of {len(scores)} complete trials ≤ x"
    canvas = edf.locator("canvas")
    assert canvas.get_attribute("tabindex") == "0"
    assert canvas.get_attribute("aria-label") == caption
    # Hovering the steps finds every complete trial and no other; a click selects one.
    canvas.scroll_into_view_if_needed()
    assert set(sweep(lp, f"{EDF} canvas")) == {t["number"] for t in complete(doc)}
    lp.screenshot("analysis-edf.png", edf)
    best = doc["progress"]["best"]["number"]
    point = lp.js("""([sel, number]) => {
        const canvas = document.querySelector(sel);
        const tip = canvas.closest('.hpt-StudyView').querySelector('.hpt-tooltip');
        const box = canvas.getBoundingClientRect();
        for (let x = box.left; x < box.right; x += 3) {
            for (let y = box.top; y < box.bottom; y += 3) {
                canvas.dispatchEvent(new MouseEvent('mousemove', {clientX: x, clientY: y}));
                if (!tip.hidden && tip.dataset.trial === String(number)) { return {x, y}; }
            }
        }
        return null;
    }""", [f"{EDF} canvas", best])
    assert point, "the best trial's step cannot be hovered"
    lp.page.mouse.click(point["x"], point["y"])
    wait_for(lambda: view_attr(lp, "data-selected") == str(best), 5, 0.05, "the selection")
    row = lp.page.locator(f"{VIEW} .hpt-Table tr[data-trial='{best}']")
    assert "hpt-mod-selected" in row.get_attribute("class")

    # Brush the lr axis: the main line becomes the kept trials' distribution.
    xs, top, _ = geometry(lp)
    drag(lp, xs[0], top + 12, top + 110)
    wait_for(lambda: edf.get_attribute("data-dimmed") not in (None, "0"), 5, 0.05, "a filter")
    wait_for(lambda: "p:lr" in brush(lp), 5, 0.05, "the brush on lr")
    lo, hi = brush(lp)["p:lr"]
    kept = sorted(t["value"] for t in complete(doc) if lo <= t["params"]["lr"] <= hi)
    assert steps(lp) == kept and 0 < len(kept) < len(scores)
    assert edf.get_attribute("data-dimmed") == str(len(scores) - len(kept))
    assert f"the {len(kept)} of {len(scores)} complete trials kept ≤ x" in \
        edf.locator("figcaption").inner_text()
    lp.screenshot("analysis-edf-filtered.png", edf)


def test_edf_of_a_maximised_study_counts_scores_at_least_x(lab_page: LabPage) -> None:
    lp = lab_page
    doc = timed_doc(20, direction="maximize")
    open_study(lp, "edf-max.ipynb", doc)
    lp.page.locator(EDF).wait_for()
    assert steps(lp) == sorted((t["value"] for t in complete(doc)), reverse=True)
    assert "complete trials ≥ x (maximised)" in lp.page.locator(f"{EDF} figcaption").inner_text()


def test_timeline_of_a_jobs_2_run_has_a_row_per_worker_and_a_bar_per_trial(
        lab_page: LabPage) -> None:
    lp = lab_page
    tune = ("%%tune --trials 8 --jobs 2 --new --study tl --seed 0 --sampler random\n"
            "import time\nx = tune.uniform(0, 1)\ny = tune.uniform(0, 1)\n"
            "time.sleep(0.3)\n(x - 0.3) ** 2 + y")
    lp.open_notebook("timeline.ipynb", ["%load_ext hpt_magic", tune])
    lp.run_all()
    lp.wait_idle(90)
    timeline = lp.page.locator(TIMELINE)
    wait_for(lambda: view_attr(lp, "data-status") == "finished", 30, 0.2, "the run's end")
    timeline.wait_for()
    assert timeline.get_attribute("data-rows") == '["worker 0","worker 1"]'
    assert timeline.get_attribute("data-bars") == "8"
    assert "8 trials on 2 rows" in timeline.locator("figcaption").inner_text()
    timeline.scroll_into_view_if_needed()
    seen = sweep(lp, f"{TIMELINE} canvas")
    assert set(seen) == set(range(8))
    lp.screenshot("analysis-timeline-jobs2.png", timeline)
    # Hover a bar: its tooltip says how long the trial ran and on which worker.
    tip = lp.js("""sel => {
        const canvas = document.querySelector(sel);
        const tip = canvas.closest('.hpt-StudyView').querySelector('.hpt-tooltip');
        const box = canvas.getBoundingClientRect();
        for (let y = box.top; y < box.bottom; y += 2) {
            for (let x = box.left; x < box.right; x += 2) {
                canvas.dispatchEvent(new MouseEvent('mousemove', {clientX: x, clientY: y}));
                if (!tip.hidden && tip.dataset.trial !== undefined) {
                    return [...tip.children].map(d => d.textContent);
                }
            }
        }
        return null;
    }""", f"{TIMELINE} canvas")
    run = [line for line in tip if line.startswith("ran ")]
    assert len(run) == 1 and run[0].endswith(("on worker 0", "on worker 1")), tip
    assert float(run[0].split()[1]) >= 0.3 and run[0].split()[2] == "s"


def test_timeline_labels_names_dims_filtered_and_grows_running_trials(
        lab_page: LabPage) -> None:
    lp = lab_page
    long = "tcp://a-very-long-worker-host-name.cluster.internal:39999"
    doc = timed_doc(30, names=["tcp://10.0.0.5:4242", long])
    running = doc["trials"][-1]
    running.update(state="running", value=None, finished=None)
    doc["progress"]["status"] = "running"
    doc["now"] = running["started"] + 50.0  # a straggler still running
    serial = doc["trials"][-2]
    serial.update(worker=None, worker_name=None)
    open_study(lp, "timeline-names.ipynb", doc)
    timeline = lp.page.locator(TIMELINE)
    timeline.wait_for()
    assert timeline.get_attribute("data-rows") == \
        f'["10.0.0.5:4242","{long[6:]}","lane 0"]'
    assert timeline.get_attribute("data-bars") == "30"
    timeline.scroll_into_view_if_needed()
    canvas = lp.page.locator(f"{TIMELINE} canvas")
    box = canvas.bounding_box()
    # The running trial's bar reaches the right end (now): hovered there, it is found.
    hit = lp.js("""([sel, number]) => {
        const canvas = document.querySelector(sel);
        const tip = canvas.closest('.hpt-StudyView').querySelector('.hpt-tooltip');
        const box = canvas.getBoundingClientRect();
        const x = box.right - 20;
        for (let y = box.top; y < box.bottom; y += 1) {
            canvas.dispatchEvent(new MouseEvent('mousemove', {clientX: x, clientY: y}));
            if (!tip.hidden && tip.dataset.trial === String(number)) {
                return {x, y, lines: [...tip.children].map(d => d.textContent)};
            }
        }
        return null;
    }""", [f"{TIMELINE} canvas", running["number"]])
    assert hit, "the running trial's bar does not reach now"
    assert "running for 50.0 s on 10.0.0.5:4242" in hit["lines"] or \
        f"running for 50.0 s on {long}" in hit["lines"]
    # The long worker name is shortened on the axis; hovering it shows it in full.
    shown = lp.js("""([sel, long]) => {
        const canvas = document.querySelector(sel);
        const tip = canvas.closest('.hpt-StudyView').querySelector('.hpt-tooltip');
        const box = canvas.getBoundingClientRect();
        for (let y = box.top; y < box.bottom; y += 2) {
            for (let x = box.left; x < box.left + 100; x += 2) {
                canvas.dispatchEvent(new MouseEvent('mousemove', {clientX: x, clientY: y}));
                if (!tip.hidden && tip.textContent === long) { return true; }
            }
        }
        return false;
    }""", [f"{TIMELINE} canvas", long[6:]])
    assert shown
    lp.page.mouse.click(hit["x"], hit["y"])
    wait_for(lambda: view_attr(lp, "data-selected") == str(running["number"]), 5, 0.05,
             "the running trial selected")
    assert box["height"] > 60
    # Brushing the parallel coordinates dims the bars of the trials left out.
    xs, top, _ = geometry(lp)
    drag(lp, xs[0], top + 12, top + 110)
    wait_for(lambda: view_attr(lp, "data-kept") not in (None, ""), 5, 0.05, "a filter")
    left_out = len(doc["trials"]) - int(view_attr(lp, "data-kept"))
    assert timeline.get_attribute("data-dimmed") == str(left_out) and left_out > 0
    lp.screenshot("analysis-timeline-names.png", timeline)


def test_contour_follows_the_chosen_parameters_with_hover_and_click(lab_page: LabPage) -> None:
    lp = lab_page
    doc = timed_doc(40)
    open_study(lp, "contour.ipynb", doc)
    contour = lp.page.locator(CONTOUR)
    contour.wait_for()
    selects = contour.locator("select")
    assert selects.nth(0).input_value() == "lr" and selects.nth(1).input_value() == "depth"
    assert selects.nth(0).get_attribute("aria-label") == "Contour: parameter on the x axis"
    caption = contour.locator("figcaption").inner_text()
    assert "Score over lr and depth, interpolated between trials" in caption
    assert contour.get_attribute("data-dots") == str(len(complete(doc)))
    contour.scroll_into_view_if_needed()
    assert set(sweep(lp, f"{CONTOUR} canvas")) <= {t["number"] for t in complete(doc)}
    lp.screenshot("analysis-contour.png", contour)
    # Picking "depth" for x swaps the axes (never one parameter twice); then "kind".
    selects.nth(0).select_option("depth")
    wait_for(lambda: contour.get_attribute("data-pair") == "depth|lr", 5, 0.05, "the swap")
    selects.nth(1).select_option("kind")
    wait_for(lambda: contour.get_attribute("data-pair") == "depth|kind", 5, 0.05, "kind")
    # Hover a dot: the trial's tooltip; click: selected everywhere.
    canvas = lp.page.locator(f"{CONTOUR} canvas")
    canvas.scroll_into_view_if_needed()
    point = lp.js("""sel => {
        const canvas = document.querySelector(sel);
        const tip = canvas.closest('.hpt-StudyView').querySelector('.hpt-tooltip');
        const box = canvas.getBoundingClientRect();
        for (let y = box.top; y < box.bottom; y += 2) {
            for (let x = box.left; x < box.right; x += 2) {
                canvas.dispatchEvent(new MouseEvent('mousemove', {clientX: x, clientY: y}));
                if (!tip.hidden && tip.dataset.trial !== undefined) {
                    return {x, y, number: Number(tip.dataset.trial)};
                }
            }
        }
        return null;
    }""", f"{CONTOUR} canvas")
    assert point
    lp.page.mouse.click(point["x"], point["y"])
    wait_for(lambda: view_attr(lp, "data-selected") == str(point["number"]), 5, 0.05,
             "the dot's trial selected")
    lp.screenshot("analysis-contour-kind.png", contour)


def test_analysis_axis_text_reads_on_both_themes(lab_page: LabPage) -> None:
    lp = lab_page
    lp.open_notebook("analysis-themes.ipynb", [output_cell(timed_doc(40))], kernel=False)
    lp.page.locator(TIMELINE).wait_for()
    try:
        for theme in THEMES:
            set_theme(lp, theme)
            for sel in (EDF, TIMELINE, CONTOUR):
                def settled(sel: str = sel) -> bool:
                    ink = ink_match(lp, f"{sel} canvas")
                    return ink["drawn"] > 50 and ink["share"] > 0.9
                wait_for(settled, 10, 0.1, f"{sel}'s axis text in the colours of {theme}")
            lp.page.locator("#jupyterlab-splash").wait_for(state="detached")
            lp.page.wait_for_timeout(300)
            name = theme.split()[-1].lower()
            lp.page.locator(TIMELINE).scroll_into_view_if_needed()
            lp.screenshot(f"analysis-{name}.png", lp.page.locator(f"{VIEW} .hpt-analysis"))
            lp.screenshot(f"analysis-timeline-{name}.png", lp.page.locator(TIMELINE))
    finally:
        set_theme(lp, THEMES[1])


def test_panels_of_2000_trials_on_two_workers(lab_page: LabPage) -> None:
    lp = lab_page
    doc = timed_doc(2000)
    lp.open_notebook("analysis-large.ipynb", [output_cell(doc)], kernel=False)
    lp.page.locator(TIMELINE).wait_for()
    first = float(wait_for(lambda: view_attr(lp, "data-render-ms"), 30, 0.1, "a render"))
    times = lp.js("""async () => {
        const area = window.jupyterapp.shell.currentWidget.content.widgets[0].outputArea;
        const renderer = area.widgets[0].widgets[1];
        const out = [];
        for (let k = 0; k < 5; k++) {
            const start = performance.now();
            await renderer.renderModel(area.model.get(0));
            out.push(performance.now() - start);
        }
        return out.sort((a, b) => a - b);
    }""")
    assert lp.page.locator(TIMELINE).get_attribute("data-bars") == "2000"
    assert lp.page.locator(CONTOUR).get_attribute("data-dots") == str(len(complete(doc)))
    assert len(steps(lp)) == len(complete(doc))
    print(f"\n2000 trials with the analysis panels: first {first:.1f} ms, "
          f"update median {times[2]:.1f} ms (min {times[0]:.1f})")
    for part in ("hpt-analysis", "hpt-timeline"):
        lp.page.locator(f"{VIEW} .{part}").scroll_into_view_if_needed()
        lp.screenshot(f"analysis-2000-{part[4:]}.png", lp.page.locator(f"{VIEW} .{part}"))
