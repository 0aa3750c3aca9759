"""Tree-structured Parzen Estimator (TPE): the sampler and its history of trials.

The estimators it fits are in :mod:`._parzen`.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..distributions import Distribution
from ..exceptions import TuneError
from ..trial import Trial
from ._base import Sampler
from ._parzen import _Candidates, _Layout, _Parzen, dims_of
from ._tpe_history import _History

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
    (``constant_liar``), so that simultaneous proposals spread out; along discrete (integer,
    stepped) and categorical parameters they count as the prior when the parameters proposed
    together include continuous ones to spread along (an option that a running trial tries
    is no evidence against it; a conditional parameter is proposed on its own).

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
        # Failed trials and running ones (the constant liar) join the bad group. A running
        # trial's option or level is no evidence against it (the best trials may share it):
        # along discrete and categorical dimensions its kernel is the prior's, so the liar
        # spreads proposals along the continuous ones. (Without any, the liar keeps its
        # values, or parallel workers would propose the same point.)
        def rows(units: list[dict[str, float]]) -> list[list[float]]:
            return [[u[n] for n in names] for u in units if all(n in u for n in names)]

        running = rows(history.pending) if self.constant_liar else []
        lies = (rows(history.failed) if self.consider_failed else []) + running
        vague = len(running) if layout.cont else 0
        if lies:
            bad = np.vstack([bad, np.array(lies, dtype=float)])
        # The bad group's binned values as numbered by the history (see _Parzen); the running
        # trials' values are not numbered, so with lies the estimator numbers them itself.
        binned = None
        if layout.binned and self.multivariate and not lies:
            numbered = history.codes(names, layout.binned_dims)
            binned = numbered._replace(codes=numbered.codes[order[n_good:]])
        below = self._below(good, layout)
        above = _Parzen(bad, layout, self.prior_weight, self.multivariate, binned, vague)
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
