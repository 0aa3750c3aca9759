"""The parameters a cell surely defines, read from its text before it ever runs.

Manual tuning shows its sliders before the first run; a new study knows no parameters yet.
Top-level ``x = tune.*(...)`` calls with literal arguments are unconditional, so their
distributions can be built from the source. Parameters inside ``if``/``for``/functions are
conditional: they appear when a run takes their branch.
"""

from __future__ import annotations

import ast
from typing import Any

from ..distributions import Distribution
from ..exceptions import TuneError
from ..executors._tune import activate, deactivate, tune
from ._cell import TUNE_CALLS

__all__ = ["literal_space"]


class _Recorder:
    """Stands in for a trial: records the distribution each ``tune.*`` call asks for."""

    def __init__(self) -> None:
        self.space: dict[str, Distribution] = {}

    def suggest(self, name: str, dist: Distribution) -> Any:
        self.space[name] = dist
        return dist.default


def literal_space(source: str) -> dict[str, Distribution]:
    """``{name: distribution}`` of the top-level ``tune.*`` calls with literal arguments.

    Such a call that is invalid as written (``tune.uniform(1, 0)``) raises a
    :class:`~hpt_magic.exceptions.TuneError` naming its line.

    Examples
    --------
    >>> literal_space("lr = tune.loguniform(1e-4, 1e-1)\\nif lr > 0.01:\\n"
    ...               "    m = tune.uniform(0, 1)\\nlr")
    {'lr': Float(0.0001, 0.1, log=True)}
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    recorder = _Recorder()
    token = activate(recorder)  # type: ignore[arg-type]
    try:
        for stmt in tree.body:
            if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.Expr)):
                _record(stmt, recorder)
    finally:
        deactivate(token)
    return recorder.space


def _record(stmt: ast.Assign | ast.AnnAssign | ast.Expr, recorder: _Recorder) -> None:
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [getattr(stmt, "target", None)]
    call = stmt.value
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and isinstance(call.func.value, ast.Name) and call.func.value.id == "tune"
            and call.func.attr in TUNE_CALLS):
        return
    try:
        args = [ast.literal_eval(a) for a in call.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
    except (ValueError, TypeError, SyntaxError):
        return  # not literal: known after the first run
    if "name" not in kwargs:
        if len(targets) != 1 or not isinstance(targets[0], ast.Name):
            return
        kwargs["name"] = targets[0].id
    try:
        getattr(tune, call.func.attr)(*args, **kwargs)
    except (TuneError, TypeError) as exc:
        # Refused before a study is opened or a trial runs, as the cell's other mistakes are.
        text = str(exc).replace(f"{type(tune).__name__}.", "tune.")  # not our class's name
        raise TuneError(f"Line {stmt.lineno}: {text}") from None
