"""Editing a study's search space between runs: what changed, and what cannot change.

A notebook user widens a range, adds a choice, adds or drops a parameter and runs the cell
again: the study continues, and the samplers learn from the earlier trials that lie inside the
new space. Changing a parameter's type (float to int) or scale (linear to log) would make the
earlier values incomparable: refused, with the fix, before anything is stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..distributions import Choice, Distribution, Float, Int
from ..exceptions import SpaceError

__all__ = ["space_changes", "check_edit"]


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
        added = [o for o in new.options if o not in old.options]
        removed = [o for o in old.options if o not in new.options]
        out += [f"{_fmt(o)} added to {name}" for o in added]
        out += [f"{_fmt(o)} removed from {name}" for o in removed]
    if not out and new.default != old.default:
        out.append(f"default of {name} now {_fmt(new.default)}")
    return out or [f"{name} redefined as {new!r}"]


def space_changes(known: Mapping[str, Distribution], space: Mapping[str, Distribution], *,
                  names: Iterable[str] = (), owner: str) -> tuple[list[str], list[str]]:
    """``(changes, removed)``: how ``space`` (plus parameters ``names`` whose distribution is
    not known yet) edits the ``known`` space.

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
        elif old != new:
            check_edit(name, old, new, owner)
            changes += describe(name, old, new)
    present = set(space) | set(names)
    removed = [name for name in known if name not in present]
    changes += [f"{name} removed (earlier trials keep it)" for name in removed]
    return changes, removed
