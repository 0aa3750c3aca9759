"""One ipywidgets control per distribution, reading and writing values in the distribution's terms.

Modelled on ipywidgets' ``interaction.py``: a small ``widget_from_*`` function per kind of
distribution, and :func:`control_for` picks one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as w

from ..distributions import Choice, Distribution, Float, Grid, Int
from ..exceptions import TuneError

__all__ = ["Control", "control_for", "describe", "description_width", "option_labels",
           "tex_literal", "widget_from_choice", "widget_from_float", "widget_from_int"]

#: Positions of a continuous slider (its step is the range over this).
SLIDER_STOPS = 200
#: Choices shown as toggle buttons rather than a dropdown: few and short.
MAX_TOGGLES, MAX_TOGGLE_LABEL = 4, 10
#: Longer names go on their own line above the control: in the description column of a
#: control ``_LAYOUT`` wide, they would squeeze the slider to nothing.
MAX_DESCRIPTION = 20
#: The description of a control whose name has its own line: shown, and nothing to see.
_BLANK = "\u200b"

_STYLE = {"description_width": "initial"}
_LAYOUT = {"width": "440px"}


class Control:
    """A hyperparameter's widget plus the conversions between widget and parameter values.

    Parameters
    ----------
    name : str
    dist : Distribution
    widget : ipywidgets.ValueWidget
    to_widget, from_widget : callable
        Parameter value -> widget value, and back.
    """

    def __init__(self, name: str, dist: Distribution, widget: w.ValueWidget, *,
                 to_widget: Callable[[Any], Any], from_widget: Callable[[Any], Any]) -> None:
        self.name = name
        self.dist = dist
        self.widget = widget
        self._to_widget = to_widget
        self._from_widget = from_widget
        line = w.HBox([widget, w.Label(describe(dist))], layout={"align_items": "center"})
        if len(name) > MAX_DESCRIPTION:
            # A Label typesets its text as TeX, as a description does. As a flex box it would
            # lay out each escaped "$" and "\\" as an item of its own, eating the spaces.
            label = w.Label(tex_literal(name), tooltip=_tooltip(name, dist),
                            layout={"display": "block"}, _dom_classes=["hpt-param-name"])
            self.row = w.VBox([label, line])
        else:
            self.row = line

    @property
    def value(self) -> Any:
        """The parameter value the widget shows, always inside the distribution."""
        v = self._from_widget(self.widget.value)
        return v if self.dist.contains(v) else self.dist.clip(v)

    @value.setter
    def value(self, value: Any) -> None:
        self.check(value)
        self.widget.value = self._to_widget(self.dist.clip(value))

    def check(self, value: Any) -> None:
        """Raise a :class:`TuneError` when ``value`` is outside the distribution."""
        if not self.dist.contains(value):
            raise TuneError(f"{value!r} is outside {self.name}'s range {self.dist!r} "
                            f"({describe(self.dist)}). Give a value inside the range.")

    def __repr__(self) -> str:
        return f"Control({self.name!r}, {self.dist!r}, value={self.value!r})"


def describe(dist: Distribution) -> str:
    """The range and scale of a distribution in a few words.

    Examples
    --------
    >>> describe(Float(1e-4, 0.1, log=True))
    '0.0001 … 0.1, log scale'
    >>> describe(Int(1, 9, step=2))
    '1 … 9, integers, step 2'
    """
    if isinstance(dist, Choice):
        kind = "grid points" if isinstance(dist, Grid) else "options"
        return f"{len(dist)} {kind}"
    text = f"{dist.low:g} … {dist.high:g}"
    if isinstance(dist, Int):
        text += ", integers"
    if dist.log:
        text += ", log scale"
    elif dist.step is not None and not (isinstance(dist, Int) and dist.step == 1):
        text += f", step {dist.step:g}"
    return text


def description_width(names: Sequence[str]) -> str:
    """One description width for the controls of ``names``, so that their sliders start in
    one column: the longest name shown as a description (see :data:`MAX_DESCRIPTION`).

    Examples
    --------
    >>> description_width(["lr", "batch_size", "a_parameter_name_too_long_to_fit"])
    '11ch'
    """
    return f"{max([len(n) for n in names if len(n) <= MAX_DESCRIPTION], default=0) + 1}ch"


def _description(name: str) -> str:
    """The widget's description: the name, unless it goes on its own line (see Control).
    Then a zero-width space: ipywidgets hides an empty description, and its slider would
    start at the left edge instead of in the column of the others."""
    return tex_literal(name) if len(name) <= MAX_DESCRIPTION else _BLANK


def _tooltip(name: str, dist: Distribution) -> str:
    return f"{name}: {dist!r}, {describe(dist)}; default {dist.default!r}"


def tex_literal(text: str) -> str:
    r"""``text`` as MathJax shows it literally.

    ipywidgets typesets a description as TeX, so a parameter name read from a shared study
    would otherwise render ``$...$`` as math and ``\href`` as a link. With MathJax's
    ``processEscapes`` (on in JupyterLab and the classic notebook) ``\$`` and ``\\`` are a
    plain ``$`` and ``\``; text without either is unchanged.

    Examples
    --------
    >>> print(tex_literal(r"$\alpha$ \(x\)"), tex_literal("lr"))
    \$\\alpha\$ \\(x\\) lr
    """
    return text.replace("\\", "\\\\").replace("$", "\\$")


def _common(name: str, dist: Distribution) -> dict[str, Any]:
    """The options every slider of a parameter shares."""
    return dict(description=_description(name), tooltip=_tooltip(name, dist),
                continuous_update=False, style=_STYLE, layout=_LAYOUT)


def _log_slider(name: str, dist: Float | Int, value: float, readout: str) -> w.FloatLogSlider:
    """A base-10 log slider over the distribution's range."""
    lo, hi = math.log10(dist.low), math.log10(dist.high)
    return w.FloatLogSlider(value=value, base=10, min=lo, max=hi, step=(hi - lo) / SLIDER_STOPS,
                            readout_format=readout, **_common(name, dist))


def widget_from_float(name: str, dist: Float, value: float) -> Control:
    """A ``FloatLogSlider`` for a log-scale float, else a ``FloatSlider``."""
    if dist.log:
        widget = _log_slider(name, dist, value, ".3")
    else:
        step = dist.step if dist.step is not None else (dist.high - dist.low) / SLIDER_STOPS
        widget = w.FloatSlider(value=value, min=dist.low, max=dist.high, step=step,
                               readout_format=".4", **_common(name, dist))
    return Control(name, dist, widget, to_widget=float, from_widget=float)


def widget_from_int(name: str, dist: Int, value: int) -> Control:
    """An ``IntSlider``; for a log-scale int a ``FloatLogSlider`` read as rounded integers."""
    if dist.log:
        return Control(name, dist, _log_slider(name, dist, value, ",.0f"), to_widget=float,
                       from_widget=lambda v: int(round(v)))
    widget = w.IntSlider(value=value, min=dist.low, max=dist.high, step=dist.step,
                         **_common(name, dist))
    return Control(name, dist, widget, to_widget=int, from_widget=int)


def widget_from_choice(name: str, dist: Choice, value: Any) -> Control:
    """``ToggleButtons`` for a few short options, else a ``Dropdown``.

    The widget's values are option positions, so options that compare equal across types
    (``1``, ``1.0``, ``True``) stay distinct.
    """
    labels = option_labels(dist.options)
    options = list(zip(labels, range(len(labels))))
    few = len(labels) <= MAX_TOGGLES and max(map(len, labels)) <= MAX_TOGGLE_LABEL
    cls = w.ToggleButtons if few else w.Dropdown
    if few:  # label and buttons on one line, as for the sliders
        style, layout = {**_STYLE, "button_width": "auto"}, {**_LAYOUT, "display": "flex"}
    else:
        style, layout = _STYLE, _LAYOUT
    widget = cls(options=options, value=dist.index(value), description=_description(name),
                 tooltip=_tooltip(name, dist), style=style, layout=layout)
    return Control(name, dist, widget, to_widget=dist.index,
                   from_widget=lambda i: dist.options[i])


def option_labels(options: Sequence[Any]) -> list[str]:
    """A distinct label for each option: text as it is, anything else by its ``repr``; text
    that would read as another option is quoted, and labels still alike are numbered
    (a widget whose labels repeat highlights the wrong button).

    Examples
    --------
    >>> option_labels(["relu", 1, "1", None])
    ['relu', '1', "'1'", 'None']
    """
    labels = [o if isinstance(o, str) else repr(o) for o in options]
    clash = {label for label in labels if labels.count(label) > 1}
    labels = [repr(o) if isinstance(o, str) and label in clash else label
              for o, label in zip(options, labels)]
    repeated = {label for label in labels if labels.count(label) > 1}
    seen: dict[str, int] = {}
    for i, label in enumerate(labels):
        if label in repeated:
            seen[label] = seen.get(label, 0) + 1
            labels[i] = f"{label} ({seen[label]})"
    return labels


def control_for(name: str, dist: Distribution, value: Any) -> Control:
    """The control of one hyperparameter, set to ``value`` (the default when outside ``dist``)."""
    value = dist.clip(value) if dist.contains(value) else dist.default
    if isinstance(dist, Float):
        return widget_from_float(name, dist, value)
    if isinstance(dist, Int):
        return widget_from_int(name, dist, value)
    if isinstance(dist, Choice):
        return widget_from_choice(name, dist, value)
    raise TuneError(f"Parameter {name!r}: no widget for {type(dist).__name__}. Use Float, Int "
                    "or Choice.")
