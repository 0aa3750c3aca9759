"""Per-trial capture of printed output and warnings, safe with trials in several threads.

``sys.stdout`` and ``sys.stderr`` are process-wide, so capturing one thread's output means
routing every write through a router that sends it to the writing thread's buffer, if it has
one. :class:`OutputRouter` owns that routing: it installs itself while at least one trial
captures and restores the real streams when the last one ends. :data:`ROUTER` is the one
instance of the process; it is the only place that changes ``sys.stdout``. For as long, it
points the logging handlers that write to a real stream at the router: a library's handler
(Lightning's "GPU available: ...") holds the stream it found when it was imported.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import logging
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from .._signals import hold_interrupts

__all__ = ["capture", "OutputRouter", "ROUTER"]


class _Stream(io.TextIOBase):
    """Sends writes from a capturing thread to its buffer, all others to the real stream."""

    def __init__(self, real: io.TextIOBase, owner: OutputRouter) -> None:
        self.real = real
        self.owner = owner

    def write(self, text: str) -> int:
        buf = self.owner.route()
        if buf is not None:
            with self.owner.write_lock:  # (a display replaced in place: notebook/_output.py)
                return buf.write(text)
        return self.real.write(text)

    def flush(self) -> None:
        if self.owner.route() is None:
            self.real.flush()

    @property
    def closed(self) -> bool:
        return self.real.closed

    # io.TextIOBase answers these itself (None, False, an error), so __getattr__ never
    # sees them: a run keeps the router installed, and `faulthandler.enable()` or
    # `subprocess.run(..., stdout=sys.stdout)` in between must still find the real stream.
    @property
    def encoding(self) -> str | None:  # type: ignore[override]
        return getattr(self.real, "encoding", None)

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.real, "errors", None)

    def fileno(self) -> int:
        return self.real.fileno()

    def isatty(self) -> bool:
        return self.real.isatty()

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        """Nothing: the real stream is not ours to close.

        ``io.IOBase`` closes a stream when it is garbage-collected, and closing flushes: a
        dropped router would flush the kernel's stream inside a finalizer, where an interrupt
        (Ctrl-C) landing during the flush is swallowed as "Exception ignored" and the run goes
        on as if nobody had pressed it.
        """

    def __getattr__(self, name: str):  # fileno, encoding, isatty... of the real stream
        return getattr(self.real, name)


class OutputRouter:
    """Routes stdout/stderr writes to the buffer of the thread that captures them."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        #: Runs that keep the router installed (:meth:`retain`); open captures keep it too.
        self._users = 0
        self._installed = False
        #: The logging handlers routed while installed, with the real stream of each.
        self._handlers: list[tuple[logging.StreamHandler, io.TextIOBase]] = []
        #: While warnings are routed: the warnings module's state to restore; and the
        #: showwarning found before (kept: a thread may still call it as the routing ends).
        self._warnings: warnings.catch_warnings | None = None
        self._show: Any = None
        #: The captures open now by token, oldest first: their buffer and warning list
        #: (warnings are routed while any is open). A thread started by a capturing thread (a
        #: progress bar's refresh thread, a data loader), or by one of those, carries the
        #: token and writes there while that capture is open (a token, not the buffer: a
        #: long-lived thread keeps no trial's output alive).
        self._captures: dict[int, tuple[io.StringIO, list[str]]] = {}
        self._tokens = itertools.count()
        #: ``threading.Thread.start`` as it was before the router tagged new threads.
        self._thread_start: Any = None
        #: Held while writing to a capture's buffer: a front end that rewrites the end of
        #: one (a display replaced in place) holds it too, so no print lands in between.
        self.write_lock = threading.RLock()
        #: (install, uninstall) pairs of the front ends: see :meth:`add_hooks`.
        self._hooks: list[tuple[Callable[[], None], Callable[[], None]]] = []

    @property
    def _open(self) -> list[list[str]]:
        """The warning lists of the captures open now, oldest first."""
        return [caught for _, caught in self._captures.values()]

    def buffer(self) -> io.StringIO | None:
        """The capturing buffer of the calling thread, if it captures."""
        return getattr(self._local, "buffer", None)

    def route(self) -> io.StringIO | None:
        """Where the calling thread's output goes: its own capture's buffer; for a thread
        started inside a capture (by the capturing thread or by a thread it started), that
        capture's buffer while it is open, then the one open capture's (:meth:`_adopted`);
        else ``None`` (the real stream). Other threads
        (the kernel's, a notebook cell's beside a background run, and any they start) are
        never captured."""
        buf = getattr(self._local, "buffer", None)
        if buf is not None:
            return buf
        opened = self._adopted()
        return None if opened is None else opened[0]

    def _adopted(self) -> tuple[io.StringIO, list[str]] | None:
        """The capture that a thread a trial started writes to: the one it was started in
        while that is open; once it has closed, the one capture open now, if there is
        exactly one. A thread pool that one trial started and later trials reuse (an
        executor made in an earlier cell) then works for the trial that runs now, not for
        the notebook's cell. With several open (trials in several threads) nobody knows
        whose work it does: the real stream."""
        token = self._started_in()
        if token is None:
            return None
        captures = self._captures  # (replaced, never changed: read once, without the lock)
        opened = captures.get(token)
        if opened is None and len(captures) == 1:
            (opened,) = captures.values()
        return opened

    def _started_in(self) -> int | None:
        """The token of the capture the calling thread was started in, if any."""
        return getattr(threading.current_thread(), "_hpt_capture", None)

    def _token(self) -> int | None:
        """The token of the capture the calling thread writes to: its own, else the one it
        was started in."""
        token = getattr(self._local, "token", None)
        return self._started_in() if token is None else token

    def _tag_threads(self) -> None:
        """Make ``Thread.start`` note the capture a new thread is started in (see
        :meth:`route`), until :meth:`_untag_threads`."""
        if self._thread_start is not None and threading.Thread.start is self._thread_start[1]:
            return  # (still there: an interrupt cut the last removal short)
        original = threading.Thread.start
        router = self

        def start(thread: threading.Thread) -> None:
            token = router._token()
            if token is not None:  # (a closed one too: see _adopted)
                thread._hpt_capture = token  # type: ignore[attr-defined]
            original(thread)

        start.__wrapped__ = original  # type: ignore[attr-defined]
        threading.Thread.start = start  # type: ignore[method-assign]
        self._thread_start = (original, start)

    def _untag_threads(self) -> None:
        if self._thread_start is None:
            return
        original, ours = self._thread_start
        self._thread_start = None
        if threading.Thread.start is ours:  # (not if another library patched it since)
            threading.Thread.start = original  # type: ignore[method-assign]

    @contextlib.contextmanager
    def passthrough(self) -> Iterator[None]:
        """Let this thread's IPython displays through (the tuner's own dashboard, updated
        from inside a trial's report)."""
        previous = getattr(self._local, "passthrough", False)
        self._local.passthrough = True
        try:
            yield
        finally:
            self._local.passthrough = previous

    def display_route(self) -> io.StringIO | None:
        """Where the calling thread's rich displays go: as :meth:`route`, except inside
        :meth:`passthrough`. A front end that routes displays (the notebook's) asks this."""
        if getattr(self._local, "passthrough", False):
            return None
        return self.route()

    def add_hooks(self, install: Callable[[], None], uninstall: Callable[[], None]) -> None:
        """Have ``install()`` called whenever the router is installed and ``uninstall()``
        when it is removed: a front end routes its own output channels alongside (the
        notebook front end, IPython's displays). Added once; the engine imports no front
        end."""
        with self._lock:
            if (install, uninstall) not in self._hooks:
                self._hooks.append((install, uninstall))
                if self._installed:
                    install()

    def retain(self) -> None:
        """Install the router on ``sys.stdout``/``sys.stderr`` until the matching
        :meth:`release` (a run keeps it for all its trials instead of one swap each)."""
        with hold_interrupts(), self._lock:  # (installed, and counted)
            self._install()
            self._users += 1

    def _install(self) -> None:
        """Route the streams, the logging handlers that write to them, new threads and the
        front ends' channels; under the lock. Each step may run again: an interrupt half way
        leaves the rest to the next install, or to :meth:`_uninstall_unused`, which undoes
        whatever is there."""
        if self._installed:
            return
        handlers = _stream_handlers()  # first: nothing below can fail
        routed = {}
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            # Still installed if an interrupt cut the last restore short.
            if not (isinstance(stream, _Stream) and stream.owner is self):
                stream = _Stream(stream, self)
                setattr(sys, name, stream)
            routed[id(stream.real)] = stream
        found = [(h, h.stream) for h in handlers if id(h.stream) in routed]
        self._handlers += found
        for handler, real in found:
            handler.stream = routed[id(real)]
        self._tag_threads()
        for install, _ in self._hooks:
            install()
        self._installed = True

    def _route_warnings(self) -> None:
        """Send every warning to :meth:`_show_warning`, each time it is raised (a trial's
        warnings are its own, even those an earlier trial raised too), until
        :meth:`_unroute_warnings`: from the moment one thread captures until none does. One
        ``catch_warnings`` for all the threads that capture meanwhile, not one each: trials in
        several threads (a Dask worker's) would restore each other's state out of order, and
        leave every later warning in a finished trial's list."""
        if self._warnings is not None:  # a restore that an interrupt cut short
            self._unroute_warnings()
        caught = warnings.catch_warnings()
        caught.__enter__()
        try:
            warnings.simplefilter("always")
            shown = warnings.showwarning
            if getattr(shown, "__self__", None) is not self:  # (never ours: it would recurse)
                self._show = shown
            warnings.showwarning = self._show_warning
        except BaseException:
            caught.__exit__(*sys.exc_info())
            raise
        self._warnings = caught

    def _unroute_warnings(self) -> None:
        # Forgotten only once restored: an interrupt inside leaves it to be done again.
        if self._warnings is not None:
            self._warnings.__exit__(None, None, None)
            self._warnings = None

    def _show_warning(self, message: Warning | str, category: type[Warning], filename: str,
                      lineno: int, file: Any = None, line: str | None = None) -> None:
        """``warnings.showwarning`` while routed: to the capturing thread's list; from a
        thread a trial started (a framework's data loader or thread pool), where its prints
        go (:meth:`_adopted`); otherwise as the warnings module showed it before (the
        notebook's own threads, a cell's beside a background run)."""
        caught = getattr(self._local, "warnings", None)
        if caught is None:
            opened = self._adopted()
            if opened is None:
                self._show(message, category, filename, lineno, file, line)
                return
            caught = opened[1]
        caught.append(f"{category.__name__}: {message} ({filename}:{lineno})\n")

    def release(self) -> None:
        """Undo one :meth:`retain`; the last one puts the real streams back (once no capture
        is open either)."""
        # The restore must not be cut in half by Ctrl-C (one stream routed, one not).
        with hold_interrupts(), self._lock:
            self._users = max(0, self._users - 1)
            self._uninstall_unused()

    def _uninstall_unused(self) -> None:
        """Put the real streams, handlers and ``Thread.start`` back when no run retains the
        router and no capture is open; under the lock. Every step checks what is there, so
        it also undoes an install that an interrupt cut short."""
        if self._users or self._captures:
            return
        self._installed = False
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            if isinstance(stream, _Stream) and stream.owner is self:
                setattr(sys, name, stream.real)
        for handler, real in self._handlers:
            if isinstance(handler.stream, _Stream) and handler.stream.owner is self:
                handler.stream = real
        self._handlers = []
        for _, uninstall in reversed(self._hooks):
            uninstall()
        self._untag_threads()

    @contextlib.contextmanager
    def capture(self) -> Iterator[io.StringIO]:
        """Capture what this thread prints to stdout/stderr and the warnings it raises.

        The yielded buffer holds the text (warnings appended as ``Warning: ...`` lines at exit).
        """
        buf, caught, token = io.StringIO(), [], None
        local = self._local
        previous = (self.buffer(), getattr(local, "warnings", None),
                    getattr(local, "token", None))
        try:
            # Ctrl-C waits until the set-up is whole (it then lands inside the ``try``). Other
            # interrupts (a trial's time limit, an abort) may land between two steps: an open
            # capture, not a count, keeps the router installed, so the ``finally`` undoes
            # exactly what was done.
            with hold_interrupts():
                with self._lock:
                    self._install()
                    token = next(self._tokens)
                    if not self._captures:
                        self._route_warnings()
                    # A new dict: route() reads it without the lock.
                    self._captures = {**self._captures, token: (buf, caught)}
                local.buffer, local.warnings, local.token = buf, caught, token
            yield buf
            buf.writelines(caught)
        finally:
            with hold_interrupts():  # the same for the tear-down
                try:
                    with self._lock:
                        if token in self._captures:
                            self._captures = {k: v for k, v in self._captures.items()
                                              if k != token}
                        if not self._captures:  # (also when set-up stopped half way)
                            self._unroute_warnings()
                finally:
                    local.buffer, local.warnings, local.token = previous
                    with self._lock:
                        self._uninstall_unused()


def _stream_handlers() -> list[logging.StreamHandler]:
    """Every handler of every logger that writes to a stream, read under logging's own lock
    (another thread may be creating a logger: an import, the kernel's own code)."""
    with logging._lock:  # type: ignore[attr-defined]
        loggers = [logging.getLogger(), *(lg for lg in logging.Logger.manager.loggerDict.values()
                                          if isinstance(lg, logging.Logger))]
        return [h for lg in loggers for h in list(lg.handlers)
                if isinstance(h, logging.StreamHandler)]


#: The process's router (sys.stdout is one per process).
ROUTER = OutputRouter()
capture = ROUTER.capture
