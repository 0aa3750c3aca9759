"""Tree-structured Parzen Estimator (TPE): the sampler and its history of trials.

The estimators it fits are in :mod:`._parzen`.
"""

from __future__ import annotations

import math
import operator
from collections import Counter
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..distributions import Distribution
from ..exceptions import TuneError
from ..trial import Trial, TrialState
from ._base import Sampler, telling_failure
from ._mo import Curve, curve_of, loss_record, rank_order, staged_order, vector_losses
from ._parzen import _Binned, _Candidates, _Layout, _Parzen, dims_of

if TYPE_CHECKING:
    from ..study._study import Study

__all__ = ["TPESampler", "default_gamma"]


def default_gamma(n: int) -> int:
    """How many of ``n`` observations form the good group: 10 %, at most 25."""
    return min(math.ceil(0.1 * n), 25)


class TPESampler(Sampler):
    """Tree-structured Parzen Estimator.

    Finished trials are split into a good group (the best ``gamma(n)``) and a bad one; each
    group gets a Parzen estimator in the unit cube (truncated Gaussians plus a wide prior
    component; categorical parameters get smoothed counts). Candidates drawn from the good
    estimator ``l(x)`` compete on ``l(x) / g(x)``; the best one is the proposal.

    The parameters that every finished trial has are proposed together; a parameter that only
    some trials have (a conditional branch) is proposed on its own, from those trials.
    Pruned trials count with their last reported value (``consider_pruned``). Failed trials
    count as bad ones (``consider_failed``): proposals move away from where the objective
    raises (an option that always fails, a region that runs out of memory), where ignoring
    them would leave that region without bad observations and draw proposals into it. With
    several objectives or constraints, the good group is the best by constraint domination
    and non-dominated sorting (crowding distance within a front), as in MOTPE and c-TPE: a
    trial that breaks a constraint is always bad; with several objectives, once some
    trials were pruned, trials are compared at the furthest step that ``n_min`` of them
    reached (their final values once ``n_min`` finished; ``n_min``: ``n_startup_trials``, at
    least one more than the parameters), those stopped before it ranked after them (see
    ``_mo.staged_order``). Running trials of a parallel run count as bad ones
    (``constant_liar``), so that simultaneous proposals spread out.

    Parameters
    ----------
    seed : int, optional
    n_startup_trials : int
        Random trials before the model takes over.
    n_ei_candidates : int
        Candidates drawn from ``l(x)`` per proposal.
    gamma : callable or float
        ``gamma(n) -> n_good``, or the good fraction of the observations.
    multivariate : bool
        Joint kernels over the parameters proposed together (they capture interactions);
        ``False`` is the classic TPE, one estimator per parameter.
    prior_weight : float
        Weight of the prior component (one observation weighs 1).
    consider_pruned : bool
        Use pruned trials with their last reported value.
    consider_failed : bool
        Count failed trials (with their parameters) among the bad observations.
    constant_liar : bool
        Treat running trials as bad observations.

    Examples
    --------
    >>> from hpt_magic import Study, Float
    >>> study = Study(space={"x": Float(-5, 5)}, sampler=TPESampler(seed=0))
    >>> study.optimize(lambda t: (t.params["x"] - 1) ** 2, n_trials=30)
    >>> abs(study.best_params["x"] - 1) < 0.5
    True
    """

    name = "tpe"

    def __init__(
        self, seed: int | None = None, *, n_startup_trials: int = 10, n_ei_candidates: int = 24,
        gamma: Callable[[int], int] | float = default_gamma, multivariate: bool = True,
        prior_weight: float = 1.0, consider_pruned: bool = True, constant_liar: bool = True,
        consider_failed: bool = True,
    ) -> None:
        super().__init__(seed)
        if int(n_startup_trials) != n_startup_trials or n_startup_trials < 0:
            raise TuneError(f"TPESampler: n_startup_trials={n_startup_trials!r} must be an "
                            "integer >= 0.")
        if int(n_ei_candidates) != n_ei_candidates or n_ei_candidates < 1:
            raise TuneError(f"TPESampler: n_ei_candidates={n_ei_candidates!r} must be an "
                            "integer >= 1.")
        if not callable(gamma) and not (isinstance(gamma, (int, float)) and 0 < gamma <= 1):
            raise TuneError(f"TPESampler: gamma={gamma!r} must be a function n -> n_good or a "
                            "fraction in (0, 1].")
        if not prior_weight > 0:
            raise TuneError(f"TPESampler: prior_weight={prior_weight!r} must be positive.")
        self.n_startup_trials = int(n_startup_trials)
        self.n_ei_candidates = int(n_ei_candidates)
        self.gamma = gamma
        self.multivariate = bool(multivariate)
        self.prior_weight = float(prior_weight)
        self.consider_pruned = bool(consider_pruned)
        self.constant_liar = bool(constant_liar)
        self.consider_failed = bool(consider_failed)
        self._history: _History | None = None
        #: The layout of each proposed set of names, and the distributions it was built from.
        self._layouts: dict[tuple[str, ...], tuple[tuple[Distribution, ...], _Layout]] = {}
        #: The good group's estimator and what it was built from (see _below).
        self._good: tuple[tuple[Any, ...], _Parzen] | None = None

    def sample_joint(self, study: Study, trial: Trial,
                     space: Mapping[str, Distribution]) -> dict[str, Any]:
        history = self._refresh(study, trial)
        n = len(history.done)
        names = [name for name in space if history.count[name] == n]
        if n < max(self.n_startup_trials, 1):
            return self.draw(trial, space)  # as sample_one draws them before the model starts
        if not names:
            return {}
        return self._propose(history, trial, {name: space[name] for name in names}, "joint")

    def sample_one(self, study: Study, trial: Trial, name: str, dist: Distribution) -> Any:
        history = self._refresh(study, trial)
        if history.count[name] < max(self.n_startup_trials, 1):
            return dist.sample(self.rng(trial.number, name))
        return self._propose(history, trial, {name: dist}, name)[name]

    def _refresh(self, study: Study, trial: Trial) -> _History:
        if self._history is None or self._history.study is not study:
            self._history = _History(study, self.consider_pruned)
        self._history.refresh(trial)
        return self._history

    def _propose(self, history: _History, trial: Trial, space: Mapping[str, Distribution],
                 salt: str) -> dict[str, Any]:
        names = tuple(space)
        X, y = history.matrix(names)
        order = history.order(names, max(self.n_startup_trials, len(names) + 1))
        if order is None:
            order = history.ranked(names)
        n_good = self._n_good(len(y))
        layout = self._layout(space, names)
        good, bad = X[order[:n_good]], X[order[n_good:]]
        # Running trials (the constant liar) and failed ones join the bad group.
        bad_units = ((history.pending if self.constant_liar else [])
                     + (history.failed if self.consider_failed else []))
        lies = [[u[n] for n in names] for u in bad_units if all(n in u for n in names)]
        if lies:
            bad = np.vstack([bad, np.array(lies, dtype=float)])
        # The bad group's binned values as numbered by the history (see _Parzen); the running
        # trials' values are not numbered, so with lies the estimator numbers them itself.
        binned = None
        if layout.binned and self.multivariate and not lies:
            numbered = history.codes(names, layout.binned_dims)
            binned = numbered._replace(codes=numbered.codes[order[n_good:]])
        below = self._below(good, layout)
        above = _Parzen(bad, layout, self.prior_weight, self.multivariate, binned)
        cand = _Candidates(below.sample(self.rng(trial.number, "tpe", salt),
                                        self.n_ei_candidates), layout)
        score = below.log_pdf(cand) - above.log_pdf(cand)
        if self.multivariate:
            best = cand.x[int(np.argmax(score))]
        else:
            best = cand.x[np.argmax(score, axis=0), np.arange(len(names))]
        return {n: space[n].from_unit(float(u)) for n, u in zip(names, best)}

    def _layout(self, space: Mapping[str, Distribution], names: tuple[str, ...]) -> _Layout:
        """The :class:`_Layout` of ``space``: the last one while its distributions are the
        same objects."""
        dists = tuple(space[n] for n in names)
        known = self._layouts.get(names)
        if known is None or not all(map(operator.is_, known[0], dists)):
            known = self._layouts[names] = dists, _Layout(dims_of(dists))
        return known[1]

    def _below(self, good: np.ndarray, layout: _Layout) -> _Parzen:
        """The good group's estimator: the last one while the group is the same (the best
        trials change less and less often as a study goes on)."""
        key = (layout, self.prior_weight, self.multivariate, good.shape, good.tobytes())
        if self._good is None or self._good[0] != key:
            self._good = key, _Parzen(good, layout, self.prior_weight, self.multivariate)
        return self._good[1]

    def _n_good(self, n: int) -> int:
        k = self.gamma(n) if callable(self.gamma) else math.ceil(self.gamma * n)
        return int(min(max(k, 1), n))

    def __repr__(self) -> str:
        return (f"TPESampler(seed={self.seed}, multivariate={self.multivariate}, "
                f"n_startup_trials={self.n_startup_trials})")


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
