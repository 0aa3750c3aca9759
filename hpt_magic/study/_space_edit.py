"""Editing a study's search space between runs: what changed, and what cannot change.

A notebook user widens a range, adds a choice, adds or drops a parameter and runs the cell
again: the study continues, and the samplers learn from the earlier trials that lie inside the
new space. Changing a parameter's type (float to int) or scale (linear to log) would make the
earlier values incomparable: refused, with the fix, before anything is stored.

``Study`` inherits ``edit_space``, ``check_space``, ``space_version`` and ``warm_start`` (priors
from another study) from :class:`SpaceEditMixin`.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .._format import format_params
from ..distributions import Choice, Distribution, Float, Int, check_compatible
from ..exceptions import SpaceError, TuneError
from ._storage import space_to_json

if TYPE_CHECKING:
    from ._study import Study

__all__ = ["SpaceEditMixin", "space_changes", "check_edit", "check_warm_start", "prior_of",
           "same_objects"]


def _kind(dist: Distribution) -> str:
    name = type(dist).__name__.lower()
    if isinstance(dist, (Float, Int)):
        return f"{name}, {'log' if dist.log else 'linear'} scale"
    return name


def check_edit(name: str, old: Distribution, new: Distribution, owner: str) -> None:
    """Raise a :class:`SpaceError` when ``new`` changes ``old``'s type or scale."""
    if type(old) is not type(new) or getattr(old, "log", None) != getattr(new, "log", None):
        raise SpaceError(
            f"{owner} stores parameter {name!r} as {old!r} ({_kind(old)}); the cell now says "
            f"{new!r} ({_kind(new)}). Ranges, choices and defaults may change between runs, "
            "a type or a scale may not (earlier values would not compare): keep the type and "
            "scale, give the parameter a new name, or start afresh with --new.")


def prior_of(dist: Distribution) -> Any:
    """The stored form of ``dist``'s prior: priors compare without ambiguity (an array), and a
    stored option's label equals the object it stands for."""
    return dist.to_json().get("prior")


def same_objects(old: Distribution, new: Distribution) -> bool:
    """Whether two equal distributions hold the very same option objects (for a choice: not
    labels or lists read from a file, nor a class that a cell defined anew)."""
    # (Checked for every define-by-run parameter: the numeric types by their exact type
    # first, as an isinstance against an ABC costs Python calls.)
    return type(new) in (Float, Int) or not isinstance(new, Choice) or (
        isinstance(old, Choice) and len(old.options) == len(new.options)
        and all(a is b for a, b in zip(old.options, new.options)))


def _fmt(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else repr(v) if isinstance(v, str) else str(v)


def describe(name: str, old: Distribution, new: Distribution) -> list[str]:
    """Plain words for how ``new`` differs from ``old`` (same type and scale)."""
    out = []
    if isinstance(old, (Float, Int)) and isinstance(new, (Float, Int)):
        span = f"[{_fmt(new.low)}, {_fmt(new.high)}]"
        if (new.low, new.high) != (old.low, old.high):
            if new.low <= old.low and new.high >= old.high:
                out.append(f"{name} widened to {span}")
            elif new.low >= old.low and new.high <= old.high:
                out.append(f"{name} narrowed to {span}")
            else:
                out.append(f"{name} moved to {span}")
        if new.step != old.step:
            out.append(f"step of {name} now {_fmt(new.step) if new.step else 'none'}")
    elif isinstance(old, Choice) and isinstance(new, Choice):
        # Compared by stored form: a tuple read from a file as a list is no new option.
        old_forms, new_forms = old.to_json()["options"], new.to_json()["options"]
        added = [o for o, form in zip(new.options, new_forms) if form not in old_forms]
        removed = [o for o, form in zip(old.options, old_forms) if form not in new_forms]
        out += [f"{_fmt(o)} added to {name}" for o in added]
        out += [f"{_fmt(o)} removed from {name}" for o in removed]
    if not out and new.default != old.default:
        out.append(f"default of {name} now {_fmt(new.default)}")
    return out or [f"{name} redefined as {new!r}"]


def space_changes(known: Mapping[str, Distribution], space: Mapping[str, Distribution], *,
                  names: Iterable[str] = (), owner: str,
                  gone: Collection[str] = ()) -> tuple[list[str], list[str]]:
    """``(changes, removed)``: how ``space`` (plus parameters ``names`` whose distribution is
    not known yet) edits the ``known`` space, of which parameters ``gone`` were removed by an
    earlier edit (their removal is no change, their return is one).

    Raises
    ------
    SpaceError
        When a parameter changes type or scale.

    Examples
    --------
    >>> known = {"lr": Float(1e-4, 1e-2, log=True), "act": Choice(["relu", "tanh"])}
    >>> space_changes(known, {"lr": Float(1e-5, 1e-1, log=True),
    ...                       "act": Choice(["relu", "tanh", "gelu"])}, owner="Study 's'")
    (['lr widened to [1e-05, 0.1]', "'gelu' added to act"], [])
    """
    changes: list[str] = []
    for name, new in space.items():
        old = known.get(name)
        if old is None:
            changes.append(f"new parameter {name}")
            continue
        if old != new:
            check_edit(name, old, new, owner)
            changes += describe(name, old, new)
        if name in gone:
            changes.append(f"{name} back")
    present = set(space) | set(names)
    removed = [name for name in known if name not in present and name not in gone]
    changes += [f"{name} removed (earlier trials keep it)" for name in removed]
    return changes, removed


def check_warm_start(other: Study) -> None:
    """Refuse to warm-start from ``other`` when it has no complete trial to start from (see
    :meth:`SpaceEditMixin.warm_start`); front ends call it before the study is opened."""
    if not other.top_trials(1):
        raise TuneError(f"Study {other.name!r} has no complete trial to start from. Run it "
                        "first, or drop --warm-start.")


class SpaceEditMixin:
    """Editing the search space of a study that goes on, and warm-starting it from another
    study; mixed into ``Study``, whose known space, lock and storage they use."""

    def edit_space(self, space: Mapping[str, Distribution], *,
                   names: Iterable[str] | None = None) -> list[str]:
        """Continue the study on an edited search space; return the changes in words.

        Ranges may widen, narrow or move, choices and parameters may come and go, defaults may
        change: the study goes on, and samplers learn from the earlier trials that lie inside
        the new space. Each edit starts a new space version (``trial.user_attrs
        ["space_version"]`` of later trials). ``names``: parameters that exist without a known
        distribution (read from a cell before it runs); a known parameter that is neither in
        ``space`` nor in ``names`` is removed (``None``: nothing is removed).

        Raises
        ------
        SpaceError
            When a parameter changes type or scale; nothing is stored then.
        """
        present = self._known if names is None else names
        changes, removed = space_changes(self._known, space, names=present,
                                         owner=f"Study {self.name!r}",
                                         gone=self._attrs.get("removed", ()))
        same = {n: d for n, d in space.items() if n in self._known and self._known[n] == d}
        guesses = {n: d for n, d in same.items() if prior_of(self._known[n]) != prior_of(d)}
        with self._lock:
            self._adopt({n: d for n, d in same.items()
                         if n in guesses or not same_objects(self._known[n], d)})
            if guesses and not changes:
                # New priors guide sampling and change no value: not an edit.
                self.storage.update_study(self._id, space=space_to_json(self._known))
        if not changes:
            return []
        if not self._trials:
            # A first definition (a new study, or one with no trial yet), not an edit.
            with self._lock:
                self._adopt(space)
                self.storage.update_study(self._id, space=space_to_json(self._known))
            return []
        with self._lock:
            self._adopt(space)
            edit = {"from_trial": len(self._trials), "changes": changes}

            def record(attrs: dict[str, Any]) -> None:
                # On the attributes as stored: what other kernels queued stays queued.
                gone = set(attrs.get("removed", [])) - set(space) | set(removed)
                attrs["removed"] = sorted(gone)
                attrs.setdefault("space_history", []).append(edit)
            self._change_attrs(record, space=space_to_json(self._known))
        done = [t for t in self._trials if t.state.finished]
        inside = sum(all(d.contains(t.params[n]) for n, d in space.items() if n in t.params)
                     for t in done)
        return [*changes, f"{len(done)} earlier trials, {inside} inside the new space"]

    def _adopt(self, space: Mapping[str, Distribution]) -> None:
        """Make ``space``'s distributions the known ones, and the trials' values of its
        choices the options' own objects: a file holds a tuple as a list and a class by its
        label, and a cell run again defines its classes anew (call under the lock)."""
        for name, dist in space.items():
            self._known[name] = dist
            if not isinstance(dist, Choice):
                continue
            for trial in self._trials:
                if name in trial.params:
                    i = dist.find(trial.params[name])
                    if i is not None:
                        trial.params[name] = dist.options[i]
                        if trial.distributions.get(name) == dist:  # the file's copy of it
                            trial.distributions[name] = dist

    def _take_stored(self, stored: Mapping[str, Distribution]) -> None:
        """Take in the space stored by another kernel: its new and changed parameters, and
        its new guesses on the distributions known here (which keep this kernel's objects)."""
        for name, dist in stored.items():
            known = self._known.get(name)
            if known is None or known != dist:
                self._known[name] = dist
            elif prior_of(known) != prior_of(dist):
                self._known[name] = copy.copy(known).with_prior(dist.prior)

    def warm_start(self, other: Study, *, n_first: int = 2) -> str:
        """Start from what another study (yesterday's, a smaller data set's) learned.

        Its best trial's values become the priors of the parameters both studies share (half
        of the random draws land near them: knowledge, not observations of this study), and
        its ``n_first`` best configurations that fit this study's space are queued first when
        this study has no trial yet. Returns what was taken, in words.
        """
        check_warm_start(other)
        best = other.top_trials(max(1, n_first))
        space = self.search_space()
        shared = []
        with self._lock:
            for name, value in best[0].params.items():
                dist = space.get(name)
                if dist is not None and dist.contains(value):
                    self._known[name] = copy.copy(dist).with_prior(value)
                    shared.append(name)
            self.storage.update_study(self._id, space=space_to_json(self._known))
        queued = 0
        if not self._trials:
            for trial in best[:n_first]:
                params = {n: v for n, v in trial.params.items() if n in shared}
                if params:
                    self.enqueue(params)
                    queued += 1
        if self.space is not None:
            self.space = {n: self._known.get(n, d) for n, d in self.space.items()}
        if not shared:
            return (f"warm start from {other.name!r}: nothing taken, as none of its best "
                    f"trial's values ({format_params(best[0].params)}) is a value of a "
                    "parameter of this study")
        return (f"warm start from {other.name!r} ({len(other.trials)} trials): its best values "
                f"as priors of {', '.join(shared)}"
                + (f", its {queued} best configurations first" if queued else ""))

    @property
    def space_version(self) -> int:
        """How many times the search space was edited (0: never)."""
        return len(self._attrs.get("space_history", []))

    def check_space(self, space: Mapping[str, Distribution], *, allow_missing: bool = False,
                    names: Iterable[str] | None = None) -> None:
        """Raise a :class:`SpaceError` when ``space`` clashes with the stored one.

        Adding parameters is fine; changing a distribution is not, nor is dropping a parameter
        (unless ``allow_missing``).
        """
        check_compatible(self._known, space, owner=f"Study {self.name!r}",
                         allow_missing=allow_missing, names=names)
