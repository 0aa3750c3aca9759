"""Per-trial output capture: what it does to the process's real streams."""

from __future__ import annotations

import gc
import io
import sys

from hpt_magic.executors._capture import ROUTER, _Stream


class CountingStream(io.StringIO):
    """A stand-in for the kernel's stdout that counts flushes."""

    def __init__(self) -> None:
        super().__init__()
        self.flushes = 0

    def flush(self) -> None:
        self.flushes += 1


def test_ending_a_capture_neither_flushes_nor_closes_the_real_streams(monkeypatch):
    # A kernel's flush waits for its I/O thread; done inside the finalizer of a dropped
    # wrapper, a Ctrl-C landing there was swallowed and the run went on.
    out, err = CountingStream(), CountingStream()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    for _ in range(3):
        with ROUTER.capture() as buf:
            print("inside")
        gc.collect()
    assert buf.getvalue() == "inside\n"
    assert sys.stdout is out and sys.stderr is err
    assert (out.flushes, err.flushes) == (0, 0)
    assert not out.closed and out.getvalue() == ""


def test_a_router_left_installed_is_reused_not_wrapped_again(monkeypatch):
    out = CountingStream()
    monkeypatch.setattr(sys, "stdout", out)
    # What an interrupt during the restore used to leave: the router still in place.
    monkeypatch.setattr(sys, "stdout", _Stream(out, ROUTER))
    with ROUTER.capture():
        assert isinstance(sys.stdout, _Stream) and sys.stdout.real is out
    print("after", end="")
    assert out.getvalue() == "after"


def test_the_router_answers_for_the_real_stream(monkeypatch, tmp_path):
    # Installed for a whole run: faulthandler or a subprocess writing to sys.stdout in
    # between must see the real stream's file and encoding.
    real = open(tmp_path / "out.txt", "w", encoding="utf-8")
    try:
        monkeypatch.setattr(sys, "stdout", real)
        ROUTER.retain()
        try:
            assert isinstance(sys.stdout, _Stream)
            assert sys.stdout.fileno() == real.fileno()
            assert sys.stdout.encoding == "utf-8" and sys.stdout.isatty() is False
            assert sys.stdout.writable()
        finally:
            ROUTER.release()
        assert sys.stdout is real
    finally:
        real.close()
