"""A trial: one evaluation of the objective, with its parameters, curve, state and output."""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any, Protocol

from ._format import format_number
from .distributions import Choice, Distribution, Float, Int
from .exceptions import SpaceError, TrialPruned, TuneError

__all__ = ["CURVE_DIRECTION", "Direction", "Trial", "TrialState", "TrialHost", "UNSET",
           "top_trials"]

#: No preset value: the sampler decides (see :meth:`Trial.preset_value`).
UNSET = object()

#: ``user_attrs`` key of a curve reported the other way from the study without a scheduler:
#: the trial fails with its text only if it ends without a value (``study._objectives.settle``).
CURVE_DIRECTION = "_curve_direction"


class TrialState(str, Enum):
    """Where a trial is in its life. ``waiting`` trials are enqueued but not started."""

    WAITING = "waiting"
    RUNNING = "running"
    COMPLETE = "complete"
    PRUNED = "pruned"
    FAILED = "failed"
    INTERRUPTED = "interrupted"

    @property
    def finished(self) -> bool:
        return self in _FINISHED

    def __str__(self) -> str:
        return self.value


#: The states a trial ends in (a frozenset: ``finished`` is asked several times a trial).
_FINISHED = frozenset({TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAILED,
                       TrialState.INTERRUPTED})

class TrialHost(Protocol):
    """What a running trial talks to: the study, or a worker's link to the kernel's study."""

    def sample_param(self, trial: Trial, name: str, dist: Distribution) -> Any:
        """Register ``name`` and return its value for ``trial`` (recorded on the trial)."""

    def record_report(self, trial: Trial, value: float, step: int, checkpoint: Any) -> bool:
        """Record a point of ``trial``'s curve; return whether the scheduler stops it."""


class Direction(str, Enum):
    """Which scores are better: the one place that compares, ranks and turns scores into losses.

    Built from the strings users pass (``"minimize"``, ``"maximize"``, ``"min"``, ``"max"``);
    it is a ``str`` whose value is the full word, so ``study.direction == "minimize"`` holds
    and storage and JSON keep writing ``"minimize"``/``"maximize"``.

    Examples
    --------
    >>> d = Direction("max")
    >>> d, d == "maximize", d.value
    (<Direction.MAXIMIZE: 'maximize'>, True, 'maximize')
    >>> d.is_better(0.9, 0.5), d.best([0.5, float("nan"), 0.9]), d.to_loss(0.9)
    (True, 0.9, -0.9)
    """

    MINIMIZE = "minimize"
    MAXIMIZE = "maximize"

    @classmethod
    def _missing_(cls, value: object) -> Direction:
        alias = {"min": cls.MINIMIZE, "max": cls.MAXIMIZE}.get(value) \
            if isinstance(value, str) else None
        if alias is None:
            raise TuneError(f"direction must be 'minimize' or 'maximize' ('min' or 'max'), got "
                            f"{value!r}.")
        return alias

    @property
    def sign(self) -> float:
        """``1.0`` when minimising, ``-1.0`` when maximising: ``sign * score`` is a loss."""
        return 1.0 if self is Direction.MINIMIZE else -1.0

    def to_loss(self, value: float | None) -> float:
        """``value`` as a loss (lower is better); not a finite number: ``inf``, the worst."""
        if value is None or not math.isfinite(value):
            return math.inf
        return self.sign * value

    def is_better(self, a: float, b: float | None) -> bool:
        """Whether score ``a`` strictly beats ``b`` (anything beats ``None``)."""
        return b is None or self.to_loss(a) < self.to_loss(b)

    def best(self, values: Iterable[float | None]) -> float | None:
        """The best finite score of ``values`` (the first of equal ones), ``None`` if none."""
        finite = [v for v in values if v is not None and math.isfinite(v)]
        return min(finite, key=self.to_loss) if finite else None

    def sort_key(self, trial: Trial) -> tuple[float, int]:
        """Orders trials best first, ties by trial number; a missing score comes last."""
        return self.to_loss(trial.value), trial.number

    def sort(self, trials: Iterable[Trial]) -> list[Trial]:
        """``trials`` best first (see :meth:`sort_key`)."""
        return sorted(trials, key=self.sort_key)

    def __str__(self) -> str:
        return self.value


def top_trials(trials: Iterable[Trial], direction: str | Direction,
               k: int | None = None) -> list[Trial]:
    """The ``k`` best complete trials with a finite score that meet the study's constraints
    (all when ``None``), best first, ties by trial number. Studies and their stand-ins (the
    live dashboard's) all call this."""
    direction = Direction(direction)
    done = [t for t in trials if t.state is TrialState.COMPLETE and t.value is not None
            and math.isfinite(t.value) and t.feasible is not False]
    if k is None:
        return direction.sort(done)
    return heapq.nsmallest(k, done, key=direction.sort_key)


class Trial:
    """One evaluation of the objective.

    Objectives read ``trial.params`` (fixed space) or call ``trial.suggest(...)`` /
    ``tune.*`` (define-by-run), and may ``trial.report(value, step)`` a learning curve.

    Attributes
    ----------
    number : int
        0-based position in the study.
    params : dict
        The hyperparameters, in the order they were suggested.
    state : TrialState
    value : float or None
        The score (``None`` until the trial finishes, or when it failed); with several
        objectives, the first one's (``values[0]``).
    values : list of float or None
        One score per objective of the study, in order (``None`` unless complete).
    metrics : dict of str -> float
        Every number the objective returned, objectives included.
    feasible : bool or None
        Whether the metrics meet the study's constraints (``None`` without constraints).
    intermediate : dict of int -> float
        The reported learning curve (of the first objective).
    intermediate_metrics : dict of str -> dict of int -> float
        The curves of every metric reported as a dict (``tune.report({...}, step)``).
    error : str or None
        Why a trial failed (one line); ``traceback`` holds the full text.
    output : str
        What the trial printed and warned, captured.
    """

    def __init__(
        self, number: int, *, params: dict[str, Any] | None = None,
        distributions: dict[str, Distribution] | None = None,
        state: TrialState = TrialState.RUNNING,
        value: float | None = None, intermediate: dict[int, float] | None = None,
        started: float | None = None, finished: float | None = None, error: str | None = None,
        traceback: str | None = None, output: str = "", manual: bool = False,
        user_attrs: dict[str, Any] | None = None, trial_id: int | None = None,
        values: list[float] | None = None, metrics: dict[str, float] | None = None,
        feasible: bool | None = None,
        intermediate_metrics: dict[str, dict[int, float]] | None = None,
    ) -> None:
        self.number = number
        self.params: dict[str, Any] = dict(params or {})
        self.distributions: dict[str, Distribution] = dict(distributions or {})
        # (A new trial's state is one already: the enum's call, in Python, is skipped.)
        self.state = state if type(state) is TrialState else TrialState(state)
        self.value = value
        if values is None and value is not None and self.state is TrialState.COMPLETE:
            values = [value]  # one objective: its value is the only one
        self.values: list[float] | None = list(values) if values is not None else None
        self.metrics: dict[str, float] = dict(metrics or {})
        self.feasible = feasible
        self.intermediate: dict[int, float] = dict(intermediate or {})
        self.intermediate_metrics: dict[str, dict[int, float]] = {
            k: dict(v) for k, v in (intermediate_metrics or {}).items()}
        self.started = time.time() if started is None else started
        self.finished = finished
        self.error = error
        self.traceback = traceback
        self.output = output
        self.manual = manual
        self.user_attrs: dict[str, Any] = dict(user_attrs or {})
        self.trial_id = trial_id
        # Run-time only, never stored.
        self.should_stop = False
        self.in_steps = False
        self.checkpoint: Any = None
        self.relative: dict[str, Any] = {}
        self.fixed: dict[str, Any] = {}
        #: The point the trial took from the study's queue (its values are in ``fixed``).
        self.queued: dict[str, Any] = {}
        #: What the study tells the user when the trial is told (see Study.sample_param).
        self._notes: list[str] = []
        #: The study's objectives (an ``executors.Objectives``): how a result is judged and
        #: which reported metric is the curve, where the trial runs.
        self.scoring: Any = None
        #: Whether a scheduler judges the trial's reported curve (it may stop the trial).
        self.judged = False
        #: Where parameters are sampled and reports go while the trial runs: its study in
        #: this process, a link to the kernel in a worker (see :class:`TrialHost`).
        self._host: TrialHost | None = None
        self._owner: Any = None  # the run that asked for it (see Study.ask)

    def __getstate__(self) -> dict[str, Any]:
        # The study answering a running trial's calls and the run that asked for it belong to
        # this process: a pickled trial (a pickled study, mid-run) goes without them.
        state = dict(self.__dict__)
        state["_host"] = state["_owner"] = None
        return state

    # -- define-by-run -----------------------------------------------------------------------
    def suggest(self, name: str, dist: Distribution) -> Any:
        """Return the value of parameter ``name`` drawn from ``dist`` for this trial."""
        if name in self.params:
            if self.distributions.get(name) != dist:
                raise SpaceError(
                    f"Parameter {name!r} is defined twice in one trial with different "
                    f"distributions ({self.distributions.get(name)!r} and {dist!r}). Give each "
                    "tune.* call its own name.")
            return self.params[name]
        if self._host is None:
            raise TuneError(f"Trial {self.number} is finished or detached; it cannot suggest "
                            f"{name!r}. Ask the study for a new trial.")
        return self._host.sample_param(self, name, dist)

    def preset_value(self, name: str, dist: Distribution) -> Any:
        """The value this trial already carries for ``name``, or :data:`UNSET`.

        In order: a value fixed when the trial was asked (enqueued, given, or set by a
        scheduler; it must lie in ``dist``), the default for a manual trial, the value the
        sampler proposed jointly at ask time. The study and a worker process both call this,
        so they always agree on the value without asking each other. A queued value outside
        ``dist`` is no preset value: the study drops it and samples.
        """
        if name in self.fixed:
            value = self.fixed[name]
            if dist.contains(value):
                return dist.clip(value)
            if name in self.queued:
                return UNSET
            why, fix = dist.refusal(value)
            raise SpaceError(f"The given value {value!r} for {name!r} {why}. {fix}.")
        if self.manual:
            return dist.default
        value = self.relative.get(name, UNSET)
        if value is UNSET:
            return UNSET
        # The numeric types by their exact type first: an isinstance against a distribution
        # class (an ABC) costs Python calls, here for every parameter of every trial.
        if type(dist) not in (Float, Int) and isinstance(dist, Choice):
            # Proposed from the study's known distribution: the same options, maybe as other
            # objects (labels read from the file, a class that a cell defined anew).
            i = dist.find(value)
            return UNSET if i is None else dist.options[i]
        # Proposed for the definition known at ask time: one the objective changed (a range
        # it computes) makes it draw again.
        return value if dist.contains(value) else UNSET

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False,
                      step: float | None = None) -> float:
        """Shorthand for ``suggest(name, Float(low, high, log=log, step=step))``."""
        return self.suggest(name, Float(low, high, log=log, step=step))

    def suggest_int(self, name: str, low: int, high: int, *, log: bool = False,
                    step: int = 1) -> int:
        """Shorthand for ``suggest(name, Int(low, high, log=log, step=step))``."""
        return self.suggest(name, Int(low, high, log=log, step=step))

    def suggest_choice(self, name: str, options: list[Any]) -> Any:
        """Shorthand for ``suggest(name, Choice(options))``."""
        return self.suggest(name, Choice(options))

    def report(self, value: float | Mapping[str, float], step: int | None = None, *,
               checkpoint: Any = None) -> bool:
        """Record a point of the learning curve; return ``True`` when the trial should stop.

        ``value`` may be a dict of named metrics (``{"accuracy": a, "latency_ms": l}``): each
        gets its curve in ``intermediate_metrics``, and the first objective's is the curve
        schedulers judge. Outside ``tune.steps`` a stop decision raises :class:`TrialPruned`,
        which the runner turns into a pruned trial.
        """
        value = _report_value(value, self.scoring)
        if step is None and self.in_steps and "step" in self.user_attrs:
            step = self.user_attrs["step"]
        elif step is None:
            step = (max(self.intermediate) + 1) if self.intermediate else 0
        if self._host is None:
            self.record_point(int(step), value)
            return False
        stop = self._host.record_report(self, value, int(step), checkpoint)
        if stop and not self.in_steps:
            raise TrialPruned(f"stopped by the scheduler at step {step}")
        return stop

    def record_param(self, name: str, dist: Distribution, value: Any) -> Any:
        """Keep a parameter's value and distribution (whoever sampled it); return the value."""
        self.params[name] = value
        self.distributions[name] = dist
        return value

    def record_point(self, step: int, value: float | Mapping[str, float],
                     checkpoint: Any = None) -> None:
        """Keep a point of the learning curve, or of every curve of a dict of metrics (and
        the checkpoint that came with it)."""
        if type(value) is not float and isinstance(value, Mapping):  # (see Study.record_report)
            for name, v in value.items():
                self.intermediate_metrics.setdefault(name, {})[step] = v
            value = value.get(self.objective_names[0], math.nan)
        self.intermediate[step] = value
        if checkpoint is not None:
            self.checkpoint = checkpoint

    # -- facts -------------------------------------------------------------------------------
    @property
    def duration(self) -> float | None:
        """Seconds from start to finish, ``None`` while running."""
        return None if self.finished is None else self.finished - self.started

    @property
    def objective_names(self) -> list[str]:
        """The names of the study's objectives, as far as this trial knows them."""
        return list(self.scoring.names) if self.scoring is not None else ["value"]

    @property
    def last_step(self) -> int | None:
        return max(self.intermediate) if self.intermediate else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able record of the trial."""
        return {
            "number": self.number, "state": self.state.value, "value": _json_number(self.value),
            "params": dict(self.params), "intermediate": {str(k): _json_number(v) for k, v in
                                                          self.intermediate.items()},
            "started": self.started, "finished": self.finished, "error": self.error,
            "manual": self.manual, "user_attrs": dict(self.user_attrs),
            "values": None if self.values is None else [_json_number(v) for v in self.values],
            "metrics": {k: _json_number(v) for k, v in self.metrics.items()},
            "feasible": self.feasible,
        }

    def __repr__(self) -> str:
        val = "" if self.value is None else f", value={format_number(self.value)}"
        return f"Trial(number={self.number}, state={self.state.value}{val}, params={self.params})"


def _report_value(value: Any, scoring: Any) -> float | dict[str, float]:
    """What ``tune.report`` was given, as a float or a dict of floats with the first
    objective in it; anything else is refused with the fix."""
    first = scoring.names[0] if scoring is not None else "value"
    if type(value) is not float and isinstance(value, Mapping):  # (see Study.record_report)
        out = {}
        for name, v in value.items():
            try:
                out[str(name)] = float(v)
            except (TypeError, ValueError):
                raise TuneError(f"tune.report got {v!r} ({type(v).__name__}) for {name!r}. "
                                "Report numbers.") from None
        if first not in out:
            raise TuneError(
                f"tune.report got a dict without {first!r} (keys: {', '.join(out) or 'none'}), "
                "the study's first objective, whose curve schedulers judge. Include it, or "
                "name the objectives to match (%%tune --maximize NAME / --minimize NAME).")
        return out
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TuneError(f"tune.report needs a number, got {value!r} "
                        f"({type(value).__name__}). Report a float score.") from None


def _json_number(v: float | None) -> float | None:
    if v is None or not math.isfinite(v):
        return None
    return v
