"""Schedulers: early stopping and multi-fidelity, one algorithm per module behind
:class:`Scheduler`."""

from __future__ import annotations

from typing import Any

from ..exceptions import TuneError
from ._asha import ASHAScheduler
from ._base import CONTINUE, PAUSE, STOP, Scheduler
from ._bohb import BOHBScheduler
from ._early_stop import EarlyStopping
from ._hyperband import HyperbandScheduler
from ._median import MedianStopping
from ._mobster import MOBSTERScheduler
from ._pbt import PBTScheduler

__all__ = ["Scheduler", "CONTINUE", "STOP", "PAUSE", "make_scheduler", "SCHEDULERS",
           "ASHAScheduler", "BOHBScheduler", "EarlyStopping", "HyperbandScheduler",
           "MedianStopping", "MOBSTERScheduler", "PBTScheduler"]

#: Scheduler classes by the name ``--scheduler`` takes.
SCHEDULERS: dict[str, type[Scheduler]] = {
    "early-stop": EarlyStopping, "median": MedianStopping, "asha": ASHAScheduler,
    "hyperband": HyperbandScheduler, "bohb": BOHBScheduler, "mobster": MOBSTERScheduler,
    "pbt": PBTScheduler,
}


def make_scheduler(scheduler: str | Scheduler | None, **kwargs: Any) -> Scheduler | None:
    """Build a scheduler from its name (or pass a :class:`Scheduler` through)."""
    if scheduler is None or isinstance(scheduler, Scheduler):
        return scheduler
    name = str(scheduler).lower().replace("_", "-")
    if name in ("none", ""):
        return None
    if name not in SCHEDULERS:
        known = ", ".join(sorted(SCHEDULERS)) or "(none yet)"
        raise TuneError(f"Unknown scheduler {scheduler!r}. Choose one of: {known}.")
    try:
        built = SCHEDULERS[name](**kwargs)
    except TuneError:
        raise
    except (TypeError, ValueError) as exc:
        raise TuneError(f"Scheduler {name!r} does not take these options ({kwargs}): {exc}. "
                        "See its docstring for the options and their types.") from None
    # Checked here, before any study stores anything; a Scheduler object passed in is
    # checked by its study once that has set max_steps.
    built.check()
    return built
