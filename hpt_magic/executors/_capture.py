"""Per-trial capture of printed output and warnings, safe with trials in several threads."""

from __future__ import annotations

import contextlib
import io
import sys
import threading
import warnings
from collections.abc import Iterator

__all__ = ["capture"]

_local = threading.local()
_install_lock = threading.Lock()
_users = 0


class _Router(io.TextIOBase):
    """Sends writes from a capturing thread to its buffer, all others to the real stream."""

    def __init__(self, real: io.TextIOBase, attr: str) -> None:
        self.real = real
        self.attr = attr

    def write(self, text: str) -> int:
        buf = getattr(_local, "buffer", None)
        if buf is not None:
            return buf.write(text)
        return self.real.write(text)

    def flush(self) -> None:
        if getattr(_local, "buffer", None) is None:
            self.real.flush()

    def __getattr__(self, name: str):  # fileno, encoding, isatty... of the real stream
        return getattr(self.real, name)


@contextlib.contextmanager
def capture() -> Iterator[io.StringIO]:
    """Capture what this thread prints to stdout/stderr and the warnings it raises.

    The yielded buffer holds the text (warnings appended as ``Warning: ...`` lines at exit).
    """
    global _users
    with _install_lock:
        if _users == 0:
            sys.stdout = _Router(sys.stdout, "stdout")  # type: ignore[assignment]
            sys.stderr = _Router(sys.stderr, "stderr")  # type: ignore[assignment]
        _users += 1
    buf = io.StringIO()
    previous = getattr(_local, "buffer", None)
    _local.buffer = buf
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield buf
        for w in caught:
            buf.write(f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})\n")
    finally:
        _local.buffer = previous
        with _install_lock:
            _users -= 1
            if _users == 0:
                if isinstance(sys.stdout, _Router):
                    sys.stdout = sys.stdout.real  # type: ignore[assignment]
                if isinstance(sys.stderr, _Router):
                    sys.stderr = sys.stderr.real  # type: ignore[assignment]
