"""The surrogate of :class:`MOBSTERScheduler`: a GP over (configuration, resource).

The GP is the engine's own (``hpt_magic._gp_model``, the one the ``gp`` sampler fits), with
the resource as one more continuous column; categorical parameters use its Hamming distance.
Imported when the first model-based proposal is made, so that scipy stays out of
``import hpt_magic``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import log_ndtr, ndtr

from .._gp_model import GaussianProcess, default_params, fit_gp
from ..distributions import Choice
from ..trial import TrialState
from ._rungs import curve_value

if TYPE_CHECKING:
    from ..distributions import Distribution
    from ..study._study import Study
    from ..trial import Trial

__all__ = ["propose"]

#: Candidates scored per proposal: uniform ones and perturbations of the best observed points.
_N_UNIFORM = 1024
_N_LOCAL = 512
#: Most observations the GP is fitted to (its cost grows with their cube): the best half and
#: the most recent half of them.
_MAX_POINTS = 256
#: The noise prior's rate (see fit_gp): reports along noisy curves are far from exact.
_NOISE_RATE = 1.0


def propose(study: Study, trial: Trial, space: Mapping[str, Distribution],
            done: Sequence[Trial], rungs: Sequence[int], max_steps: int,
            theta: np.ndarray | None) -> tuple[dict[str, Any], np.ndarray]:
    """The configuration with the largest expected improvement at the full resource.

    Returns the parameters and the fitted kernel hyperparameters (the next fit starts there).
    """
    names = list(space)
    X, y = _observations(study, space, done, rungs, max_steps)
    if len(y) > _MAX_POINTS:
        half = _MAX_POINTS // 2
        keep = np.union1d(np.argsort(y, kind="stable")[:half], np.arange(len(y) - half, len(y)))
        X, y = X[keep], y[keep]
    mu, sd = y.mean(), y.std() or 1.0
    categorical = np.array([isinstance(space[n], Choice) for n in names] + [False])
    fresh = default_params(X.shape[1])
    starts = [theta, fresh] if theta is not None and len(theta) == len(fresh) else [fresh]
    gp = fit_gp(X, (y - mu) / sd, categorical, starts, noise_rate=_NOISE_RATE)
    rng = study.sampler.rng(trial.number, "mobster")
    full = X[:, -1] >= 1.0 - 1e-9
    # The incumbent is the model's best mean at the full resource among observed
    # configurations: a single lucky report must not set the bar.
    seen = np.column_stack([X[:, :-1], np.ones(len(X))])
    best = float(_at_full(gp, seen[full] if full.any() else seen)[0].min())
    top = X[np.argsort(y)[:8], :-1]
    local = top[rng.integers(len(top), size=_N_LOCAL)] + rng.normal(
        0.0, 0.05, size=(_N_LOCAL, len(names)))
    cand = _snap(space, np.vstack([rng.random((_N_UNIFORM, len(names))), local]))
    running = _running(study, trial, space)
    if len(running):
        # Kriging believer: running trials count at their predicted value, so parallel
        # workers are not all sent to the same point.
        believed = _at_full(gp, running)[0]
        gp = gp.condition_on(np.column_stack([running, np.ones(len(running))]), believed)
    mean, var = _at_full(gp, cand)
    score = _log_ei(mean, np.sqrt(var), best)
    # A configuration already tried would be a repeat (which the study answers from its
    # record): the noise term keeps its expected improvement positive, so rule it out.
    taken = np.vstack([X[:, :-1], running])
    near = (np.abs(cand[:, None, :] - taken[None, :, :]).max(axis=2) < 1e-6).any(axis=1)
    score[near] = -np.inf
    u = cand[int(np.argmax(score))]
    return {n: space[n].from_unit(float(v)) for n, v in zip(names, u)}, gp.phi


def _at_full(gp: GaussianProcess, configs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The posterior mean and variance at the full resource, for configurations (unit cube)
    without the resource column (or, for observed rows, with it already set to 1)."""
    if configs.shape[1] < gp.X.shape[1]:
        configs = np.column_stack([configs, np.ones(len(configs))])
    mean, var = gp.predict(configs)
    return mean, np.maximum(var, 1e-18)


def _snap(space: Mapping[str, Distribution], U: np.ndarray) -> np.ndarray:
    """Candidates clipped to the cube, each discrete column on one of its values."""
    U = np.clip(U, 0.0, 1.0)
    for j, dist in enumerate(space.values()):
        if dist.n_levels:
            U[:, j] = dist.snap_unit(U[:, j])
    return U


def _observations(study: Study, space: Mapping[str, Distribution], done: Sequence[Trial],
                  rungs: Sequence[int], max_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """One row per (trial, rung reached) plus one at each trial's last report; the resource
    column is ``log(r) / log(max_steps)``."""
    rows, ys = [], []
    scale = math.log(max_steps) if max_steps > 1 else 1.0
    for t in done:
        x = [space[n].to_unit(t.params[n]) for n in space]
        last = max(t.intermediate) + 1
        for r in [r for r in rungs if r < last] + [last]:
            loss = curve_value(study, t, r)
            if math.isfinite(loss):
                rows.append(x + [math.log(r) / scale if max_steps > 1 else 1.0])
                ys.append(loss)
    return np.array(rows, dtype=float), np.array(ys, dtype=float)


def _running(study: Study, trial: Trial, space: Mapping[str, Distribution]) -> np.ndarray:
    rows = [[space[n].to_unit(t.params[n]) for n in space] for t in study.trials
            if t.state is TrialState.RUNNING and t is not trial
            and all(n in t.params for n in space)]
    return np.array(rows, dtype=float).reshape(len(rows), len(space))


def _log_ei(mean: np.ndarray, sd: np.ndarray, best: float) -> np.ndarray:
    """Log expected improvement below ``best`` (a ranking, so stable far in the tail)."""
    z = (best - mean) / sd
    ei = sd * (z * ndtr(z) + np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi))
    tail = np.log(sd) + log_ndtr(z) - np.log(np.maximum(-z, 1.0))
    return np.where(ei > 1e-300, np.log(np.maximum(ei, 1e-300)), tail)
