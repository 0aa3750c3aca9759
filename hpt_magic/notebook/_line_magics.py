"""What the line magics ``%tune_plot``, ``%tune_list`` and ``%tune_compare`` do: draw, list and
compare studies, each named by a notebook variable or by its name in a study file.

:class:`~hpt_magic.notebook._magic.TuneMagics` registers them; each here takes the notebook's
namespace and the magic's line, and a :class:`~hpt_magic.exceptions.TuneError` becomes the
one-paragraph :class:`UsageError` IPython shows without a traceback.
"""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.display import display

from .._format import plain_line, text_width
from ..exceptions import TuneError
from ..study._export import list_studies
from ..study._study import Study, load_study
from ._options import _options, _unquote, default_storage

__all__ = ["draw_study", "list_stored_studies", "compare_studies", "named_study"]


def draw_study(ns: dict[str, Any], line: str) -> None:
    """``%tune_plot [study-name] [--kind KIND] [--storage PATH]``: the dashboard, or the plot
    KIND, of the named study or else of the notebook's ``study``."""
    from ..visualization._analysis import KINDS, plot_kind
    from ._dashboard import show_dashboard

    parts, options = _options(line, ("--storage", "--kind"))
    kind = options.get("--kind", "dashboard")
    try:
        if kind not in KINDS:
            raise TuneError(f"Unknown plot kind {kind!r}; choose one of "
                            f"{', '.join(KINDS)}.")
        if parts:
            study = named_study(ns, parts[0], options.get("--storage"))
        else:
            study = ns.get("study")
            if not isinstance(study, Study):
                raise TuneError("No study to plot: run %%tune first, or name one: "
                                "%tune_plot NAME [--kind KIND] [--storage FILE].")
        if kind == "dashboard":
            show_dashboard(study)
        else:
            display(plot_kind(study, kind))
    except TuneError as exc:
        raise UsageError(str(exc)) from None


def named_study(ns: dict[str, Any], name: str, storage: str | None) -> Study:
    """The study in the variable ``name``, else the one stored under that name."""
    obj = ns.get(name)
    if isinstance(obj, Study):
        return obj
    if storage == "memory":
        raise TuneError(f"No variable {name!r} holds a study, and --storage memory keeps studies "
                        "in their variables only, not in a file. Give the variable that holds "
                        "it (the cell's --out, 'study' by default).")
    return load_study(name, storage or default_storage())


def list_stored_studies(line: str) -> None:
    """``%tune_list [PATH]``: print a table of the studies stored in a file."""
    # Quoted as --storage is quoted for a path with spaces; unquoted it is taken whole.
    path = _unquote(line.strip()) or default_storage()
    try:
        rows = list_studies(path)
    except TuneError as exc:
        raise UsageError(str(exc)) from None
    if not rows:
        print(f"No studies in {path}.")
        return
    # Names as plain isolated text (a stored name is anyone's: it may hold line breaks,
    # terminal escapes or right-to-left controls), padded by the columns they take.
    names = [plain_line(r["name"]) for r in rows]
    width = max(len("study"), *map(text_width, names))
    # Several objectives: each one's direction ("max,min,min" is wider than the header).
    directions = [r["direction"] if r.get("front") is None
                  else ",".join(o["direction"][:3] for o in r["objectives"]) for r in rows]
    across = max(len("direction"), *map(len, directions))
    print(f"{'study':<{width}}  {'direction':<{across}}  trials  complete  {'created':<16}  best")
    for r, name, direction in zip(rows, names, directions):
        created = "-" if r["created"] is None else r["created"].strftime("%Y-%m-%d %H:%M")
        best = "-" if r["best_value"] is None else f"{r['best_value']:.6g}"
        if r.get("front"):
            # The values of the front; a study with none has "-", as one with no best value.
            objectives = ", ".join(plain_line(o["name"]) for o in r["objectives"])
            best = f"front of {len(r['front'])} ({objectives}): " + "; ".join(
                "(" + ", ".join(f"{v:.4g}" for v in values) + ")"
                for values in r["front"][:5]) + ("; ..." if len(r["front"]) > 5 else "")
        pad = " " * (width - text_width(name))
        print(f"{name}{pad}  {direction:<{across}}  {r['n_trials']:>6}  "
              f"{r['n_complete']:>8}  {created:<16}  {best}")


def compare_studies(ns: dict[str, Any], line: str) -> None:
    """``%tune_compare A B C [--storage PATH]``: the named studies on one Figure."""
    from ..visualization._analysis import plot_compare

    names, options = _options(line, ("--storage",))
    try:
        if not names:
            raise TuneError("Name the studies to compare: %tune_compare A B [C ...] "
                            "[--storage FILE].")
        studies = [named_study(ns, n, options.get("--storage")) for n in names]
    except TuneError as exc:
        raise UsageError(str(exc)) from None
    display(plot_compare(studies))
