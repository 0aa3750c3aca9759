"""Tree-structured Parzen Estimator (TPE)."""

from __future__ import annotations

import functools
import math
import operator
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..distributions import Choice, Distribution, Float, Grid, Int
from ..exceptions import TuneError
from ..trial import Trial, TrialState
from ._base import Sampler
from ._mo import Curve, curve_of, loss_record, rank_order, staged_order, vector_losses

if TYPE_CHECKING:
    from ..study._study import Study

__all__ = ["TPESampler", "default_gamma"]

_PRIOR_SIGMA = 1.0
#: Discrete dimensions with at most this many levels keep their unit encoding as tables.
_TABLE_LEVELS = 100_000
_TABLED = (Float, Int, Choice, Grid)
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


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
    Pruned trials count with their last reported value (``consider_pruned``); failed trials are
    ignored; with several objectives or constraints, the good group is the best by constraint
    domination and non-dominated sorting (crowding distance within a front), as in MOTPE and
    c-TPE: a trial that breaks a constraint is always bad; with several objectives, once some
    trials were pruned, trials are compared at the furthest step that ``n_min`` of them
    reached (their final values once ``n_min`` finished; ``n_min``: ``n_startup_trials``, at
    least one more than the parameters), those stopped before it ranked after them (see
    ``_mo.staged_order``);
    running trials of a parallel run count as bad ones (``constant_liar``), so that
    simultaneous proposals spread out.

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
        if n < max(self.n_startup_trials, 1) or not names:
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
        # The bad group's binned values as numbered by the history (see _Parzen).
        binned = None
        if layout.binned and self.multivariate:
            distinct, codes = history.codes(names, layout.binned_dims)
            binned = distinct, codes[order[n_good:]]
        if self.constant_liar:
            lies = [[u[n] for n in names] for u in history.pending if all(n in u for n in names)]
            if lies:
                bad = np.vstack([bad, np.array(lies, dtype=float)])
                binned = None  # the running trials' values are not numbered
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
            dims = tuple(_dim(d) if type(d) in _TABLED else _Dim(d) for d in dists)
            known = self._layouts[names] = dists, _Layout(dims)
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
    ``count`` how many of them have each parameter, ``pending`` the units of running trials;
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
        """The rows of :meth:`matrix` best first (:func:`~._mo.rank_order` of the losses)."""
        return self._blocks[names].ranked()

    def codes(self, names: tuple[str, ...],
              columns: tuple[int, ...]) -> tuple[list[np.ndarray], np.ndarray]:
        """The distinct values of ``columns`` of :meth:`matrix` ``(names)``, and the index
        among them of each row's value (shape ``(n_rows, len(columns))``); each new row is
        numbered once."""
        X = self._blocks[names].X
        codes = self._codes.get((names, columns))
        if codes is None:
            codes = self._codes[names, columns] = _Codes(len(columns))
        codes.extend(X[len(codes.rows):, columns])
        return codes.values, codes.rows


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
        return self._X[:self.n]

    @property
    def y(self) -> np.ndarray:
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
        :func:`~._mo.rank_order`."""
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


@functools.lru_cache(maxsize=256)
def _dim(dist: Distribution) -> _Dim:
    """The :class:`_Dim` of one of the package's distributions, built once (its tables are
    reused by every trial). They hash and compare by what their values mean (not their
    prior), and so does a ``_Dim``; a user's subclass gets its own (per distribution object,
    see ``TPESampler._layout``)."""
    return _Dim(dist)


class _Dim:
    """How one parameter is modelled: continuous, discrete (ints, steps) or categorical.

    Where its values sit in the unit interval is the distribution's own encoding.
    """

    def __init__(self, dist: Distribution) -> None:
        self.dist = dist
        self.n_choices = dist.n_levels if isinstance(dist, Choice) else 0
        self.discrete = not self.n_choices and dist.n_levels is not None
        # Equal-width bins (a log-int's are not) bound the bandwidth from below: see _floor.
        self.n_bins = dist.n_levels if self.discrete and not dist.log else 0
        levels = dist.n_levels
        if levels is not None and levels <= _TABLE_LEVELS and type(dist) in _TABLED:
            # The distribution's encoding as tables, read by index: TPE maps thousands of
            # candidates to levels for every trial, and the general methods cost more. (Only
            # the package's own distributions, whose levels are contiguous ordered bins; a
            # user's subclass keeps its own level_index.)
            self.centre, self.lower, self.upper = dist.level_units(np.arange(levels))
        else:
            self.centre = self.lower = self.upper = None

    def index(self, u: np.ndarray) -> np.ndarray:
        """The levels of points ``u`` (``dist.level_index``, by the table when there is one)."""
        if self.upper is None:
            return self.dist.level_index(u)
        return np.minimum(self.upper.searchsorted(u, side="right"), len(self.upper) - 1)

    def units(self, k: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``dist.level_units(k)``: centre, lower and upper edge of levels ``k``."""
        if self.upper is None:
            return self.dist.level_units(k)
        return self.centre[k], self.lower[k], self.upper[k]

    def centres(self, k: np.ndarray) -> np.ndarray:
        """The centres of levels ``k`` (``units(k)[0]``)."""
        if self.upper is None:
            return self.dist.level_units(k)[0]
        return self.centre[k]


class _Layout:
    """Which dimensions are numeric (continuous or binned) and which categorical.

    ``num`` and ``cat`` are dimension indices; ``cont`` and ``binned`` positions in ``num``
    (the columns of the estimators' means and bandwidths).
    """

    def __init__(self, dims: tuple[_Dim, ...]) -> None:
        self.dims = dims
        self.num = [k for k, dim in enumerate(dims) if not dim.n_choices]
        self.cat = [k for k, dim in enumerate(dims) if dim.n_choices]
        self.cont = [j for j, k in enumerate(self.num) if not dims[k].discrete]
        self.binned = [j for j, k in enumerate(self.num) if dims[k].discrete]
        #: Dimension indices of the continuous and the binned dimensions.
        self.cont_dims = [self.num[j] for j in self.cont]
        self.binned_dims = tuple(self.num[j] for j in self.binned)
        #: Half a bin of the numeric dimensions with equal-width bins: see _floor.
        self.bin_floor = np.array([0.5 / dims[k].n_bins if dims[k].n_bins else 0.0
                                   for k in self.num])


class _Candidates:
    """Points to score, with what both estimators read from them, computed once: the
    continuous coordinates, the bins of the binned ones and the options of the categorical.
    """

    def __init__(self, x: np.ndarray, layout: _Layout) -> None:
        self.x = x
        self.x_cont = x[:, layout.cont_dims]
        self.half_sq = 0.5 * (self.x_cont**2)
        #: Per binned dimension: its distinct bin edges, and the position among them of
        #: each point's lower and upper edge.
        self.bins: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for k in layout.binned_dims:
            dim = layout.dims[k]
            _, lo, hi = dim.units(dim.index(x[:, k]))
            both = np.concatenate([lo, hi])
            edges = np.sort(both)
            distinct = np.empty(len(edges), dtype=bool)
            distinct[0] = True
            np.not_equal(edges[1:], edges[:-1], out=distinct[1:])
            edges = edges[distinct]
            pos = edges.searchsorted(both)
            self.bins.append((edges, pos[:len(x)], pos[len(x):]))
        self.options = [layout.dims[k].index(x[:, k]) for k in layout.cat]


class _Parzen:
    """A mixture of one kernel per observation plus a prior kernel, in the unit cube.

    Continuous dimensions use Gaussians truncated to ``[0, 1]``; binned ones (integers, steps)
    the mass of that Gaussian over the value's bin; categorical ones the observed option
    smoothed towards uniform. ``joint`` kernels are products over the dimensions; otherwise
    each dimension is its own mixture (sampled and scored separately, as classic TPE does).

    What depends on the kernels alone is computed once, here: the good group's estimator
    serves many trials. Joint kernels share one bandwidth per dimension, so along a binned
    or categorical dimension the observations of one value have the same kernel: it is
    computed once per value (``binned``: the distinct values of the binned dimensions and
    the index among them of each observation's, when the caller has them).
    """

    def __init__(self, X: np.ndarray, layout: _Layout, prior_weight: float, joint: bool,
                 binned: tuple[list[np.ndarray], np.ndarray] | None = None) -> None:
        n = len(X)
        self.n, self.layout, self.joint = n, layout, joint
        num = layout.num
        w = np.ones(n + 1)
        w[n] = prior_weight
        self.w = w / w.sum()
        self.log_w = np.log(self.w)
        X_num = X[:, num]
        self.mu = np.empty((n + 1, len(num)))
        self.mu[:n], self.mu[n] = X_num, 0.5
        rule = _scott_bandwidth if joint else _neighbour_bandwidth
        #: The observations' bandwidths: one per dimension (joint kernels, shared by all the
        #: observations), or one per observation and dimension.
        self.bandwidth = rule(X_num, len(layout.dims), layout.bin_floor)
        self.sigma = np.empty((n + 1, len(num)))
        self.sigma[:n], self.sigma[n] = self.bandwidth, _PRIOR_SIGMA
        # (Copies, in the memory order of fancy indexing: the order of the sums depends on it.)
        mu, s = self.mu[:, layout.cont], self.sigma[:, layout.cont]
        log_z = _log_z(mu, s)
        if joint:
            # sum_d (x_d - mu_d)^2 / s_d^2 expanded into matrix products (see log_pdf).
            inv = 1.0 / s**2
            self.const = self.log_w - (0.5 * mu**2 * inv + np.log(s) + log_z
                                       + _LOG_SQRT_2PI).sum(1)
            self.inv_t, self.mu_inv_t = inv.T, (mu * inv).T
        else:
            self.mu_cont, self.sigma_cont = mu, s
            self.log_norm = self.log_w[:, None] - np.log(s) - log_z - _LOG_SQRT_2PI
        self.kernels = self._bin_kernels(binned)
        #: Per categorical dimension: the log probabilities of the options (columns) under an
        #: observation of each option and under the prior (rows), and each kernel's row.
        self.options: list[tuple[np.ndarray, np.ndarray]] = []
        for k in layout.cat:
            m = layout.dims[k].n_choices
            p = np.full((m + 1, m), prior_weight / m)
            p[:m] += np.eye(m)
            p[m] = 1.0
            rows = np.append(layout.dims[k].index(X[:, k]), m)
            self.options.append((np.log(p / p.sum(axis=1, keepdims=True)), rows))
        self._draw: tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]] | None = None

    def _bin_kernels(self, binned: tuple[list[np.ndarray], np.ndarray] | None,
                     ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]]:
        """The kernels of each binned dimension: means, bandwidths and log normalisers, and
        the kernel of each observation (``None``: one each)."""
        cols = self.layout.binned
        if not cols:
            return []
        if not self.joint:
            mu, sigma = self.mu[:, cols], self.sigma[:, cols]
            log_z = _log_z(mu, sigma)
            return [(mu[:, i], sigma[:, i], log_z[:, i], None) for i in range(len(cols))]
        kernels = []
        for i, j in enumerate(cols):
            if binned is None:
                values, of_obs = np.unique(self.mu[:self.n, j], return_inverse=True)
            else:
                values, of_obs = binned[0][i], binned[1][:, i]
            mu = np.concatenate([values, self.mu[self.n:, j]])
            sigma = np.full(len(mu), self.bandwidth[j])
            sigma[-1] = self.sigma[self.n, j]
            kernels.append((mu, sigma, np.append(of_obs, len(values))))
        # The normalisers of all the dimensions at once.
        log_z = _log_z(np.concatenate([mu for mu, _, _ in kernels]),
                       np.concatenate([sigma for _, sigma, _ in kernels]))
        ends = np.cumsum([len(mu) for mu, _, _ in kernels])
        return [(mu, sigma, log_z[end - len(mu):end], of_obs)
                for (mu, sigma, of_obs), end in zip(kernels, ends)]

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` points; one kernel per point, or per point and dimension when not joint."""
        layout = self.layout
        num, d = layout.num, len(layout.dims)
        if self._draw is None:
            # The kernels' CDF (as rng.choice builds it), their normal CDFs at 0 and 1 (the
            # truncation) and the CDFs of their options.
            cdf = self.w.cumsum()
            cdf /= cdf[-1]
            ndtr = _special().ndtr
            a, b = ndtr(-self.mu / self.sigma), ndtr((1 - self.mu) / self.sigma)
            self._draw = cdf, a, b, [np.exp(p).cumsum(axis=1) for p, _ in self.options]
        cdf, a_all, b_all, cum_all = self._draw
        # rng.choice(len(w), shape, p=w) draws these, after checks of w that cost more.
        comp = cdf.searchsorted(rng.random((size, 1 if self.joint else d)), side="right")
        if self.joint:
            rows = comp[:, 0]
            mu, sigma, a, b = self.mu[rows], self.sigma[rows], a_all[rows], b_all[rows]
        else:
            rows, cols = comp[:, num], np.arange(len(num))
            mu, sigma = self.mu[rows, cols], self.sigma[rows, cols]
            a, b = a_all[rows, cols], b_all[rows, cols]
        out = np.empty((size, d))
        x = np.clip(mu + sigma * _special().ndtri(a + rng.random(mu.shape) * (b - a)), 0.0, 1.0)
        out[:, num] = x
        for j, k in zip(layout.binned, layout.binned_dims):
            dim = layout.dims[k]
            out[:, k] = dim.centres(dim.index(x[:, j]))
        for k, cum, (_, kernel_rows) in zip(layout.cat, cum_all, self.options):
            cum = cum[kernel_rows[comp[:, 0 if self.joint else k]]]
            idx = np.minimum((rng.random((size, 1)) > cum).sum(axis=1), cum.shape[1] - 1)
            out[:, k] = layout.dims[k].centres(idx)
        return out

    def log_pdf(self, cand: _Candidates) -> np.ndarray:
        """Log density (mass along binned and categorical dimensions) at the candidates.

        Shape ``(n_candidates,)`` for joint kernels, ``(n_candidates, n_dims)`` otherwise.
        """
        layout = self.layout
        # (The arrays of one value per candidate and kernel are large: few are made, and
        # they are written in place.)
        if self.joint:
            total = cand.half_sq @ self.inv_t
            np.subtract(self.const, total, out=total)
            term = np.matmul(cand.x_cont, self.mu_inv_t, out=np.empty_like(total))
            total += term
            for _ in self._terms(cand, term):
                total += term
            return _logsumexp(total, axis=-1, overwrite=True)
        out = np.empty((len(cand.x), len(layout.dims)))
        mu, s = self.mu_cont, self.sigma_cont
        z = cand.x[:, None, layout.cont_dims] / s - mu / s
        z *= z
        z *= -0.5
        z += self.log_norm
        out[:, layout.cont_dims] = _logsumexp(z, axis=1, overwrite=True)
        term = np.empty((len(cand.x), self.n + 1))
        for k in self._terms(cand, term):
            term += self.log_w
            out[:, k] = _logsumexp(term, axis=-1, overwrite=True)
        return out

    def _terms(self, cand: _Candidates, out: np.ndarray) -> Iterator[int]:
        """Each binned and categorical dimension in turn, once ``out`` holds its per-kernel
        log mass (shape ``(n_candidates, n_kernels)``)."""
        for k, (edges, lo, hi), (mu, sigma, log_z, of_obs) in zip(
                self.layout.binned_dims, cand.bins, self.kernels):
            # The normal CDF at each distinct edge, then the mass of each candidate's bin.
            cdf = _special().ndtr((edges[:, None] - mu) / sigma)
            log_mass = np.log(np.maximum(cdf[hi] - cdf[lo], 1e-300))
            if of_obs is None:
                np.subtract(log_mass, log_z, out=out)
            else:
                np.take(log_mass - log_z, of_obs, axis=1, out=out)
            yield k
        for k, (log_p, rows), idx in zip(self.layout.cat, self.options, cand.options):
            np.take(log_p.T[idx], rows, axis=1, out=out)
            yield k


@functools.cache
def _special() -> Any:
    """``scipy.special``, imported on first use, not with the package (start-up time)."""
    import scipy.special

    return scipy.special


def _log_z(mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Log mass that Gaussians ``(mu, sigma)`` put on ``[0, 1]`` (their truncation)."""
    ndtr = _special().ndtr
    return np.log(ndtr((1 - mu) / sigma) - ndtr(-mu / sigma))


def _logsumexp(a: np.ndarray, axis: int, overwrite: bool = False) -> np.ndarray:
    """``log(sum(exp(a)))`` along ``axis``: the values of ``scipy.special.logsumexp`` (``-inf``
    for a row of ``-inf``, ``inf`` for a row with ``inf``); ``overwrite``: ``a`` may serve
    as scratch space.

    scipy's own costs four times as much on these arrays (it exponentiates twice for accuracy
    near zero, which a density ratio does not need): with it a 300-trial run took about 20 %
    (joint kernels) to 50-80 % (independent kernels) longer.
    """
    # (The ufuncs' own reductions: a.max() and a.sum() without their wrappers.)
    top = np.maximum.reduce(a, axis=axis, keepdims=True)
    top[~np.isfinite(top)] = 0.0
    e = np.subtract(a, top, out=a if overwrite else None)
    np.exp(e, out=e)
    with np.errstate(divide="ignore"):
        return (top + np.log(np.add.reduce(e, axis=axis, keepdims=True))).squeeze(axis)


def _scott_bandwidth(X: np.ndarray, n_dims: int, bin_floor: np.ndarray) -> np.ndarray:
    """One bandwidth per dimension for joint kernels: Scott's rule on the points' spread.

    The spread is measured relative to a uniform one (``std * sqrt(12)``), so the first
    bandwidths are ``0.2 * n ** (-1 / (d + 4))``, as in Optuna, and they shrink as the good
    points cluster.
    """
    n = len(X)
    spread = _std(X) * math.sqrt(12) if n > 1 else np.ones(X.shape[1])
    sigma = 0.2 * spread * max(n, 1) ** (-1.0 / (n_dims + 4))
    return np.clip(sigma, _floor(n, bin_floor), _PRIOR_SIGMA)


def _std(X: np.ndarray) -> np.ndarray:
    """``X.std(axis=0, ddof=1)``, the same operations without the general method's overhead
    (it costs more than the arithmetic on these arrays)."""
    dev = X - np.add.reduce(X, axis=0, keepdims=True) / len(X)
    dev *= dev
    return np.sqrt(np.add.reduce(dev, axis=0) / (len(X) - 1))


def _neighbour_bandwidth(X: np.ndarray, n_dims: int, bin_floor: np.ndarray) -> np.ndarray:
    """One bandwidth per point and dimension (classic TPE): the larger gap to a neighbour."""
    if not len(X):
        return X.copy()
    order = np.argsort(X, axis=0, kind="stable")
    edges = np.zeros((1, X.shape[1]))
    xs = np.vstack([edges, np.take_along_axis(X, order, axis=0), edges + 1.0])
    gap = np.maximum(np.diff(xs, axis=0)[:-1], np.diff(xs, axis=0)[1:])
    sigma = np.empty_like(X)
    np.put_along_axis(sigma, order, gap, axis=0)
    return np.clip(sigma, _floor(len(X), bin_floor), _PRIOR_SIGMA)


def _floor(n: int, bin_floor: np.ndarray) -> np.ndarray:
    """The smallest bandwidths: ``0.5 / min(100, n + 1)`` (half of Optuna's), and half a bin
    for integers (``bin_floor``), so that the kernels never collapse onto a few points."""
    return np.maximum(0.5 / min(100, n + 1), bin_floor)
