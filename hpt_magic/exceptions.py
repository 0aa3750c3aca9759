"""The one hierarchy of errors that users see."""

from __future__ import annotations


class TuneError(ValueError):
    """A problem the user can fix: the message says what is wrong and how to fix it."""


class SpaceError(TuneError):
    """An invalid distribution, an empty space or a space that clashes with a stored study."""


class StorageError(TuneError):
    """A study file that is locked, corrupt or not a study database."""


class TrialPruned(Exception):
    """Raised inside a trial to stop it early; the runner records the trial as pruned.

    User code never needs to catch it: ``tune.steps`` ends quietly instead.
    """


class TrialTimedOut(BaseException):
    """Raised inside a trial that ran past its time limit (``--trial-timeout``).

    A ``BaseException``, like ``KeyboardInterrupt``, so that objective code which catches
    every ``Exception`` does not swallow it; the trial is recorded as failed with its curve.
    """
