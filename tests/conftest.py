
import logging
import os
import signal
from pathlib import Path

import pytest

# Keras 3 imports a backend when first imported (the test extra installs torch); set before
# any test module, the doctest walker or a worker process imports keras.
os.environ.setdefault("KERAS_BACKEND", "torch")

BROWSER_TESTS = Path(__file__).parent / "browser"


def pytest_configure(config: pytest.Config) -> None:
    # A shell starts a background job with SIGINT ignored, and Python keeps it so (no
    # KeyboardInterrupt), as do the processes the tests start: the interrupt tests need
    # Python's own handler, whoever started the run.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own, which reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # `make test` runs two pytest-xdist workers (`--dist loadgroup`): a file's tests stay on
    # one worker (its module fixtures are made once), and the browser tests on one worker,
    # where they share one JupyterLab and one Chromium.
    for item in items:
        group = "browser" if BROWSER_TESTS in item.path.parents else str(item.path)
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture
def shell(tmp_path, monkeypatch):
    """A real IPython shell with the extension loaded, working in a temp folder."""
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HPT_MAGIC_STORAGE", raising=False)
    sh = InteractiveShell.instance()
    sh.user_ns.clear()
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
