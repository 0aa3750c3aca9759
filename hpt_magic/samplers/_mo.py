"""What the model-based samplers learn from a study with several objectives or constraints.

A trial of such a study is a loss *vector* and a constraint violation, not one loss:

- TPE ranks its observations by constraint domination and non-dominated sorting
  (:func:`rank_order`; infeasible trials are always "bad", least violation first, as in c-TPE
  and Optuna's constrained MOTPE), then splits good from bad as usual;
- the GP fits one random Chebyshev scalarisation per trial (ParEGO, Knowles 2006:
  :func:`scalarized`), where an infeasible trial scores worse than every feasible one.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .._pareto import nsga_order
from ..distributions import Distribution
from ..trial import Trial, TrialState
from ._base import observations

if TYPE_CHECKING:
    from ..study._study import Study

__all__ = ["vector_losses", "loss_record", "rank_order", "staged_order", "scalarized",
           "losses_matrix"]

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


def common_step(study: Study, trials: list[Trial], n_min: int) -> tuple[
        list[int], np.ndarray, np.ndarray, list[dict[int, tuple[float, ...]]]] | None:
    """Where :func:`staged_order` compares ``trials``: the indices of those that reached the
    common step, their loss vectors and constraint violations there, and every trial's
    curve of loss vectors; ``None`` when no trial was pruned."""
    if not any(t.state is TrialState.PRUNED for t in trials):
        return None
    scoring = study.scoring
    curves = [_curves(scoring, t) for t in trials]
    complete = [i for i, t in enumerate(trials) if t.state is TrialState.COMPLETE]
    if len(complete) >= n_min:
        head = complete
        rows = [loss_record(study, trials[i]) for i in head]
        L = np.array([r[1:] for r in rows], dtype=float)
        V = np.array([r[0] for r in rows], dtype=float)
    else:
        reached = Counter(s for c in curves for s in c)
        steps = [s for s in sorted(reached, reverse=True) if reached[s] >= n_min]
        reached_to = steps[0] if steps else min(reached, default=-1)
        head = [i for i, c in enumerate(curves) if reached_to in c]
        L = np.array([curves[i][reached_to] for i in head], dtype=float).reshape(len(head), -1)
        # A finished trial that breaks a constraint is known to: bad at every step.
        V = np.array([_violation(study, trials[i]) for i in head], dtype=float)
    return head, L, V, curves


def staged_order(study: Study, trials: list[Trial], n_min: int) -> np.ndarray | None:
    """Rows of ``trials`` (finished) best first, compared where they can be: at a common step.

    Early stopping cuts curves short, and a cut curve's last point is no final result: beside
    finished trials a small model cut at a poor first accuracy looks like a trade-off nobody
    beats. So, as BOHB fits its model at the largest budget with enough observations, the
    trials are ranked by their reports at the furthest step ``r`` that at least ``n_min`` of
    them reached (at their final values when ``n_min`` trials completed): those by constraint
    domination and non-dominated sorting there, then the trials stopped before ``r`` (the
    furthest-trained first, each group sorted at its last step), as the scheduler judged them.
    ``None`` when no trial was pruned (the final values say everything).
    """
    staged = common_step(study, trials, n_min)
    if staged is None:
        return None
    head, L, V, curves = staged
    order = [np.asarray(head, dtype=int)[nsga_order(L, V)] if head else np.empty(0, int)]
    taken = set(head)
    rest = [i for i in range(len(trials)) if i not in taken]
    by_depth: dict[int, list[int]] = {}
    for i in rest:
        by_depth.setdefault(max(curves[i], default=-1), []).append(i)
    for depth in sorted(by_depth, reverse=True):
        group = by_depth[depth]
        if depth < 0:  # finished trials that reported no curve: by their final values
            rows = [loss_record(study, trials[i]) for i in group]
            L, V = np.array([r[1:] for r in rows]), np.array([r[0] for r in rows])
        else:
            L, V = np.array([curves[i][depth] for i in group]), np.zeros(len(group))
        order.append(np.asarray(group, dtype=int)[nsga_order(L.reshape(len(group), -1), V)])
    return np.concatenate(order).astype(int)


def _violation(study: Study, trial: Trial) -> float:
    record = loss_record(study, trial) if trial.state is TrialState.COMPLETE else None
    return record[0] if record is not None else 0.0


def _curves(scoring: Any, trial: Trial) -> dict[int, tuple[float, ...]]:
    """A trial's reports as loss vectors by step (the steps where every objective is a
    finite number)."""
    first = trial.intermediate
    others = [trial.intermediate_metrics.get(n, {}) for n in scoring.names[1:]]
    out = {}
    for step, value in first.items():
        raw = [value, *(o.get(step) for o in others)]
        if all(v is not None and math.isfinite(v) for v in raw):
            out[step] = tuple(d.sign * float(v) for d, v in zip(scoring.directions, raw))
    return out


def losses_matrix(study: Study, trials: list[Trial]) -> tuple[np.ndarray, np.ndarray]:
    """The loss vectors and violations of ``trials`` (rows without a usable record are nan)."""
    k = len(study.scoring.names)
    L, V = np.full((len(trials), k), np.nan), np.zeros(len(trials))
    for i, t in enumerate(trials):
        record = loss_record(study, t)
        if record is not None:
            V[i], L[i] = record[0], record[1:]
    return L, V


def scalarized(study: Study, space: Mapping[str, Distribution], rng: np.random.Generator,
               n_min: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` for a single-objective model: each trial's losses, scaled to [0, 1] per
    objective, through an augmented Chebyshev function with weights drawn from ``rng``
    (uniform on the simplex); infeasible trials above every feasible one, by violation.

    With several objectives and pruned trials, the losses are those at the common step of
    :func:`common_step` (``n_min`` trials reached it); a trial stopped before it scores as
    the worst feasible one there."""
    X, _, used = observations(study, space)
    L, V = losses_matrix(study, used)
    late = np.zeros(len(used), dtype=bool)
    multi = getattr(study, "is_multi_objective", False)
    staged = common_step(study, used, n_min) if multi else None
    if staged is not None and staged[0]:
        head, L_head, V_head, _ = staged
        late[:] = True
        late[head] = False
        L[head], V[head] = L_head, V_head
        L[late], V[late] = 0.0, 0.0  # scored below, after the scaling
    ok = ~np.isnan(L).any(axis=1)
    X, L, V, late = X[ok], L[ok], V[ok], late[ok]
    if not len(L):
        return X, np.empty(0)
    if late.all():  # what reached the common step left the space: no common ground
        return X[:0], np.empty(0)
    if late.any():
        L[late] = L[~late].max(axis=0)
    lo, hi = L.min(axis=0), L.max(axis=0)
    scaled = (L - lo) / np.where(hi > lo, hi - lo, 1.0)
    w = rng.dirichlet(np.ones(L.shape[1]))
    y = (scaled * w).max(axis=1) + _RHO * (scaled * w).sum(axis=1)
    bad = V > 0
    if bad.any():
        top = y[~bad].max() if (~bad).any() else 0.0
        y[bad] = top + 1.0 + V[bad] / V[bad].max()
    return X, y
