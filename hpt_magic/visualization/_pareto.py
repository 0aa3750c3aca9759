"""The panels of a multi-objective study: the Pareto front and the hypervolume over trials.

Like the other panels (see ``_panels``), each ``draw_*`` function takes an Axes and a *view*:
a :class:`~hpt_magic.Study` or the live dashboard's model of one, with ``directions``,
``objectives`` and ``trials`` (trial objects with ``number``, ``state``, ``values``,
``feasible`` and ``manual``). Which trials form the front and what volume they dominate is
the study's knowledge (:mod:`hpt_magic.study._pareto`); this module only draws it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ..exceptions import TuneError
from ..study._objectives import check_reference
from ..study._pareto import default_reference, pareto_mask, prefix_hypervolumes
from ..trial import Direction, TrialState
from ._panels import COLORS, SMALL, _empty, _legend, _style, _text

__all__ = ["ObjectivePoints", "objective_points", "pareto_pairs", "hypervolume_history",
           "check_multi_objective", "draw_pareto", "draw_pareto_pairs", "draw_hypervolume",
           "pairs_axes"]

#: Infeasible trials (a constraint broken) are crosses in their own colour, never dots.
INFEASIBLE_COLOR = "#e377c2"
#: Objectives shown as pairs at most: 5 objectives are 10 pairs.
MAX_OBJECTIVES = 5
#: Hypervolume computed after at most this many trials (evenly spread, the last included).
MAX_HV_POINTS = 200


@dataclass(frozen=True)
class ObjectivePoints:
    """The complete trials with a finite value for every objective, as arrays.

    ``values`` has one row per trial and one column per objective; ``front`` marks the
    trials of the Pareto front (feasible ones only).
    """

    names: list[str]
    directions: list[Direction]
    numbers: np.ndarray
    values: np.ndarray
    feasible: np.ndarray
    manual: np.ndarray
    front: np.ndarray

    def __len__(self) -> int:
        return len(self.numbers)


def _directions(view: Any) -> list[Direction]:
    # The live dashboard's model of a study may predate multi-objective fields.
    return [Direction(d) for d in (getattr(view, "directions", None) or [view.direction])]


def _names(view: Any, k: int) -> list[str]:
    names = list(getattr(view, "objectives", None) or [])
    return names + [f"objective {i}" for i in range(len(names), k)]


def _scored(trial: Any, k: int) -> bool:
    values = trial.values
    return (trial.state is TrialState.COMPLETE and values is not None and len(values) == k
            and all(v is not None and math.isfinite(v) for v in values))


def objective_points(view: Any) -> ObjectivePoints:
    """The trials that a Pareto panel places, in trial-number order, with the front marked.

    A trial counts as infeasible only when it says so (``feasible is False``); a study
    without constraints has every trial feasible.
    """
    directions = _directions(view)
    k = len(directions)
    trials = sorted((t for t in view.trials if _scored(t, k)), key=lambda t: t.number)
    feasible = np.array([t.feasible is not False for t in trials], dtype=bool)
    values = np.array([t.values for t in trials], dtype=float).reshape(len(trials), k)
    signs = np.array([d.sign for d in directions], dtype=float)
    rows = np.flatnonzero(feasible)
    front = np.zeros(len(trials), dtype=bool)
    front[rows[_front_rows(values[rows] * signs)]] = True
    return ObjectivePoints(
        names=_names(view, k), directions=directions,
        numbers=np.array([t.number for t in trials], dtype=int), values=values,
        feasible=feasible, manual=np.array([bool(t.manual) for t in trials], dtype=bool),
        front=front)


def _front_rows(losses: np.ndarray, chunk: int = 64) -> np.ndarray:
    """The rows of ``losses`` on their Pareto front (as :func:`pareto_mask` finds them).

    Ranked a chunk at a time against the front so far: a row that a dropped row dominates
    is dominated by a kept one too, and each step compares tens of rows instead of all
    pairs of a large study (2000 trials: a few ms instead of 140).
    """
    keep = np.zeros(0, dtype=int)
    for start in range(0, len(losses), chunk):
        rows = np.concatenate([keep, np.arange(start, min(start + chunk, len(losses)))])
        keep = rows[pareto_mask(losses[rows])]
    return keep


def pareto_pairs(k: int) -> list[tuple[int, int]]:
    """The (x, y) objective pairs of the pairs grid, as its lower triangle reads them.

    Examples
    --------
    >>> pareto_pairs(3)
    [(0, 1), (0, 2), (1, 2)]
    """
    k = min(k, MAX_OBJECTIVES)
    return [(i, j) for j in range(1, k) for i in range(j)]


def _losses(points: ObjectivePoints) -> np.ndarray:
    signs = np.array([d.sign for d in points.directions], dtype=float)
    return points.values * signs


def hypervolume_history(points: ObjectivePoints,
                        reference: Sequence[float] | None = None) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """The hypervolume of the feasible trials up to each trial number.

    Computed after at most :data:`MAX_HV_POINTS` trials, evenly spread with the last one
    included (after every trial in smaller studies), and estimated from one set of samples
    when large fronts of many objectives make it costly (see
    :func:`hpt_magic.study._pareto.prefix_hypervolumes`); ``reference`` is in objective units,
    the study's default (:func:`hpt_magic.study._pareto.default_reference` of all feasible
    trials) when ``None``, so the last value is ``study.hypervolume()``.
    """
    if reference is not None:
        reference = check_reference(reference, points.names)
    ok = points.feasible
    if not ok.any():
        return np.empty(0), np.empty(0)
    values, numbers = points.values[ok], points.numbers[ok]
    if reference is None:
        reference = default_reference(values, points.directions)
    signs = np.array([d.sign for d in points.directions], dtype=float)
    losses, ref = values * signs, np.asarray(reference, dtype=float) * signs
    n = len(losses)
    ends = np.unique(np.linspace(1, n, min(n, MAX_HV_POINTS)).round().astype(int))
    return numbers[ends - 1].astype(float), prefix_hypervolumes(losses, ref, ends)


# -- panels ----------------------------------------------------------------------------------
def _axis_label(points: ObjectivePoints, i: int) -> str:
    arrow = "↑" if points.directions[i] is Direction.MAXIMIZE else "↓"
    return f"{_text(points.names[i], 24)} {arrow}"


def draw_pareto(ax: Any, points: ObjectivePoints, i: int = 0, j: int = 1, *,
                title: str | None = "Pareto front", labels: bool = True) -> None:
    """Objective ``j`` against objective ``i``: trials as dots (manual ones diamonds),
    infeasible ones as crosses, the front starred. With two objectives the front is joined
    by a step line, the edge of the region it dominates; a pair of three or more objectives
    has no such edge (front trials may be dominated in the pair), so none is drawn."""
    if title is not None:
        _style(ax, title)
    else:
        ax.tick_params(labelsize=SMALL - 1)
        ax.grid(True, linewidth=0.4, alpha=0.4)
    ax.locator_params(nbins=4)
    if labels:
        ax.set_xlabel(_axis_label(points, i), fontsize=SMALL)
        ax.set_ylabel(_axis_label(points, j), fontsize=SMALL)
    if not len(points):
        _empty(ax, "no complete trial yet")
        return
    x, y = points.values[:, i], points.values[:, j]
    ok, front, manual = points.feasible, points.front, points.manual
    small = len(points) > 500
    dots = ok & ~front & ~manual
    ax.plot(x[dots], y[dots], "o", ms=2.5 if small else 3.5, color=COLORS["complete"],
            alpha=0.6, mew=0, gid="pareto-feasible", label="feasible")
    if (manual & ok & ~front).any():
        sel = manual & ok & ~front
        ax.plot(x[sel], y[sel], "D", ms=4, color=COLORS["manual"], mew=0, gid="pareto-manual",
                label="manual")
    if (~ok).any():
        ax.plot(x[~ok], y[~ok], "x", ms=3.5 if small else 4.5, color=INFEASIBLE_COLOR, mew=0.9,
                gid="pareto-infeasible", label="infeasible")
    if front.any():
        losses = _losses(points)[front]
        # In loss order along x, the dominated region's edge turns at (x[k+1], y[k]).
        order = np.lexsort((losses[:, j], losses[:, i]))
        fx, fy = x[front][order], y[front][order]
        if len(points.directions) == 2:
            ax.plot(fx, fy, drawstyle="steps-post", color=COLORS["best"], lw=1.3,
                    gid="pareto-front-line")
        ax.plot(fx, fy, "*", ms=7, color=COLORS["best"], mec="black", mew=0.4,
                gid="pareto-front", zorder=3, label="Pareto front")
    if title is not None:
        _legend(ax)


def draw_pareto_pairs(axes: Sequence[Any], points: ObjectivePoints) -> None:
    """:func:`draw_pareto` for each pair of :func:`pareto_pairs` on the Axes of
    :func:`pairs_axes`; the outer row and column name the objectives."""
    k = min(len(points.directions), MAX_OBJECTIVES)
    for ax, (i, j) in zip(axes, pareto_pairs(k)):
        draw_pareto(ax, points, i, j, title=None, labels=False)
        if j == k - 1:
            ax.set_xlabel(_axis_label(points, i), fontsize=SMALL)
        if i == 0:
            ax.set_ylabel(_axis_label(points, j), fontsize=SMALL)
    axes[0].set_title("Pareto front", fontsize=10, loc="left", y=1.0, pad=4)


def draw_hypervolume(ax: Any, points: ObjectivePoints,
                     reference: Sequence[float] | None = None) -> None:
    """The hypervolume of the feasible trials so far against trial number, as steps."""
    _style(ax, "Hypervolume")
    ax.locator_params(nbins=5)
    ax.set_xlabel("trial", fontsize=SMALL)
    ax.set_ylabel("hypervolume ↑", fontsize=SMALL)
    x, hv = hypervolume_history(points, reference)
    if not len(x):
        _empty(ax, "no feasible trial yet")
        return
    last = float(points.numbers.max())
    ax.plot(np.append(x, last), np.append(hv, hv[-1]), drawstyle="steps-post",
            color=COLORS["best"], lw=1.5, gid="hypervolume")
    ax.set_xlim(-0.5 - 0.02 * last, last + 0.5 + 0.02 * last)


def check_multi_objective(view: Any) -> None:
    """Raise a :class:`TuneError` when ``view`` has one objective (no front to draw)."""
    if len(_directions(view)) < 2:
        raise TuneError(f"study {getattr(view, 'name', '')!r} has one objective: a Pareto front "
                        "needs two or more. Plot it with plot_history(study), or create the "
                        "study with several objectives (--maximize/--minimize NAME, "
                        "Study(directions=[...])).")


# -- figures ---------------------------------------------------------------------------------
def pairs_axes(fig: Figure, spec: Any, k: int) -> list[Any]:
    """The Axes of the pairs grid in ``spec`` (lower triangle), in :func:`pareto_pairs` order;
    the outer row and column carry the objective names."""
    k = min(k, MAX_OBJECTIVES)
    grid = spec.subgridspec(k - 1, k - 1, wspace=0.12, hspace=0.12)
    axes = []
    for i, j in pareto_pairs(k):
        ax = fig.add_subplot(grid[j - 1, i])
        ax.tick_params(labelbottom=j == k - 1, labelleft=i == 0)
        axes.append(ax)
    return axes
