"""What a study scores: its objectives, their directions and the constraints on its metrics.

:class:`Objectives` judges what an objective returned (a number, a dict of named numbers or a
tuple) in the process where the objective ran, as :func:`check_score` does for one score: a
worker then sends the kernel numbers or a reason, never a value that cannot travel.
"""

from __future__ import annotations

import math
import re
import reprlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..exceptions import TuneError
from ..trial import Direction, Trial, TrialState
from ._objective import Failure, check_score

__all__ = ["Constraint", "Objectives", "Scores", "default_names"]

#: What no metric's name holds and two bounds written as one do ("a <= 1, b >= 2").
_SEPARATORS = re.compile(r"[<>=,;]|\s(?:and|or)\s")
# NAME as objectives may be named: "val/loss" (Lightning), "recall@10", "top-1 acc".
_CONSTRAINT = re.compile(
    r"^\s*(\S.*?)\s*(<=|>=)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


def default_names(k: int) -> list[str]:
    """The names of ``k`` objectives that were not named: ``value``, or ``value_0``...

    >>> default_names(1), default_names(2)
    (['value'], ['value_0', 'value_1'])
    """
    return ["value"] if k == 1 else [f"value_{i}" for i in range(k)]


class Constraint:
    """A bound on one metric of a trial: ``"size_mb <= 20"`` or ``"recall >= 0.8"``.

    Parsed, never evaluated: a name, ``<=`` or ``>=``, and a number.

    Examples
    --------
    >>> c = Constraint.parse("size_mb <= 20")
    >>> c, c.violation(25.0), c.violation(12.0)
    (Constraint('size_mb <= 20'), 5.0, 0.0)
    """

    def __init__(self, name: str, op: str, bound: float) -> None:
        self.name, self.op, self.bound = name, op, float(bound)

    @classmethod
    def parse(cls, text: str | Constraint) -> Constraint:
        if isinstance(text, Constraint):
            return text
        if callable(text):
            raise TuneError(
                "A constraint is text of the form 'NAME <= NUMBER' or 'NAME >= NUMBER', not a "
                f"function ({getattr(text, '__qualname__', type(text).__name__)}): return the "
                "constrained metric in the objective's dict and bound it by name, e.g. "
                "constraints=['size_mb <= 20'] (--constraint 'size_mb <= 20').")
        match = _CONSTRAINT.match(str(text))
        if match is not None and _SEPARATORS.search(match.group(1)):
            raise TuneError(
                f"The constraint {text!r} holds more than one bound: give each as a "
                "constraint of its own, e.g. --constraint 'size_mb <= 20' --constraint "
                "'acc >= 0.5' (constraints=['size_mb <= 20', 'acc >= 0.5']).")
        if match is None or not math.isfinite(float(match.group(3))):
            raise TuneError(
                f"The constraint {text!r} is not of the form 'NAME <= NUMBER' or 'NAME >= "
                "NUMBER' (NAME a key of the dict the objective returns). Example: --constraint "
                "'size_mb <= 20'.")
        return cls(match.group(1), match.group(2), float(match.group(3)))

    def violation(self, value: float) -> float:
        """How far ``value`` is beyond the bound (0 when the constraint holds)."""
        excess = value - self.bound if self.op == "<=" else self.bound - value
        return max(0.0, float(excess))

    def __str__(self) -> str:
        return f"{self.name} {self.op} {_bound_text(self.bound)}"

    def __repr__(self) -> str:
        return f"Constraint({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Constraint) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


class Scores:
    """A judged result: one value per objective, every number returned, and feasibility."""

    def __init__(self, values: list[float], metrics: dict[str, float],
                 feasible: bool | None) -> None:
        self.values, self.metrics, self.feasible = values, metrics, feasible

    @property
    def value(self) -> float:
        return self.values[0]

    def __repr__(self) -> str:
        return f"Scores(values={self.values}, metrics={self.metrics}, feasible={self.feasible})"


class Objectives:
    """The objectives of a study (names and directions, in order) and its constraints.

    Parameters
    ----------
    names : list of str
        One per objective; the keys of the dict an objective returns.
    directions : list of str or Direction
    constraints : list of str or Constraint

    Examples
    --------
    >>> spec = Objectives(["accuracy", "latency_ms"], ["max", "min"], ["size_mb <= 20"])
    >>> spec.judge({"accuracy": 0.9, "latency_ms": 3, "size_mb": 25})
    (Scores(values=[0.9, 3.0], metrics={'accuracy': 0.9, 'latency_ms': 3.0, 'size_mb': 25.0}, \
feasible=False), None)
    >>> spec.judge({"accuracy": 0.9})[1]
    "the result has no 'latency_ms' (its keys: accuracy): return every objective (accuracy, \
latency_ms) and every metric a constraint uses (size_mb)"
    """

    def __init__(self, names: Sequence[str], directions: Sequence[str | Direction],
                 constraints: Sequence[str | Constraint] = ()) -> None:
        self.names = [str(n) for n in names]
        self.directions = [Direction(d) for d in directions]
        self.constraints = [Constraint.parse(c) for c in constraints]
        if len(self.names) != len(self.directions) or not self.names:
            raise TuneError(f"Give one direction per objective: objectives {self.names} and "
                            f"directions {[d.value for d in self.directions]} differ in length.")
        #: Set when a single float is all a result needs (one objective, no constraints).
        self._plain_single = True if len(self.names) == 1 and not self.constraints else None
        if len(set(self.names)) != len(self.names):
            raise TuneError(f"The objectives {self.names} name one objective twice. Give each "
                            "objective its own name.")

    @property
    def multi(self) -> bool:
        return len(self.names) > 1

    @property
    def named(self) -> bool:
        """Whether the objectives were named (not ``value``, ``value_0``...)."""
        return self.names != default_names(len(self.names))

    # -- judging a result ------------------------------------------------------------------
    def judge(self, result: Any) -> tuple[Scores | None, Failure | None]:
        """``(Scores, None)``, or ``(None, reason)`` saying what is wrong with ``result`` (a
        :class:`Failure`, with a kind when its type or shape is to blame)."""
        if isinstance(result, Scores):
            return result, None
        if type(result) is float and self._plain_single and math.isfinite(result):
            # The common case, once per trial: one finite float for one objective.
            return Scores([result], {self.names[0]: result}, None), None
        if isinstance(result, Mapping):
            metrics, reason = self._from_mapping(result)
        elif isinstance(result, (tuple, list, np.ndarray)):
            metrics, reason = self._from_sequence(result)
        elif self.multi:
            # Text, None or a model is no number: say what came back, not "one number (None)".
            what = _returned(result)
            if _is_number(result):
                value = check_score(result)[0]
                what = f"one number ({reprlib.repr(result if value is None else value)})"
            return None, Failure(
                f"the objective returned {what} but the study has {len(self.names)} "
                f"objectives ({', '.join(self.names)}): return a dict with those keys, or a "
                "tuple in that order", "one number for several objectives")
        else:
            value, reason = check_score(result)
            metrics = {self.names[0]: value} if reason is None else {}
        if reason is not None:
            return None, reason
        missing = [c.name for c in self.constraints if c.name not in metrics]
        if missing:
            return None, Failure(f"the result has no {missing[0]!r}, which the constraint "
                                 f"'{self._constraint(missing[0])}' needs: return it in the dict",
                                 f"no {missing[0]!r}")
        values = [metrics[n] for n in self.names]
        return Scores(values, metrics, self.feasible(metrics)), None

    def _from_mapping(self, result: Mapping) -> tuple[dict[str, float], Failure | None]:
        metrics: dict[str, float] = {}
        needed = set(self.names) | {c.name for c in self.constraints}
        for key, raw in result.items():
            key = str(key)
            if key not in needed and not _is_number(raw):
                continue  # text, arrays, models: not metrics, and not asked for
            value, why = check_score(raw)
            if why is not None:
                return {}, _of(key, why)
            metrics[key] = value  # type: ignore[assignment]
        for name in self.names:
            if name not in metrics:
                keys = ", ".join(map(str, result)) or "none"
                if not self.named:
                    return {}, Failure(
                        f"the objective returned a dict (keys: {keys}) but the study's "
                        "objective has no name: name it with --maximize NAME or --minimize "
                        "NAME (Study(objectives=[NAME]))", "a dict for an unnamed objective")
                uses = sorted({c.name for c in self.constraints})
                also = (f" and every metric a constraint uses ({', '.join(uses)})"
                        if uses else "")
                return {}, Failure(f"the result has no {name!r} (its keys: {keys}): return "
                                   f"every objective ({', '.join(self.names)}){also}",
                                   f"no {name!r}")
        return metrics, None

    def _from_sequence(self, result: Any) -> tuple[dict[str, float], Failure | None]:
        items = list(result)
        if len(items) != len(self.names) and not self.multi:
            needs = sorted({c.name for c in self.constraints})
            what = (f"a dict with {', '.join([self.names[0], *needs])} (the objective and the "
                    "metrics its constraints read)" if needs else
                    "one number (for several objectives, give them: --directions max,min, or "
                    "Study(directions=[...]))")
            return {}, Failure(f"the objective returned {len(items)} values where the study "
                               f"has one objective: return {what}", "the wrong number of values")
        if len(items) != len(self.names):
            return {}, Failure(f"the objective returned {len(items)} values but the study has "
                               f"{len(self.names)} objectives ({', '.join(self.names)}): return "
                               "one value per objective, in that order",
                               "the wrong number of values")
        metrics = {}
        for name, raw in zip(self.names, items):
            value, why = check_score(raw)
            if why is not None:
                return {}, _of(name, why)
            metrics[name] = value
        return metrics, None

    def _constraint(self, name: str) -> Constraint:
        return next(c for c in self.constraints if c.name == name)

    def violation(self, metrics: Mapping[str, float]) -> float:
        """The summed violation of the constraints (0: feasible; a missing metric counts as
        violated by 1)."""
        total = 0.0
        for c in self.constraints:
            value = metrics.get(c.name)
            total += 1.0 if value is None or not math.isfinite(value) else c.violation(value)
        return total

    def feasible(self, metrics: Mapping[str, float]) -> bool | None:
        """Whether ``metrics`` meet every constraint; ``None`` when there is none."""
        return None if not self.constraints else self.violation(metrics) == 0.0

    # -- what samplers learn from a trial --------------------------------------------------
    def losses(self, trial: Trial) -> tuple[np.ndarray | None, float]:
        """A finished trial's losses (one per objective, lower is better) and its constraint
        violation; a pruned trial counts with its last reports (and as feasible). ``None``
        when some loss is missing or not finite."""
        if trial.state is TrialState.COMPLETE and trial.values is not None:
            raw: list[Any] = list(trial.values)
            violation = self.violation(trial.metrics) if self.constraints else 0.0
        elif trial.state is TrialState.PRUNED:
            raw = [_last(trial.intermediate)] + [
                _last(trial.intermediate_metrics.get(n, {})) for n in self.names[1:]]
            violation = 0.0
        else:
            return None, 0.0
        if len(raw) != len(self.names) or any(v is None or not math.isfinite(v) for v in raw):
            return None, violation
        return np.array([d.sign * v for d, v in zip(self.directions, raw)]), violation

    # -- storage ---------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {"objectives": [{"name": n, "direction": d.value}
                               for n, d in zip(self.names, self.directions)],
                "constraints": [str(c) for c in self.constraints]}

    @classmethod
    def from_json(cls, attrs: Mapping[str, Any], direction: str) -> Objectives:
        """The objectives stored in a study's attributes (one unnamed objective going
        ``direction`` for a study written before studies had several)."""
        objectives = attrs.get("objectives") or [{"name": "value", "direction": direction}]
        return cls([o["name"] for o in objectives], [o["direction"] for o in objectives],
                   attrs.get("constraints") or ())

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Objectives) and self.names == other.names
                and self.directions == other.directions
                and self.constraints == other.constraints)

    def __repr__(self) -> str:
        objectives = ", ".join(f"{n} ({d.value})" for n, d in zip(self.names, self.directions))
        return f"Objectives({objectives}; constraints {[str(c) for c in self.constraints]})"


def _of(name: str, why: Failure) -> Failure:
    """``why`` a result's ``name`` is refused, as the result's failure (of the same kind)."""
    return Failure(f"{name!r}: {why}", None if why.kind is None else f"{name!r}: {why.kind}")


def _bound_text(bound: float) -> str:
    """The shortest ``g`` text of ``bound`` that reads back as ``bound``: the text is what a
    study stores and compares, so ``1234567`` must not become ``1.23457e+06``.

    >>> _bound_text(20.0), _bound_text(1234567.0), _bound_text(0.1), _bound_text(1e-05)
    ('20', '1234567', '0.1', '1e-05')
    """
    for digits in range(6, 17):
        text = f"{bound:.{digits}g}"
        if float(text) == bound:
            return text
    return repr(bound)


def _returned(value: Any) -> str:
    """What an objective returned that is not a number, for a message: ``None``, text with
    its first characters, else the type."""
    if value is None:
        return "None"
    if isinstance(value, (str, bytes, bool)):
        return f"a {type(value).__name__} ({reprlib.repr(value)})"
    return f"an object of type {type(value).__name__}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, bool)


def _last(curve: Mapping[int, float]) -> float | None:
    return curve[max(curve)] if curve else None
