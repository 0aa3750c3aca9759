"""The dashboard's panels, each drawn on a matplotlib Axes (see ``_layout`` for the Figures).

Every ``draw_*`` function takes an Axes and a *view*: any object with ``direction``,
``trials`` (trial objects with ``number``, ``state``, ``value``, ``params``, ``intermediate``,
``manual``, ``user_attrs``), ``top_trials(k)`` and ``search_space()``. A
:class:`~hpt_magic.Study` is one; the live dashboard passes its own model of the study, built
from events.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.ticker import AutoLocator, FuncFormatter, NullLocator

from .._format import option_text
from ..distributions import Choice, Distribution
from ..trial import Direction

__all__ = ["best_so_far", "fade_alphas", "param_names", "draw_history", "draw_curves",
           "draw_param", "draw_params", "draw_importances"]

COLORS = {"complete": "#1f77b4", "pruned": "#8c8c8c", "failed": "#d62728",
          "interrupted": "#8c564b", "manual": "#9467bd", "best": "#ff7f0e",
          "running": "#2ca02c", "lineage": "#555555"}
#: Curves fade with age: the newest keep ``ALPHA_MAX``, every ``HALF_LIFE`` older trials
#: halve the rest, down to ``ALPHA_MIN`` (hundreds of faint lines still show the density).
ALPHA_MAX, ALPHA_MIN, HALF_LIFE = 0.9, 0.06, 12.0
MAX_CURVES = 250
MAX_PARAMS = 12
SMALL = 8


# -- data ------------------------------------------------------------------------------------
def best_so_far(numbers: Sequence[int], values: Sequence[float],
                direction: str | Direction) -> tuple[np.ndarray, np.ndarray]:
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
    sign = Direction(direction).sign
    return x, sign * np.minimum.accumulate(sign * y) if len(y) else y


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
    top = view.top_trials(1)
    return top[0] if top else None


def _robust_limits(values: np.ndarray, direction: str | Direction) -> tuple[float, float] | None:
    """Y limits that keep the good end exact but cut a few far-off bad scores."""
    sign = Direction(direction).sign
    losses = sign * values[np.isfinite(values)]
    if len(losses) == 0:
        return None
    lo, hi = float(losses.min()), float(losses.max())
    if len(losses) >= 10:
        q = float(np.quantile(losses, 0.9))
        hi = min(hi, q + (q - lo))
    pad = 0.05 * (hi - lo) or 0.05 * abs(hi) or 0.05
    low, high = sorted((sign * (lo - pad), sign * (hi + pad)))
    return low, high


def _text(s: Any, limit: int = 18) -> str:
    """Any value as plain text for matplotlib (no mathtext), shortened."""
    s = str(s)
    if len(s) > limit:
        s = s[:limit - 1] + "…"
    return s.replace("$", r"\$")


def _legend_label(s: Any, limit: int = 24) -> str:
    """:func:`_text` as a legend entry: matplotlib leaves out a label that starts with ``_``
    (a study named ``_baseline``), so such a label gets a leading space."""
    s = _text(s, limit)
    return " " + s if s.startswith("_") else s


def _objective_label(view: Any, limit: int = 24) -> str:
    """What a panel of ``t.value`` plots: ``"score"`` for one unnamed objective, else the
    first objective's name and direction, as the Pareto panel writes them."""
    names = list(getattr(view, "objectives", None) or ["value"])
    if names == ["value"]:
        return "score"
    direction = Direction((getattr(view, "directions", None) or [view.direction])[0])
    return f"{_text(names[0], limit)} {'↑' if direction is Direction.MAXIMIZE else '↓'}"


def _style(ax: Any, title: str, grid: bool = True) -> None:
    ax.set_axis_on()
    # A fixed title height: automatic placement measures every tick label at each draw.
    ax.set_title(title, fontsize=10, loc="left", y=1.0, pad=4)
    ax.tick_params(labelsize=SMALL)
    if grid:
        ax.grid(True, linewidth=0.4, alpha=0.4)


def _empty(ax: Any, message: str) -> None:
    """A panel with nothing to show yet: the title and a hint, no meaningless axes."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=SMALL, color="#777777",
            transform=ax.transAxes)


# -- panels ----------------------------------------------------------------------------------
def draw_history(ax: Any, view: Any) -> None:
    """Score against trial number, by state, with the best-so-far line."""
    _style(ax, "History")
    ax.locator_params(nbins=5)  # every tick label costs a text layout at each update
    ax.set_xlabel("trial", fontsize=SMALL)
    ax.set_ylabel(_objective_label(view), fontsize=SMALL)
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
    styles = {"pruned": dict(marker="o", ms=3.5, mfc="none", mec=COLORS["pruned"], mew=0.8),
              "complete": dict(marker="o", ms=4, color=COLORS["complete"], alpha=0.85, mew=0,
                               zorder=3),
              "manual": dict(marker="D", ms=5, color=COLORS["manual"], zorder=3)}
    for key, style in styles.items():
        if key in groups:
            xs, ys = groups[key]
            ax.plot(xs, ys, ls="none", gid=f"history-{key}", label=key, **style)
    for state, numbers in bottom.items():
        ax.plot(numbers, [0.03] * len(numbers), "x", ms=5, color=COLORS[state],
                transform=ax.get_xaxis_transform(), clip_on=False, gid=f"history-{state}",
                label=state)
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
                mew=0.5, gid="history-best", label="best trial")
    last = max(t.number for t in view.trials)
    _space_versions(ax, view.trials)
    ax.set_xlim(-0.5 - 0.02 * last, last + 0.5 + 0.02 * last)
    all_y = np.array([v for _, ys in groups.values() for v in ys], dtype=float)
    limits = _robust_limits(all_y, view.direction)
    if limits:
        ax.set_ylim(*limits)
    _legend(ax)


def _space_versions(ax: Any, trials: list[Any]) -> None:
    """A dotted line where an edited search space begins, labelled with its version."""
    seen = 0
    for t in sorted(trials, key=lambda t: t.number):
        version = t.user_attrs.get("space_version", 0)
        if not isinstance(version, int) or isinstance(version, bool):
            continue  # (a file written elsewhere may hold anything)
        if version > seen:
            seen = version
            ax.axvline(t.number - 0.5, color=COLORS["pruned"], lw=0.8, ls=":",
                       gid=f"space-v{version}")
            ax.text(t.number - 0.5, 0.98, f" space v{version + 1}", fontsize=SMALL - 1,
                    color=COLORS["pruned"], va="top", transform=ax.get_xaxis_transform())


def draw_curves(ax: Any, view: Any) -> None:
    """Reported values against step: faded by age, stops marked, best on top, PBT links.

    The newest :data:`MAX_CURVES` trials are drawn one by one; older ones become a band
    (10-90 % of their values at each step), which reads better and draws much faster.
    """
    _style(ax, "Learning curves")
    ax.locator_params(nbins=5)
    ax.set_title("", loc="right")
    ax.set_xlabel("step", fontsize=SMALL)
    ax.set_ylabel("reported value", fontsize=SMALL)
    curves: dict[int, np.ndarray] = {}
    for t in sorted(view.trials, key=lambda t: t.number):
        if t.intermediate:
            pts = np.array(sorted(t.intermediate.items()), dtype=float)
            pts = pts[np.isfinite(pts[:, 1])]
            if len(pts):
                curves[t.number] = pts
    if not curves:
        _empty(ax, "no learning curve reported (tune.report)")
        return
    trials = {t.number: t for t in view.trials}
    numbers = list(curves)
    old, recent = numbers[:-MAX_CURVES], numbers[-MAX_CURVES:]
    if old:
        _draw_band(ax, np.concatenate([curves[n] for n in old]))
    segments, colors, stops, stop_colors = [], [], [], []
    for number, alpha in zip(recent, fade_alphas(len(recent))):
        t = trials[number]
        state = t.state.value
        if state == "running":
            alpha = 1.0
        color = COLORS["complete" if state in ("complete", "waiting") else state]
        segments.append(curves[number])
        colors.append(to_rgba(color, alpha))
        if state == "pruned" or t.user_attrs.get("decision") in ("stop", "pause"):
            stops.append(curves[number][-1])
            stop_colors.append(to_rgba(COLORS["pruned"], max(alpha, 0.3)))
    ax.add_collection(LineCollection(segments, colors=colors, linewidths=1.0, gid="curves"))
    links = []
    for number in recent:
        parent = trials[number].user_attrs.get("parent")
        if parent in curves:
            first = curves[number][0]
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
    best = _best(view)
    if best is not None and best.number in curves:
        pts = curves[best.number]
        ax.plot(pts[:, 0], pts[:, 1], color=COLORS["best"], lw=2.0, gid="curves-best",
                zorder=4)
        # Said in the title, not a legend: legends are slow to lay out at every update.
        ax.set_title(f"best: trial {best.number}", fontsize=SMALL, loc="right", y=1.0, pad=4,
                     color=COLORS["best"])
    allpts = np.concatenate(list(curves.values()))
    lo, hi = float(allpts[:, 0].min()), float(allpts[:, 0].max())
    ax.set_xlim(lo - 0.02 * (hi - lo or 1), hi + 0.02 * (hi - lo or 1))
    limits = _robust_limits(allpts[:, 1], view.direction)
    if limits:
        ax.set_ylim(*limits)


def _draw_band(ax: Any, pts: np.ndarray) -> None:
    """The 10-90 % range of the values reported at each step (by older trials)."""
    order = np.lexsort((pts[:, 1], pts[:, 0]))
    pts = pts[order]
    steps, start, count = np.unique(pts[:, 0], return_index=True, return_counts=True)
    lo = pts[start + ((count - 1) * 0.1).astype(int), 1]
    hi = pts[start + np.ceil((count - 1) * 0.9).astype(int), 1]
    ax.fill_between(steps, lo, hi, color=COLORS["complete"], alpha=0.18, lw=0, gid="curves-band")


def _legend(ax: Any) -> None:
    # A fixed place above the axes: "best" placement is slow with thousands of points.
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=4, fontsize=7, frameon=False,
              borderaxespad=0.1, handlelength=1.2, columnspacing=1.0)


def draw_param(ax: Any, view: Any, name: str, dist: Distribution | None) -> None:
    """Score against the values of one parameter (log axis for log distributions).

    Complete trials are dots, manual ones diamonds, pruned ones (scored at the step they
    reached) hollow circles; the best trial is a star.
    """
    _style(ax, _text(name, 30), grid=False)
    values, ys, numbers, pruned, manual = [], [], [], [], []
    for t in view.trials:
        state = t.state.value
        if state in ("complete", "pruned") and _finite(t.value) and name in t.params:
            values.append(t.params[name])
            ys.append(float(t.value))
            numbers.append(t.number)
            pruned.append(state == "pruned")
            manual.append(bool(t.manual) and state == "complete")
    x = _param_positions(ax, dist, values, numbers)
    y, done = np.array(ys, dtype=float), ~np.array(pruned, dtype=bool)
    by_hand = np.array(manual, dtype=bool)
    ax.plot(x[~done], y[~done], "o", ms=3.5, mfc="none", mec=COLORS["pruned"], mew=0.7,
            gid=f"param-pruned:{name}")
    ax.plot(x[done & ~by_hand], y[done & ~by_hand], "o", ms=3, color=COLORS["complete"],
            alpha=0.7, mew=0, gid=f"param:{name}")
    if by_hand.any():
        ax.plot(x[by_hand], y[by_hand], "D", ms=4, color=COLORS["manual"], mew=0,
                gid=f"param-manual:{name}")
    if done.any():
        i = int(np.argmin(np.where(done, Direction(view.direction).sign * y, np.inf)))
        ax.plot([x[i]], [y[i]], "*", ms=10, color=COLORS["best"], mec="black", mew=0.5)
    if isinstance(ax.yaxis.get_major_locator(), NullLocator):
        ax.yaxis.set_major_locator(AutoLocator())  # (drawn before any score: draw_params)
    ax.locator_params(axis="y", nbins=4)


def _param_positions(ax: Any, dist: Distribution | None, values: list[Any],
                     numbers: list[int]) -> np.ndarray:
    """X positions of ``values`` (jittered category indices for a Choice); sets the x axis."""
    if isinstance(dist, Choice):
        index = {repr(o): i for i, o in enumerate(dist.options)}
        # A fixed jitter per trial number: points do not move between updates.
        jitter = (np.asarray(numbers, dtype=float) * 0.6180339887) % 1.0 * 0.5 - 0.25
        ax.set_xticks(range(len(dist.options)))
        ax.set_xticklabels([_text(option_text(o), 10) for o in dist.options], fontsize=SMALL)
        ax.set_xlim(-0.6, len(dist.options) - 0.4)
        return np.array([index.get(repr(v), np.nan) for v in values], dtype=float) + jitter
    log = bool(getattr(dist, "log", False))
    if (ax.get_xscale() == "log") != log:
        ax.set_xscale("log" if log else "linear")
        if log:
            # Plain "0.001" labels and no minor ticks: the defaults are slow to draw.
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_locator(NullLocator())
    if not log:
        ax.locator_params(axis="x", nbins=4)
    if dist is not None and hasattr(dist, "low"):
        lo, hi = float(dist.low), float(dist.high)
        if log:
            ax.set_xlim(lo / (hi / lo) ** 0.03, hi * (hi / lo) ** 0.03)
        else:
            ax.set_xlim(lo - 0.03 * (hi - lo), hi + 0.03 * (hi - lo))
    return np.array([v if _finite(v) else np.nan for v in values], dtype=float)


def draw_params(axes: Sequence[Any], view: Any, names: Sequence[str]) -> None:
    """:func:`draw_param` for each name on its Axes (a hint when there is no parameter)."""
    space = view.search_space()
    if not names:
        _style(axes[0], "Parameters")
        _empty(axes[0], "no parameter yet")
    for ax, name in zip(axes, names):
        draw_param(ax, view, name, space.get(name))
    scores = np.array([t.value for t in view.trials if t.state.value in ("complete", "pruned")
                       and _finite(t.value)], dtype=float)
    limits = _robust_limits(scores, view.direction)
    if limits and names:
        for ax in axes:
            ax.set_ylim(*limits)
    elif names and not scores.size:
        # No score yet (a manual tuner before its first run): the ranges of the parameters
        # on x, and no made-up score scale on y.
        for ax in axes:
            ax.yaxis.set_major_locator(NullLocator())


def draw_importances(ax: Any, importances: Mapping[str, float]) -> None:
    """Horizontal bars, most important on top."""
    _style(ax, "Importance")
    items = sorted(importances.items(), key=lambda kv: kv[1])[-MAX_PARAMS:]
    ax.barh(range(len(items)), [v for _, v in items], color=COLORS["complete"], gid="importances")
    ax.set_yticks(range(len(items)))
    ax.set_yticklabels([_text(k, 14) for k, _ in items], fontsize=SMALL)


def param_names(view: Any, order: Sequence[str] | None) -> list[str]:
    """The parameters to show: those ranked in ``order`` first, then the others."""
    names = list(view.search_space())
    if order:
        ranked = [n for n in order if n in names]
        names = ranked + [n for n in names if n not in ranked]
    return names
