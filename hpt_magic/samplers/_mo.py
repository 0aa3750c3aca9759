"""What the model-based samplers learn from a study with several objectives or constraints.

A trial of such a study is a loss *vector* and a constraint violation, not one loss:

- TPE ranks its observations by constraint domination and non-dominated sorting
  (:func:`rank_order`; infeasible trials are always "bad", least violation first, as in c-TPE
  and Optuna's constrained MOTPE), then splits good from bad as usual;
- the GP fits one random Chebyshev scalarisation per trial (ParEGO, Knowles 2006:
  :func:`scalarized`), where an infeasible trial scores worse than every feasible one.

With several objectives and early stopping, TPE compares the trials where their curves meet
(:func:`staged_order`), not a cut curve's last report beside finished
trials' final values.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .._pareto import nsga_order
from ..distributions import Distribution
from ..trial import Trial, TrialState
from ._base import observations

if TYPE_CHECKING:
    from ..study._study import Study

__all__ = ["vector_losses", "loss_record", "rank_order", "Curve", "curve_of", "staged_order",
           "scalarized", "losses_matrix"]

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


#: A trial's reports as loss vectors (lower is better), by step.
Curve = dict[int, tuple[float, ...]]


def curve_of(study: Study, trial: Trial) -> Curve:
    """``trial``'s reports as loss vectors by step: the steps where every objective is a
    finite number (the first objective is ``trial.intermediate``, the others its metric
    curves of the same name)."""
    scoring = study.scoring
    others = [trial.intermediate_metrics.get(n, {}) for n in scoring.names[1:]]
    out = {}
    for step, value in trial.intermediate.items():
        raw = [value, *(o.get(step) for o in others)]
        if all(v is not None and math.isfinite(v) for v in raw):
            out[step] = tuple(d.sign * float(v) for d, v in zip(scoring.directions, raw))
    return out


def staged_order(study: Study, trials: Sequence[Trial], n_min: int,
                 curves: Sequence[Curve] | None = None) -> np.ndarray | None:
    """Finished ``trials`` best first, compared where they can be: at a common step.

    Early stopping cuts curves short, and a cut curve's last point is no final result: beside
    finished trials a small model cut at a poor first accuracy looks like a trade-off nobody
    beats. So, as BOHB fits its model at the largest budget with enough observations, the
    trials are compared at their final values when ``n_min`` of them completed, else at the
    furthest step that ``n_min`` of them reached (the most-reached step when none did): those
    first, by non-dominated sorting there; then those stopped before it, the furthest-trained
    first, each group sorted at its last step (as the scheduler judged them); then every
    trial that broke a constraint, least violation first; last any trial with neither a curve
    nor usable final values. ``None`` when no trial was pruned (the final values say
    everything). ``curves`` are the trials' :func:`curve_of`, when the caller keeps them.
    """
    if not any(t.state is TrialState.PRUNED for t in trials):
        return None
    curves = [curve_of(study, t) for t in trials] if curves is None else curves
    records = [loss_record(study, t) if t.state is TrialState.COMPLETE else None
               for t in trials]
    # A finished trial that broke a constraint did so at every step.
    violation = np.array([r[0] if r is not None else 0.0 for r in records])
    head, L = _common_step(records, curves, n_min)
    order = []
    if head:
        ranked = np.asarray(head, dtype=int)[nsga_order(L, violation[head])]
        order.append(ranked[violation[ranked] <= 0])
    taken = set(head)
    unusable: list[int] = []  # no curve and no usable final values (failed, say): last
    by_depth: dict[int, list[int]] = {}
    for i in range(len(trials)):
        if i not in taken and violation[i] <= 0:
            by_depth.setdefault(max(curves[i], default=-1), []).append(i)
    for depth in sorted(by_depth, reverse=True):
        group = by_depth[depth]
        if depth < 0:  # finished trials that reported no curve: by their final values
            rows = [records[i] if trials[i].state is TrialState.COMPLETE
                    else loss_record(study, trials[i]) for i in group]
            unusable.extend(i for i, r in zip(group, rows) if r is None)
            group = [i for i, r in zip(group, rows) if r is not None]
            if not group:
                continue
            G = np.array([r[1:] for r in rows if r is not None], dtype=float)
        else:
            G = np.array([curves[i][depth] for i in group], dtype=float)
        order.append(np.asarray(group, dtype=int)[nsga_order(G.reshape(len(group), -1))])
    bad = np.flatnonzero(violation > 0)
    order.append(bad[np.argsort(violation[bad], kind="stable")])
    order.append(np.asarray(unusable, dtype=int))
    return np.concatenate(order).astype(int)


def _common_step(records: Sequence[tuple[float, ...] | None], curves: Sequence[Curve],
                 n_min: int) -> tuple[list[int], np.ndarray]:
    """The trials compared first by :func:`staged_order` and their loss vectors: the
    complete ones (``records``) at their final values when there are ``n_min``, else those
    at the furthest step that ``n_min`` curves reached (the most-reached step when none)."""
    complete = [i for i, r in enumerate(records) if r is not None]
    if len(complete) >= n_min:
        return complete, np.array([records[i][1:] for i in complete])  # type: ignore[index]
    reached = Counter(step for c in curves for step in c)
    far = [step for step in reached if reached[step] >= n_min]
    step = max(far) if far else max(reached, key=lambda s: (reached[s], s), default=None)
    head = [i for i, c in enumerate(curves) if step in c]
    return head, np.array([curves[i][step] for i in head], dtype=float)


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
    (uniform on the simplex); infeasible trials above every feasible one, by violation.

    A pruned trial counts with its last reports here: reading a multi-objective study at a
    common step, as TPE does (:func:`staged_order`), was measured for ParEGO with no clear
    gain (``benchmarks/results/multiobjective.txt``)."""
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
