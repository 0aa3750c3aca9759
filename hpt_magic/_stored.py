"""How a study file holds values that JSON cannot: choice options such as classes, functions,
tuples or numpy values.

A value's *stored form* is JSON data. Strings, numbers, booleans and ``None`` stay as they are;
numpy scalars and arrays become numbers and lists, tuples become lists (a :class:`Choice
<hpt_magic.distributions.Choice>` notes which of its options were tuples). Anything else --
a class, a function, a frozenset, an estimator -- is stored by its label, ``{"hpt_option":
"RandomForestClassifier"}``: its qualified name, or its ``repr`` without memory addresses.

A kernel that defines the options gets its own objects back (a choice matches a stored value
to the option of the same stored form); a kernel that only reads the file sees a
:class:`StoredOption`, which prints as the label.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

__all__ = ["PLAIN", "StoredOption", "stored_form", "restore", "label_of", "is_label"]

#: The key of a stored label; a dict with only this key is a label, not a dict option.
LABEL_KEY = "hpt_option"
#: Labels longer than this are cut: a stored value is written with every trial.
MAX_LABEL = 200
#: Containers nested deeper than this (or holding themselves) are stored by their label.
MAX_DEPTH = 50
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


class StoredOption:
    """A choice option that the study file holds by its label, as a kernel that does not
    define the option sees it; it prints as the label.

    Examples
    --------
    >>> option = StoredOption("RandomForestClassifier")
    >>> option, option == StoredOption("RandomForestClassifier")
    (RandomForestClassifier, True)
    """

    __slots__ = ("label",)

    def __init__(self, label: str) -> None:
        self.label = label

    def __eq__(self, other: object) -> bool:
        return type(other) is StoredOption and other.label == self.label

    def __hash__(self) -> int:
        return hash((StoredOption, self.label))

    def __repr__(self) -> str:
        return self.label


def label_of(value: Any) -> str:
    """A readable label of ``value`` that another kernel computes alike: the qualified name
    of a class or function, else the ``repr`` without memory addresses (a set's items
    sorted, whose order varies between processes).

    Examples
    --------
    >>> import collections
    >>> label_of(collections.OrderedDict), label_of(len), label_of(frozenset({"b", "a"}))
    ('OrderedDict', 'len', "frozenset({'a', 'b'})")
    >>> label_of(object())
    '<object object>'
    """
    if isinstance(value, StoredOption):
        return value.label
    try:
        name = getattr(value, "__qualname__", None)
    except Exception:  # a proxy object whose attribute access fails
        name = None
    if isinstance(name, str) and name:
        text = name
    elif isinstance(value, (set, frozenset)):
        text = f"{type(value).__name__}({{{', '.join(sorted(map(label_of, value)))}}})"
    else:
        try:
            text = repr(value)
        except Exception:  # a broken __repr__ must not stop a trial from being stored
            text = f"<{type(value).__qualname__} object>"
        text = _ADDRESS.sub("", text)
    return text if len(text) <= MAX_LABEL else text[:MAX_LABEL - 1] + "…"


#: Types JSON holds as they are (exactly these: subclasses take the longer way).
PLAIN = frozenset({str, int, float, bool, type(None)})


def stored_form(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON data (see the module's description); never fails.

    Examples
    --------
    >>> import numpy as np
    >>> stored_form({"h": (32, 64), "x": np.float64(0.5), "est": dict, "v": np.arange(2)})
    {'h': [32, 64], 'x': 0.5, 'est': {'hpt_option': 'dict'}, 'v': [0, 1]}
    """
    kind = type(value)
    if kind in PLAIN:  # the common case first: this runs for every value a trial stores
        return value
    # Plain items inline, for the same reason (a trial's attributes, metrics and scores).
    if kind is dict and depth < MAX_DEPTH:
        return {k if type(k) is str else _key(k):
                v if type(v) in PLAIN else stored_form(v, depth + 1) for k, v in value.items()}
    if kind is list and depth < MAX_DEPTH:
        return [v if type(v) in PLAIN else stored_form(v, depth + 1) for v in value]
    if isinstance(value, np.generic):  # before float: np.float64 is one
        return stored_form(value.item(), depth)
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, StoredOption):
        return {LABEL_KEY: value.label}
    if depth < MAX_DEPTH:
        if isinstance(value, np.ndarray):
            return stored_form(value.tolist(), depth)
        if isinstance(value, (list, tuple)):
            return [stored_form(v, depth + 1) for v in value]
        if isinstance(value, dict):
            return {_key(k): stored_form(v, depth + 1) for k, v in value.items()}
    return {LABEL_KEY: label_of(value)}


def _key(key: Any) -> Any:
    if isinstance(key, np.generic):
        key = key.item()
    return key if key is None or isinstance(key, (str, int, float)) else label_of(key)


def is_label(data: Any) -> bool:
    """Whether JSON ``data`` is a stored label (``{"hpt_option": "..."}``)."""
    return type(data) is dict and len(data) == 1 and isinstance(data.get(LABEL_KEY), str)


def restore(data: Any) -> Any:
    """JSON ``data`` read from a study file with its labels as :class:`StoredOption`.

    Examples
    --------
    >>> restore([{"hpt_option": "SVC"}, {"k": 1}])
    [SVC, {'k': 1}]
    """
    if isinstance(data, list):
        return [restore(v) for v in data]
    if isinstance(data, dict):
        if is_label(data):
            return StoredOption(data[LABEL_KEY])
        return {k: restore(v) for k, v in data.items()}
    return data
