"""scikit-learn's search-estimator contract with our samplers: :class:`TuneSearchCV`."""

from .integration._sklearn import TuneSearchCV
from .integration._sklearn_space import SUBSPACE, ScipyDistribution, to_distribution

__all__ = ["TuneSearchCV", "ScipyDistribution", "to_distribution", "SUBSPACE"]
