"""Model-based asynchronous successive halving (MOBSTER; Klein et al., 2020) with promotions
that only prune where the curves seen so far say pruning pays."""

from __future__ import annotations

import bisect
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import TuneError
from ..trial import TrialState
from ._base import CONTINUE, STOP, Scheduler
from ._rungs import Rungs, check_halving, curve_value

if TYPE_CHECKING:
    from ..study._study import Study
    from ..trial import Trial

__all__ = ["MOBSTERScheduler"]


class MOBSTERScheduler(Scheduler):
    """A Gaussian process over (configuration, resource) proposes new trials; asynchronous
    successive halving on smoothed curves stops them, but only at rungs the data trust.

    **Proposals.** Every trial contributes one observation per rung it reached and one at its
    last report: its smoothed loss there (:func:`curve_value`), with the resource as an extra
    input on a log scale. A GP (Matérn 5/2, one length scale per input) is fitted to them and
    expected improvement is maximised at the full resource, so short trials inform where long
    ones should go. Until ``n_startup_trials`` trials have finished, and while no trial has
    been stopped, the study's sampler proposes: pair it with ``sampler="gp"``.

    **Promotions.** Rungs sit at ``min_resource * reduction_factor**k``. A trial reaching a
    rung goes on if fewer than ``max(1, n // reduction_factor)`` of the ``n`` trials there
    beat it by more than one noise standard error (the epoch-to-epoch jitter of the curves,
    shrunk by the number of reports the smoothed value averages).

    **Grace period from the data.** Early epochs can mislead (curves cross), so a rung prunes
    only when the curves trained to the end agree with it: at least ``n_calibration`` of them,
    a Spearman correlation of at least ``min_correlation`` between the smoothed loss at the rung
    and at the end, and the best final trial inside the rung's top ``1/reduction_factor``. The
    first trials therefore train fully, and where no rung qualifies nothing is pruned: the
    scheduler is then Bayesian optimisation with full training. Which rungs prune is
    re-decided whenever a trial finishes (``trusted_rungs``).

    Parameters
    ----------
    max_steps : int
        The full resource (epochs).
    reduction_factor : int
        ``eta``: one trial in ``eta`` goes on at a trusted rung.
    min_resource : int
        Resource of the lowest candidate rung.
    n_calibration : int
        Trials trained to the end before any rung may prune.
    min_correlation : float
        Rank correlation a rung needs with the final values to prune.
    n_startup_trials : int, optional
        Finished trials before the model proposes (default ``max(5, parameters + 2)``).

    Examples
    --------
    >>> MOBSTERScheduler(max_steps=27).rungs
    [1, 3, 9]
    """

    name = "mobster"

    def __init__(self, max_steps: int | None = None, reduction_factor: int = 3,
                 min_resource: int = 1, n_calibration: int = 5, min_correlation: float = 0.6,
                 n_startup_trials: int | None = None) -> None:
        check_halving("MOBSTERScheduler", reduction_factor, min_resource)
        if int(n_calibration) != n_calibration or n_calibration < 2:
            raise TuneError(f"MOBSTERScheduler needs n_calibration >= 2 (trials trained fully "
                            f"before pruning), got {n_calibration!r}.")
        if not -1 <= min_correlation <= 1:
            raise TuneError(f"MOBSTERScheduler needs -1 <= min_correlation <= 1, got "
                            f"{min_correlation!r}; 0.6 is the default.")
        if n_startup_trials is not None and (int(n_startup_trials) != n_startup_trials
                                             or n_startup_trials < 2):
            raise TuneError(f"MOBSTERScheduler needs n_startup_trials >= 2, got "
                            f"{n_startup_trials!r}.")
        super().__init__(max_steps)
        self.reduction_factor = int(reduction_factor)
        self.min_resource = int(min_resource)
        self.n_calibration = int(n_calibration)
        self.min_correlation = float(min_correlation)
        self.n_startup_trials = n_startup_trials
        #: Rung resources that prune now (re-decided when a trial finishes).
        self.trusted_rungs: list[int] = []
        self._rungs: Rungs | None = None
        self._next: dict[int, int] = {}     # trial number -> index of its next rung
        self._noise = 0.0
        self._phi: np.ndarray | None = None
        self._synced = False

    def check(self) -> None:
        if self.max_steps is None:
            raise TuneError("MOBSTERScheduler needs max_steps, the full resource of a trial "
                            "(e.g. the number of epochs): pass max_steps=27 (--max-steps 27).")
        super().check()
        if self.max_steps < self.min_resource:
            raise TuneError(f"MOBSTERScheduler needs max_steps >= min_resource "
                            f"({self.min_resource}), got {self.max_steps!r}.")

    @property
    def rungs(self) -> list[int]:
        """The candidate rung resources (below ``max_steps``)."""
        self.check()
        return Rungs(self.min_resource, self.reduction_factor, self.max_steps).resources

    # -- promotions ------------------------------------------------------------------------
    def _sync(self, study: Study) -> None:
        # Built at first use (a Study sets max_steps after building its scheduler); a
        # continued study's finished trials are put on the rungs and calibrate, once.
        if self._synced:
            return
        self.check()
        self._synced = True
        self._rungs = Rungs(self.min_resource, self.reduction_factor, self.max_steps)
        for t in study.trials:
            if t.state.finished:
                for k, r in enumerate(self._rungs.resources):
                    if t.intermediate and max(t.intermediate) + 1 >= r:
                        bisect.insort(self._rungs.losses[k], curve_value(study, t, r))
        self._calibrate(study)

    def on_report(self, study: Study, trial: Trial, step: int, value: float) -> str:
        self._sync(study)
        rungs = self._rungs
        k = self._next.get(trial.number, 0)
        resource = step + 1
        while k < len(rungs.resources) and resource >= rungs.resources[k]:
            r = rungs.resources[k]
            loss = curve_value(study, trial, r)
            losses = rungs.losses[k]
            bisect.insort(losses, loss)
            k += 1
            if r in self.trusted_rungs:
                window = sum(1 for s in trial.intermediate if r // 2 < s + 1 <= r)
                margin = self._noise / math.sqrt(max(1, window))
                beaten_by = bisect.bisect_left(losses, loss - margin)
                if beaten_by >= max(1, len(losses) // self.reduction_factor):
                    self._next.pop(trial.number, None)
                    return STOP
        self._next[trial.number] = k
        return CONTINUE

    def on_trial_finished(self, study: Study, trial: Trial) -> None:
        self._next.pop(trial.number, None)
        if trial.intermediate and max(trial.intermediate) + 1 >= self.max_steps:
            self._calibrate(study)

    def _calibrate(self, study: Study) -> None:
        """Decide which rungs prune, from the trials trained to the end."""
        full = [t for t in study.trials if t.state is TrialState.COMPLETE and t.intermediate
                and max(t.intermediate) + 1 >= self.max_steps]
        self.trusted_rungs = []
        if len(full) < self.n_calibration:
            return
        final = np.array([curve_value(study, t, self.max_steps) for t in full])
        jitter = [np.abs(np.diff([t.intermediate[s] for s in sorted(t.intermediate)
                                  if 2 * (s + 1) > self.max_steps])) for t in full]
        jitter = np.concatenate(jitter) if jitter else np.zeros(0)
        # Median absolute change between epochs, as a standard deviation of one report.
        self._noise = float(np.median(jitter) / (0.6745 * math.sqrt(2))) if len(jitter) else 0.0
        best = int(np.argmin(final))
        top = max(1, -(-len(full) // self.reduction_factor))
        for r in self._rungs.resources:
            at_r = np.array([curve_value(study, t, r) for t in full])
            if not (np.isfinite(at_r).all() and np.isfinite(final).all()):
                continue
            kept = np.argsort(at_r, kind="stable")[:top]
            if best in kept and _spearman(at_r, final) >= self.min_correlation:
                self.trusted_rungs.append(r)

    # -- proposals -------------------------------------------------------------------------
    def on_trial_start(self, study: Study, trial: Trial) -> dict[str, Any] | None:
        self._sync(study)
        space = study.search_space()
        names = list(space)
        if not names:
            return None
        done = [t for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)
                and t.intermediate and all(n in t.params for n in names)]
        need = self.n_startup_trials or max(5, len(names) + 2)
        # While every trial has trained fully, the study's sampler (with sampler="gp", the
        # better single-fidelity model) proposes: the multi-fidelity model only adds the
        # evidence of stopped trials, and the sampler would take those as final.
        if len(done) < need or not any(t.state is TrialState.PRUNED for t in done):
            return None
        from ._mobster_model import propose

        point, self._phi = propose(study, trial, space, done, self._rungs.resources,
                                   self.max_steps, self._phi)
        if point is not None:
            trial.user_attrs["model"] = "mobster"
        return point

    def __repr__(self) -> str:
        return (f"MOBSTERScheduler(max_steps={self.max_steps}, "
                f"reduction_factor={self.reduction_factor}, min_resource={self.min_resource}, "
                f"n_calibration={self.n_calibration}, min_correlation={self.min_correlation})")


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra = np.argsort(np.argsort(a, kind="stable"), kind="stable").astype(float)
    rb = np.argsort(np.argsort(b, kind="stable"), kind="stable").astype(float)
    ra -= ra.mean()
    rb -= rb.mean()
    den = math.sqrt(float(ra @ ra) * float(rb @ rb))
    return float(ra @ rb) / den if den > 0 else 0.0
