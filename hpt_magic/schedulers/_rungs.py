"""Successive halving on rungs: the machinery that ASHA, Hyperband and BOHB share."""

from __future__ import annotations

import bisect
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from ..exceptions import TuneError
from ._base import CONTINUE, STOP, Scheduler
from ._pareto_rank import climb as climb_pareto
from ._pareto_rank import curve_losses

if TYPE_CHECKING:
    from ..study._study import Study
    from ..trial import Trial

__all__ = ["Rungs", "BracketScheduler", "curve_value"]


def curve_value(study: Study, trial: Trial, resource: int) -> float | tuple[float, ...]:
    """The trial's loss after ``resource`` units, read off a straight line through its reports
    in the second half of that resource (``resource // 2 < step + 1 <= resource``).

    One noisy epoch then cannot decide a promotion, and unlike a trailing mean the line does
    not lag behind a curve that is still rising steeply (the slow starters that overtake
    later). With one or two reports in the window this is the last report. With several
    objectives: one such loss per objective (see :mod:`._pareto_rank`).
    """
    if getattr(study, "is_multi_objective", False):
        return curve_losses(study, trial, resource, curve_value)
    points = [(s + 1, v) for s, v in trial.intermediate.items()
              if resource // 2 < s + 1 <= resource]
    if len(points) < 3:
        step = max((s for s in trial.intermediate if s + 1 <= resource), default=None)
        if step is None:
            return study.direction.to_loss(None)
        return study.direction.to_loss(trial.intermediate[step])
    n = len(points)
    mx = sum(r for r, _ in points) / n
    my = sum(v for _, v in points) / n
    sxx = sum((r - mx) ** 2 for r, _ in points)
    slope = sum((r - mx) * (v - my) for r, v in points) / sxx
    return study.direction.to_loss(my + slope * (resource - mx))


class Rungs:
    """The rungs of one successive-halving bracket.

    Rung ``k`` sits at ``first * eta**k`` units of resource, below ``max_steps`` (without it
    the rungs go on). A rung keeps the sorted losses of every trial that reached it; a trial
    climbs on when fewer than ``max(1, n // eta)`` of the ``n`` losses there (its own
    included) beat it. That is asynchronous successive halving (Li et al., 2020): the first
    arrivals climb while the rung fills, later ones only when they are in its best ``1/eta``.
    """

    def __init__(self, first: int, eta: int, max_steps: int | None) -> None:
        limit = max_steps if max_steps is not None else 2**62
        self.eta = eta
        self.resources: list[int] = []
        r = first
        while r < limit:
            self.resources.append(r)
            r *= eta
        self.losses: list[list[float]] = [[] for _ in self.resources]

    def climb(self, rung: int, loss: float) -> bool:
        """Record ``loss`` on ``rung``; whether the trial goes on to the next rung."""
        losses = self.losses[rung]
        if isinstance(loss, tuple):  # several objectives: non-dominated sorting
            return climb_pareto(losses, loss, self.eta)
        bisect.insort(losses, loss)
        return bisect.bisect_left(losses, loss) < max(1, len(losses) // self.eta)

    def judge(self, rung: int, resource: int, loss: float) -> tuple[bool, int]:
        """Judge a report made after ``resource`` units, when the trial's next rung is ``rung``.

        Returns whether it goes on and its next rung (several rungs are passed at once when
        reports skip rung resources).
        """
        while rung < len(self.resources) and resource >= self.resources[rung]:
            if not self.climb(rung, loss):
                return False, rung + 1
            rung += 1
        return True, rung


def check_halving(owner: str, reduction_factor: int, min_resource: int) -> None:
    """Refuse successive-halving arguments that cannot work, naming the scheduler."""
    if int(reduction_factor) != reduction_factor or reduction_factor < 2:
        raise TuneError(f"{owner} needs an integer reduction_factor >= 2, got "
                        f"{reduction_factor!r}. The usual value is 3.")
    if int(min_resource) != min_resource or min_resource < 1:
        raise TuneError(f"{owner} needs an integer min_resource >= 1 (steps), got "
                        f"{min_resource!r}.")


class BracketScheduler(Scheduler, ABC):
    """Deal trials to successive-halving brackets and judge each report on its bracket's rungs.

    Subclasses give the layout: each bracket's first rung and its share of the trials. Trials
    are dealt bracket by bracket, as the brackets of the paper run: the first bracket's share,
    then the next one's, and round again after the last (a bracket short of its share in the
    current round, say after another kernel dealt on the same study, is filled first). The
    split is deterministic and, over ``sum(shares)`` trials, exact. The bracket is recorded in
    ``trial.user_attrs["bracket"]``.

    Bracket by bracket rather than interleaved: the first trial to reach a rung has nobody to
    lose to and climbs on, so interleaving brackets from the start trains the first trial of
    every bracket fully. On a short budget that is all the budget (XGBoost, 2 000 rounds of
    trials of up to 500: four full trainings and no pruning), where dealing the brackets in
    turn is successive halving until the budget allows more.
    """

    def __init__(self, max_steps: int | None, min_resource: int, reduction_factor: int) -> None:
        check_halving(type(self).__name__, reduction_factor, min_resource)
        super().__init__(max_steps)
        self.min_resource = int(min_resource)
        self.reduction_factor = int(reduction_factor)
        self._brackets: list[Rungs] = []
        self._shares: list[int] = []
        self._counts: list[int] = []
        self._ready = False
        self._next: dict[int, tuple[int, int]] = {}  # trial number -> (bracket, next rung)

    @abstractmethod
    def _layout(self) -> list[tuple[int, int]]:
        """``(first rung resource, share of trials)`` for each bracket."""

    def check(self) -> None:
        super().check()
        if self.max_steps is not None and self.max_steps < self.min_resource:
            raise TuneError(f"{type(self).__name__} needs max_steps >= min_resource "
                            f"({self.min_resource}), got {self.max_steps!r}.")

    def _ensure(self, study: Study) -> None:
        # Built at first use: a Study sets max_steps after building its scheduler.
        if self._ready:
            return
        self.check()
        layout = self._layout()
        self._brackets = [Rungs(first, self.reduction_factor, self.max_steps)
                          for first, _ in layout]
        self._shares = [share for _, share in layout]
        self._counts = [0] * len(layout)
        self._ready = True
        self._replay(study)

    def _replay(self, study: Study) -> None:
        """Put a continued study's earlier trials on their brackets' rungs, once."""
        for t in study.trials:
            b = t.user_attrs.get("bracket")
            if (not t.state.finished or not isinstance(b, int) or not 0 <= b < len(self._counts)
                    or "repeat_of" in t.user_attrs):
                continue
            self._counts[b] += 1
            rung, rungs = 0, self._brackets[b]
            for step in sorted(t.intermediate):
                if rung < len(rungs.resources) and step + 1 >= rungs.resources[rung]:
                    _, rung = rungs.judge(rung, step + 1, curve_value(study, t, step + 1))

    def _deal(self) -> int:
        # The first bracket short of its share in the current round (the round every bracket
        # has completed is r): from scratch, bracket after bracket; after trials dealt
        # another way (another kernel on the study, an older file), the shortfall first.
        r = min(c // s for c, s in zip(self._counts, self._shares))
        return next(b for b, (c, s) in enumerate(zip(self._counts, self._shares))
                    if c < (r + 1) * s)

    def on_trial_start(self, study: Study, trial: Trial) -> dict | None:
        self._ensure(study)
        self._start(trial)
        return None

    def _start(self, trial: Trial) -> int:
        b = self._deal()
        self._counts[b] += 1
        self._next[trial.number] = (b, 0)
        trial.user_attrs["bracket"] = b
        return b

    def on_report(self, study: Study, trial: Trial, step: int, value: float) -> str:
        self._ensure(study)
        if trial.number not in self._next:
            self._start(trial)
        b, rung = self._next[trial.number]
        rungs = self._brackets[b]
        if rung >= len(rungs.resources) or step + 1 < rungs.resources[rung]:
            return CONTINUE
        # Rungs compare smoothed curves: one noisy report must not decide a promotion.
        go, rung = rungs.judge(rung, step + 1, curve_value(study, trial, step + 1))
        self._next[trial.number] = (b, rung)
        return CONTINUE if go else STOP

    def on_trial_finished(self, study: Study, trial: Trial) -> None:
        dealt = self._next.pop(trial.number, None)
        if dealt is not None and "repeat_of" in trial.user_attrs:
            # Recorded with an earlier trial's score, never run: its place in the bracket goes
            # to the next trial.
            self._counts[dealt[0]] -= 1
