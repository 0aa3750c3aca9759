"""Real kernels for the fault-injection tests (start one, run a cell, interrupt it, kill -9 it),
and the checks of a study file after a fault.

Each kernel runs in its own temp HOME (with IPYTHONDIR and the JUPYTER_* folders inside), in
its own process group, and is always shut down (its group killed) at the end of the test or
module that started it. Every wait is bounded: a cell that does not end in time fails the test
instead of hanging it.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client import KernelManager

#: Seconds a kernel may take to start (two cores shared by several kernels and workers).
START_TIMEOUT = 60
#: Seconds a cell may take unless the test says otherwise.
CELL_TIMEOUT = 60


@dataclass
class Reply:
    """What one cell did: its status and everything it sent to the notebook."""

    status: str = ""
    stdout: str = ""
    stderr: str = ""
    #: ``text/plain`` of every display, display update and result, in order.
    displays: list[str] = field(default_factory=list)
    ename: str = ""
    evalue: str = ""
    traceback: str = ""

    @property
    def text(self) -> str:
        """Everything the user would read: printed text, displays, the error."""
        return "\n".join([self.stdout, self.stderr, *self.displays, self.ename, self.evalue])

    def check(self) -> Reply:
        """Fail the test with the kernel's traceback when the cell raised."""
        assert self.status == "ok", f"the cell failed: {self.ename}: {self.evalue}\n" \
                                    f"{self.traceback}\n{self.stdout}\n{self.stderr}"
        return self


class Kernel:
    """An IPython kernel through ``jupyter_client``, with ``%load_ext hpt_magic`` done.

    Parameters
    ----------
    home : Path
        A temp folder: the kernel's HOME and working directory; IPython and Jupyter write
        only below it.
    """

    def __init__(self, home: Path) -> None:
        self.home = home
        env = dict(os.environ)
        for var, sub in (("HOME", ""), ("IPYTHONDIR", ".ipython"),
                         ("JUPYTER_CONFIG_DIR", ".jupyter"),
                         ("JUPYTER_DATA_DIR", ".local/share/jupyter"),
                         ("JUPYTER_RUNTIME_DIR", ".local/share/jupyter/runtime"),
                         ("MPLCONFIGDIR", ".config/matplotlib")):
            path = home / sub
            path.mkdir(parents=True, exist_ok=True)
            env[var] = str(path)
        env.pop("HPT_MAGIC_STORAGE", None)
        # Workers and BLAS share two cores with the test itself.
        env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self.km = KernelManager(kernel_name="python3")
        self.km.connection_file = str(home / f"kernel-{uuid.uuid4().hex[:8]}.json")
        self.km.start_kernel(env=env, cwd=str(home))
        self.kc = self.km.client()
        self.kc.start_channels()
        try:
            self.kc.wait_for_ready(timeout=START_TIMEOUT)
            self.pid = int(self.run("import os; print(os.getpid())").check().stdout)
            self.run("%load_ext hpt_magic").check()
        except BaseException:
            self.shutdown()
            raise

    # -- running cells -----------------------------------------------------------------------
    def submit(self, code: str) -> str:
        """Start running ``code``; return the message id to :meth:`collect` its reply with."""
        return self.kc.execute(code, allow_stdin=False)

    def collect(self, msg_id: str, timeout: float = CELL_TIMEOUT) -> Reply:
        """Wait (at most ``timeout`` seconds) for the cell ``msg_id`` to end; what it did."""
        reply = Reply()
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"the cell did not end within {timeout} s; so far:\n"
                                   f"{reply.text}")
            try:
                msg = self.kc.get_iopub_msg(timeout=min(left, 1.0))
            except Exception:  # queue.Empty: check the kernel is alive and go on waiting
                if not self.km.is_alive():
                    raise RuntimeError(f"the kernel died; so far:\n{reply.text}") from None
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                if content["name"] == "stdout":
                    reply.stdout += content["text"]
                else:
                    reply.stderr += content["text"]
            elif kind in ("display_data", "update_display_data", "execute_result"):
                reply.displays.append(content["data"].get("text/plain", ""))
            elif kind == "error":
                reply.ename, reply.evalue = content["ename"], content["evalue"]
                reply.traceback = "\n".join(content["traceback"])
            elif kind == "status" and content["execution_state"] == "idle":
                break
        while True:  # replies to earlier cells (interrupted, timed out) may come first
            shell = self.kc.get_shell_msg(timeout=max(1.0, deadline - time.monotonic()))
            if shell["parent_header"].get("msg_id") == msg_id:
                break
        reply.status = shell["content"]["status"]
        if reply.status == "error" and not reply.ename:
            reply.ename = shell["content"].get("ename", "")
            reply.evalue = shell["content"].get("evalue", "")
        return reply

    def run(self, code: str, timeout: float = CELL_TIMEOUT) -> Reply:
        """Run ``code`` and wait for it."""
        return self.collect(self.submit(code), timeout)

    def value(self, expression: str) -> str:
        """``print(expression)`` in the kernel, as text."""
        return self.run(f"print(({expression}))").check().stdout.strip()

    # -- faults ------------------------------------------------------------------------------
    def interrupt_after(self, code: str, delay: float, timeout: float = CELL_TIMEOUT) -> Reply:
        """Run ``code``, send Kernel > Interrupt ``delay`` seconds later, return what it did."""
        msg_id = self.submit(code)
        self.wait_busy(msg_id)
        time.sleep(delay)
        self.interrupt()
        return self.collect(msg_id, timeout)

    def wait_busy(self, msg_id: str, timeout: float = 10) -> None:
        """Block until the kernel started executing ``msg_id`` (its clock starts there)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.kc.get_iopub_msg(timeout=0.5)
            except Exception:
                continue
            if (msg["parent_header"].get("msg_id") == msg_id
                    and msg["msg_type"] == "execute_input"):
                return
        raise TimeoutError(f"the kernel did not start the cell within {timeout} s")

    def interrupt(self) -> None:
        """Kernel > Interrupt: SIGINT to the kernel's process group, as Jupyter sends it."""
        self.km.interrupt_kernel()

    def kill(self) -> None:
        """``kill -9`` the kernel process (its workers are left to notice on their own)."""
        os.kill(self.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while self.km.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not self.km.is_alive(), "the kernel survived kill -9"

    def shutdown(self) -> None:
        """Stop the channels and the kernel, and kill whatever is left of its process group."""
        self.kc.stop_channels()
        pgid = None
        if self.km.provisioner is not None:
            pgid = getattr(self.km.provisioner, "pgid", None)
        try:
            self.km.shutdown_kernel(now=True)
        except Exception:
            pass  # already dead (killed by the test): its group is reaped below
        if pgid:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.km.cleanup_resources()


class Kernels:
    """Starts kernels for one test or module and shuts every one of them down at the end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.started: list[Kernel] = []

    def start(self) -> Kernel:
        """A fresh kernel with its own HOME below ``root``."""
        home = self.root / f"kernel{len(self.started)}"
        home.mkdir()
        kernel = Kernel(home)
        self.started.append(kernel)
        return kernel

    def close(self) -> None:
        for kernel in self.started:
            kernel.shutdown()


# -- reading a study file from outside the kernel ---------------------------------------------
def trial_rows(path: Path, study: str | None = None) -> list[tuple[str, int, str]]:
    """``(study, number, state)`` of every stored trial, by study then number (none when
    the file or its tables are not there yet: a run interrupted before it wrote anything)."""
    if not path.exists():
        return []
    with sqlite3.connect(path, timeout=10) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        if not {"trials", "studies"} <= tables:
            return []
        rows = conn.execute(
            "SELECT s.name, t.number, t.state FROM trials t JOIN studies s ON s.id = t.study_id "
            "ORDER BY s.name, t.number").fetchall()
    return [r for r in rows if study is None or r[0] == study]


def assert_consistent(path: Path) -> list[tuple[str, int, str]]:
    """The invariants of a study file after any fault: intact, nothing ``running``, numbers
    contiguous from 0 in every study. Returns the rows."""
    if not path.exists():
        return []
    with sqlite3.connect(path, timeout=10) as conn:
        (check,) = conn.execute("PRAGMA integrity_check").fetchone()
    assert check == "ok", check
    rows = trial_rows(path)
    running = [(s, n) for s, n, state in rows if state == "running"]
    assert not running, f"trials left running: {running}"
    by_study: dict[str, list[int]] = {}
    for name, number, _ in rows:
        by_study.setdefault(name, []).append(number)
    for name, numbers in by_study.items():
        assert numbers == list(range(len(numbers))), f"{name}: numbers {numbers}"
    return rows
