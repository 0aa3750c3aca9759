"""Numeric distributions: ``Float`` and ``Int``, and the checks of their bounds."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..exceptions import SpaceError
from ._base import Distribution

#: The bounds of an ``Int``: its values are 64-bit integers.
INT64_MAX = 2**63 - 1
#: The most values an ``Int`` may have: levels are counted in float64 then cast to int64,
#: which stays exact up to the last level only below 2**63.
MAX_INT_LEVELS = 2**62
_PLAIN = (int, float)


def _check_bounds(kind: str, low: float, high: float, log: bool) -> None:
    # Plain numbers well inside the float range first: a define-by-run cell builds its
    # distributions anew in every trial.
    if (type(low) in _PLAIN and type(high) in _PLAIN and -1e300 < low < high < 1e300
            and (low > 0 or not log)):
        return
    for name, v in (("low", low), ("high", high)):
        if not isinstance(v, (int, float, np.integer, np.floating)) or isinstance(v, bool):
            raise SpaceError(f"{kind}: {name}={v!r} is not a number. Pass numbers for low/high.")
        if not math.isfinite(v):
            raise SpaceError(f"{kind}: {name}={v!r} is not finite. Pass finite bounds.")
    if not low < high:
        raise SpaceError(
            f"{kind}: low={low!r} must be smaller than high={high!r}. Swap them, or use a "
            "constant instead of a distribution."
        )
    if not math.isfinite(float(high) - float(low)):
        raise SpaceError(
            f"{kind}: the range [{low!r}, {high!r}] is too wide to compute with (high - low "
            "overflows a float). Narrow it; for a value that spans many orders of magnitude, "
            "use positive bounds with log=True."
        )
    if log and low <= 0:
        raise SpaceError(
            f"{kind}: a log scale needs low > 0, got low={low!r}. Use a positive lower bound or "
            "log=False."
        )


class Float(Distribution):
    """A real number in ``[low, high]``, on a linear or log scale, optionally on a step grid.

    Examples
    --------
    >>> d = Float(1e-4, 1e-1, log=True)
    >>> round(d.default, 6)
    0.003162
    >>> d.from_unit(1.0)
    0.1
    """

    ordered = True

    def __init__(
        self, low: float, high: float, *, log: bool = False, step: float | None = None,
        default: float | None = None,
    ) -> None:
        _check_bounds("Float", low, high, log)
        if step is not None:
            if log:
                raise SpaceError("Float: step and log=True cannot be combined. Choose one.")
            if not step > 0:
                raise SpaceError(f"Float: step={step!r} must be positive.")
        self.low, self.high, self.log, self.step = float(low), float(high), bool(log), step
        if default is None:
            default = math.sqrt(low * high) if log else (low + high) / 2
            if not math.isfinite(default):  # low + high or low * high overflowed
                default = (math.exp((math.log(low) + math.log(high)) / 2) if log
                           else low / 2 + high / 2)
            default = self.clip(default)
        elif not self.contains(default):
            raise SpaceError(
                f"Float: default={default!r} lies outside [{low}, {high}]. Give a default inside "
                "the range."
            )
        self.default = float(default) if step is None else self.clip(default)

    def clip(self, value: Any) -> float:
        v = float(value)
        if self.step is None and self.low <= v <= self.high:
            return v
        return super().clip(min(self.high, max(self.low, v)))

    @property
    def n_levels(self) -> int | None:
        if self.step is None:
            return None
        # A tolerance so that a step that divides the range up to rounding reaches `high`.
        return int(math.floor((self.high - self.low) / self.step + 1e-9)) + 1

    def _value(self, k: int) -> float:
        return float(min(self.high, self.low + k * self.step))

    def to_unit(self, value: Any) -> float:
        v = float(value)
        if self.step is not None:
            k = min(self.n_levels - 1, max(0, round((v - self.low) / self.step)))
            return float(self.level_units(k)[0])
        if self.log:
            return (math.log(v) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (v - self.low) / (self.high - self.low)

    def from_unit(self, u: float) -> float:
        if self.step is not None:
            return self._value(int(self.level_index(u)))
        u = min(1.0, max(0.0, float(u)))
        if self.log:
            if u in (0.0, 1.0):  # exp(log(low)) can miss low by a rounding error
                return self.high if u else self.low
            lo, hi = math.log(self.low), math.log(self.high)
            return float(min(self.high, max(self.low, math.exp(lo + u * (hi - lo)))))
        return float(min(self.high, max(self.low, self.low + u * (self.high - self.low))))

    def grid(self) -> list[Any]:
        if self.step is None:
            return super().grid()
        return [self._value(k) for k in range(self.n_levels)]

    def contains(self, value: Any) -> bool:
        if type(value) is float and self.low <= value <= self.high:  # the usual case
            return True
        if isinstance(value, (bool, np.bool_)):  # (True is no number of a range, though 1)
            return False
        try:
            v = float(value)
        except (TypeError, ValueError, OverflowError):
            return False
        # In the range: a value between two steps is taken to its nearest step (clip), as
        # values given by hand and values of files written before a step was added are.
        return self.low - 1e-12 * abs(self.low) <= v <= self.high + 1e-12 * abs(self.high)

    def to_json(self) -> dict[str, Any]:
        return {"type": "float", "low": self.low, "high": self.high, "log": self.log,
                "step": self.step, **self._prior_json()}

    def _identity(self) -> Any:
        return (self.low, self.high, self.log, self.step)

    def __repr__(self) -> str:
        extra = ", log=True" if self.log else (f", step={self.step}" if self.step else "")
        return f"Float({self.low:g}, {self.high:g}{extra})"


class Int(Distribution):
    """An integer in ``[low, high]`` (both included), on a linear or log scale.

    Examples
    --------
    >>> Int(1, 8).grid()
    [1, 2, 3, 4, 5, 6, 7, 8]
    >>> Int(16, 256, log=True).default
    64
    """

    ordered = True

    def __init__(
        self, low: int, high: int, *, log: bool = False, step: int = 1, default: int | None = None,
    ) -> None:
        _check_bounds("Int", low, high, log)
        if int(low) != low or int(high) != high:
            raise SpaceError(f"Int: bounds must be integers, got low={low!r}, high={high!r}.")
        if int(step) != step or step < 1:
            raise SpaceError(f"Int: step={step!r} must be a positive integer.")
        if not -INT64_MAX - 1 <= int(low) <= int(high) <= INT64_MAX \
                or (int(high) - int(low)) // int(step) >= MAX_INT_LEVELS:
            raise SpaceError(
                f"Int: the range [{low}, {high}] is too large for the 64-bit numbers the "
                "samplers count its values in: the bounds must lie within +-(2**63 - 1) and "
                "the range may hold at most 2**62 values (about 4.6e18). Narrow the range, or "
                "draw a Float on a log scale and round it in the objective.")
        if log and step != 1:
            raise SpaceError("Int: step and log=True cannot be combined. Choose one.")
        self.low, self.high, self.log, self.step = int(low), int(high), bool(log), int(step)
        if default is None:
            centre = math.sqrt(low * high) if log else (low + high) / 2
            default = self.clip(centre)
        elif not self.contains(default):
            raise SpaceError(
                f"Int: default={default!r} is not an integer in [{low}, {high}] (step "
                f"{step}). Give a default inside the range."
            )
        self.default = int(default)

    @property
    def n_levels(self) -> int:
        return (self.high - self.low) // self.step + 1

    def _log_range(self) -> tuple[float, float]:
        # On a log scale value v owns [log(v - 0.5), log(v + 0.5)]: every integer gets a bin,
        # wider at the low end, so that sampling is uniform in the log.
        return math.log(self.low - 0.5), math.log(self.high + 0.5)

    def level_index(self, u: ArrayLike) -> np.ndarray:
        if not self.log:
            return super().level_index(u)
        lo, hi = self._log_range()
        v = np.round(np.exp(lo + np.asarray(u, dtype=float) * (hi - lo)))
        # Clipped again as integers: near 2**62 a float misses the last values.
        k = v.clip(self.low, self.high).astype(np.int64) - self.low
        return k.clip(0, self.n_levels - 1)

    def level_units(self, k: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.log:
            return super().level_units(k)
        lo, hi = self._log_range()
        v = self.low + np.asarray(k, dtype=float)
        centre, lower, upper = ((np.log(x) - lo) / (hi - lo) for x in (v, v - 0.5, v + 0.5))
        return centre, lower, upper

    def to_unit(self, value: Any) -> float:
        k = min(self.n_levels - 1, max(0, round((float(value) - self.low) / self.step)))
        return float(self.level_units(k)[0])

    def from_unit(self, u: float) -> int:
        return int(self.low + int(self.level_index(u)) * self.step)

    def grid(self) -> list[Any]:
        return list(range(self.low, self.high + 1, self.step))

    def refusal(self, value: Any) -> tuple[str, str]:
        if isinstance(value, (bool, np.bool_)):
            return super().refusal(value)
        try:
            number = value if isinstance(value, (int, np.integer)) else float(value)
        except (TypeError, ValueError, OverflowError):
            return super().refusal(value)
        if isinstance(number, float):
            if not math.isfinite(number):
                return super().refusal(value)
            if not number.is_integer():
                return "is not an integer", f"Give a whole number in the range of {self!r}"
        if self.low <= int(number) <= self.high:  # (off the step)
            return (f"is not on a step of {self!r}",
                    f"Give {self.low} plus a multiple of {self.step}")
        return f"is outside {self!r}", "Give a value in that range"

    def contains(self, value: Any) -> bool:
        if type(value) is int and self.step == 1:  # the usual case
            return self.low <= value <= self.high
        if isinstance(value, (bool, np.bool_)):  # (True is no integer of a range, though 1)
            return False
        if isinstance(value, (int, np.integer)):
            v = int(value)  # exact: a float loses the last digits of a large integer
        else:
            try:
                f = float(value)
            except (TypeError, ValueError, OverflowError):
                return False
            if not f.is_integer():
                return False
            v = int(f)
        return self.low <= v <= self.high and (v - self.low) % self.step == 0

    def clip(self, value: Any) -> int:
        if self.step == 1 and type(value) in _PLAIN and self.low <= value <= self.high:
            return value if type(value) is int else round(value)
        if isinstance(value, (int, np.integer)):
            v = int(value)  # exact: through a float, 2**60 + 1 would become 2**60
        else:
            v = round(min(self.high, max(self.low, float(value))))
        v = min(self.high, max(self.low, v))
        q, r = divmod(v - self.low, self.step)
        q += 2 * r > self.step or (2 * r == self.step and q % 2 == 1)  # half to even, as round
        return self.low + min(q, self.n_levels - 1) * self.step

    def to_json(self) -> dict[str, Any]:
        return {"type": "int", "low": self.low, "high": self.high, "log": self.log,
                "step": self.step, **self._prior_json()}

    def _identity(self) -> Any:
        return (self.low, self.high, self.log, self.step)

    def __repr__(self) -> str:
        extra = ", log=True" if self.log else (f", step={self.step}" if self.step != 1 else "")
        return f"Int({self.low}, {self.high}{extra})"
