"""Population-based training (Jaderberg et al., 2017), run one trial at a time."""

from __future__ import annotations

import os
import pickle
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import cloudpickle
import numpy as np

from ..distributions import Choice, Distribution
from ..exceptions import TuneError
from ..trial import TrialState
from ._base import CONTINUE, PAUSE, Scheduler

if TYPE_CHECKING:
    from ..study._study import Study
    from ..trial import Trial

__all__ = ["PBTScheduler"]


class _Member(NamedTuple):
    loss: float
    number: int
    params: dict[str, Any]
    distributions: dict[str, Distribution]


class PBTScheduler(Scheduler):
    """Population-based training: the worst members restart from the best ones, perturbed.

    Training is cut into rounds of ``interval`` steps. At the end of round ``r`` a trial is
    ranked among the last ``population_size`` trials that reached round ``r`` (the current
    population). In the bottom ``quantile`` it is paused: it ends, pruned, with its curve. The
    next trial that starts replaces it (exploit and explore): it takes a top-``quantile``
    member's checkpoint of round ``r`` and that member's hyperparameters, each multiplied by
    one of ``perturb`` (a choice moves to a neighbouring option) or, with
    ``resample_probability``, drawn afresh. It records ``trial.user_attrs["parent"]`` (the
    lineage) and ``resume_step``, so ``tune.steps(n)`` continues after the checkpoint and
    ``tune.restore(default)`` returns it. Trials started when nobody waits for a replacement
    are new members from the study's sampler. Run it with ``n_trials`` larger than the
    population: each replacement is one more trial, trained only from its checkpoint on.

    Checkpoints are what ``tune.report(value, checkpoint=obj)`` passed at a round's last step.
    They are pickled at once (the object may be trained further in place) and kept in memory,
    or as files in ``checkpoint_dir``; only those of the current populations are kept. Without
    checkpoints a replacement trains from scratch with the perturbed hyperparameters.

    Parameters
    ----------
    population_size : int
        Trials a round ranks a member against (itself included).
    interval : int
        Steps per round.
    quantile : float
        Share of the population that is replaced, and that is copied (below 0.5).
    perturb : pair of floats
        Factors for numeric hyperparameters.
    resample_probability : float
        Chance that a hyperparameter is drawn afresh instead of perturbed.
    checkpoint_dir : str or path, optional
        Keep checkpoints as pickle files there instead of in memory.
    mutate : sequence of str, optional
        The hyperparameters that explore changes (default: all). Others, e.g. a layer size
        that a checkpoint fixes, are copied from the parent as they are.
    max_steps : int, optional
        The full resource; no member is paused at its last step.
    """

    name = "pbt"

    def __init__(self, population_size: int = 8, interval: int = 5, quantile: float = 0.25,
                 perturb: tuple[float, float] = (0.8, 1.2), resample_probability: float = 0.25,
                 checkpoint_dir: str | os.PathLike | None = None,
                 mutate: Sequence[str] | None = None, max_steps: int | None = None) -> None:
        if int(population_size) != population_size or population_size < 2:
            raise TuneError(f"PBTScheduler needs population_size >= 2, got {population_size!r}.")
        if int(interval) != interval or interval < 1:
            raise TuneError(f"PBTScheduler needs interval >= 1 (steps per round), got "
                            f"{interval!r}.")
        if not 0 < quantile < 0.5:
            raise TuneError(f"PBTScheduler needs 0 < quantile < 0.5, got {quantile!r}: the "
                            "bottom and top quantiles must not overlap.")
        if len(perturb) < 1 or not all(f > 0 for f in perturb):
            raise TuneError(f"PBTScheduler needs positive perturb factors, got {perturb!r}.")
        if not 0 <= resample_probability <= 1:
            raise TuneError(f"PBTScheduler needs 0 <= resample_probability <= 1, got "
                            f"{resample_probability!r}.")
        super().__init__(max_steps)
        self.population_size = int(population_size)
        self.interval = int(interval)
        self.quantile = float(quantile)
        self.perturb = tuple(float(f) for f in perturb)
        self.resample_probability = float(resample_probability)
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.mutate = None if mutate is None else [mutate] if isinstance(mutate, str) \
            else list(mutate)
        self._rounds: dict[int, list[_Member]] = {}  # round -> population, oldest first
        self._saved: dict[tuple[int, int], bytes | Path] = {}  # (trial, round) -> checkpoint
        self._paused: deque[tuple[int, int]] = deque()  # (trial, round) waiting for a child
        self._replayed = False

    def _round(self, step: int) -> int | None:
        """The round that ends with report ``step``, or ``None`` (mid-round, or the last step)."""
        done = step + 1
        if done % self.interval or (self.max_steps is not None and done >= self.max_steps):
            return None
        return done // self.interval

    def on_report(self, study: Study, trial: Trial, step: int, value: float) -> str:
        self._replay(study)
        rnd = self._round(step)
        if rnd is None:
            return CONTINUE
        if trial.checkpoint is not None:
            self._save(trial.number, rnd, trial.checkpoint)
        if self._join(study, trial, rnd, value):
            self._paused.append((trial.number, rnd))
            return PAUSE
        return CONTINUE

    def _join(self, study: Study, trial: Trial, rnd: int, value: float) -> bool:
        """Put ``trial`` in the population of round ``rnd``; whether it is in the bottom
        quantile there (to be paused and replaced)."""
        me = _Member(study.direction.to_loss(value), trial.number, dict(trial.params),
                     dict(trial.distributions))
        population = self._rounds.setdefault(rnd, [])
        population.append(me)
        if len(population) > self.population_size:
            self._forget(population.pop(0).number, rnd)
        n = len(population)
        k = int(self.quantile * n)
        return bool(k) and sum(m.loss < me.loss for m in population) >= n - k

    def _replay(self, study: Study) -> None:
        """Rebuild the populations and the paused trials of a continued study, once.

        The finished trials join their rounds in the order they were numbered (the order a
        sequential run reported in). A trial that ended pruned at the end of a round and that
        no later trial replaces waits for its child; checkpoints come back from
        ``checkpoint_dir`` where they were written there (in memory they are gone with the
        kernel, and a child then trains from scratch).
        """
        if self._replayed:
            return
        self._replayed = True
        replaced = {t.user_attrs.get("replaces") for t in study.trials}
        for t in study.trials:
            if not t.state.finished:
                continue
            rnd = None
            for step in sorted(t.intermediate):
                rnd = self._round(step)
                if rnd is None:
                    continue
                path = None if self.checkpoint_dir is None else self._path(t.number, rnd)
                if path is not None and path.exists():
                    self._saved[(t.number, rnd)] = path
                self._join(study, t, rnd, t.intermediate[step])
            last = max(t.intermediate, default=None)
            # Paused by this scheduler (not pruned by the objective), and not replaced yet.
            if (t.state is TrialState.PRUNED and t.user_attrs.get("decision") == "pause"
                    and t.number not in replaced and last is not None
                    and self._round(last) is not None):
                self._paused.append((t.number, self._round(last)))

    def on_trial_start(self, study: Study, trial: Trial) -> dict[str, Any] | None:
        self._replay(study)
        while self._paused:
            number, rnd = self._paused.popleft()
            ranked = sorted(self._rounds.get(rnd, []), key=lambda m: m.loss)
            top = [m for m in ranked[:max(1, int(self.quantile * len(ranked)))]
                   if m.number != number]
            if top:
                break
        else:
            return None
        rng = study.sampler.rng(trial.number, "pbt")
        parent = top[int(rng.integers(len(top)))]
        trial.user_attrs["parent"] = parent.number
        trial.user_attrs["replaces"] = number
        saved = self._saved.get((parent.number, rnd))
        if saved is not None:
            trial.checkpoint = pickle.loads(saved if isinstance(saved, bytes)
                                            else saved.read_bytes())
            trial.user_attrs["resume_step"] = rnd * self.interval
            if self.max_steps is not None:
                # For the boosting callbacks: xgb.train(xgb_model=...) and lgb.train(
                # init_model=...) train num_boost_round rounds more than the checkpoint's.
                trial.user_attrs["max_steps"] = self.max_steps
        return self._explore(parent, rng)

    def _explore(self, parent: _Member, rng: np.random.Generator) -> dict[str, Any]:
        out = {}
        for name, value in parent.params.items():
            dist = parent.distributions.get(name)
            if dist is None or (self.mutate is not None and name not in self.mutate):
                out[name] = value
            elif rng.random() < self.resample_probability:
                out[name] = dist.sample(rng)
            elif isinstance(dist, Choice):
                i = dist.index(value) + int(rng.choice((-1, 1)))
                out[name] = dist.options[min(len(dist.options) - 1, max(0, i))]
            else:
                out[name] = dist.clip(value * self.perturb[int(rng.integers(len(self.perturb)))])
        return out

    def _save(self, number: int, rnd: int, checkpoint: Any) -> None:
        data = cloudpickle.dumps(checkpoint)
        if self.checkpoint_dir is None:
            self._saved[(number, rnd)] = data
            return
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        path = self._path(number, rnd)
        path.write_bytes(data)
        self._saved[(number, rnd)] = path

    def _path(self, number: int, rnd: int) -> Path:
        assert self.checkpoint_dir is not None
        return self.checkpoint_dir / f"trial{number}-round{rnd}.pkl"

    def _forget(self, number: int, rnd: int) -> None:
        saved = self._saved.pop((number, rnd), None)
        if isinstance(saved, Path):
            saved.unlink(missing_ok=True)

    def __repr__(self) -> str:
        return (f"PBTScheduler(population_size={self.population_size}, "
                f"interval={self.interval}, quantile={self.quantile}, perturb={self.perturb}, "
                f"resample_probability={self.resample_probability}, "
                f"max_steps={self.max_steps})")
