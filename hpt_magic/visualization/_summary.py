"""The summary shown after a run, as HTML: the engine's plain-text summary and table, escaped."""

from __future__ import annotations

import html
from typing import Any

from ..study._results import summary_table, summary_text

__all__ = ["summary_text", "summary_html"]


def summary_html(study: Any, elapsed: float | None = None, n_new: int | None = None,
                 k: int = 5, *, text: str | None = None) -> str:
    """The same as :func:`summary_text` as HTML; every string is escaped."""
    text = summary_text(study, elapsed, n_new, k=0) if text is None else text
    text = html.escape(text).replace("\n", "<br>")
    header, rows = summary_table(study, k)
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
