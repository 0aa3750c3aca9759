"""BOHB (Falkner et al., 2018): Hyperband whose new configurations come from a KDE model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import TuneError
from ._hyperband import HyperbandScheduler

if TYPE_CHECKING:
    from ..study._study import Study
    from ..trial import Trial

__all__ = ["BOHBScheduler"]


class BOHBScheduler(HyperbandScheduler):
    """Hyperband whose new trials are proposed by a TPE-style model of the best budget.

    Every report at a budget (a rung, or ``max_steps``) is an observation. When a trial
    starts, the largest budget with enough observations is split into the best
    ``top_n_percent`` and the rest; a kernel density is fitted to each (product Gaussian on
    the unit cube, normal-reference bandwidths); ``num_samples`` candidates drawn from the
    good density, widened by ``bandwidth_factor``, compete on the ratio good/bad and the best
    one is the trial's parameters (``trial.user_attrs["model_budget"]`` records the budget).
    A ``random_fraction`` of trials, and every trial until a budget has enough observations,
    is left to the study's sampler. Choices are modelled on the unit cube like numbers.

    Parameters
    ----------
    max_steps, reduction_factor, min_resource
        As :class:`HyperbandScheduler`.
    random_fraction : float
        Share of trials proposed by the study's sampler instead of the model.
    top_n_percent : float
        Percent of a budget's observations that form the good density.
    min_points_in_model : int, optional
        Observations each density needs (default: number of parameters + 1).
    num_samples : int
        Candidates scored per proposal.
    bandwidth_factor : float
        Widening of the good density when drawing candidates.
    min_bandwidth : float
        Smallest bandwidth on the unit cube, so that ties do not collapse the model.
    """

    name = "bohb"

    def __init__(self, max_steps: int | None = None, reduction_factor: int = 3,
                 min_resource: int = 1, random_fraction: float = 1 / 3,
                 top_n_percent: float = 15, min_points_in_model: int | None = None,
                 num_samples: int = 64, bandwidth_factor: float = 3.0,
                 min_bandwidth: float = 1e-3) -> None:
        super().__init__(max_steps, reduction_factor, min_resource)
        if not 0 <= random_fraction <= 1:
            raise TuneError(f"BOHBScheduler needs 0 <= random_fraction <= 1, got "
                            f"{random_fraction!r}.")
        if not 0 < top_n_percent < 100:
            raise TuneError(f"BOHBScheduler needs 0 < top_n_percent < 100, got "
                            f"{top_n_percent!r}.")
        if min_points_in_model is not None and min_points_in_model < 2:
            raise TuneError(f"BOHBScheduler needs min_points_in_model >= 2, got "
                            f"{min_points_in_model!r}.")
        if num_samples < 1 or not bandwidth_factor > 0 or not min_bandwidth > 0:
            raise TuneError("BOHBScheduler needs num_samples >= 1, bandwidth_factor > 0 and "
                            f"min_bandwidth > 0, got {num_samples!r}, {bandwidth_factor!r}, "
                            f"{min_bandwidth!r}.")
        self.random_fraction = float(random_fraction)
        self.top_n_percent = float(top_n_percent)
        self.min_points_in_model = min_points_in_model
        self.num_samples = int(num_samples)
        self.bandwidth_factor = float(bandwidth_factor)
        self.min_bandwidth = float(min_bandwidth)
        self._observed: dict[int, list[tuple[Trial, float]]] = {}

    def _replay(self, study: Study) -> None:
        budgets = {r for rungs in self._brackets for r in rungs.resources}
        budgets.add(self.max_steps)
        self._observed = {b: [] for b in sorted(budgets)}
        for t in study.trials:
            if t.state.finished:
                for step, value in t.intermediate.items():
                    self._observe(study, t, step, value)
        super()._replay(study)

    def _observe(self, study: Study, trial: Trial, step: int, value: float) -> None:
        seen = self._observed.get(step + 1)
        if seen is not None:
            seen.append((trial, study.direction.to_loss(value)))

    def on_report(self, study: Study, trial: Trial, step: int, value: float) -> str:
        self._ensure(study)
        self._observe(study, trial, step, value)
        return super().on_report(study, trial, step, value)

    def on_trial_start(self, study: Study, trial: Trial) -> dict[str, Any] | None:
        super().on_trial_start(study, trial)
        rng = study.sampler.rng(trial.number, "bohb")
        space = study.search_space()
        if not space or rng.random() < self.random_fraction:
            return None
        names = list(space)
        need = self.min_points_in_model or len(names) + 1
        for budget in sorted(self._observed, reverse=True):
            rows = [(t, loss) for t, loss in self._observed[budget]
                    if np.isfinite(loss) and all(n in t.params for n in names)]
            n_good = max(need, int(self.top_n_percent * len(rows) // 100))
            if len(rows) - n_good >= need:
                break
        else:
            return None
        X = np.array([[space[n].to_unit(t.params[n]) for n in names] for t, _ in rows])
        y = np.array([loss for _, loss in rows])
        u = self._propose(X, y, n_good, rng)
        trial.user_attrs["model_budget"] = budget
        return {n: space[n].from_unit(float(v)) for n, v in zip(names, u)}

    def _propose(self, X: np.ndarray, y: np.ndarray, n_good: int,
                 rng: np.random.Generator) -> np.ndarray:
        """The candidate with the best ratio of good to bad density, on the unit cube."""
        # scipy is imported on first use, not with the package (start-up time).
        from scipy.stats import truncnorm

        order = np.argsort(y, kind="stable")
        good, bad = X[order[:n_good]], X[order[n_good:]]
        bw_good = _bandwidth(good, self.min_bandwidth)
        bw_bad = _bandwidth(bad, self.min_bandwidth)
        centres = good[rng.integers(len(good), size=self.num_samples)]
        scale = np.minimum(bw_good * self.bandwidth_factor, 1.0)
        lo, hi = (0.0 - centres) / scale, (1.0 - centres) / scale
        candidates = truncnorm.rvs(lo, hi, loc=centres, scale=scale, random_state=rng)
        score = _log_density(candidates, good, bw_good) - _log_density(candidates, bad, bw_bad)
        return candidates[int(np.argmax(score))]

    def __repr__(self) -> str:
        return (f"BOHBScheduler(max_steps={self.max_steps}, "
                f"reduction_factor={self.reduction_factor}, min_resource={self.min_resource}, "
                f"random_fraction={self.random_fraction:.3g})")


def _bandwidth(points: np.ndarray, floor: float) -> np.ndarray:
    """Normal-reference bandwidth per dimension (Scott's rule for a product kernel)."""
    n, d = points.shape
    return np.maximum(1.06 * points.std(axis=0) * n ** (-1.0 / (4 + d)), floor)


def _log_density(x: np.ndarray, points: np.ndarray, bw: np.ndarray) -> np.ndarray:
    """Log of the product-Gaussian kernel density of ``points`` at each row of ``x``."""
    from scipy.special import logsumexp

    z = (x[:, None, :] - points[None, :, :]) / bw
    log_k = -0.5 * np.sum(z * z, axis=2) - np.sum(np.log(bw)) - 0.5 * x.shape[1] * np.log(2 * np.pi)
    return logsumexp(log_k, axis=1) - np.log(len(points))
