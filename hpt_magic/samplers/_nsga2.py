"""NSGA-II: a genetic algorithm for several objectives (Deb et al., 2002)."""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .._pareto import crowding_distance, nsga_order
from ..distributions import Choice, Distribution
from ..exceptions import TuneError
from ..trial import Trial
from ._base import Sampler, observations
from ._mo import losses_matrix

if TYPE_CHECKING:
    from ..study._study import Study

__all__ = ["NSGAIISampler"]


class NSGAIISampler(Sampler):
    """NSGA-II, steady state: each new trial is a child of two parents from the elite.

    The elite is the best ``population_size`` finished trials by constraint domination
    (feasible first, then the least violation), non-dominated sorting and crowding distance.
    Parents win binary tournaments in that order; the child gets simulated binary crossover
    (SBX) and polynomial mutation on the unit interval of numeric parameters, uniform
    crossover and random resets on choices. Until ``population_size`` trials have finished
    the points are random. Every draw comes from :meth:`Sampler.rng` of the trial number, so
    parallel workers (pending points) get different children and runs reproduce. It also
    works with one objective (then it is a plain genetic algorithm).

    Parameters
    ----------
    seed : int, optional
    population_size : int
        The elite's size, and the random trials before it exists.
    crossover_prob : float
        Probability that a child mixes its two parents (else it copies the first).
    mutation_prob : float, optional
        Per-parameter mutation probability (default ``1 / number of parameters``).
    eta_crossover, eta_mutation : float
        Distribution indices of SBX and polynomial mutation (larger: children nearer parents).

    Examples
    --------
    >>> from hpt_magic import Study, Float
    >>> study = Study(space={"x": Float(0, 1)}, directions=["min", "min"],
    ...               sampler=NSGAIISampler(seed=0, population_size=8))
    >>> study.optimize(lambda t: (t.params["x"], (1 - t.params["x"]) ** 2), n_trials=20)
    >>> len(study.best_trials) > 3
    True
    """

    name = "nsga2"

    def __init__(self, seed: int | None = None, *, population_size: int = 50,
                 crossover_prob: float = 0.9, mutation_prob: float | None = None,
                 eta_crossover: float = 20.0, eta_mutation: float = 20.0) -> None:
        super().__init__(seed)
        if not isinstance(population_size, int) or population_size < 2:
            raise TuneError(f"NSGAIISampler: population_size={population_size!r} must be an "
                            "integer >= 2.")
        for name, p in (("crossover_prob", crossover_prob), ("mutation_prob", mutation_prob)):
            if p is not None and not 0 <= p <= 1:
                raise TuneError(f"NSGAIISampler: {name}={p!r} must be a probability in [0, 1].")
        if not (eta_crossover > 0 and eta_mutation > 0):
            raise TuneError(f"NSGAIISampler: eta_crossover={eta_crossover!r} and eta_mutation="
                            f"{eta_mutation!r} must be positive.")
        self.population_size = population_size
        self.crossover_prob = float(crossover_prob)
        self.mutation_prob = mutation_prob
        self.eta_crossover = float(eta_crossover)
        self.eta_mutation = float(eta_mutation)
        self._archive: _Archive | None = None

    def sample_joint(self, study: Study, trial: Trial,
                     space: Mapping[str, Distribution]) -> dict[str, Any]:
        elite = self._elite(study, space)
        if elite is None:
            return {}
        rng = self.rng(trial.number, "nsga2")
        a, b = (elite[min(rng.integers(len(elite), size=2))] for _ in range(2))
        dists = list(space.values())
        child = self._crossover(a, b, dists, rng)
        child = self._mutate(child, dists, rng)
        return {n: d.from_unit(float(u)) for (n, d), u in zip(space.items(), child)}

    def sample_one(self, study: Study, trial: Trial, name: str, dist: Distribution) -> Any:
        return dist.sample(self.rng(trial.number, name))

    def _elite(self, study: Study, space: Mapping[str, Distribution]) -> np.ndarray | None:
        """The unit points of the elite, best first (``None`` before ``population_size``
        trials are usable)."""
        if not space:
            return None
        archive = self._archive
        if archive is None or not archive.serves(study, space, self.population_size):
            archive = self._archive = _Archive(study, space, self.population_size)
        return archive.elite()

    def _crossover(self, a: np.ndarray, b: np.ndarray, dists: list[Distribution],
                   rng: np.random.Generator) -> np.ndarray:
        if rng.random() >= self.crossover_prob:
            return a.copy()
        child = a.copy()
        for j, dist in enumerate(dists):
            if isinstance(dist, Choice):
                child[j] = a[j] if rng.random() < 0.5 else b[j]
                continue
            lo, hi = sorted((a[j], b[j]))
            if hi - lo < 1e-12:
                continue
            u = rng.random()
            beta = (2 * u) ** (1 / (self.eta_crossover + 1)) if u <= 0.5 else \
                (1 / (2 * (1 - u))) ** (1 / (self.eta_crossover + 1))
            mid, half = (lo + hi) / 2, (hi - lo) / 2
            child[j] = mid + (beta * half if rng.random() < 0.5 else -beta * half)
        return np.clip(child, 0.0, 1.0)

    def _mutate(self, x: np.ndarray, dists: list[Distribution],
                rng: np.random.Generator) -> np.ndarray:
        p = self.mutation_prob if self.mutation_prob is not None else 1.0 / max(len(dists), 1)
        out = x.copy()
        for j, dist in enumerate(dists):
            if rng.random() >= p:
                continue
            if isinstance(dist, Choice):
                out[j] = dist.to_unit(dist.sample(rng))
                continue
            u, e = rng.random(), self.eta_mutation
            delta = (2 * u) ** (1 / (e + 1)) - 1 if u < 0.5 else 1 - (2 * (1 - u)) ** (1 / (e + 1))
            out[j] = x[j] + delta
        return np.clip(out, 0.0, 1.0)

    def __repr__(self) -> str:
        return f"NSGAIISampler(seed={self.seed}, population_size={self.population_size})"


class _Archive:
    """A study's finished trials that can still be in the elite, each converted once.

    A point that ``size`` others dominate can never be among the best ``size`` again: they
    all sit on earlier fronts, and trials are only ever added. Nor does it shape the fronts
    before them (it dominates no point there), and a point dominated by ``size`` points is
    dominated by ``size`` kept ones (the first ``size`` of its dominators, in an order that
    puts dominators first, have fewer), so counting against the kept points stays exact.
    Ranking the kept points, each with the count of points that dominate it, therefore
    gives the same elite as ranking the whole history, at the cost of a few hundred points
    instead of all of them. Infeasible trials matter only until ``size`` feasible ones exist.
    """

    def __init__(self, study: Study, space: Mapping[str, Distribution], size: int) -> None:
        self.study, self.space, self.size = study, dict(space), size
        scoring = getattr(study, "scoring", None)
        self.k = 1 if scoring is None else len(scoring.names)
        self._clear()

    def _clear(self) -> None:
        self.usable = 0  # finished trials with a loss for every objective
        self.n_feasible = 0
        self.X, self.L = np.empty((0, len(self.space))), np.empty((0, self.k))
        self.where = np.empty(0, dtype=int)  # position in the study's trials: breaks ties
        self.count = np.empty(0, dtype=int)  # how many trials dominate each point
        self.infeasible: list[tuple[float, int, np.ndarray]] = []  # (violation, where, unit)
        self._seen: list[Trial] = []
        self._open: list[int] = []
        self._best: np.ndarray | None = None

    def serves(self, study: Study, space: Mapping[str, Distribution], size: int) -> bool:
        """Whether this archive is the one for ``study``, ``space`` and elite ``size``."""
        return (study is self.study and size == self.size and list(space) == list(self.space)
                and all(d is self.space[n] or d == self.space[n] for n, d in space.items()))

    def elite(self) -> np.ndarray | None:
        """The unit points of the best ``size`` usable trials, best first (``None`` while
        fewer are usable)."""
        if self._refresh():
            self._best = None
        if self.usable < self.size:
            return None
        if self._best is None:
            self._best = self._rank()
        return self._best

    def _refresh(self) -> bool:
        """Take in the trials that finished since the last call; whether any was usable."""
        trials = self.study.trials
        if len(trials) < len(self._seen) or any(map(operator.is_not, trials, self._seen)):
            self._clear()  # trials were replaced (a reload): rebuild rather than trust old rows
        still_open, new = [], []
        for i in (*self._open, *range(len(self._seen), len(trials))):
            (new if trials[i].state.finished else still_open).append(i)
        self._seen, self._open = trials, still_open
        X, y, used = observations(self.study, self.space, trials=[trials[i] for i in new])
        if getattr(self.study, "scoring", None) is not None:
            L, V = losses_matrix(self.study, used)
        else:
            L, V = y.reshape(-1, 1), np.zeros(len(y))
        where = {t.number: i for i, t in zip(new, (trials[i] for i in new))}
        added = False
        for x, loss, violation, t in zip(X, L, V, used):
            if np.isnan(loss).any():
                continue
            self.usable += 1
            added = True
            if violation > 0:
                if self.n_feasible < self.size:
                    self.infeasible.append((violation, where[t.number], x))
            else:
                self._add(x, loss, where[t.number])
        return added

    def _add(self, x: np.ndarray, loss: np.ndarray, where: int) -> None:
        le, lt = self.L <= loss, self.L < loss
        over = int(np.count_nonzero(le.all(axis=1) & lt.any(axis=1)))  # dominate the new one
        self.count += ~(lt.any(axis=1) | le.all(axis=1))  # the points it dominates
        keep = self.count < self.size
        self.X, self.L, self.where, self.count = (
            self.X[keep], self.L[keep], self.where[keep], self.count[keep])
        if over < self.size:
            self.X, self.L = np.vstack([self.X, x]), np.vstack([self.L, loss])
            self.where, self.count = np.append(self.where, where), np.append(self.count, over)
        self.n_feasible += 1
        if self.n_feasible >= self.size:
            self.infeasible = []

    def _rank(self) -> np.ndarray:
        # In the order of the study's trials, so that ties break as over the whole history.
        rows = np.argsort(self.where, kind="stable")
        front = rows[self.count[rows] == 0]
        if self.k > 1 and len(front) >= self.size:  # the Pareto front alone fills the elite
            best = self.X[front[np.argsort(-crowding_distance(self.L[front]), kind="stable")]]
            best = best[: self.size]
        else:
            best = self.X[rows[nsga_order(self.L[rows], best=self.size)]]
        if len(best) < self.size and self.infeasible:
            ranked = sorted(self.infeasible, key=lambda item: item[:2])
            best = np.vstack([best, [x for *_, x in ranked]])[: self.size]
        return best
