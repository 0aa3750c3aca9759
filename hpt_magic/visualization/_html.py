"""HTML shared by the figures and the summary, with no import of theirs (a leaf module)."""

from __future__ import annotations

import base64
import html

__all__ = ["image_html"]


def image_html(png: bytes | str, alt: str) -> str:
    """An ``<img>`` of a PNG (bytes, or already base64) with its alternative text."""
    data = png if isinstance(png, str) else base64.b64encode(png).decode("ascii")
    return (f'<img src="data:image/png;base64,{html.escape(data)}" alt="{html.escape(alt)}" '
            'style="max-width: 100%">')
