"""The study view of a multi-objective study in real JupyterLab and Chromium: the Pareto front
(a step line for two objectives, the pairs for three), infeasible trials as crosses of their
own colour, the hypervolume over trials, tooltips with every value and metric, and a click
that highlights the trial in every chart. The documents come from real studies."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import LabPage
from test_labextension import VIEW, find_trial_point, output_cell, selected_pixels, view_attr
from test_study_view import colour_pixels

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_pareto_plots import three_objectives, two_objectives  # noqa: E402

from hpt_magic.display import study_json  # noqa: E402

PARETO = f"{VIEW} .hpt-pareto canvas"
INFEASIBLE_RGB = (227, 119, 194)


def test_two_objectives_front_infeasible_tooltip_and_selection(lab_page: LabPage) -> None:
    lp = lab_page
    study = two_objectives(120)
    lp.open_notebook("pareto.ipynb", [output_cell(study_json(study))], kernel=False)
    view = lp.page.locator(VIEW)
    view.locator(".hpt-pareto figcaption").wait_for()
    assert view.locator(".hpt-history").is_hidden()
    infeasible = [t for t in study.trials if t.feasible is False]
    caption = view.locator(".hpt-pareto figcaption").inner_text()
    assert caption == (f"Pareto front: {len(study.best_trials)} of {len(study.trials)} trials, "
                       f"{len(infeasible)} infeasible")
    hv = view.locator(".hpt-hypervolume figcaption").inner_text()
    assert hv == f"Hypervolume over trials (last {float(f'{study.hypervolume():.4g}'):g})"
    legend = view.locator(".hpt-legend .hpt-key").all_inner_texts()
    assert "infeasible" in legend and "Pareto front" in legend and "best trial" not in legend
    assert colour_pixels(lp, PARETO, INFEASIBLE_RGB) > 10 * len(infeasible)
    assert colour_pixels(lp, PARETO, (255, 127, 14)) > 20 * len(study.best_trials)

    target = infeasible[0]
    point = find_trial_point(lp, PARETO, target.number)
    assert point, f"trial {target.number} cannot be hovered in the Pareto chart"
    lp.page.mouse.move(point["x"], point["y"])
    tip = view.locator(".hpt-tooltip")
    tip.wait_for(state="visible")
    lines = tip.locator("div").all_inner_texts()
    assert lines[0] == f"Trial #{target.number}"
    assert [line.split(":")[0] for line in lines[2:6]] == [
        "accuracy", "latency_ms", "infeasible", "size_mb"]
    assert lines[4] == "infeasible: breaks a constraint (size_mb <= 20)"
    assert sum(line.startswith("accuracy") for line in lines) == 1
    before = selected_pixels(lp, PARETO)
    lp.page.mouse.click(point["x"], point["y"])
    assert view_attr(lp, "data-selected") == str(target.number)
    assert selected_pixels(lp, PARETO) > before
    assert selected_pixels(lp, f"{VIEW} .hpt-param canvas") > 0
    lp.screenshot("pareto-two-objectives.png", view)


def test_three_objectives_show_the_pairs(lab_page: LabPage) -> None:
    lp = lab_page
    study = three_objectives(80)
    lp.open_notebook("pairs.ipynb", [output_cell(study_json(study))], kernel=False)
    view = lp.page.locator(VIEW)
    view.locator(".hpt-pairs .hpt-pareto figcaption").first.wait_for()
    captions = view.locator(".hpt-pairs .hpt-pareto figcaption").all_inner_texts()
    assert captions == [f"Pareto front: {len(study.best_trials)} of {len(study.trials)} trials",
                        "size_mb against accuracy", "size_mb against latency_ms"]
    assert view.locator(".hpt-hypervolume").is_visible()
    lp.screenshot("pareto-three-objectives.png", view)
