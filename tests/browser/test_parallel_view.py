"""The parallel-coordinates panel of the study view in a real JupyterLab and Chromium: one
line per complete trial with a tooltip, brushing an axis filters the trials in every chart and
the table (several axes combine with AND), clearing restores the view, and the axis text
reads on both themes."""

from __future__ import annotations

import json
from typing import Any

from conftest import LabPage, wait_for
from test_labextension import VIEW, canvas_digest, output_cell, study_doc, view_attr
from test_study_view import colour_pixels, set_theme

PANEL = f"{VIEW} .hpt-parallel"
CANVAS = f"{PANEL} canvas"
HISTORY = f"{VIEW} .hpt-history canvas"
COMPLETE_BLUE = (31, 119, 180)


def complete_numbers(doc: dict[str, Any]) -> set[int]:
    return {t["number"] for t in doc["trials"]
            if t["state"] == "complete" and t["value"] is not None}


def sweep(lp: LabPage, selector: str, step: int = 5) -> dict[int, bool]:
    """Hover every few pixels of a canvas: each trial whose tooltip showed, and whether the
    tooltip said it is outside the filter."""
    return lp.sweep(selector, step, 2)


def axis_x(lp: LabPage) -> list[float]:
    """Client x of each axis (parameters in document order, then the score)."""
    box = lp.page.locator(CANVAS).bounding_box()
    xs = lp.page.locator(PANEL).get_attribute("data-axis-x")
    return [box["x"] + float(x) for x in xs.split(",")]


def geometry(lp: LabPage) -> tuple[list[float], float, float]:
    """The panel scrolled into sight: its axes' client x, and the client y of their top and
    bottom ends."""
    lp.page.locator(CANVAS).scroll_into_view_if_needed()
    box = lp.page.locator(CANVAS).bounding_box()
    return axis_x(lp), box["y"] + 30, box["y"] + box["height"] - 12


def drag(lp: LabPage, x: float, y0: float, y1: float) -> None:
    mouse = lp.page.mouse
    mouse.move(x, y0)
    mouse.down()
    mouse.move(x, (y0 + y1) / 2, steps=3)
    mouse.move(x, y1, steps=3)
    mouse.up()


def brush(lp: LabPage) -> dict[str, list[float]]:
    return json.loads(lp.page.locator(PANEL).get_attribute("data-brush") or "{}")


def table_rows(lp: LabPage) -> dict[int, bool]:
    """Each row of the top-trials table: its trial number and whether it is dimmed."""
    return {int(k): v for k, v in lp.js("""sel => {
        const out = {};
        for (const row of document.querySelectorAll(sel + ' .hpt-Table tbody tr')) {
            out[row.dataset.trial] = row.classList.contains('hpt-mod-dimmed');
        }
        return out;
    }""", VIEW).items()}


def open_study(lp: LabPage, name: str, doc: dict[str, Any]) -> None:
    lp.open_notebook(name, [output_cell(doc)], kernel=False)
    lp.page.locator(CANVAS).wait_for()
    lp.page.locator(f"{VIEW} .hpt-Table tbody tr").first.wait_for()


def test_one_line_per_complete_trial_with_tooltip_click_and_keyboard(lab_page: LabPage) -> None:
    lp = lab_page
    doc = study_doc(40, 3)
    open_study(lp, "parallel-lines.ipynb", doc)
    panel = lp.page.locator(PANEL)
    complete = complete_numbers(doc)
    assert len(complete) < len(doc["trials"])  # pruned and failed trials have no line
    assert panel.get_attribute("data-lines") == str(len(complete))
    assert len(axis_x(lp)) == 4  # lr, depth, kind, score
    # Hovering finds every complete trial's line, and no other trial.
    assert set(sweep(lp, CANVAS)) == complete

    canvas = lp.page.locator(CANVAS)
    assert canvas.get_attribute("tabindex") == "0"
    assert "Parallel coordinates" in (canvas.get_attribute("aria-label") or "")
    # Hover between two axes: the tooltip lists number, parameters and score as text.
    best = doc["progress"]["best"]["number"]
    canvas.scroll_into_view_if_needed()
    xs = axis_x(lp)
    point = lp.js("""([sel, xs, number]) => {
        const canvas = document.querySelector(sel);
        const tip = canvas.closest('.hpt-StudyView').querySelector('.hpt-tooltip');
        const box = canvas.getBoundingClientRect();
        for (const x of [xs[0] + 20, (xs[0] + xs[1]) / 2, (xs[1] + xs[2]) / 2]) {
            for (let y = box.top; y < box.bottom; y += 1) {
                canvas.dispatchEvent(new MouseEvent('mousemove', {clientX: x, clientY: y}));
                if (!tip.hidden && tip.dataset.trial === String(number)) { return {x, y}; }
            }
        }
        return null;
    }""", [CANVAS, xs, best])
    assert point, "the best trial's line cannot be hovered"
    lp.page.mouse.move(point["x"], point["y"])
    tip = lp.page.locator(f"{VIEW} .hpt-tooltip")
    tip.wait_for(state="visible")
    lines = tip.locator("div").all_inner_texts()
    assert lines[0] == f"Trial #{best}"
    assert f"score: {doc['progress']['best']['value']:.4g}" in lines
    assert any(line.startswith("lr = ") for line in lines)
    assert f"kind = {doc['trials'][best]['params']['kind']}" in lines
    lp.screenshot("parallel-hover.png")
    # Click: the trial is selected everywhere (the table's row too).
    lp.page.mouse.click(point["x"], point["y"])
    wait_for(lambda: view_attr(lp, "data-selected") == str(best), 5, 0.05, "the selection")
    row = lp.page.locator(f"{VIEW} .hpt-Table tr[data-trial='{best}']")
    assert "hpt-mod-selected" in row.get_attribute("class")
    # The keyboard reaches the panel: arrows move the selection there too.
    canvas.focus()
    lp.page.keyboard.press("Home")
    assert view_attr(lp, "data-selected") == str(min(t["number"] for t in doc["trials"]))


def test_brushing_filters_every_chart_and_the_table_and_clearing_restores(
        lab_page: LabPage) -> None:
    lp = lab_page
    doc = study_doc(40, 3)
    open_study(lp, "parallel-brush.ipynb", doc)
    panel = lp.page.locator(PANEL)
    history_before = canvas_digest(lp, HISTORY)
    blue_before = colour_pixels(lp, HISTORY, COMPLETE_BLUE)
    by_number = {t["number"]: t for t in doc["trials"]}

    def check(left_out: set[int], what: str) -> None:
        kept = len(doc["trials"]) - len(left_out)
        wait_for(lambda: view_attr(lp, "data-kept") == str(kept), 5, 0.05,
                 f"{kept} trials kept by {what}")
        # The parallel coordinates dim exactly the complete trials left out.
        assert panel.get_attribute("data-dimmed") == str(len(left_out & complete_numbers(doc)))
        # So does the learning-curves chart (every trial with a curve is drawn there).
        curves = {n for n in left_out if by_number[n]["curve"]}
        assert lp.page.locator(f"{VIEW} .hpt-curves").get_attribute("data-dimmed") == \
            str(len(curves))
        # The history's tooltips say which trials are outside the filter.
        seen = sweep(lp, HISTORY)
        assert len(seen) > 20
        assert {n for n, out in seen.items() if out} == left_out & set(seen), what
        rows = table_rows(lp)
        assert {n for n, dim in rows.items() if dim} == left_out & set(rows), what
        assert any(rows.values()) and not all(rows.values()), (what, rows)
        text = lp.page.locator(f"{PANEL} .hpt-filter-text").inner_text()
        assert f"{kept} of {len(doc['trials'])} trials" in text

    # Brush the upper half of the (log) learning-rate axis.
    xs, top, bottom = geometry(lp)
    drag(lp, xs[0], top + 12, top + 110)
    wait_for(lambda: "p:lr" in brush(lp), 5, 0.05, "the brush on lr")
    lo, hi = brush(lp)["p:lr"]
    assert 1e-4 < lo < hi < 1e-1
    by_lr = {t["number"] for t in doc["trials"] if not lo <= t["params"]["lr"] <= hi}
    check(by_lr, "the lr brush")
    assert 0 < colour_pixels(lp, HISTORY, COMPLETE_BLUE) < blue_before
    lp.screenshot("parallel-brush-lr.png", lp.page.locator(VIEW))

    # A second axis (categorical "kind", "a" at the bottom) narrows the filter: AND.
    xs, top, bottom = geometry(lp)
    drag(lp, xs[2], bottom - 1, bottom - 50)
    wait_for(lambda: "p:kind" in brush(lp), 5, 0.05, "the brush on kind")
    assert "and kind a ·" in lp.page.locator(f"{PANEL} .hpt-filter-text").inner_text()
    by_kind = {t["number"] for t in doc["trials"] if t["params"]["kind"] != "a"}
    check(by_lr | by_kind, "the lr and kind brushes")
    lp.screenshot("parallel-brush-two-axes.png", lp.page.locator(VIEW))

    # A click on an axis (no drag) clears its brush only.
    xs, top, bottom = geometry(lp)
    lp.page.mouse.click(xs[0], top + 60)
    wait_for(lambda: set(brush(lp)) == {"p:kind"}, 5, 0.05, "the lr brush cleared")
    check(by_kind, "the kind brush")
    assert view_attr(lp, "data-selected") in (None, "")  # clearing selected nothing

    # The clear control restores the view as it was before any brush.
    clear = lp.page.locator(f"{PANEL} .hpt-filter-clear")
    assert clear.is_visible()
    clear.click()
    wait_for(lambda: view_attr(lp, "data-kept") == "", 5, 0.05, "the filter cleared")
    assert brush(lp) == {}
    assert panel.get_attribute("data-dimmed") == "0"
    assert not any(table_rows(lp).values())
    assert not clear.is_visible()
    assert canvas_digest(lp, HISTORY) == history_before


def legible_pixels(lp: LabPage) -> dict[str, Any]:
    """How many drawn pixels of the axis names (the band above the axes) and of the score's
    tick labels (right of the last axis, where no line goes) stand out from the background
    behind the panel with a WCAG contrast of 3 or more; and that contrast for the filter
    line's text colour."""
    return lp.js("""sel => {
        const canvas = document.querySelector(sel);
        const figure = canvas.closest('.hpt-parallel');
        let node = canvas, bg = 'rgba(0, 0, 0, 0)';
        while (node && /rgba\\(.*, 0\\)$|transparent/.test(bg)) {
            bg = getComputedStyle(node).backgroundColor;
            node = node.parentElement;
        }
        const rgba = css => {
            const v = css.match(/[\\d.]+/g).map(Number);
            return [v[0], v[1], v[2], v.length > 3 ? v[3] * 255 : 255];
        };
        const back = rgba(bg);
        const lum = c => {
            const l = c.map(v => v / 255).map(
                v => v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4));
            return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
        };
        // A colour with alpha seen over the background, then its contrast with it.
        const contrast = p => {
            const a = p[3] / 255;
            const seen = [0, 1, 2].map(k => p[k] * a + back[k] * (1 - a));
            const [hi, lo] = [lum(seen), lum(back)].sort((x, y) => y - x);
            return (hi + 0.05) / (lo + 0.05);
        };
        const ratio = canvas.width / canvas.clientWidth;
        const ctx = canvas.getContext('2d');
        const legible = (x0, y0, x1, y1) => {
            const d = ctx.getImageData(x0 * ratio, y0 * ratio, (x1 - x0) * ratio,
                                       (y1 - y0) * ratio).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4) {
                if (d[i + 3] > 0 && contrast([d[i], d[i + 1], d[i + 2], d[i + 3]]) >= 3) { n++; }
            }
            return n;
        };
        const xs = figure.dataset.axisX.split(',').map(Number);
        const w = canvas.clientWidth;
        const filter = getComputedStyle(figure.querySelector('.hpt-filter')).color;
        return {bg, names: legible(0, 0, w, 26),
                ticks: legible(xs[xs.length - 1] + 8, 26, w, canvas.clientHeight),
                filter: contrast(rgba(filter))};
    }""", CANVAS)


def test_axis_text_reads_on_both_themes(lab_page: LabPage) -> None:
    lp = lab_page
    seen: list[dict[str, Any]] = []

    def readable(last: list[dict[str, Any]]) -> bool:
        last[:] = [legible_pixels(lp)]
        ink = last[0]
        return ink["names"] > 20 and ink["ticks"] > 8 and ink["filter"] >= 3

    doc = study_doc(40, 3)
    open_study(lp, "parallel-themes.ipynb", doc)
    try:
        for theme in ["JupyterLab Dark", "JupyterLab Light"]:
            set_theme(lp, theme)

            try:
                wait_for(lambda: readable(seen), 10, 0.1, f"axis text that reads on {theme}")
            except AssertionError as error:
                raise AssertionError(f"{error}; last seen: {seen}") from None
            lp.page.locator("#jupyterlab-splash").wait_for(state="detached")
            lp.page.wait_for_timeout(300)  # the theme's fade-in
            lp.screenshot(f"parallel-{theme.split()[-1].lower()}.png", lp.page.locator(PANEL))
    finally:
        set_theme(lp, "JupyterLab Light")
