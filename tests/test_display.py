"""The dashboard: panel data, throttle, JSON document, rendered images and the summary."""

from __future__ import annotations

import base64
import html
import io
import json
import math

import matplotlib
import numpy as np
import pytest
from IPython.core.formatters import DisplayFormatter
from matplotlib import _pylab_helpers
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image

from hpt_magic import Choice, Float, Int, Study, TuneError
from hpt_magic import display as hd
from hpt_magic.notebook import _dashboard as dm
from hpt_magic.visualization import _panels
from hpt_magic.visualization._layout import DashboardFigure, dashboard_figure, png_bytes

MIME = "application/vnd.hpt-magic.study+json"


def artist(fig, gid):
    """The one artist of ``fig`` with this gid."""
    found = [a for ax in fig.axes for a in ax.get_children() if a.get_gid() == gid]
    assert len(found) == 1, f"{gid}: {len(found)} artists"
    return found[0]


def gids(fig):
    return {a.get_gid() for ax in fig.axes for a in ax.get_children()} - {None}


def scored(values, direction="minimize", states=None, manual=()):
    """A study with one trial per value (``None``: failed) in the given states."""
    study = Study(space={"x": Float(0, 1)}, direction=direction, seed=0)
    for i, v in enumerate(values):
        t = study.ask(manual=i in manual)
        study.tell(t, v, state=(states or {}).get(i))
    return study


def curves(n, steps=5, pruned=(), seed=0):
    """A maximised study whose trial ``i`` reports ``steps`` rising values."""
    rng = np.random.default_rng(seed)
    study = Study(space={"x": Float(0, 1)}, direction="maximize", seed=seed)
    for i in range(n):
        t = study.ask()
        k = 2 if i in pruned else steps
        scale = rng.random()
        for s in range(k):
            t.report(scale * (s + 1), s)
        study.tell(t, state="pruned" if i in pruned else None)
    return study


def decode(png):
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(png))))


class FakeClock:
    """Tenths of a second, advanced by hand: no float drift."""

    def __init__(self):
        self.ticks = 0

    def __call__(self):
        return self.ticks / 10

    def advance(self, seconds):
        self.ticks += round(seconds * 10)


# -- panels ----------------------------------------------------------------------------------
def test_history_best_so_far_follows_the_direction():
    values = [3.0, 1.0, 2.0, 0.5, 4.0]
    low = artist(hd.plot_history(scored(values)), "best-so-far")
    high = artist(hd.plot_history(scored(values, "maximize")), "best-so-far")
    # One point per complete trial, extended to the last trial number.
    assert list(low.get_xdata()) == [0, 1, 2, 3, 4, 4]
    assert list(low.get_ydata()) == [3.0, 1.0, 1.0, 0.5, 0.5, 0.5]
    assert list(high.get_ydata()) == [3.0, 3.0, 3.0, 3.0, 4.0, 4.0]


def test_history_draws_states_apart():
    study = scored([1.0, 2.0, 0.5, "oops", 0.7, 0.9],
                   states={1: "pruned", 5: "interrupted"}, manual={4})
    fig = hd.plot_history(study)
    assert list(artist(fig, "history-complete").get_xdata()) == [0, 2]
    assert list(artist(fig, "history-pruned").get_xdata()) == [1]
    assert list(artist(fig, "history-manual").get_xdata()) == [4]
    failed = artist(fig, "history-failed")  # "oops" is not a number: failed, at the bottom
    assert list(failed.get_xdata()) == [3]
    assert failed.get_marker() == "x"
    assert failed.get_transform() != fig.axes[0].transData
    assert list(artist(fig, "history-interrupted").get_xdata()) == [5]
    assert list(artist(fig, "history-best").get_xdata()) == [2]


def test_curves_fade_old_trials_and_highlight_the_best():
    study = curves(30, pruned={3, 7})
    fig = hd.plot_curves(study)
    lines = artist(fig, "curves")
    alphas = lines.get_colors()[:, 3]
    assert len(alphas) == 30
    assert np.all(np.diff(alphas) > 0), "older curves are fainter"
    assert alphas[-1] == pytest.approx(_panels.ALPHA_MAX)
    best = study.best_trial
    line = artist(fig, "curves-best")
    assert list(line.get_ydata()) == [best.intermediate[s] for s in sorted(best.intermediate)]
    stops = artist(fig, "curves-stops").get_offsets()
    assert sorted(map(tuple, stops)) == sorted(
        (1.0, study.trial(n).intermediate[1]) for n in (3, 7))


def test_many_curves_become_a_band():
    fig = hd.plot_curves(curves(_panels.MAX_CURVES + 40, steps=3))
    assert len(artist(fig, "curves").get_segments()) == _panels.MAX_CURVES
    assert "curves-band" in gids(fig)


def test_curves_link_a_pbt_child_to_its_parent():
    study = Study(space={"x": Float(0, 1)})
    parent = study.ask()
    for s in range(4):
        parent.report(float(s), s)
    study.tell(parent)
    child = study.ask()
    child.user_attrs["parent"] = parent.number
    for s in range(4, 6):
        child.report(10.0 + s, s)
    study.tell(child)
    (segment,) = artist(hd.plot_curves(study), "lineage").get_segments()
    assert segment.tolist() == [[3.0, 3.0], [4.0, 14.0]]


def test_params_panel_uses_log_axes_and_categories():
    study = Study(space={"lr": Float(1e-4, 1, log=True), "depth": Int(1, 8),
                         "act": Choice(["relu", "tanh"])}, seed=0)
    study.optimize(lambda t: t.params["depth"] + (t.params["act"] == "tanh"), n_trials=12)
    fig = hd.plot_params(study)
    by_title = {ax.get_title(loc="left"): ax for ax in fig.axes}
    assert by_title["lr"].get_xscale() == "log"
    assert by_title["depth"].get_xscale() == "linear"
    act = by_title["act"]
    assert [t.get_text() for t in act.get_xticklabels()] == ["relu", "tanh"]
    xs = artist(fig, "param:act").get_xdata()
    assert len(xs) == 12
    labels = [t.params["act"] for t in study.trials]
    # Jittered around the category's index, the same at every redraw.
    assert np.all(np.abs(xs - [0 if a == "relu" else 1 for a in labels]) <= 0.25)
    assert np.array_equal(xs, artist(hd.plot_params(study), "param:act").get_xdata())


def test_params_panel_without_a_score_shows_the_ranges_and_no_score_scale():
    # A manual tuner's view before its first run: nothing to place on y.
    study = Study(space={"lr": Float(1e-4, 1, log=True), "act": Choice(["relu", "tanh"])})
    fig = hd.plot_params(study)
    by_title = {ax.get_title(loc="left"): ax for ax in fig.axes}
    assert set(by_title) == {"lr", "act"}
    for ax in by_title.values():
        assert list(ax.get_yticks()) == []
    assert by_title["lr"].get_xscale() == "log"
    assert [t.get_text() for t in by_title["act"].get_xticklabels()] == ["relu", "tanh"]
    # With scores the scale is back, also on a figure drawn empty before (the manual
    # tuner's view redraws its figure after each run).
    board = DashboardFigure()
    board.draw(study, None, "no trial yet")
    study.enqueue({"lr": 0.01, "act": "relu"})
    study.enqueue({"lr": 0.1, "act": "tanh"})
    study.optimize(lambda t: t.params["lr"], n_trials=2)
    assert all(len(ax.get_yticks()) for ax in hd.plot_params(study).axes)
    fig = board.draw(study, None, "2 trials")
    panels = [ax for ax in fig.axes if ax.get_title(loc="left") in ("lr", "act")]
    assert len(panels) == 2 and all(len(ax.get_yticks()) for ax in panels)


def test_importance_panel_appears_when_the_study_computes_importances():
    class Ranked(Study):
        def importances(self):
            return {"y": 0.8, "x": 0.2}

    study = Ranked(space={"x": Float(0, 1), "y": Float(0, 1)}, seed=0)
    study.optimize(lambda t: t.params["x"], n_trials=5)
    fig = hd.plot(study)
    assert "importances" in gids(fig)
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles.index("y") < titles.index("x"), "parameters ordered by importance"
    assert "importances" not in gids(hd.plot(study, importances=False))


def test_importance_panel_is_skipped_when_importances_have_no_answer():
    class TooFew(Study):
        def importances(self):
            raise TuneError("needs more complete trials")

    study = TooFew(space={"x": Float(0, 1)}, seed=0)
    study.optimize(lambda t: t.params["x"], n_trials=2)
    assert "importances" not in gids(hd.plot(study))
    assert "importances" not in gids(hd.plot(Study(space={"x": Float(0, 1)})))  # real one


def test_an_error_inside_the_importance_forest_surfaces(monkeypatch):
    from hpt_magic.study import _export

    def broken(*args):
        raise ValueError("Input X contains NaN.")

    monkeypatch.setattr(_export, "_main_effects", broken)
    study = Study(space={"x": Float(0, 1)}, seed=0)
    study.optimize(lambda t: t.params["x"], n_trials=6)
    with pytest.raises(ValueError, match="contains NaN"):
        hd.plot(study)


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_every_view_of_the_best_trial_is_the_studys(direction):
    values = [0.5, 0.2, 0.9, 0.2, 0.9, 0.5]
    study = scored(values, direction)
    best = study.best_trial
    assert best.number == (1 if direction == "minimize" else 2), "ties go to the first"
    assert hd.study_json(study)["progress"]["best"] == {"number": best.number,
                                                        "value": best.value}
    fig = hd.plot(study, importances=False)
    assert list(artist(fig, "history-best").get_xdata()) == [best.number]
    bundles = []
    dash = hd.Dashboard(study, clock=FakeClock(), output=bundles.append, min_interval=100)
    assert dash.bundle(image=False)[MIME]["progress"]["best"]["number"] == best.number
    table = hd.summary_text(study, k=3).split("Top 3 trials:\n")[1].splitlines()[1:]
    assert [row.split()[0] for row in table] == [str(t.number) for t in study.top_trials(3)]


def test_final_dashboard_ranks_parameters_after_a_long_run_only():
    calls = []

    class Ranked(Study):
        def importances(self):
            calls.append(len(self.trials))
            return {"x": 1.0}

    def run(seconds):
        clock = FakeClock()
        study = Ranked(space={"x": Float(0, 1)}, seed=0)
        hd.Dashboard(study, clock=clock, output=lambda bundle: None, min_interval=100)

        def objective(trial):
            clock.advance(seconds / 3)
            return trial.params["x"]

        study.optimize(objective, n_trials=3)

    run(5.0)
    assert calls == []
    run(dm.IMPORTANCES_AFTER)
    assert calls == [3]


def test_text_is_never_mathtext():
    study = Study(space={"a$b": Choice(["$x$", "<b>"])}, seed=0)
    study.optimize(lambda t: 1.0, n_trials=3)
    buf = io.BytesIO()
    hd.plot(study).savefig(buf, format="png")  # "$x$" would fail, or render as math
    assert buf.getvalue().startswith(b"\x89PNG")


def test_text_is_never_latex_even_with_usetex_on():
    # A matplotlibrc with text.usetex would hand a parameter name to LaTeX: \input prints a
    # file into the image, and a plain "learning_rate" fails. (No LaTeX is needed to pass.)
    study = Study(space={"learning_rate": Float(0, 1), r"\input{/etc/hostname}":
                         Choice(["a_b", "50%"])}, objectives=["val_loss"], seed=0)
    study.optimize(lambda t: {"val_loss": 1.0}, n_trials=3)
    with matplotlib.rc_context({"text.usetex": True}):
        figures = [hd.plot(study), hd.plot_history(study), hd.plot_params(study),
                   dashboard_figure(study, headline="study 'a_b'"), hd.plot_curves(study)]
        for fig in figures:
            assert png_bytes(fig).startswith(b"\x89PNG")
        own = Figure().add_subplot()  # a caller's Axes: its ticks are the caller's business
        hd.plot_history(study, ax=own)
    assert not any(t.get_usetex() for fig in figures for t in fig.findobj(Text))
    assert own.get_ylabel() == "val_loss ↓" and not own.yaxis.label.get_usetex()
    assert not any(t.get_usetex() for t in own.get_legend().get_texts())


@pytest.mark.parametrize("plot", [hd.plot_history, hd.plot_curves])
def test_plot_on_a_callers_axes_leaves_its_other_text_to_usetex(plot):
    # Only the text we draw is kept from LaTeX: the caller's titles, notes and other Axes,
    # set before or after, keep the rc setting they were made with.
    def objective(trial):
        trial.report(trial.params["x"], step=1)
        return trial.params["x"]

    study = Study(space={"x": Float(0, 1)}, seed=0)
    study.optimize(objective, n_trials=3)
    with matplotlib.rc_context({"text.usetex": True}):
        fig = Figure()
        own, other = fig.subplots(1, 2)
        theirs = [fig.suptitle(r"$\alpha$ runs"), own.text(0.1, 0.1, r"$\beta$"),
                  other.set_title(r"$\delta$")]
        plot(study, ax=own)
        theirs += [own.text(0.2, 0.2, r"$\epsilon$"), own.set_title(r"$\zeta$", loc="center")]
    assert all(t.get_usetex() for t in theirs)
    assert all(t.get_usetex() for t in own.get_xticklabels() + own.get_yticklabels())
    title = [t for t in own.findobj(Text) if t.get_text() == own.get_title(loc="left")]
    ours = [own.xaxis.label, own.yaxis.label, *title]
    assert len(ours) == 3 and not any(t.get_usetex() for t in ours)


def test_plots_leave_no_pyplot_figure_behind():
    before = len(_pylab_helpers.Gcf.get_all_fig_managers())
    fig = hd.plot(curves(5))
    assert isinstance(fig, Figure)
    assert len(_pylab_helpers.Gcf.get_all_fig_managers()) == before


def test_figures_show_as_png_in_ipython_without_pyplot():
    data, _ = DisplayFormatter().format(hd.plot_history(curves(3)))
    assert data["image/png"].startswith(b"\x89PNG")  # raw bytes; the kernel encodes them


def test_figures_carry_an_alternative_text_into_an_html_export(shell):
    # What an HTML export writes as the image's "alt" and a screen reader says. JupyterLab's
    # export reads no alt from a PNG's metadata: the figure also travels as an <img> in HTML.
    import nbformat
    from nbconvert import HTMLExporter

    study = curves(3)
    formatter = shell.display_formatter
    data, md = formatter.format(hd.plot_history(study))
    alt = md["image/png"]["alt"]
    assert alt.startswith(f"History. Study '{study.name}': 3 complete") and "Best " in alt
    assert f'alt="{html.escape(alt)}"' in data["text/html"]
    assert base64.b64encode(data["image/png"]).decode() in data["text/html"]
    # The export has it, and no image without one.
    data["image/png"] = base64.b64encode(data["image/png"]).decode()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[
        nbformat.v4.new_output("display_data", data=data, metadata=md)])])
    page, _ = HTMLExporter().from_notebook_node(nb)
    assert f'alt="{html.escape(alt, quote=False)}"' in page.replace("&#x27;", "'")
    assert "No description has been provided" not in page
    # Several studies: each named. A figure drawn on the caller's own Axes is the caller's.
    other = curves(2)
    assert f"'{study.name}', '{other.name}'" in hd.plot_edf(study, other).alt_text()
    own = Figure()
    assert hd.plot_history(study, ax=own.add_subplot()) is own
    assert "text/html" not in formatter.format(own)[0]


def test_a_figure_printer_of_ipythons_draws_the_figure_alone(shell):
    # matplotlib's inline backend registers a printer for every Figure (PNG, retina, SVG): it
    # draws the figure, once; the alternative text still travels, as the PNG's metadata.
    drawn = []

    def retina(fig):
        drawn.append(fig)
        return b"\x89PNG retina", {"width": 320, "height": 190}

    png = shell.display_formatter.formatters["image/png"]
    png.for_type(Figure, retina)
    try:
        data, md = shell.display_formatter.format(hd.plot_curves(curves(3)))
    finally:
        png.pop(Figure)
    assert len(drawn) == 1 and data["image/png"] == b"\x89PNG retina"
    assert "text/html" not in data
    # (the printer's own metadata wins: the kernel has width and height, no alt, as before)
    assert md["image/png"] == {"width": 320, "height": 190}
    # An SVG printer (set_matplotlib_formats("svg")) draws it alone too.
    svg = shell.display_formatter.formatters["image/svg+xml"]
    svg.for_type(Figure, lambda fig: drawn.append(fig) or "<svg/>")
    try:
        data, md = shell.display_formatter.format(hd.plot_curves(curves(3)))
    finally:
        svg.pop(Figure)
    assert len(drawn) == 2 and set(data) >= {"image/svg+xml"} and "text/html" not in data
    # Where no image is shown (a terminal: text only), nothing is drawn.
    active = shell.display_formatter.active_types
    shell.display_formatter.active_types = ["text/plain"]
    try:
        data, md = shell.display_formatter.format(hd.plot_curves(curves(3)))
    finally:
        shell.display_formatter.active_types = active
    assert set(data) == {"text/plain"}


# -- dashboard -------------------------------------------------------------------------------
def run_dashboard(n, step=0.1, **kwargs):
    clock = FakeClock()
    bundles = []
    study = Study(space={"x": Float(0, 1)}, seed=0)
    dash = hd.Dashboard(study, clock=clock, output=bundles.append, **kwargs)

    def objective(trial):
        clock.advance(step)
        trial.report(trial.params["x"], 0)
        return trial.params["x"]

    study.optimize(objective, n_trials=n)
    return study, dash, bundles


def test_throttle_limits_updates_to_min_interval():
    _, dash, bundles = run_dashboard(10, min_interval=0.5)
    # The progress line at 0 s; the first image as soon as trial 0 finished (0.1 s); then at
    # most one update per 0.5 s (0.6 s, trial 4), keeping that image; the final state drawn.
    assert dash.updates == len(bundles) == 4
    assert set(bundles[0]) == {"text/plain", MIME}
    for b in bundles[1:-1]:
        assert set(b) == {"image/png", "text/plain", MIME}
    # The final one also as HTML: the image with its alternative text, for exports.
    assert set(bundles[-1]) == {"image/png", "text/html", "text/plain", MIME}
    assert [b[MIME]["progress"]["done"] for b in bundles] == [0, 1, 5, 10]
    assert bundles[-1][MIME]["progress"]["status"] == "finished"
    assert bundles[-1]["text/plain"].startswith("Finished: 10/10 trials")
    # The fake clock makes drawing free: the budget allows the image at 0.6 s too.
    assert dash.drawings == 3


def test_first_image_comes_with_the_first_finished_trial_then_stays():
    # Front ends without the extension (VS Code, Colab, nbconvert) show only the PNG: it must
    # not wait for the drawing budget (FIRST_DRAWING / BUDGET = 3.3 s) in a short study.
    _, dash, bundles = run_dashboard(60, min_interval=0.5)
    elapsed = [b[MIME]["progress"]["elapsed"] for b in bundles]
    assert min(np.diff(elapsed[2:-1])) >= 0.5
    with_image = ["image/png" in b for b in bundles]
    first = with_image.index(True)
    assert bundles[first][MIME]["progress"]["done"] == 1
    assert elapsed[first] == pytest.approx(0.1)
    assert all(with_image[first:])


def test_throttle_keeps_drawing_within_its_budget():
    clock = FakeClock()
    bundles = []

    def slow_output(bundle):
        # A new image costs 0.2 s, a light update (same image or none) 0.01 s.
        drawn = len(bundles) and bundle.get("image/png") != bundles[-1].get("image/png")
        clock.advance(0.2 if drawn else 0.01)
        bundles.append(bundle)

    study = Study(space={"x": Float(0, 1)}, seed=0)
    dash = hd.Dashboard(study, clock=clock, output=slow_output, min_interval=0.1)

    def objective(trial):
        clock.advance(0.1)
        return trial.params["x"]

    study.optimize(objective, n_trials=400)
    wall = clock()
    assert 2 < dash.drawings < 10
    # Drawing: over budget by at most the first image's cost above the guess, and the final.
    assert dash.drawing_seconds <= dm.BUDGET * wall + (0.2 - dm.FIRST_DRAWING) + 0.2 + 1e-9
    light = dash.seconds - dash.drawing_seconds
    assert dash.updates - dash.drawings > 10
    assert light <= dm.LIGHT_BUDGET * wall + 0.01 + 1e-9


def test_images_are_not_blank_and_change():
    _, _, bundles = run_dashboard(60)
    images = [b["image/png"] for b in bundles if "image/png" in b]
    first, last = decode(images[0]), decode(images[-1])
    assert first.shape[0] > 200 and first.shape[1] > 600
    assert len(np.unique(first.reshape(-1, first.shape[-1]), axis=0)) > 10
    assert not np.array_equal(first, last)


def test_modes_final_and_none():
    _, dash, bundles = run_dashboard(5, mode="final")
    assert len(bundles) == 1 and "image/png" in bundles[0]
    _, dash, bundles = run_dashboard(5, mode="none")
    assert bundles == [] and dash.updates == 0
    with pytest.raises(TuneError, match="mode"):
        hd.Dashboard(Study(), mode="sometimes")


def test_close_unsubscribes_and_shows_the_final_state_once():
    clock = FakeClock()
    bundles = []
    study = Study(space={"x": Float(0, 1)}, seed=0)
    dash = hd.Dashboard(study, n_trials=3, clock=clock, output=bundles.append)
    t = study.ask()
    clock.advance(1)
    study.tell(t, 0.5)
    dash.close()
    dash.close()
    n = len(bundles)
    assert bundles[-1][MIME]["progress"]["status"] == "finished"
    assert bundles[-1]["text/plain"].startswith("Finished: 1/3 trials")
    clock.advance(5)
    study.tell(study.ask(), 0.1)
    assert len(bundles) == n


def test_stop_and_interrupt_end_in_their_status():
    clock = FakeClock()
    bundles = []
    study = Study(space={"x": Float(0, 1)}, seed=0)
    hd.Dashboard(study, clock=clock, output=bundles.append)

    def stopping(trial):
        if trial.number == 2:
            study.stop()
        return 1.0

    study.optimize(stopping, n_trials=10)
    assert bundles[-1][MIME]["progress"]["status"] == "stopped"

    hd.Dashboard(study, clock=clock, output=bundles.append)

    def interrupted(trial):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        study.optimize(interrupted, n_trials=10)
    assert bundles[-1][MIME]["progress"]["status"] == "interrupted"
    assert bundles[-1]["text/plain"].startswith("Interrupted: ")
    # The trial the interrupt cut short is counted: the line adds up.
    assert "3 complete, 0 pruned, 0 failed, 1 interrupted · " in bundles[-1]["text/plain"]


def test_progress_line_counts_best_and_eta():
    clock = FakeClock()
    bundles = []
    study = Study(space={"x": Float(0, 1)}, direction="maximize", seed=0)
    dash = hd.Dashboard(study, n_trials=4, clock=clock, output=bundles.append,
                        min_interval=100)
    for value, state in [(0.5, None), (0.9, None), (0.2, "pruned")]:
        clock.advance(1)
        study.tell(study.ask(), value, state=state)
    line = dash.bundle(image=False)["text/plain"]
    assert line == ("3/4 trials · 2 complete, 1 pruned, 0 failed · best 0.9 (trial 1) · "
                    "3.0 s, ETA 1.0 s")


# -- JSON document ---------------------------------------------------------------------------
def test_study_json_follows_the_schema():
    study = Study(space={"lr": Float(1e-3, 1, log=True), "n": Int(1, 4),
                         "act": Choice(["<b>relu</b>", "$tanh$"])}, direction="maximize",
                  seed=0, name="a <study>")
    t = study.ask()
    t.report(float("nan"), 0)
    t.report(0.5, 1)
    study.tell(t, 0.5)
    study.tell(study.ask(), float("inf"))  # not finite: failed
    manual = study.ask(params={"act": "$tanh$"}, manual=True)
    manual.user_attrs["parent"] = 0
    study.tell(manual, 0.7)
    running = study.ask()
    doc = hd.study_json(study)
    json.dumps(doc, allow_nan=False)
    assert doc["version"] == 1
    assert doc["study"] == {"name": "a <study>", "direction": "maximize", "sampler": "random",
                            "scheduler": None}
    p = doc["progress"]
    assert set(p) == {"status", "done", "planned", "timeout", "elapsed", "eta", "counts", "sampled",
                      "best", "reason", "space_size"}
    assert p["counts"] == {"complete": 2, "pruned": 0, "failed": 1, "running": 1,
                           "interrupted": 0, "waiting": 0}
    assert p["best"] == {"number": 2, "value": 0.7}
    assert p["status"] == "running" and p["done"] == 3
    assert doc["params"] == [
        {"name": "lr", "type": "float", "low": 1e-3, "high": 1.0, "log": True},
        {"name": "n", "type": "int", "low": 1, "high": 4, "log": False},
        {"name": "act", "type": "choice", "options": ["<b>relu</b>", "$tanh$"]}]
    first, failed, man, run = doc["trials"]
    assert set(first) == {"number", "state", "value", "params", "curve", "manual", "error",
                          "parent", "values", "metrics", "feasible", "started", "finished",
                          "worker", "worker_name"}
    assert first["values"] == [first["value"]] and first["feasible"] is None
    assert first["curve"] == [[0, None], [1, 0.5]]
    assert failed["state"] == "failed" and failed["value"] is None and "inf" in failed["error"]
    assert man["manual"] is True and man["parent"] == 0 and man["params"]["act"] == "$tanh$"
    assert run["state"] == "running" and run["number"] == running.number


def test_dashboard_json_reports_the_run():
    _, _, bundles = run_dashboard(4)
    p = bundles[-1][MIME]["progress"]
    assert p["planned"] == 4 and p["done"] == 4 and p["eta"] is None
    assert p["elapsed"] == pytest.approx(0.4)
    assert [t["number"] for t in bundles[-1][MIME]["trials"]] == [0, 1, 2, 3]


# -- summary ---------------------------------------------------------------------------------
def test_summary_lists_the_top_five_and_escapes_html():
    study = Study(space={"act": Choice(["<script>", "b"])}, seed=0)
    # The score depends on the trial number, not on the parameters: repeats must run.
    study.optimize(lambda t: len(t.number * "x"), n_trials=8, on_repeat="run")
    text = hd.summary_text(study, elapsed=1.0, n_new=8)
    table = text.split("Top 5 trials:\n")[1].splitlines()
    assert table[0].split() == ["trial", "score", "act", "time"]
    assert [row.split()[0] for row in table[1:]] == ["0", "1", "2", "3", "4"]
    html = hd.summary_html(study, text="done <now>")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "done &lt;now&gt;" in html and html.count("<tr>") == 6


def test_show_summary_prints_outside_ipython(capsys):
    study = scored([2.0, 1.0])
    hd.show_summary(study, elapsed=2.0, n_new=2)
    out = capsys.readouterr().out
    assert "Top 2 trials:" in out and "(2 new this run)" in out


def test_nan_scores_are_null_in_json_and_skipped_in_plots():
    study = scored([1.0, math.nan, 0.5])
    doc = hd.study_json(study)
    assert [t["value"] for t in doc["trials"]] == [1.0, None, 0.5]
    assert list(artist(hd.plot_history(study), "history-failed").get_xdata()) == [1]


def test_a_huge_error_is_one_bounded_line_in_json():
    # The README's schema: trials[].error is one line; every live update carries them all.
    def objective(trial):
        raise ValueError("\x1b[31mfirst\nsecond " + "E" * 100_000)

    study = Study(space={"x": Float(0, 1)})
    study.optimize(objective, n_trials=3)
    errors = [t["error"] for t in hd.study_json(study)["trials"]]
    assert all(e.startswith("ValueError: first second EEE") and len(e) <= 300 for e in errors)
    assert len(study.trials[0].error) > 100_000


def test_a_run_that_counts_its_repeats_counts_them_on_the_dashboard_as_it_goes():
    # TuneSearchCV's runs: a candidate recorded with an earlier one's scores is one of the
    # n_trials, live and at the end.
    from hpt_magic.samplers import Sampler
    from hpt_magic.study._optimize import optimize

    class Stuck(Sampler):
        def sample_joint(self, study, trial, space):
            return {name: dist.from_unit(0.0) for name, dist in space.items()}

        def sample_one(self, study, trial, name, dist):
            return dist.from_unit(0.0)

    study = Study(space={"k": Choice(["a", "b"])}, sampler=Stuck())
    bundles, done = [], []
    dash = dm.Dashboard(study, n_trials=3, output=bundles.append, min_interval=100)
    optimize(study, lambda t: 1.0, n_trials=3, on_repeat="reuse", count_repeats=True,
             callbacks=[lambda study, trial: done.append(dash.progress()["done"])])
    dash.close()
    assert [t.user_attrs.get("repeat_of") for t in study.trials] == [None, 0, 0]
    assert done == [1, 2, 3]
    assert bundles[-1]["text/plain"].startswith("Finished: 3/3 trials · 3 complete")


def test_array_options_are_text_in_json(recwarn):
    # numpy arrays are valid options (README: any object); integer ones failed the document.
    space = {"w": Choice([np.array([1, 2]), np.array([0.5]), np.int64(3)])}
    study = Study(space=space, sampler="grid")
    study.optimize(lambda t: 1.0, n_trials=3)
    doc = json.loads(json.dumps(hd.study_json(study)))
    assert doc["params"][0]["options"] == ["[1 2]", "[0.5]", 3]
    assert sorted(map(str, (t["params"]["w"] for t in doc["trials"]))) == ["3", "[0.5]", "[1 2]"]
    assert not recwarn.list


def test_show_dashboard_of_a_stored_study_prints_its_state_outside_ipython(capsys):
    hd.show_dashboard(scored([2.0, 1.0, None]))
    assert capsys.readouterr().out.startswith(
        "Finished: 3 trials · 2 complete, 0 pruned, 1 failed · best 1 (trial 1)")


@pytest.mark.parametrize("space, options, line", [
    ({"x": Float(0, 1)}, {"patience": 3},
     "Stopped (no improvement in --patience trials): 4/50 trials · "),
    ({"k": Choice(["a", "b"]), "n": Int(1, 3)}, {},
     "Finished (all 6 points of the search space tried): 6 trials · "),
])
def test_progress_line_says_why_a_run_ended_early(space, options, line):
    bundles = []
    study = Study(space=space, seed=0)
    dm.Dashboard(study, n_trials=50, output=bundles.append, min_interval=100)
    study.optimize(lambda t: 1.0, n_trials=50, **options)
    assert bundles[-1]["text/plain"].startswith(line)
    progress = bundles[-1][dm.MIME]["progress"]
    exhausted = "exhausted" if not options else "no improvement"
    assert progress["reason"] == exhausted
    # A used-up space leaves no trial of the plan missing: the bar is full.
    assert progress["planned"] == (None if not options else 50)
    assert progress["space_size"] == (6 if not options else None)


def test_progress_counts_trials_run_not_reused_repeats():
    study = Study(space={"k": Choice(["a", "b"]), "n": Int(1, 3)}, sampler="random", seed=1)
    dash = dm.Dashboard(study, n_trials=5, output=lambda bundle: None, min_interval=100)
    seen = []  # the dashboard's count after each finished trial (it subscribed first)
    study.subscribe(lambda e: e.kind == "trial_finished" and seen.append(dash.progress()["done"]))
    study.optimize(lambda t: 1.0, n_trials=5)
    ran = [t for t in study.trials if "repeat_of" not in t.user_attrs]
    assert len(ran) == 5 < len(study.trials)  # the random sampler repeats points of this space
    # Repeats are recorded, not run: they leave the count where it was.
    assert seen == [sum("repeat_of" not in t.user_attrs for t in study.trials[:k + 1])
                    for k in range(len(study.trials))]
    assert max(seen) == 5


@pytest.mark.parametrize("how", ["show_dashboard", "manual", "final, summary below"])
def test_every_view_carries_its_image_as_html_with_alternative_text(monkeypatch, how):
    # An HTML export (nbconvert) and front ends without the extension render text/html;
    # a bare PNG output has no alternative text there.
    hostile = "<img src=x onerror=alert(1)>"
    if how == "final, summary below":
        study = Study(space={"x": Float(0, 1)}, seed=0, name=hostile)
        bundles = []
        dm.Dashboard(study, n_trials=3, output=bundles.append, min_interval=100)
        study.optimize(lambda t: t.params["x"], n_trials=3)
        bundle = bundles[-1]
        assert bundle["text/plain"].startswith("Finished: 3/3 trials")
    else:
        study = scored([2.0, 1.0, None])
        study.name = hostile
        if how == "manual":
            bundle = dm.manual_bundle(study)
        else:
            shown = []
            monkeypatch.setattr(dm, "show", shown.append)
            hd.show_dashboard(study)
            bundle, = shown
    page = bundle["text/html"]
    assert page.startswith(f'<div class="hpt-summary"><img src="data:image/png;base64,'
                           f'{bundle["image/png"]}" alt="')
    alt = page.split(' alt="', 1)[1].split('"', 1)[0]
    assert alt == html.escape(bundle["text/plain"].splitlines()[0]) and alt
    assert hostile not in page
    # The table of the top trials only where no summary below the view carries it.
    assert ("<table>" in page) is (how == "show_dashboard")
