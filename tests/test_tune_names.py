"""A tune.* call whose parameter has no name: the error shows the call and its line."""

import pytest

from hpt_magic import SpaceError, Study, TuneError, tune
from hpt_magic.notebook._cell import parse_cell


def test_cell_error_shows_the_unassigned_call_and_its_line():
    cell = "import math\nlr = tune.loguniform(1e-4, 1e-1)\nprint(tune.int(1, 8))\nlr"
    with pytest.raises(SpaceError) as info:
        parse_cell(cell)
    message = str(info.value)
    assert message.startswith("Line 3: tune.int(1, 8) is not assigned")
    assert "`x = tune.int(1, 8)`" in message and "{kind}" not in message


def test_cell_error_shortens_a_long_call():
    cell = "f(tune.choice([\n    'relu', 'tanh']))\n1"
    with pytest.raises(SpaceError, match=r"^Line 1: tune.choice\(...\) is not assigned"):
        parse_cell(cell)


def test_unnamed_call_in_a_trial_names_the_call_and_its_line():
    def objective(trial):
        return tune.loguniform(1e-4, 1e-1)  # no name, outside the magic

    line = objective.__code__.co_firstlineno + 1
    with pytest.raises(TuneError) as info:
        Study(seed=0).optimize(objective, n_trials=1, catch=False)
    assert f"tune.loguniform(0.0001, 0.1) on line {line} of {__file__}" in str(info.value)


def test_a_framework_callback_counts_as_reporting():
    from hpt_magic.notebook._cell import parse_cell

    cell = "x = tune.uniform(0, 1)\ncb = tune.xgboost_callback('valid-logloss')\nx"
    assert parse_cell(cell, out_name="study").reports
    assert not parse_cell("x = tune.uniform(0, 1)\nx", out_name="study").reports


@pytest.mark.parametrize("body, first", [
    ("X = X[:50]\nn += 1", {"X", "n"}),
    ("X = (\n    X[:50]\n)", {"X"}),  # (the read is on a later line than the store)
    ("if x > 0.5:\n    X = X_small\nprint(len(X))", {"X"}),  # bound in one branch only
    ("try:\n    model = fit()\nexcept ValueError:\n    model = model", {"model"}),
    ("parts = [f for f in header.split(',')]", set()),  # a comprehension's own f
    ("ys = [y * lr for y in range(3)]\ny = 1", set()),
    ("for i in range(3):\n    y = 1\n    z = y", set()),  # bound before, in the loop
    ("def f(a):\n    b = a + 1\n    return b\nb = f(x)", set()),  # the function's own b
    ("y = 2\ny = y + 1", set()),
    ("with open('f') as fh:\n    data = fh.read()", set()),
    ("with open('f') as fh:\n    data = fh.read()\ndata = data[:5]", set()),
    ("if x:\n    f = 1\nelse:\n    f = 2\ng = f", set()),  # bound in both branches
    ("if (m := x):\n    m = m + 1", set()),  # a walrus binds
    ("class C:\n    a = 1\n    b = a", set()),  # the class's own names
    ("def bump():\n    global counter\n    counter += 1\nbump()\ncounter = 0",
     {"counter"}),  # read by the function before the cell binds it
    ("match x:\n    case 1 if thr > 0:\n        thr = 0", {"thr"}),  # a guard reads
])
def test_names_the_cell_reads_before_it_binds_them_are_the_notebooks(body, first):
    # --jobs sends a worker the notebook's values of the names a trial reads: also those the
    # cell binds later (X = X[:50]), and none that only a comprehension or function binds.
    assert parse_cell(f"x = tune.uniform(0, 1)\n{body}\nx").rebinds == first
