"""How numbers and durations read, in every text, table, image and widget of the package.

One home so that the summary, the progress line and the widgets never disagree on how a
score or a time is written.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Mapping
from typing import Any

from ._stored import label_of

__all__ = ["error_line", "format_duration", "format_number", "format_value", "format_params",
           "isolate", "option_text", "plain_line", "text_width"]

#: Longest error message quoted in a line of text (a summary, a widget's message): a trial's
#: error may be any length, and its full text stays on the trial.
MAX_ERROR_LINE = 300
#: Terminal escape sequences (colours, cursor moves) and other control characters.
_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
                      r"|[\x00-\x1f\x7f-\x9f]")
#: Right-to-left letters (Hebrew to N'Ko and beyond, their presentation forms) and the bidi
#: controls: the same set as the JupyterLab view's (labextension/src/bidi.ts).
_BIDI = re.compile("[\u0590-\u08ff\u200e\u200f\u202a-\u202e\u2066-\u2069\ufb1d-\ufdff"
                   "\ufe70-\ufefe\U00010800-\U00010fff\U0001e800-\U0001efff]")
#: The bidi embeddings, overrides and isolates: a text's own would outlive its isolate.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def format_number(value: float | None, digits: int = 6) -> str:
    """A score with ``digits`` significant digits; ``n/a`` when there is none.

    Examples
    --------
    >>> format_number(0.123456789), format_number(12345678.0), format_number(0.5, 4)
    ('0.123457', '1.23457e+07', '0.5')
    >>> format_number(None), format_number(-0.0)
    ('n/a', '0')
    """
    if value is None:
        return "n/a"
    # A negative zero (a negated loss of 0) reads 0, not -0.
    return f"{0.0 if value == 0 else value:.{digits}g}"


def format_value(value: Any, *, quote: bool = True) -> str:
    """A parameter value: a float to 4 significant digits, anything else as its ``repr``
    (``quote``, in a ``name=value`` list) or as :func:`option_text` (in a table cell).

    Examples
    --------
    >>> format_value(0.000123456), format_value("relu"), format_value("relu", quote=False)
    ('0.0001235', "'relu'", 'relu')
    >>> format_value(dict), format_value(len)
    ('dict', 'len')
    """
    if isinstance(value, float):
        return format_number(value, 4)
    return repr(value) if quote and not _named(value) else option_text(value)


def option_text(value: Any) -> str:
    """An option as plain text: a class or function by its name, as a study file holds it
    (``RandomForestClassifier``, not ``<class '...'>``), anything else as its ``str``.

    Examples
    --------
    >>> option_text(dict), option_text((32,)), option_text(None)
    ('dict', '(32,)', 'None')
    """
    return label_of(value) if _named(value) else str(value)


def _named(value: Any) -> bool:
    return inspect.isclass(value) or inspect.isroutine(value)


def format_params(params: Mapping[str, Any]) -> str:
    """``name=value, ...`` with :func:`format_value`; names and values through :func:`isolate`.

    Examples
    --------
    >>> format_params({"lr": 0.0123456, "act": "relu", "n": 3})
    "lr=0.01235, act='relu', n=3"
    """
    return ", ".join(f"{isolate(str(k))}={isolate(format_value(v))}" for k, v in params.items())


def isolate(text: str) -> str:
    """``text`` (a name or value someone wrote) ready to sit inside a sentence: between
    U+2068 FIRST STRONG ISOLATE and U+2069 POP DIRECTIONAL ISOLATE when it holds right-to-left
    letters or bidi controls, which could reorder the rest of the line (U+202E alone turns it
    around), and without its own controls (its own U+2069 would close the isolate early);
    left-to-right text as it is, so copied text carries no invisible characters.

    Examples
    --------
    >>> isolate("lr"), isolate("\u2069\u202ex") == "\u2068x\u2069"
    ('lr', True)
    """
    return f"\u2068{_BIDI_CONTROLS.sub('', text)}\u2069" if _BIDI.search(text) else text


def text_width(text: str) -> int:
    """The columns ``text`` takes: the isolates of :func:`isolate` take none."""
    return len(text) - text.count("\u2068") - text.count("\u2069")


def plain_line(text: str, limit: int | None = None) -> str:
    """Text someone wrote (a name, a message) as one line of plain text: line breaks as
    spaces, terminal escape sequences and other control characters dropped (a tab read as a
    space), at most ``limit`` characters, passed through :func:`isolate`.

    Examples
    --------
    >>> plain_line("ValueError: \\x1b[31mbad\\x1b[0m\\nvalue"), plain_line("E" * 9, 5)
    ('ValueError: bad value', 'EEEE…')
    """
    if limit is not None:
        text = text[:8 * limit]  # (cut first: a long message is cleaned on every update)
    text = " ".join(_CONTROL.sub("", line.replace("\t", " ")) for line in text.splitlines())
    return isolate(text if limit is None or len(text) <= limit else text[:limit - 1] + "…")


def error_line(error: str, limit: int = MAX_ERROR_LINE) -> str:
    """An error message in a line of text: :func:`plain_line`, at most ``limit`` characters
    (the full text stays on the trial)."""
    return plain_line(error, limit)


def format_duration(seconds: float | None) -> str:
    """``850 ms``, ``12.3 s``, ``4 min 05 s`` or ``2 h 03 min``; ``?`` when unknown.

    The value is rounded to the unit shown before the unit is chosen, so a time never reads
    ``60.0 s`` or ``60 min``.

    Examples
    --------
    >>> format_duration(0.4213), format_duration(59.96), format_duration(119.6)
    ('421 ms', '1 min 00 s', '2 min 00 s')
    >>> format_duration(3599.7), format_duration(7380), format_duration(None)
    ('1 h 00 min', '2 h 03 min', '?')
    """
    if seconds is None or not math.isfinite(seconds):
        return "?"
    seconds = max(0.0, seconds)
    ms = round(seconds * 1000)
    if ms < 1000:
        return f"{ms} ms"
    tenths = f"{seconds:.1f}"
    if float(tenths) < 60:
        return f"{tenths} s"
    m, s = divmod(round(seconds), 60)
    if m < 60:
        return f"{m} min {s:02d} s"
    h, m = divmod(round(seconds / 60), 60)
    return f"{h} h {m:02d} min"
