"""Choices among options: ``Choice``, ``Grid`` (explicit grid points), and how options compare."""

from __future__ import annotations

import types
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._stored import LABEL_KEY, is_label, restore, stored_form
from ..exceptions import SpaceError
from ._base import Distribution


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

    def refusal(self, value: Any) -> tuple[str, str]:
        return f"is not one of the options of {self!r}", "Give one of them"

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
    """``a == b`` for options, without raising: numpy values and arrays compare whole;
    functions with the same code, defaults and closure values are equal; a comparison that
    gives no single truth value is no match."""
    try:
        if isinstance(a, (np.ndarray, np.generic)) or isinstance(b, (np.ndarray, np.generic)):
            return bool(np.array_equal(a, b))
        if isinstance(a, types.FunctionType) and isinstance(b, types.FunctionType):
            return _same_function(a, b)
        same = a == b
        return type(same) in (bool, np.bool_) and bool(same)
    except Exception:
        return False


def _same_function(a: types.FunctionType, b: types.FunctionType) -> bool:
    """Whether ``b`` is ``a`` defined again: a cell runs anew for every trial, and its lambdas
    are new objects each time, of the same code. Told apart by their code rather than their
    label, which two lambdas share."""
    if a is b:
        return True
    if a.__code__ != b.__code__:
        return False
    cells = [(x.cell_contents, y.cell_contents)
             for x, y in zip(a.__closure__ or (), b.__closure__ or ())]
    return (_equal(a.__defaults__, b.__defaults__)
            and _equal(a.__kwdefaults__, b.__kwdefaults__)
            and all(x is y or _equal(x, y) for x, y in cells))


class Grid(Choice):
    """Explicit grid points: a :class:`Choice` that grid search enumerates in order."""

    is_grid = True
