"""The analysis plots (parallel coordinates, contour, slices, importances with uncertainty,
EDF, timeline, several studies compared) and the magics that draw them."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
from IPython.core.error import UsageError
from matplotlib.figure import Figure
from matplotlib.text import Text

from hpt_magic import Choice, Float, GPSampler, Int, Study, TuneError
from hpt_magic.display import (
    plot_compare,
    plot_contour,
    plot_edf,
    plot_hypervolume,
    plot_importances,
    plot_parallel_coordinates,
    plot_pareto_front,
    plot_slice,
    plot_timeline,
)
from hpt_magic.visualization._analysis import _gp_slice, _grid_estimate
from hpt_magic.visualization._importance import fanova, ped_anova
from hpt_magic.visualization._layout import png_bytes


def objective(trial):
    # Only x matters much; depth a little; kind not at all.
    p = trial.params
    return (p["x"] - 0.3) ** 2 + 0.01 * p["depth"] + 0.0 * (p["kind"] == "b")


@pytest.fixture(scope="module")
def study():
    s = Study(space={"x": Float(0, 1), "depth": Int(1, 8), "kind": Choice(["a", "b"]),
                     "lr": Float(1e-4, 1e-1, log=True)}, sampler="random", seed=0, name="toy")
    s.optimize(objective, n_trials=120)
    return s


def gids(fig: Figure) -> set[str]:
    return {a.get_gid() for ax in fig.axes for a in ax.get_children() if a.get_gid()}


@pytest.mark.parametrize("plot, title", [
    (plot_parallel_coordinates, "Parallel coordinates: 120 trials"),
    (lambda s: plot_contour(s, "x", "lr", model="points"), "Score over x and lr"),
    (plot_slice, "Score against each parameter: x; depth"),
    (plot_importances, "Importance (ped-anova)"),
    (plot_edf, "Empirical distribution of scores"), (plot_timeline, "Timeline: 120 trials"),
    (lambda s: plot_compare([s]), "Best so far"),
])
def test_each_plot_says_what_it_shows_and_of_which_study(study, plot, title):
    # The alternative text of an HTML export or a screen reader: the plot's titles, then the
    # study's counts and best trial.
    alt = plot(study).alt_text()
    assert alt.startswith(title) and "Study 'toy': 120 complete" in alt
    assert f"(trial {study.best_trial.number})" in alt


def test_parallel_coordinates_draws_every_trial_and_the_best(study):
    fig = plot_parallel_coordinates(study)
    assert {"parallel", "parallel-best"} <= gids(fig)
    ax = fig.axes[0]
    lines = next(c for c in ax.collections if c.get_gid() == "parallel")
    assert len(lines.get_segments()) == 120
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["x", "depth", "kind", "lr", "score"]
    best = next(line for line in ax.lines if line.get_gid() == "parallel-best")
    # On the score axis (normalised), the best of a minimised study is at the bottom.
    assert best.get_ydata()[-1] == pytest.approx(0.0)
    # The log parameter sits on a log scale: 1e-2.5 is the middle of its axis.
    assert Float(1e-4, 1e-1, log=True).to_unit(10 ** -2.5) == pytest.approx(0.5)


def test_contour_defaults_to_the_two_most_important_parameters(study):
    fig = plot_contour(study)
    title = fig.axes[0].get_title(loc="left")
    assert title.startswith("Score over x and ")
    assert {"contour-trials", "contour-best"} <= gids(fig)
    with pytest.raises(TuneError, match="'nope' is not a parameter"):
        plot_contour(study, "x", "nope")


def wave(x, y):
    return math.sin(3 * x) * math.cos(2 * y) + 0.5 * x * y


def subtitle(fig: Figure) -> str:
    return next(t.get_text() for t in fig.axes[0].texts if t.get_gid() == "contour-model")


@pytest.mark.parametrize("seed", [0, 1])
def test_contour_of_a_gp_study_is_the_gp_mean_and_tracks_the_truth(seed):
    s = Study(space={"x": Float(0, 2), "y": Float(0, 2), "kind": Choice(["a", "b"])},
              sampler=GPSampler(seed, n_candidates=128), name="wave")
    s.optimize(lambda t: wave(t.params["x"], t.params["y"]) + (t.params["kind"] == "b"),
               n_trials=25)
    fig = plot_contour(s, "x", "y")
    assert "contour-gp" in gids(fig) and "contour-points" not in gids(fig)
    assert subtitle(fig).startswith("GP mean, other parameters at the best trial")
    # The grid the contour draws, against the truth at the best trial's kind.
    gx, gy, gp_mean, _ = _gp_slice(s, "x", "y")
    truth = np.vectorize(wave)(2 * gx, 2 * gy) + (s.best_params["kind"] == "b")
    trials = [t for t in s.trials if t.params["kind"] == s.best_params["kind"]]
    _, _, points = _grid_estimate(np.array([t.params["x"] / 2 for t in trials]),
                                  np.array([t.params["y"] / 2 for t in trials]),
                                  np.array([t.value for t in trials]))
    gp_r = np.corrcoef(gp_mean.ravel(), truth.ravel())[0, 1]
    points_r = np.corrcoef(points.ravel(), truth.ravel())[0, 1]
    assert gp_r > 0.9 and gp_r > points_r + 0.02


def test_contour_model_points_forces_the_interpolation_and_bad_models_are_refused(study):
    fig = plot_contour(study, "x", "lr", model="points")
    assert "contour-points" in gids(fig) and "contour-gp" not in gids(fig)
    assert subtitle(fig) == "interpolated between the trials"
    # A random search with enough numeric trials gets the GP too.
    assert "contour-gp" in gids(plot_contour(study, "x", "lr"))
    with pytest.raises(TuneError, match="model='kriging' is not one of 'auto', 'gp', 'points'"):
        plot_contour(study, "x", "lr", model="kriging")


def test_contour_falls_back_to_the_points_without_a_usable_gp():
    cats = Study(space={"a": Choice(["p", "q", "r"]), "b": Choice([1, 2, 3])}, seed=0,
                 name="cats")
    cats.optimize(lambda t: t.params["b"] + (t.params["a"] == "q"), n_trials=30)
    small = Study(space={"x": Float(0, 1), "y": Float(0, 1)}, seed=0, name="small")
    small.optimize(lambda t: t.params["x"] * t.params["y"], n_trials=6)
    branchy = Study(seed=0, name="branchy")

    def branches(trial):
        x = trial.suggest_float("x", 0, 1)
        return x + (trial.suggest_float("y", 0, 1) if x > 0.5 else 0.0)

    branchy.optimize(branches, n_trials=30)
    for s, why in ((cats, "every parameter is categorical"),
                   (small, "needs 10 complete trials in the space, the study has 6"),
                   (branchy, "some trials lack a parameter")):
        names = list(s.search_space())
        fig = plot_contour(s, *names)
        assert "contour-points" in gids(fig)
        assert subtitle(fig) == "interpolated between the trials"
        with pytest.raises(TuneError, match=why):
            plot_contour(s, *names, model="gp")


def test_slice_plots_one_panel_per_parameter_with_the_best_starred(study):
    fig = plot_slice(study)
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["x", "depth", "kind", "lr"]
    stars = [line for ax in fig.axes for line in ax.lines if line.get_marker() == "*"]
    assert len(stars) == 4


@pytest.mark.parametrize("method", [ped_anova, fanova])
def test_importances_find_the_parameter_that_matters_with_a_spread(study, method):
    ranks = method(study)
    assert list(ranks)[0] == "x"
    assert sum(v for v, _ in ranks.values()) == pytest.approx(1.0)
    # kind and lr do not matter at all.
    assert ranks["x"][0] > 0.3 and ranks["x"][0] > 2 * max(ranks["kind"][0], ranks["lr"][0])
    assert all(s >= 0 for _, s in ranks.values()) and ranks["x"][1] > 0


def test_importance_plot_has_error_bars_and_refuses_unknown_evaluators(study):
    fig = plot_importances(study, "fanova")
    ax = fig.axes[0]
    assert ax.get_title(loc="left") == "Importance (fanova), ± 1 sd"
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "x"
    assert any(c.get_gid() is None and len(c.get_segments()) == 4
               for c in ax.collections)  # the error bars
    with pytest.raises(TuneError, match="ped-anova"):
        plot_importances(study, "shap")


def test_edf_and_compare_draw_one_line_per_study(study):
    other = Study(space=study.search_space(), sampler="random", seed=1, name="other")
    other.optimize(objective, n_trials=30)
    assert {"edf:0", "edf:1"} <= gids(plot_edf(study, other))
    edf = next(line for line in plot_edf(study).axes[0].lines if line.get_gid() == "edf:0")
    assert edf.get_ydata()[-1] == pytest.approx(1.0)
    fig = plot_compare([study, other])
    assert {"compare:0", "compare:1", "edf:0", "edf:1"} <= gids(fig)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["toy", "other"]


def test_a_study_whose_name_starts_with_an_underscore_keeps_its_legend_entry(study):
    # matplotlib leaves out a legend label that starts with "_".
    other = Study(space=study.search_space(), sampler="random", seed=1, name="_baseline")
    other.optimize(objective, n_trials=5)
    for fig in (plot_compare([study, other]), plot_edf(study, other)):
        texts = [t.get_text() for t in fig.axes[-1].get_legend().get_texts()]
        assert [t.strip() for t in texts] == ["toy", "_baseline"]


def test_timeline_puts_overlapping_trials_on_separate_lanes():
    s = Study(space={"x": Float(0, 1)}, seed=0, name="jobs")
    for start, end in [(0, 4), (1, 2), (2.5, 3), (5, 6)]:
        t = s.ask()
        t.started, t.finished = 100.0 + start, None
        s.tell(t, value=start)
        t.finished = 100.0 + end
    fig = plot_timeline(s)
    assert fig.axes[0].get_title(loc="left") == "Timeline: 4 trials on 2 lanes"
    boxes = next(c for c in fig.axes[0].collections if c.get_gid() == "timeline-complete")
    lanes = sorted(round(float(np.mean(p.vertices[:4, 1]))) for p in boxes.get_paths())
    # (0, 4) and (5, 6) on lane 0; (1, 2) and (2.5, 3) overlap the first: lane 1.
    assert lanes == [0, 0, 1, 1]


def test_timeline_labels_lanes_with_the_workers_names():
    s = Study(space={"x": Float(0, 1)}, seed=0, name="dask")
    for start, worker in [(0, 1), (1, 0), (2, 1)]:
        t = s.ask()
        t.user_attrs.update(worker=worker, worker_name=f"tcp://10.0.0.{worker}:8786")
        t.started = 100.0 + start
        s.tell(t, value=start)
        t.finished = 101.0 + start
    ax = plot_timeline(s).axes[0]
    assert ax.get_title(loc="left") == "Timeline: 3 trials on 2 lanes"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["10.0.0.0:8786", "10.0.0.1:8786"]


def test_tune_plot_kind_and_tune_compare_magics(shell):
    shell.run_cell("from hpt_magic import Study, Float\n"
                   "a = Study(space={'x': Float(0, 1), 'y': Float(0, 1)}, seed=0, name='a')\n"
                   "a.optimize(lambda t: t.params['x'] + t.params['y'], n_trials=12)\n"
                   "b = Study(space={'x': Float(0, 1), 'y': Float(0, 1)}, seed=1, name='b')\n"
                   "b.optimize(lambda t: t.params['x'], n_trials=12)\n")
    shown = []
    shell.display_formatter.formatters["image/png"].for_type(Figure, lambda f: shown.append(f))
    try:
        for kind in ("parallel", "contour", "slice", "importance", "edf", "timeline"):
            shell.run_line_magic("tune_plot", f"a --kind {kind}")
        shell.run_line_magic("tune_compare", "a b")
    finally:
        shell.display_formatter.formatters["image/png"].pop(Figure)
    assert len(shown) == 7 and all(isinstance(f, Figure) for f in shown)
    assert shown[-1].axes[0].get_title(loc="left") == "Best so far"
    with pytest.raises(UsageError, match="Unknown plot kind 'pie'"):
        shell.run_line_magic("tune_plot", "a --kind pie")
    with pytest.raises(UsageError, match="Name the studies"):
        shell.run_line_magic("tune_compare", "")
    # A study kept in memory is reached by its variable; a misspelt one is not looked for
    # in a file named "memory".
    with pytest.raises(UsageError, match="--storage memory keeps studies in their variables"):
        shell.run_line_magic("tune_plot", "aa --storage memory")


def test_every_plot_of_a_study_with_one_trial_is_drawn_or_explained():
    s = Study(space={"x": Float(0, 1)}, seed=0, name="tiny")
    s.optimize(lambda t: math.sin(t.params["x"]), n_trials=1)
    assert isinstance(plot_parallel_coordinates(s), Figure)
    assert isinstance(plot_timeline(s), Figure)
    with pytest.raises(TuneError, match="at least 3 complete trials"):
        plot_contour(s, "x", "x")
    with pytest.raises(TuneError, match="at least 4 complete trials"):
        plot_importances(s)


def _score_labels(study):
    """Every label that names the plotted score: the parallel plot's last axis and colour
    bar, the contour's colour bar, the EDF's x axis, the history panel's y axis and the
    comparison's best-so-far axis."""
    from hpt_magic.visualization._panels import draw_history

    parallel = plot_parallel_coordinates(study)
    contour = plot_contour(study, "x", "lr", model="points")
    history = Figure().add_subplot()
    draw_history(history, study)
    return [parallel.axes[0].get_xticklabels()[-1].get_text(), parallel.axes[-1].get_ylabel(),
            contour.axes[-1].get_ylabel(), plot_edf(study).axes[0].get_xlabel(),
            history.get_ylabel(), plot_compare([study]).axes[0].get_ylabel()]


def test_plots_of_several_objectives_name_the_first_one(study):
    space = study.search_space()
    multi = Study(space=space, sampler="random", seed=0, name="multi",
                  directions=["maximize", "minimize"], objectives=["accuracy", "size"])
    multi.optimize(lambda t: {"accuracy": -objective(t), "size": t.params["depth"]},
                   n_trials=20)
    assert _score_labels(multi) == ["accuracy ↑"] * 5 + ["best accuracy ↑"]
    named = Study(space=space, sampler="random", seed=0, objectives=["val_loss"])
    named.optimize(objective, n_trials=10)
    assert _score_labels(named) == ["val_loss ↓"] * 5 + ["best val_loss ↓"]
    # One unnamed objective stays "score"; studies of different objectives too.
    assert _score_labels(study) == ["score"] * 5 + ["best score"]
    assert plot_edf(study, multi).axes[0].get_xlabel() == "score"


def test_text_is_never_latex_even_with_usetex_on():
    # With text.usetex in a matplotlibrc, LaTeX would read the names of a shared study as TeX
    # (\input prints a file into the image) and fail on "a_b". No LaTeX is needed to pass.
    hostile = r"\input{/etc/hostname}"
    s = Study(space={hostile: Float(0, 1), "n_1": Int(1, 8), "k": Choice(["a_b", "50%"])},
              sampler="random", seed=0, name="50% a_b", objectives=["val_loss"])
    s.optimize(lambda t: {"val_loss": t.params[hostile] + t.params["n_1"]}, n_trials=12)
    multi = Study(space={hostile: Float(0, 1)}, seed=0, name="m_o",
                  objectives=["acc_1", "size%"], directions=["maximize", "minimize"])
    multi.optimize(lambda t: {"acc_1": t.params[hostile], "size%": 1.0}, n_trials=6)
    with matplotlib.rc_context({"text.usetex": True}):
        figures = [plot_parallel_coordinates(s), plot_contour(s, hostile, "k", model="points"),
                   plot_slice(s), plot_importances(s), plot_edf(s, multi), plot_timeline(s),
                   plot_compare([s, multi]), plot_pareto_front(multi), plot_hypervolume(multi)]
        for fig in figures:
            assert png_bytes(fig).startswith(b"\x89PNG")
    assert not any(t.get_usetex() for fig in figures for t in fig.findobj(Text))
