
import logging
import os
import signal
from typing import Any

import pytest

# Keras 3 imports a backend when first imported (the test extra installs torch); set before
# any test module, the doctest walker or a worker process imports keras.
os.environ.setdefault("KERAS_BACKEND", "torch")


def pytest_configure(config: pytest.Config) -> None:
    # A shell starts a background job with SIGINT ignored, and Python keeps it so (no
    # KeyboardInterrupt), as do the processes the tests start: the interrupt tests need
    # Python's own handler, whoever started the run.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`make test` runs two pytest-xdist workers. A file's tests stay on one worker (its
    module fixtures are made once), and the browser tests all on one worker, where they share
    one JupyterLab and one Chromium, with the wheel's test. (``--dist loadgroup`` would say
    so with marks, but pytest-xdist 3.8 cannot regroup under pytest 9's node ids.)"""
    if config.getvalue("dist") not in ("load", "loadscope", "loadfile"):
        return None  # another mode asked for by name (each, worksteal...): xdist's own
    from xdist.scheduler import LoadScopeScheduling

    class ByFile(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            # The wheel's test may rebuild the extension that the lab in the browser tests
            # serves (`make dist` runs `make install`): never at the same time.
            together = path.startswith("tests/browser/") or path == "tests/test_wheel.py"
            return "tests/browser" if together else path

    return ByFile(config, log)


@pytest.fixture
def shell(tmp_path, monkeypatch):
    """A real IPython shell with the extension loaded, working in a temp folder."""
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HPT_MAGIC_STORAGE", raising=False)
    sh = InteractiveShell.instance()
    # The namespace is sys.modules["__main__"]'s: keep its module attributes (__spec__...),
    # which multiprocessing's spawn reads when a later test starts worker processes.
    module = {k: sh.user_ns[k] for k in ("__name__", "__doc__", "__package__", "__loader__",
                                         "__spec__", "__builtin__", "__builtins__")
              if k in sh.user_ns}
    sh.user_ns.clear()
    sh.user_ns.update(module)
    sh.init_user_ns()
    sh.extension_manager.loaded.discard("hpt_magic")
    sh.run_line_magic("load_ext", "hpt_magic")
    yield sh


@pytest.fixture(scope="module")
def client():
    """A two-worker Dask LocalCluster of single-threaded processes (one per test module)."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=logging.ERROR,
                                       scheduler_kwargs={"dashboard_address": ":0"})
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()
