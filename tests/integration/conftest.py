"""Fixtures of the framework tests: tiny data and a two-worker Dask cluster."""

import logging

import pytest
from sklearn.datasets import make_classification


@pytest.fixture(scope="session")
def binary():
    """400 training and 200 validation rows of an easy binary task, as float32."""
    X, y = make_classification(600, 10, n_informative=6, random_state=0)
    X = X.astype("float32")
    return X[:400], y[:400], X[400:], y[400:]


@pytest.fixture(scope="session")
def client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=logging.ERROR,
                                       scheduler_kwargs={"dashboard_address": ":0"})
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()
