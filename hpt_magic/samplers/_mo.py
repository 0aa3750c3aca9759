"""What the model-based samplers learn from a study with several objectives or constraints.

A trial of such a study is a loss *vector* and a constraint violation, not one loss:

- TPE ranks its observations by constraint domination and non-dominated sorting
  (:func:`rank_order`; infeasible trials are always "bad", least violation first, as in c-TPE
  and Optuna's constrained MOTPE), then splits good from bad as usual;
- the GP fits one random Chebyshev scalarisation per trial (ParEGO, Knowles 2006:
  :func:`scalarized`), where an infeasible trial scores worse than every feasible one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from .._pareto import nsga_order
from ..distributions import Distribution
from ..trial import Trial
from ._base import observations

if TYPE_CHECKING:
    from ..study._study import Study

__all__ = ["vector_losses", "loss_record", "rank_order", "scalarized", "losses_matrix"]

#: ParEGO's augmentation: a little of the weighted sum keeps weakly dominated points out.
_RHO = 0.05


def vector_losses(study: Study) -> bool:
    """Whether the study's trials are loss vectors (several objectives or constraints)."""
    scoring = getattr(study, "scoring", None)
    return scoring is not None and (scoring.multi or bool(scoring.constraints))


def loss_record(study: Study, trial: Trial) -> tuple[float, ...] | None:
    """``(violation, loss_1, ..., loss_k)`` of a finished trial, ``None`` when not usable."""
    losses, violation = study.scoring.losses(trial)
    return None if losses is None else (violation, *losses.tolist())


def rank_order(y: np.ndarray) -> np.ndarray:
    """Observations best first: a plain sort of losses, or, for rows of
    :func:`loss_record`, feasible trials by non-dominated sorting, then infeasible ones."""
    if y.ndim == 1:
        return np.argsort(y, kind="stable")
    return nsga_order(y[:, 1:], y[:, 0])


def losses_matrix(study: Study, trials: list[Trial]) -> tuple[np.ndarray, np.ndarray]:
    """The loss vectors and violations of ``trials`` (rows without a usable record are nan)."""
    k = len(study.scoring.names)
    L, V = np.full((len(trials), k), np.nan), np.zeros(len(trials))
    for i, t in enumerate(trials):
        record = loss_record(study, t)
        if record is not None:
            V[i], L[i] = record[0], record[1:]
    return L, V


def scalarized(study: Study, space: Mapping[str, Distribution],
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` for a single-objective model: each trial's losses, scaled to [0, 1] per
    objective, through an augmented Chebyshev function with weights drawn from ``rng``
    (uniform on the simplex); infeasible trials above every feasible one, by violation."""
    X, _, used = observations(study, space)
    L, V = losses_matrix(study, used)
    ok = ~np.isnan(L).any(axis=1)
    X, L, V = X[ok], L[ok], V[ok]
    if not len(L):
        return X, np.empty(0)
    lo, hi = L.min(axis=0), L.max(axis=0)
    scaled = (L - lo) / np.where(hi > lo, hi - lo, 1.0)
    w = rng.dirichlet(np.ones(L.shape[1]))
    y = (scaled * w).max(axis=1) + _RHO * (scaled * w).sum(axis=1)
    bad = V > 0
    if bad.any():
        top = y[~bad].max() if (~bad).any() else 0.0
        y[bad] = top + 1.0 + V[bad] / V[bad].max()
    return X, y
