"""Manual tuning in a real JupyterLab and Chromium: drag a slider, click Run, find the manual
trial in the study's SQLite file; a value typed out of range is clamped, and a failing run shows
its error while the panel stays usable."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import NOTEBOOK, LabPage, wait_for
from test_study_view import set_theme

from hpt_magic import Study

TUNER = f"{NOTEBOOK} .hpt-manual-tuner"
SETUP = """%load_ext hpt_magic
from IPython.display import HTML, display
from hpt_magic import Choice, Float, Study
from hpt_magic.widgets import ManualTuner

study = Study(space={"x": Float(0, 10), "kind": Choice(["a", "b"])}, name="browser",
              storage="widgets.db", direction="maximize", new=True)

def objective(trial):
    print("ran with x =", trial.params["x"])
    display(HTML("<b class='rich-output'>rich output</b>"))
    if trial.params["x"] > 9.5:
        raise ValueError("x is too large")
    return trial.params["x"]

ManualTuner(study, objective)
"""


def stored_trials(lp: LabPage) -> list[Any]:
    return Study(name="browser", storage=lp.lab.root / "widgets.db",
                 direction="maximize").trials


@pytest.fixture
def tuner(lab_page: LabPage) -> LabPage:
    lab_page.open_notebook("manual.ipynb", [SETUP])
    lab_page.run_all()
    lab_page.page.locator(f"{TUNER} .widget-slider").first.wait_for()
    lab_page.wait_idle()
    return lab_page


def run_and_wait(lp: LabPage, message: str) -> None:
    lp.page.locator(f"{TUNER} button", has_text="Run").click()
    lp.page.locator(f"{TUNER} .widget-html", has_text=message).wait_for()


def test_drag_a_slider_and_run_records_a_manual_trial(tuner: LabPage) -> None:
    page = tuner.page
    slider = page.locator(f"{TUNER} .widget-slider").first
    readout = slider.locator(".widget-readout")
    assert readout.inner_text().strip() == "5"
    handle = slider.locator(".noUi-handle").bounding_box()
    track = slider.locator(".noUi-target").bounding_box()
    y = handle["y"] + handle["height"] / 2
    page.mouse.move(handle["x"] + handle["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(track["x"] + 0.8 * track["width"], y, steps=8)
    page.mouse.up()
    shown = float(wait_for(lambda: readout.inner_text().strip() != "5" and readout.inner_text(),
                           10, message="the readout to follow the slider"))
    assert 6 < shown < 10

    run_and_wait(tuner, "Trial 0 complete")
    output = page.locator(f"{TUNER} .widget-output").first
    assert "ran with x =" in output.inner_text()
    assert output.locator(".rich-output").count() == 1
    (trial,) = stored_trials(tuner)
    assert trial.manual and trial.state.value == "complete"
    assert trial.params["x"] == pytest.approx(shown, abs=0.05)
    best = page.locator(f"{TUNER} .widget-html", has_text="Best:").inner_text()
    assert "trial 0, manual" in best
    tuner.screenshot("manual-tuner.png", page.locator(TUNER))

    # A value typed beyond the range is clamped by the slider, never stored as typed; the
    # objective fails there: the error shows, the trial is stored failed, the panel works on.
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("99")
    page.keyboard.press("Enter")
    wait_for(lambda: readout.inner_text().strip() == "10", 10, message="the clamped readout")
    run_and_wait(tuner, "Trial 1 failed: ValueError: x is too large")
    assert "ValueError: x is too large" in output.inner_text()
    failed = stored_trials(tuner)[1]
    assert failed.params["x"] == 10.0 and failed.state.value == "failed"
    assert page.locator(f"{TUNER} button:disabled").count() == 0
    slider.locator(".noUi-handle").focus()
    page.keyboard.press("Home")
    wait_for(lambda: readout.inner_text().strip() == "0", 10, message="the slider at its start")
    run_and_wait(tuner, "Trial 2 complete")
    assert [t.params["x"] for t in stored_trials(tuner)] == [trial.params["x"], 10.0, 0.0]


def test_a_parameter_name_is_shown_as_text_not_typeset(lab_page: LabPage) -> None:
    # A study from a shared file may name a parameter with TeX: MathJax typesets widget
    # descriptions and labels, where "$...$" would be math and \href a link. A short name is
    # the slider's description, a long one a label on its own line above the slider.
    short, name = r"$\alpha$ \(x\) a\$b", r"$\href{https://example.com}{click}$ \(x\) a\$b"
    lab_page.open_notebook("tex.ipynb", [f"""%load_ext hpt_magic
from hpt_magic import Choice, Float, Study
from hpt_magic.widgets import ManualTuner

ManualTuner(Study(space={{{short!r}: Float(0, 1), {name!r}: Float(0, 1),
                          "k": Choice([1, "1", True])}}),
            lambda t: 1.0, dashboard=False)
"""])
    lab_page.run_all()
    label = lab_page.page.locator(f"{TUNER} .widget-slider .widget-label").first
    own_line = lab_page.page.locator(f"{TUNER} .hpt-param-name").first
    label.wait_for()
    lab_page.wait_idle()
    for shown, text in ((label, short), (own_line, name)):
        wait_for(lambda s=shown, t=text: s.inner_text() == t, 10, message=f"{text} as it is")
        assert shown.locator("mjx-container, a").count() == 0
    # The slider under a name on its own line starts in the column of the others.
    tracks = lab_page.page.locator(f"{TUNER} .widget-slider .slider-container")
    lefts = [tracks.nth(i).bounding_box()["x"] for i in range(2)]
    assert abs(lefts[0] - lefts[1]) < 2, lefts
    # Options that print alike are told apart on their buttons.
    buttons = lab_page.page.locator(f"{TUNER} .widget-toggle-buttons button")
    assert buttons.all_inner_texts() == ["1", "'1'", "True"]
    lab_page.screenshot("manual-tuner-labels.png", lab_page.page.locator(TUNER).first)
    set_theme(lab_page, "JupyterLab Dark")
    try:
        # The selected option carries a bar, not only a shade of grey, in the dark theme too,
        # also clicked (focused) and under the pointer.
        buttons.first.click()
        shadows = lab_page.js("sel => [...document.querySelectorAll(sel)].map("
                              "b => getComputedStyle(b).boxShadow)",
                              f"{TUNER} .widget-toggle-buttons button")
        assert "inset" in shadows[0] and all("inset" not in s for s in shadows[1:]), shadows
        lab_page.screenshot("manual-tuner-labels-dark.png", lab_page.page.locator(TUNER).first)
    finally:
        set_theme(lab_page, "JupyterLab Light")
