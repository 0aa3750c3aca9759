"""The points a run has tried: which proposal repeats a complete trial, and when a finite
search space is used up (every point has a complete trial, so that any further proposal
would be a repeat)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..trial import UNSET, Trial, TrialState

if TYPE_CHECKING:
    from ..distributions import Distribution
    from ._study import Study

__all__ = ["Tried", "point_of", "preset_params", "space_size"]

Point = tuple[int, ...]


class Tried:
    """The complete trials of a study by their parameters (repeats left out)."""

    def __init__(self, trials: Iterable[Trial] = ()) -> None:
        self._by_params: dict[Any, Trial] = {}
        #: The trials remembered, in order: the points of a space are counted from them.
        self._order: list[Trial] = []
        self._space: tuple[tuple[str, str], ...] | None = None
        self._points: set[Point] = set()
        self._counted = 0
        for trial in trials:
            self.remember(trial)

    def remember(self, trial: Trial) -> None:
        """Take in ``trial`` if it is complete and not itself a repeat."""
        if trial.state is TrialState.COMPLETE and "repeat_of" not in trial.user_attrs:
            key = _params_key(trial.params)
            if key not in self._by_params:
                self._by_params[key] = trial
                self._order.append(trial)

    def repeated(self, params: Mapping[str, Any]) -> Trial | None:
        """The complete trial that has exactly ``params``, if any."""
        return self._by_params.get(_params_key(params))

    def points(self, space: Mapping[str, Distribution]) -> set[Point]:
        """The distinct points of a finite ``space`` that complete trials hold (see
        :func:`point_of`); counted once per trial, again only when the space changes."""
        signature = tuple((name, repr(dist)) for name, dist in space.items())
        if signature != self._space:
            self._space, self._points, self._counted = signature, set(), 0
        for trial in self._order[self._counted:]:
            point = point_of(space, trial.params)
            if point is not None:
                self._points.add(point)
        self._counted = len(self._order)
        return self._points


def space_size(space: Mapping[str, Distribution]) -> int | None:
    """How many points a finite search space has (integers, options, floats with a step);
    ``None`` when a parameter is continuous or there is none."""
    if not space:
        return None
    size = 1
    for dist in space.values():
        if dist.n_levels is None:
            return None
        size *= dist.n_levels
    return size


def point_of(space: Mapping[str, Distribution], params: Mapping[str, Any]) -> Point | None:
    """The level of each parameter of a finite ``space``, or ``None`` when ``params`` is no
    point of it: a parameter missing or extra (an edited or conditional space), or a value
    outside its range or off its step (a value stored before the space was edited)."""
    if len(params) != len(space):
        return None
    point = []
    for name, dist in space.items():
        if name not in params or not dist.contains(params[name]):
            return None
        value = params[name]
        unit = dist.to_unit(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isclose(
                dist.from_unit(unit), value, rel_tol=1e-9, abs_tol=1e-12):
            return None  # between two steps
        point.append(int(dist.level_index(unit)))
    return tuple(point)


def preset_params(study: Study, trial: Trial) -> dict[str, Any] | None:
    """Every parameter of ``trial`` as decided at ask time, or ``None`` when some are left
    to the objective (define-by-run parameters the sampler proposes one by one)."""
    space = study.search_space()
    if not space:
        return None
    values = {}
    for name, dist in space.items():
        value = trial.params.get(name, UNSET)
        if value is UNSET:
            value = trial.preset_value(name, dist)
        if value is UNSET:
            return None
        values[name] = value
    return values


def _params_key(params: Mapping[str, Any]) -> Any:
    try:
        return frozenset(params.items())
    except TypeError:  # an unhashable option (a list): compared by its text
        return frozenset((name, repr(value)) for name, value in params.items())
