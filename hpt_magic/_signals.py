"""Holding Ctrl-C back for a few statements that must not be cut in half."""

from __future__ import annotations

import _imp
import _signal
import _thread
import signal
import sys
import threading

__all__ = ["hold_interrupts", "release_leaked_import_lock"]

_SIGINT = int(signal.SIGINT)


def hold_interrupts() -> _HeldInterrupts:
    """Hold back Ctrl-C (SIGINT) inside the block, then deliver it.

    Entering it in the main thread first gives back the import lock that an earlier interrupt
    may have left it holding (:func:`release_leaked_import_lock`).

    Used where an interrupt between two statements would leave two things disagreeing (a
    trial stored but not known, the output streams half restored, an import half done). At
    the end of the block the held interrupt goes to the handler that was there before (in a
    kernel, ``KeyboardInterrupt``); with no Python handler it is raised as
    ``KeyboardInterrupt``, and an ignored SIGINT stays ignored. Only the main thread receives
    signals; elsewhere this does nothing.
    """
    return _HeldInterrupts()


class _HeldInterrupts:
    """The block of :func:`hold_interrupts`. (A class rather than a generator: it is entered
    for every trial, and a generator's context manager costs several times as much.)"""

    __slots__ = ("_caught", "_previous", "_held")

    def __enter__(self) -> None:
        self._held = False
        if _thread.get_ident() != threading.main_thread().ident:
            return
        if _imp.lock_held():
            release_leaked_import_lock()
        caught: list[int] = []
        # `_signal.signal`, what `signal.signal` wraps: the wrapper's conversion of handlers to
        # enums raises and catches a ValueError for every function handler, ten times the cost
        # of the swap itself, and this runs twice for every trial.
        try:
            self._previous = _signal.signal(_SIGINT, lambda signum, frame: caught.append(signum))
        except ValueError:  # not allowed here (an embedded interpreter)
            return
        self._caught, self._held = caught, True

    def __exit__(self, *exc_info: object) -> None:
        if not self._held:
            return
        previous = self._previous
        # None: a handler installed outside Python; the default one is the nearest.
        _signal.signal(_SIGINT, signal.default_int_handler if previous is None else previous)
        if self._caught:
            if callable(previous):
                previous(_SIGINT, None)
            elif previous != signal.SIG_IGN:
                raise KeyboardInterrupt


#: importlib's functions that hold the import lock while other code may run (finders,
#: garbage-collection finalisers); a module's body runs without it.
_HOLDING_LOCK = frozenset({"_find_spec", "_get_module_lock", "cb", "__enter__"})


def release_leaked_import_lock() -> bool:
    """Release the global import lock if the calling thread holds it; whether it did.

    ``importlib`` takes that lock for an instant on every import that is not done yet
    (``_imp.acquire_lock()``, then ``try:``). Ctrl-C that arrives while the main thread waits
    for it (another thread holds it for that instant) is raised as soon as it is taken,
    before the ``try:``: the main thread keeps the lock for good. It does not notice (the lock
    is reentrant), but every other thread then blocks at its next import, and the main thread
    with it as soon as it waits for a module one of them is importing, for instance the one
    the magic's preload thread is importing. Inside an import (importlib's frames on the
    stack: a finder, a finaliser that ran there) the lock is importlib's own and is kept.
    """
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_name in _HOLDING_LOCK and code.co_filename.startswith("<frozen importlib"):
            return False  # importlib's own, held around a finder (or a finaliser run there)
        frame = frame.f_back
    released = False
    while _imp.lock_held():
        try:
            _imp.release_lock()
        except RuntimeError:  # another thread holds it, for its instant
            break
        released = True
    return released
