"""scikit-learn's search-estimator contract with our samplers: :class:`TuneSearchCV`."""

from .integration._sklearn import SUBSPACE, ScipyDistribution, TuneSearchCV, to_distribution

__all__ = ["TuneSearchCV", "ScipyDistribution", "to_distribution", "SUBSPACE"]
