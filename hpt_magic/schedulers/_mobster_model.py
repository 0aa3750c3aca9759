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

from .._encoding import Encoding
from .._gp_model import GaussianProcess, default_params, fit_gp
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
            phi: np.ndarray | None) -> tuple[dict[str, Any] | None, np.ndarray]:
    """The configuration with the largest expected improvement at the full resource.

    Returns the parameters (``None`` when every candidate was tried already: the study's
    sampler proposes then) and the fitted log-hyperparameters (``GaussianProcess.phi``; the
    next fit starts there).
    """
    encoding = Encoding(space)
    configs, X, y = _observations(study, space, done, rungs, max_steps)
    if len(y) > _MAX_POINTS:
        half = _MAX_POINTS // 2
        keep = np.union1d(np.argsort(y, kind="stable")[:half], np.arange(len(y) - half, len(y)))
        X, y = X[keep], y[keep]
    mu, sd = y.mean(), y.std() or 1.0
    categorical = np.append(encoding.categorical, False)  # the resource is continuous
    fresh = default_params(X.shape[1])
    starts = [phi, fresh] if phi is not None and len(phi) == len(fresh) else [fresh]
    gp = fit_gp(X, (y - mu) / sd, categorical, starts, noise_rate=_NOISE_RATE)
    rng = study.sampler.rng(trial.number, "mobster")
    full = X[:, -1] >= 1.0 - 1e-9
    # The incumbent is the model's best mean at the full resource among observed
    # configurations: a single lucky report must not set the bar.
    best = float(_at_full(gp, X[full, :-1] if full.any() else X[:, :-1])[0].min())
    top = X[np.argsort(y)[:8], :-1]
    local = top[rng.integers(len(top), size=_N_LOCAL)] + rng.normal(
        0.0, 0.05, size=(_N_LOCAL, encoding.dim))
    cand = encoding.round(np.vstack([rng.random((_N_UNIFORM, encoding.dim)), local]))
    running = _running(study, trial, space)
    if len(running):
        # Kriging believer: running trials count at their predicted value, so parallel
        # workers are not all sent to the same point.
        believed = _at_full(gp, running)[0]
        gp = gp.condition_on(np.column_stack([running, np.ones(len(running))]), believed)
    mean, var = _at_full(gp, cand)
    score = _log_ei(mean, np.sqrt(var), best)
    # A configuration tried already would waste a trial (a complete one is answered from the
    # record, a stopped one trains again), and its expected improvement stays positive (its
    # variance at the full resource never reaches zero), so rule it out: every trial counts,
    # also those left out of the fit above.
    taken = np.vstack([configs, running])
    near = (np.abs(cand[:, None, :] - taken[None, :, :]).max(axis=2) < 1e-6).any(axis=1)
    if near.all():
        return None, gp.phi
    score[near] = -np.inf
    u = cand[int(np.argmax(score))]
    return encoding.decode(u), gp.phi


def _at_full(gp: GaussianProcess, configs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The posterior mean and variance at the full resource of configurations (unit cube,
    without the resource column)."""
    return gp.predict(np.column_stack([configs, np.ones(len(configs))]))


def _units(space: Mapping[str, Distribution], trials: Sequence[Trial]) -> np.ndarray:
    """The trials' configurations in the unit cube, one row each."""
    rows = [[space[n].to_unit(t.params[n]) for n in space] for t in trials]
    return np.array(rows, dtype=float).reshape(len(rows), len(space))


def _observations(study: Study, space: Mapping[str, Distribution], done: Sequence[Trial],
                  rungs: Sequence[int], max_steps: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each trial's configuration in the unit cube (one row per trial), and the GP's data:
    one row per (trial, rung reached) plus one at each trial's last report, the resource
    column ``log(r) / log(max_steps)``, with its loss."""
    configs, rows, ys = [], [], []
    scale = math.log(max_steps) if max_steps > 1 else 1.0
    for t in done:
        x = [space[n].to_unit(t.params[n]) for n in space]
        configs.append(x)
        last = max(t.intermediate) + 1
        for r in [r for r in rungs if r < last] + [last]:
            loss = curve_value(study, t, r)
            if math.isfinite(loss):
                rows.append(x + [math.log(r) / scale if max_steps > 1 else 1.0])
                ys.append(loss)
    return (np.array(configs, dtype=float).reshape(len(configs), len(space)),
            np.array(rows, dtype=float), np.array(ys, dtype=float))


def _running(study: Study, trial: Trial, space: Mapping[str, Distribution]) -> np.ndarray:
    return _units(space, [t for t in study.trials
                          if t.state is TrialState.RUNNING and t is not trial
                          and all(n in t.params for n in space)])


def _log_ei(mean: np.ndarray, sd: np.ndarray, best: float) -> np.ndarray:
    """Log expected improvement below ``best`` (a ranking, so stable far in the tail)."""
    z = (best - mean) / sd
    ei = sd * (z * ndtr(z) + np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi))
    tail = np.log(sd) + log_ndtr(z) - np.log(np.maximum(-z, 1.0))
    return np.where(ei > 1e-300, np.log(np.maximum(ei, 1e-300)), tail)
