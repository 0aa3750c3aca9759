"""CMA-ES: the covariance matrix adaptation evolution strategy, for numeric spaces."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..distributions import Choice, Distribution
from ..exceptions import TuneError
from ..trial import Trial, TrialState
from ._base import Sampler, observations

if TYPE_CHECKING:
    from ..study._study import Study

__all__ = ["CmaEsSampler"]


class CmaEsSampler(Sampler):
    """CMA-ES (Hansen's (mu/mu_w, lambda) strategy) on the unit cube of the numeric parameters.

    Floats and ints are searched together (ints are rounded when the value is handed out);
    choices, and parameters not yet known when a trial starts, are drawn at random. A
    generation is updated once ``popsize`` of its trials are scored: pruned trials count with
    their last reported value, failed trials are replaced by new ones, and trials that break
    a constraint rank after those that meet them. When the search has converged it restarts
    from a random point with a doubled population (IPOP). A new sampler on a stored study
    starts from the best trial so far. One objective only: a study with several is refused.

    Parameters
    ----------
    seed : int, optional
    sigma0 : float
        Initial step size, as a fraction of each parameter's range (on its own scale).
    popsize : int, optional
        Trials per generation; default ``4 + 3 ln(d)``.

    Examples
    --------
    >>> from hpt_magic import Study, Float
    >>> space = {"x": Float(-3, 3), "y": Float(-3, 3)}
    >>> study = Study(space=space, sampler=CmaEsSampler(seed=0))
    >>> study.optimize(lambda t: t.params["x"] ** 2 + t.params["y"] ** 2, n_trials=80)
    >>> study.best_value < 1e-2
    True
    """

    name = "cmaes"
    multi_objective = False

    def __init__(self, seed: int | None = None, *, sigma0: float = 0.25,
                 popsize: int | None = None) -> None:
        super().__init__(seed)
        if not 0 < sigma0 <= 1:
            raise TuneError(f"CmaEsSampler: sigma0={sigma0!r} must be in (0, 1]: it is a "
                            "fraction of each parameter's range.")
        if popsize is not None and (not isinstance(popsize, int) or popsize < 2):
            raise TuneError(f"CmaEsSampler: popsize={popsize!r} must be an integer >= 2.")
        self.sigma0 = float(sigma0)
        self.popsize = popsize
        self._states: dict[tuple[str, ...], _Strategy] = {}

    def sample_joint(self, study: Study, trial: Trial,
                     space: Mapping[str, Distribution]) -> dict[str, Any]:
        numeric = {n: d for n, d in space.items() if not isinstance(d, Choice)}
        # Options are drawn at random, as sample_one would, but at ask time (see draw).
        options = self.draw(trial, {n: d for n, d in space.items() if n not in numeric})
        if not numeric:
            return options
        key = tuple(numeric)
        state = self._states.get(key)
        if state is None:
            X, y, used = observations(study, numeric)
            keys = [(_violation(study, t), loss) for t, loss in zip(used, y)]
            start = X[keys.index(min(keys))] if keys else np.full(len(numeric), 0.5)
            lam = self.popsize or 4 + int(3 * math.log(len(numeric)))
            state = self._states[key] = _Strategy(start, self.sigma0, lam)
        state.update(_scores(study, state))
        if state.converged:
            # IPOP restart: a fresh search from a random point with twice the population.
            rng = self.rng(trial.number, "restart")
            state = self._states[key] = _Strategy(rng.random(len(numeric)), self.sigma0,
                                                   2 * state.lam)
        x = state.ask(self.rng(trial.number, "cmaes"), trial.number)
        return {**options, **{n: d.from_unit(float(u)) for (n, d), u in zip(numeric.items(), x)}}

    def sample_one(self, study: Study, trial: Trial, name: str, dist: Distribution) -> Any:
        return dist.sample(self.rng(trial.number, name))


def _violation(study: Study, trial: Trial) -> float:
    """How far ``trial`` breaks the study's constraints (0 when it meets them)."""
    return study.scoring.violation(trial.metrics) if trial.feasible is False else 0.0


def _scores(study: Study, state: _Strategy) -> dict[int, tuple[float, float] | None]:
    """``(violation, loss)`` of each finished member of the current generation (``None``:
    failed): a trial that breaks a constraint ranks after every one that meets them, the
    least violation first (Deb's rule)."""
    out: dict[int, tuple[float, float] | None] = {}
    for t in study.trials:
        if t.number not in state.members or not t.state.finished:
            continue
        v = t.value
        if v is None and t.state is TrialState.PRUNED and t.intermediate:
            v = t.intermediate[max(t.intermediate)]
        ok = t.state in (TrialState.COMPLETE, TrialState.PRUNED) and v is not None
        out[t.number] = ((_violation(study, t), study.direction.to_loss(v))
                         if ok and math.isfinite(v) else None)
    return out


class _Strategy:
    """The state of one CMA-ES run: mean, step size, covariance and evolution paths."""

    def __init__(self, mean: np.ndarray, sigma: float, popsize: int) -> None:
        d = len(mean)
        self.d, self.lam, self.sigma0 = d, popsize, sigma
        mu = popsize // 2
        w = math.log((popsize + 1) / 2) - np.log(np.arange(1, mu + 1))
        self.w = w / w.sum()
        self.mu_eff = 1.0 / np.sum(self.w ** 2)
        self.c_sigma = (self.mu_eff + 2) / (d + self.mu_eff + 5)
        self.d_sigma = (1 + 2 * max(0.0, math.sqrt((self.mu_eff - 1) / (d + 1)) - 1)
                        + self.c_sigma)
        self.c_c = (4 + self.mu_eff / d) / (d + 4 + 2 * self.mu_eff / d)
        self.c_1 = 2 / ((d + 1.3) ** 2 + self.mu_eff)
        self.c_mu = min(1 - self.c_1, 2 * (self.mu_eff - 2 + 1 / self.mu_eff)
                        / ((d + 2) ** 2 + self.mu_eff))
        self.chi_n = math.sqrt(d) * (1 - 1 / (4 * d) + 1 / (21 * d * d))
        self.mean, self.sigma = np.array(mean, dtype=float), sigma
        self.C, self.B, self.D = np.eye(d), np.eye(d), np.ones(d)
        self.p_sigma, self.p_c = np.zeros(d), np.zeros(d)
        self.generation = 0
        self.converged = False
        self.members: dict[int, np.ndarray] = {}

    def ask(self, rng: np.random.Generator, number: int) -> np.ndarray:
        """A new member of the current generation, inside the unit cube."""
        for _ in range(100):
            x = self.mean + self.sigma * (self.B @ (self.D * rng.standard_normal(self.d)))
            if np.all((x >= 0) & (x <= 1)):
                break
        else:
            x = np.clip(x, 0.0, 1.0)
        self.members[number] = x
        return x

    def update(self, scores: Mapping[int, tuple[float, float] | None]) -> None:
        """Move to the next generation once ``popsize`` members are scored."""
        for number, v in scores.items():
            if v is None:
                self.members.pop(number, None)
        scored = sorted((n for n, v in scores.items() if v is not None))[:self.lam]
        if len(scored) < self.lam:
            return
        ranked = sorted(scored, key=lambda n: scores[n])
        Y = (np.array([self.members[n] for n in ranked[:len(self.w)]]) - self.mean) / self.sigma
        self._step(self.w @ Y, Y)
        self.members = {}

    def _step(self, y_w: np.ndarray, Y: np.ndarray) -> None:
        d, g = self.d, self.generation + 1
        self.mean = self.mean + self.sigma * y_w
        c_inv_sqrt_y = self.B @ ((self.B.T @ y_w) / self.D)
        cs = self.c_sigma
        self.p_sigma = (1 - cs) * self.p_sigma + math.sqrt(cs * (2 - cs) * self.mu_eff) \
            * c_inv_sqrt_y
        norm = float(np.linalg.norm(self.p_sigma))
        h_sigma = norm / math.sqrt(1 - (1 - cs) ** (2 * g)) < (1.4 + 2 / (d + 1)) * self.chi_n
        cc = self.c_c
        self.p_c = (1 - cc) * self.p_c + h_sigma * math.sqrt(cc * (2 - cc) * self.mu_eff) * y_w
        rank_mu = (Y.T * self.w) @ Y
        decay = 1 - self.c_1 - self.c_mu + (1 - h_sigma) * self.c_1 * cc * (2 - cc)
        self.C = decay * self.C + self.c_1 * np.outer(self.p_c, self.p_c) + self.c_mu * rank_mu
        self.sigma *= math.exp(min(1.0, (cs / self.d_sigma) * (norm / self.chi_n - 1)))
        self.C = (self.C + self.C.T) / 2
        eig, self.B = np.linalg.eigh(self.C)
        self.D = np.sqrt(np.maximum(eig, 1e-20))
        self.generation = g
        self.converged = bool(self.sigma * self.D.max() < 1e-7
                              or self.D.max() > 1e7 * self.D.min())
