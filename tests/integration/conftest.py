"""Fixtures of the framework tests: tiny data and a two-worker Dask cluster."""


import pytest
from sklearn.datasets import make_classification


@pytest.fixture(scope="session")
def binary():
    """400 training and 200 validation rows of an easy binary task, as float32."""
    X, y = make_classification(600, 10, n_informative=6, random_state=0)
    X = X.astype("float32")
    return X[:400], y[:400], X[400:], y[400:]
