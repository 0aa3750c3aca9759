"""Studies out of the notebook: tables (pandas, CSV), the list of stored studies, and which
parameters mattered (importances)."""

from __future__ import annotations

import csv
import datetime as _dt
import numbers
import os
import re
import unicodedata
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .._pareto import pareto_front
from ..exceptions import TuneError
from ..executors._scores import Objectives
from ..samplers import observations
from ..trial import Trial, TrialState
from ._storage import Storage, stored_storage

if TYPE_CHECKING:
    import pandas

    from ._study import Study

__all__ = ["to_dataframe", "to_csv", "trial_rows", "list_studies", "importances",
           "importance_params"]

_COLUMNS = ("number", "state", "value", "started", "finished", "duration", "last_step",
            "error")


def trial_rows(study: Study) -> list[dict[str, Any]]:
    """One flat dict per trial: ``number, state, value``, times, ``params_<name>`` columns,
    the last reported step and the error, in that order (missing parameters are ``None``).

    A study with named or several objectives, or constraints, adds ``values_<objective>``,
    ``metrics_<name>`` for every other number the trials returned, and ``feasible``."""
    names = list(study.search_space())
    for t in study.trials:
        names.extend(n for n in t.params if n not in names)
    scoring = study.scoring
    extra = scoring.multi or scoring.named or bool(scoring.constraints)
    metrics: list[str] = []
    for t in study.trials if extra else ():
        metrics.extend(m for m in t.metrics if m not in metrics and m not in scoring.names)
    rows = []
    for t in study.trials:
        row: dict[str, Any] = {
            "number": t.number, "state": t.state.value, "value": t.value,
            "started": _time(t.started), "finished": _time(t.finished),
            "duration": t.duration, "last_step": t.last_step, "error": t.error}
        row.update({f"params_{n}": t.params.get(n) for n in names})
        if extra:
            values = t.values or [None] * len(scoring.names)
            row.update({f"values_{n}": v for n, v in zip(scoring.names, values)})
            row.update({f"metrics_{m}": t.metrics.get(m) for m in metrics})
            if scoring.constraints:
                row["feasible"] = t.feasible
        rows.append(row)
    return rows


def _time(stamp: float | None) -> _dt.datetime | None:
    return None if stamp is None else _dt.datetime.fromtimestamp(stamp)


def to_dataframe(study: Study) -> pandas.DataFrame:
    """The trials of ``study`` as a pandas DataFrame, one row per trial.

    Examples
    --------
    >>> from hpt_magic import Study, Float
    >>> study = Study(space={"x": Float(0, 1)}, seed=0)
    >>> study.optimize(lambda t: t.params["x"], n_trials=3)
    >>> list(to_dataframe(study).columns)[:3], len(to_dataframe(study))
    (['number', 'state', 'value'], 3)
    """
    try:
        import pandas as pd
    except ImportError:
        raise TuneError("to_dataframe needs pandas, which is not installed. Install it with "
                        "`pip install pandas`, or write the trials with to_csv(study, path), "
                        "which needs nothing extra.") from None
    rows = trial_rows(study)
    columns = list(rows[0]) if rows else list(_COLUMNS)
    return pd.DataFrame(rows, columns=columns)


def to_csv(study: Study, path: str | os.PathLike) -> None:
    """Write the trials of ``study`` to a CSV file (the columns of :func:`to_dataframe`).

    A text cell that a spreadsheet would run as a formula (one starting with ``=``, ``+``,
    ``-``, ``@``, also after blanks or in their full-width forms ``＝ ＋ － ＠``, or with a tab
    or a carriage return, such as a choice option or an error message) is written with a
    leading ``'``, as OWASP advises against CSV injection. Numbers, and text that is a plain
    number such as ``"-0.5"``, are written as they are.
    :func:`to_dataframe` holds the values unchanged.

    Examples
    --------
    >>> import csv, os, tempfile
    >>> from hpt_magic import Study, Choice
    >>> study = Study(space={"f": Choice(["=1+1", "-0.5"])}, seed=0)
    >>> study.enqueue({"f": "=1+1"})
    >>> study.optimize(lambda t: -0.5, n_trials=1)
    >>> path = os.path.join(tempfile.mkdtemp(), "trials.csv")
    >>> to_csv(study, path)
    >>> with open(path, newline="") as f:
    ...     row = next(csv.DictReader(f))
    >>> row["params_f"], row["value"]
    ("'=1+1", '-0.5')
    """
    rows = trial_rows(study)
    columns = list(rows[0]) if rows else list(_COLUMNS)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_cell(v) for k, v in row.items()})


# Characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection"),
# also after leading blanks, which spreadsheets skip.
_FORMULA_START = ("=", "+", "-", "@")
_CONTROL_START = ("\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, numbers.Number):
        return value
    text = str(value)
    # In NFKC form the full-width and small ＝ ＋ － ＠ (which some spreadsheets read as
    # = + - @) are the ASCII ones, and the ideographic and no-break spaces plain ones.
    head = unicodedata.normalize("NFKC", text).lstrip()
    if text.startswith(_CONTROL_START) or (head.startswith(_FORMULA_START)
                                           and not _PLAIN_NUMBER.fullmatch(head)):
        return "'" + text
    return text


def list_studies(storage: str | os.PathLike | Storage) -> list[dict[str, Any]]:
    """The studies in a storage, one dict each: ``name, direction, n_trials, n_complete,
    best_value, created`` (a datetime), ``objectives`` (``[{"name", "direction"}]``) and
    ``constraints``, oldest first. A multi-objective study's ``best_value`` is ``None`` and
    ``front`` holds the values of its Pareto front (one list per trial); a constrained
    study's ``best_value`` is that of its best trial that meets the constraints.

    A path that does not exist is an error (it is never created here).
    """
    store = stored_storage(storage)
    out = []
    for row in store.list_studies():  # its best_value skips trials that break a constraint
        rec = store.get_study(row["name"]) or {"attrs": {}, "direction": row["direction"]}
        spec = Objectives.from_json(rec["attrs"], rec["direction"])
        row = {**row, "created": _time(row.get("created")), **spec.to_json()}
        if spec.multi:
            scored = [_Scored(n, v) for n, v in store.complete_values(rec["id"])]
            row.update(best_value=None,
                       front=[t.values for t in pareto_front(scored, spec.directions)])
        out.append(row)
    return out


class _Scored(NamedTuple):
    """A feasible complete trial as :func:`pareto_front` reads it: its number and values."""

    number: int
    values: list[float]
    state: TrialState = TrialState.COMPLETE
    feasible: bool | None = None


def importances(study: Study, *, params: Sequence[str] | None = None, n_trees: int = 32,
                seed: int = 0, min_trials: int = 4) -> dict[str, float]:
    """How much each parameter drives the score: fANOVA-like main effects of a surrogate.

    A random forest is fitted to the complete trials (parameters on the unit cube, as
    samplers see them). For each parameter, its main effect is the forest's prediction averaged
    over the other parameters (uniformly drawn) as a function of that parameter alone; its
    importance is the variance of that curve, normalised so that the importances sum to 1.
    A score that does not depend on any parameter gives every parameter an equal share.

    Parameters
    ----------
    study : Study
    params : sequence of str, optional
        The parameters to rank (default: those that every complete trial has, and those an
        edit of the space added, once enough trials have them: :func:`importance_params`).
    n_trees : int
        Trees of the forest.
    seed : int
        Seeds the forest and the Monte-Carlo average.
    min_trials : int
        Fewer complete trials than this raise a :class:`TuneError`.

    Returns
    -------
    dict of str -> float
        Largest first.
    """
    space = study.search_space()
    if params is None:
        names = importance_params(study, min_trials)
    else:
        unknown = [n for n in params if n not in space]
        if unknown:
            raise TuneError(f"importances: {unknown} are not parameters of study "
                            f"{study.name!r} ({', '.join(space)}).")
        names = list(params)
    X, y, used = observations(study, {n: space[n] for n in names}, include_pruned=False)
    if len(used) < min_trials or not names:
        raise TuneError(
            f"importances need at least {min_trials} complete trials that share their "
            f"parameters; study {study.name!r} has {len(used)} (parameters: {names}). Run more "
            "trials first.")
    key = (tuple(t.number for t in used), tuple(names), n_trees, seed)
    cached = _CACHE.get(study)
    if cached is None or cached[0] != key:
        cached = _CACHE[study] = (key, _main_effects(X, y, names, n_trees, seed))
    return dict(cached[1])


#: Complete trials since an edit of the space that added a parameter before importances rank
#: it (from these trials alone, as the earlier ones lack it).
MIN_TRIALS_AFTER_EDIT = 20


def importance_params(study: Study, min_trials: int = 4) -> list[str]:
    """The parameters that importances rank by default: those of the search space that every
    complete trial has (a parameter of a branch not always taken is left out), and those that
    an edit of the space added once every complete trial since has them and there are
    :data:`MIN_TRIALS_AFTER_EDIT` (at least ``min_trials``) of them.

    Examples
    --------
    >>> from hpt_magic import Float, Study
    >>> study = Study(space={"x": Float(0, 1), "y": Float(0, 1)})
    >>> for _ in range(4):
    ...     _ = study.tell(study.ask(), 1.0)
    >>> importance_params(study)
    ['x', 'y']
    """
    space = study.search_space()
    complete = study.get_trials([TrialState.COMPLETE])
    names = _had_by_all(space, complete)
    need = max(MIN_TRIALS_AFTER_EDIT, min_trials)
    for edit in study._attrs.get("space_history", []):
        since = [t for t in complete if t.number >= edit["from_trial"]]
        if len(since) < need:
            continue
        # Added by this edit: no trial before it had the parameter, every one since has it.
        # (A parameter of a branch, which some trials before it took, stays out.)
        before = [t for t in complete if t.number < edit["from_trial"]]
        names += [n for n in _had_by_all(space, since) if n not in names
                  and not any(n in t.params for t in before)]
    return [n for n in space if n in names]


def _had_by_all(space: Mapping[str, Any], trials: Sequence[Trial]) -> list[str]:
    """The names of ``space`` that each of ``trials`` has a value of (none without trials)."""
    return [n for n in space if trials and all(n in t.params for t in trials)]


# A live dashboard asks after every trial: the forest is refitted only when trials were added.
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _main_effects(X: np.ndarray, y: np.ndarray, names: list[str], n_trees: int,
                  seed: int) -> dict[str, float]:
    from sklearn.ensemble import RandomForestRegressor

    forest = RandomForestRegressor(n_estimators=n_trees, random_state=seed).fit(X, y)
    rng = np.random.default_rng(seed)
    background = rng.random((128, len(names)))
    grid = (np.arange(32) + 0.5) / 32
    # points[j, g, b]: background point b with parameter j set to grid value g.
    points = np.broadcast_to(background, (len(names), len(grid), *background.shape)).copy()
    for j in range(len(names)):
        points[j, :, :, j] = grid[:, None]
    curves = forest.predict(points.reshape(-1, len(names))).reshape(
        len(names), len(grid), len(background)).mean(axis=2)
    effects = curves.var(axis=1)
    total = float(effects.sum())
    shares = effects / total if total > 0 else np.full(len(names), 1 / len(names))
    order = np.argsort(-shares, kind="stable")
    return {names[i]: float(shares[i]) for i in order}
