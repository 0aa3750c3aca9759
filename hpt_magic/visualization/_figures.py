"""The study's plots as matplotlib Figures (Agg canvas, no pyplot) and as a JSON document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.figure import Figure

from ..exceptions import TuneError
from . import _layout, _panels, _pareto
from ._document import document

__all__ = ["plot", "plot_history", "plot_curves", "plot_params", "plot_pareto_front",
           "plot_hypervolume", "study_json", "importances_or_none"]


def importances_or_none(study: Any) -> dict[str, float] | None:
    """``study.importances()`` when the study offers it and it has an answer.

    Without arguments, the only :class:`TuneError` that ``importances`` raises says that too
    few complete trials share their parameters: the panel is then left out. Any other error is
    a bug and surfaces.
    """
    method = getattr(study, "importances", None)
    if method is None:
        return None
    try:
        result = method()
    except TuneError:
        return None
    return dict(result) or None


def plot(study: Any, *, importances: bool = True) -> Figure:
    """The dashboard of ``study`` as one Figure: history, learning curves, parameters.

    Parameters
    ----------
    study : Study
    importances : bool
        Add a parameter-importance panel when the study can compute importances.

    Examples
    --------
    >>> from hpt_magic import Study, Float
    >>> study = Study(space={"x": Float(-5, 5)}, seed=0)
    >>> study.optimize(lambda t: t.params["x"] ** 2, n_trials=10)
    >>> fig = plot(study)
    >>> [ax.get_title(loc="left") for ax in fig.axes]
    ['History', 'Learning curves', 'Importance', 'x']
    """
    return _layout.described(
        _layout.dashboard_figure(study, importances_or_none(study) if importances else None),
        study, "Dashboard")


def plot_history(study: Any, ax: Any = None) -> Figure:
    """Score against trial number (complete, pruned, failed, manual), with the best so far.

    Draws on ``ax`` when given, else on a new Figure; returns the Figure. The text drawn here
    never goes through LaTeX; the rest of a given ``ax``'s Figure keeps ``text.usetex``.
    """
    return _draw(_panels.draw_history, study, ax)


def plot_curves(study: Any, ax: Any = None) -> Figure:
    """The reported learning curves against step; draws on ``ax`` or a new Figure (as
    :func:`plot_history`)."""
    return _draw(_panels.draw_curves, study, ax)


def _draw(panel: Any, study: Any, ax: Any) -> Figure:
    if ax is not None:
        return _layout.draw_plain(ax, panel, study).figure
    ax = _layout.new_figure(6.4, 3.8).add_subplot()
    panel(ax, study)
    return _layout.described(_layout.plain_text(ax.figure), study)


def plot_params(study: Any, ncols: int = 4) -> Figure:
    """Score against each parameter's values, one small plot per parameter."""
    return _layout.described(_layout.params_figure(study, ncols), study,
                             "Score against each parameter")


def plot_pareto_front(study: Any) -> Figure:
    """The Pareto front of a multi-objective study as a Figure.

    Two objectives: one scatter with the front as a step line; three or more: the pairs
    (lower triangle, at most five objectives). Infeasible trials are crosses; the front
    (feasible trials only) is starred.

    Raises
    ------
    TuneError
        When the study has one objective.
    """
    _pareto.check_multi_objective(study)
    points = _pareto.objective_points(study)
    k = min(len(points.directions), _pareto.MAX_OBJECTIVES)
    if k == 2:
        fig = _layout.new_figure(6.4, 4.6)
        _pareto.draw_pareto(fig.add_subplot(), points)
        return _layout.described(_layout.plain_text(fig), study)
    side = 2.3 * (k - 1)
    fig = _layout.new_figure(side + 0.9, side + 0.7)
    spec = fig.add_gridspec(1, 1, left=0.7 / (side + 0.9), right=0.97,
                            top=1 - 0.35 / (side + 0.7), bottom=0.55 / (side + 0.7))
    _pareto.draw_pareto_pairs(_pareto.pairs_axes(fig, spec[0], k), points)
    return _layout.described(_layout.plain_text(fig), study)


def plot_hypervolume(study: Any, reference: Sequence[float] | None = None) -> Figure:
    """The hypervolume of the feasible trials so far against trial number, as a Figure.

    ``reference`` (one value per objective, in the objectives' units) defaults to the one
    ``study.hypervolume()`` uses.
    """
    _pareto.check_multi_objective(study)
    fig = _layout.new_figure(6.4, 3.8)
    _pareto.draw_hypervolume(fig.add_subplot(), _pareto.objective_points(study), reference)
    return _layout.described(_layout.plain_text(fig), study)


def study_json(study: Any, progress: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The study as a ``application/vnd.hpt-magic.study+json`` document (schema version 1).

    ``progress`` (status, done, planned, timeout, elapsed, eta) describes a run; without it
    the study is described as it stands.
    """
    return document(study, progress)
