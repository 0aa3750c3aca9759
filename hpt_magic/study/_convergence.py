"""When a study has nothing left to gain: an upper bound of the remaining regret against the
noise of the score (in the spirit of Optuna's Terminator, Makarova et al. 2022).

A Gaussian process is fitted to the complete trials (on the unit cube, as the samplers see
them). With ``beta`` as in GP-UCB, the best upper confidence bound among the tried points minus
the lowest lower confidence bound anywhere bounds how much better the best possible point can
still be. When that bound is smaller than the noise of the score (what a re-run of the same
trial would change: the spread of cross-validation folds given with ``tune.report_noise(std)``
or TuneSearchCV's ``std_test_score``), further trials cannot be told apart from luck.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..distributions import Choice
from ..samplers import observations

if TYPE_CHECKING:
    from ._study import Study

__all__ = ["regret_bound", "score_noise", "MIN_TRIALS"]

#: Complete trials before the bound is worth computing.
MIN_TRIALS = 20
_CANDIDATES = 2000


def score_noise(study: Study) -> float | None:
    """The median noise (standard deviation) of the score that trials reported, if any."""
    noises = [float(t.user_attrs["noise"]) for t in study.trials
              if isinstance(t.user_attrs.get("noise"), (int, float))
              and math.isfinite(t.user_attrs["noise"])]
    return float(np.median(noises)) if noises else None


def regret_bound(study: Study, seed: int = 0) -> tuple[float, float] | None:
    """``(regret bound, noise)`` in the units of the score, or ``None`` before
    :data:`MIN_TRIALS` complete trials. Without reported noise, the GP's own noise estimate
    stands in (near zero for a deterministic objective: the study then never stops early)."""
    space = study.search_space()
    if not space:
        return None
    X, y, _ = observations(study, space, include_pruned=False)
    n, d = X.shape
    if n < MIN_TRIALS:
        return None
    # The GP (and scipy) load here, not with the package: `import hpt_magic` stays quick.
    from .._gp_model import default_params, fit_gp

    mu, sd = float(y.mean()), float(y.std()) or 1.0
    categorical = np.array([isinstance(dist, Choice) for dist in space.values()])
    gp = fit_gp(X, (y - mu) / sd, categorical, [default_params(d)])
    beta = 2.0 * math.log(d * n * n * math.pi ** 2 / 0.6) / 5.0
    rng = np.random.default_rng(seed)
    random = np.column_stack([dist.snap_unit(rng.random(_CANDIDATES)) for dist in space.values()])
    mean_x, var_x = gp.predict(X)
    mean_c, var_c = gp.predict(np.vstack([X, random]))
    ucb = float(np.min(mean_x + np.sqrt(beta * var_x)))
    lcb = float(np.min(mean_c - np.sqrt(beta * var_c)))
    noise = score_noise(study)
    if noise is None:
        noise = math.sqrt(gp.noise) * sd
    return max(0.0, ucb - lcb) * sd, noise
