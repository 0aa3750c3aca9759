"""The Pareto-front and hypervolume panels of a multi-objective study, on real studies."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from hpt_magic import Float, Study
from hpt_magic.display import plot, plot_hypervolume, plot_pareto_front
from hpt_magic.exceptions import TuneError
from hpt_magic.study._pareto import default_reference, hypervolume
from hpt_magic.visualization._pareto import hypervolume_history, objective_points


def trade_off(t):
    """Accuracy against latency: both grow with x; y only costs. Large models are infeasible."""
    x, y = t.params["x"], t.params["y"]
    return {"accuracy": 1 - 0.5 * (1 - x) ** 2 - 0.1 * y, "latency_ms": 5 + 50 * x ** 2 + 10 * y,
            "size_mb": 40 * x * y}


def two_objectives(n: int = 120, seed: int = 0) -> Study:
    study = Study(space={"x": Float(0, 1), "y": Float(0, 1)}, seed=seed,
                  directions=["maximize", "minimize"], objectives=["accuracy", "latency_ms"],
                  constraints=["size_mb <= 20"], sampler="random")
    study.optimize(trade_off, n_trials=n)
    return study


def three_objectives(n: int = 60) -> Study:
    study = Study(space={"x": Float(0, 1), "y": Float(0, 1)}, seed=1,
                  directions=["maximize", "minimize", "minimize"],
                  objectives=["accuracy", "latency_ms", "size_mb"], sampler="random")
    study.optimize(trade_off, n_trials=n)
    return study


def artist(ax, gid):
    found = [a for a in (*ax.lines, *ax.collections) if a.get_gid() == gid]
    return found[0] if found else None


def test_the_front_is_the_studys_and_infeasible_trials_are_crosses_off_the_front() -> None:
    study = two_objectives()
    points = objective_points(study)
    front = {int(n) for n in points.numbers[points.front]}
    assert front == {t.number for t in study.best_trials}
    infeasible = [t for t in study.trials if t.feasible is False]
    assert infeasible, "the constraint must cut some trials for this test to mean anything"
    ax = plot_pareto_front(study).axes[0]
    crosses = artist(ax, "pareto-infeasible")
    assert crosses.get_marker() == "x" and len(crosses.get_xdata()) == len(infeasible)
    assert not front & {t.number for t in infeasible}
    stars = artist(ax, "pareto-front")
    assert sorted(zip(stars.get_xdata(), stars.get_ydata())) == sorted(
        (t.values[0], t.values[1]) for t in study.best_trials)


def test_the_front_is_a_step_line_that_bounds_what_it_dominates() -> None:
    study = two_objectives()
    line = artist(plot_pareto_front(study).axes[0], "pareto-front-line")
    assert line.get_drawstyle() == "steps-post"
    x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    # accuracy is maximised, latency minimised: along the line both get worse together.
    assert (np.diff(x) < 0).all() and (np.diff(y) <= 0).all()
    assert len(x) == len(study.best_trials)


def test_three_objectives_show_the_pairs_without_a_step_line() -> None:
    study = three_objectives()
    fig = plot_pareto_front(study)
    assert len(fig.axes) == 3
    # A lower triangle: the bottom row names x, the left column y.
    labels = [(ax.get_xlabel(), ax.get_ylabel()) for ax in fig.axes]
    assert labels == [("", "latency_ms ↓"), ("accuracy ↑", "size_mb ↓"), ("latency_ms ↓", "")]
    for ax in fig.axes:
        assert artist(ax, "pareto-front-line") is None
        assert len(artist(ax, "pareto-front").get_xdata()) == len(study.best_trials)


def test_hypervolume_grows_to_the_studys_own() -> None:
    study = two_objectives(150)
    x, hv = hypervolume_history(objective_points(study))
    assert (np.diff(hv) >= 0).all() and (np.diff(x) > 0).all()
    assert hv[-1] == pytest.approx(study.hypervolume())
    # Exact at a point in between: the feasible trials up to that trial number.
    mid = int(x[len(x) // 2])
    upto = [t for t in study.trials if t.number <= mid and t.feasible and t.values]
    values = np.array([t.values for t in study.trials if t.feasible and t.values])
    ref = default_reference(values, study.directions) * [-1, 1]
    losses = np.array([t.values for t in upto]) * [-1, 1]
    assert hv[len(x) // 2] == pytest.approx(hypervolume(losses, ref))
    line = artist(plot_hypervolume(study).axes[0], "hypervolume")
    assert line.get_drawstyle() == "steps-post"
    assert line.get_ydata()[-1] == pytest.approx(study.hypervolume())


@pytest.mark.parametrize("reference", [[0.5], [0.5, math.nan], "ab", [0.5, 60, 1]])
def test_a_reference_point_it_cannot_use_is_refused_by_the_plot_as_by_the_study(
        reference) -> None:
    # plot_hypervolume(study, reference=[0.5]) broadcast the one value to both objectives and
    # drew a wrong curve; a NaN made study.hypervolume() 0.0; text raised a numpy UFuncTypeError.
    study = two_objectives(10)
    for call in (lambda: plot_hypervolume(study, reference=reference),
                 lambda: study.hypervolume(reference),
                 lambda: Study(directions=["max", "min"]).hypervolume(reference)):
        with pytest.raises(TuneError, match=r"one finite number per objective "
                                            r"\((accuracy, latency_ms|value_0, value_1)\)"):
            call()
    assert plot_hypervolume(study, reference=[0.0, 100.0]) is not None


def test_dashboard_shows_the_front_and_hypervolume_instead_of_the_history() -> None:
    titles = [ax.get_title(loc="left") for ax in plot(two_objectives(30)).axes]
    assert titles[:2] == ["Pareto front", "Hypervolume"] and "History" not in titles
    titles = [ax.get_title(loc="left") for ax in plot(three_objectives(30)).axes]
    assert titles.count("Pareto front") == 1 and "Hypervolume" in titles
    single = Study(space={"x": Float(-1, 1)}, seed=0)
    single.optimize(lambda t: t.params["x"] ** 2, n_trials=5)
    assert plot(single, importances=False).axes[0].get_title(loc="left") == "History"


def test_a_single_objective_study_has_no_front_to_plot() -> None:
    single = Study(space={"x": Float(-1, 1)}, seed=0)
    with pytest.raises(TuneError, match="one objective.*plot_history"):
        plot_pareto_front(single)


def test_no_feasible_trial_yet_says_so() -> None:
    study = Study(space={"x": Float(0, 1)}, directions=["minimize", "minimize"],
                  objectives=["a", "b"], constraints=["c <= -1"], seed=0)
    study.optimize(lambda t: {"a": t.params["x"], "b": 1 - t.params["x"], "c": 0.0}, n_trials=4)
    ax = plot_hypervolume(study).axes[0]
    assert [t.get_text() for t in ax.texts] == ["no feasible trial yet"]
    assert artist(plot_pareto_front(study).axes[0], "pareto-front") is None


def test_2000_trials_draw_the_pareto_panel_in_well_under_300_ms() -> None:
    study = Study(directions=["maximize", "minimize"], objectives=["accuracy", "latency_ms"],
                  constraints=["size_mb <= 20"], seed=0)
    rng = np.random.default_rng(0)
    for x, y in rng.random((2000, 2)):
        trial = study.ask()
        study.tell(trial, {"accuracy": 1 - 0.5 * (1 - x) ** 2 - 0.1 * y,
                           "latency_ms": 5 + 50 * x ** 2 + 10 * y, "size_mb": 40 * x * y})
    from hpt_magic.visualization._layout import new_figure
    from hpt_magic.visualization._pareto import draw_pareto

    spent = math.inf
    for _ in range(3):
        ax = new_figure(6.4, 4.6).add_subplot()
        start = time.process_time()
        draw_pareto(ax, objective_points(study))
        ax.figure.canvas.draw()
        spent = min(spent, time.process_time() - start)
    assert spent < 0.3, f"{spent * 1000:.0f} ms"


def eight_objectives(n: int = 40) -> Study:
    """Trials whose eight losses sum to 1: every one on the front (the hard case)."""
    study = Study(space={"x": Float(0, 1)}, directions=["minimize"] * 8, seed=0,
                  objectives=[f"o{i}" for i in range(8)])
    rng = np.random.default_rng(0)
    for v in rng.random((n, 8)):
        study.tell(study.ask(), {f"o{i}": x for i, x in enumerate(v / v.sum())})
    return study


def test_eight_objectives_get_their_hypervolume_and_its_history_in_seconds() -> None:
    study = eight_objectives()
    start = time.perf_counter()
    value = study.hypervolume()
    x, hv = hypervolume_history(objective_points(study))
    # Exact slicing took over two minutes for the hypervolume alone.
    assert time.perf_counter() - start < 5
    assert hv[-1] == value and value > 0 and (np.diff(hv) >= 0).all()
    assert x.tolist() == [t.number for t in study.trials]
