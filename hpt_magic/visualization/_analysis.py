"""The analysis plots people reach for after a study, as matplotlib Figures (Agg, no pyplot):
parallel coordinates, contour, slices, importances with their uncertainty, the empirical
distribution of scores, the timeline of the trials, and several studies compared.

They use the colours of the dashboard (``_panels.COLORS``): the best trial is an orange star.
Each takes a study (anything with ``name``, ``direction``, ``trials``, ``search_space()``,
``top_trials(k)``); :func:`plot_edf` and :func:`plot_compare` take several.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure

from .._format import option_text
from ..distributions import Choice
from ..exceptions import TuneError
from ..trial import Direction
from ._importance import importances_with_spread
from ._layout import described, new_figure, params_figure, plain_text
from ._panels import (
    COLORS,
    SMALL,
    _best,
    _finite,
    _legend_label,
    _objective_label,
    _style,
    _text,
    best_so_far,
)

__all__ = ["KINDS", "plot_parallel_coordinates", "plot_contour", "plot_slice",
           "plot_importances", "plot_edf", "plot_timeline", "plot_compare", "plot_kind"]

#: Names of the plots for ``%tune_plot NAME --kind KIND``.
KINDS = ("dashboard", "history", "parallel", "contour", "slice", "importance", "edf",
         "timeline")
_CMAP = "viridis"
#: What ``plot_contour(model=...)`` can draw.
_MODELS = ("auto", "gp", "points")
#: Complete trials the contour's GP needs at least (more with many parameters: twice their
#: number), and fits on at most.
_GP_MIN_TRIALS, _GP_FIT_TRIALS = 10, 200
#: Posterior sd, as a share of the prior sd, above which the GP contour is paled.
_UNCERTAIN = 0.6


def _scored(study: Any) -> list[Any]:
    return [t for t in study.trials if t.state.value == "complete" and _finite(t.value)]


def _need(trials: list[Any], n: int, study: Any, what: str) -> None:
    if len(trials) < n:
        raise TuneError(f"{what} needs at least {n} complete trials; study {study.name!r} has "
                        f"{len(trials)}. Run more trials first.")


def _unit(dist: Any, values: list[Any]) -> np.ndarray:
    """Positions in [0, 1] of parameter values (log-scaled, categories evenly spaced)."""
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        try:
            out[i] = dist.to_unit(v)
        except Exception:  # a value from before the space changed: not placed
            continue
    return out


def _ticks(dist: Any) -> tuple[list[float], list[str]]:
    """Tick positions in [0, 1] and labels for a parameter's axis."""
    if isinstance(dist, Choice):
        k = len(dist.options)
        labels = [_text(option_text(o), 10) for o in dist.options]
        return [(i + 0.5) / k for i in range(k)], labels
    return [0.0, 1.0], [f"{dist.low:g}", f"{dist.high:g}"]


def plot_parallel_coordinates(study: Any, params: Sequence[str] | None = None) -> Figure:
    """One line per complete trial through its parameters and its score.

    Each axis spans its parameter's range (log-scaled for log distributions, categories
    evenly spaced); lines are coloured by score, the best trial drawn in orange on top.
    """
    trials = _scored(study)
    _need(trials, 1, study, "A parallel coordinates plot")
    space = study.search_space()
    names = [n for n in (params or space) if n in space]
    values = np.array([t.value for t in trials], dtype=float)
    lo, hi = float(values.min()), float(values.max())
    score = (values - lo) / (hi - lo) if hi > lo else np.full(len(values), 0.5)
    columns = [_unit(space[n], [t.params.get(n) for t in trials]) for n in names]
    ys = np.column_stack([*columns, score]) if columns else score[:, None]
    xs = np.arange(ys.shape[1], dtype=float)
    fig = new_figure(max(6.0, 1.3 * len(xs) + 1.5), 4.0)
    ax = fig.add_axes((0.06, 0.14, 0.84, 0.76))
    _style(ax, f"Parallel coordinates: {len(trials)} trials", grid=False)
    segments = np.stack([np.broadcast_to(xs, ys.shape), ys], axis=-1)
    sign = Direction(study.direction).sign
    order = np.argsort(-sign * values)  # the best drawn last, on top
    lines = LineCollection(segments[order], cmap=_CMAP, linewidths=0.8, alpha=0.6,
                           gid="parallel")
    lines.set_array(values[order])
    ax.add_collection(lines)
    best = _best(study)
    if best is not None:
        i = next(k for k, t in enumerate(trials) if t.number == best.number)
        ax.plot(xs, ys[i], color=COLORS["best"], lw=2.2, gid="parallel-best",
                label=f"best: trial {best.number}")
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
    for x, name in zip(xs, names):
        ax.axvline(x, color="#999999", lw=0.6)
        positions, labels = _ticks(space[name])
        for p, label in zip(positions, labels):
            ax.text(x + 0.03, p, label, fontsize=6, va="center", color="#555555")
    ax.axvline(xs[-1], color="#999999", lw=0.6)
    ax.text(xs[-1] + 0.03, 0, f"{lo:.4g}", fontsize=6, va="center")
    ax.text(xs[-1] + 0.03, 1, f"{hi:.4g}", fontsize=6, va="center")
    ax.set_xticks(xs, [_text(n, 14) for n in names] + [_objective_label(study, 14)],
                  fontsize=SMALL)
    ax.set_yticks([])
    ax.set_xlim(-0.2, xs[-1] + 0.5)
    ax.set_ylim(-0.05, 1.05)
    fig.colorbar(lines, ax=ax, fraction=0.03, pad=0.02).set_label(_objective_label(study),
                                                                  fontsize=SMALL)
    return described(plain_text(fig), study)


def _grid_estimate(px: np.ndarray, py: np.ndarray, z: np.ndarray,
                   n: int = 48) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The score on an ``n`` x ``n`` grid of the unit square, as an inverse-distance-weighted
    average of the 8 nearest trials (a smooth picture of the points, not a model)."""
    from scipy.spatial import cKDTree

    g = (np.arange(n) + 0.5) / n
    gx, gy = np.meshgrid(g, g)
    k = min(8, len(z))
    dist, idx = cKDTree(np.column_stack([px, py])).query(
        np.column_stack([gx.ravel(), gy.ravel()]), k=k)
    dist, idx = dist.reshape(-1, k), idx.reshape(-1, k)
    w = 1.0 / (dist + 1e-3) ** 2
    return gx, gy, ((w * z[idx]).sum(axis=1) / w.sum(axis=1)).reshape(n, n)


def _fit_subset(loss: np.ndarray, k: int) -> np.ndarray:
    """Indices of at most ``k`` trials for the contour's GP: all of them, or the best third
    of ``k`` and a random sample of the rest (seeded, so a study gives the same picture).

    An exact GP costs the cube of its trials: 200 of them keep a 2000-trial study's contour
    under 200 ms of CPU, and the best ones keep the region that matters sharp.
    """
    if len(loss) <= k:
        return np.arange(len(loss))
    order = np.argsort(loss, kind="stable")
    rest = np.random.default_rng(0).choice(order[k // 3:], k - k // 3, replace=False)
    return np.sort(np.concatenate([order[:k // 3], rest]))


def _gp_slice(study: Any, x: str, y: str,
              n: int = 48) -> tuple[np.ndarray, ...] | str:
    """The posterior mean of the GP sampler's model, fitted on the complete trials, on an
    ``n`` x ``n`` grid over ``x`` and ``y`` with the other parameters at the best trial's
    values: ``(gx, gy, score, uncertain)``, or why there is no usable model."""
    space = study.search_space()
    scored = _scored(study)
    if all(isinstance(d, Choice) for d in space.values()):
        return "every parameter is categorical"
    if any(name not in t.params for t in scored for name in space):
        return "some trials lack a parameter (a conditional or edited space)"
    from .._encoding import Encoding
    from .._gp_model import default_params, fit_gp
    from ..samplers import GPSampler, observations
    from ..samplers._gp import _standardize

    X, loss, used = observations(study, space, include_pruned=False)
    need = max(_GP_MIN_TRIALS, 2 * len(space))
    if len(loss) < need:
        return f"it needs {need} complete trials in the space, the study has {len(loss)}"
    keep = _fit_subset(loss, _GP_FIT_TRIALS)
    X, loss = X[keep], loss[keep]
    values = np.array([used[i].value for i in keep], dtype=float)
    ys = _standardize(loss)
    if not ys.std() > 0:
        return "every trial has the same score"
    enc = Encoding(space)
    sampler = getattr(study, "sampler", None)
    try:
        gp = fit_gp(X, ys, enc.categorical, [default_params(enc.dim)],
                    fixed_noise=isinstance(sampler, GPSampler) and sampler.deterministic)
    except (np.linalg.LinAlgError, ValueError) as exc:
        return f"the GP fit failed ({exc})"
    g = (np.arange(n) + 0.5) / n
    gx, gy = np.meshgrid(g, g)
    Xq = np.tile(X[np.argmin(loss)], (n * n, 1))
    Xq[:, enc.names.index(x)], Xq[:, enc.names.index(y)] = gx.ravel(), gy.ravel()
    mean, var = gp.predict(enc.round(Xq))
    # The standardisation (a power transform) is monotone: reading the mean back through the
    # observed (standardised loss, score) pairs undoes it, within the observed scores.
    order = np.argsort(ys)
    score = np.interp(mean, ys[order], values[order]).reshape(n, n)
    uncertain = (np.sqrt(var / gp.scale) > _UNCERTAIN).reshape(n, n)
    return gx, gy, score, uncertain


def plot_contour(study: Any, x: str | None = None, y: str | None = None, *,
                 model: str = "auto") -> Figure:
    """The score over two parameters (the two most important by default), with the trials
    and the best one marked.

    Parameters
    ----------
    study : Study
    x, y : str, optional
        The parameters on the axes.
    model : {"auto", "gp", "points"}
        ``"gp"``: the posterior mean of a Gaussian process (the GP sampler's model) fitted on
        the complete trials, through the best trial: the other parameters are held at its
        values, and where the model is unsure the picture is paler. ``"points"``: an
        interpolation between the trials' points. ``"auto"`` (default) draws the GP when there
        is a usable one (enough trials, not only categorical parameters, no conditional
        parameters) and the points otherwise. The subtitle says which was drawn.
    """
    if model not in _MODELS:
        raise TuneError(f"plot_contour: model={model!r} is not one of "
                        f"{', '.join(map(repr, _MODELS))}. Use 'gp' for a Gaussian process "
                        "fitted on the trials, 'points' to interpolate between them, or 'auto' "
                        "for the GP where there is a usable one.")
    trials = _scored(study)
    _need(trials, 3, study, "A contour plot")
    space = study.search_space()
    if x is None or y is None:
        ranked = list(importances_with_spread(study)) if len(trials) >= 4 else list(space)
        x, y = (x or next(n for n in ranked if n != y), y or next(n for n in ranked if n != x))
    for name in (x, y):
        if name not in space:
            raise TuneError(f"plot_contour: {name!r} is not a parameter of study "
                            f"{study.name!r} ({', '.join(space)}).")
    px = _unit(space[x], [t.params.get(x) for t in trials])
    py = _unit(space[y], [t.params.get(y) for t in trials])
    z = np.array([t.value for t in trials], dtype=float)
    ok = np.isfinite(px) & np.isfinite(py)
    px, py, z = px[ok], py[ok], z[ok]
    _need(list(z), 3, study, "A contour plot")
    estimate = "model='points'" if model == "points" else _gp_slice(study, x, y)
    if isinstance(estimate, str) and model == "gp":
        raise TuneError(f"plot_contour: no Gaussian process for study {study.name!r}: "
                        f"{estimate}. Use model='points' to interpolate between the trials.")
    fig = new_figure(6.0, 4.8)
    ax = fig.add_axes((0.12, 0.12, 0.72, 0.76))
    _style(ax, f"Score over {_text(x)} and {_text(y)}", grid=False)
    ax.set_title(ax.get_title(loc="left"), loc="left", fontsize=10, y=1.0, pad=14)
    if isinstance(estimate, str):
        gx, gy, gz = _grid_estimate(px, py, z)
        kind, how, uncertain = "points", "interpolated between the trials", None
    else:
        gx, gy, gz, uncertain = estimate
        kind, how = "gp", "GP mean, other parameters at the best trial"
    filled = ax.contourf(gx, gy, gz, levels=12, cmap=_CMAP, alpha=0.85)
    filled.set_gid(f"contour-{kind}")
    if uncertain is not None and uncertain.any():
        how += "; pale where it is unsure"
        ax.contourf(gx, gy, uncertain.astype(float), levels=[0.5, 1.5], colors="white",
                    alpha=0.45).set_gid("contour-uncertain")
    ax.text(0.0, 1.01, how, transform=ax.transAxes, fontsize=7, color="#555555",
            va="bottom", gid="contour-model")
    ax.scatter(px, py, s=8, c="white", edgecolors="black", linewidths=0.4, gid="contour-trials")
    i = int(np.argmin(Direction(study.direction).sign * z))
    ax.plot([px[i]], [py[i]], "*", ms=13, color=COLORS["best"], mec="black", mew=0.6,
            gid="contour-best")
    for axis, name in ((ax.xaxis, x), (ax.yaxis, y)):
        positions, labels = _ticks(space[name])
        axis.set_ticks(positions, labels, fontsize=SMALL)
    ax.set_xlabel(_text(x, 30), fontsize=SMALL)
    ax.set_ylabel(_text(y, 30), fontsize=SMALL)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    fig.colorbar(filled, ax=ax, fraction=0.05, pad=0.03).set_label(_objective_label(study),
                                                                   fontsize=SMALL)
    return described(plain_text(fig), study)


def plot_slice(study: Any, ncols: int = 4) -> Figure:
    """Score against each parameter, one small plot each; the best trial is a star."""
    return described(params_figure(study, ncols), study, "Score against each parameter")


def plot_importances(study: Any, evaluator: str = "ped-anova") -> Figure:
    """Importances with their uncertainty (``"ped-anova"``, Optuna 5's default, or
    ``"fanova"``): bars with one standard deviation as error bars."""
    ranks = importances_with_spread(study, evaluator)
    items = list(ranks.items())[::-1]
    fig = new_figure(6.0, 0.8 + 0.32 * len(items))
    ax = fig.add_axes((0.28, 0.45 / fig.get_figheight(), 0.68,
                       1 - 0.8 / fig.get_figheight()))
    _style(ax, f"Importance ({evaluator}), ± 1 sd")
    ax.barh(range(len(items)), [v for _, (v, _) in items], xerr=[s for _, (_, s) in items],
            color=COLORS["complete"], ecolor="#333333", capsize=3, gid="importances")
    ax.set_yticks(range(len(items)), [_text(k, 22) for k, _ in items], fontsize=SMALL)
    ax.set_xlim(0, max(1e-9, max(v + s for _, (v, s) in items)) * 1.05)
    return described(plain_text(fig), study)


def _shared_label(studies: Sequence[Any]) -> str:
    """The objective the studies' scores are of, when they agree (else plain "score")."""
    labels = {_objective_label(study) for study in studies}
    return labels.pop() if len(labels) == 1 else "score"


def _edf_axes(ax: Any, studies: Sequence[Any]) -> None:
    _style(ax, "Empirical distribution of scores")
    for k, study in enumerate(studies):
        values = np.sort([t.value for t in _scored(study)])
        if len(values):
            ax.step(values, np.arange(1, len(values) + 1) / len(values), where="post",
                    color=f"C{k}", label=_legend_label(study.name), gid=f"edf:{k}")
    ax.set_xlabel(_shared_label(studies), fontsize=SMALL)
    ax.set_ylabel("share of trials ≤ score", fontsize=SMALL)
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7, frameon=False, loc="best" if len(studies) < 6 else "lower right")


def plot_edf(*studies: Any) -> Figure:
    """The empirical cumulative distribution of the complete trials' scores, one step line
    per study."""
    if not studies:
        raise TuneError("plot_edf needs at least one study.")
    fig = new_figure(6.4, 3.8)
    _edf_axes(fig.add_subplot(), studies)
    return described(plain_text(fig), studies)


def _lanes(trials: list[Any]) -> list[int]:
    """A lane per trial so that trials in one lane never overlap in time: the worker a trial
    ran on when recorded (``user_attrs["worker"]``), else the first free lane."""
    ends: list[float] = []
    out = []
    for t in trials:
        worker = t.user_attrs.get("worker")
        # A lane number as the executors record it (not a user's pid, a bool or -1).
        if isinstance(worker, int) and not isinstance(worker, bool) and 0 <= worker < 1024:
            out.append(worker)
            continue
        lane = next((i for i, end in enumerate(ends) if end <= t.started + 1e-9), len(ends))
        if lane == len(ends):
            ends.append(0.0)
        ends[lane] = t.finished if t.finished is not None else np.inf
        out.append(lane)
    return out


def plot_timeline(study: Any) -> Figure:
    """Which trial ran when, and alongside which: one bar per trial from start to end,
    coloured by state, one row per worker (or per concurrent slot), labelled with the
    worker's address where it has one (Dask). Stragglers stand out as long bars."""
    trials = sorted((t for t in study.trials if t.started is not None), key=lambda t: t.started)
    _need(trials, 1, study, "A timeline")
    lanes = _lanes(trials)
    t0 = min(t.started for t in trials)
    now = max(t.finished or t.started for t in trials)
    fig = new_figure(7.0, 1.2 + 0.28 * (max(lanes) + 1))
    ax = fig.add_subplot()
    _style(ax, f"Timeline: {len(trials)} trials on {max(lanes) + 1} lanes")
    by_state: dict[str, list[tuple[float, float, int]]] = {}
    for t, lane in zip(trials, lanes):
        end = t.finished if t.finished is not None else now
        state = "manual" if t.manual else t.state.value
        by_state.setdefault(state, []).append((t.started - t0, end - t.started, lane))
    span = max(now - t0, 1e-3)
    for state, bars in by_state.items():
        b = np.array(bars, dtype=float)
        # Every bar at least 0.2 % of the span wide: a quick trial still shows.
        x0, x1 = b[:, 0], b[:, 0] + np.maximum(b[:, 1], 0.002 * span)
        y0, y1 = b[:, 2] - 0.4, b[:, 2] + 0.4
        boxes = np.stack([np.column_stack(c) for c in
                          ((x0, y0), (x1, y0), (x1, y1), (x0, y1))], axis=1)
        color = COLORS.get(state, "#7f7f7f")
        ax.add_collection(PolyCollection(boxes, facecolors=color, edgecolors="none",
                                         gid=f"timeline-{state}"))
        ax.plot([], [], "s", color=color, label=state)
    ax.set_xlim(-0.01 * span, span * 1.01)
    ax.set_xlabel("seconds since the first trial started", fontsize=SMALL)
    ax.set_ylabel("worker", fontsize=SMALL)
    ax.set_ylim(max(lanes) + 0.6, -0.6)
    names: dict[int, set[str]] = {}
    for t, lane in zip(trials, lanes):
        if isinstance(t.user_attrs.get("worker_name"), str):
            names.setdefault(lane, set()).add(t.user_attrs["worker_name"])
    if names:  # a lane that held several workers (over several runs) keeps its number
        labels = [_text(next(iter(names[k])).split("://")[-1], 24)
                  if len(names.get(k, ())) == 1 else str(k) for k in range(max(lanes) + 1)]
        ax.set_yticks(range(len(labels)), labels, fontsize=SMALL)
        # Room for the longest label (about 0.6 em a character) and the axis label.
        inches = 0.4 + max(map(len, labels)) * 0.6 * SMALL / 72
        fig.subplots_adjust(left=min(0.4, inches / fig.get_figwidth()))
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=5, fontsize=7,
              frameon=False, borderaxespad=0.1)
    return described(plain_text(fig), study)


def plot_compare(studies: Sequence[Any]) -> Figure:
    """Several studies on one Figure: best score so far against trial number, and the
    empirical distribution of their scores."""
    if not studies:
        raise TuneError("plot_compare needs at least one study.")
    fig = new_figure(11.0, 3.8)
    history, edf = fig.subplots(1, 2)
    _style(history, "Best so far")
    for k, study in enumerate(studies):
        trials = _scored(study)
        if trials:
            x, y = best_so_far([t.number for t in trials], [t.value for t in trials],
                               study.direction)
            history.plot(x, y, drawstyle="steps-post", color=f"C{k}", lw=1.5,
                         label=_legend_label(study.name), gid=f"compare:{k}")
    history.set_xlabel("trial", fontsize=SMALL)
    history.set_ylabel(f"best {_shared_label(studies)}", fontsize=SMALL)
    history.legend(fontsize=7, frameon=False)
    _edf_axes(edf, studies)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.15, top=0.9, wspace=0.22)
    return described(plain_text(fig), studies)


def plot_kind(study: Any, kind: str, **options: Any) -> Figure:
    """The plot named ``kind`` (one of :data:`KINDS`) of ``study``."""
    from ._figures import plot, plot_history

    plots = {"dashboard": plot, "history": plot_history,
             "parallel": plot_parallel_coordinates, "contour": plot_contour,
             "slice": plot_slice, "importance": plot_importances, "edf": plot_edf,
             "timeline": plot_timeline}
    if kind not in plots:
        raise TuneError(f"Unknown plot kind {kind!r}; choose one of {', '.join(KINDS)}.")
    return plots[kind](study, **options)
