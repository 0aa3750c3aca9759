"""The Pareto front and hypervolume of a study's trials, for the study and its front ends.

The arithmetic lives at the bottom of the package (:mod:`hpt_magic._pareto`), where samplers
and schedulers use it too; the dashboard and the study document import it from here.
"""

from .._pareto import (
    crowding_distance,
    default_reference,
    dominates,
    hypervolume,
    losses_of,
    non_dominated_ranks,
    nsga_order,
    pareto_front,
    pareto_mask,
    prefix_hypervolumes,
)

__all__ = ["crowding_distance", "default_reference", "dominates", "hypervolume", "losses_of",
           "non_dominated_ranks", "nsga_order", "pareto_front", "pareto_mask",
           "prefix_hypervolumes"]
