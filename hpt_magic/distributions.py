"""Distributions: what a hyperparameter may be, and how to sample, map and enumerate it.

Each distribution maps its values to the unit interval ``[0, 1]`` (linear or log scale), which is
the space model-based samplers work in. A discrete distribution (ints, stepped floats, choices)
has ``n_levels`` values; each owns a bin of the unit interval (equal widths, except on a log-int
scale) and stands there at its bin's centre. This module is the one home of that encoding:
samplers call :meth:`Distribution.to_unit`, :meth:`~Distribution.from_unit`,
:meth:`~Distribution.snap_unit`, :meth:`~Distribution.level_index` and
:meth:`~Distribution.level_units` instead of repeating it.
"""

from __future__ import annotations

import math
import operator
import sys
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._stored import LABEL_KEY, is_label, restore, stored_form
from .exceptions import SpaceError

__all__ = ["Distribution", "Float", "Int", "Choice", "Grid", "ParameterGrid", "from_json",
           "check_space", "check_compatible"]


#: The bounds of an ``Int``: its values are 64-bit integers.
INT64_MAX = 2**63 - 1
#: The most values an ``Int`` may have: levels are counted in float64 then cast to int64,
#: which stays exact up to the last level only below 2**63.
MAX_INT_LEVELS = 2**62

#: Share of random draws near a parameter's prior, and their width on the unit interval: a
#: good guess starts the search near it, a misleading one costs half of the random trials.
PRIOR_SHARE = 0.5
PRIOR_WIDTH = 0.1


class Distribution(ABC):
    """Base class of the distributions.

    Subclasses set ``log`` and ``default`` and implement the unit-interval mapping; a discrete
    one also sets ``n_levels``. The level methods take numpy arrays (or scalars).

    Examples
    --------
    >>> d = Int(1, 4)
    >>> d.n_levels, d.unit_levels().tolist()
    (4, [0.125, 0.375, 0.625, 0.875])
    >>> d.to_unit(2), d.from_unit(0.3), d.snap_unit([0.0, 0.3, 1.0]).tolist()
    (0.375, 2, [0.125, 0.375, 0.875])
    """

    log: bool = False
    default: Any = None
    #: A user's guess of a good value (``tune.*(..., prior=...)``): half of the random draws
    #: land near it (see :meth:`sample`), so early trials start from what the user knows.
    prior: Any = None

    def sample(self, rng: np.random.Generator) -> Any:
        """Draw one value uniformly on the distribution's scale (near the prior, if any, half
        of the time)."""
        if self.prior is not None and rng.random() < PRIOR_SHARE:
            return self.sample_near_prior(rng)
        return self.from_unit(rng.random())

    def sample_near_prior(self, rng: np.random.Generator) -> Any:
        """A value near :attr:`prior`: a normal draw of width :data:`PRIOR_WIDTH` on the unit
        interval around it (the prior itself for a choice)."""
        if self.n_levels is not None and not isinstance(self, (Float, Int)):
            return self.prior
        u = self.to_unit(self.prior) + PRIOR_WIDTH * rng.standard_normal()
        return self.from_unit(min(1.0, max(0.0, u)))

    def with_prior(self, prior: Any) -> Distribution:
        """Set :attr:`prior` (checked to lie in the distribution); return ``self``."""
        if prior is not None and not self.contains(prior):
            raise SpaceError(f"{self!r}: prior={prior!r} is not one of its values. Give a "
                             "prior inside the range (or one of the options).")
        self.prior = prior
        return self

    def _prior_json(self) -> dict[str, Any]:
        return {} if self.prior is None else {"prior": self.prior}

    @abstractmethod
    def to_unit(self, value: Any) -> float:
        """Map a value to ``[0, 1]``."""

    @abstractmethod
    def from_unit(self, u: float) -> Any:
        """Map a point of ``[0, 1]`` back to a valid value (rounded for ints, steps, choices)."""

    @property
    def n_levels(self) -> int | None:
        """How many values a discrete distribution has; ``None`` for a continuous one."""
        return None

    def level_index(self, u: ArrayLike) -> np.ndarray:
        """The level (``0 .. n_levels - 1``) that each point ``u`` of the unit interval stands
        for; points outside ``[0, 1]`` count as the nearest end."""
        n = self._levels()
        if isinstance(u, (float, int)):  # one value (every trial): no array round trip
            return np.int64(min(max(math.floor(u * n), 0), n - 1))
        # Clipped as integers: n - 1 as a float may round up to n.
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        return np.minimum(np.floor(u * n).astype(np.int64), n - 1)

    def level_units(self, k: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Where levels ``k`` sit in the unit interval: ``(centre, lower edge, upper edge)``."""
        n = self._levels()
        k = np.asarray(k, dtype=float)
        return (k + 0.5) / n, k / n, (k + 1) / n

    def snap_unit(self, u: ArrayLike) -> np.ndarray:
        """``to_unit(from_unit(u))`` for an array: ``u`` clipped to ``[0, 1]``, and a discrete
        distribution's points moved to the centre of their level."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        return u if self.n_levels is None else self.level_units(self.level_index(u))[0]

    def unit_levels(self) -> np.ndarray:
        """The unit values of all levels, in order."""
        return self.level_units(np.arange(self._levels()))[0]

    def _levels(self) -> int:
        n = self.n_levels
        if n is None:
            raise SpaceError(f"{self!r} is continuous: it has no levels in the unit interval.")
        return n

    def grid(self) -> list[Any]:
        """The values a grid search enumerates."""
        raise SpaceError(
            f"{self!r} cannot be enumerated for grid search: a continuous Float has no grid. "
            "Give it a step (Float(low, high, step=...)) or list the points with tune.grid([...])."
        )

    @abstractmethod
    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a value of this distribution."""

    def clip(self, value: Any) -> Any:
        """The valid value nearest to ``value``."""
        return self.from_unit(min(1.0, max(0.0, self.to_unit(value))))

    @abstractmethod
    def to_json(self) -> dict[str, Any]:
        """A JSON-able description, the inverse of :func:`from_json`."""

    def to_stored(self, value: Any) -> Any:
        """``value`` as a study file stores it: JSON data (see :mod:`hpt_magic._stored`)."""
        return stored_form(value)

    def from_stored(self, data: Any) -> Any:
        """The value that stored ``data`` stands for: the inverse of :meth:`to_stored`."""
        return restore(data)

    def __eq__(self, other: object) -> bool:
        # The prior is a hint for sampling, not part of what the values mean.
        return type(other) is type(self) and _shape(other) == _shape(self)

    def _identity(self) -> Any:
        """What makes two distributions of one class equal: everything but the prior."""
        data = self.to_json()
        data.pop("prior", None)
        return data

    def __hash__(self) -> int:
        # By the shape, as equality: a choice read from a file equals the one a cell defines.
        return hash((type(self).__name__, repr(_shape(self))))


def _shape(dist: Distribution) -> Any:
    # Kept on the instance: a distribution's shape never changes (only its prior may), and
    # define-by-run compares the cell's distribution with the study's at every call.
    data = dist.__dict__.get("_shape")
    if data is None:
        data = dist._identity()
        dist.__dict__["_shape"] = data
    return data


def _check_bounds(kind: str, low: float, high: float, log: bool) -> None:
    for name, v in (("low", low), ("high", high)):
        if not isinstance(v, (int, float, np.integer, np.floating)) or isinstance(v, bool):
            raise SpaceError(f"{kind}: {name}={v!r} is not a number. Pass numbers for low/high.")
        if not math.isfinite(v):
            raise SpaceError(f"{kind}: {name}={v!r} is not finite. Pass finite bounds.")
    if not low < high:
        raise SpaceError(
            f"{kind}: low={low!r} must be smaller than high={high!r}. Swap them, or use a "
            "constant instead of a distribution."
        )
    if log and low <= 0:
        raise SpaceError(
            f"{kind}: a log scale needs low > 0, got low={low!r}. Use a positive lower bound or "
            "log=False."
        )


class Float(Distribution):
    """A real number in ``[low, high]``, on a linear or log scale, optionally on a step grid.

    Examples
    --------
    >>> d = Float(1e-4, 1e-1, log=True)
    >>> round(d.default, 6)
    0.003162
    >>> d.from_unit(1.0)
    0.1
    """

    def __init__(
        self, low: float, high: float, *, log: bool = False, step: float | None = None,
        default: float | None = None,
    ) -> None:
        _check_bounds("Float", low, high, log)
        if step is not None:
            if log:
                raise SpaceError("Float: step and log=True cannot be combined. Choose one.")
            if not step > 0:
                raise SpaceError(f"Float: step={step!r} must be positive.")
        self.low, self.high, self.log, self.step = float(low), float(high), bool(log), step
        if default is None:
            default = math.sqrt(low * high) if log else (low + high) / 2
            default = self.clip(default)
        elif not self.contains(default):
            raise SpaceError(
                f"Float: default={default!r} lies outside [{low}, {high}]. Give a default inside "
                "the range."
            )
        self.default = float(default)

    def clip(self, value: Any) -> float:
        v = float(value)
        if self.step is None and self.low <= v <= self.high:
            return v
        return super().clip(min(self.high, max(self.low, v)))

    @property
    def n_levels(self) -> int | None:
        if self.step is None:
            return None
        # A tolerance so that a step that divides the range up to rounding reaches `high`.
        return int(math.floor((self.high - self.low) / self.step + 1e-9)) + 1

    def _value(self, k: int) -> float:
        return float(min(self.high, self.low + k * self.step))

    def to_unit(self, value: Any) -> float:
        v = float(value)
        if self.step is not None:
            k = min(self.n_levels - 1, max(0, round((v - self.low) / self.step)))
            return float(self.level_units(k)[0])
        if self.log:
            return (math.log(v) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (v - self.low) / (self.high - self.low)

    def from_unit(self, u: float) -> float:
        if self.step is not None:
            return self._value(int(self.level_index(u)))
        u = min(1.0, max(0.0, float(u)))
        if self.log:
            if u in (0.0, 1.0):  # exp(log(low)) can miss low by a rounding error
                return self.high if u else self.low
            lo, hi = math.log(self.low), math.log(self.high)
            return float(min(self.high, max(self.low, math.exp(lo + u * (hi - lo)))))
        return float(min(self.high, max(self.low, self.low + u * (self.high - self.low))))

    def grid(self) -> list[Any]:
        if self.step is None:
            return super().grid()
        return [self._value(k) for k in range(self.n_levels)]

    def contains(self, value: Any) -> bool:
        try:
            v = float(value)
        except (TypeError, ValueError, OverflowError):
            return False
        return self.low - 1e-12 * abs(self.low) <= v <= self.high + 1e-12 * abs(self.high)

    def to_json(self) -> dict[str, Any]:
        return {"type": "float", "low": self.low, "high": self.high, "log": self.log,
                "step": self.step, **self._prior_json()}

    def _identity(self) -> Any:
        return (self.low, self.high, self.log, self.step)

    def __repr__(self) -> str:
        extra = ", log=True" if self.log else (f", step={self.step}" if self.step else "")
        return f"Float({self.low:g}, {self.high:g}{extra})"


class Int(Distribution):
    """An integer in ``[low, high]`` (both included), on a linear or log scale.

    Examples
    --------
    >>> Int(1, 8).grid()
    [1, 2, 3, 4, 5, 6, 7, 8]
    >>> Int(16, 256, log=True).default
    64
    """

    def __init__(
        self, low: int, high: int, *, log: bool = False, step: int = 1, default: int | None = None,
    ) -> None:
        _check_bounds("Int", low, high, log)
        if int(low) != low or int(high) != high:
            raise SpaceError(f"Int: bounds must be integers, got low={low!r}, high={high!r}.")
        if int(step) != step or step < 1:
            raise SpaceError(f"Int: step={step!r} must be a positive integer.")
        if not -INT64_MAX - 1 <= int(low) <= int(high) <= INT64_MAX \
                or (int(high) - int(low)) // int(step) >= MAX_INT_LEVELS:
            raise SpaceError(
                f"Int: the range [{low}, {high}] is too large for the 64-bit numbers the "
                "samplers count its values in: the bounds must lie within +-(2**63 - 1) and "
                "the range may hold at most 2**62 values (about 4.6e18). Narrow the range, or "
                "draw a Float on a log scale and round it in the objective.")
        if log and step != 1:
            raise SpaceError("Int: step and log=True cannot be combined. Choose one.")
        self.low, self.high, self.log, self.step = int(low), int(high), bool(log), int(step)
        if default is None:
            centre = math.sqrt(low * high) if log else (low + high) / 2
            default = self.clip(centre)
        elif not self.contains(default):
            raise SpaceError(
                f"Int: default={default!r} is not an integer in [{low}, {high}] (step "
                f"{step}). Give a default inside the range."
            )
        self.default = int(default)

    @property
    def n_levels(self) -> int:
        return (self.high - self.low) // self.step + 1

    def _log_range(self) -> tuple[float, float]:
        # On a log scale value v owns [log(v - 0.5), log(v + 0.5)]: every integer gets a bin,
        # wider at the low end, so that sampling is uniform in the log.
        return math.log(self.low - 0.5), math.log(self.high + 0.5)

    def level_index(self, u: ArrayLike) -> np.ndarray:
        if not self.log:
            return super().level_index(u)
        lo, hi = self._log_range()
        v = np.round(np.exp(lo + np.asarray(u, dtype=float) * (hi - lo)))
        # Clipped again as integers: near 2**62 a float misses the last values.
        k = v.clip(self.low, self.high).astype(np.int64) - self.low
        return k.clip(0, self.n_levels - 1)

    def level_units(self, k: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.log:
            return super().level_units(k)
        lo, hi = self._log_range()
        v = self.low + np.asarray(k, dtype=float)
        centre, lower, upper = ((np.log(x) - lo) / (hi - lo) for x in (v, v - 0.5, v + 0.5))
        return centre, lower, upper

    def to_unit(self, value: Any) -> float:
        k = min(self.n_levels - 1, max(0, round((float(value) - self.low) / self.step)))
        return float(self.level_units(k)[0])

    def from_unit(self, u: float) -> int:
        return int(self.low + int(self.level_index(u)) * self.step)

    def grid(self) -> list[Any]:
        return list(range(self.low, self.high + 1, self.step))

    def contains(self, value: Any) -> bool:
        if isinstance(value, (int, np.integer)):
            v = int(value)  # exact: a float loses the last digits of a large integer
        else:
            try:
                f = float(value)
            except (TypeError, ValueError, OverflowError):
                return False
            if not f.is_integer():
                return False
            v = int(f)
        return self.low <= v <= self.high and (v - self.low) % self.step == 0

    def clip(self, value: Any) -> int:
        v = int(round(min(self.high, max(self.low, float(value)))))
        return int(self.low + round((v - self.low) / self.step) * self.step)

    def to_json(self) -> dict[str, Any]:
        return {"type": "int", "low": self.low, "high": self.high, "log": self.log,
                "step": self.step, **self._prior_json()}

    def _identity(self) -> Any:
        return (self.low, self.high, self.log, self.step)

    def __repr__(self) -> str:
        extra = ", log=True" if self.log else (f", step={self.step}" if self.step != 1 else "")
        return f"Int({self.low}, {self.high}{extra})"


class Choice(Distribution):
    """One of a list of options: strings, numbers, booleans, None, tuples or any object (a
    class, a function, an estimator).

    A study file holds an option that JSON cannot by its label (the class's name, or its
    ``repr``); a kernel that defines the options gets its own objects back, a kernel that only
    reads the file sees the labels (see :mod:`hpt_magic._stored`).

    Examples
    --------
    >>> c = Choice(["relu", "tanh"])
    >>> c.default, c.from_unit(0.9)
    ('relu', 'tanh')
    >>> hidden = Choice([(32,), (64, 64)])
    >>> hidden.to_stored((64, 64)), hidden.from_stored([64, 64])
    ([64, 64], (64, 64))
    """

    is_grid = False

    def __init__(self, options: Sequence[Any], *, default: Any = None) -> None:
        if isinstance(options, (str, bytes, Mapping)) or not hasattr(options, "__iter__"):
            raise SpaceError(
                f"{type(self).__name__}: options must be a list, e.g. ['relu', 'tanh'], got "
                f"{options!r}.")
        options = list(options)
        if not options:
            raise SpaceError(
                f"{type(self).__name__}: the list of options is empty. Give at least one option.")
        if len(set(map(repr, options))) != len(options):
            raise SpaceError(
                f"{type(self).__name__}: options {options!r} contain duplicates. List each once.")
        self.options = options
        i = 0 if default is None else self.find(default)
        if i is None:
            raise SpaceError(
                f"{type(self).__name__}: default={default!r} is not one of {options!r}.")
        self.default = options[i]

    def __len__(self) -> int:
        return len(self.options)

    def find(self, value: Any) -> int | None:
        """The position of the option that ``value`` is, or ``None``.

        The option itself first, then an equal one (of the same type first), then one with
        the same stored form: a value read from a study file (a list for a tuple, a label
        for a class) finds its option. Arrays compare whole; a comparison that raises or
        gives no single truth value is no match.
        """
        options = self.options
        for i, o in enumerate(options):
            if o is value:
                return i
        for i, o in enumerate(options):
            if type(o) is type(value) and _equal(o, value):
                return i
        for i, o in enumerate(options):
            if _equal(o, value):
                return i
        stored = stored_form(value)
        for i, form in enumerate(self._stored_options()):
            if form == stored:
                return i
        return None

    def index(self, value: Any) -> int:
        """The position of ``value`` among the options (see :meth:`find`)."""
        i = self.find(value)
        if i is None:
            raise SpaceError(f"{value!r} is not one of the options {self.options!r}.")
        return i

    def _stored_options(self) -> list[Any]:
        # Kept on the instance, as _shape. Options of one label (two lambdas) are told apart
        # by a number, so that each has its own stored form.
        forms = self.__dict__.get("_forms")
        if forms is None:
            forms, labels = [], set()
            for option in self.options:
                form = stored_form(option)
                if is_label(form):
                    label, k = form[LABEL_KEY], 1
                    while label in labels:
                        k += 1
                        label = f"{form[LABEL_KEY]} ({k})"
                    labels.add(label)
                    form = {LABEL_KEY: label}
                forms.append(form)
            self.__dict__["_forms"] = forms
        return forms

    def to_stored(self, value: Any) -> Any:
        i = self.find(value)
        return stored_form(value) if i is None else self._stored_options()[i]

    def from_stored(self, data: Any) -> Any:
        value = restore(data)
        i = self.find(value)
        return value if i is None else self.options[i]

    def with_prior(self, prior: Any) -> Distribution:
        i = None if prior is None else self.find(prior)
        return super().with_prior(prior if i is None else self.options[i])

    def _prior_json(self) -> dict[str, Any]:
        return {} if self.prior is None else {"prior": self.to_stored(self.prior)}

    @property
    def n_levels(self) -> int:
        return len(self.options)

    def to_unit(self, value: Any) -> float:
        return float(self.level_units(self.index(value))[0])

    def from_unit(self, u: float) -> Any:
        return self.options[int(self.level_index(u))]

    def sample(self, rng: np.random.Generator) -> Any:
        return self.options[int(rng.integers(len(self.options)))]

    def grid(self) -> list[Any]:
        return list(self.options)

    def contains(self, value: Any) -> bool:
        return self.find(value) is not None

    def clip(self, value: Any) -> Any:
        return self.options[self.index(value)]

    def to_json(self) -> dict[str, Any]:
        data = {"type": "grid" if self.is_grid else "choice",
                "options": list(self._stored_options())}
        # JSON has no tuples: which options were, so that a kernel that only reads the file
        # gets them back as tuples.
        tuples = [i for i, o in enumerate(self.options) if isinstance(o, tuple)]
        if tuples:
            data["tuples"] = tuples
        return {**data, **self._prior_json()}

    def _identity(self) -> Any:
        # The stored forms: a choice read from a file equals the one that a cell defines
        # (a list for a tuple, a label for a class), and arrays compare without ambiguity.
        return self._stored_options()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.options!r})"


def _equal(a: Any, b: Any) -> bool:
    """``a == b`` for options, without raising: numpy values and arrays compare whole; a
    comparison that gives no single truth value is no match."""
    try:
        if isinstance(a, (np.ndarray, np.generic)) or isinstance(b, (np.ndarray, np.generic)):
            return bool(np.array_equal(a, b))
        same = a == b
        return type(same) in (bool, np.bool_) and bool(same)
    except Exception:
        return False


class Grid(Choice):
    """Explicit grid points: a :class:`Choice` that grid search enumerates in order."""

    is_grid = True


def from_json(data: Mapping[str, Any]) -> Distribution:
    """Rebuild a distribution from :meth:`Distribution.to_json`.

    Examples
    --------
    >>> from_json(Float(0, 1).to_json())
    Float(0, 1)
    """
    kind = data.get("type")
    dist: Distribution
    if kind == "float":
        dist = Float(data["low"], data["high"], log=data["log"], step=data.get("step"))
    elif kind == "int":
        dist = Int(data["low"], data["high"], log=data["log"], step=data.get("step", 1))
    elif kind in ("choice", "grid"):
        options = restore(data["options"])
        for i in data.get("tuples", ()):
            options[i] = tuple(options[i])
        dist = (Grid if kind == "grid" else Choice)(options)
    else:
        raise SpaceError(f"Unknown distribution type {kind!r} in a stored study.")
    return dist.with_prior(data.get("prior"))


def check_space(space: Mapping[str, Distribution]) -> dict[str, Distribution]:
    """Validate a ``{name: distribution}`` mapping and return it as a dict."""
    if not isinstance(space, Mapping):
        raise SpaceError(
            f"space must be a dict of name -> distribution, got {type(space).__name__}. Example: "
            "{'lr': Float(1e-4, 1e-1, log=True)}.")
    if not space:
        raise SpaceError(
            "The search space is empty. Add at least one distribution, e.g. "
            "{'lr': Float(1e-4, 1e-1, log=True)}, or leave space=None and define parameters "
            "inside the objective with tune.* calls.")
    out = {}
    for name, dist in space.items():
        if not isinstance(name, str) or not name:
            raise SpaceError(f"Parameter names must be non-empty strings, got {name!r}.")
        if isinstance(dist, (list, tuple)):
            dist = Grid(dist)
        if not isinstance(dist, Distribution):
            raise SpaceError(
                f"Parameter {name!r}: {dist!r} is not a distribution. Use Float, Int or Choice "
                "(or a list for a grid).")
        out[name] = dist
    return out


def check_compatible(known: Mapping[str, Distribution], space: Mapping[str, Distribution], *,
                     owner: str, allow_missing: bool = False,
                     names: Iterable[str] | None = None) -> None:
    """Raise a :class:`SpaceError` when ``space`` clashes with the ``known`` (stored) one.

    Adding parameters is fine; changing a distribution is not, nor is dropping a parameter
    (unless ``allow_missing``). ``names`` are parameters known to exist without their
    distribution (read from a cell before it runs).
    """
    for name, dist in space.items():
        old = known.get(name)
        if old is not None and old != dist:
            raise SpaceError(
                f"{owner} stores parameter {name!r} as {old!r}, the search space now says "
                f"{dist!r}. A changed space would mix incomparable trials: keep the old "
                "definition, or start afresh with --new (the old trials are kept under a "
                "renamed study).")
    present = set(space) | set(names or ())
    dropped = [n for n in known if n not in present]
    if dropped and not allow_missing:
        raise SpaceError(
            f"{owner} has parameters {dropped} that the search space no longer defines. Only "
            "adding parameters to a stored study is allowed: put them back, or start afresh "
            "with --new.")


class ParameterGrid:
    """The cartesian product of the grids of a space, as a small sized iterable.

    The last parameter varies fastest. ``size`` is exact however large the grid; ``len()``
    cannot report more than ``sys.maxsize`` points, so it raises a :class:`SpaceError` beyond
    that, while indexing and iteration stay lazy and work at any size.

    Examples
    --------
    >>> g = ParameterGrid({"a": Int(1, 2), "b": Choice(["x", "y"])})
    >>> len(g), g[3]
    (4, {'a': 2, 'b': 'y'})
    >>> huge = ParameterGrid({f"p{i}": Int(0, 9) for i in range(20)})
    >>> huge.size, huge[123]["p17"]
    (100000000000000000000, 1)
    """

    def __init__(self, space: Mapping[str, Distribution]) -> None:
        self.names = list(space)
        self.values: list[Sequence[Any]] = []
        #: How many values each parameter has (``len()`` of a range stops at sys.maxsize).
        self.counts: list[int] = []
        for dist in map(space.__getitem__, self.names):
            # An integer range stays a lazy `range`: it may hold more values than memory.
            values = range(dist.low, dist.high + 1, dist.step) if isinstance(dist, Int) \
                else dist.grid()
            self.values.append(values)
            self.counts.append(dist.n_levels if isinstance(dist, Int) else len(values))

    @property
    def size(self) -> int:
        """The number of points (an exact Python integer)."""
        return math.prod(self.counts) if self.values else 0

    def __len__(self) -> int:
        size = self.size
        if size > sys.maxsize:
            raise SpaceError(
                f"The grid has {size} points, more than len() can count (at most "
                f"{sys.maxsize}). Use grid.size for the exact count; indexing and iteration "
                "still work.")
        return size

    def __getitem__(self, index: int) -> dict[str, Any]:
        index = operator.index(index)
        size = self.size
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError(f"grid index out of range (the grid has {size} points)")
        out = {}
        for name, vals, count in zip(reversed(self.names), reversed(self.values),
                                     reversed(self.counts)):
            index, k = divmod(index, count)
            out[name] = vals[k]
        return {n: out[n] for n in self.names}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        # By index: itertools.product would copy every integer range into memory first.
        return map(self.__getitem__, range(self.size))
