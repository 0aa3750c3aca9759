"""Hypermodels in the Keras Tuner style: ``build(hp)`` defines the space as it builds a model
(a Keras 3 model, one of :mod:`hpt_magic.nn`, or anything ``fit`` can train), a
:class:`Tuner` searches it with a study."""

from __future__ import annotations

import math
import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from ..distributions import Choice, Distribution, Float, Int
from ..exceptions import TuneError
from ..samplers import Sampler
from ..schedulers import PBTScheduler, Scheduler
from ..study._storage import Storage
from ..study._study import Study
from ..trial import Direction, Trial

__all__ = ["HyperParameters", "HyperModel", "Tuner"]


class HyperParameters:
    """The ``hp`` passed to ``build(hp)``: each call defines a parameter and returns its value.

    Inside a search the value comes from the trial (define-by-run: parameters may depend on
    earlier ones, e.g. one width per layer). Outside, it comes from ``values`` or is the
    distribution's default, so ``build(HyperParameters())`` builds a reasonable model.

    Keras Tuner's spellings work too: ``min_value``/``max_value`` for ``low``/``high``,
    ``sampling="log"``, and ``parent_name``/``parent_values`` (see :meth:`conditional_scope`).

    Parameters
    ----------
    values : dict, optional
        Fixed values, e.g. those of :meth:`Tuner.get_best_hyperparameters`.
    trial : Trial, optional
        The trial that draws the values (set by the tuner).
    overrides : dict of str -> Distribution, optional
        Distributions that replace those ``build`` gives for the same names (Keras Tuner's
        ``hyperparameters=`` argument of a tuner).
    tune_new_entries : bool
        With ``False``, only the parameters of ``overrides`` are searched; the others take
        their defaults.

    Attributes
    ----------
    values : dict
        The value of every parameter defined so far.
    space : dict of str -> Distribution
        The distributions of those searched.

    Examples
    --------
    >>> hp = HyperParameters({"units": 32})
    >>> hp.Int("units", 8, 128, log=True), hp.Choice("act", ["relu", "tanh"])
    (32, 'relu')
    >>> hp.values
    {'units': 32, 'act': 'relu'}
    """

    def __init__(self, values: Mapping[str, Any] | None = None, *,
                 trial: Trial | None = None,
                 overrides: Mapping[str, Distribution] | None = None,
                 tune_new_entries: bool = True) -> None:
        self.trial = trial
        self.values: dict[str, Any] = dict(values or {})
        self.space: dict[str, Distribution] = {}
        self.overrides = dict(overrides or {})
        self.tune_new_entries = tune_new_entries
        self._conditions: list[tuple[str, list[Any]]] = []

    def _get(self, name: str, dist: Distribution, parent_name: str | None = None,
             parent_values: Any = None) -> Any:
        if parent_name is not None:
            with self.conditional_scope(parent_name, parent_values):
                return self._get(name, dist)
        if not self._active():
            return None
        dist = self.overrides.get(name, dist)
        searched = self.tune_new_entries or name in self.overrides
        if self.trial is not None and searched:
            value = self.trial.suggest(name, dist)
        elif name in self.values:
            value = self.values[name]
            if not dist.contains(value):
                raise TuneError(f"HyperParameters: the value {value!r} given for {name!r} is "
                                f"outside {dist!r}.")
        else:
            value = dist.default
        if searched:
            self.space[name] = dist
        self.values[name] = value
        return value

    def _active(self) -> bool:
        return all(parent in self.values and self.values[parent] in allowed
                   for parent, allowed in self._conditions)

    def Float(self, name: str, low: float | None = None, high: float | None = None,
              step: float | None = None, sampling: str | None = None,
              default: float | None = None, *, log: bool = False,
              min_value: float | None = None, max_value: float | None = None,
              parent_name: str | None = None, parent_values: Any = None) -> float | None:
        """A float in ``[low, high]``; ``log=True`` (or ``sampling="log"``) for a log scale.

        The positional order is Keras Tuner's: ``hp.Float("lr", 1e-4, 1e-2, None, "log")``.
        """
        low, high = _bounds("Float", name, low, high, min_value, max_value)
        log = _log_scale("Float", name, log, sampling, step)
        return self._get(name, Float(low, high, log=log, step=step, default=default),
                         parent_name, parent_values)

    def Int(self, name: str, low: int | None = None, high: int | None = None,
            step: int | None = None, sampling: str | None = None, default: int | None = None,
            *, log: bool = False, min_value: int | None = None, max_value: int | None = None,
            parent_name: str | None = None, parent_values: Any = None) -> int | None:
        """An integer in ``[low, high]``, both included; ``hp.Int("units", 32, 512, 32)``
        steps by 32, as in Keras Tuner."""
        low, high = _bounds("Int", name, low, high, min_value, max_value)
        log = _log_scale("Int", name, log, sampling, None if step == 1 else step)
        return self._get(name, Int(low, high, log=log, step=1 if step is None else step,
                                   default=default), parent_name, parent_values)

    def Choice(self, name: str, values: Sequence[Any], ordered: bool | None = None,
               default: Any = None, *, parent_name: str | None = None,
               parent_values: Any = None) -> Any:
        """One of ``values`` (default: the first). ``ordered`` (Keras Tuner's) is ignored:
        the samplers treat options as unordered."""
        return self._get(name, Choice(values, default=default), parent_name, parent_values)

    def Boolean(self, name: str, default: bool = False, *, parent_name: str | None = None,
                parent_values: Any = None) -> bool | None:
        """``True`` or ``False``."""
        return self._get(name, Choice([False, True], default=default), parent_name,
                         parent_values)

    def Fixed(self, name: str, value: Any, *, parent_name: str | None = None,
              parent_values: Any = None) -> Any:
        """A constant: recorded with the trial's parameters (results, best hyperparameters)
        but never searched.

        Examples
        --------
        >>> hp = HyperParameters()
        >>> hp.Fixed("optimizer", "adam"), hp.values
        ('adam', {'optimizer': 'adam'})
        """
        return self._get(name, Choice([value]), parent_name, parent_values)

    @contextmanager
    def conditional_scope(self, parent_name: str, parent_values: Any) -> Iterator[None]:
        """Parameters defined in the ``with`` body exist only while the parameter
        ``parent_name`` has one of ``parent_values`` (a value or a list).

        The body still runs (Python runs every ``with`` body): while the condition does not
        hold, ``hp`` calls in it return ``None`` and define nothing, as in Keras Tuner. Guard
        the code that uses them with an ``if``, or write the condition in Python alone.

        Examples
        --------
        >>> hp = HyperParameters()
        >>> kind = hp.Choice("kind", ["linear", "mlp"])
        >>> with hp.conditional_scope("kind", ["mlp"]):
        ...     units = hp.Int("units", 8, 64)
        >>> kind, units, hp.values
        ('linear', None, {'kind': 'linear'})
        """
        if self._active() and parent_name not in self.values:
            raise TuneError(
                f"HyperParameters.conditional_scope: the parent {parent_name!r} has not been "
                f"defined; known: {sorted(self.values)}. Define it (e.g. hp.Choice"
                f"({parent_name!r}, [...])) before the scope that depends on it.")
        allowed = list(parent_values) if isinstance(parent_values, (list, tuple, set)) \
            else [parent_values]
        self._conditions.append((parent_name, allowed))
        try:
            yield
        finally:
            self._conditions.pop()

    def get(self, name: str) -> Any:
        """The value of a parameter defined earlier."""
        if name not in self.values:
            raise TuneError(f"HyperParameters: {name!r} has not been defined; known: "
                            f"{sorted(self.values)}.")
        return self.values[name]

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __repr__(self) -> str:
        return f"HyperParameters({self.values!r})"


def _bounds(kind: str, name: str, low: Any, high: Any, min_value: Any,
            max_value: Any) -> tuple[Any, Any]:
    """``low``/``high``, or Keras Tuner's ``min_value``/``max_value``: one spelling each."""
    if (low is not None and min_value is not None) or (high is not None and max_value is not None):
        raise TuneError(f"hp.{kind}({name!r}): give each bound once, as low/high or as "
                        "min_value/max_value, not both.")
    low = low if min_value is None else min_value
    high = high if max_value is None else max_value
    if low is None or high is None:
        raise TuneError(f"hp.{kind}({name!r}) needs both bounds: hp.{kind}({name!r}, low, high) "
                        "(or min_value=..., max_value=... as in Keras Tuner).")
    return low, high


def _log_scale(kind: str, name: str, log: bool, sampling: str | None, step: Any) -> bool:
    """Whether the range is searched on a log scale; a step there is refused."""
    if sampling is None or sampling == "linear":
        log_scale = log
    elif sampling == "log":
        log_scale = True
    else:
        raise TuneError(f"hp.{kind}({name!r}): sampling={sampling!r} is not supported. Use "
                        "sampling='linear' or 'log' (Keras Tuner's 'reverse_log' has no "
                        "counterpart here).")
    if log_scale and step is not None:
        raise TuneError(
            f"hp.{kind}({name!r}): step={step!r} with sampling='log' is not supported (in "
            "Keras Tuner it multiplies: 32, 64, 128... for step=2). Drop step to search the "
            f"whole range on a log scale, or list the values: hp.Choice({name!r}, [...]).")
    return log_scale


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
        self.study = Study(sampler=sampler, direction=direction, seed=seed, name=study_name,
                           storage=storage, scheduler=scheduler, max_steps=max_steps, new=new)
        self._models: dict[int, Any] = {}

    def search(self, *fit_args: Any, **fit_kwargs: Any) -> None:
        """Run ``max_trials`` trials: build a model, fit it with these arguments, score it."""
        self._optimize(self.max_trials, fit_args, fit_kwargs)

    def _optimize(self, n_trials: int | None, fit_args: tuple, fit_kwargs: dict[str, Any],
                  callbacks: Sequence[Callable[[Study, Trial], None]] = ()) -> None:
        self.study.optimize(lambda trial: self._run_trial(trial, fit_args, fit_kwargs),
                            n_trials=n_trials, timeout=self.timeout, show=self.show,
                            callbacks=callbacks)

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
        if keras is not None:
            # Frees what the previous trials' models left in Keras's global state, so that a
            # long search does not keep growing in memory (kept best models stay usable).
            keras.backend.clear_session()
        hp = self._hyperparameters(trial)
        model = self.hypermodel.build(hp)
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

    def _hyperparameters(self, trial: Trial | None) -> HyperParameters:
        """The ``hp`` that ``build`` gets: drawing from ``trial``, or defaults without one."""
        return HyperParameters(trial=trial)

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
        return [HyperParameters(t.params) for t in self._best_trials(num_trials)]

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
