"""``%load_ext hpt_magic``: register the magics, bind ``tune`` in the notebook, and import in
a background thread what the first run of ``%%tune`` needs, while the user writes it."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Sequence
from typing import Any

from ..executors._tune import tune
from ._magic import TuneMagics

__all__ = ["PRELOAD", "preload", "load_ipython_extension"]

#: What the first run of ``%%tune`` needs that ``import hpt_magic`` leaves out, in the order
#: the run imports them: the dashboard (before the first trial), the dashboard's image
#: (matplotlib with the Agg canvas, after the first trial), the default sampler's model
#: (``scipy``, after its design trials; the design itself needs no scipy, so the first trial
#: never waits for it). The same order as the run's: a cell started at once waits for the
#: thread's import instead of starting another one beside it.
PRELOAD = ("hpt_magic.notebook._dashboard", "hpt_magic.visualization._figures", "scipy.stats",
           "hpt_magic.samplers._gp_acq")


def preload(names: Sequence[str]) -> threading.Thread:
    """Import the modules ``names`` in a daemon thread (started), while the user writes the
    first cell.

    A cell that needs one of them first waits for it at its ``import`` (Python's import lock
    lets one thread import a module while the others wait for it); one that needs a module the
    thread has not reached yet imports it itself. Kernel > Interrupt reaches only the main
    thread, so it cannot cut these imports in half. A module that fails to import is left to
    the code that needs it, which shows the error in its cell: the thread prints nothing.
    """
    def run() -> None:
        for name in names:
            try:
                importlib.import_module(name)
            except Exception:
                continue

    thread = threading.Thread(target=run, name="hpt_magic-preload", daemon=True)
    thread.start()
    return thread


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics, make ``tune`` available in the notebook, and start importing what
    the first run needs (:data:`PRELOAD`)."""
    magics = TuneMagics(ipython)
    ipython.register_magics(magics)
    ipython.user_ns.setdefault("tune", tune)
    magics.preload = preload(PRELOAD)
