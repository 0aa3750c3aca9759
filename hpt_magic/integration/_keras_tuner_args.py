"""Keras Tuner's constructor arguments for the tuners of :mod:`._keras_tuner`: those without a
counterpart refused with what to do instead, the tailored space, the project's file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ..distributions import Distribution
from ..exceptions import TuneError
from ._hypermodel import HyperParameters

#: Keras Tuner's arguments that have no counterpart, with what to do instead.
_INSTEAD = {
    "allow_new_entries": "build(hp) may define any parameter; to search only some, pass "
                         "hyperparameters=hp with tune_new_entries=False",
    "max_retries_per_trial": "a trial that raises is recorded as failed and the search goes "
                             "on; queue its parameters again with "
                             "tuner.study.enqueue(trial.params)",
    "max_model_size": "check model.count_params() in build(hp) and raise there: the trial is "
                      "recorded as failed",
    "distribution_strategy": "set a Keras 3 distribution (keras.distribution."
                             "set_distribution) before the search",
    "logger": "subscribe a logger to the study, e.g. tuner.study.subscribe("
              "hpt_magic.callbacks.MLflowCallback(...))",
    "oracle": "choose the tuner class, or use hpt_magic.Tuner(sampler=..., scheduler=...)",
    "tuner_id": "remove it",
    "optimizer": "compile the model in build(hp)",
    "loss": "compile the model in build(hp)",
    "metrics": "compile the model in build(hp)",
}
#: Keras Tuner's defaults that mean what this port does anyway: accepted, so that an example
#: spelling them out ports unchanged.
_HARMLESS = {"allow_new_entries": True, "max_retries_per_trial": 0, "max_model_size": None,
             "distribution_strategy": None, "logger": None, "tuner_id": None}
#: The study's user attribute that keeps the project's ``hyperparameters=`` and
#: ``tune_new_entries``.
_TAILORING = "keras_tuner_space"


def _check_options(kt_name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The options meant for :class:`Tuner`; Keras Tuner's arguments without a counterpart are
    refused with what to do instead (their harmless defaults are let through)."""
    passed = {"executions_per_trial", "timeout", "keep_models", "show"}
    refused = []
    for name, value in options.items():
        if name in passed or (name in _HARMLESS and _same(value, _HARMLESS[name])):
            continue
        if name in _INSTEAD:
            refused.append(f"{name}={value!r} is not supported: {_INSTEAD[name]}")
        else:
            refused.append(f"{name!r} is not an argument of Keras Tuner's tuner or of this "
                           "port (this port also takes timeout, keep_models and show)")
    if refused:
        raise TuneError(f"{kt_name}: " + "; ".join(refused) + ".")
    return {k: v for k, v in options.items() if k in passed}


def _tailored_space(kt_name: str, hyperparameters: Any,
                    tune_new_entries: Any) -> tuple[dict[str, Distribution], bool]:
    """The distributions of ``hyperparameters`` that replace those of ``build``, and whether
    the parameters it does not name are searched too."""
    if not isinstance(tune_new_entries, bool):
        raise TuneError(f"{kt_name}: tune_new_entries={tune_new_entries!r} must be True or "
                        "False.")
    if hyperparameters is None:
        if not tune_new_entries:
            raise TuneError(
                f"{kt_name}: tune_new_entries=False without hyperparameters= would search "
                "nothing. Pass the parameters to search, e.g. hp = kt.HyperParameters(); "
                "hp.Float('learning_rate', 1e-4, 1e-2, sampling='log'); "
                "kt.RandomSearch(..., hyperparameters=hp, tune_new_entries=False).")
        return {}, True
    if not isinstance(hyperparameters, HyperParameters):
        raise TuneError(f"{kt_name}: hyperparameters={hyperparameters!r} must be a "
                        "kt.HyperParameters on which the parameters to search are defined "
                        "(hp.Float(...), hp.Fixed(...)).")
    return dict(hyperparameters.space), tune_new_entries


def _tailoring_text(overrides: Mapping[str, Distribution], tune_new_entries: bool) -> str:
    """``hyperparameters=..., tune_new_entries=...`` as a message shows them."""
    space = ", ".join(f"{name!r}: {dist!r}" for name, dist in overrides.items())
    return (f"hyperparameters={{{space}}}" if overrides else "hyperparameters=None") + \
        f", tune_new_entries={tune_new_entries}"


def _check_whole(kt_name: str, name: str, value: Any, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise TuneError(f"{kt_name}: {name}={value!r} must be a whole number >= {least}.")


def _same(value: Any, default: Any) -> bool:
    return value is default if default is None or isinstance(default, bool) else (
        not isinstance(value, bool) and value == default)


def _project(kt_name: str, directory: str | os.PathLike | None,
             project_name: str | None) -> tuple[str | None, str | None]:
    """The SQLite file and study name of ``directory/project_name`` (none: in memory)."""
    if directory is None and project_name is None:
        return None, None
    project_name = "untitled_project" if project_name is None else project_name
    if not isinstance(project_name, str) or not project_name or os.sep in project_name:
        raise TuneError(f"{kt_name}: project_name={project_name!r} must be a non-empty name "
                        "without path separators (the folder goes in directory=).")
    folder = os.fspath("." if directory is None else directory)
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, f"{project_name}.db"), project_name
