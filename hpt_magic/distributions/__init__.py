"""Distributions: what a hyperparameter may be, and how to sample, map and enumerate it.

Each distribution maps its values to the unit interval ``[0, 1]`` (linear or log scale), which is
the space model-based samplers work in. A discrete distribution (ints, stepped floats, choices)
has ``n_levels`` values; each owns a bin of the unit interval (equal widths, except on a log-int
scale) and stands there at its bin's centre. This package is the one home of that encoding:
samplers call :meth:`Distribution.to_unit`, :meth:`~Distribution.from_unit`,
:meth:`~Distribution.snap_unit`, :meth:`~Distribution.level_index` and
:meth:`~Distribution.level_units` instead of repeating it.
"""

from __future__ import annotations

from ._base import PRIOR_SHARE as PRIOR_SHARE
from ._base import PRIOR_WIDTH as PRIOR_WIDTH
from ._base import Distribution
from ._choice import Choice, Grid
from ._numeric import INT64_MAX as INT64_MAX
from ._numeric import MAX_INT_LEVELS as MAX_INT_LEVELS
from ._numeric import Float, Int
from ._space import ParameterGrid, check_compatible, check_space, from_json

__all__ = ["Distribution", "Float", "Int", "Choice", "Grid", "ParameterGrid", "from_json",
           "check_space", "check_compatible"]
