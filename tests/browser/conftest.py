"""Fixtures for tests in a real JupyterLab driven by a real (headless) Chromium.

Reuse them in any test under ``tests/browser/``:

``lab`` (session)
    A :class:`LabServer`: ``jupyter lab`` from this Python environment on 127.0.0.1 with a
    token, a temporary root dir (``lab.root``) and temporary HOME/Jupyter/IPython dirs.
    ``lab.write_notebook(name, cells)`` writes a notebook into the root.
    ``LabServer(base, app="notebook")`` is Notebook 7 instead (the ``notebook`` package).
``browser`` (session)
    A Playwright persistent Chromium context (Debian's ``/usr/bin/chromium``).
``lab_page`` (function)
    A :class:`LabPage` on a fresh tab: ``open_notebook(name, cells)``, ``run_all()``,
    ``wait_idle()``, ``save()``, ``shutdown_kernel()``, ``reload()``, ``screenshot(name)``,
    ``js(expr)``; ``dialogs`` lists every alert/confirm the page raised (they are dismissed).
``wait_for(predicate, timeout, message)``
    Poll a Python callable until it returns something truthy.

Chromium is Debian's package (``make chromium`` installs it); Playwright's own browser
download does not work on these machines. When Chromium is missing, the fixtures try
``apt-get install chromium`` once and skip the browser tests only if that fails.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "build" / "screenshots"
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"
# The server is on 127.0.0.1: never through an HTTP proxy from the environment.
_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1,
             message: str = "condition") -> Any:
    """Poll ``predicate`` until it returns a truthy value, and return that value."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


def watch_view(lp: Any, view: str) -> None:
    """Record in the page each (trials, status) the study view ``view`` shows from now on.

    A ``MutationObserver`` sees every update, however slowly the test polls: on a loaded
    machine a poll can miss the few updates a short run gets (the dashboard spaces them by
    their cost). Call it before the cell runs; :func:`follow_view` returns the record.
    """
    lp.js("""sel => {
        const seen = window.hptSeen = [];
        const note = () => {
            const v = document.querySelector(sel);
            if (!v || v.dataset.trials === undefined) { return; }
            const now = [Number(v.dataset.trials), v.dataset.status];
            const last = seen[seen.length - 1];
            if (!last || last[0] !== now[0] || last[1] !== now[1]) { seen.push(now); }
        };
        new MutationObserver(note).observe(document.body, {
            subtree: true, childList: true, attributes: true,
            attributeFilter: ['data-trials', 'data-status']});
        note();
    }""", view)


def follow_view(lp: Any, view: str, timeout: float = 120.0) -> list[tuple[int, str]]:
    """Wait until the study view ``view`` shows a finished run; return each (trials, status)
    it showed since :func:`watch_view`, each change once."""
    wait_for(lambda: lp.js("sel => document.querySelector(sel)?.dataset.status", view)
             == "finished", timeout, 0.1, "the study view to show the finished run")
    return [(int(n), status) for n, status in lp.js("() => window.hptSeen")]


def notebook_json(cells: list[str | dict[str, Any]]) -> dict[str, Any]:
    """An nbformat 4 notebook; a cell is its source, or a dict of code-cell fields."""
    out = []
    for cell in cells:
        fields = {"source": cell} if isinstance(cell, str) else dict(cell)
        out.append({"cell_type": "code", "execution_count": None, "metadata": {},
                    "outputs": [], **fields})
    return {
        "cells": out, "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"},
                     "language_info": {"name": "python"}},
    }


def display_output(bundle: dict[str, Any]) -> dict[str, Any]:
    """A saved ``display_data`` output holding ``bundle``."""
    return {"output_type": "display_data", "data": bundle, "metadata": {}}


def _ensure_chromium() -> str | None:
    """None when Chromium is there (installing it with apt if possible), else the reason."""
    if CHROMIUM.exists():
        return None
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return f"{CHROMIUM} is missing and apt-get cannot install it here (run `make chromium`)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            return f"{CHROMIUM} is missing and `{' '.join(cmd)}` failed: {done.stderr[-300:]}"
    return None if CHROMIUM.exists() else f"{CHROMIUM} is missing after apt-get install"


class LabServer:
    """``jupyter lab`` (or, with ``app="notebook"``, Notebook 7) in a subprocess, isolated in
    temporary directories."""

    def __init__(self, base: Path, app: str = "lab") -> None:
        self.app = app
        self.root = base / "root"
        self.home = base / "home"
        self.root.mkdir()
        self.home.mkdir()
        self.token = secrets.token_hex(16)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.log = base / "lab.log"
        self.env = {
            **os.environ,
            "HOME": str(self.home),
            "JUPYTER_CONFIG_DIR": str(self.home / "config"),
            "JUPYTER_DATA_DIR": str(self.home / "data"),
            "JUPYTER_RUNTIME_DIR": str(self.home / "runtime"),
            "IPYTHONDIR": str(self.home / "ipython"),
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        }
        self.process: subprocess.Popen[bytes] | None = None
        # No "get Jupyter news?" toast over the screenshots.
        labconfig = self.home / "config" / "labconfig"
        labconfig.mkdir(parents=True)
        (labconfig / "page_config.json").write_text(json.dumps(
            {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))

    def url(self, path: str = "lab") -> str:
        sep = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path}{sep}token={self.token}"

    def start(self, timeout: float = 90.0) -> None:
        cmd = [
            sys.executable, "-m", "jupyterlab" if self.app == "lab" else "notebook",
            "--no-browser", "--allow-root",
            "--ip=127.0.0.1", f"--port={self.port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
        ]
        if self.app == "lab":
            cmd += ["--LabApp.expose_app_in_browser=True",
                    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        else:
            cmd += ["--JupyterNotebookApp.expose_app_in_browser=True"]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(cmd, cwd=self.root, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT)
        wait_for(self._ready, timeout, 0.25, f"jupyter {self.app} to start (log: {self.log})")

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"jupyter {self.app} exited:\n{self.log.read_text()[-3000:]}")
        try:
            with _HTTP.open(self.url("api/status"), timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def api(self, method: str, path: str) -> Any:
        req = urllib.request.Request(self.url(f"api/{path}"), method=method)
        with _HTTP.open(req, timeout=10) as r:
            body = r.read()
        return json.loads(body) if body else None

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self.api("POST", "shutdown")
            self.process.wait(timeout=15)
        except (OSError, subprocess.TimeoutExpired):
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def shutdown_kernels(self) -> None:
        """End every session and its kernel (the server keeps running).

        A kernel that the page's closing is already shutting down can make the server answer
        500 (listing it) or 404 (deleting it) for a moment: try again, a few times, until
        none is left.
        """
        for attempt in range(6):
            try:
                for session in self.api("GET", "sessions"):
                    self.api("DELETE", f"sessions/{session['id']}")
                for kernel in self.api("GET", "kernels"):
                    self.api("DELETE", f"kernels/{kernel['id']}")
                if not self.api("GET", "kernels"):
                    return
            except urllib.error.HTTPError as exc:
                if exc.code not in (404, 500, 503) or attempt == 5:
                    raise
            time.sleep(0.5)
        raise RuntimeError(f"kernels still running after shutdown: {self.api('GET', 'kernels')}")

    def notebook_url(self, name: str) -> str:
        """The page of notebook ``name``: in the lab (its workspace reset), or Notebook 7's."""
        return self.url(f"lab/tree/{name}?reset" if self.app == "lab" else f"notebooks/{name}")

    def write_notebook(self, name: str, cells: list[str | dict[str, Any]]) -> Path:
        """Write a notebook into the server's root; see :func:`notebook_json`."""
        path = self.root / name
        path.write_text(json.dumps(notebook_json(cells)))
        return path

    def read_notebook(self, name: str) -> dict[str, Any]:
        return json.loads((self.root / name).read_text())


class LabPage:
    """One browser tab on the lab, with the few actions notebook tests need."""

    def __init__(self, page: Any, lab: LabServer) -> None:
        self.page = page
        self.lab = lab
        self.dialogs: list[str] = []
        page.on("dialog", self._on_dialog)
        page.set_default_timeout(30_000)

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def js(self, expression: str, arg: Any = None) -> Any:
        return self.page.evaluate(expression, arg)

    def sweep(self, selector: str, step: int, ystep: int) -> dict[int, bool]:
        """Hover the canvas ``selector`` every ``step`` pixels across and ``ystep`` down:
        each trial whose tooltip showed, and whether it said the trial is outside the
        filter."""
        return {int(k): v for k, v in self.js("""([sel, step, ystep]) => {
            const canvas = document.querySelector(sel);
            const tip = canvas.closest('.hpt-StudyView').querySelector('.hpt-tooltip');
            const box = canvas.getBoundingClientRect();
            const seen = {};
            for (let x = box.left + 1; x < box.right; x += step) {
                for (let y = box.top + 1; y < box.bottom; y += ystep) {
                    canvas.dispatchEvent(new MouseEvent('mousemove', {clientX: x, clientY: y}));
                    if (!tip.hidden && tip.dataset.trial !== undefined) {
                        seen[tip.dataset.trial] = tip.querySelector('.hpt-tt-filtered') !== null;
                    }
                }
            }
            canvas.dispatchEvent(new MouseEvent('mouseleave'));
            return seen;
        }""", [selector, step, ystep]).items()}

    def open_notebook(self, name: str, cells: list[str | dict[str, Any]] | None = None,
                      kernel: bool = True) -> Any:
        """Open ``name`` (written first from ``cells`` if given); returns the panel locator.

        With ``kernel`` the call also waits until the notebook's kernel is idle.
        """
        if cells is not None:
            self.lab.write_notebook(name, cells)
        self.page.goto(self.lab.notebook_url(name))
        panel = self.page.locator(NOTEBOOK)
        panel.locator(".jp-Cell").first.wait_for()
        if kernel:
            self.wait_kernel("idle")
        return panel

    def wait_kernel(self, status: str, timeout: float = 60.0) -> None:
        self.page.wait_for_function(
            """status => {
                const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                const k = w && w.sessionContext && w.sessionContext.session &&
                          w.sessionContext.session.kernel;
                return k && k.status === status;
            }""", arg=status, timeout=timeout * 1000)

    def command(self, command: str, args: dict[str, Any] | None = None) -> Any:
        """Run a JupyterLab command (``window.jupyterapp`` is exposed by the fixture)."""
        return self.js("([c, a]) => window.jupyterapp.commands.execute(c, a)",
                       [command, args or {}])

    def run_all(self) -> None:
        """Start running every cell; returns at once (see :meth:`wait_idle`)."""
        self.prompts_before = self.prompts()
        # Not awaited: the command's promise settles only when the last cell is done.
        self.js("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")

    def prompts(self) -> list[str]:
        return self.page.locator(f"{NOTEBOOK} .jp-CodeCell .jp-InputPrompt").all_inner_texts()

    def wait_idle(self, timeout: float = 120.0) -> None:
        """Wait until every code cell has a fresh execution count (none shows ``[*]``)."""
        def done() -> bool:
            now = self.prompts()
            return all("[*]" not in p and any(c.isdigit() for c in p) for p in now) and \
                now != getattr(self, "prompts_before", None)
        wait_for(done, timeout, 0.2, "the cells to finish")

    def save(self) -> None:
        self.command("docmanager:save")
        self.page.wait_for_function(
            "() => !window.jupyterapp.shell.currentWidget.context.model.dirty")

    def shutdown_kernel(self) -> None:
        self.js("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
        wait_for(lambda: self.lab.api("GET", "kernels") == [], 30, 0.2, "no kernel running")

    def reload(self, kernel: bool = False) -> None:
        """Reload the page (the notebook reopens from the workspace)."""
        self.page.reload()
        self.page.locator(f"{NOTEBOOK} .jp-Cell").first.wait_for()
        if kernel:
            self.wait_kernel("idle")

    def screenshot(self, name: str, locator: Any = None) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / name
        (locator or self.page).screenshot(path=str(path))
        return path


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """A running JupyterLab server (stopped at the end of the session)."""
    server = LabServer(tmp_path_factory.mktemp("jupyterlab"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A headless Chromium (persistent context) driven by Playwright.

    Module-scoped: Playwright's sync API keeps an event loop of its own, which should not
    outlive the browser tests into tests that run asyncio code (nbclient, ipykernel).
    """
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    reason = _ensure_chromium()
    if reason:
        pytest.skip(reason)
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium")), executable_path=str(CHROMIUM),
            headless=True, args=CHROMIUM_FLAGS, viewport={"width": 1280, "height": 1000})
        try:
            yield context
        finally:
            context.close()


def _fresh_page(browser: Any, server: LabServer) -> Iterator[LabPage]:
    """A fresh tab on ``server``; closed afterwards, with every kernel shut down."""
    page = browser.new_page()
    try:
        yield LabPage(page, server)
    finally:
        page.close()
        server.shutdown_kernels()


@pytest.fixture
def lab_page(browser: Any, lab: LabServer) -> Iterator[LabPage]:
    """A fresh tab on the lab; closed after the test, with every kernel shut down."""
    yield from _fresh_page(browser, lab)


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """A running Notebook 7 server (the ``notebook`` package, from the test extra)."""
    server = LabServer(tmp_path_factory.mktemp("notebook7"), app="notebook")
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def nb7_page(browser: Any, notebook7: LabServer) -> Iterator[LabPage]:
    """A fresh tab on Notebook 7; closed after the test, with every kernel shut down."""
    yield from _fresh_page(browser, notebook7)
