
import logging
import os

import pytest

# Keras 3 imports a backend when first imported (the test extra installs torch); set before
# any test module, the doctest walker or a worker process imports keras.
os.environ.setdefault("KERAS_BACKEND", "torch")


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
