"""The dashboard's panels, drawn on plain matplotlib Figures (Agg, no pyplot state).

Every ``draw_*`` function takes an Axes and a *view*: any object with ``direction``,
``trials`` (trial objects with ``number``, ``state``, ``value``, ``params``, ``intermediate``,
``manual``, ``user_attrs``) and ``search_space()``. A :class:`~hpt_magic.Study` is one; the
live dashboard passes its own model of the study, built from events.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from ._space import Choice, Distribution

__all__ = ["best_so_far", "fade_alphas", "draw_history", "draw_curves", "draw_params",
           "draw_importances", "dashboard_figure", "new_figure", "png_bytes"]

COLORS = {"complete": "#1f77b4", "pruned": "#8c8c8c", "failed": "#d62728",
          "interrupted": "#8c564b", "manual": "#9467bd", "best": "#ff7f0e",
          "running": "#2ca02c", "lineage": "#555555"}
#: Curves fade with age: the newest keep ``ALPHA_MAX``, every ``HALF_LIFE`` older trials
#: halve the rest, down to ``ALPHA_MIN`` (hundreds of faint lines still show the density).
ALPHA_MAX, ALPHA_MIN, HALF_LIFE = 0.9, 0.06, 12.0
MAX_PARAMS = 12
SMALL = 8


def new_figure(width: float, height: float) -> Figure:
    """A Figure with an Agg canvas, outside pyplot (never shown, never registered)."""
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig: Figure, dpi: float = 80) -> bytes:
    """Render ``fig`` to PNG (fast zlib level: the image changes at every update)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, pil_kwargs={"compress_level": 1})
    return buf.getvalue()


# -- data ------------------------------------------------------------------------------------
def best_so_far(numbers: Sequence[int], values: Sequence[float],
                direction: str) -> tuple[np.ndarray, np.ndarray]:
    """The running best score after each trial, in trial-number order.

    Examples
    --------
    >>> x, y = best_so_far([0, 1, 2, 3], [3.0, 1.0, 2.0, 0.5], "minimize")
    >>> y.tolist()
    [3.0, 1.0, 1.0, 0.5]
    """
    x = np.asarray(numbers, dtype=float)
    y = np.asarray(values, dtype=float)
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    acc = np.minimum if direction == "minimize" else np.maximum
    return x, acc.accumulate(y) if len(y) else y


def fade_alphas(n: int, *, alpha_max: float = ALPHA_MAX, alpha_min: float = ALPHA_MIN,
                half_life: float = HALF_LIFE) -> np.ndarray:
    """Opacity of ``n`` curves, oldest first: the newest is ``alpha_max``.

    Examples
    --------
    >>> fade_alphas(3, half_life=1.0, alpha_min=0.0).tolist()
    [0.225, 0.45, 0.9]
    """
    age = np.arange(n - 1, -1, -1, dtype=float)
    return alpha_min + (alpha_max - alpha_min) * 0.5 ** (age / half_life)


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _best(view: Any) -> Any:
    best = None
    minimize = view.direction == "minimize"
    for t in view.trials:
        if t.state.value == "complete" and _finite(t.value) and (
                best is None or (t.value < best.value if minimize else t.value > best.value)):
            best = t
    return best


def _robust_limits(values: np.ndarray, direction: str) -> tuple[float, float] | None:
    """Y limits that keep the good end exact but cut a few far-off bad scores."""
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return None
    lo, hi = float(values.min()), float(values.max())
    if len(values) >= 10:
        if direction == "minimize":
            q = float(np.quantile(values, 0.9))
            hi = min(hi, q + (q - lo))
        else:
            q = float(np.quantile(values, 0.1))
            lo = max(lo, q - (hi - q))
    pad = 0.05 * (hi - lo) or 0.05 * abs(hi) or 0.05
    return lo - pad, hi + pad


def _text(s: Any, limit: int = 18) -> str:
    """Any value as plain text for matplotlib (no mathtext), shortened."""
    s = str(s)
    if len(s) > limit:
        s = s[:limit - 1] + "…"
    return s.replace("$", r"\$")


def _style(ax: Any, title: str) -> None:
    ax.set_title(title, fontsize=10, loc="left")
    ax.tick_params(labelsize=SMALL)
    ax.grid(True, linewidth=0.4, alpha=0.4)


def _empty(ax: Any, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=SMALL, color="#777777",
            transform=ax.transAxes)


# -- panels ----------------------------------------------------------------------------------
def draw_history(ax: Any, view: Any) -> None:
    """Score against trial number, by state, with the best-so-far line."""
    _style(ax, "History")
    ax.set_xlabel("trial", fontsize=SMALL)
    ax.set_ylabel("score", fontsize=SMALL)
    groups: dict[str, tuple[list[int], list[float]]] = {}
    bottom: dict[str, list[int]] = {}
    for t in view.trials:
        state = t.state.value
        if state in ("complete", "pruned") and _finite(t.value):
            key = "manual" if t.manual and state == "complete" else state
            xs, ys = groups.setdefault(key, ([], []))
            xs.append(t.number)
            ys.append(float(t.value))
        elif state in ("failed", "interrupted", "pruned"):
            bottom.setdefault(state, []).append(t.number)
    if not groups and not bottom:
        _empty(ax, "no finished trial yet")
        return
    xs, ys = groups.get("pruned", ([], []))
    ax.plot(xs, ys, "o", ms=3.5, mfc="none", mec=COLORS["pruned"], mew=0.8, gid="history-pruned",
            label="pruned")
    xs, ys = groups.get("complete", ([], []))
    ax.plot(xs, ys, "o", ms=3.5, color=COLORS["complete"], alpha=0.85, mew=0,
            gid="history-complete", label="complete")
    xs, ys = groups.get("manual", ([], []))
    if xs:
        ax.plot(xs, ys, "D", ms=5, color=COLORS["manual"], gid="history-manual", label="manual")
    for state, numbers in bottom.items():
        ax.plot(numbers, [0.03] * len(numbers), "x", ms=5, color=COLORS[state],
                transform=ax.get_xaxis_transform(), clip_on=False, gid=f"history-{state}",
                label="failed" if state == "failed" else state)
    scored = groups.get("complete", ([], []))[0] + groups.get("manual", ([], []))[0]
    values = groups.get("complete", ([], []))[1] + groups.get("manual", ([], []))[1]
    if scored:
        x, y = best_so_far(scored, values, view.direction)
        last = max(t.number for t in view.trials)
        x, y = np.append(x, last), np.append(y, y[-1])
        ax.plot(x, y, drawstyle="steps-post", color=COLORS["best"], lw=1.5, gid="best-so-far",
                label="best so far")
        best = _best(view)
        ax.plot([best.number], [best.value], "*", ms=11, color=COLORS["best"], mec="black",
                mew=0.5, gid="history-best")
    all_y = np.array([v for _, ys in groups.values() for v in ys], dtype=float)
    limits = _robust_limits(all_y, view.direction)
    if limits:
        ax.set_ylim(*limits)
    ax.legend(fontsize=7, loc="best", frameon=False, markerscale=0.8)


def draw_curves(ax: Any, view: Any) -> None:
    """Reported values against step: faded by age, stops marked, best on top, PBT links."""
    _style(ax, "Learning curves")
    ax.set_xlabel("step", fontsize=SMALL)
    ax.set_ylabel("reported value", fontsize=SMALL)
    trials = sorted((t for t in view.trials if t.intermediate), key=lambda t: t.number)
    if not trials:
        _empty(ax, "no learning curve reported (tune.report)")
        return
    best = _best(view)
    alphas = fade_alphas(len(trials))
    segments, colors, stops, stop_colors = [], [], [], []
    curves: dict[int, np.ndarray] = {}
    for t, alpha in zip(trials, alphas):
        pts = np.array(sorted(t.intermediate.items()), dtype=float)
        pts = pts[np.isfinite(pts[:, 1])]
        if not len(pts):
            continue
        curves[t.number] = pts
        state = t.state.value
        if state == "running":
            alpha = 1.0
        color = COLORS["pruned"] if state == "pruned" else COLORS[
            "running" if state == "running" else "complete"]
        segments.append(pts)
        colors.append(to_rgba(color, alpha))
        if state == "pruned" or t.user_attrs.get("decision") in ("stop", "pause"):
            stops.append(pts[-1])
            stop_colors.append(to_rgba(COLORS["failed"], max(alpha, 0.3)))
    ax.add_collection(LineCollection(segments, colors=colors, linewidths=1.0, gid="curves"))
    links = []
    for t in trials:
        parent = t.user_attrs.get("parent")
        if t.number in curves and parent in curves:
            first = curves[t.number][0]
            before = curves[parent][curves[parent][:, 0] <= first[0]]
            if len(before):
                links.append([before[-1], first])
    if links:
        ax.add_collection(LineCollection(links, colors=COLORS["lineage"], linewidths=0.8,
                                         linestyles="--", gid="lineage"))
    if stops:
        s = np.array(stops)
        ax.scatter(s[:, 0], s[:, 1], s=14, marker="x", c=stop_colors, linewidths=0.8,
                   gid="curves-stops", zorder=3)
    if best is not None and best.number in curves:
        pts = curves[best.number]
        ax.plot(pts[:, 0], pts[:, 1], color=COLORS["best"], lw=2.0, gid="curves-best",
                zorder=4, label=f"best (trial {best.number})")
        ax.legend(fontsize=7, loc="best", frameon=False)
    allpts = np.concatenate(segments) if segments else np.zeros((0, 2))
    if len(allpts):
        lo, hi = float(allpts[:, 0].min()), float(allpts[:, 0].max())
        ax.set_xlim(lo - 0.02 * (hi - lo or 1), hi + 0.02 * (hi - lo or 1))
        limits = _robust_limits(allpts[:, 1], view.direction)
        if limits:
            ax.set_ylim(*limits)


def _param_names(view: Any, order: Sequence[str] | None) -> list[str]:
    names = list(view.search_space())
    if order:
        ranked = [n for n in order if n in names]
        names = ranked + [n for n in names if n not in ranked]
    return names


def draw_param(ax: Any, view: Any, name: str, dist: Distribution | None) -> None:
    """Score against the values of one parameter (log axis for log distributions)."""
    _style(ax, _text(name, 30))
    xs, ys, numbers = [], [], []
    for t in view.trials:
        if t.state.value == "complete" and _finite(t.value) and name in t.params:
            xs.append(t.params[name])
            ys.append(float(t.value))
            numbers.append(t.number)
    if isinstance(dist, Choice):
        index = {repr(o): i for i, o in enumerate(dist.options)}
        # A fixed jitter per trial number: points do not move between updates.
        jitter = (np.asarray(numbers, dtype=float) * 0.6180339887) % 1.0 * 0.5 - 0.25
        x = np.array([index.get(repr(v), -1) for v in xs], dtype=float) + jitter
        ax.set_xticks(range(len(dist.options)))
        ax.set_xticklabels([_text(o, 10) for o in dist.options], fontsize=SMALL)
        ax.set_xlim(-0.6, len(dist.options) - 0.4)
    else:
        x = np.array([v if _finite(v) else np.nan for v in xs], dtype=float)
        if dist is not None and getattr(dist, "log", False):
            ax.set_xscale("log")
        if dist is not None and hasattr(dist, "low"):
            lo, hi = float(dist.low), float(dist.high)
            if getattr(dist, "log", False):
                ax.set_xlim(lo / (hi / lo) ** 0.03, hi * (hi / lo) ** 0.03)
            else:
                ax.set_xlim(lo - 0.03 * (hi - lo), hi + 0.03 * (hi - lo))
    ax.plot(x, ys, "o", ms=3, color=COLORS["complete"], alpha=0.6, mew=0, gid=f"param:{name}")
    if ys:
        i = int(np.argmin(ys) if view.direction == "minimize" else np.argmax(ys))
        ax.plot([x[i]], [ys[i]], "*", ms=10, color=COLORS["best"], mec="black", mew=0.5)
        limits = _robust_limits(np.asarray(ys), view.direction)
        if limits:
            ax.set_ylim(*limits)
    ax.locator_params(axis="y", nbins=4)


def draw_params(fig: Figure, spec: Any, view: Any, *, order: Sequence[str] | None = None,
                ncols: int = 4) -> list[Any]:
    """Small multiples of :func:`draw_param` in the grid cell ``spec``; returns the Axes."""
    names = _param_names(view, order)[:MAX_PARAMS]
    space = view.search_space()
    if not names:
        ax = fig.add_subplot(spec)
        _style(ax, "Parameters")
        _empty(ax, "no parameter yet")
        return [ax]
    ncols = min(ncols, len(names))
    grid = spec.subgridspec(math.ceil(len(names) / ncols), ncols, wspace=0.25, hspace=0.55)
    axes = []
    for i, name in enumerate(names):
        ax = fig.add_subplot(grid[i // ncols, i % ncols])
        draw_param(ax, view, name, space.get(name))
        axes.append(ax)
    return axes


def draw_importances(ax: Any, importances: Mapping[str, float]) -> None:
    """Horizontal bars, most important on top."""
    _style(ax, "Importance")
    items = sorted(importances.items(), key=lambda kv: kv[1])[-MAX_PARAMS:]
    ax.barh(range(len(items)), [v for _, v in items], color=COLORS["complete"], gid="importances")
    ax.set_yticks(range(len(items)))
    ax.set_yticklabels([_text(k, 14) for k, _ in items], fontsize=SMALL)


def dashboard_figure(view: Any, importances: Mapping[str, float] | None = None,
                     width: float = 12.0) -> Figure:
    """The three panels (and importances when given) in one Figure."""
    order = sorted(importances, key=importances.get, reverse=True) if importances else None
    n = min(len(view.search_space()), MAX_PARAMS) or 1
    ncols = min(4, n)
    rows = math.ceil(n / ncols)
    top, row = 3.2, 2.0
    height = top + 0.9 + rows * row
    fig = new_figure(width, height)
    outer = fig.add_gridspec(2, 1, height_ratios=[top, rows * row], left=0.06, right=0.98,
                             top=1 - 0.35 / height, bottom=0.45 / height, hspace=0.9 / top)
    widths = [1.0, 1.0, 0.55] if importances else [1.0, 1.0]
    upper = outer[0].subgridspec(1, len(widths), width_ratios=widths, wspace=0.2)
    draw_history(fig.add_subplot(upper[0]), view)
    draw_curves(fig.add_subplot(upper[1]), view)
    if importances:
        draw_importances(fig.add_subplot(upper[2]), importances)
    draw_params(fig, outer[1], view, order=order, ncols=ncols)
    return fig
