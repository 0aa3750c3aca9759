"""The points a run has tried: which proposal repeats a complete trial, and when a finite
search space is used up (every point has a complete trial, so that any further proposal
would be a repeat)."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any

import numpy as np

from .._stored import label_of
from ..distributions import Choice
from ..trial import UNSET, Trial, TrialState

if TYPE_CHECKING:
    from ..distributions import Distribution
    from ._stopping import RunInfo
    from ._study import Study

__all__ = ["Repeats", "Tried", "point_of", "preset_params", "space_size"]

Point = tuple[int, ...]

#: Repeated proposals in a row after which the sampler is taken to have nothing new.
MAX_REPEATS = 50
#: ``on_repeat="skip"``: proposals asked for a trial before its repeat is reused after all.
MAX_REDRAWS = 10


class Repeats:
    """What a run does about a proposal that repeats a complete trial (``on_repeat``), and
    whether a finite search space is used up.

    ``reuse`` and ``skip`` look for repeats (not for manual trials, whose parameters the user
    chose); ``skip`` asks the sampler again first; ``run`` looks for none.
    """

    def __init__(self, study: Study, on_repeat: str, manual: bool, info: RunInfo) -> None:
        self.study, self.info = study, info
        self.on_repeat = on_repeat
        self.active = on_repeat != "run" and not manual
        self.tried = Tried(study.trials if self.active else (), study.search_space())
        #: Repeats found one after another: a sampler that only repeats ends the run.
        self.in_a_row = 0
        #: Trials whose parameters were left to the objective (a conditional branch): whether
        #: they repeat a complete trial is known only once they finish.
        self._unchecked: set[int] = set()
        #: The names decided at ask time of each trial checked then.
        self._presets: dict[int, set[str]] = {}
        #: A define-by-run objective may define its parameters anew (a range it computes):
        #: proposals are judged at ask time only once a trial of this run has run it.
        self._confirmed = study.space is not None
        #: Once a trial ran without some parameter decided for it (a branch not taken), the
        #: values decided at ask time say nothing of the point a trial tries.
        self._conditional = False

    def remember(self, trial: Trial) -> None:
        """Take in a finished trial; one that could not be checked when it was asked counts
        as a repeat in a row (it ran: its score is its own) if it repeats a complete trial."""
        if not self.active:
            return
        self._confirmed = True
        preset = self._presets.pop(trial.number, None)
        if preset is not None and set(trial.params) != preset:
            self._conditional = True
        if trial.number in self._unchecked:
            self._unchecked.discard(trial.number)
            repeat = trial.state is TrialState.COMPLETE and self.tried.repeated(
                trial.params, self.study.search_space())
            self.in_a_row = self.in_a_row + 1 if repeat else 0
        self.tried.remember(trial)

    def earlier(self, trial: Trial) -> Trial | None:
        """The complete trial that ``trial`` repeats, if it does (``skip``: after asking the
        sampler again, up to :data:`MAX_REDRAWS` times), whose score the run then records.

        Call it once per trial asked: it counts the repeats in a row and, in the run's
        :class:`RunInfo`, the redrawn and the reused proposals.
        """
        if not self.active or trial.checkpoint is not None or "parent" in trial.user_attrs:
            # A trial that continues another one's training (a PBT child, from its parent's
            # checkpoint) is never a repeat, even when its parameters came out the same (a
            # perturbation clipped at a bound).
            return None
        space = self.study.search_space()
        values = preset_params(self.study, trial, space)
        if values is None or not self._confirmed or self._conditional:
            self._unchecked.add(trial.number)  # judged when it finishes (remember)
            return None
        self._presets[trial.number] = set(values)
        earlier = self.tried.repeated(values, space)
        if earlier is not None and self.on_repeat == "skip":
            for _ in range(MAX_REDRAWS):
                if not self.study._redraw(trial):
                    break
                earlier = self._repeated(trial, space)
                if earlier is None:
                    self.info.redrawn += 1
                    break
        if earlier is None:
            self.in_a_row = 0
        else:
            self.in_a_row += 1
            self.info.reused += 1
        return earlier

    def _repeated(self, trial: Trial, space: Mapping[str, Distribution]) -> Trial | None:
        """The complete trial that has ``trial``'s parameters, when they were all decided at
        ask time."""
        values = preset_params(self.study, trial, space)
        return None if values is None else self.tried.repeated(values, space)

    def used_up(self) -> int | None:
        """The number of points of the search space when it is finite and each has a complete
        trial (any further proposal would be a repeat), else ``None``."""
        finite = self._finite_space()
        if finite is None or len(self.tried.points(finite[0])) < finite[1]:
            return None
        # Before the run ends, the file once more: another kernel may have queued a point
        # since the last ask.
        if self.study._read_attrs().get("queue"):
            return None
        return finite[1]

    def rest_running(self, running: Collection[Trial]) -> bool:
        """Whether the points of a finite space that have no complete trial are all being
        tried by ``running`` trials (a new trial could only repeat one)."""
        finite = self._finite_space() if running else None
        if finite is None:
            return False
        space, size = finite
        points = {point_of(space, values) for values in
                  (preset_params(self.study, t, space) for t in running) if values is not None}
        points.discard(None)
        return len(self.tried.points(space) | points) >= size

    def _finite_space(self) -> tuple[Mapping[str, Distribution], int] | None:
        """The search space and its number of points, when it is finite and repeats are
        looked for (and no enqueued point is left to try), else ``None``."""
        if not self.active or not self._confirmed:
            return None
        space = self.study.search_space()
        size = space_size(space)
        if size is None or self.study._attrs.get("queue"):
            return None  # (as the file showed them at the last ask; used_up looks again)
        return space, size


class Tried:
    """The complete trials of a study by their parameters (repeats left out)."""

    def __init__(self, trials: Iterable[Trial] = (),
                 space: Mapping[str, Distribution] | None = None) -> None:
        #: The trials remembered, in order: the points of a space are counted from them.
        self._order: list[Trial] = []
        #: The first of them at each point, keyed in ``_key_space`` (see _params_key).
        self._by_params: dict[Any, Trial] = {}
        self._key_space: dict[str, Distribution] = dict(space or {})
        self._choices = _choice_names(self._key_space)
        self._space: dict[str, Distribution] = {}
        self._points: set[Point] = set()
        self._counted = 0
        for trial in trials:
            self.remember(trial)

    def remember(self, trial: Trial) -> None:
        """Take in ``trial`` if it is complete and not itself a repeat."""
        if trial.state is TrialState.COMPLETE and "repeat_of" not in trial.user_attrs:
            self._order.append(trial)
            self._by_params.setdefault(
                _params_key(trial.params, self._key_space, self._choices), trial)

    def repeated(self, params: Mapping[str, Any],
                 space: Mapping[str, Distribution]) -> Trial | None:
        """The complete trial that has exactly ``params`` of ``space``, if any. The trials
        are keyed again when the space changed (an option's key is its place among the
        options, see :func:`_params_key`)."""
        # A dict comparison takes the same distribution objects (the usual case) as equal
        # without calling their __eq__.
        if space != self._key_space:
            self._key_space = dict(space)
            self._choices = _choice_names(space)
            self._by_params = {}
            for trial in self._order:
                self._by_params.setdefault(_params_key(trial.params, space, self._choices), trial)
        return self._by_params.get(_params_key(params, space, self._choices))

    def points(self, space: Mapping[str, Distribution]) -> set[Point]:
        """The distinct points of a finite ``space`` that complete trials hold (see
        :func:`point_of`); counted once per trial, again only when the space changes."""
        if space != self._space:  # distributions compare by their parameters
            self._space, self._points, self._counted = dict(space), set(), 0
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


def preset_params(study: Study, trial: Trial,
                  space: Mapping[str, Distribution] | None = None) -> dict[str, Any] | None:
    """Every parameter of ``trial`` as decided at ask time, or ``None`` when some are left
    to the objective (define-by-run parameters the sampler proposes one by one). ``space``:
    the study's search space, when the caller has it."""
    if space is None:
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


def _params_key(params: Mapping[str, Any], space: Mapping[str, Distribution],
                choices: AbstractSet[str] | None = None) -> frozenset:
    """What two trials with the same parameters of ``space`` share: numbers and text as they
    are (``True`` apart from ``1``), and an option by its place among its choice's options.

    An option as a kernel defines it (a class, a tuple) and as the study file gives it back
    to a new kernel (a :class:`~hpt_magic._stored.StoredOption` label, a list) find the same
    place; two options that print alike (two lambdas) have two. A value that is none of the
    options (a trial from before an edit) matches no proposal. ``choices``: the names of
    ``space``'s options, when the caller has them (plain values are then their own key).
    """
    if (choices is not None and _PLAIN.issuperset(map(type, params.values()))
            and choices.isdisjoint(params)):
        return frozenset(params.items())
    return frozenset((name, _comparable(value, space.get(name))) for name, value in params.items())


_PLAIN = frozenset({int, float, str, type(None)})
_OUTSIDE = object()


def _comparable(value: Any, dist: Distribution | None) -> Any:
    if isinstance(dist, Choice):
        i = dist.find(value)
        return (Choice, i) if i is not None else (_OUTSIDE, label_of(value))
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is bool:
        return bool, value
    if isinstance(value, np.generic):
        return _comparable(value.item(), None)
    return _OUTSIDE, label_of(value)


def _choice_names(space: Mapping[str, Distribution]) -> frozenset[str]:
    """The names of ``space``'s parameters whose values are options."""
    return frozenset(name for name, dist in space.items() if isinstance(dist, Choice))

