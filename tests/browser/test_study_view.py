"""What a demanding user saw in the study view, each checked in real JupyterLab and Chromium:
theme switches redraw the canvases, the table scrolls, one-report curves are drawn, labels
stay readable, the log toggle refuses scores <= 0, a legend explains the marks, the keyboard
reaches headers, rows and points, the Tuning panel tells two studies of one name apart,
numbers at the ends of the doubles are drawn in time, names with bidi controls leave the
view's sentences in order, and a panel that fails is named while the others are drawn."""

from __future__ import annotations

from typing import Any

from conftest import NOTEBOOK, LabPage, wait_for
from test_labextension import VIEW, find_trial_point, output_cell, study_doc, view_attr

HISTORY = f"{VIEW} .hpt-history canvas"
THEMES = ["JupyterLab Dark", "JupyterLab Light"]


def ink_match(lp: LabPage, selector: str, index: int = 0) -> dict[str, float]:
    """How the tick labels left of a chart's plotting area are coloured: the share of their
    drawn pixels that have the RGB of the theme's ``--jp-ui-font-color2`` now."""
    return lp.js("""([sel, index]) => {
        const canvas = document.querySelectorAll(sel)[index];
        const probe = document.createElement('div');
        probe.style.color = getComputedStyle(canvas).getPropertyValue('--jp-ui-font-color2');
        document.body.appendChild(probe);
        const want = getComputedStyle(probe).color.match(/[\\d.]+/g).map(Number);
        probe.remove();
        const ratio = canvas.width / canvas.clientWidth;
        const w = Math.floor(38 * ratio);
        const d = canvas.getContext('2d').getImageData(0, 0, w, canvas.height).data;
        let drawn = 0, right = 0;
        for (let i = 0; i < d.length; i += 4) {
            if (d[i + 3] < 40) { continue; }
            drawn++;
            if (Math.abs(d[i] - want[0]) + Math.abs(d[i + 1] - want[1]) +
                Math.abs(d[i + 2] - want[2]) < 60) { right++; }
        }
        return {drawn, share: drawn ? right / drawn : 0};
    }""", [selector, index])


def colour_pixels(lp: LabPage, selector: str, rgb: tuple[int, int, int]) -> int:
    return lp.js("""([sel, rgb]) => {
        const c = document.querySelector(sel);
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
            if (d[i + 3] > 200 && Math.abs(d[i] - rgb[0]) < 14 &&
                Math.abs(d[i + 1] - rgb[1]) < 14 && Math.abs(d[i + 2] - rgb[2]) < 14) { n++; }
        }
        return n;
    }""", [selector, list(rgb)])


def set_theme(lp: LabPage, theme: str) -> None:
    lp.command("apputils:change-theme", {"theme": theme})
    lp.page.wait_for_function("t => document.body.dataset.jpThemeName === t", arg=theme)


def test_theme_switches_redraw_every_view_also_hidden_ones(lab_page: LabPage) -> None:
    lp = lab_page
    lp.lab.write_notebook("hidden.ipynb", [output_cell(study_doc(40, 3))])
    lp.open_notebook("themes.ipynb", [output_cell(study_doc(60, 3))], kernel=False)
    lp.page.locator(VIEW).wait_for()
    try:
        # Both directions, several times, as fast as a user clicks.
        for theme in THEMES * 3:
            set_theme(lp, theme)
            lp.page.wait_for_timeout(150)
        for theme in THEMES:
            set_theme(lp, theme)

            def settled() -> bool:
                ink = ink_match(lp, HISTORY)
                return ink["drawn"] > 50 and ink["share"] > 0.9
            wait_for(settled, 10, 0.1, f"the tick labels in the colours of {theme}")
            lp.screenshot(f"theme-{theme.split()[-1].lower()}.png", lp.page.locator(VIEW))
        # A view hidden (in another tab) during a switch is redrawn when shown.
        lp.command("docmanager:open", {"path": "hidden.ipynb", "factory": "Notebook"})
        wait_for(lambda: lp.page.locator(f"{VIEW}").count() == 1 and
                 view_attr(lp, "data-trials") == "40", 30, 0.1, "the second notebook")
        set_theme(lp, "JupyterLab Light")
        lp.command("docmanager:open", {"path": "themes.ipynb", "factory": "Notebook"})
        wait_for(lambda: view_attr(lp, "data-trials") == "60", 30, 0.1, "the first notebook")
        wait_for(lambda: ink_match(lp, HISTORY)["share"] > 0.9, 10, 0.1,
                 "the hidden view redrawn in the dark theme")
    finally:
        set_theme(lp, THEMES[1])


def wide_doc() -> dict[str, Any]:
    """A study with 8 parameters, long category names and scores below zero."""
    doc = study_doc(60, 1)
    names = ["stochastic_gradient_descent", "rmsprop", "lbfgs", "adam_with_weight_decay"]
    doc["params"] = [
        {"name": f"parameter_with_long_name_{k}", "type": "float", "low": 0.0, "high": 100.0,
         "log": False} for k in range(7)
    ] + [{"name": "optimizer", "type": "choice", "options": names}]
    for t in doc["trials"]:
        n = t["number"]
        t["params"] = {f"parameter_with_long_name_{k}": (n * (k + 3)) % 100 for k in range(7)}
        t["params"]["optimizer"] = names[n % 4]
        if t["value"] is not None:
            t["value"] -= 2.0
    scored = [t for t in doc["trials"] if t["state"] == "complete"]
    best = min(scored, key=lambda t: t["value"])
    doc["progress"]["best"] = {"number": best["number"], "value": best["value"]}
    return doc


def test_wide_table_scrolls_labels_fit_and_log_axis_refuses_negative_scores(
        lab_page: LabPage) -> None:
    lp = lab_page
    lp.page.set_viewport_size({"width": 900, "height": 1000})
    doc = wide_doc()
    doc["progress"].update(status="stopped", reason="no improvement")
    lp.open_notebook("wide.ipynb", [output_cell(doc)], kernel=False)
    view = lp.page.locator(VIEW)
    view.locator(".hpt-Table tbody tr").first.wait_for()
    # Why the run ended early, as the kernel's progress line says it.
    assert view.locator(".hpt-progress-text").inner_text().startswith(
        "stopped (no improvement in --patience trials) · ")
    box = view.locator(".hpt-table-box")
    assert view.locator(".hpt-Table th").count() == 11
    # Clipped columns can be scrolled to.
    sizes = box.evaluate("b => [b.scrollWidth, b.clientWidth, getComputedStyle(b).overflowX]")
    assert sizes[0] > sizes[1] and sizes[2] == "auto"
    box.evaluate("b => { b.scrollLeft = b.scrollWidth; }")
    last = view.locator(".hpt-Table th").last.bounding_box()
    outer = box.bounding_box()
    assert last["x"] + last["width"] <= outer["x"] + outer["width"] + 1

    # The category names are shortened or rotated: the full name is in a tooltip.
    chart = f"{VIEW} .hpt-param:last-child canvas"
    full = lp.js("""sel => {
        const canvas = document.querySelector(sel);
        const tip = canvas.closest('.hpt-StudyView').querySelector('.hpt-tooltip');
        const box = canvas.getBoundingClientRect();
        const seen = new Set();
        for (let y = box.top; y < box.bottom; y += 2) {
            for (let x = box.left; x < box.right; x += 2) {
                canvas.dispatchEvent(new MouseEvent('mousemove', {clientX: x, clientY: y}));
                const label = tip.querySelector('.hpt-tt-label');
                if (!tip.hidden && label) { seen.add(label.textContent); }
            }
        }
        return [...seen].sort();
    }""", chart)
    assert "stochastic_gradient_descent" in full and "adam_with_weight_decay" in full

    log = view.locator(".hpt-log")
    assert log.is_disabled()
    reason = view.locator(".hpt-toggle").get_attribute("title")
    assert "cannot show scores ≤ 0" in reason
    lp.screenshot("study-view-wide-900.png", view)


def test_one_report_curves_legend_best_and_manual_marks(lab_page: LabPage) -> None:
    lp = lab_page
    doc = study_doc(40, 6)
    for t in doc["trials"]:
        if t["number"] % 2 == 1 and t["state"] != "failed":
            # Stopped after its first report, far worse than the others (ASHA's first rung).
            t["state"], t["curve"] = "pruned", [[0, 40.0 + t["number"]]]
            t["value"] = 40.0 + t["number"]
    doc["trials"][2].update(manual=True, state="complete")
    doc["progress"].update(status="finished", reason="exhausted", space_size=40, planned=None)
    lp.open_notebook("curves.ipynb", [output_cell(doc)], kernel=False)
    view = lp.page.locator(VIEW)
    view.locator(".hpt-legend .hpt-key").first.wait_for()
    assert view.locator(".hpt-progress-text").inner_text().startswith(
        "finished (all 40 points of the search space tried) · ")
    single = next(t["number"] for t in doc["trials"] if len(t["curve"]) == 1)
    assert find_trial_point(lp, f"{VIEW} .hpt-curves canvas", single), \
        "a curve of one report is not drawn"
    legend = view.locator(".hpt-legend .hpt-key").all_inner_texts()
    for item in ("complete", "manual", "pruned (score reached)", "failed, no score",
                 "best so far", "best trial", "selected"):
        assert item in legend, legend
    best_orange = (255, 127, 14)
    assert colour_pixels(lp, HISTORY, best_orange) > 20
    assert colour_pixels(lp, f"{VIEW} .hpt-param:nth-child(1) canvas", best_orange) > 10
    assert colour_pixels(lp, HISTORY, (148, 103, 189)) > 4  # the manual trial's diamond
    lp.screenshot("study-view-curves-legend.png", view)


def test_keyboard_reaches_headers_rows_and_points(lab_page: LabPage) -> None:
    lp = lab_page
    doc = study_doc(30, 3)
    lp.open_notebook("keys.ipynb", [output_cell(doc)], kernel=False)
    view = lp.page.locator(VIEW)
    table = view.locator(".hpt-Table")
    table.locator("tbody tr").first.wait_for()
    score = table.locator("th").nth(1)
    assert score.get_attribute("aria-sort") == "ascending"
    number = table.locator("th").first
    number.focus()
    lp.page.keyboard.press("Enter")
    assert table.locator("th").first.get_attribute("aria-sort") == "ascending"
    assert table.locator("th").nth(1).get_attribute("aria-sort") == "none"
    lp.page.keyboard.press(" ")
    assert table.locator("th").first.get_attribute("aria-sort") == "descending"
    row = table.locator("tbody tr").nth(1)
    row.focus()
    lp.page.keyboard.press("Enter")
    assert view_attr(lp, "data-selected") == row.locator("td").first.inner_text()

    lp.page.locator(HISTORY).focus()
    lp.page.keyboard.press("Home")
    assert view_attr(lp, "data-selected") == "0"
    lp.page.keyboard.press("ArrowRight")
    assert view_attr(lp, "data-selected") == "1"
    tip = view.locator(".hpt-tooltip")
    assert tip.is_visible() and tip.locator("div").first.inner_text() == "Trial #1"
    lp.page.keyboard.press("Escape")
    assert view_attr(lp, "data-selected") == ""


def test_hovering_a_curve_highlights_it(lab_page: LabPage) -> None:
    lp = lab_page
    lp.open_notebook("hover.ipynb", [output_cell(study_doc(30, 6))], kernel=False)
    curves = f"{VIEW} .hpt-curves canvas"
    lp.page.locator(curves).wait_for()
    before = lp.js("sel => document.querySelector(sel).toDataURL()", curves)
    point = find_trial_point(lp, curves)
    assert point
    lp.page.mouse.move(point["x"], point["y"])
    hovered = lp.js("sel => document.querySelector(sel).toDataURL()", curves)
    assert hovered != before
    lp.page.mouse.move(0, 0)
    assert lp.js("sel => document.querySelector(sel).toDataURL()", curves) == before


def test_tuning_panel_tells_two_studies_of_one_name_apart(lab_page: LabPage) -> None:
    lp = lab_page
    doc = study_doc(20, 2)
    doc["study"]["name"] = "pbt-digits-with-a-long-hyphenated-name-that-would-wrap-at-a-hyphen"
    lp.open_notebook("twins.ipynb", [output_cell(doc), "x = 1", output_cell(doc)],
                     kernel=False)
    wait_for(lambda: lp.page.locator(VIEW).count() == 2, 30, 0.1, "two study views")
    title = lp.page.locator(f"{VIEW} .hpt-title").first
    assert title.evaluate("t => getComputedStyle(t).whiteSpace") == "pre"
    assert title.bounding_box()["height"] < 30  # one line
    lp.js("() => window.jupyterapp.shell.activateById('hpt-magic-tuning')")
    rows = lp.page.locator("#hpt-magic-tuning li")
    wait_for(lambda: rows.count() == 2, 30, 0.1, "two studies in the panel")
    names = rows.locator(".hpt-TuningPanel-name").all_inner_texts()
    assert names[0] != names[1]
    assert names[0].endswith("· cell 1") and names[1].endswith("· cell 3")
    lp.screenshot("tuning-panel-twins.png", lp.page.locator(NOTEBOOK).locator(".."))


def odd_docs() -> dict[str, dict[str, Any]]:
    """Documents a correct view still draws: numbers at the ends of the doubles (ticks finer
    than their spacing, spans beyond the largest), and names that hold bidi controls."""
    docs = {}
    huge = study_doc(6, 3)
    huge["trials"][0]["value"], huge["trials"][1]["value"] = 1e308, -1e308
    huge["progress"]["best"] = {"number": 1, "value": -1e308}
    huge["trials"][2]["curve"] = [[0, 1e308], [1, -1e308]]
    docs["huge"] = huge  # first: the sweeps below find its charts
    step = study_doc(3, 2)  # one report at step 1e17: each tick added 0 to the last one
    step["trials"][0]["curve"] = [[1e17, 0.5]]
    for t in step["trials"][1:]:
        t["curve"] = []
    docs["step 1e17"] = step
    close = study_doc(6, 0)  # scores one double apart
    for t in close["trials"]:
        t["value"] = None if t["value"] is None else float(10**17 + 16 * (t["number"] % 2))
    close["progress"]["best"]["value"] = 1e17
    docs["scores 1e17"] = close
    big = study_doc(6, 2)  # trial numbers past 2^53
    for t in big["trials"]:
        t["number"] = 2**53 + 2 * t["number"]
    big["progress"]["best"]["number"] += 2**53
    docs["numbers 2^53"] = big
    alone = study_doc(1, 2)  # one trial, numbered 1e17: mid ± 0.5 was one value
    alone["trials"][0]["number"] = 10**17
    alone["progress"]["best"]["number"] = 10**17
    docs["one number 1e17"] = alone
    narrow = study_doc(6, 2)  # a float parameter two apart at 1e16
    narrow["params"][0] = {"name": "lr", "type": "float", "low": 1e16, "high": 1e16 + 2}
    for t in narrow["trials"]:
        t["params"]["lr"] = 1e16 + 2 * (t["number"] % 2)
    docs["range 1e16"] = narrow
    rtl = study_doc(12, 2)
    rtl["params"][0]["name"], rtl["params"][1]["name"] = RTL_LR, ESCAPE_DEPTH
    for t in rtl["trials"]:
        t["params"][RTL_LR] = t["params"].pop("lr")
        t["params"][ESCAPE_DEPTH] = t["params"].pop("depth")
    rtl["study"]["sampler"] = "\u202etpe"
    docs["bidi"] = rtl
    return docs


RTL_LR = "\u202elr"
#: Its own U+2069 closed the isolate early, and its U+202E turned the rest of the line around.
ESCAPE_DEPTH = "\u2069\u202edepth"


def isolated(text: str) -> str:
    """A name (free of bidi controls) between the isolates, as the view puts it in a sentence."""
    return f"\u2068{text}\u2069"


def test_extreme_numbers_and_bidi_names_draw_in_time_and_in_order(lab_page: LabPage) -> None:
    lp = lab_page
    errors: list[str] = []
    lp.page.on("pageerror", lambda e: errors.append(str(e)))
    docs = odd_docs()
    lp.open_notebook("odd.ipynb", [output_cell(*docs.values())], kernel=False)
    wait_for(lambda: lp.page.locator(VIEW).count() == len(docs), 30, 0.1, "the views")
    # Each is drawn in well under a second; an endless tick loop froze the tab for 17 s
    # and then threw, leaving the view half drawn.
    wait_for(lambda: all(view_attr(lp, "data-render-ms", i) for i in range(len(docs))), 5,
             0.1, "every view drawn")
    states = [view_attr(lp, "data-state", i) for i in range(len(docs))]
    assert states == ["ok"] * len(docs), dict(zip(docs, states))
    assert errors == []

    # Scores of 1e308 and -1e308 are on the charts (the span overflowed: points vanished).
    assert {0, 1} <= set(lp.sweep(f"{VIEW} .hpt-history canvas", 3, 3))
    assert {0, 1} <= set(lp.sweep(f"{VIEW} .hpt-param canvas", 3, 3))
    assert lp.js("sel => !document.querySelector(sel).hidden", f"{VIEW} .hpt-contour")
    lp.screenshot("view-huge-scores.png", lp.page.locator(VIEW).first)

    # Document text inside the view's sentences is isolated, without its own bidi controls:
    # it cannot turn them around, nor close its isolate early and escape it.
    bidi = lp.page.locator(VIEW).nth(len(docs) - 1)
    assert bidi.locator(".hpt-contour figcaption").inner_text() == (
        f"Score over {isolated('lr')} and {isolated('depth')}, interpolated between trials")
    assert f"sampler {isolated('tpe')}" in bidi.locator(".hpt-meta").inner_text()
    headers = bidi.locator("th").all_inner_texts()
    assert isolated("lr") in headers and isolated("depth") in headers
    lp.screenshot("view-bidi-names.png", bidi)

    # A panel that throws is hidden and named in the view's one-line message; the other
    # panels are drawn, and drawn again once it works.
    after = lp.js("""([sel, i]) => {
        const view = document.querySelectorAll(sel)[i];
        const proto = HTMLSelectElement.prototype;
        const value = Object.getOwnPropertyDescriptor(proto, 'value');
        const redraw = () => view.querySelector('.hpt-log').dispatchEvent(new Event('change'));
        const look = () => ({
            state: view.dataset.state,
            message: view.querySelector('.hpt-message').hidden ? null :
                view.querySelector('.hpt-message').textContent,
            contour: !view.querySelector('.hpt-contour').hidden,
            history: !view.querySelector('.hpt-history').hidden,
            table: !view.querySelector('.hpt-Table').hidden});
        Object.defineProperty(proto, 'value', {
            configurable: true, get: value.get, set() { throw new Error('injected failure'); }});
        try { redraw(); } finally { Object.defineProperty(proto, 'value', value); }
        const broken = look();
        redraw();
        return [broken, look()];
    }""", [VIEW, len(docs) - 1])
    assert after[0] == {
        "state": "partial", "contour": False, "history": True, "table": True,
        "message": "hpt-magic cannot draw part of this study: the contour (injected failure)."}
    assert after[1] == {"state": "ok", "message": None, "contour": True, "history": True,
                        "table": True}
    assert errors == []


MANUAL = """%load_ext hpt_magic
from hpt_magic import Float, Choice, Study
from hpt_magic.widgets import ManualTuner
study = Study(space={"x": Float(0, 10), "optimizer": Choice(["sgd", "adam"])},
              name="by-hand", storage="manual-view.db", new=True)
ManualTuner(study, lambda t: (t.params["x"] - 3) ** 2)
"""


def test_manual_panel_study_survives_reload_and_html_export(lab_page: LabPage) -> None:
    lp = lab_page
    lp.open_notebook("manual-view.ipynb", [MANUAL])
    lp.run_all()
    tuner = lp.page.locator(f"{NOTEBOOK} .hpt-manual-tuner")
    tuner.locator(".widget-slider").first.wait_for()
    lp.wait_idle()
    view = lp.page.locator(VIEW)
    view.wait_for()
    assert view.locator(".hpt-progress-text").inner_text() == "manual tuning · no trial yet"
    # The descriptions have one width: the controls start in one column.
    ends = lp.js("""sel => [...document.querySelectorAll(
                     sel + ' .widget-slider > .widget-label, ' +
                     sel + ' .widget-toggle-buttons > .widget-label')]
                 .map(e => Math.round(e.getBoundingClientRect().right))""",
                 f"{NOTEBOOK} .hpt-manual-tuner")
    assert len(ends) == 2 and abs(ends[0] - ends[1]) <= 3, ends  # "initial": ~50 px apart
    tuner.locator("button", has_text="Run").click()
    tuner.locator(".widget-html", has_text="Trial 0 complete").wait_for()
    wait_for(lambda: view_attr(lp, "data-trials") == "1", 30, 0.1, "the view after the run")
    assert view.locator(".hpt-legend").inner_text().count("manual") == 1
    lp.screenshot("manual-panel-with-view.png", lp.page.locator(f"{NOTEBOOK} .jp-Cell").first)
    lp.save()
    lp.shutdown_kernel()
    lp.reload()
    view.wait_for()
    assert view_attr(lp, "data-trials") == "1" and view_attr(lp, "data-status") == "manual"
    lp.screenshot("manual-view-after-reload.png", lp.page.locator(f"{NOTEBOOK} .jp-Cell").first)

    import subprocess
    import sys
    html = subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "html", "--stdout",
         str(lp.lab.root / "manual-view.ipynb")], capture_output=True, text=True, timeout=120,
        env=lp.lab.env).stdout
    assert "VBox(children" not in html
    assert "Manual tuning of study &#39;by-hand&#39;" in html or "data:image/png" in html
    assert "data:image/png" in html


def test_a_run_stopped_on_a_bug_says_so_in_both_themes(lab_page: LabPage) -> None:
    # The reason the kernel's progress line gives ("failing": the first five trials of the
    # run raised one error), in the view's own line, readable in light and dark.
    lp = lab_page
    doc = study_doc(5, 0)
    for t in doc["trials"]:
        t.update(state="failed", value=None, error="NameError: name 'modle' is not defined")
    doc["progress"].update(status="stopped", reason="failing", best=None,
                           counts={"complete": 0, "failed": 5})
    lp.open_notebook("bug.ipynb", [output_cell(doc)], kernel=False)
    view = lp.page.locator(VIEW)
    view.locator(".hpt-progress-text").wait_for()
    try:
        for theme in THEMES:
            set_theme(lp, theme)
            assert view.locator(".hpt-progress-text").inner_text().startswith(
                "stopped (every trial failed with the same error) · ")
            lp.screenshot(f"stopped-on-a-bug-{theme.split()[-1].lower()}.png", view)
    finally:
        set_theme(lp, "JupyterLab Light")
