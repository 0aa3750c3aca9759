"""``TuneSearchCV``: a scikit-learn search estimator whose candidates come from a study.

It subclasses scikit-learn's ``BaseSearchCV``, so ``fit``, ``predict``, ``score``,
``best_params_``, ``best_estimator_`` and ``cv_results_`` behave as in ``GridSearchCV``; what
differs is how the next candidate is chosen: a :class:`~hpt_magic.Study` proposes it after
seeing the cross-validated scores of the earlier ones.
"""

from __future__ import annotations

import copy
import numbers
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import is_classifier
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import check_cv
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils import check_random_state

from ..distributions import Choice
from ..exceptions import TuneError
from ..samplers import SAMPLERS, GridSampler, Sampler
from ..schedulers import Scheduler
from ..study._study import Study
from ..study._tried import space_size
from ..trial import Trial
from ._sklearn_search import (
    _CandidateFailed,
    _fit_stepwise,
    _FixedSplits,
    _print_fold,
    _print_header,
    _Rows,
    _search,
    _without_header,
)
from ._sklearn_space import SUBSPACE, _spaces, _study_names

__all__ = ["TuneSearchCV"]


class TuneSearchCV(BaseSearchCV):
    """Cross-validated search over hyperparameters, each candidate proposed by a sampler.

    Parameters
    ----------
    estimator : estimator object
        Cloned for every fit; inside a ``Pipeline`` name parameters ``step__param``.
    param_space : dict of str -> distribution, or list of such dicts
        ``param_distributions`` (``RandomizedSearchCV``'s name) is taken instead; give one.
        Values are :class:`~hpt_magic.Float` / :class:`~hpt_magic.Int` /
        :class:`~hpt_magic.Choice`, lists (grid points) or frozen ``scipy.stats``
        distributions (see :func:`~hpt_magic.sklearn.to_distribution`). With a list of dicts (as
        ``GridSearchCV`` takes) each trial first picks a dict: the study parameter
        :data:`SUBSPACE` (``"param_space_index"``) records which; candidates omit it. A
        name given different distributions in different dicts is ``name[i]`` in the study.
    sampler : str or Sampler, default="tpe"
        Falls back to ``"random"`` with a warning when TPE is not available.
    n_trials : int, optional
        Candidates to evaluate, 50 unless given (fewer when a grid, or a finite space, is used
        up first): the trials of ``study_``, trial ``i`` row ``i`` of ``cv_results_``. A
        proposal that repeats an evaluated candidate is drawn again; one that still repeats
        after ten draws keeps the earlier scores, unfitted (``fit_time`` 0). ``n_iter``
        (``RandomizedSearchCV``'s name) is taken instead; give one.
    timeout : float, optional
        Seconds after which no new candidate starts.
    scheduler : str or Scheduler, optional
        Early stopping. The estimator is then trained step by step: with ``partial_fit`` (one
        call per step), or with ``warm_start`` growing ``n_estimators`` (or a boosting
        ensemble's ``max_iter``) to its set value at ``max_steps``, or else running
        ``max_iter=1`` per step. After every step the mean test score over the folds is
        reported; ``cv_results_`` gains an ``n_steps`` column and the best candidate is refit
        for its number of steps. One scoring metric; the folds run one after another.
    max_steps : int, optional
        Steps of a full training with a scheduler (default: the scheduler's, else 10).
    scoring, cv, refit, n_jobs, verbose, pre_dispatch, error_score, return_train_score
        As in :class:`sklearn.model_selection.GridSearchCV` (``cv`` defaults to 5). Above 9,
        ``verbose`` numbers each fold's candidate among the ``n_trials`` (``[CV 2/5; 3/50]``;
        with the grid sampler, among the points of a finite space holding fewer), printed once
        the candidate's folds are fitted.
    random_state : int, RandomState or None
        Seeds the sampler: the same seed proposes the same candidates.
    callbacks : list of callables, optional
        ``callback(study, trial)`` after each candidate, as in :meth:`Study.optimize`.
    show : bool, default=False
        Show the live dashboard of the study while it searches (in a notebook).
    patience : int or "auto", optional
        Stop when the best score has not improved in this many candidates; ``"auto"``: when
        what is left to gain is below the noise of the score (``std_test_score`` of the
        candidates over the square root of the number of folds).
    objectives : list of str, optional
        Keys of a multi-metric ``scoring`` dict to search the Pareto front of (each
        maximised, as scikit-learn scores are): ``study_.best_trials`` is the front, and
        ``refit`` still picks the refitted candidate, as in ``GridSearchCV``. Default: the
        ``refit`` metric alone.
    n_iter, param_distributions : optional
        ``RandomizedSearchCV``'s names of ``n_trials`` and ``param_space``, for code written
        for it: each of them, or our name, not both.

    Attributes
    ----------
    study_ : Study
        The study of the last fit (scores are maximised, as scikit-learn scores are).
    cv_results_, best_estimator_, best_score_, best_params_, best_index_, scorer_, n_splits_,
    refit_time_, multimetric_
        As in ``GridSearchCV``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from hpt_magic import Float
    >>> X, y = load_iris(return_X_y=True)
    >>> search = TuneSearchCV(LogisticRegression(max_iter=500), {"C": Float(1e-2, 1e2, log=True)},
    ...                       sampler="random", n_trials=5, cv=3, random_state=0).fit(X, y)
    >>> len(search.cv_results_["params"]), bool(search.best_score_ > 0.9)
    (5, True)
    """

    _parameter_constraints: dict = {
        **BaseSearchCV._parameter_constraints,
        "param_space": [dict, list, None],
        "param_distributions": [dict, list, None],
        "n_trials": [numbers.Integral, None],
        "n_iter": [numbers.Integral, None],
        "timeout": [numbers.Real, None],
        "max_steps": [numbers.Integral, None],
        "random_state": ["random_state"],
        "show": ["boolean"],
        "objectives": [list, None],
    }

    def __init__(
        self, estimator: Any, param_space: Mapping[str, Any] | list | None = None, *,
        sampler: str | Sampler = "tpe", n_trials: int | None = None, timeout: float | None = None,
        scheduler: str | Scheduler | None = None, max_steps: int | None = None,
        scoring: Any = None, cv: Any = 5, refit: Any = True, n_jobs: int | None = None,
        random_state: Any = None, error_score: Any = np.nan, return_train_score: bool = False,
        verbose: int = 0, pre_dispatch: Any = "2*n_jobs",
        callbacks: Sequence[Callable[[Study, Trial], None]] | None = None, show: bool = False,
        patience: int | str | None = None, objectives: Sequence[str] | None = None,
        n_iter: int | None = None, param_distributions: Mapping[str, Any] | list | None = None,
    ) -> None:
        self.param_space = param_space
        self.sampler = sampler
        self.n_trials = n_trials
        self.timeout = timeout
        self.scheduler = scheduler
        self.max_steps = max_steps
        self.random_state = random_state
        self.callbacks = callbacks
        self.show = show
        self.patience = patience
        self.objectives = objectives
        self.n_iter = n_iter
        self.param_distributions = param_distributions
        super().__init__(estimator=estimator, scoring=scoring, n_jobs=n_jobs, refit=refit, cv=cv,
                         verbose=verbose, pre_dispatch=pre_dispatch, error_score=error_score,
                         return_train_score=return_train_score)

    def fit(self, X: Any, y: Any = None, **params: Any) -> TuneSearchCV:
        """Run the search, then refit the best candidate on all data (as ``GridSearchCV.fit``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), optional
        **params
            Passed to the estimator's ``fit`` (``groups`` goes to the splitter).
        """
        self._validate_params()
        self._n_trials(), self._param_space()  # RandomizedSearchCV's names: one of each pair
        self._warn_small_space()
        if self.scheduler is not None:
            return _fit_stepwise(self, X, y, params)
        # The folds are split once, here, and every candidate gets them (_FixedSplits). For
        # this fit scikit-learn gets the checked splitter as `cv`: a generator of folds is
        # read once, by us, and the same splitter serves its count and its folds.
        given = self.cv
        checked = check_cv(given, y, classifier=is_classifier(self.estimator))
        verbose = self.verbose  # (quieted while scikit-learn evaluates a candidate)
        self._splits = _FixedSplits(checked, header=lambda n: _print_header(self, n, verbose))
        # At verbose > 9 scikit-learn numbers each fit's candidate among those of its call:
        # here always "1/1". Its fits are then quiet (it reads verbose when fit starts), and
        # _run_search prints their lines with the candidate's number.
        self._fold_verbose = verbose if verbose > 9 else 0
        self.cv = checked
        if self._fold_verbose:
            self.verbose = 0
        try:
            return super().fit(X, y, **params)
        finally:
            self.cv, self.verbose = given, verbose
            del self._splits, self._fold_verbose

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        # A study holds locks and event subscribers: it stays in the process that ran the search.
        state.pop("study_", None)
        return state

    def _n_trials(self) -> int:
        """The number of candidates: ``n_trials`` or ``n_iter``, else 50."""
        if self.n_trials is not None and self.n_iter is not None:
            raise TuneError(
                f"TuneSearchCV: n_trials={self.n_trials!r} and n_iter={self.n_iter!r} both "
                "set the number of candidates (n_iter is RandomizedSearchCV's name for "
                "n_trials). Give only one of them.")
        name, value = ("n_iter", self.n_iter) if self.n_iter is not None else \
            ("n_trials", self.n_trials)
        if value is None:
            return 50
        if value < 1:
            raise TuneError(f"TuneSearchCV: {name}={value!r} must be at least 1.")
        return int(value)

    def _grid(self) -> bool:
        """Whether the sampler is the grid (which proposes each point once)."""
        return isinstance(self.sampler, GridSampler) or (
            isinstance(self.sampler, str) and self.sampler.lower() == "grid")

    def _n_candidates(self) -> int:
        """How many rows the search makes at most: the number asked for, or with the grid the
        number of points of a finite space holding fewer (it ends once each is tried). Other
        samplers may add rows for repeats, so their number asked for stays the bound."""
        n = self._n_trials()
        size = self._finite_size() if self._grid() else None
        return n if size is None else min(n, size)

    def _finite_size(self) -> int | None:
        """How many points the space has: ``None`` unless it is one dict, of finite
        distributions only."""
        spaces = _spaces(self._param_space(), self.estimator, self._space_argument())
        return space_size(spaces[0]) if len(spaces) == 1 else None

    def _param_space(self) -> Any:
        """The space to search: ``param_space`` or ``param_distributions``."""
        if self.param_space is not None and self.param_distributions is not None:
            raise TuneError(
                "TuneSearchCV: param_space and param_distributions both give the space to "
                "search (param_distributions is RandomizedSearchCV's name for param_space). "
                "Give only one of them.")
        space = self.param_space if self.param_space is not None else self.param_distributions
        if space is None:
            raise TuneError(
                "TuneSearchCV: no space to search. Give param_space (or param_distributions, "
                "as RandomizedSearchCV calls it): a dict of parameter -> distribution, e.g. "
                "{'C': Float(1e-2, 1e2, log=True)}, or a list of such dicts.")
        return space

    def _space_argument(self) -> str:
        """The name the space was given by: ``param_space``, or ``param_distributions``
        (errors about the space say the user's word)."""
        return "param_space" if self.param_space is not None or \
            self.param_distributions is None else "param_distributions"

    def _new_study(self) -> tuple[Study, Callable[[Trial], dict[str, Any]]]:
        """The study of one fit, and the function that reads a candidate off a trial."""
        spaces = _spaces(self._param_space(), self.estimator, self._space_argument())
        seed = self.random_state
        if seed is not None and not isinstance(seed, numbers.Integral):
            seed = int(check_random_state(seed).randint(2**31 - 1))
        sampler = _sampler(self.sampler)
        # Copies: a study mutates its sampler and scheduler, and fit must not change parameters.
        options = dict(sampler=copy.deepcopy(sampler), direction="maximize", seed=seed,
                       scheduler=copy.deepcopy(self.scheduler), max_steps=self.max_steps)
        if self.objectives:
            self._check_objectives()
            options.update(direction=None, directions=["maximize"] * len(self.objectives),
                           objectives=list(self.objectives))
        if len(spaces) == 1:
            return Study(space=spaces[0], **options), lambda trial: dict(trial.params)
        if self._grid():
            raise TuneError(f"TuneSearchCV: grid search takes one dict of lists as "
                            f"{self._space_argument()}, not a list of them. Use GridSearchCV "
                            "for a list of grids, or another sampler.")
        which = Choice(list(range(len(spaces))))
        names = _study_names(spaces)

        def candidate(trial: Trial) -> dict[str, Any]:
            i = trial.suggest(SUBSPACE, which)
            return {name: trial.suggest(names[i][name], dist) for name, dist in spaces[i].items()}

        return Study(**options), candidate

    def _warn_small_space(self) -> None:
        """Warn, as ``RandomizedSearchCV`` does, when the number of candidates asked for is
        more than a finite space holds (the search ends when every point is tried). Called
        by :meth:`fit`, so that the warning points at the caller's line."""
        size = self._finite_size()  # (first: a space it cannot read is refused here)
        if self._grid():
            return
        asked = self.n_trials if self.n_trials is not None else self.n_iter
        if asked is not None and size is not None and size < asked:
            name = "n_trials" if self.n_trials is not None else "n_iter"
            warnings.warn(
                f"TuneSearchCV: the space has {size} candidates, fewer than {name}={asked}: "
                f"the search ends once all {size} are tried. For an exhaustive search, use "
                "sampler='grid'.", UserWarning, stacklevel=3)

    def _check_objectives(self) -> None:
        scoring = self.scoring
        # A list of scorer names is scikit-learn's multi-metric scoring too (keys = names).
        names = (list(scoring) if isinstance(scoring, (Mapping, list, tuple, set, frozenset))
                 else None)
        wrong = [o for o in self.objectives if names is None or o not in names]
        if wrong:
            # scoring="accuracy" is one metric with no keys: not "keys of scoring (None)".
            keys = (f"names in scoring ({names})" if names is not None
                    else "names in scoring, which is the estimator's default score"
                    if scoring is None else
                    f"names in scoring, and scoring={scoring!r} is one metric")
            raise TuneError(
                f"TuneSearchCV: objectives {wrong} are not {keys}. Give scoring several named "
                "metrics, e.g. scoring={'acc': 'accuracy', 'f1': 'f1_macro'} or ['accuracy', "
                "'f1_macro'], and name some of them in objectives.")
        if self.scheduler is not None:
            raise TuneError("TuneSearchCV: a scheduler judges one score, and objectives asks "
                            "for several. Drop scheduler, or search a single metric.")

    def _run_search(self, evaluate_candidates: Callable[..., dict]) -> None:
        study, candidate = self._new_study()
        self.study_ = study
        splits = self._splits
        rows = self._rows = _Rows(self, super()._format_results)
        n_candidates = self._n_candidates()  # (a new study: trial i is row i)
        failures: list[ValueError] = []

        def evaluate(trial: Trial) -> float | dict[str, float]:
            params = candidate(trial)
            try:
                with _without_header(self):
                    results = evaluate_candidates([params], cv=splits)
            except ValueError as exc:
                # Candidates go to scikit-learn one at a time, so "all fits failed" means this
                # candidate failed, not the search: record it and go on, as GridSearchCV would.
                if self.error_score == "raise" or "fits failed" not in str(exc):
                    raise
                failures.append(exc)
                # A new study per fit: trial i is row i.
                rows.fail(trial.number, params, splits.splits or [],
                          str(exc).strip().splitlines()[0])
                warnings.warn(
                    f"TuneSearchCV: every fit of candidate {params} failed; its scores in "
                    f"cv_results_ are error_score={self.error_score!r}, and it is marked failed "
                    f"in study_.\n{exc}", FitFailedWarning, stacklevel=2)
                raise _CandidateFailed(str(exc).strip().splitlines()[0]) from None
            for split, rec in enumerate(rows.newest() if self._fold_verbose else ()):
                _print_fold(self._fold_verbose, (split, len(splits.splits or ())),
                            (trial.number, n_candidates), params, rec)
            key = _objective_key(results, self.refit)
            spread = results.get(key.replace("mean_", "std_", 1))
            folds = sum(k.startswith("split") and k.endswith(key[len("mean"):])
                        for k in results)
            if spread is not None and folds:
                # The noise of a mean over the folds: what `patience="auto"` compares with.
                trial.user_attrs["noise"] = float(spread[-1]) / np.sqrt(folds)
            if self.objectives:
                # Every metric is kept on the trial; the objectives make the front.
                return {k[len("mean_test_"):]: float(v[-1]) for k, v in results.items()
                        if k.startswith("mean_test_")}
            return float(results[key][-1])

        try:
            _search(self, study, evaluate, rows.repeat)
            if rows.results is None and failures:
                raise failures[-1]  # nothing to choose from
            rows.finish()
        finally:
            del self._rows

    def _format_results(self, candidate_params: list[dict[str, Any]], n_splits: int,
                        out: list[dict[str, Any]], more_results: Any = None) -> dict[str, Any]:
        rows = getattr(self, "_rows", None)  # set while _run_search runs
        if rows is None:
            return super()._format_results(candidate_params, n_splits, out, more_results)
        return rows.format(candidate_params, n_splits, out, more_results)


def _sampler(sampler: str | Sampler) -> str | Sampler:
    if isinstance(sampler, str) and sampler.lower() == "tpe" and "tpe" not in SAMPLERS:
        warnings.warn("TuneSearchCV: the 'tpe' sampler is not available in this installation "
                      "of hpt_magic; using random search instead.", UserWarning, stacklevel=4)
        return "random"
    return sampler


def _objective_key(results: Mapping[str, Any], refit: Any) -> str:
    """The column of ``cv_results_`` that the study maximises."""
    if "mean_test_score" in results:
        return "mean_test_score"
    if isinstance(refit, str) and f"mean_test_{refit}" in results:
        return f"mean_test_{refit}"
    return next(k for k in results if k.startswith("mean_test_"))
