"""The dashboard's Figures: the panels laid out, kept between updates, rendered to PNG.

Figures are plain ``matplotlib.figure.Figure`` objects with an Agg canvas, never pyplot ones:
nothing is registered globally, nothing piles up, and the user's own plotting state is left
alone.
"""

from __future__ import annotations

import io
import math
import sys
from collections.abc import Callable, Mapping
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from .._format import plain_line
from ._html import image_html
from ._panels import (
    MAX_PARAMS,
    draw_curves,
    draw_history,
    draw_importances,
    draw_params,
    param_names,
)
from ._pareto import (
    MAX_OBJECTIVES,
    draw_hypervolume,
    draw_pareto,
    draw_pareto_pairs,
    objective_points,
    pairs_axes,
)

__all__ = ["NotebookFigure", "described", "new_figure", "png_bytes", "plain_text",
           "draw_plain", "DashboardFigure", "dashboard_figure", "params_figure"]

DPI = 80


def plain_text(artist: Any) -> Any:
    """``artist`` (a Figure or Axes just drawn) with none of its text drawn by LaTeX.

    With ``text.usetex`` in a user's matplotlibrc, LaTeX would read the names of a shared
    study as TeX (``\\input{...}`` prints a file into the image) and fail on a plain
    ``learning_rate``. Set on each text rather than through ``rcParams``: the dashboard draws
    from a background run's thread, where changing the process's settings would reach the
    user's own plots. Tick labels that matplotlib adds as it renders copy the first one.
    ``$`` is escaped by ``_panels._text``.
    """
    for text in artist.findobj(Text):
        text.set_usetex(False)
    return artist


def draw_plain(ax: Any, draw: Callable[[Any, Any], None], view: Any) -> Any:
    """Draw a panel on a caller's Axes with ``draw(ax, view)``, none of its text by LaTeX.

    Only the texts the panel adds or rewrites (its titles, axis labels, legend, notes) are
    made plain, as :func:`plain_text` makes a whole Figure of ours: the caller's own text on
    ``ax``, its other Axes and its Figure keep their ``text.usetex``, and so do the tick
    labels, numbers that LaTeX reads safely. (A text the panel wrote stays plain when the
    caller sets it again afterwards, e.g. ``ax.set_xlabel``.)
    """
    before = {text: text.get_text() for text in ax.findobj(Text)}
    draw(ax, view)
    ticks = {text for axis in (ax.xaxis, ax.yaxis) for text in axis.findobj(Text)}
    ticks -= {ax.xaxis.label, ax.yaxis.label}
    for text in ax.findobj(Text):
        if text not in ticks and before.get(text) != text.get_text():
            text.set_usetex(False)
    return ax


class NotebookFigure(Figure):
    """A Figure that IPython shows as a PNG even when pyplot was never imported, with an
    alternative text (an HTML export's ``alt``, what a screen reader says)."""

    #: What the figure shows; by default its titles (see :meth:`alt_text`).
    alt: str | None = None

    def _repr_png_(self) -> bytes:
        return png_bytes(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict]:
        """The PNG with its alternative text, also as HTML: JupyterLab's HTML export reads no
        ``alt`` from a PNG's metadata.

        When IPython has a printer of its own for Figures (matplotlib's inline backend: PNG,
        retina, SVG...), that printer draws the figure, once, and only the alternative text
        goes along, as the PNG's metadata (a printer's own metadata, as retina's, replaces
        it); where no image is shown (a terminal), nothing.
        """
        formatters = _image_formatters()
        if formatters is not None and not formatters:
            return {}, {}
        alt = self.alt_text()
        metadata = {"image/png": {"alt": alt}}
        if formatters and any(_prints(formatter, self) for formatter in formatters):
            return {}, metadata
        png = png_bytes(self)
        data = {"image/png": png, "text/html": image_html(png, alt)}
        return {k: v for k, v in data.items()
                if (include is None or k in include) and (exclude is None or k not in exclude)
                }, metadata

    def alt_text(self) -> str:
        """:attr:`alt`, or the titles of its Axes."""
        if self.alt:
            return self.alt
        titles = [ax.get_title(loc).strip() for ax in self.axes for loc in ("left", "center")]
        # (as plain text: the titles escape a name's "$" for matplotlib)
        titles = [plain_line(t.replace("\\$", "$")) for t in titles]
        return "; ".join(t for t in dict.fromkeys(titles) if t) or "A plot of the study"


#: The image formats IPython shows, which matplotlib's inline backend may draw a Figure in.
_IMAGE_TYPES = ("image/png", "image/svg+xml", "image/jpeg", "application/pdf")


def _image_formatters() -> list[Any] | None:
    """The running IPython's enabled image formatters, or ``None`` outside IPython (not
    imported here)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return None
    formatters = shell.display_formatter.formatters
    return [formatters[t] for t in _IMAGE_TYPES if t in formatters and formatters[t].enabled]


def _prints(formatter: Any, fig: Figure) -> bool:
    """Whether ``formatter`` has a printer of its own for ``fig``'s type."""
    try:
        formatter.lookup(fig)
    except KeyError:
        return False
    return True


def described(fig: Figure, studies: Any, kind: str = "") -> Figure:
    """``fig``, its alternative text: ``kind`` (what sort of plot) and its titles, the
    ``studies`` it shows (a Study or several) and, for one, its counts and best trial (the
    first paragraph of its summary)."""
    if not isinstance(fig, NotebookFigure):
        return fig  # (drawn on the caller's Axes: the caller's Figure)
    many = list(studies) if isinstance(studies, (list, tuple)) else [studies]
    what = f"{kind}: {fig.alt_text()}" if kind else fig.alt_text()
    summary = getattr(many[0], "summary", None) if len(many) == 1 else None
    if callable(summary):
        fig.alt = f"{what}. {plain_line(summary(), 600)}"
    else:  # (several, or a study-like object without a summary)
        names = ", ".join(plain_line(repr(str(getattr(s, "name", "?")))) for s in many)
        fig.alt = f"{what}. {'Studies' if len(many) > 1 else 'Study'} {names}."
    return fig


def new_figure(width: float, height: float, dpi: float = DPI) -> Figure:
    """A Figure with an Agg canvas, outside pyplot (never shown, never registered)."""
    fig = NotebookFigure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig: Figure) -> bytes:
    """Render ``fig`` to PNG at its own dpi.

    The same dpi keeps the canvas's renderer, and with it matplotlib's cache of text
    layouts, from one update to the next; zlib level 1 since the image changes each time.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi="figure", pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def _param_axes(fig: Figure, spec: Any, n: int, ncols: int) -> list[Any]:
    if n == 0:
        return [fig.add_subplot(spec)]
    ncols = min(ncols, n)
    grid = spec.subgridspec(math.ceil(n / ncols), ncols, wspace=0.08, hspace=0.55)
    axes = [fig.add_subplot(grid[i // ncols, i % ncols]) for i in range(n)]
    for i, ax in enumerate(axes):
        # One score scale for all parameters (set by draw_params): labels on the left only.
        ax.tick_params(labelleft=i % ncols == 0)
    return axes


def params_figure(view: Any, ncols: int = 4) -> Figure:
    """A Figure of the parameter small multiples alone."""
    names = param_names(view, None)[:MAX_PARAMS]
    ncols = min(ncols, len(names) or 1)
    height = 2.4 * math.ceil((len(names) or 1) / ncols) + 0.3
    fig = new_figure(2.9 * ncols + 0.4, height)
    spec = fig.add_gridspec(1, 1, left=0.08, right=0.98, top=1 - 0.35 / height,
                            bottom=0.5 / height)
    draw_params(_param_axes(fig, spec[0], len(names), ncols), view, names)
    return plain_text(fig)


class DashboardFigure:
    """The dashboard's Figure, kept between updates.

    Axes, ticks and the renderer's text cache survive; only the data artists are redrawn.
    The layout is rebuilt when the parameters (or the importance panel) change.
    """

    def __init__(self, width: float = 12.0) -> None:
        self.width = width
        self.figure: Figure | None = None
        self._headline: Any = None
        self._key: tuple | None = None
        self._axes: dict[str, Any] = {}
        self._param_axes: list[Any] = []
        self._pair_axes: list[Any] = []

    def draw(self, view: Any, importances: Mapping[str, float] | None = None,
             headline: str | None = None) -> Figure:
        """Draw ``view``'s panels (and ``importances`` when given); return the Figure.

        ``headline`` (the progress line) is written above the panels: front ends that show
        the PNG show nothing else.
        """
        order = sorted(importances, key=importances.get, reverse=True) if importances else None
        names = param_names(view, order)[:MAX_PARAMS]
        # Several objectives: a Pareto panel and the hypervolume take the history's place.
        n_objectives = len(getattr(view, "directions", None) or [view.direction])
        key = (tuple(names), bool(importances), headline is not None, n_objectives)
        if key != self._key:
            self._build(len(names), bool(importances), headline is not None, n_objectives)
            self._key = key
        else:
            for ax in self.figure.axes:
                _clear(ax)
        if headline is not None:
            self._headline.set_text(headline.replace("$", r"\$"))
        if n_objectives > 1:
            points = objective_points(view)
            if n_objectives == 2:
                draw_pareto(self._axes["pareto"], points)
            else:
                draw_pareto_pairs(self._pair_axes, points)
            draw_hypervolume(self._axes["hypervolume"], points)
        else:
            draw_history(self._axes["history"], view)
        draw_curves(self._axes["curves"], view)
        if importances:
            draw_importances(self._axes["importances"], importances)
        draw_params(self._param_axes, view, names)
        return plain_text(self.figure)

    def _build(self, n_params: int, importances: bool, headline: bool,
               n_objectives: int = 1) -> None:
        ncols = min(4, n_params or 1)
        rows = math.ceil((n_params or 1) / ncols)
        # The pairs of 4 or 5 objectives need a taller row to stay readable.
        top = 3.2 if n_objectives <= 3 else 1.6 * (min(n_objectives, MAX_OBJECTIVES) - 1)
        row, head = 2.0, 0.3 if headline else 0.0
        height = head + top + 0.9 + rows * row
        fig = self.figure = new_figure(self.width, height)
        self._headline = fig.text(0.06, 1 - 0.08 / height, "", fontsize=10, va="top")
        outer = fig.add_gridspec(2, 1, height_ratios=[top, rows * row], left=0.06, right=0.98,
                                 top=1 - (0.35 + head) / height, bottom=0.45 / height,
                                 hspace=0.9 / top)
        first = ["pareto", "hypervolume"] if n_objectives > 1 else ["history"]
        panels = [*first, "curves", *(["importances"] if importances else [])]
        share = {"pareto": 1.0 if n_objectives == 2 else 1.2, "hypervolume": 0.7,
                 "history": 1.0, "curves": 1.0, "importances": 0.55}
        upper = outer[0].subgridspec(1, len(panels), width_ratios=[share[p] for p in panels],
                                     wspace=0.25)
        self._axes, self._pair_axes = {}, []
        for i, name in enumerate(panels):
            if name == "pareto" and n_objectives > 2:
                self._pair_axes = pairs_axes(fig, upper[i], n_objectives)
            else:
                self._axes[name] = fig.add_subplot(upper[i])
        self._param_axes = _param_axes(fig, outer[1], n_params, ncols)


def _clear(ax: Any) -> None:
    """Remove the data artists of ``ax``, keeping its ticks, labels and scale."""
    for artist in (*ax.lines, *ax.collections, *ax.texts, *ax.patches):
        artist.remove()
    if ax.get_legend() is not None:
        ax.get_legend().remove()


def dashboard_figure(view: Any, importances: Mapping[str, float] | None = None,
                     headline: str | None = None) -> Figure:
    """The three panels (and importances, a headline when given) in a new Figure; a
    multi-objective study shows its Pareto front and hypervolume instead of the history."""
    return DashboardFigure().draw(view, importances, headline)
