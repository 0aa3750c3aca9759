"""Notebook 7 (the ``notebook`` package) in a real Chromium: the labextension's study view
renders in place of the PNG and updates while a ``%%tune`` cell runs, the Tuning side panel
lists the study, and manual tuning records a trial in the study's SQLite file."""

from __future__ import annotations

import pytest
from conftest import NOTEBOOK, LabPage, follow_view, wait_for, watch_view

from hpt_magic import Study

VIEW = f"{NOTEBOOK} .hpt-StudyView"
N_TRIALS = 16
CELLS = ["%load_ext hpt_magic\nimport math", f"""\
%%tune --trials {N_TRIALS} --new --study nb7 --seed 2 --sampler random
import time
lr = tune.loguniform(1e-4, 1e-1)
for step in tune.steps(4):
    tune.report(abs(math.log10(lr) + 2.5) + 1.0 / (step + 1), step)
    time.sleep(0.04)
abs(math.log10(lr) + 2.5)
"""]


def test_the_study_view_updates_live_and_the_side_panel_lists_it(nb7_page: LabPage) -> None:
    lp = nb7_page
    lp.open_notebook("live.ipynb", CELLS)
    watch_view(lp, VIEW)
    lp.run_all()
    lp.page.locator(VIEW).wait_for()
    seen = follow_view(lp, VIEW)
    lp.wait_idle()
    assert any(status == "running" and 0 < n < N_TRIALS for n, status in seen), seen
    assert seen[-1] == (N_TRIALS, "finished")
    text = lp.page.locator(f"{VIEW} .hpt-progress-text").inner_text()
    assert text.startswith(f"finished · {N_TRIALS} / {N_TRIALS} trials")
    # The renderer wins over the PNG that travels in the same output.
    cell = lp.page.locator(f"{NOTEBOOK} .jp-Cell").nth(1)
    assert cell.locator(".jp-OutputArea-output img").count() == 0
    assert cell.locator(".hpt-StudyView canvas").count() >= 3
    lp.screenshot("notebook7-study-view.png", lp.page.locator(VIEW))

    lp.js("() => window.jupyterapp.shell.activateById('hpt-magic-tuning')")
    rows = lp.page.locator("#hpt-magic-tuning li")
    wait_for(lambda: rows.count() == 1, 30, 0.1, "the study in Notebook 7's side panel")
    assert rows.locator(".hpt-TuningPanel-name").inner_text() == "nb7 · cell 2"
    assert rows.locator(".hpt-TuningPanel-line").inner_text().startswith(
        f"finished · {N_TRIALS} / {N_TRIALS} trials")
    lp.screenshot("notebook7-page.png")


def test_manual_tuning_records_a_trial(nb7_page: LabPage) -> None:
    lp = nb7_page
    lp.open_notebook("manual.ipynb", ["""from hpt_magic import Float, Study
from hpt_magic.widgets import ManualTuner

study = Study(space={"x": Float(0, 10)}, name="nb7-manual", storage="nb7.db", new=True)
ManualTuner(study, lambda trial: (trial.params["x"] - 3) ** 2)
"""])
    lp.run_all()
    tuner = lp.page.locator(f"{NOTEBOOK} .hpt-manual-tuner")
    tuner.locator(".widget-slider").first.wait_for()
    lp.wait_idle()
    tuner.locator("button", has_text="Run").click()
    tuner.locator(".widget-html", has_text="Trial 0 complete").wait_for()
    (trial,) = Study(name="nb7-manual", storage=lp.lab.root / "nb7.db").trials
    assert trial.manual and trial.state.value == "complete"
    assert trial.value == pytest.approx((trial.params["x"] - 3) ** 2)
