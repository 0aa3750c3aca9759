"""The summary shown after a run, as HTML: the engine's plain-text summary and table, escaped."""

from __future__ import annotations

import html
from typing import Any

from ..study._results import summary_table, summary_text, table_title
from ._html import image_html

__all__ = ["summary_text", "summary_html", "summary_bundle", "view_fallback"]


def summary_html(study: Any, elapsed: float | None = None, n_new: int | None = None,
                 k: int = 5, *, text: str | None = None) -> str:
    """The same as :func:`summary_text` as HTML; every string is escaped."""
    text = summary_text(study, elapsed, n_new, k=0) if text is None else text
    text = html.escape(text).replace("\n", "<br>")
    return f'<div class="hpt-summary"><p>{text}</p>{_table_html(study, k)}</div>'


def summary_bundle(study: Any, elapsed: float | None = None, n_new: int | None = None,
                   k: int = 5, *, text: str | None = None) -> dict[str, str]:
    """The summary as a MIME bundle: HTML and plain text, with a table of the top ``k``
    trials (none with ``k=0``)."""
    return {"text/html": summary_html(study, elapsed, n_new, k, text=text),
            "text/plain": summary_text(study, elapsed, n_new, k, text=text)}


def view_fallback(study: Any, bundle: dict[str, Any], k: int = 5) -> dict[str, str]:
    """What a dashboard ``bundle`` shows in front ends without the JupyterLab extension, and
    in an HTML export, with the table of the top ``k`` trials that the extension's view lists
    itself (none with ``k=0``).

    Returns ``text/html`` when the bundle has an image: the image, with the bundle's text as
    its alternative text, then the table (front ends prefer HTML to the bare PNG, and a PNG
    output has no alternative text). With a table, also the bundle's ``text/plain`` with the
    table below it. Nothing else: no table before a trial is complete.
    """
    table = _table_html(study, k)
    out = {}
    if table:
        out["text/plain"] = summary_text(study, k=k, text=bundle["text/plain"])
    png = bundle.get("image/png")
    if png is not None:
        image = image_html(png, bundle["text/plain"])
        out["text/html"] = f'<div class="hpt-summary">{image}{table}</div>'
    return out


def _table_html(study: Any, k: int) -> str:
    header, rows = summary_table(study, k)
    if not rows:
        return ""
    out = [f"<p>{html.escape(table_title(study, len(rows)))}:</p><table><thead><tr>"]
    out += [f"<th>{html.escape(h)}</th>" for h in header]
    out.append("</tr></thead><tbody>")
    for r in rows:
        out.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)

