"""Search spaces: checking them, rebuilding their distributions from JSON, and their grids."""

from __future__ import annotations

import math
import operator
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from .._stored import restore
from ..exceptions import SpaceError
from ._base import Distribution
from ._choice import Choice, Grid
from ._numeric import Float, Int


def from_json(data: Mapping[str, Any]) -> Distribution:
    """Rebuild a distribution from :meth:`Distribution.to_json`.

    Examples
    --------
    >>> from_json(Float(0, 1).to_json())
    Float(0, 1)
    """
    kind = data.get("type")
    dist: Distribution
    if kind == "float":
        dist = Float(data["low"], data["high"], log=data["log"], step=data.get("step"))
    elif kind == "int":
        dist = Int(data["low"], data["high"], log=data["log"], step=data.get("step", 1))
    elif kind in ("choice", "grid"):
        options = restore(data["options"])
        for i in data.get("tuples", ()):
            options[i] = tuple(options[i])
        dist = (Grid if kind == "grid" else Choice)(options)
    else:
        raise SpaceError(f"Unknown distribution type {kind!r} in a stored study.")
    return dist.with_prior(data.get("prior"))


def check_space(space: Mapping[str, Distribution]) -> dict[str, Distribution]:
    """Validate a ``{name: distribution}`` mapping and return it as a dict."""
    if not isinstance(space, Mapping):
        raise SpaceError(
            f"space must be a dict of name -> distribution, got {type(space).__name__}. Example: "
            "{'lr': Float(1e-4, 1e-1, log=True)}.")
    if not space:
        raise SpaceError(
            "The search space is empty. Add at least one distribution, e.g. "
            "{'lr': Float(1e-4, 1e-1, log=True)}, or leave space=None and define parameters "
            "inside the objective with tune.* calls.")
    out = {}
    for name, dist in space.items():
        if not isinstance(name, str) or not name:
            raise SpaceError(f"Parameter names must be non-empty strings, got {name!r}.")
        if isinstance(dist, (list, tuple)):
            dist = Grid(dist)
        if not isinstance(dist, Distribution):
            raise SpaceError(
                f"Parameter {name!r}: {dist!r} is not a distribution. Use Float, Int or Choice "
                "(or a list for a grid).")
        out[name] = dist
    return out


def check_compatible(known: Mapping[str, Distribution], space: Mapping[str, Distribution], *,
                     owner: str, allow_missing: bool = False,
                     names: Iterable[str] | None = None) -> None:
    """Raise a :class:`SpaceError` when ``space`` clashes with the ``known`` (stored) one.

    Adding parameters is fine; changing a distribution is not, nor is dropping a parameter
    (unless ``allow_missing``). ``names`` are parameters known to exist without their
    distribution (read from a cell before it runs).
    """
    for name, dist in space.items():
        old = known.get(name)
        if old is not None and old != dist:
            raise SpaceError(
                f"{owner} stores parameter {name!r} as {old!r}, the search space now says "
                f"{dist!r}. A changed space would mix incomparable trials: keep the old "
                "definition, or start afresh with --new (the old trials are kept under a "
                "renamed study).")
    present = set(space) | set(names or ())
    dropped = [n for n in known if n not in present]
    if dropped and not allow_missing:
        raise SpaceError(
            f"{owner} has parameters {dropped} that the search space no longer defines. Only "
            "adding parameters to a stored study is allowed: put them back, or start afresh "
            "with --new.")


class ParameterGrid:
    """The cartesian product of the grids of a space, as a small sized iterable.

    The last parameter varies fastest. ``size`` is exact however large the grid; ``len()``
    cannot report more than ``sys.maxsize`` points, so it raises a :class:`SpaceError` beyond
    that, while indexing and iteration stay lazy and work at any size.

    Examples
    --------
    >>> g = ParameterGrid({"a": Int(1, 2), "b": Choice(["x", "y"])})
    >>> len(g), g[3]
    (4, {'a': 2, 'b': 'y'})
    >>> huge = ParameterGrid({f"p{i}": Int(0, 9) for i in range(20)})
    >>> huge.size, huge[123]["p17"]
    (100000000000000000000, 1)
    """

    def __init__(self, space: Mapping[str, Distribution]) -> None:
        self.names = list(space)
        self.values: list[Sequence[Any]] = []
        #: How many values each parameter has (``len()`` of a range stops at sys.maxsize).
        self.counts: list[int] = []
        for dist in map(space.__getitem__, self.names):
            # An integer range stays a lazy `range`: it may hold more values than memory.
            values = range(dist.low, dist.high + 1, dist.step) if isinstance(dist, Int) \
                else dist.grid()
            self.values.append(values)
            self.counts.append(dist.n_levels if isinstance(dist, Int) else len(values))

    @property
    def size(self) -> int:
        """The number of points (an exact Python integer)."""
        return math.prod(self.counts) if self.values else 0

    def __len__(self) -> int:
        size = self.size
        if size > sys.maxsize:
            raise SpaceError(
                f"The grid has {size} points, more than len() can count (at most "
                f"{sys.maxsize}). Use grid.size for the exact count; indexing and iteration "
                "still work.")
        return size

    def __getitem__(self, index: int) -> dict[str, Any]:
        index = operator.index(index)
        size = self.size
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError(f"grid index out of range (the grid has {size} points)")
        out = {}
        for name, vals, count in zip(reversed(self.names), reversed(self.values),
                                     reversed(self.counts)):
            index, k = divmod(index, count)
            out[name] = vals[k]
        return {n: out[n] for n in self.names}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        # By index: itertools.product would copy every integer range into memory first.
        return map(self.__getitem__, range(self.size))
