"""Logging trials to MLflow and TensorBoard.

Each logger is a study event subscriber (``study.subscribe(logger)``: runs appear and grow live)
and also an ``optimize`` callback (``study.optimize(..., callbacks=[logger])``: each trial is
written once it has finished). ``%%tune --log mlflow|tensorboard`` builds one with
:func:`make_logger`.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import posixpath
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..exceptions import TuneError
from ..study._events import Event
from ..trial import TrialState

if TYPE_CHECKING:
    from ..study._study import Study
    from ..trial import Trial

__all__ = ["MLflowCallback", "TensorBoardCallback", "make_logger", "LOGGERS"]


@contextlib.contextmanager
def _quiet_mlflow() -> Iterator[None]:
    """Silence MLflow's INFO lines (creating and migrating its database) on stderr, so the
    notebook's output stays calm."""
    loggers = [logging.getLogger(name) for name in ("mlflow", "alembic")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


class _TrialLogger(ABC):
    """Routes study events, or ``(study, trial)`` callback calls, to per-trial hooks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[tuple[str, int], Any] = {}
        self._done: set[tuple[str, int]] = set()

    @abstractmethod
    def _config(self) -> dict[str, Any]:
        """The keyword arguments that build a logger like this one."""

    def __reduce__(self) -> tuple[Any, ...]:
        # A copy (pickling, copy.deepcopy, scikit-learn's clone of a search that holds it) is
        # a new logger with the same settings: the runs this one has open stay its own.
        return _rebuild, (type(self), self._config())

    def __call__(self, *args: Any) -> None:
        if len(args) == 1 and isinstance(args[0], Event):
            self._on_event(args[0])
        elif len(args) == 2:
            self._on_finished_trial(*args)
        else:
            raise TypeError(f"{type(self).__name__} is called with a study event or with "
                            f"(study, trial), got {len(args)} arguments.")

    def attach(self, study: Study) -> Any:
        """Log every trial of ``study`` from now on; returns the unsubscribe function."""
        return study.subscribe(self)

    def _on_event(self, event: Event) -> None:
        trial = event.trial
        if event.kind == "trial_started":
            self._handle(event.study, trial)
        elif event.kind == "trial_reported":
            handle = self._handle(event.study, trial)
            self._log_step(handle, event.step, event.value)
            # tune.report({...}): every named metric gets its own curve.
            for name, curve in trial.intermediate_metrics.items():
                if event.step in curve and math.isfinite(curve[event.step]):
                    self._log_metric(handle, name, event.step, curve[event.step])
        elif event.kind == "trial_finished":
            self._finish(event.study, trial)

    def _on_finished_trial(self, study: Study, trial: Trial) -> None:
        """As an ``optimize`` callback: write a trial that no event has written yet."""
        with self._lock:
            if (study.name, trial.number) in self._done:
                return
        handle = self._handle(study, trial)
        for step, value in sorted(trial.intermediate.items()):
            self._log_step(handle, step, value)
        self._finish(study, trial)

    def _handle(self, study: Study, trial: Trial) -> Any:
        key = (study.name, trial.number)
        with self._lock:
            if key not in self._open:
                self._open[key] = self._start(study, trial)
            return self._open[key]

    def _finish(self, study: Study, trial: Trial) -> None:
        handle = self._handle(study, trial)
        with self._lock:
            self._open.pop((study.name, trial.number), None)
            self._done.add((study.name, trial.number))
        self._end(handle, trial)

    @abstractmethod
    def _start(self, study: Study, trial: Trial) -> Any:
        """Open the logger's record of a trial; return its handle."""

    @abstractmethod
    def _log_step(self, handle: Any, step: int, value: float) -> None:
        """Log one reported point of the trial's curve."""

    @abstractmethod
    def _log_metric(self, handle: Any, name: str, step: int, value: float) -> None:
        """Log one point of a named metric's curve (reported in a dict)."""

    @abstractmethod
    def _end(self, handle: Any, trial: Trial) -> None:
        """Close the trial's record with its final state and score."""


#: What MLflow refuses in a parameter or metric name (it allows ``:`` too, but not on Windows).
_MLFLOW_REFUSED = re.compile(r"[^\w.\- /]")
_MLFLOW_MAX_KEY = 250


def mlflow_key(name: str) -> str:
    """``name`` as MLflow takes a parameter or metric name: the characters it refuses become
    ``_``, and so do the slashes of a name that would read as another path.

    Examples
    --------
    >>> mlflow_key("acc@5"), mlflow_key("val/loss"), mlflow_key("../x"), mlflow_key("")
    ('acc_5', 'val/loss', '_.._x', '_')
    """
    key = _MLFLOW_REFUSED.sub("_", name)[:_MLFLOW_MAX_KEY - 1]
    if posixpath.normpath(key) != key or key.startswith(("/", "..")) or key in ("", "."):
        key = "_" + key.replace("/", "_")
    return key


_MLFLOW_STATUS = {TrialState.COMPLETE: "FINISHED", TrialState.PRUNED: "FINISHED",
                  TrialState.FAILED: "FAILED", TrialState.INTERRUPTED: "KILLED"}


class MLflowCallback(_TrialLogger):
    """Each trial an MLflow run: its parameters, its learning curve, its final score.

    Parameters
    ----------
    tracking_uri : str, optional
        Where MLflow stores runs: ``"sqlite:///mlflow.db"``, a server ``"http://..."``; ``None``
        uses MLflow's default (``MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db``).
    experiment : str, optional
        The experiment the runs go to (created when missing); default: the study's name.
    metric : str
        The name under which reported values are logged (per step); the final score is logged
        as ``"score"``.

    Notes
    -----
    Runs are named ``trial-<number>`` and tagged with ``hpt_magic.study``,
    ``hpt_magic.trial`` and ``hpt_magic.state``; failed trials end ``FAILED`` with their
    error in the ``hpt_magic.error`` tag, interrupted ones ``KILLED``.

    Examples
    --------
    >>> study.subscribe(MLflowCallback("sqlite:///mlflow.db"))   # doctest: +SKIP
    """

    def __init__(self, tracking_uri: str | None = None, experiment: str | None = None, *,
                 metric: str = "value") -> None:
        super().__init__()
        try:
            from mlflow import MlflowClient
        except ImportError:
            raise TuneError("MLflowCallback needs MLflow, which is not installed. Install it "
                            "with `pip install 'hpt-magic[mlflow]'` (or mlflow-skinny).") from None
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.metric = metric
        with _quiet_mlflow():
            self.client = MlflowClient(tracking_uri=tracking_uri)
        self._experiments: dict[str, str] = {}

    def _experiment_id(self, name: str) -> str:
        if name not in self._experiments:
            with _quiet_mlflow():
                found = self.client.get_experiment_by_name(name)
                self._experiments[name] = (found.experiment_id if found is not None
                                           else self.client.create_experiment(name))
        return self._experiments[name]

    def _start(self, study: Study, trial: Trial) -> dict[str, Any]:
        run = self.client.create_run(
            self._experiment_id(self.experiment or study.name),
            start_time=int(trial.started * 1000), run_name=f"trial-{trial.number}",
            tags={"hpt_magic.study": study.name, "hpt_magic.trial": str(trial.number),
                  "hpt_magic.direction": study.direction.value, "hpt_magic.state": "running"})
        handle = {"run_id": run.info.run_id, "params": {}}
        self._log_params(handle, trial)
        return handle

    def _log_params(self, handle: dict[str, Any], trial: Trial) -> None:
        from mlflow.entities import Param

        keys: dict[str, str] = handle["params"]  # name -> its key in this run
        new = []
        for name, value in trial.params.items():
            if name not in keys:
                # Two names MLflow would write alike (acc@5, acc#5): the second gets _2.
                key = base = mlflow_key(name)
                n = 1
                while key in keys.values():
                    n += 1
                    key = f"{base[:_MLFLOW_MAX_KEY - 8]}_{n}"
                keys[name] = key
                new.append(Param(key, str(value)))
        if new:
            self.client.log_batch(handle["run_id"], params=new)

    def _log_step(self, handle: dict[str, Any], step: int, value: float) -> None:
        self.client.log_metric(handle["run_id"], mlflow_key(self.metric), float(value),
                               step=int(step))

    def _log_metric(self, handle: dict[str, Any], name: str, step: int, value: float) -> None:
        self.client.log_metric(handle["run_id"], mlflow_key(name), float(value), step=int(step))

    def _end(self, handle: dict[str, Any], trial: Trial) -> None:
        from mlflow.entities import Metric, RunTag

        self._log_params(handle, trial)
        now = int((trial.finished or time.time()) * 1000)
        metrics = []
        # At the last step: a metric that was also reported per step ends its curve there.
        step = int(trial.last_step) if trial.last_step is not None else 0
        if trial.value is not None and math.isfinite(trial.value):
            metrics.append(Metric("score", float(trial.value), now, step))
        # Every objective and metric the trial returned (several objectives, constraints).
        metrics += [Metric(mlflow_key(k), float(v), now, step) for k, v in trial.metrics.items()
                    if math.isfinite(v) and k not in ("score", self.metric)]
        tags = [RunTag("hpt_magic.state", trial.state.value)]
        if trial.error:
            tags.append(RunTag("hpt_magic.error", trial.error[:5000]))
        self.client.log_batch(handle["run_id"], metrics=metrics, tags=tags)
        self.client.set_terminated(handle["run_id"], _MLFLOW_STATUS.get(trial.state, "FINISHED"),
                                   end_time=now)

    def _config(self) -> dict[str, Any]:
        return {"tracking_uri": self.tracking_uri, "experiment": self.experiment,
                "metric": self.metric}

    def __repr__(self) -> str:
        return f"MLflowCallback(tracking_uri={self.tracking_uri!r}, experiment={self.experiment!r})"


class TensorBoardCallback(_TrialLogger):
    """Each trial a TensorBoard run ``<logdir>/<study>/trial-<number>``: the reported values as
    scalars and, when it ends, its parameters and score for the HParams dashboard.

    Parameters
    ----------
    logdir : str or os.PathLike
        The folder to point ``tensorboard --logdir`` at.
    metric : str
        The scalar tag of reported values; the final score is the scalar ``"score"``.

    Examples
    --------
    >>> study.subscribe(TensorBoardCallback("runs"))   # doctest: +SKIP
    """

    def __init__(self, logdir: str | os.PathLike = "runs", *, metric: str = "value") -> None:
        super().__init__()
        try:
            from tensorboardX import SummaryWriter
        except ImportError:
            raise TuneError("TensorBoardCallback needs tensorboardX, which is not installed. "
                            "Install it with `pip install 'hpt-magic[tensorboard]'`.") from None
        self._writer = SummaryWriter
        self.logdir = os.fspath(logdir)
        self.metric = metric

    def _start(self, study: Study, trial: Trial) -> Any:
        path = os.path.join(self.logdir, study.name, f"trial-{trial.number:04d}")
        return self._writer(logdir=path, flush_secs=5)

    def _log_step(self, handle: Any, step: int, value: float) -> None:
        handle.add_scalar(self.metric, float(value), int(step))

    def _log_metric(self, handle: Any, name: str, step: int, value: float) -> None:
        handle.add_scalar(name, float(value), int(step))

    def _end(self, handle: Any, trial: Trial) -> None:
        from tensorboardX.summary import hparams

        score = trial.value if trial.value is not None else math.nan
        params = {k: _hparam(v) for k, v in trial.params.items()}
        # Every objective and metric the trial returned, beside the (first) score.
        metrics = {k: float(v) for k, v in trial.metrics.items()
                   if k not in ("score", self.metric)}
        for summary in hparams(params, {"score": score, **metrics}):
            handle.file_writer.add_summary(summary)
        step = trial.last_step if trial.last_step is not None else 0
        if math.isfinite(score):  # a failed trial has no score to draw (tensorboardX would warn)
            handle.add_scalar("score", score, step)
        for name, value in metrics.items():
            handle.add_scalar(name, value, step)
        handle.add_text("state", trial.state.value + (f": {trial.error}" if trial.error else ""))
        handle.close()

    def _config(self) -> dict[str, Any]:
        return {"logdir": self.logdir, "metric": self.metric}

    def __repr__(self) -> str:
        return f"TensorBoardCallback(logdir={self.logdir!r})"


def _rebuild(cls: type[_TrialLogger], config: dict[str, Any]) -> _TrialLogger:
    return cls(**config)


def _hparam(value: Any) -> bool | int | float | str:
    if hasattr(value, "item"):
        value = value.item()
    return value if isinstance(value, (bool, int, float, str)) else str(value)


#: Loggers by the name ``%%tune --log`` takes.
LOGGERS: dict[str, type[_TrialLogger]] = {"mlflow": MLflowCallback,
                                          "tensorboard": TensorBoardCallback}


def make_logger(name: str, **kwargs: Any) -> MLflowCallback | TensorBoardCallback:
    """Build the logger ``%%tune --log NAME`` asks for; subscribe it with ``study.subscribe``.

    Parameters
    ----------
    name : {"mlflow", "tensorboard"}
    **kwargs
        Passed to :class:`MLflowCallback` (``tracking_uri``, ``experiment``) or
        :class:`TensorBoardCallback` (``logdir``).
    """
    key = str(name).lower()
    if key not in LOGGERS:
        raise TuneError(f"Unknown logger {name!r} for --log. Choose one of: "
                        f"{', '.join(sorted(LOGGERS))}.")
    try:
        return LOGGERS[key](**kwargs)
    except TypeError as exc:
        raise TuneError(f"--log {key} does not take these options: {exc}.") from None
