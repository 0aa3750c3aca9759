"""Fixtures of the fault-injection tests: real kernels, always shut down at the end."""

from __future__ import annotations

import pytest
from kernel_tools import Kernels


@pytest.fixture
def kernels(tmp_path):
    """Start real kernels with ``kernels.start()``; all are shut down after the test."""
    pool = Kernels(tmp_path)
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def module_kernels(tmp_path_factory):
    """Like ``kernels``, shared by the tests of one module (kernels are slow to start)."""
    pool = Kernels(tmp_path_factory.mktemp("kernels"))
    yield pool
    pool.close()
