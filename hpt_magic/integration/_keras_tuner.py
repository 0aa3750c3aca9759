"""Keras Tuner's tuner classes on :class:`Tuner`: a Keras Tuner example ports by changing its
import to ``import hpt_magic.keras_tuner as kt``.

Each class maps Keras Tuner's constructor arguments onto a :class:`Tuner` (a sampler, maybe a
scheduler, a study stored in ``directory/project_name.db``) and refuses, with the way out,
the arguments that have no counterpart here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from ..exceptions import StorageError, TuneError
from ..samplers import GPSampler, GridSampler, RandomSampler, Sampler
from ..schedulers import HyperbandScheduler
from ..study._storage import space_from_json, space_to_json
from ..trial import Direction, Trial, TrialState
from ._hypermodel import HyperModel, HyperParameters, Tuner
from ._keras_tuner_args import (
    _TAILORING,
    _check_options,
    _check_whole,
    _project,
    _tailored_space,
    _tailoring_text,
)

__all__ = ["Objective", "RandomSearch", "BayesianOptimization", "Hyperband", "GridSearch"]

_PREMADE = ("Keras Tuner's ready-made hypermodels are not part of this port: write a "
            "build(hp) that returns the Keras model, e.g. keras.applications.ResNet50("
            "weights=None, input_shape=..., classes=...) compiled with "
            "hp.Float('learning_rate', 1e-4, 1e-2, sampling='log')")
_ORACLE = ("the base Tuner and its oracles are not part of this port: use RandomSearch, "
           "BayesianOptimization, Hyperband or GridSearch, or hpt_magic.Tuner(build, "
           "sampler=..., scheduler=...) for any of our samplers and schedulers")
#: Names of Keras Tuner's module that this one does not have, with what to use instead.
_NOT_PORTED = {
    "applications": _PREMADE, "HyperResNet": _PREMADE, "HyperXception": _PREMADE,
    "HyperEfficientNet": _PREMADE, "HyperImageAugment": _PREMADE,
    "Tuner": _ORACLE, "oracles": _ORACLE, "Oracle": _ORACLE, "tuners": _ORACLE,
    "SklearnTuner": "tune scikit-learn estimators with hpt_magic.sklearn.TuneSearchCV",
}


def not_ported(name: str) -> Exception:
    """The error for ``kt.<name>``: a :class:`TuneError` with what to use instead when Keras
    Tuner has the name (not an ``AttributeError``, so that ``from hpt_magic.keras_tuner
    import <name>`` shows it too), else the usual ``AttributeError``."""
    if name in _NOT_PORTED:
        return TuneError(f"hpt_magic.keras_tuner has no {name}: {_NOT_PORTED[name]}.")
    return AttributeError(f"module 'hpt_magic.keras_tuner' has no attribute {name!r}")


class Objective:
    """A metric to optimise and its direction, as Keras Tuner's ``kt.Objective``.

    Parameters
    ----------
    name : str
        A metric of the training history, e.g. ``"val_accuracy"``.
    direction : {"min", "max"}
        ``"minimize"``/``"maximize"`` work too.

    Examples
    --------
    >>> Objective("val_accuracy", direction="max")
    Objective(name='val_accuracy', direction='max')
    """

    def __init__(self, name: str, direction: str) -> None:
        if not isinstance(name, str) or not name:
            raise TuneError(f"Objective: name={name!r} must be a metric name, e.g. "
                            "Objective('val_accuracy', direction='max').")
        self.name = name
        self.direction = Direction(direction)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Objective) and (other.name, other.direction) == (
            self.name, self.direction)

    def __hash__(self) -> int:
        return hash((self.name, self.direction))

    def __repr__(self) -> str:
        return f"Objective(name={self.name!r}, direction={self.direction.value[:3]!r})"


class _KerasTunerPort(Tuner):
    """The mapping shared by the tuner classes; ``max_trials`` counts over the whole project.

    As in Keras Tuner, ``max_trials`` is the project's total: a tuner that opens a stored
    project runs only the trials its search has left, and a finished search runs none.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Keras Tuner runs a trial through run_trial; nothing here calls it, so an override
        # would be silently skipped: refuse it where it is written.
        if "run_trial" in vars(cls):
            raise TuneError(
                f"{cls.__name__}: overriding run_trial is not supported (the search never "
                "calls it). Move the training into a HyperModel subclass: build(hp) makes the "
                "model, fit(hp, model, *args, **kwargs) trains it and returns the score or "
                "the History, and the tuner runs it for each trial.")

    def __init__(self, hypermodel: Any, objective: Any, max_trials: int | None,
                 seed: int | None, sampler: Sampler, directory: str | os.PathLike | None,
                 project_name: str | None, overwrite: bool, options: Mapping[str, Any],
                 scheduler: HyperbandScheduler | None = None) -> None:
        kt_name = f"kt.{type(self).__name__}"
        options = dict(options)
        max_failed = options.pop("max_consecutive_failed_trials", 3)
        _check_whole(kt_name, "max_consecutive_failed_trials", max_failed, 1)
        self._overrides, self._tune_new_entries = _tailored_space(
            kt_name, options.pop("hyperparameters", None),
            options.pop("tune_new_entries", True))
        tuner_options = _check_options(kt_name, options)
        if max_trials is not None:
            _check_whole(kt_name, "max_trials", max_trials, 1)
        metric, direction = _objective(kt_name, objective)
        storage, study_name = _project(kt_name, directory, project_name)
        super().__init__(hypermodel, objective=metric, direction=direction, sampler=sampler,
                         scheduler=scheduler, max_trials=max_trials, seed=seed,
                         storage=storage, study_name=study_name, new=bool(overwrite),
                         max_consecutive_failed_trials=max_failed, **tuner_options)
        self._keep_tailoring(kt_name, storage)

    def _keep_tailoring(self, kt_name: str, storage: str | None) -> None:
        """Store ``hyperparameters=`` and ``tune_new_entries`` with a new project; refuse to
        resume a project with others.

        Keras Tuner reloads a project's oracle with the space it saved and silently ignores
        the new ``hyperparameters=``; searching the new space instead would mix two searches
        in one study. Either way the new arguments would not mean what they say.
        """
        new = {"hyperparameters": space_to_json(self._overrides),
               "tune_new_entries": self._tune_new_entries}
        try:
            # Kept with a new project (or one stored before its tailoring was) in the write
            # that reads it: of two tuners opening one new project at once, the second finds
            # the first's arguments.
            stored = self.study.setdefault_user_attr(_TAILORING, new)
        except StorageError:
            # A read-only file opens for analysis all the same, as any study does.
            stored = self.study.user_attrs.get(_TAILORING, new)
        old = space_from_json(stored["hyperparameters"])
        if old == self._overrides and stored["tune_new_entries"] == self._tune_new_entries:
            return
        raise TuneError(
            f"{kt_name}: project {self.study.name!r} ({storage}) was created with "
            f"{_tailoring_text(old, stored['tune_new_entries'])}, and this tuner passes "
            f"{_tailoring_text(self._overrides, self._tune_new_entries)}. A project searches "
            "one space (Keras Tuner would go on with the saved one and ignore the new "
            "arguments). To resume the project, pass the arguments it was created with; to "
            "search the new space, pass overwrite=True (the old study is kept under another "
            "name) or a new project_name.")

    def _hyperparameters(self, trial: Trial | None,
                         values: Mapping[str, Any] | None = None) -> HyperParameters:
        # With the overrides, so that the best values rebuild even where they lie outside
        # the ranges build gives (an hp.Fixed of the tailored space).
        return HyperParameters(values, trial=trial, overrides=self._overrides,
                               tune_new_entries=self._tune_new_entries)

    def search(self, *fit_args: Any, **fit_kwargs: Any) -> None:
        """Run the trials left of ``max_trials``: build a model, fit it with these arguments,
        score it."""
        left = None
        if self.max_trials is not None:
            # Trials run: a repeat recorded with an earlier trial's score is not one.
            done = sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAILED)
                       and "repeat_of" not in t.user_attrs for t in self.study.trials)
            left = max(0, self.max_trials - done)
        self._search(left, fit_args, fit_kwargs)

    @property
    def _label(self) -> str:
        return f"kt.{type(self).__name__}"


class RandomSearch(_KerasTunerPort):
    """Random search, as Keras Tuner's ``kt.RandomSearch``.

    Parameters
    ----------
    hypermodel : HyperModel or callable
        A :class:`HyperModel`, or a function ``build(hp) -> model``.
    objective : str or Objective, optional
        A metric name (its direction inferred: accuracies, AUC, F1 are maximised) or an
        :class:`Objective`. Default ``"val_loss"``.
    max_trials : int
        Trials in all (a resumed project runs those left).
    seed : int, optional
    directory, project_name : str, optional
        Keep the study in the SQLite file ``directory/project_name.db`` (``directory``
        defaults to ``"."``, ``project_name`` to ``"untitled_project"``), continued when it
        exists. Without either, the study lives in memory.
    overwrite : bool
        Start a fresh study (the old one is renamed, not deleted).
    executions_per_trial, timeout, keep_models, show
        As in :class:`~hpt_magic.Tuner`: ``executions_per_trial`` models are fitted per
        trial, scored by their mean.
    """

    def __init__(self, hypermodel: HyperModel | Callable[[HyperParameters], Any] | None = None,
                 objective: str | Objective | None = None, max_trials: int = 10,
                 seed: int | None = None, *, directory: str | os.PathLike | None = None,
                 project_name: str | None = None, overwrite: bool = False,
                 **options: Any) -> None:
        super().__init__(hypermodel, objective, max_trials, seed, RandomSampler(seed=seed),
                         directory, project_name, overwrite, options)


class GridSearch(_KerasTunerPort):
    """Every combination of the hyperparameters' values, as Keras Tuner's ``kt.GridSearch``
    (in an order shuffled by ``seed``).

    ``Choice``, ``Boolean``, ``Fixed``, ``Int`` and ``Float`` with a ``step`` are enumerated;
    a ``Float`` without ``step`` is refused. ``max_trials=None`` runs to the grid's end. The
    other parameters are those of :class:`RandomSearch`.
    """

    def __init__(self, hypermodel: HyperModel | Callable[[HyperParameters], Any] | None = None,
                 objective: str | Objective | None = None, max_trials: int | None = None,
                 seed: int | None = None, *, directory: str | os.PathLike | None = None,
                 project_name: str | None = None, overwrite: bool = False,
                 **options: Any) -> None:
        super().__init__(hypermodel, objective, max_trials, seed, GridSampler(seed=seed),
                         directory, project_name, overwrite, options)


class BayesianOptimization(_KerasTunerPort):
    """Gaussian-process Bayesian optimisation (:class:`~hpt_magic.GPSampler`), as Keras
    Tuner's ``kt.BayesianOptimization``.

    Parameters
    ----------
    num_initial_points : int, optional
        Trials drawn before the model is used (the sampler's ``n_startup_trials``; default
        ``min(10, 3 * d + 4)`` for ``d`` parameters).
    alpha : float
        Keras Tuner's fixed noise level: only its default ``1e-4`` is accepted, since the
        Gaussian process here estimates the noise of the scores from the trials.
    beta : float, optional
        The exploration weight of an upper confidence bound, Keras Tuner's acquisition: a
        number switches to ``acquisition="ucb"`` with ``kappa=beta``. Default (``None``): log
        expected improvement.
    hypermodel, objective, max_trials, seed, directory, project_name, overwrite, **options
        As in :class:`RandomSearch`.
    """

    def __init__(self, hypermodel: HyperModel | Callable[[HyperParameters], Any] | None = None,
                 objective: str | Objective | None = None, max_trials: int = 10,
                 num_initial_points: int | None = None, alpha: float = 1e-4,
                 beta: float | None = None, seed: int | None = None, *,
                 directory: str | os.PathLike | None = None, project_name: str | None = None,
                 overwrite: bool = False, **options: Any) -> None:
        if alpha != 1e-4:
            raise TuneError(
                f"kt.BayesianOptimization: alpha={alpha!r} is not supported: the Gaussian "
                "process here estimates the noise of the scores from the trials, so there is "
                "no noise level to set. Remove alpha (for scores without noise, use "
                "hpt_magic.Tuner(..., sampler=GPSampler(deterministic=True))).")
        gp = {} if beta is None else {"acquisition": "ucb", "kappa": beta}
        sampler = GPSampler(seed=seed, n_startup_trials=num_initial_points, **gp)
        super().__init__(hypermodel, objective, max_trials, seed, sampler, directory,
                         project_name, overwrite, options)


class Hyperband(_KerasTunerPort):
    """Hyperband, as Keras Tuner's ``kt.Hyperband``: random configurations in brackets of
    successive halving (:class:`~hpt_magic.HyperbandScheduler`).

    Parameters
    ----------
    max_epochs : int
        The most epochs a trial trains (the scheduler's ``max_steps``); :meth:`search` passes
        ``epochs=max_epochs`` to ``fit``, replacing any ``epochs`` given, as Keras Tuner does.
    factor : int
        The reduction factor: a rung keeps the best ``1/factor`` of its trials.
    hyperband_iterations : int
        Times the brackets are run: the search has ``hyperband_iterations`` times the
        trials of one Hyperband iteration (``sum`` of ``tuner.study.scheduler.brackets``).
    hypermodel, objective, seed, directory, project_name, overwrite, **options
        As in :class:`RandomSearch`.

    Notes
    -----
    A stopped trial ends there: the trials of later rungs are the ones that went on, not
    new trials continuing from a checkpoint as in Keras Tuner.
    """

    def __init__(self, hypermodel: HyperModel | Callable[[HyperParameters], Any] | None = None,
                 objective: str | Objective | None = None, max_epochs: int = 100,
                 factor: int = 3, hyperband_iterations: int = 1, seed: int | None = None, *,
                 directory: str | os.PathLike | None = None, project_name: str | None = None,
                 overwrite: bool = False, **options: Any) -> None:
        if "max_trials" in options:
            raise TuneError(
                "kt.Hyperband: max_trials is not an argument of Hyperband: the number of trials "
                "follows from max_epochs, factor and hyperband_iterations. Raise "
                "hyperband_iterations for more trials, or use hpt_magic.Tuner(..., "
                "scheduler='hyperband', max_steps=..., max_trials=...).")
        _check_whole("kt.Hyperband", "max_epochs", max_epochs, 1)
        _check_whole("kt.Hyperband", "factor", factor, 2)
        _check_whole("kt.Hyperband", "hyperband_iterations", hyperband_iterations, 1)
        scheduler = HyperbandScheduler(max_steps=max_epochs, reduction_factor=factor)
        self.max_epochs = max_epochs
        max_trials = hyperband_iterations * sum(n for n, _ in scheduler.brackets)
        super().__init__(hypermodel, objective, max_trials, seed, RandomSampler(seed=seed),
                         directory, project_name, overwrite, options, scheduler=scheduler)

    def search(self, *fit_args: Any, **fit_kwargs: Any) -> None:
        """Run the trials left; each fits for up to ``max_epochs`` epochs."""
        super().search(*fit_args, **{**fit_kwargs, "epochs": self.max_epochs})












def _objective(kt_name: str, objective: Any) -> tuple[str, Direction | None]:
    """The metric name and its direction (``None``: inferred from the name)."""
    if isinstance(objective, (list, tuple)):
        if len(objective) != 1:
            raise TuneError(
                f"{kt_name}: objective={objective!r} lists several objectives; Keras Tuner "
                "sums them, this Tuner optimises one. Name one, or return your own combined "
                "score from a HyperModel.fit (with objective=kt.Objective(name, direction)).")
        objective = objective[0]
    if objective is None:
        return "val_loss", None
    if isinstance(objective, str):
        return objective, None
    if isinstance(objective, Objective):
        return objective.name, objective.direction
    raise TuneError(f"{kt_name}: objective={objective!r} must be a metric name or "
                    "kt.Objective(name, direction='min'|'max').")
