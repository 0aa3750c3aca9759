"""Per-trial output capture: what it does to the process's real streams."""

from __future__ import annotations

import gc
import io
import sys
import warnings

import pytest

from hpt_magic.executors._capture import ROUTER, _Stream


class NotebookThread:
    """A thread started before a capture (a cell's beside a --background run) that runs
    ``action`` once :meth:`run_now` is called from inside the capture."""

    def __init__(self, action):
        import threading

        self.go, self.done = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run, args=(action,))
        self.thread.start()

    def _run(self, action):
        self.go.wait(10)
        action()
        self.done.set()

    def run_now(self):
        self.go.set()
        self.done.wait(10)


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


def test_routing_the_logging_handlers_survives_a_thread_that_creates_loggers():
    # A background run installs the router while the kernel's own thread may be importing a
    # library that creates loggers: reading the loggers must not fail half-way, leaving the
    # streams swapped.
    import logging
    import threading

    real = sys.stderr
    for i in range(500):
        logging.getLogger(f"hpt-test-pre.{i}")
    stop, errors = threading.Event(), []

    def create():
        i = 0
        while not stop.is_set():
            logging.getLogger(f"hpt-test-new.{i}")
            i += 1

    thread = threading.Thread(target=create)
    thread.start()
    try:
        for _ in range(100):
            try:
                ROUTER.retain()
                ROUTER.release()
            except RuntimeError as exc:  # dictionary changed size during iteration
                errors.append(exc)
    finally:
        stop.set()
        thread.join()
        with logging._lock:  # the test's loggers would slow every later run's routing
            for name in [n for n in logging.Logger.manager.loggerDict if n.startswith("hpt-t")]:
                del logging.Logger.manager.loggerDict[name]
    assert errors == [] and sys.stderr is real


def test_an_interrupt_while_a_capture_starts_leaves_warnings_as_they_were(monkeypatch,
                                                                         recwarn):
    # Ctrl-C (or a trial's timeout) landing inside the capture's set-up must not leave the
    # warnings module recording into a list nobody reads, for the rest of the kernel.
    import warnings

    real, calls = warnings.simplefilter, []

    def interrupted(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    filters = list(warnings.filters)
    monkeypatch.setattr(warnings, "simplefilter", interrupted)
    try:
        with ROUTER.capture():
            pass
    except KeyboardInterrupt:
        pass
    assert calls and warnings.filters == filters
    warnings.warn("a later warning", stacklevel=1)  # reaches whoever listened before: recwarn
    assert [str(w.message) for w in recwarn] == ["a later warning"]


def test_trials_in_several_threads_keep_their_own_warnings(recwarn):
    # Two trials of a Dask worker's threads, started and ended out of order (A starts, B
    # starts, A ends, B ends): each keeps its own warnings, and afterwards the warnings module
    # shows warnings as before. (With one catch_warnings a trial, B restored A's state: A's
    # warning went to B, and every later warning into B's finished list.)
    import threading
    import warnings

    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    outputs = {}

    def trial(name, wait_before, entered, wait_inside, done):
        wait_before.wait(5)
        with ROUTER.capture() as buf:
            entered.set()
            wait_inside.wait(5)
            warnings.warn(f"from {name}", UserWarning, stacklevel=1)
        done.set()
        outputs[name] = buf.getvalue()

    started = threading.Event()
    started.set()
    threads = [threading.Thread(target=trial, args=("A", started, a_in, b_in, a_out)),
               threading.Thread(target=trial, args=("B", a_in, b_in, a_out, threading.Event()))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert "from A" in outputs["A"] and "from B" not in outputs["A"]
    assert "from B" in outputs["B"] and "from A" not in outputs["B"]
    warnings.warn("a later warning", UserWarning, stacklevel=1)
    assert [str(w.message) for w in recwarn] == ["a later warning"]


def test_a_warning_from_a_thread_the_trial_started_is_the_trials(recwarn):
    # A framework's data loader or thread pool warns from a thread of its own: with one trial
    # at a time, the warning belongs to that trial's output, not to the notebook's cell.
    import threading
    import warnings

    with ROUTER.capture() as buf:
        helper = threading.Thread(
            target=lambda: warnings.warn("from a loader thread", UserWarning, stacklevel=1))
        helper.start()
        helper.join()
    assert "UserWarning: from a loader thread" in buf.getvalue()
    assert not list(recwarn)


def test_an_interrupt_as_a_capture_ends_is_repaired_by_the_next(monkeypatch, recwarn):
    # Ctrl-C or a trial's time limit landing while the warnings module is being restored:
    # the streams are released all the same, the next capture finishes the restore, and no
    # later warning calls the router's own hook again (which recursed for ever).
    import warnings

    import pytest

    real = ROUTER._unroute_warnings

    def interrupted():
        monkeypatch.setattr(ROUTER, "_unroute_warnings", real)  # once
        raise KeyboardInterrupt

    monkeypatch.setattr(ROUTER, "_unroute_warnings", interrupted)
    with pytest.raises(KeyboardInterrupt):
        with ROUTER.capture():
            pass
    assert not isinstance(sys.stdout, _Stream)
    with ROUTER.capture() as buf:
        warnings.warn("in the next trial", UserWarning, stacklevel=1)
    assert "UserWarning: in the next trial" in buf.getvalue()
    warnings.warn("a later warning", UserWarning, stacklevel=1)
    assert [str(w.message) for w in recwarn] == ["a later warning"]


def test_an_interrupt_as_a_capture_starts_leaves_no_routing_behind(monkeypatch, recwarn):
    # The interrupt lands as the set-up's lock is released, before the trial runs.
    import warnings

    import pytest

    class InterruptingLock:
        def __init__(self, real):
            self.real, self.exits = real, 0

        def __enter__(self):
            return self.real.__enter__()

        def __exit__(self, *exc):
            self.real.__exit__(*exc)
            self.exits += 1
            if self.exits == 1:  # the set-up's
                raise KeyboardInterrupt

    filters = list(warnings.filters)
    monkeypatch.setattr(ROUTER, "_lock", InterruptingLock(ROUTER._lock))
    with pytest.raises(KeyboardInterrupt):
        with ROUTER.capture():
            pass
    assert warnings.filters == filters and not ROUTER._open
    assert not isinstance(sys.stdout, _Stream)
    warnings.warn("a later warning", UserWarning, stacklevel=1)
    assert [str(w.message) for w in recwarn] == ["a later warning"]


def test_a_print_from_a_thread_the_trial_started_is_the_trials(capsys):
    # A progress bar's refresh thread (rich's, behind Lightning's default bar) or a data
    # loader prints from a thread of its own: that goes with the trial, not into the cell.
    import threading

    with ROUTER.capture() as buf:
        helper = threading.Thread(target=lambda: print("from a refresh thread"))
        helper.start()
        helper.join()
    assert "from a refresh thread" in buf.getvalue()
    assert "from a refresh thread" not in capsys.readouterr().out


def test_a_thread_alive_before_the_capture_prints_to_the_real_stream(capsys):
    # The notebook's own threads (a cell's beside a --background run) are never captured.
    helper = NotebookThread(lambda: print("from the notebook"))
    with ROUTER.capture() as buf:
        helper.run_now()
    helper.thread.join()
    assert "from the notebook" not in buf.getvalue()
    assert "from the notebook" in capsys.readouterr().out


def test_a_thread_the_notebook_starts_during_a_capture_is_not_captured(capsys):
    # A cell beside a --background run starts a thread while a trial captures: neither the
    # cell's thread nor the one it starts belongs to the trial. A thread the trial's thread
    # starts, and any that one starts, do.
    import threading

    def say(text):
        thread = threading.Thread(target=lambda: print(text))
        thread.start()
        thread.join()

    helper = NotebookThread(lambda: say("from a thread of the notebook"))
    with ROUTER.capture() as buf:
        helper.run_now()
        say("from a thread of the trial")
        inner = threading.Thread(target=say, args=("from a thread of a thread of the trial",))
        inner.start()
        inner.join()
    helper.thread.join()
    out = capsys.readouterr().out
    assert "from a thread of the notebook" in out
    assert "from a thread of the notebook" not in buf.getvalue()
    for text in ("from a thread of the trial", "from a thread of a thread of the trial"):
        assert text in buf.getvalue() and text not in out
    # Once the run is over, starting a thread is threading's own again.
    assert not hasattr(threading.Thread.start, "__wrapped__")


def test_a_warning_from_the_notebooks_thread_is_not_a_trials(recwarn):
    # A cell beside a --background run warns while a trial captures: the cell's warning is
    # shown as usual, not put into the trial's output.
    import warnings

    helper = NotebookThread(
        lambda: warnings.warn("from the notebook", UserWarning, stacklevel=1))
    with ROUTER.capture() as buf:
        helper.run_now()
    helper.thread.join()
    assert "from the notebook" not in buf.getvalue()
    assert [str(w.message) for w in recwarn] == ["from the notebook"]


def test_a_thread_that_outlives_its_trial_keeps_no_output_alive(capsys):
    # A pool started in one trial and kept (a module-level executor) holds a token, not the
    # trial's output; once that trial is over its prints go to the real stream.
    import gc
    import threading
    import weakref

    go, done = threading.Event(), threading.Event()

    def pool_thread():
        go.wait(10)
        print("from the pool, later")
        done.set()

    with ROUTER.capture() as buf:
        pool = threading.Thread(target=pool_thread)
        pool.start()
    gone = weakref.ref(buf)
    del buf
    gc.collect()
    assert gone() is None
    go.set()
    done.wait(10)
    pool.join()
    assert "from the pool, later" in capsys.readouterr().out


def test_a_pool_one_trial_started_works_for_the_trials_that_reuse_it(capsys, recwarn):
    # An executor made in an earlier cell starts its threads in the first trial that submits
    # work; later trials of the run reuse them. What those threads print or warn then is the
    # later trial's, not the cell's.
    import warnings
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(1)
    ROUTER.retain()  # as a run does, for all its trials
    try:
        with ROUTER.capture() as first:
            pool.submit(print, "printed in trial 0").result()
        with ROUTER.capture() as second:
            pool.submit(print, "printed in trial 1").result()
            pool.submit(warnings.warn, "warned in trial 1", UserWarning).result()
    finally:
        ROUTER.release()
        pool.shutdown()
    assert "printed in trial 0" in first.getvalue()
    assert "trial 1" not in first.getvalue()
    assert "printed in trial 1" in second.getvalue()
    assert "UserWarning: warned in trial 1" in second.getvalue()
    assert "printed in" not in capsys.readouterr().out
    assert not list(recwarn)


@pytest.mark.parametrize("when", ["set-up", "tear-down"])
def test_ctrl_c_inside_a_capture_s_own_steps_leaves_nothing_installed(monkeypatch, when):
    # A real SIGINT (Kernel > Interrupt) arriving between the capture's own steps: it is
    # delivered once they are all done, and nothing stays installed.
    import signal

    real = ROUTER._install if when == "set-up" else ROUTER._unroute_warnings

    def then_ctrl_c():
        real()
        signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(ROUTER, "_install" if when == "set-up" else "_unroute_warnings",
                        then_ctrl_c)
    routed = []  # the set-up's last step, which a held Ctrl-C lets happen
    route = ROUTER._route_warnings
    monkeypatch.setattr(ROUTER, "_route_warnings", lambda: (routed.append(1), route()))
    stdout, stderr = sys.stdout, sys.stderr
    filters = list(warnings.filters)
    with pytest.raises(KeyboardInterrupt):
        with ROUTER.capture():
            pass
    assert routed == [1]
    assert (sys.stdout, sys.stderr) == (stdout, stderr) and warnings.filters == filters
    assert ROUTER.buffer() is None and not ROUTER._captures and not ROUTER._installed


def test_a_time_limit_between_routing_warnings_and_registering_leaves_them_as_they_were(
        monkeypatch, recwarn):
    # A trial's time limit is not held back: it may land right after the warnings were
    # routed, before the capture is registered; its end still puts the warnings back.
    route = ROUTER._route_warnings

    def route_then_time_out():
        route()
        raise TimeoutError("the trial's time limit")

    monkeypatch.setattr(ROUTER, "_route_warnings", route_then_time_out)
    filters, shown = list(warnings.filters), warnings.showwarning
    with pytest.raises(TimeoutError):
        with ROUTER.capture():
            pass
    assert warnings.filters == filters and warnings.showwarning is shown


def test_an_interrupt_of_another_kind_in_the_set_up_leaves_nothing_installed(monkeypatch):
    # A trial's time limit (SIGALRM) or an abort is not held back: it may land between the
    # set-up's steps, and the capture's end undoes exactly what was done.
    real = ROUTER._install

    def install_then_time_out():
        real()
        raise TimeoutError("the trial's time limit")

    monkeypatch.setattr(ROUTER, "_install", install_then_time_out)
    stdout = sys.stdout
    with pytest.raises(TimeoutError):
        with ROUTER.capture():
            pass
    assert sys.stdout is stdout and not ROUTER._installed and ROUTER.buffer() is None
