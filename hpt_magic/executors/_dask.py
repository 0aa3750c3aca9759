"""Trials on a Dask cluster: one task per trial, round trips through ``distributed.Queue``.

A task sends its requests to one queue that the kernel reads (``hpt-<run>-up``) and waits for
the answer on its trial's own queue (``hpt-<run>-<number>``); both live on the scheduler, which
kernel and workers reach anyway. The objective travels the same way, once per worker and run
(not scattered: scattered data dies with the worker holding it, and Dask cannot recompute it).

A worker that dies makes Dask run its task again elsewhere; the task first asks the kernel
(``begin``), which counts the attempts and answers ``cancel`` once the retries are used up, so
a trial that kills its worker is failed instead of killing worker after worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import queue
import signal
import socket
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from typing import Any

from ..distributions import Distribution
from ..exceptions import TuneError
from ..trial import Trial
from ._base import Executor
from ._processes import main_module_spec
from ._worker import Cancelled, dump_outcome, dumps, loads, run_remote, trial_spec, with_worker

__all__ = ["DaskPool", "run_task"]

#: Seconds a task waits for the kernel's answer before it gives up (kernel gone).
_KERNEL_SILENCE = 600.0

#: Seconds between two counts of the cluster's worker threads.
_RECOUNT = 2.0


class _QueueChannel:
    def __init__(self, up: Any, down: Any) -> None:
        self.up = up
        self.down = down

    def request(self, message: tuple) -> tuple:
        # The token tells this request's answer from one left in the trial's queue for an
        # earlier attempt whose worker died while waiting.
        token = uuid.uuid4().hex
        self.up.put(dumps((token, message)))
        while True:
            try:
                answer_to, reply = loads(self.down.get(timeout=_KERNEL_SILENCE))
            except TimeoutError:
                raise Cancelled from None
            if answer_to == token or reply[0] == "cancel":
                return reply


def run_task(spec: dict[str, Any], run: str) -> bytes:
    """The Dask task of one trial (runs on a worker); returns the pickled outcome, with the
    address of the worker that ran it as ``worker``."""
    from distributed import Queue, get_worker

    number = spec["number"]
    # The objective and the kernel's queue of the current run, loaded once per run and
    # worker: kept on the Dask worker, which owns them and drops them when it goes.
    worker = get_worker()
    current = worker.__dict__.setdefault("hpt_magic_run", {})
    if run not in current:
        current.clear()  # drop the objective of an earlier run
        current[run] = (None, Queue(f"hpt-{run}-up"))
    objective, up = current[run]
    channel = _QueueChannel(up, Queue(f"hpt-{run}-{number}"))
    if channel.request(("begin", number))[0] != "ok":
        return dumps(None)
    if objective is None:
        objective = loads(channel.request(("objective", number))[1])
        current[run] = (objective, up)
    return dump_outcome({**run_remote(objective, spec, channel), "worker": worker.address})


#: Seconds a scheduler has to answer (one that is still starting up is waited for).
CONNECT_TIMEOUT = 10


def check_dask(dask: Any) -> int | None:
    """Refuse a ``--dask`` value that cannot work, before a study is opened for the run: not
    ``local:N``, a scheduler address with its port, or a client; Dask not installed; or a
    ``tcp://`` address where nothing listens within :data:`CONNECT_TIMEOUT` seconds, or
    where something other than a scheduler answers (its dashboard, a worker, a web server,
    with which ``distributed.Client`` would wait for ever or fail deep in its protocol; it
    has as long to answer as the client's connect timeout).
    Returns the number of workers of ``local:N`` (0: one per core), else ``None``.

    Parameters
    ----------
    dask : str or distributed.Client
        What ``--dask`` / ``optimize(dask=...)`` was given.
    """
    try:
        import distributed
    except ImportError:
        raise TuneError("--dask needs the Dask distributed package: pip install "
                        "'hpt-magic[dask]' (or run local processes with --jobs N).") from None
    if isinstance(dask, distributed.Client):
        return None
    if not isinstance(dask, str) or not dask:
        raise TuneError(f"dask must be 'local:N', a scheduler address such as "
                        f"'tcp://host:8786', or a distributed.Client; got {dask!r}.")
    if dask == "local" or dask.startswith("local:"):
        n = dask.partition(":")[2] or "0"
        if not n.isdigit():
            raise TuneError(f"--dask local:N needs a number of workers N, got {dask!r}.")
        return int(n)
    where = urllib.parse.urlsplit(dask if "://" in dask else f"tcp://{dask}")
    try:
        port = where.port
    except ValueError as exc:  # not a number, or out of range
        raise _unreachable(dask, exc) from None
    if where.scheme.lower() in ("tcp", "tls") and (not where.hostname or port is None):
        raise TuneError(f"--dask {dask!r} is no scheduler address with a port: give the one "
                        "the scheduler prints, e.g. 'tcp://10.0.0.5:8786', or start a local "
                        "cluster with --dask local:N.")
    if where.scheme.lower() == "tcp":
        # Retried while refused, as the client would: a scheduler may still be starting.
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while True:
            try:
                socket.create_connection((where.hostname, port), timeout=CONNECT_TIMEOUT).close()
                break
            except ConnectionRefusedError as exc:
                if time.monotonic() > deadline:
                    raise _unreachable(dask, exc) from None
                time.sleep(0.25)
            except OSError as exc:  # no such host, no route, timed out
                raise _unreachable(dask, exc) from None
        address = f"tcp://{where.netloc}"
        if time.monotonic() - _IDENTIFIED.get(address, -math.inf) > _IDENTITY_KEPT:
            _identify(dask, address, _answer_seconds())
            _IDENTIFIED[address] = time.monotonic()
    return None


#: When each address last answered as a scheduler: the magic checks before it opens the
#: study, and the run's connection right after need not ask again.
_IDENTIFIED: dict[str, float] = {}
_IDENTITY_KEPT = 60.0


def _answer_seconds() -> float:
    """How long a scheduler has to say what it is: as long as ``distributed.Client`` waits
    for it to connect (``distributed.comm.timeouts.connect``; a busy one answers late)."""
    import dask.config
    from dask.utils import parse_timedelta

    setting = dask.config.get("distributed.comm.timeouts.connect", None)
    return float(parse_timedelta(setting, "s")) if setting else float(CONNECT_TIMEOUT)


def _identify(dask: str, address: str, seconds: float) -> None:
    """Refuse ``address`` unless a Dask scheduler answers there within ``seconds``."""
    from distributed.comm import connect

    async def identity() -> dict:
        comm = await connect(address, timeout=seconds)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    answer: list[Any] = []

    def ask() -> None:  # in a thread of its own: the kernel's thread may run an event loop
        try:
            answer.append(asyncio.run(asyncio.wait_for(identity(), seconds)))
        except BaseException as exc:  # a garbled answer: MemoryError, ValueError, closed...
            answer.append(exc)

    thread = threading.Thread(target=ask, name="hpt-dask-probe", daemon=True)
    thread.start()
    thread.join(seconds + 5)
    reply = answer[0] if answer else TimeoutError()
    kind = reply.get("type") if isinstance(reply, dict) else None
    if kind == "Scheduler":
        return
    if isinstance(kind, str):
        what = f"a Dask {kind}, not the scheduler"
    elif isinstance(reply, (TimeoutError, asyncio.TimeoutError)):
        what = (f"not answering as a Dask scheduler: something accepts connections there but "
                f"said nothing within {seconds:g} s (another server, such as a scheduler's "
                "dashboard, or a scheduler too busy to answer)")
    else:
        what = "no Dask scheduler: what answers there does not speak Dask's protocol"
    raise TuneError(f"--dask {dask!r} is {what}. Give the address the scheduler prints "
                    "('Scheduler at: tcp://...'; port 8786 by default, 8787 is its "
                    "dashboard), or start a local cluster with --dask local:N.")


def _unreachable(dask: str, exc: BaseException) -> TuneError:
    return TuneError(f"Could not connect to the Dask scheduler at {dask!r} ({exc}). Check the "
                     "address, or start a local cluster with --dask local:N.")


def _connect(dask: Any) -> tuple[Any, Any]:
    """``(client, cluster)`` for ``--dask``; ``cluster`` is ours to close, or ``None``."""
    n = check_dask(dask)
    import distributed

    if isinstance(dask, distributed.Client):
        return dask, None
    if n is not None:
        # No dashboard; the scheduler's remaining HTTP endpoints take a free port, so that a
        # second cluster does not warn about port 8787.
        main_module_spec()
        with _workers_ignore_interrupts():
            cluster = distributed.LocalCluster(
                n_workers=n or None, threads_per_worker=1, processes=True,
                dashboard_address=None, silence_logs=logging.ERROR,
                scheduler_kwargs={"dashboard_address": ":0"})
        return distributed.Client(cluster), cluster
    try:
        return distributed.Client(dask, timeout=CONNECT_TIMEOUT), None
    except (OSError, TimeoutError, ValueError) as exc:
        raise _unreachable(dask, exc) from None


@contextlib.contextmanager
def _workers_ignore_interrupts() -> Iterator[None]:
    """Start worker processes with SIGINT ignored.

    Kernel > Interrupt signals the kernel's whole process group: the workers of a local
    cluster would each print a KeyboardInterrupt traceback into the cell. The kernel alone
    decides what an interrupt stops (it cancels the tasks). Processes inherit an ignored
    SIGINT, and Python keeps it ignored; only the main thread may change it.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class DaskPool(Executor):
    """Trials of one pickled objective as Dask tasks; same messages as ``ProcessPool``.

    A finished trial's ``user_attrs`` name the worker that ran it: ``worker_name``, its
    address, and ``worker``, a number per address in the order they first finished a trial.
    """

    announces_start = True

    def __init__(self, dask: Any, blob: bytes, n_jobs: int = 1,
                 catch: bool | tuple[type[Exception], ...] = True) -> None:
        from distributed import Queue

        self._client, self._cluster = _connect(dask)
        #: A client made here from an address is ours to close, as is a local cluster's.
        self._own_client = isinstance(dask, str)
        self._n_jobs = n_jobs if n_jobs > 1 else None
        self._threads, self._counted = 1, -float("inf")
        self._blob = blob
        self._catch = catch
        self._run = uuid.uuid4().hex[:12]
        try:
            self._up = Queue(f"hpt-{self._run}-up", client=self._client)
        except BaseException:
            self._disconnect()
            raise
        self._down: dict[int, Any] = {}
        self._futures: dict[int, Any] = {}
        self._tokens: dict[int, str] = {}  # trial -> token of its request awaiting a reply
        self._lanes: dict[str, int] = {}  # worker address -> its number for this run
        self._inbox: queue.Queue[tuple] = queue.Queue()
        self._closing = threading.Event()
        self._reader = threading.Thread(target=self._read, name="hpt-dask-reader", daemon=True)
        self._reader.start()

    @property
    def size(self) -> int:
        """Trials to keep in flight: ``n_jobs``, else the cluster's threads (it may scale)."""
        if self._n_jobs is not None:
            return self._n_jobs
        if time.monotonic() - self._counted > _RECOUNT:
            self._counted = time.monotonic()
            self._threads = max(1, sum(self._client.nthreads().values()))
        return self._threads

    def _read(self) -> None:
        # No timeout: the scheduler logs every expired Queue.get as an error with a traceback.
        # close() puts a last message to wake this thread up.
        while not self._closing.is_set():
            try:
                data = self._up.get()
            except Exception:  # the client closed under us
                return
            if self._closing.is_set():
                return
            token, message = loads(data)
            if message[0] == "objective":
                self._send_objective(message[1], token)
            else:
                self._tokens[message[1]] = token
                self._inbox.put(message)

    def _send_objective(self, number: int, token: str) -> None:
        """A worker's first trial of the run asks for the objective (answered here, not by the
        dispatcher: it is the same for every trial)."""
        from distributed import Queue

        Queue(f"hpt-{self._run}-{number}", client=self._client).put(
            dumps((token, ("ok", self._blob))))

    def submit(self, trial: Trial, known: dict[str, Distribution]) -> None:
        number = trial.number
        spec = trial_spec(trial, known, self._catch)
        future = self._client.submit(run_task, spec, self._run, pure=False,
                                     key=f"hpt-trial-{self._run}-{number}-{uuid.uuid4().hex[:6]}")
        self._futures[number] = future
        future.add_done_callback(lambda f: self._inbox.put(("future", number, f)))

    def reply(self, number: int, reply: tuple) -> None:
        from distributed import Queue

        if number not in self._down:
            self._down[number] = Queue(f"hpt-{self._run}-{number}", client=self._client)
        self._down[number].put(dumps((self._tokens.pop(number, None), reply)))

    def next_message(self, timeout: float) -> tuple | None:
        try:
            message = self._inbox.get(timeout=timeout)
        except queue.Empty:
            return None
        if message[0] == "future":
            return self._result(message[1], message[2])
        return message

    def _result(self, number: int, future: Any) -> tuple | None:
        from distributed import KilledWorker

        if self._futures.get(number) is not future:
            return None
        del self._futures[number]
        down = self._down.pop(number, None)
        if down is not None:
            down.close()
        if future.status == "cancelled":
            return None
        if future.status == "finished":
            outcome = loads(future.result())
            if outcome is None:
                return None
            address = outcome.pop("worker", None)  # None: a worker with an older hpt-magic
            if address is not None:
                lane = self._lanes.setdefault(address, len(self._lanes))
                outcome = with_worker(outcome, lane, address)
            return ("done", number, outcome)
        exc = future.exception()
        if isinstance(exc, KilledWorker):
            return ("lost", number, "Dask gave up after its workers kept dying")
        return ("broken", number, f"{type(exc).__name__}: {exc}")

    def stop_trial(self, number: int) -> None:
        """Stop trial ``number``: cancel its task and restart the worker running it (a task
        cannot be stopped otherwise); a task that asks the kernel meanwhile is told to stop."""
        future = self._futures.pop(number, None)
        if future is None:
            return
        try:
            self.reply(number, ("cancel",))
            self._down.pop(number, None)
            processing = self._client.processing()
            workers = [w for w, keys in processing.items() if future.key in keys]
            self._client.cancel([future])
            if workers:
                self._client.restart_workers(workers, timeout=30)
        except Exception:  # the worker is gone already: nothing left to stop
            pass

    def cancel(self) -> None:
        """Tell running tasks to stop at their next request, and cancel them."""
        futures, self._futures = self._futures, {}
        try:
            for number in futures:
                self.reply(number, ("cancel",))
                # Left open (not released at close): a task that starts late finds the cancel
                # there instead of waiting for an answer that never comes.
                del self._down[number]
            self._client.cancel(list(futures.values()))
        except Exception:  # the cluster is already gone (its workers got the interrupt too)
            pass

    def close(self) -> None:
        self._closing.set()
        try:
            self._up.put(dumps(None))  # wakes the reader up
            self._reader.join(timeout=2)
            for down in self._down.values():
                down.close()
            self._up.close()
        except Exception:  # the cluster is already gone
            pass
        self._disconnect()

    def _disconnect(self) -> None:
        if self._own_client:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
