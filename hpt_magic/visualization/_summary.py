"""The summary shown after a run: the study's one-paragraph summary and its top trials."""

from __future__ import annotations

import html
import math
from typing import Any

from ..study._results import format_duration

__all__ = ["top_trials", "summary_text", "summary_html"]

MAX_PARAM_COLUMNS = 8


def top_trials(study: Any, k: int = 5) -> list[Any]:
    """The ``k`` best complete trials, best first."""
    done = [t for t in study.trials if t.state.value == "complete" and t.value is not None
            and math.isfinite(t.value)]
    done.sort(key=lambda t: t.value, reverse=study.direction == "maximize")
    return done[:k]


def _seconds(s: float) -> str:
    """A trial's duration, readable from milliseconds to hours."""
    return f"{s * 1000:.0f} ms" if s < 1 else format_duration(s)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _table(study: Any, k: int) -> tuple[list[str], list[list[str]]]:
    trials = top_trials(study, k)
    names: list[str] = []
    for t in trials:
        names += [n for n in t.params if n not in names]
    names = names[:MAX_PARAM_COLUMNS]
    header = ["trial", "score", *names, "time"]
    rows = []
    for t in trials:
        number = f"{t.number} (manual)" if t.manual else str(t.number)
        duration = "" if t.duration is None else _seconds(t.duration)
        rows.append([number, _fmt(t.value), *(_fmt(t.params[n]) if n in t.params else ""
                                               for n in names), duration])
    return header, rows


def summary_text(study: Any, elapsed: float | None = None, n_new: int | None = None,
                 k: int = 5, *, text: str | None = None) -> str:
    """The summary (``text``, or ``study.summary``) and a table of the top ``k`` trials."""
    text = study.summary(elapsed, n_new) if text is None else text
    header, rows = _table(study, k)
    if not rows:
        return text
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    return f"{text}\n\nTop {len(rows)} trials:\n" + "\n".join(lines)


def summary_html(study: Any, elapsed: float | None = None, n_new: int | None = None,
                 k: int = 5, *, text: str | None = None) -> str:
    """The same as :func:`summary_text` as HTML; every string is escaped."""
    text = study.summary(elapsed, n_new) if text is None else text
    text = html.escape(text).replace("\n", "<br>")
    header, rows = _table(study, k)
    out = [f'<div class="hpt-summary"><p>{text}</p>']
    if rows:
        out.append(f"<p>Top {len(rows)} trials:</p><table><thead><tr>")
        out += [f"<th>{html.escape(h)}</th>" for h in header]
        out.append("</tr></thead><tbody>")
        for r in rows:
            out.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>")
        out.append("</tbody></table>")
    out.append("</div>")
    return "".join(out)
