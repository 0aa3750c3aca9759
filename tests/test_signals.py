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
