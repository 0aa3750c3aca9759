"""The ``hp`` of ``build(hp)``: each call defines a parameter (Keras Tuner's spellings too)
and returns its value, drawn by the trial inside a search and the default or a given value
outside."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from ..distributions import Choice, Distribution, Float, Int
from ..exceptions import TuneError
from ..trial import Trial

__all__ = ["HyperParameters"]


class HyperParameters:
    """The ``hp`` passed to ``build(hp)``: each call defines a parameter and returns its value.

    Inside a search the value comes from the trial (define-by-run: parameters may depend on
    earlier ones, e.g. one width per layer). Outside, it comes from ``values`` or is the
    distribution's default, so ``build(HyperParameters())`` builds a reasonable model.

    Keras Tuner's spellings work too: ``min_value``/``max_value`` for ``low``/``high``,
    ``sampling="log"``, and ``parent_name``/``parent_values`` (see :meth:`conditional_scope`).

    Parameters
    ----------
    values : dict, optional
        Fixed values, e.g. those of :meth:`Tuner.get_best_hyperparameters`.
    trial : Trial, optional
        The trial that draws the values (set by the tuner).
    overrides : dict of str -> Distribution, optional
        Distributions that replace those ``build`` gives for the same names (Keras Tuner's
        ``hyperparameters=`` argument of a tuner).
    tune_new_entries : bool
        With ``False``, only the parameters of ``overrides`` are searched; the others take
        their defaults.

    Attributes
    ----------
    values : dict
        The value of every parameter defined so far.
    space : dict of str -> Distribution
        The distributions of those searched.

    Examples
    --------
    >>> hp = HyperParameters({"units": 32})
    >>> hp.Int("units", 8, 128, log=True), hp.Choice("act", ["relu", "tanh"])
    (32, 'relu')
    >>> hp.values
    {'units': 32, 'act': 'relu'}
    """

    def __init__(self, values: Mapping[str, Any] | None = None, *,
                 trial: Trial | None = None,
                 overrides: Mapping[str, Distribution] | None = None,
                 tune_new_entries: bool = True) -> None:
        self.trial = trial
        self.values: dict[str, Any] = dict(values or {})
        self.space: dict[str, Distribution] = {}
        self.overrides = dict(overrides or {})
        self.tune_new_entries = tune_new_entries
        self._conditions: list[tuple[str, list[Any]]] = []

    def _get(self, name: str, dist: Distribution, parent_name: str | None = None,
             parent_values: Any = None) -> Any:
        if parent_name is not None:
            with self.conditional_scope(parent_name, parent_values):
                return self._get(name, dist)
        if not self._active():
            return None
        dist = self.overrides.get(name, dist)
        searched = self.tune_new_entries or name in self.overrides
        if self.trial is not None and searched:
            value = self.trial.suggest(name, dist)
        elif name in self.values:
            value = self.values[name]
            if not dist.contains(value):
                raise TuneError(f"HyperParameters: the value {value!r} given for {name!r} is "
                                f"outside {dist!r}.")
        else:
            value = dist.default
        if searched:
            self.space[name] = dist
        self.values[name] = value
        return value

    def _active(self) -> bool:
        return all(parent in self.values and self.values[parent] in allowed
                   for parent, allowed in self._conditions)

    def Float(self, name: str, low: float | None = None, high: float | None = None,
              step: float | None = None, sampling: str | None = None,
              default: float | None = None, *, log: bool = False,
              min_value: float | None = None, max_value: float | None = None,
              parent_name: str | None = None, parent_values: Any = None) -> float | None:
        """A float in ``[low, high]``; ``log=True`` (or ``sampling="log"``) for a log scale.

        The positional order is Keras Tuner's: ``hp.Float("lr", 1e-4, 1e-2, None, "log")``.
        """
        low, high = _bounds("Float", name, low, high, min_value, max_value)
        log = _log_scale("Float", name, log, sampling, step)
        return self._get(name, Float(low, high, log=log, step=step, default=default),
                         parent_name, parent_values)

    def Int(self, name: str, low: int | None = None, high: int | None = None,
            step: int | None = None, sampling: str | None = None, default: int | None = None,
            *, log: bool = False, min_value: int | None = None, max_value: int | None = None,
            parent_name: str | None = None, parent_values: Any = None) -> int | None:
        """An integer in ``[low, high]``, both included; ``hp.Int("units", 32, 512, 32)``
        steps by 32, as in Keras Tuner."""
        low, high = _bounds("Int", name, low, high, min_value, max_value)
        log = _log_scale("Int", name, log, sampling, None if step == 1 else step)
        return self._get(name, Int(low, high, log=log, step=1 if step is None else step,
                                   default=default), parent_name, parent_values)

    def Choice(self, name: str, values: Sequence[Any], ordered: bool | None = None,
               default: Any = None, *, parent_name: str | None = None,
               parent_values: Any = None) -> Any:
        """One of ``values`` (default: the first). ``ordered`` (Keras Tuner's) is ignored:
        the samplers treat options as unordered."""
        return self._get(name, Choice(values, default=default), parent_name, parent_values)

    def Boolean(self, name: str, default: bool = False, *, parent_name: str | None = None,
                parent_values: Any = None) -> bool | None:
        """``True`` or ``False``."""
        return self._get(name, Choice([False, True], default=default), parent_name,
                         parent_values)

    def Fixed(self, name: str, value: Any, *, parent_name: str | None = None,
              parent_values: Any = None) -> Any:
        """A constant: recorded with the trial's parameters (results, best hyperparameters)
        but never searched.

        Examples
        --------
        >>> hp = HyperParameters()
        >>> hp.Fixed("optimizer", "adam"), hp.values
        ('adam', {'optimizer': 'adam'})
        """
        return self._get(name, Choice([value]), parent_name, parent_values)

    @contextmanager
    def conditional_scope(self, parent_name: str, parent_values: Any) -> Iterator[None]:
        """Parameters defined in the ``with`` body exist only while the parameter
        ``parent_name`` has one of ``parent_values`` (a value or a list).

        The body still runs (Python runs every ``with`` body): while the condition does not
        hold, ``hp`` calls in it return ``None`` and define nothing, as in Keras Tuner. Guard
        the code that uses them with an ``if``, or write the condition in Python alone.

        Examples
        --------
        >>> hp = HyperParameters()
        >>> kind = hp.Choice("kind", ["linear", "mlp"])
        >>> with hp.conditional_scope("kind", ["mlp"]):
        ...     units = hp.Int("units", 8, 64)
        >>> kind, units, hp.values
        ('linear', None, {'kind': 'linear'})
        """
        if self._active() and parent_name not in self.values:
            raise TuneError(
                f"HyperParameters.conditional_scope: the parent {parent_name!r} has not been "
                f"defined; known: {sorted(self.values)}. Define it (e.g. hp.Choice"
                f"({parent_name!r}, [...])) before the scope that depends on it.")
        allowed = list(parent_values) if isinstance(parent_values, (list, tuple, set)) \
            else [parent_values]
        self._conditions.append((parent_name, allowed))
        try:
            yield
        finally:
            self._conditions.pop()

    def get(self, name: str) -> Any:
        """The value of a parameter defined earlier."""
        if name not in self.values:
            raise TuneError(f"HyperParameters: {name!r} has not been defined; known: "
                            f"{sorted(self.values)}.")
        return self.values[name]

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __repr__(self) -> str:
        return f"HyperParameters({self.values!r})"


def _bounds(kind: str, name: str, low: Any, high: Any, min_value: Any,
            max_value: Any) -> tuple[Any, Any]:
    """``low``/``high``, or Keras Tuner's ``min_value``/``max_value``: one spelling each."""
    if (low is not None and min_value is not None) or (high is not None and max_value is not None):
        raise TuneError(f"hp.{kind}({name!r}): give each bound once, as low/high or as "
                        "min_value/max_value, not both.")
    low = low if min_value is None else min_value
    high = high if max_value is None else max_value
    if low is None or high is None:
        raise TuneError(f"hp.{kind}({name!r}) needs both bounds: hp.{kind}({name!r}, low, high) "
                        "(or min_value=..., max_value=... as in Keras Tuner).")
    return low, high


def _log_scale(kind: str, name: str, log: bool, sampling: str | None, step: Any) -> bool:
    """Whether the range is searched on a log scale; a step there is refused."""
    if sampling is None or sampling == "linear":
        log_scale = log
    elif sampling == "log":
        log_scale = True
    else:
        raise TuneError(f"hp.{kind}({name!r}): sampling={sampling!r} is not supported. Use "
                        "sampling='linear' or 'log' (Keras Tuner's 'reverse_log' has no "
                        "counterpart here).")
    if log_scale and step is not None:
        raise TuneError(
            f"hp.{kind}({name!r}): step={step!r} with sampling='log' is not supported (in "
            "Keras Tuner it multiplies: 32, 64, 128... for step=2). Drop step to search the "
            f"whole range on a log scale, or list the values: hp.Choice({name!r}, [...]).")
    return log_scale
