"""The base class of the distributions: sampling, priors and the unit-interval encoding.

A discrete distribution's levels each own a bin of ``[0, 1]`` and stand at its centre; the
level methods here implement that for equal bins, and subclasses override them for others
(``Int`` on a log scale).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._stored import restore, stored_form
from ..exceptions import SpaceError

#: Share of random draws near a parameter's prior, and their width on the unit interval: a
#: good guess starts the search near it, a misleading one costs half of the random trials.
PRIOR_SHARE = 0.5
PRIOR_WIDTH = 0.1


class Distribution(ABC):
    """Base class of the distributions.

    Subclasses set ``log`` and ``default`` and implement the unit-interval mapping; a discrete
    one also sets ``n_levels``. The level methods take numpy arrays (or scalars).

    Examples
    --------
    >>> from hpt_magic.distributions import Int
    >>> d = Int(1, 4)
    >>> d.n_levels, d.unit_levels().tolist()
    (4, [0.125, 0.375, 0.625, 0.875])
    >>> d.to_unit(2), d.from_unit(0.3), d.snap_unit([0.0, 0.3, 1.0]).tolist()
    (0.375, 2, [0.125, 0.375, 0.875])
    """

    log: bool = False
    default: Any = None
    #: A user's guess of a good value (``tune.*(..., prior=...)``): half of the random draws
    #: land near it (see :meth:`sample`), so early trials start from what the user knows.
    prior: Any = None
    #: Whether values near the prior are drawn on the unit interval (numbers), or the prior
    #: itself is drawn (options and other discrete values).
    ordered = False

    def sample(self, rng: np.random.Generator) -> Any:
        """Draw one value uniformly on the distribution's scale (near the prior, if any, half
        of the time)."""
        if self.prior is not None and rng.random() < PRIOR_SHARE:
            return self.sample_near_prior(rng)
        return self.from_unit(rng.random())

    def sample_near_prior(self, rng: np.random.Generator) -> Any:
        """A value near :attr:`prior`: a normal draw of width :data:`PRIOR_WIDTH` on the unit
        interval around it (the prior itself for a choice)."""
        if self.n_levels is not None and not self.ordered:
            return self.prior
        u = self.to_unit(self.prior) + PRIOR_WIDTH * rng.standard_normal()
        return self.from_unit(min(1.0, max(0.0, u)))

    def with_prior(self, prior: Any) -> Distribution:
        """Set :attr:`prior` (checked to lie in the distribution); return ``self``."""
        if prior is not None and not self.contains(prior):
            raise SpaceError(f"{self!r}: prior={prior!r} is not one of its values. Give a "
                             "prior inside the range (or one of the options).")
        self.prior = prior
        return self

    def _prior_json(self) -> dict[str, Any]:
        return {} if self.prior is None else {"prior": self.prior}

    @abstractmethod
    def to_unit(self, value: Any) -> float:
        """Map a value to ``[0, 1]``."""

    @abstractmethod
    def from_unit(self, u: float) -> Any:
        """Map a point of ``[0, 1]`` back to a valid value (rounded for ints, steps, choices)."""

    @property
    def n_levels(self) -> int | None:
        """How many values a discrete distribution has; ``None`` for a continuous one."""
        return None

    def level_index(self, u: ArrayLike) -> np.ndarray:
        """The level (``0 .. n_levels - 1``) that each point ``u`` of the unit interval stands
        for; points outside ``[0, 1]`` count as the nearest end."""
        n = self._levels()
        if isinstance(u, (float, int)):  # one value (every trial): no array round trip
            return np.int64(min(max(math.floor(u * n), 0), n - 1))
        # Clipped as integers: n - 1 as a float may round up to n.
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        return np.minimum(np.floor(u * n).astype(np.int64), n - 1)

    def level_units(self, k: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Where levels ``k`` sit in the unit interval: ``(centre, lower edge, upper edge)``."""
        n = self._levels()
        k = np.asarray(k, dtype=float)
        return (k + 0.5) / n, k / n, (k + 1) / n

    def snap_unit(self, u: ArrayLike) -> np.ndarray:
        """``to_unit(from_unit(u))`` for an array: ``u`` clipped to ``[0, 1]``, and a discrete
        distribution's points moved to the centre of their level."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        return u if self.n_levels is None else self.level_units(self.level_index(u))[0]

    def unit_levels(self) -> np.ndarray:
        """The unit values of all levels, in order."""
        return self.level_units(np.arange(self._levels()))[0]

    def _levels(self) -> int:
        n = self.n_levels
        if n is None:
            raise SpaceError(f"{self!r} is continuous: it has no levels in the unit interval.")
        return n

    def grid(self) -> list[Any]:
        """The values a grid search enumerates."""
        raise SpaceError(
            f"{self!r} cannot be enumerated for grid search: a continuous Float has no grid. "
            "Give it a step (Float(low, high, step=...)) or list the points with tune.grid([...])."
        )

    @abstractmethod
    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a value of this distribution."""

    def refusal(self, value: Any) -> tuple[str, str]:
        """Why ``value`` is not one of its values, as a sentence about the value goes on, and
        what to give instead: ``("is outside Float(0, 1)", "Give a value in that range")``."""
        if isinstance(value, (bool, np.bool_)):
            return "is a truth value, not a number", f"Give a number in the range of {self!r}"
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            number = math.nan
        if math.isnan(number):
            return "is not a number", f"Give a number in the range of {self!r}"
        return f"is outside {self!r}", "Give a value in that range"

    def clip(self, value: Any) -> Any:
        """The valid value nearest to ``value``."""
        return self.from_unit(min(1.0, max(0.0, self.to_unit(value))))

    @abstractmethod
    def to_json(self) -> dict[str, Any]:
        """A JSON-able description, the inverse of :func:`from_json`."""

    def to_stored(self, value: Any) -> Any:
        """``value`` as a study file stores it: JSON data (see :mod:`hpt_magic._stored`)."""
        return stored_form(value)

    def from_stored(self, data: Any) -> Any:
        """The value that stored ``data`` stands for: the inverse of :meth:`to_stored`."""
        return restore(data)

    def __eq__(self, other: object) -> bool:
        # The prior is a hint for sampling, not part of what the values mean.
        return type(other) is type(self) and _shape(other) == _shape(self)

    def _identity(self) -> Any:
        """What makes two distributions of one class equal: everything but the prior."""
        data = self.to_json()
        data.pop("prior", None)
        return data

    def __hash__(self) -> int:
        # By the shape, as equality: a choice read from a file equals the one a cell defines.
        return hash((type(self).__name__, repr(_shape(self))))


def _shape(dist: Distribution) -> Any:
    # Kept on the instance: a distribution's shape never changes (only its prior may), and
    # define-by-run compares the cell's distribution with the study's at every call.
    data = dist.__dict__.get("_shape")
    if data is None:
        data = dist._identity()
        dist.__dict__["_shape"] = data
    return data
