"""The ``param_space`` of a :class:`~hpt_magic.sklearn.TuneSearchCV`: scikit-learn style values
(lists, arrays, frozen ``scipy.stats`` distributions) turned into our distributions."""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.stats import rv_discrete
from sklearn.base import clone

from ..distributions import Distribution, Float, Int, check_space
from ..exceptions import SpaceError

__all__ = ["SUBSPACE", "ScipyDistribution", "to_distribution"]

#: With a list of dicts as ``param_space``, the study parameter that picks one of them.
SUBSPACE = "param_space_index"

_TAIL = 1e-6


class ScipyDistribution(Distribution):
    """A frozen ``scipy.stats`` distribution, searched on its quantile scale.

    The unit interval maps to values through the distribution's ``ppf`` (and back through its
    ``cdf``), so drawing uniformly on ``[0, 1]`` draws from the distribution itself (the
    outer ``1e-6`` of each tail is cut off), and model-based samplers see its quantiles.

    Examples
    --------
    >>> from scipy.stats import norm
    >>> d = ScipyDistribution(norm(0, 1))
    >>> d.from_unit(0.5), round(d.to_unit(1.0), 4)
    (0.0, 0.8413)
    """

    def __init__(self, rv: Any) -> None:
        self.rv = rv
        self.discrete = isinstance(rv.dist, rv_discrete)
        self.low, self.high = (float(v) for v in rv.support())
        self.default = self.from_unit(0.5)

    def to_unit(self, value: Any) -> float:
        v = float(value)
        if self.discrete:
            return float((self.rv.cdf(v - 1) + self.rv.cdf(v)) / 2)
        return float(self.rv.cdf(v))

    def from_unit(self, u: float) -> Any:
        v = float(self.rv.ppf(min(1 - _TAIL, max(_TAIL, float(u)))))
        return int(v) if self.discrete else v

    def contains(self, value: Any) -> bool:
        try:
            v = float(value)
        except (TypeError, ValueError):
            return False
        return self.low <= v <= self.high and (not self.discrete or v == int(v))

    def clip(self, value: Any) -> Any:
        v = min(self.high, max(self.low, float(value)))
        return int(round(v)) if self.discrete else v

    def to_json(self) -> dict[str, Any]:
        return {"type": "scipy", "name": self.rv.dist.name, "args": list(self.rv.args),
                "kwds": dict(self.rv.kwds)}

    def __repr__(self) -> str:
        args = [repr(a) for a in self.rv.args] + [f"{k}={v!r}" for k, v in self.rv.kwds.items()]
        return f"scipy.stats.{self.rv.dist.name}({', '.join(args)})"


def to_distribution(name: str, value: Any) -> Any:
    """Turn one entry of a scikit-learn style ``param_space`` into a distribution.

    Lists stay lists (they become grid points), and so do one-dimensional arrays and ranges,
    as ``GridSearchCV`` takes them; ``scipy.stats`` ``uniform``, ``loguniform`` and ``randint``
    become :class:`Float` / :class:`Int` (same law, readable in the study); other frozen scipy
    distributions become a :class:`ScipyDistribution`.

    Examples
    --------
    >>> import numpy as np
    >>> to_distribution("C", np.logspace(-1, 1, 3)), to_distribution("degree", range(2, 5))
    ([0.1, 1.0, 10.0], [2, 3, 4])
    """
    return _to_distribution(name, value, "param_space")


def _to_distribution(name: str, value: Any, argument: str) -> Any:
    """:func:`to_distribution`, its errors naming the space as ``argument`` (the name the
    user gave it: ``param_space`` or ``param_distributions``)."""
    if isinstance(value, Distribution):
        return value
    if isinstance(value, np.ndarray):
        if value.ndim != 1:
            raise SpaceError(
                f"{argument}[{name!r}] is an array of shape {value.shape}; grid values must "
                "be one-dimensional, e.g. np.logspace(-3, 3, 7).")
        value = value.tolist()
    if isinstance(value, range):
        value = list(value)
    if isinstance(value, (list, tuple)):
        if not value:  # (the grid's own error would not say which parameter)
            raise SpaceError(
                f"{argument}[{name!r}] has no values. Give at least one, e.g. "
                f"{{{name!r}: [0.1, 1.0]}}, or leave {name!r} out of {argument}.")
        return value
    if hasattr(value, "dist") and hasattr(value, "ppf") and hasattr(value, "support"):
        lo, hi = (float(v) for v in value.support())
        kind = value.dist.name
        if kind == "uniform":
            return Float(lo, hi)
        if kind in ("loguniform", "reciprocal") and math.isclose(
                float(value.ppf(0.5)), math.sqrt(lo * hi), rel_tol=1e-9):
            return Float(lo, hi, log=True)
        if kind == "randint":
            return Int(int(lo), int(hi))
        return ScipyDistribution(value)
    raise SpaceError(
        f"{argument}[{name!r}] = {value!r} is not a distribution. Use hpt_magic's Float, Int "
        "or Choice, a list of values, or a frozen scipy.stats distribution such as "
        "loguniform(1e-3, 1e2).")


def _spaces(param_space: Any, estimator: Any, argument: str) -> list[dict[str, Distribution]]:
    """``param_space`` as a list of checked spaces whose names ``estimator`` has. Errors name
    it ``argument``: as the user gave it, ``param_space`` or ``param_distributions``."""
    spaces = param_space if isinstance(param_space, list) else [param_space]
    if not spaces:
        raise SpaceError(f"TuneSearchCV: {argument} is an empty list. Give a dict of "
                         "parameter -> distribution, or a list of such dicts.")
    for i, space in enumerate(spaces):
        if isinstance(space, Mapping) and not space:
            where = argument if space is param_space else f"{argument}[{i}]"
            first = min(estimator.get_params(deep=False), default="C")
            raise SpaceError(
                f"TuneSearchCV: {where} is empty. Give it at least one parameter of the "
                f"estimator to search, e.g. {{{first!r}: [...]}}.")
        if not isinstance(space, Mapping):
            kind = f"list of {type(space).__name__}" if space is not param_space else \
                type(space).__name__
            raise SpaceError(
                f"TuneSearchCV: {argument} must be a dict of parameter name -> values or "
                f"distribution, or a list of such dicts (as GridSearchCV takes); got {kind}: "
                f"{space!r:.80}. Example: {{'C': Float(1e-2, 1e2, log=True), 'kernel': "
                "['rbf', 'linear']}.")
        _check_names(space, estimator, argument)
    return [{k: _checked(k, v, argument) for k, v in space.items()} for space in spaces]


def _checked(name: str, value: Any, argument: str) -> Distribution:
    """One entry of ``argument`` as a checked distribution; the distribution's own errors
    (a grid listing a value twice) say which parameter they are about."""
    dist = _to_distribution(name, value, argument)
    try:
        return check_space({name: dist})[name]
    except SpaceError as exc:
        raise SpaceError(f"TuneSearchCV: {argument}[{name!r}]: {exc}") from None


def _check_names(space: Mapping[str, Any], estimator: Any, argument: str) -> None:
    """Raise a :class:`SpaceError` for a name that ``estimator.set_params`` would refuse, before
    anything is fitted (scikit-learn finds out at the first fit of the first candidate)."""
    known = set(estimator.get_params(deep=True))
    for name in space:
        parts = name.split("__")
        # A step or sub-estimator that the space itself swaps in brings its own parameters.
        if name in known or any("__".join(parts[:i]) in space for i in range(1, len(parts))):
            continue
        if _takes(estimator, name):
            continue  # not listed but taken: LightGBM's and XGBoost's booster parameters
        guess = _guess(name, estimator, known)
        raise SpaceError(
            f"TuneSearchCV: {name!r} in {argument} is not a parameter of "
            f"{type(estimator).__name__}" + (f" (did you mean {guess!r}?)" if guess else "") +
            ". Name the parameters as estimator.get_params() lists them; inside a Pipeline a "
            "step's parameter is step__param, with the step's name.")


def _takes(estimator: Any, name: str) -> bool:
    """Whether ``estimator.set_params`` takes ``name`` (tried on a copy)."""
    try:
        clone(estimator).set_params(**{name: None})
    except Exception:
        return False
    return True


def _guess(name: str, estimator: Any, known: set[str]) -> str | None:
    """The parameter ``name`` most likely meant: the same parameter of another Pipeline step,
    else the closest known name."""
    _, nested, rest = name.partition("__")
    for step in getattr(estimator, "named_steps", {}) if nested else ():
        if f"{step}__{rest}" in known:
            return f"{step}__{rest}"
    close = difflib.get_close_matches(name, known, n=1)
    return close[0] if close else None


def _study_names(spaces: list[dict[str, Distribution]]) -> list[dict[str, str]]:
    """Per dict, the study's name of each parameter: its own, or ``name[i]`` when the dicts
    give it different distributions (a study name has one distribution)."""
    first: dict[str, Distribution] = {}
    clash = {n for space in spaces for n, d in space.items() if first.setdefault(n, d) != d}
    return [{n: f"{n}[{i}]" if n in clash else n for n in space}
            for i, space in enumerate(spaces)]
