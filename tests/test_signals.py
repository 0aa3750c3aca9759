"""Holding Ctrl-C back across statements that must not be cut in half."""

from __future__ import annotations

import os
import signal

import pytest

from hpt_magic._signals import hold_interrupts


def test_an_interrupt_inside_is_delivered_at_the_end_and_the_handler_restored():
    done = []
    with pytest.raises(KeyboardInterrupt):
        with hold_interrupts():
            os.kill(os.getpid(), signal.SIGINT)
            done.append("after the signal")  # not cut short
    assert done == ["after the signal"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_nested_holds_deliver_once_at_the_outer_end():
    order = []
    with pytest.raises(KeyboardInterrupt):
        with hold_interrupts():
            with hold_interrupts():
                os.kill(os.getpid(), signal.SIGINT)
            order.append("outer body goes on")
    assert order == ["outer body goes on"]


def test_an_ignored_interrupt_stays_ignored(monkeypatch):
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with hold_interrupts():
            os.kill(os.getpid(), signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_no_interrupt_no_exception():
    with hold_interrupts():
        pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_the_import_lock_an_interrupt_left_held_is_given_back(tmp_path, monkeypatch):
    # Ctrl-C raised just after importlib took its global lock in the main thread leaves the
    # lock held; another thread's import then blocks until the main thread gives it back.
    import _imp
    import importlib
    import sys
    import threading

    (tmp_path / "fresh_module_for_the_lock.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    imported = threading.Event()

    def other_thread() -> None:
        importlib.import_module("fresh_module_for_the_lock")
        imported.set()

    _imp.acquire_lock()  # what the interrupt leaves behind
    thread = threading.Thread(target=other_thread, daemon=True)
    try:
        thread.start()
        assert not imported.wait(0.3)  # blocked on the leaked lock
        with hold_interrupts():
            assert imported.wait(10), "the other thread's import is still blocked"
        assert not _imp.lock_held()
    finally:
        while _imp.lock_held():
            try:
                _imp.release_lock()
            except RuntimeError:
                break
        thread.join(10)
        sys.modules.pop("fresh_module_for_the_lock", None)


def test_the_import_lock_importlib_holds_for_a_finder_is_left_alone(tmp_path, monkeypatch):
    # importlib holds the lock while it asks each finder; code run there (a finder of a
    # notebook tool, a finaliser) that enters hold_interrupts must not release it.
    import _imp
    import importlib
    import sys

    seen = []

    class Finder:
        def find_spec(self, name, path=None, target=None):
            if name == "fresh_module_for_the_finder":
                held = _imp.lock_held()
                with hold_interrupts():
                    seen.append((held, _imp.lock_held()))
            return None

    (tmp_path / "fresh_module_for_the_finder.py").write_text("VALUE = 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "meta_path", [Finder(), *sys.meta_path])
    try:
        assert importlib.import_module("fresh_module_for_the_finder").VALUE == 2
    finally:
        sys.modules.pop("fresh_module_for_the_finder", None)
    assert seen and all(after == before for before, after in seen)


def test_a_leaked_import_lock_is_given_back_inside_a_module_body(tmp_path, monkeypatch):
    # importlib does not hold the lock while a module's body runs (a notebook's %run of a
    # script, an imported helper that starts a study): one left held there is a leak.
    import importlib
    import sys

    (tmp_path / "module_that_leaks_the_lock.py").write_text(
        "import _imp\n"
        "from hpt_magic._signals import release_leaked_import_lock\n"
        "_imp.acquire_lock()\n"
        "RELEASED = release_leaked_import_lock()\n"
        "HELD = _imp.lock_held()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        module = importlib.import_module("module_that_leaks_the_lock")
        assert module.RELEASED and not module.HELD
    finally:
        sys.modules.pop("module_that_leaks_the_lock", None)
        import _imp
        while _imp.lock_held():  # never leave it held for the tests after this one
            try:
                _imp.release_lock()
            except RuntimeError:
                break
