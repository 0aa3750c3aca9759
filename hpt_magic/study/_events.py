"""Study events: what front ends (plots, widgets, loggers) subscribe to."""

from __future__ import annotations

import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..trial import Trial

__all__ = ["Event", "EventBus", "EVENT_KINDS"]

#: ``run_started`` / ``run_finished`` bracket one ``optimize`` call (``data`` holds
#: ``n_trials``, ``timeout``, ``count_repeats`` (whether a reused repeat counts in
#: ``n_trials``) and, at the end, ``reason`` and ``n_done``); the trial events carry the trial.
EVENT_KINDS = ("run_started", "trial_started", "trial_reported", "trial_finished", "run_finished")


@dataclass(frozen=True)
class Event:
    """One thing that happened in a study.

    Attributes
    ----------
    kind : str
        One of :data:`EVENT_KINDS`.
    study : Study
        The study it happened in.
    trial : Trial or None
        The trial concerned (``None`` for run events).
    step, value : int or None, float or None
        The reported point for ``trial_reported``.
    data : dict
        Extra facts (planned trials, timeout, stop reason).
    """

    kind: str
    study: Any
    trial: Trial | None = None
    step: int | None = None
    value: float | None = None
    data: dict = field(default_factory=dict)


class EventBus:
    """Calls subscribers in order; a subscriber that raises is reported once and dropped."""

    def __init__(self) -> None:
        self._subscribers: list[Callable[[Event], None]] = []

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Add ``callback``; return a function that removes it again."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    @property
    def listened(self) -> bool:
        """Whether anyone subscribes: an event nobody hears need not be built (a frozen
        :class:`Event` costs a few microseconds, three times a trial)."""
        return bool(self._subscribers)

    def emit(self, event: Event) -> None:
        """Deliver ``event`` to every subscriber."""
        for callback in list(self._subscribers):
            try:
                callback(event)
            except KeyboardInterrupt:
                raise
            except Exception as exc:
                self._subscribers.remove(callback)
                warnings.warn(
                    f"hpt_magic: the event subscriber {callback!r} raised {exc!r} and was "
                    f"removed; the study goes on.\n{traceback.format_exc(limit=3)}",
                    RuntimeWarning, stacklevel=2)
