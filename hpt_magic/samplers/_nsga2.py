"""NSGA-II: a genetic algorithm for several objectives (Deb et al., 2002)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .._pareto import nsga_order
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

    def sample_joint(self, study: Study, trial: Trial,
                     space: Mapping[str, Distribution]) -> dict[str, Any]:
        X, elite = self._elite(study, space)
        if elite is None:
            return {}
        rng = self.rng(trial.number, "nsga2")
        a, b = (X[elite[min(rng.integers(len(elite), size=2))]] for _ in range(2))
        dists = list(space.values())
        child = self._crossover(a, b, dists, rng)
        child = self._mutate(child, dists, rng)
        return {n: d.from_unit(float(u)) for (n, d), u in zip(space.items(), child)}

    def sample_one(self, study: Study, trial: Trial, name: str, dist: Distribution) -> Any:
        return dist.sample(self.rng(trial.number, name))

    def _elite(self, study: Study, space: Mapping[str, Distribution]) -> tuple[np.ndarray, Any]:
        """The unit points of the finished trials and the elite's rows, best first (``None``
        before ``population_size`` trials are usable)."""
        if not space:
            return np.empty((0, 0)), None
        X, y, used = observations(study, space)
        if getattr(study, "scoring", None) is not None:
            L, V = losses_matrix(study, used)
        else:
            L, V = y.reshape(-1, 1), np.zeros(len(y))
        ok = ~np.isnan(L).any(axis=1)
        if ok.sum() < self.population_size:
            return X, None
        rows = np.flatnonzero(ok)
        order = rows[nsga_order(L[ok], V[ok])]
        return X, order[: self.population_size]

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
