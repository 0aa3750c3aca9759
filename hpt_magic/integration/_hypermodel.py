"""Hypermodels in the Keras Tuner style: ``build(hp)`` defines the space as it builds a model
(a Keras 3 model, one of :mod:`hpt_magic.nn`, or anything ``fit`` can train), a
:class:`Tuner` searches it with a study."""

from __future__ import annotations

import math
import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._format import error_line
from ..distributions import Choice
from ..exceptions import TuneError
from ..samplers import Sampler
from ..schedulers import PBTScheduler, Scheduler
from ..study._storage import Storage
from ..study._study import Study
from ..trial import Direction, Trial, TrialState
from ._hyperparameters import HyperParameters

__all__ = ["HyperParameters", "HyperModel", "Tuner"]


class HyperModel(ABC):
    """Subclass and implement :meth:`build`; override :meth:`fit` to train differently.

    Examples
    --------
    >>> class Model(HyperModel):
    ...     def build(self, hp):
    ...         return {"width": hp.Int("width", 4, 64, log=True)}
    ...     def fit(self, hp, model, penalty):
    ...         return abs(model["width"] - 24) + penalty
    >>> tuner = Tuner(Model(), objective="score", direction="minimize", max_trials=5, seed=0)
    >>> tuner.search(0.5)
    >>> tuner.get_best_models()[0]["width"] == tuner.get_best_hyperparameters()[0]["width"]
    True
    """

    def __init__(self, name: str | None = None, tunable: bool = True) -> None:
        if tunable is not True:
            raise TuneError(
                f"HyperModel: tunable={tunable!r} is not supported: the parameters build(hp) "
                "defines are searched. To search only some, pass hyperparameters=hp with "
                "tune_new_entries=False to a hpt_magic.keras_tuner tuner.")
        self.name = name

    @abstractmethod
    def build(self, hp: HyperParameters) -> Any:
        """Return a model built with hyperparameters drawn from ``hp``."""

    def fit(self, hp: HyperParameters, model: Any, *args: Any, **kwargs: Any) -> Any:
        """Train ``model``; return a score, a ``History`` or a dict of metric values.

        The default calls ``model.fit(*args, **kwargs)``.
        """
        return model.fit(*args, **kwargs)


class _BuildFunction(HyperModel):
    def __init__(self, build: Callable[[HyperParameters], Any]) -> None:
        self._build = build

    def build(self, hp: HyperParameters) -> Any:
        return self._build(hp)


_MAXIMISED = ("acc", "auc", "precision", "recall", "f1", "r2")


class Tuner:
    """Search the hyperparameters of a hypermodel with a study.

    Parameters
    ----------
    hypermodel : HyperModel or callable
        A :class:`HyperModel`, or a function ``build(hp) -> model``.
    objective : str or callable
        A metric name of the training history (``"val_loss"``, ``"val_accuracy"``...): the
        trial's score is its best epoch. Or ``objective(model, result) -> float``, where
        ``result`` is what ``fit`` returned.
    direction : {"minimize", "maximize"}, optional
        Inferred from a metric name (accuracies, AUC, F1... are maximised, the rest
        minimised); required with a callable objective.
    sampler, scheduler, max_steps, seed, storage, study_name, new
        As in :class:`~hpt_magic.Study` (``study_name`` is its ``name``): a stored study of
        that name is continued, unless ``new=True``.
    max_trials : int, optional
        Trials per :meth:`search` (``None``: until the timeout or the grid's end).
    timeout : float, optional
        Seconds per :meth:`search`.
    keep_models : int
        How many of the best trained models to keep in memory for :meth:`get_best_models`.
    executions_per_trial : int
        Models built and fitted per trial, to average out the noise of training: the trial's
        score is the mean of theirs (each in ``trial.user_attrs["execution_scores"]``), its
        kept model the best of them. Only the first reports its epochs to the scheduler.
    show : bool
        Show the live dashboard during :meth:`search` (in a notebook).
    max_consecutive_failed_trials : int
        Failed trials in a row that stop :meth:`search` with a :class:`TuneError` naming the
        last error (they mean a bug in ``build`` or ``fit``, not bad luck).

    Notes
    -----
    With Keras 3 models or those of :mod:`hpt_magic.nn` and a metric name as objective, the
    tuner reports that metric after every epoch (so a scheduler can stop poor trials early;
    under population-based training Keras weights are the checkpoints). Keras fits quietly
    (``verbose=0``) unless ``search`` says otherwise, and ``keras.backend.clear_session()``
    runs before each trial. Other models report with ``tune.report(value, step)`` in their
    ``fit``.
    """

    def __init__(
        self, hypermodel: HyperModel | Callable[[HyperParameters], Any], *,
        objective: str | Callable[[Any, Any], float] = "val_loss",
        direction: str | Direction | None = None,
        sampler: str | Sampler = "tpe", scheduler: str | Scheduler | None = None,
        max_steps: int | None = None, max_trials: int | None = 20, timeout: float | None = None,
        seed: int | None = None, storage: str | os.PathLike | Storage | None = None,
        study_name: str | None = None, new: bool = False, keep_models: int = 3,
        executions_per_trial: int = 1, show: bool = False,
        max_consecutive_failed_trials: int = 3,
    ) -> None:
        if isinstance(hypermodel, HyperModel):
            self.hypermodel = hypermodel
        elif callable(hypermodel):
            self.hypermodel = _BuildFunction(hypermodel)
        else:
            raise TuneError(f"Tuner needs a HyperModel or a build(hp) function, got "
                            f"{hypermodel!r}.")
        if direction is None:
            if not isinstance(objective, str):
                raise TuneError("Tuner: with a callable objective, say whether to maximize or "
                                "minimize it: Tuner(..., direction='maximize').")
            name = objective.lower()
            direction = Direction.MAXIMIZE if any(k in name for k in _MAXIMISED) \
                else Direction.MINIMIZE
        self.objective = objective
        self.max_trials, self.timeout, self.show = max_trials, timeout, show
        self.keep_models = keep_models
        if isinstance(executions_per_trial, bool) or not isinstance(executions_per_trial, int) \
                or executions_per_trial < 1:
            raise TuneError(f"Tuner: executions_per_trial={executions_per_trial!r} must be a "
                            "whole number >= 1.")
        self.executions_per_trial = executions_per_trial
        #: Whether the next trial clears Keras's global state: at the first (what earlier
        #: searches left), then after each Keras model this tuner built.
        self._built_keras = True
        if isinstance(max_consecutive_failed_trials, bool) or not isinstance(
                max_consecutive_failed_trials, int) or max_consecutive_failed_trials < 1:
            raise TuneError(f"Tuner: max_consecutive_failed_trials="
                            f"{max_consecutive_failed_trials!r} must be a whole number >= 1.")
        self.max_consecutive_failed_trials = max_consecutive_failed_trials
        self.study = Study(sampler=sampler, direction=direction, seed=seed, name=study_name,
                           storage=storage, scheduler=scheduler, max_steps=max_steps, new=new)
        self._models: dict[int, Any] = {}

    def search(self, *fit_args: Any, **fit_kwargs: Any) -> None:
        """Run ``max_trials`` trials: build a model, fit it with these arguments, score it."""
        self._search(self.max_trials, fit_args, fit_kwargs)

    def _search(self, n_trials: int | None, fit_args: tuple, fit_kwargs: dict[str, Any]) -> None:
        """Run ``n_trials`` trials; stop with an error after ``max_consecutive_failed_trials``
        failures in a row."""
        failed: list[Trial] = []

        def count_failures(study: Study, trial: Trial) -> None:
            # As in Keras Tuner: failures in a row mean a bug, not bad luck; stop and say it.
            if trial.state is not TrialState.FAILED:
                failed.clear()
                return
            failed.append(trial)
            if len(failed) >= self.max_consecutive_failed_trials:
                study.stop()

        self._optimize(n_trials, fit_args, fit_kwargs, callbacks=[count_failures])
        if len(failed) >= self.max_consecutive_failed_trials:
            last = failed[-1]
            see = (f" (tuner.study.trials[{last.number}].traceback has the traceback)"
                   if last.traceback else "")
            raise TuneError(
                f"{self._label}: {len(failed)} trials in a row failed, so the search stopped "
                f"(max_consecutive_failed_trials={self.max_consecutive_failed_trials}). The "
                f"last, trial {last.number}, failed with: {error_line(last.error).rstrip('.')}"
                f". Fix that{see} and search again.")

    @property
    def _label(self) -> str:
        """The tuner's name in messages."""
        return type(self).__name__

    def _optimize(self, n_trials: int | None, fit_args: tuple, fit_kwargs: dict[str, Any],
                  callbacks: Sequence[Callable[[Study, Trial], None]] = ()) -> None:
        self.study.optimize(lambda trial: self._run_trial(trial, fit_args, fit_kwargs),
                            n_trials=n_trials, timeout=self.timeout, show=self.show,
                            callbacks=callbacks, stop_on_bug=False)

    def _run_trial(self, trial: Trial, fit_args: tuple, fit_kwargs: dict[str, Any]) -> float:
        scores: list[float] = []
        kept: tuple[float, Any] | None = None
        for execution in range(self.executions_per_trial):
            # Only the first execution reports its epochs: a scheduler judges the trial by
            # one curve, and a trial it stops runs no further executions.
            score, model = self._execute(trial, fit_args, fit_kwargs, report=execution == 0)
            scores.append(score)
            if kept is None or self.study.direction.is_better(score, kept[0]):
                kept = (score, model)
            if trial.should_stop:
                break
        if self.executions_per_trial > 1:
            trial.user_attrs["execution_scores"] = scores
        score = math.fsum(scores) / len(scores)
        self._keep(trial.number, score, kept[1])
        return score

    def _execute(self, trial: Trial, fit_args: tuple, fit_kwargs: dict[str, Any], *,
                 report: bool) -> tuple[float, Any]:
        """Build a model for ``trial``, fit it and score it."""
        from ._nn import Sequential, TuneReport

        # A Keras model can only come from an imported keras; without it there is none.
        keras = sys.modules.get("keras")
        if keras is not None and getattr(self, "_built_keras", True):
            # Frees what the previous trials' models left in Keras's global state, so that a
            # long search does not keep growing in memory (kept best models stay usable).
            # Not for other models: it collects garbage, seconds a trial in a big process.
            keras.backend.clear_session()
        hp = self._hyperparameters(trial)
        model = self.hypermodel.build(hp)
        keras = sys.modules.get("keras")  # (the build may be what imported it)
        self._built_keras = keras is not None and isinstance(model, keras.Model)
        kwargs = dict(fit_kwargs)
        added: list[Any] = []
        if isinstance(self.objective, str):
            if isinstance(model, Sequential) and report:
                added.append(TuneReport(self.objective))
            elif keras is not None and isinstance(model, keras.Model):
                from ._keras import BestEpoch, KerasCallback

                pbt = isinstance(self.study.scheduler, PBTScheduler)
                # A fit that scores the model itself (returning a number or a dict) may
                # train without the objective among its epochs' metrics: _score checks.
                if report:
                    added.append(KerasCallback(self.objective, checkpoint=pbt, required=False))
                # The score is the objective's best epoch (below), so the kept model is that
                # epoch's, as in Keras Tuner; last, so it restores after the user's callbacks.
                added.append(BestEpoch(self.objective, self.study.direction.is_better))
                kwargs.setdefault("verbose", 0)  # one progress bar per epoch and trial
        if added:
            kwargs["callbacks"] = [*kwargs.get("callbacks", ()), *added]
        result = self.hypermodel.fit(hp, model, *fit_args, **kwargs)
        return self._score(model, result), model

    def _hyperparameters(self, trial: Trial | None,
                         values: Mapping[str, Any] | None = None) -> HyperParameters:
        """The ``hp`` that ``build`` gets: drawing from ``trial``, or ``values`` and defaults
        without one."""
        return HyperParameters(values, trial=trial)

    def _score(self, model: Any, result: Any) -> float:
        if callable(self.objective):
            return float(self.objective(model, result))
        if isinstance(result, bool):
            raise TuneError(f"Tuner: fit returned {result!r}; return the score (a number), "
                            "a History or a dict of metric values.")
        metrics = getattr(result, "history", result)
        if not isinstance(metrics, Mapping):
            try:  # a number: numpy's scalars and 0-d arrays or tensors (np.mean(...)) too
                return float(metrics)
            except (TypeError, ValueError):
                pass
        if not isinstance(metrics, Mapping) or self.objective not in metrics:
            found = sorted(metrics) if isinstance(metrics, Mapping) else type(result).__name__
            raise TuneError(
                f"Tuner: the objective {self.objective!r} is not among the results of fit "
                f"({found}). Pass validation_data for val_* metrics, or name another "
                "objective.")
        values = metrics[self.objective]
        if not isinstance(values, Sequence):
            return float(values)
        best = self.study.direction.best(float(v) for v in values)
        return math.nan if best is None else best

    def _keep(self, number: int, score: float, model: Any) -> None:
        if self.keep_models <= 0 or not math.isfinite(score):
            return
        self._models[number] = (score, model)
        ranked = sorted(self._models, key=lambda n: (
            self.study.direction.to_loss(self._models[n][0]), n))
        for n in ranked[self.keep_models:]:
            del self._models[n]

    def _best_trials(self, n: int) -> list[Trial]:
        done = self.study.top_trials(n)
        if not done:
            raise TuneError(f"Tuner: study {self.study.name!r} has no complete trial yet. Run "
                            "tuner.search(...) first.")
        return done

    def get_best_hyperparameters(self, num_trials: int = 1) -> list[HyperParameters]:
        """The hyperparameters of the best trials, best first; ``build`` them again with
        ``hypermodel.build(hp)``."""
        return [self._hyperparameters(None, t.params) for t in self._best_trials(num_trials)]

    def get_best_models(self, num_models: int = 1) -> list[Any]:
        """The trained models of the best trials, best first (up to ``keep_models``)."""
        models = [self._models[t.number][1] for t in self._best_trials(num_models)
                  if t.number in self._models]
        if not models:
            raise TuneError("Tuner: the best models are not in memory (keep_models=0, or the "
                            "trials ran in an earlier session). Rebuild them from "
                            "get_best_hyperparameters().")
        return models

    def search_space_summary(self) -> None:
        """Print the hyperparameters seen so far with their ranges; before the first trial,
        those that ``build`` defines with default values (as Keras Tuner does)."""
        space = self.study.search_space()
        if not space:
            hp = self._hyperparameters(None)
            self.hypermodel.build(hp)
            space = hp.space
        print(f"Search space summary\nDefault search space size: {len(space)}")
        for name, dist in space.items():
            config = {k: v for k, v in dist.to_json().items() if k != "type"}
            kind = "Fixed" if isinstance(dist, Choice) and len(dist) == 1 else type(dist).__name__
            print(f"{name} ({kind})\n{ {'default': dist.default, **config} }")

    def results_summary(self, num_trials: int = 10) -> None:
        """Print the best ``num_trials`` trials: their hyperparameters and scores."""
        name = self.objective if isinstance(self.objective, str) \
            else getattr(self.objective, "__name__", "objective")
        print(f"Results summary\nStudy {self.study.name!r}: {len(self.study.trials)} trials, "
              f"{self.study.counts().get('pruned', 0)} pruned")
        print(f"Showing {num_trials} best trials\nObjective(name={name!r}, "
              f"direction={self.study.direction.value!r})")
        for trial in self.study.top_trials(num_trials):
            print(f"\nTrial {trial.number} summary\nHyperparameters:")
            for key, value in trial.params.items():
                print(f"{key}: {value}")
            print(f"Score: {trial.value}")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} objective={self.objective!r} study={self.study!r}>"
