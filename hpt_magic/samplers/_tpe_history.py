"""The trials a :class:`~._tpe.TPESampler` models, in the unit cube: each finished trial
converted once, the rows of each set of parameters kept ranked as they grow."""

from __future__ import annotations

import math
import operator
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..distributions import Distribution
from ..trial import Trial, TrialState
from ._base import telling_failure
from ._mo import Curve, curve_of, loss_record, rank_order, staged_order, vector_losses
from ._parzen import _Binned

if TYPE_CHECKING:
    from ..study._study import Study


class _History:
    """A study's trials in unit coordinates, each converted once, when it finishes.

    ``done`` holds ``(units, loss)`` of the usable finished trials (loss: lower is better),
    ``count`` how many of them have each parameter, ``pending`` the units of running trials,
    ``failed`` those of failed trials;
    with several objectives, ``trials`` and ``curves`` the trial of each row and its reports
    as loss vectors, from which :meth:`order` ranks pruned trials at a common step.
    """

    def __init__(self, study: Study, consider_pruned: bool) -> None:
        self.study = study
        self.states = {TrialState.COMPLETE} | ({TrialState.PRUNED} if consider_pruned else set())
        self.multi = bool(getattr(study, "is_multi_objective", False))
        self._clear()

    def _clear(self) -> None:
        self.done: list[tuple[dict[str, float], float]] = []
        # With several objectives: each row's trial and its curve (see _mo.staged_order).
        self.trials: list[Trial] = []
        self.curves: list[Curve] = []
        self._orders: dict[tuple[str, ...], tuple[int, np.ndarray | None]] = {}
        self.count: Counter[str] = Counter()
        self.pending: list[dict[str, float]] = []
        self.failed: list[dict[str, float]] = []
        self._failed_trials: list[tuple[Trial, dict[str, float]]] = []
        self._seen: list[Trial] = []
        self._open: list[int] = []
        self._blocks: dict[tuple[str, ...], _Block] = {}
        self._codes: dict[tuple[tuple[str, ...], tuple[int, ...]], _Codes] = {}

    def refresh(self, trial: Trial) -> None:
        """Take in the trials that finished since the last call; ``trial`` is being sampled."""
        trials = self.study.trials
        if len(trials) < len(self._seen) or any(map(operator.is_not, trials, self._seen)):
            self._clear()  # trials were replaced (a reload): rebuild rather than trust old rows
        space = self.study.search_space()
        still_open = []
        for i in (*self._open, *range(len(self._seen), len(trials))):
            t = trials[i]
            if not t.state.finished:
                still_open.append(i)
            elif t.state is TrialState.FAILED:
                units = _units(t.params, t.distributions, space)
                if units:
                    self._failed_trials.append((t, units))
            elif t.state in self.states:
                units = _units(t.params, t.distributions, space)
                if vector_losses(self.study):
                    # Several objectives or constraints: a loss vector, ranked in _propose.
                    loss = loss_record(self.study, t)
                else:
                    value = _final(t)
                    loss = self.study.direction.to_loss(value) if math.isfinite(value) else None
                if loss is not None and units:
                    self.done.append((units, loss))
                    if self.multi:
                        self.trials.append(t)
                        self.curves.append(curve_of(self.study, t))
                    self.count.update(units.keys())
        self._seen, self._open = trials, still_open
        if self._failed_trials:
            # Chosen afresh: a run that stops on a bug marks its failures after they finished.
            self.failed = [units for t, units in self._failed_trials
                           if telling_failure(self.study, t)]
        self.pending = [_units({**t.relative, **t.params}, t.distributions, space)
                        for t in (trials[i] for i in still_open)
                        if t.state is TrialState.RUNNING and t is not trial]

    def order(self, names: tuple[str, ...], n_min: int) -> np.ndarray | None:
        """The rows of :meth:`matrix` best first when trials with several objectives were
        pruned (:func:`~._mo.staged_order`), else ``None``; once per new finished trial."""
        if not self.multi:
            return None
        k, order = self._orders.get(names, (-1, None))
        if k != len(self.done):
            rows = [i for i, (u, _) in enumerate(self.done) if all(n in u for n in names)]
            order = staged_order(self.study, [self.trials[i] for i in rows], n_min,
                                 [self.curves[i] for i in rows])
            self._orders[names] = (len(self.done), order)
        return order

    def matrix(self, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """``(X, loss)`` of the done trials that have all of ``names``, columns in that order."""
        block = self._blocks.get(names)
        if block is None:
            block = self._blocks[names] = _Block(len(names))
        for units, loss in self.done[block.taken:]:
            if all(n in units for n in names):
                block.append([units[n] for n in names], loss)
        block.taken = len(self.done)
        return block.X, block.y

    def ranked(self, names: tuple[str, ...]) -> np.ndarray:
        """The rows of :meth:`matrix` best first (:func:`~._mo.rank_order` of the losses).

        Call :meth:`matrix` ``(names)`` first: it takes in the new rows that this ranks.
        """
        return self._blocks[names].ranked()

    def codes(self, names: tuple[str, ...], columns: tuple[int, ...]) -> _Binned:
        """The distinct values of ``columns`` of :meth:`matrix` ``(names)``, and the index
        among them of each row's value (shape ``(n_rows, len(columns))``); each new row is
        numbered once.

        Call :meth:`matrix` ``(names)`` first: it takes in the new rows that this numbers.
        """
        X = self._blocks[names].X
        codes = self._codes.get((names, columns))
        if codes is None:
            codes = self._codes[names, columns] = _Codes(len(columns))
        codes.extend(X[len(codes.rows):, columns])
        return _Binned(codes.values, codes.rows)


class _Block:
    """The rows of one set of parameters: their units and losses, in arrays that grow by
    doubling (a row is added per trial), and with single losses the rows best first, kept in
    order as rows are added (``argsort(loss, kind="stable")``)."""

    def __init__(self, n_columns: int) -> None:
        #: How many of the history's done trials were taken in.
        self.taken = 0
        self.n = 0
        self._X = np.empty((16, n_columns))
        self._y: np.ndarray | None = None
        # Single losses: the rows best first and their losses (sorted).
        self._ranked = np.empty(16, dtype=np.intp)
        self._sorted = np.empty(16)

    @property
    def X(self) -> np.ndarray:
        """The rows' units, shape ``(n, n_columns)`` (a view: later rows do not show)."""
        return self._X[:self.n]

    @property
    def y(self) -> np.ndarray:
        """The rows' losses: shape ``(n,)``, or ``(n, k)`` for loss records."""
        return np.empty(0) if self._y is None else self._y[:self.n]

    def append(self, units: list[float], loss: float | tuple[float, ...]) -> None:
        """Add one row."""
        n = self.n
        if self._y is None:
            self._y = np.empty((len(self._X), *np.shape(loss)))
        if n == len(self._X):
            self._X, self._y, self._ranked, self._sorted = (
                _grown(a) for a in (self._X, self._y, self._ranked, self._sorted))
        self._X[n] = units
        self._y[n] = loss
        if self._y.ndim == 1:
            # After the rows of an equal loss (a stable sort).
            i = self._sorted[:n].searchsorted(loss, side="right")
            self._ranked[i + 1:n + 1] = self._ranked[i:n]
            self._sorted[i + 1:n + 1] = self._sorted[i:n]
            self._ranked[i], self._sorted[i] = n, loss
        self.n = n + 1

    def ranked(self) -> np.ndarray:
        """The rows best first: by loss, or for rows of :func:`~._mo.loss_record` by
        :func:`~._mo.rank_order`. (By loss: a view that the next :meth:`append` reorders;
        use it before adding rows.)"""
        if self._y is not None and self._y.ndim > 1:
            return rank_order(self.y)
        return self._ranked[:self.n]


def _grown(a: np.ndarray) -> np.ndarray:
    """``a`` in an array twice as long."""
    out = np.empty((2 * len(a), *a.shape[1:]), dtype=a.dtype)
    out[:len(a)] = a
    return out


class _Codes:
    """The distinct values of some columns, numbered in the order they come, and the
    numbers of the rows seen so far."""

    def __init__(self, n_columns: int) -> None:
        self.numbers: list[dict[float, int]] = [{} for _ in range(n_columns)]
        self.values = [np.empty(0) for _ in range(n_columns)]
        self.rows = np.empty((0, n_columns), dtype=np.intp)

    def extend(self, rows: np.ndarray) -> None:
        """Number ``rows`` (new values get the next numbers)."""
        if not len(rows):
            return
        new = [[number.setdefault(v, len(number)) for number, v in zip(self.numbers, row)]
               for row in rows.tolist()]
        self.rows = np.vstack([self.rows, np.array(new, dtype=np.intp)])
        for c, number in enumerate(self.numbers):
            if len(number) > len(self.values[c]):
                self.values[c] = np.array(list(number), dtype=float)


def _final(t: Trial) -> float:
    """The score of a finished trial; a pruned one's last report when it has no value."""
    v = t.value
    if v is None and t.intermediate:
        v = t.intermediate[max(t.intermediate)]
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _units(params: Mapping[str, Any], dists: Mapping[str, Distribution],
           space: Mapping[str, Distribution]) -> dict[str, float]:
    out = {}
    for name, value in params.items():
        dist = dists.get(name) or space.get(name)
        if dist is None:
            continue
        try:
            out[name] = float(dist.to_unit(value))
        except (TypeError, ValueError):
            continue
    return out
