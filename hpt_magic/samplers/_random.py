"""Random search."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..distributions import Distribution
from ..trial import Trial
from ._base import Sampler

if TYPE_CHECKING:
    from ..study._study import Study

__all__ = ["RandomSampler"]


class RandomSampler(Sampler):
    """Draws every parameter independently and uniformly on its own scale (log where log).

    Examples
    --------
    >>> from hpt_magic import Study, Float
    >>> study = Study(space={"x": Float(0, 1)}, sampler=RandomSampler(seed=0))
    >>> 0 <= study.ask().params["x"] <= 1
    True
    """

    name = "random"

    def sample_joint(self, study: Study, trial: Trial,
                     space: Mapping[str, Distribution]) -> dict[str, Any]:
        return self.draw(trial, space)

    def sample_one(self, study: Study, trial: Trial, name: str, dist: Distribution) -> Any:
        return dist.sample(self.rng(trial.number, name))
