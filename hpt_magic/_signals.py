"""Holding Ctrl-C back for a few statements that must not be cut in half."""

from __future__ import annotations

import _signal
import contextlib
import signal
import threading
from collections.abc import Iterator

__all__ = ["hold_interrupts"]

_SIGINT = int(signal.SIGINT)


@contextlib.contextmanager
def hold_interrupts() -> Iterator[None]:
    """Hold back Ctrl-C (SIGINT) inside the block, then deliver it.

    Used where an interrupt between two statements would leave two things disagreeing (a
    trial stored but not known, the output streams half restored, an import half done). At
    the end of the block the held interrupt goes to the handler that was there before (in a
    kernel, ``KeyboardInterrupt``); with no Python handler it is raised as
    ``KeyboardInterrupt``, and an ignored SIGINT stays ignored. Only the main thread receives
    signals; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    # `_signal.signal`, what `signal.signal` wraps: the wrapper's conversion of handlers to
    # enums raises and catches a ValueError for every function handler, ten times the cost
    # of the swap itself, and this runs twice for every trial.
    try:
        previous = _signal.signal(_SIGINT, lambda signum, frame: caught.append(signum))
    except ValueError:  # not allowed here (an embedded interpreter)
        yield
        return
    try:
        yield
    finally:
        # None: a handler installed outside Python; the default one is the nearest.
        _signal.signal(_SIGINT, signal.default_int_handler if previous is None else previous)
        if caught:
            if callable(previous):
                previous(_SIGINT, None)
            elif previous != signal.SIG_IGN:
                raise KeyboardInterrupt
