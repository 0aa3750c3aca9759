"""Holding Ctrl-C back for a few statements that must not be cut in half."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

__all__ = ["hold_interrupts"]


@contextlib.contextmanager
def hold_interrupts() -> Iterator[None]:
    """Hold back Ctrl-C (SIGINT) inside the block, then deliver it.

    Used where an interrupt between two statements would leave the study file and the study
    in memory disagreeing (a trial stored but not known, a clean-up done half-way). Only the
    main thread receives signals; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    except ValueError:  # not allowed here (an embedded interpreter)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught and callable(previous):
            previous(signal.SIGINT, None)
