"""The one hierarchy of errors that users see."""

from __future__ import annotations

import os
import sysconfig
import traceback

#: Where library code lives: hpt_magic's own files, the installed packages and the standard
#: library. A frame anywhere else is the user's (a notebook cell, their script or module).
_LIBRARY = tuple(os.path.normcase(os.path.realpath(p)) + os.sep for p in {
    os.path.dirname(os.path.abspath(__file__)),
    *(sysconfig.get_paths().get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")),
} if p)


class TuneError(ValueError):
    """A problem the user can fix: the message says what is wrong and how to fix it."""

    def _render_traceback_(self) -> list[str]:
        """What IPython shows for it: the message, after the frames of the user's own code
        (the cell's line that led there), without those of hpt_magic and the libraries in
        between (XGBoost's training loop, say). ``%debug`` still has every frame."""
        frames = [f for f in traceback.extract_tb(self.__traceback__)
                  if not os.path.normcase(os.path.realpath(f.filename)).startswith(_LIBRARY)]
        text = ["Traceback (most recent call last):\n", *traceback.format_list(frames)] \
            if frames else []
        text += traceback.format_exception_only(type(self), self)
        return "".join(text).rstrip("\n").split("\n")


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
