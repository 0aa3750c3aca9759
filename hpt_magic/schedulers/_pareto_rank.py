"""Early stopping with several objectives: rank the curves at a rung by non-dominated sorting.

The rule (as MO-ASHA, Schmucker et al. 2021, with NSGA-II's ranking): where a one-objective
scheduler compares one loss per trial, a multi-objective study compares loss *vectors* (each
objective's smoothed curve at that resource, see :func:`~hpt_magic.schedulers._rungs.
curve_value`), ordered by non-dominated front and, within a front, by crowding distance
(lonely points first, so the promoted trials spread along the front). ASHA and Hyperband
promote a trial when it is in the best ``1/eta`` of its rung by that order or on the rung's
Pareto front, the front capped at the best half of the rung (a quota of ``max(1, n // eta,
min(front, n // 2))`` in that order); the median rule stops a trial in the worse half of the
complete trials' curves at the same step.

Why the front climbs: with one objective a rung needs one winner; with several, the result
is the front, and a trial on a rung's front is beaten by no other trial there in every
objective, so cutting it to fill a quota of ``1/eta`` cuts a trade-off nobody else offers.
Without this rule few trials finish and the final front is thin (the MLP benchmark in
``benchmarks/multiobjective.py``, median of 10 seeds, hypervolume at half the epochs:
ASHA 1.390 without the rule, 1.396 with it; Hyperband 1.378 and 1.396). The cap keeps
pruning alive when most of a rung is non-dominated (three or more noisy objectives).
Constraints are not judged while a trial runs: their metrics are known at its end only.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

from .._pareto import nsga_order, nsga_ranking
from ..trial import TrialState

if TYPE_CHECKING:
    from ..study._study import Study
    from ..trial import Trial

__all__ = ["MULTI_OBJECTIVE_SCHEDULERS", "curve_losses", "climb", "in_worse_half"]

#: The schedulers that know the rule above; others refuse a multi-objective study.
MULTI_OBJECTIVE_SCHEDULERS = ("asha", "hyperband", "median")


def curve_losses(study: Study, trial: Trial, resource: int,
                 curve: Callable[[Any, Any, int], float]) -> tuple[float, ...]:
    """Each objective's loss after ``resource`` units, read off its curve by ``curve`` (the
    one-objective estimate); an objective the trial has not reported is ``inf``."""
    out = []
    for k, (name, direction) in enumerate(zip(study.objectives, study.directions)):
        points = trial.intermediate if k == 0 else trial.intermediate_metrics.get(name, {})
        one = SimpleNamespace(direction=direction, is_multi_objective=False)
        out.append(curve(one, SimpleNamespace(intermediate=points), resource))
    return tuple(out)


def _finite(losses: list[tuple[float, ...]]) -> np.ndarray:
    """``losses`` as a matrix, an unreported objective worse than any number."""
    L = np.array(losses, dtype=float)
    L[~np.isfinite(L)] = np.finfo(float).max
    return L


def _position(losses: list[tuple[float, ...]], index: int) -> int:
    """Where row ``index`` of ``losses`` stands in the NSGA-II order (0: best)."""
    return int(np.flatnonzero(nsga_order(_finite(losses)) == index)[0])


def climb(losses: list[tuple[float, ...]], loss: tuple[float, ...], eta: int) -> bool:
    """Record ``loss`` on a rung holding ``losses``; whether it climbs on: whether it is in
    the rung's first ``max(1, n // eta, min(front, n // 2))`` by NSGA-II order, i.e. in the
    best ``1/eta`` or on the Pareto front, the front capped at the best half of the rung (the
    multi-objective form of :meth:`Rungs.climb`)."""
    losses.append(loss)
    order, fronts = nsga_ranking(_finite(losses))
    n = len(order)
    quota = max(1, n // eta, min(int(np.count_nonzero(fronts == 0)), n // 2))
    return int(np.flatnonzero(order == n - 1)[0]) < quota


def in_worse_half(study: Study, trial: Trial, step: int, n_min_trials: int,
                  curve: Callable[[Any, Any, int], float]) -> bool | None:
    """Whether ``trial`` is in the worse half at ``step`` among the complete trials that
    reached it (``None`` while fewer than ``n_min_trials`` did)."""
    done = [t for t in study.trials if t.state is TrialState.COMPLETE and step in t.intermediate]
    if len(done) < n_min_trials:
        return None
    rows = [curve_losses(study, t, step + 1, curve) for t in done]
    rows.append(curve_losses(study, trial, step + 1, curve))
    return _position(rows, len(rows) - 1) >= (len(rows) + 1) // 2
