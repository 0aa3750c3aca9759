"""Samplers: one algorithm per module behind :class:`Sampler`."""

from __future__ import annotations

from typing import Any

from ..exceptions import TuneError
from ._base import Sampler, observations
from ._cmaes import CmaEsSampler
from ._gp import GPSampler
from ._grid import GridSampler
from ._nsga2 import NSGAIISampler
from ._random import RandomSampler
from ._tpe import TPESampler

__all__ = ["Sampler", "RandomSampler", "GridSampler", "TPESampler", "GPSampler", "CmaEsSampler",
           "NSGAIISampler", "make_sampler", "observations", "SAMPLERS"]

#: Sampler classes by the name ``--sampler`` takes. Model-based samplers register here.
SAMPLERS: dict[str, type[Sampler]] = {"random": RandomSampler, "grid": GridSampler,
                                      "tpe": TPESampler, "gp": GPSampler,
                                      "cmaes": CmaEsSampler, "nsga2": NSGAIISampler}


def make_sampler(sampler: str | Sampler | None, seed: int | None = None,
                 **kwargs: Any) -> Sampler:
    """Build a sampler from its name (or pass a :class:`Sampler` through)."""
    if isinstance(sampler, Sampler):
        return sampler
    name = "random" if sampler is None else str(sampler).lower()
    if name not in SAMPLERS:
        raise TuneError(
            f"Unknown sampler {sampler!r}. Choose one of: {', '.join(sorted(SAMPLERS))}.")
    try:
        return SAMPLERS[name](seed=seed, **kwargs)
    except TypeError as exc:
        raise TuneError(f"Sampler {name!r} does not take these options: {exc}.") from None
