"""Bayesian optimisation with a Gaussian-process surrogate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..distributions import PRIOR_SHARE, Distribution
from ..exceptions import TuneError
from ..trial import Trial, TrialState
from ._base import Sampler, failed_points, observations
from ._mo import scalarized, vector_losses

if TYPE_CHECKING:
    from .._encoding import Encoding
    from ..study._study import Study

__all__ = ["GPSampler"]

_ACQUISITIONS = ("ei", "pi", "ucb")


class GPSampler(Sampler):
    """Gaussian-process Bayesian optimisation (Matérn 5/2 kernel with one length scale per
    parameter, fitted by maximum a posteriori at every trial).

    How each kind of parameter is modelled:

    - floats live on the unit interval of their scale (log floats in log space);
    - ints and stepped floats are rounded to their valid values inside the model, so the
      surrogate is flat between two valid values; up to 16 levels are searched by enumeration;
    - a choice is one column with a Hamming distance (same option or not), i.e. a one-hot
      encoding with one length scale per parameter; its options are searched by enumeration.

    Losses are standardised after a Yeo-Johnson power transform (robust to a few very bad
    trials). The first ``n_startup_trials`` trials follow a scrambled Halton design. Pruned
    trials count with their last reported value; failed trials count as bad as the worst trial
    (``consider_failed``), so that the model learns where the objective raises instead of
    sending trial after trial into the unexplored region where it does. Trials still
    running are fantasised at the model's predicted mean ("kriging believer"): the model is
    sure of them, so parallel workers are not sent to the same point. Parameters outside the
    space shared by all finished trials (new names, conditional branches) are drawn at random.

    With several objectives or constraints, each trial models one random augmented Chebyshev
    scalarisation of the scaled losses (ParEGO): over trials the weights cover the front;
    a trial that broke a constraint scores worse than every feasible one.

    Parameters
    ----------
    seed : int, optional
    acquisition : {"ei", "pi", "ucb"}
        Log expected improvement (default), log probability of improvement, or the confidence
        bound ``-(mean - kappa * sd)`` of the loss.
    n_startup_trials : int, optional
        Trials before the model is used. Default 10 (7 for a single parameter): fewer
        left Branin stuck on a boundary minimum in 2 of 10 seeds.
    kappa : float
        Exploration weight of ``"ucb"``.
    deterministic : bool
        The objective has no noise: the model then interpolates the observations.
    n_candidates : int
        Sobol points screened per trial before local refinement.
    noisy : bool
        The same parameters may give another score: a point already tried may be proposed
        again. By default (``False``) the sampler proposes only new points while there are any.
    consider_failed : bool
        Model failed trials as scoring the worst loss seen (SMAC's treatment of crashes).

    Examples
    --------
    >>> from hpt_magic import Study, Float
    >>> study = Study(space={"x": Float(-2, 2)}, sampler=GPSampler(seed=0))
    >>> study.optimize(lambda t: (t.params["x"] - 0.5) ** 2, n_trials=12)
    >>> abs(study.best_params["x"] - 0.5) < 0.1
    True
    """

    name = "gp"

    def __init__(self, seed: int | None = None, *, acquisition: str = "ei",
                 n_startup_trials: int | None = None, kappa: float = 2.0,
                 deterministic: bool = False, n_candidates: int = 1024,
                 noisy: bool = False, consider_failed: bool = True) -> None:
        super().__init__(seed)
        if acquisition not in _ACQUISITIONS:
            raise TuneError(f"GPSampler: acquisition={acquisition!r} is not one of "
                            f"{', '.join(map(repr, _ACQUISITIONS))}. Use 'ei' unless you have a "
                            "reason to prefer another.")
        if n_startup_trials is not None and (not isinstance(n_startup_trials, int)
                                             or n_startup_trials < 1):
            raise TuneError(f"GPSampler: n_startup_trials={n_startup_trials!r} must be a "
                            "positive integer (or None for the default).")
        if not kappa >= 0:
            raise TuneError(f"GPSampler: kappa={kappa!r} must be a number >= 0.")
        if not isinstance(n_candidates, int) or n_candidates < 2:
            raise TuneError(f"GPSampler: n_candidates={n_candidates!r} must be an integer >= 2.")
        self.acquisition = acquisition
        self.n_startup_trials = n_startup_trials
        self.kappa = float(kappa)
        self.deterministic = bool(deterministic)
        self.n_candidates = n_candidates
        self.noisy = bool(noisy)
        self.consider_failed = bool(consider_failed)
        # Last fitted hyperparameters per modelled space: the next fit starts from them.
        self._fits: dict[tuple[str, ...], np.ndarray] = {}

    def startup_trials(self, d: int) -> int:
        """Number of design trials for ``d`` parameters."""
        if self.n_startup_trials is not None:
            return self.n_startup_trials
        return min(10, 3 * d + 4)

    def sample_joint(self, study: Study, trial: Trial,
                     space: Mapping[str, Distribution]) -> dict[str, Any]:
        if not space:
            return {}
        shared = _shared_space(study, space)
        if shared and vector_losses(study):
            # Several objectives or constraints: a random scalarisation per trial (ParEGO).
            X, y = scalarized(study, shared, self.rng(trial.number, "parego"))
        else:
            X, y, _ = observations(study, shared) if shared else (None, np.empty(0), None)
        if len(y) < self.startup_trials(len(space)):
            return self._design_point(trial, space)
        failed = failed_points(study, shared) if self.consider_failed else np.empty((0, 0))
        if len(failed):
            X, y = np.vstack([X, failed]), np.append(y, np.full(len(failed), y.max()))
        # The model and scipy are imported when the first model-based point is needed, not
        # with the package (start-up time of `import hpt_magic`).
        from .._encoding import Encoding

        enc = Encoding(shared)
        return enc.decode(self._propose(study, trial, enc, X, y))

    def sample_one(self, study: Study, trial: Trial, name: str, dist: Distribution) -> Any:
        return dist.sample(self.rng(trial.number, name))

    def _design_point(self, trial: Trial, space: Mapping[str, Distribution]) -> dict[str, Any]:
        """Point ``trial.number`` of a scrambled Halton sequence seeded by the sampler's seed
        (:mod:`._design`: no scipy, so a kernel's first trial starts without it); random
        beyond the sequence's ``SPAN`` points."""
        from .._encoding import Encoding
        from ._design import SPAN, halton_point

        if trial.number >= SPAN:
            return self.draw(trial, space)
        unit = halton_point(trial.number, len(space), [self.seed % 2**64, len(space)])
        values = Encoding(space).decode(unit)
        for name, dist in space.items():
            # A user's guess (prior=) takes the place of the design for half of these trials.
            if dist.prior is not None:
                rng = self.rng(trial.number, "prior", name)
                if rng.random() < PRIOR_SHARE:
                    values[name] = dist.sample_near_prior(rng)
        return values

    def _propose(self, study: Study, trial: Trial, enc: Encoding, X: np.ndarray,
                 y: np.ndarray) -> np.ndarray:
        from .._gp_model import default_params, fit_gp
        from ._gp_acq import Acquisition, maximize

        rng = self.rng(trial.number, "gp")
        ys = _standardize(y)
        key = tuple(enc.names)
        starts = [self._fits[key]] if key in self._fits else []
        # A second start from the default guards against a stale optimum; with many trials the
        # previous fit is rarely beaten, so the extra start runs only every tenth trial there.
        if not starts or len(y) < 100 or trial.number % 10 == 0:
            starts.append(default_params(enc.dim))
        gp = fit_gp(X, ys, enc.categorical, starts, fixed_noise=self.deterministic)
        self._fits[key] = gp.phi
        incumbent = X[[int(np.argmin(ys))]]
        best = float(ys.min())
        pending = _pending(study, trial, enc)
        if len(pending):
            # Kriging believer: the running trials are believed to score the model's mean,
            # and a belief below the incumbent is the incumbent to beat. Else the improvement
            # promised at a pending point (incumbent minus its mean) survives the conditioning
            # and the next proposal lands on it again.
            believed = gp.predict(pending)[0]
            gp = gp.condition_on(pending, believed)
            best = min(best, float(believed.min()))
        acq = Acquisition(self.acquisition, gp, best, self.kappa)
        tried = None if self.noisy else np.vstack([X, pending]) if len(pending) else X
        return maximize(acq, enc, rng, incumbent, n_candidates=self.n_candidates,
                        exclude=tried)


def _standardize(y: np.ndarray) -> np.ndarray:
    """Standardised losses after a Yeo-Johnson power transform fitted to them.

    The transform makes a skewed loss (a few very bad trials, as in most tuning problems) more
    Gaussian, so the kernel is fitted to the region that matters instead of the outliers.
    """
    from scipy import stats

    sd = y.std()
    if not sd > 0:
        return np.zeros_like(y)
    ys = stats.yeojohnson((y - y.mean()) / sd)[0]
    sd = ys.std()
    return (ys - ys.mean()) / sd if sd > 0 else np.zeros_like(y)


def _shared_space(study: Study, space: Mapping[str, Distribution]) -> dict[str, Distribution]:
    """The parameters of ``space`` that every finished, scored trial has."""
    names = set(space)
    for t in study.trials:
        if t.state in (TrialState.COMPLETE, TrialState.PRUNED):
            names &= set(t.params)
    return {n: d for n, d in space.items() if n in names}


def _pending(study: Study, trial: Trial, enc: Encoding) -> np.ndarray:
    """Unit-cube points of the other running trials that have every modelled parameter."""
    # A running trial of a parallel run may hold its point in `relative` only so far.
    points = [{**t.relative, **t.params} for t in study.trials
              if t.state is TrialState.RUNNING and t is not trial]
    rows = [[d.to_unit(p[n]) for n, d in zip(enc.names, enc.dists)]
            for p in points if all(n in p for n in enc.names)]
    return np.asarray(rows, dtype=float).reshape(len(rows), enc.dim)
