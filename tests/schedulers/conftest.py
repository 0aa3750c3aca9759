import pytest

from hpt_magic import tune


@pytest.fixture
def curves():
    """An objective that reports ``curves[trial.number]`` step by step through ``tune.steps``."""

    def make(table):
        def objective(trial):
            curve = table[trial.number]
            for step in tune.steps(len(curve)):
                tune.report(curve[step])

        return objective

    return make
