"""Running the candidates of a :class:`~hpt_magic.sklearn.TuneSearchCV`: the ask/evaluate/tell
loop, and training step by step so that a scheduler can stop candidates early."""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
from joblib import logger
from sklearn.base import clone, is_classifier
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils.metaestimators import _safe_split
from sklearn.utils.validation import _check_method_params, indexable

from ..exceptions import TrialPruned, TuneError
from ..study._optimize import optimize
from ..study._study import Study
from ..trial import Trial

if TYPE_CHECKING:
    from ._sklearn import TuneSearchCV


class _CandidateFailed(Exception):
    """Every fit of one candidate failed: the trial fails, the search goes on."""


class _FixedSplits:
    """A splitter that splits once and hands out the same folds ever after.

    The candidates go to scikit-learn one call at a time, and each call splits anew: a
    randomized ``cv`` (``ShuffleSplit``, an unseeded ``KFold(shuffle=True)``) would score
    every candidate on other folds, where ``GridSearchCV`` scores them all on the same ones.
    ``header(n_splits)`` is called once, when the folds are known, before the first fit.
    """

    def __init__(self, cv: Any, header: Callable[[int], None] | None = None) -> None:
        self.cv, self.header = cv, header
        self.splits: list[tuple[np.ndarray, np.ndarray]] | None = None

    def get_n_splits(self, X: Any = None, y: Any = None, **params: Any) -> int:
        return self.cv.get_n_splits(X, y, **params)

    def split(self, X: Any, y: Any = None, **params: Any) -> Any:
        if self.splits is None:
            self.splits = list(self.cv.split(X, y, **params))
            if self.header is not None:
                self.header(len(self.splits))
        return iter(self.splits)


class _Rows:
    """The rows of ``cv_results_`` in one search, the candidates whose every fit failed included.

    Row ``i`` is trial ``i`` of the study. scikit-learn's ``evaluate_candidates`` raises when
    every fit of a call fails and keeps nothing of it; a call here is one candidate, so such a
    candidate would vanish. It goes back in at its place, with ``error_score`` on every fold as
    ``GridSearchCV`` records failed fits, whenever the results are formatted (:meth:`format`
    stands in for ``_format_results``); so does a repeat that the study recorded with an
    earlier candidate's scores, without fitting it again (see :func:`_search`).
    """

    def __init__(self, search: TuneSearchCV, format_results: Callable[..., dict]) -> None:
        self.search, self.format_results = search, format_results
        #: Row -> (candidate, its fold records), or the earlier row that it repeats.
        self.inserted: dict[int, tuple[dict[str, Any], list[dict[str, Any]]] | int] = {}
        self.last: tuple[Any, ...] | None = None
        self.results: dict[str, Any] | None = None

    def fail(self, row: int, candidate: dict[str, Any], splits: list[Any], error: str) -> None:
        """Record a candidate whose every fit failed."""
        score = self.search.error_score
        folds = [{"fit_error": error, "test_scores": score, "n_test_samples": len(test),
                  "fit_time": np.nan, "score_time": np.nan,  # not measured: scikit-learn raised
                  **({"train_scores": score} if self.search.return_train_score else {})}
                 for _, test in splits]
        self.inserted[row] = (candidate, folds)

    def newest(self) -> list[dict[str, Any]]:
        """The fold records of the candidate that scikit-learn evaluated last."""
        if self.last is None:
            return []
        _, n_splits, out, _ = self.last
        return out[-n_splits:]

    def repeat(self, row: int, earlier: int) -> None:
        """Record a candidate that repeats the one of row ``earlier`` (not fitted again)."""
        self.inserted[row] = earlier

    def format(self, candidates: list[dict[str, Any]], n_splits: int, out: list[dict[str, Any]],
               more_results: Any = None, *, quiet: bool = True) -> dict[str, Any]:
        """``_format_results`` of every candidate so far. ``quiet``: without scikit-learn's
        warning about non-finite scores, which would come again with every candidate."""
        self.last = (candidates, n_splits, out, more_results)
        succeeded = iter(zip(candidates, (out[i:i + n_splits] for i in range(0, len(out),
                                                                            n_splits))))
        merged: list[dict[str, Any]] = []
        records: list[dict[str, Any]] = []
        for i in range(len(candidates) + len(self.inserted)):
            entry = self.inserted.get(i)
            if entry is None:
                candidate, folds = next(succeeded)
            elif isinstance(entry, int):
                candidate = merged[entry]
                folds = _repeated(records[entry * n_splits:(entry + 1) * n_splits])
            else:
                candidate, folds = entry
            merged.append(candidate)
            records.extend(dict(fold) for fold in folds)
        _error_scores_per_metric(records, self.search.error_score)
        with warnings.catch_warnings():
            if quiet:
                warnings.filterwarnings("ignore", "One or more of the .* are non-finite")
            self.results = self.format_results(merged, n_splits, records, more_results)
        return self.results

    def finish(self) -> None:
        """Format once more, loud, with the candidates that failed after the last one that did
        not; in place, since ``fit`` reads the results that the last call returned."""
        if self.results is not None and self.last is not None:
            results = self.results
            results.clear()
            results.update(self.format(*self.last, quiet=False))


def _repeated(folds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The fold records of a repeated candidate: the earlier one's scores, no time spent."""
    return [{**fold, "fit_time": 0.0, "score_time": 0.0} for fold in folds]


def _error_scores_per_metric(records: list[dict[str, Any]], error_score: Any) -> None:
    """With several metrics, give each failed fold ``error_score`` for every metric (a dict,
    as its successful folds have), in place; as scikit-learn's ``_insert_error_scores``, a
    private name of it that we do not import."""
    scored = next((r["test_scores"] for r in records if r["fit_error"] is None), None)
    if not isinstance(scored, dict):
        return
    for record in records:
        if record["fit_error"] is not None:
            record["test_scores"] = dict.fromkeys(scored, error_score)
            if "train_scores" in record:
                record["train_scores"] = dict.fromkeys(scored, error_score)


def _search(search: TuneSearchCV, study: Study, evaluate: Callable[[Trial], float],
            repeat: Callable[[int, int], None]) -> None:
    """Run the candidates through the study's lifecycle until ``n_trials``, the timeout or the
    end of the grid (or of a finite space).

    ``n_trials`` counts the trials of the study, each one row of ``cv_results_``. A proposal
    that repeats an evaluated candidate is drawn again (``on_repeat="skip"``); one that still
    repeats after ten draws is recorded with the earlier trial's score, unfitted, counted in
    the budget (``count_repeats``), and ``repeat(row, earlier_row)`` gives it its row. Unlike
    ``Study.optimize`` nothing is captured: scikit-learn's own warnings and verbose output
    reach the user as with ``GridSearchCV``. A candidate whose every fit failed is a failed
    trial; any other error ends the search and is raised.
    """
    n_trials = search._n_trials()
    first = len(study.trials)

    def row_of_repeat(study: Study, trial: Trial) -> None:
        if "repeat_of" in trial.user_attrs:
            repeat(trial.number - first, trial.user_attrs["repeat_of"] - first)

    dashboard = None
    if search.show:
        # A front end, built only when asked for (a named exception of the layers contract).
        from ..notebook._dashboard import Dashboard

        dashboard = Dashboard(study, n_trials=n_trials, timeout=search.timeout)
    try:
        optimize(study, evaluate, n_trials=n_trials, timeout=search.timeout,
                 patience=search.patience, stop_on_bug=False, on_repeat="skip",
                 count_repeats=True, catch=(_CandidateFailed,), capture=False,
                 callbacks=[row_of_repeat, *(search.callbacks or ())])
    finally:
        if dashboard is not None:
            dashboard.close()


def _print_header(search: TuneSearchCV, n_splits: int, verbose: int) -> None:
    """``GridSearchCV``'s line at ``verbose > 0``, once for the whole search."""
    if verbose > 0:
        n = search._n_candidates()
        print(f"Fitting {n_splits} folds for each of up to {n} candidates, "
              f"totalling up to {n_splits * n} fits")


@contextmanager
def _without_header(search: TuneSearchCV) -> Iterator[None]:
    """Quiet the header that scikit-learn's ``evaluate_candidates`` prints at each call (here
    each candidate: "for each of 1 candidates"). The fits keep their verbosity: scikit-learn
    read it at the start of ``fit``."""
    verbose, search.verbose = search.verbose, 0
    try:
        yield
    finally:
        search.verbose = verbose


# -- early stopping: training step by step ------------------------------------------------------
class _Stepper:
    """Trains one model a step at a time, as :func:`_step_kind` says: ``partial_fit`` once per
    step; ``grow`` a warm-started resource (``n_estimators``) to its share of the set value;
    ``repeat`` a warm-started ``fit`` with ``max_iter=1``."""

    def __init__(self, model: Any, kind: tuple[str, str], max_steps: int,
                 classes: np.ndarray | None) -> None:
        self.model, (self.how, self.param) = model, kind
        self.max_steps, self.classes = max_steps, classes
        prefix = self.param.rpartition("__")[0] + "__" if "__" in self.param else ""
        #: The settings stepping changes, as the candidate had them (see restore).
        self.settings: dict[str, Any] = {}
        if self.how != "partial_fit":
            self.settings[prefix + "warm_start"] = model.get_params()[prefix + "warm_start"]
            model.set_params(**{prefix + "warm_start": True})
        if self.how == "repeat":
            self.settings[self.param] = model.get_params()[self.param]
        if self.how == "grow":
            self.total = int(model.get_params()[self.param])
        elif self.how == "repeat":
            model.set_params(**{self.param: 1})

    def step(self, step: int, X: Any, y: Any, fit_params: dict[str, Any]) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if self.how == "partial_fit":
                if self.classes is not None:
                    fit_params = {"classes": self.classes, **fit_params}
                self.model.partial_fit(X, y, **fit_params)
                return
            if self.how == "grow":
                n = max(1, math.ceil(self.total * (step + 1) / self.max_steps))
                self.model.set_params(**{self.param: n})
            self.model.fit(X, y, **fit_params)

    def restore(self) -> None:
        """Give the trained model back the settings stepping changed (``warm_start``, one
        iteration per ``fit``): fitted again, it trains as the candidate would. A grown
        resource keeps the size it was trained to."""
        self.model.set_params(**self.settings)


def _step_kind(estimator: Any) -> tuple[str, str]:
    """How ``estimator`` trains step by step: ``(how, parameter)``, see :class:`_Stepper`."""
    if hasattr(estimator, "partial_fit"):
        return "partial_fit", ""
    final, prefix = estimator, ""
    if hasattr(estimator, "steps"):
        name, final = estimator.steps[-1]
        prefix = f"{name}__"
    params = final.get_params() if hasattr(final, "get_params") else {}
    if "warm_start" in params and "n_estimators" in params:
        return "grow", prefix + "n_estimators"
    if "warm_start" in params and "max_iter" in params:
        # Boosting ensembles count max_iter in total (like n_estimators); linear models and
        # the like count iterations per call to fit.
        grows = type(final).__module__.startswith("sklearn.ensemble")
        return ("grow" if grows else "repeat"), prefix + "max_iter"
    raise TuneError(
        f"TuneSearchCV: a scheduler stops candidates early, which needs an estimator trained "
        f"step by step, and {type(final).__name__} has neither partial_fit nor warm_start with "
        "n_estimators or max_iter. Leave scheduler=None, or use an estimator such as "
        "SGDClassifier, MLPClassifier or GradientBoostingClassifier.")


def _fit_stepwise(search: TuneSearchCV, X: Any, y: Any, params: dict[str, Any]) -> TuneSearchCV:
    """``fit`` with a scheduler: folds trained in lockstep, the fold mean reported per step."""
    if search.scoring is not None and not isinstance(search.scoring, str) and \
            not callable(search.scoring):
        raise TuneError(
            f"TuneSearchCV: with a scheduler the search follows one score, got scoring="
            f"{search.scoring!r}. Pass one scorer name or callable.")
    estimator = search.estimator
    kind = _step_kind(estimator)
    scorer = check_scoring(estimator, search.scoring)
    X, y = indexable(X, y)
    # As BaseSearchCV.fit routes them: to the estimator's fit, the splitter (groups) and the
    # scorer (sample_weight, when the scorer takes it or metadata routing asks for it).
    routed = search._get_routed_params_for_fit(_check_method_params(X, params))
    params, score_params = routed.estimator.fit, routed.scorer.score
    cv = check_cv(search.cv, y, classifier=is_classifier(estimator))
    splits = list(cv.split(X, y, **routed.splitter.split))
    search.n_splits_ = len(splits)
    _print_header(search, search.n_splits_, search.verbose)
    classes = np.unique(y) if is_classifier(estimator) and kind[0] == "partial_fit" else None
    study, read_candidate = search._new_study()
    search.study_ = study
    max_steps = int(search.max_steps or getattr(study.scheduler, "max_steps", None) or 10)
    n_candidates = search._n_candidates()  # (a new study: trial i is row i)
    candidates: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    n_steps: list[int] = []
    failures: list[Exception] = []

    def evaluate(trial: Trial) -> float:
        candidate = read_candidate(trial)
        folds = [(_Stepper(clone(estimator).set_params(**clone(candidate, safe=False)), kind,
                           max_steps, classes), train, test) for train, test in splits]
        records = [{"fit_error": None, "n_test_samples": len(test), "fit_time": 0.0,
                    "score_time": 0.0} for _, _, test in folds]
        pruned, done = None, 0
        errors: dict[int, Exception] = {}  # fold -> the error that ended its training
        for step in range(max_steps):
            _step_folds(search, folds, records, errors, step, (X, y, params, score_params),
                        scorer)
            if len(errors) == len(folds):
                break
            done = step + 1
            try:
                trial.report(float(np.mean([r["test_scores"] for r in records])), step)
            except TrialPruned as exc:
                pruned = exc
                break
        first = next(iter(errors.values()), None)  # of the fold that failed first
        if len(errors) == len(folds):
            warnings.warn(f"TuneSearchCV: candidate {candidate} failed: {first!r}; its score is "
                          f"error_score={search.error_score!r}.", FitFailedWarning, stacklevel=2)
            failures.append(first)
        elif errors:
            warnings.warn(f"TuneSearchCV: {len(errors)} of the {len(folds)} fits of candidate "
                          f"{candidate} failed (the first: {first!r}); those folds score "
                          f"error_score={search.error_score!r}.", FitFailedWarning, stacklevel=2)
        for split, rec in enumerate(records):
            _print_fold(search.verbose, (split, len(records)), (trial.number, n_candidates),
                        candidate, rec)
        candidates.append(candidate)
        out.extend(records)
        n_steps.append(done)
        if pruned is not None:
            raise pruned  # the lifecycle asks the scheduler for the stopped trial's result
        return float(np.mean([r["test_scores"] for r in records]))

    repeats: list[int] = []

    def repeat(row: int, earlier: int) -> None:
        repeats.append(row)
        candidates.append(candidates[earlier])
        out.extend(_repeated(out[earlier * len(splits):(earlier + 1) * len(splits)]))
        n_steps.append(n_steps[earlier])

    _search(search, study, evaluate, repeat)
    if failures and len(failures) == len(candidates) - len(repeats):
        # Nothing to choose from: the error is the data's or the estimator's, not a candidate's.
        raise failures[-1]
    results = search._format_results(candidates, search.n_splits_, out, {"n_steps": n_steps})
    search.multimetric_ = False
    search.scorer_ = scorer
    search.cv_results_ = results
    search.best_index_ = int(search._select_best_index(search.refit, "score", results))
    if not callable(search.refit):
        search.best_score_ = float(results["mean_test_score"][search.best_index_])
    search.best_params_ = results["params"][search.best_index_]
    if search.refit:
        best = clone(estimator).set_params(**clone(search.best_params_, safe=False))
        stepper = _Stepper(best, kind, max_steps, classes)
        started = time.time()
        for step in range(max(1, n_steps[search.best_index_])):
            stepper.step(step, X, y, params)
        search.refit_time_ = time.time() - started
        stepper.restore()
        search.best_estimator_ = best
        if hasattr(best, "feature_names_in_"):
            search.feature_names_in_ = best.feature_names_in_
    return search


def _print_fold(verbose: int, split: tuple[int, int], candidate: tuple[int, int],
                params: dict[str, Any], rec: dict[str, Any]) -> None:
    """The lines ``GridSearchCV`` prints for a fitted fold (those of ``_fit_and_score``): its
    ``END`` line at ``verbose > 1``, with the fold's number and score at ``verbose > 2``, and at
    ``verbose > 9`` the candidate's number too, after a ``START`` line. Here both come once the
    candidate's fits ended. ``split``, ``candidate``: ``(index, total)``; ``rec``: the fold's
    record (``_fit_and_score``'s format)."""
    if verbose <= 1:
        return
    progress = ""
    if verbose > 2:
        progress = f" {split[0] + 1}/{split[1]}"
        if verbose > 9:
            progress += f"; {candidate[0] + 1}/{candidate[1]}"
    described = ", ".join(f"{k}={params[k]}" for k in sorted(params))
    if verbose > 9:
        start = f"[CV{progress}] START {described}"
        print(start + "." * (80 - len(start)))
    result = described + (";" if described else "")
    if verbose > 2:
        result += _scores_text(rec["test_scores"], rec.get("train_scores"))
    result += f" total time={logger.short_format_time(rec['fit_time'] + rec['score_time'])}"
    end = f"[CV{progress}] END "
    print(end + "." * (80 - len(end) - len(result)) + result)


def _scores_text(test: Any, train: Any) -> str:
    """A fold's scores as ``_fit_and_score`` prints them: one score, or one per metric."""
    if isinstance(test, dict):
        return "".join(f" {name}: (" + (f"train={train[name]:.3f}, " if train is not None else "")
                       + f"test={test[name]:.3f})" for name in sorted(test))
    return ", score=" + (f"(train={train:.3f}, test={test:.3f})" if train is not None
                         else f"{test:.3f}")


def _step_folds(search: TuneSearchCV, folds: list, records: list[dict[str, Any]],
                errors: dict[int, Exception], step: int, data: tuple, scorer: Any) -> None:
    """Train each fold that has not failed one more step and score it. As in GridSearchCV, a
    fold whose fit fails scores ``error_score`` (its error goes into ``errors``) and the
    candidate's other folds go on. ``data``: ``(X, y, fit params, score params)``."""
    X, y, params, score_params = data
    for fold, ((stepper, train, test), rec) in enumerate(zip(folds, records)):
        if fold in errors:
            continue
        try:
            _fold_step(stepper, step, X, y, (train, test), (params, score_params), scorer, rec,
                       search.return_train_score)
        except TuneError:
            raise  # a setting to fix, not a failure of this candidate
        except Exception as exc:
            if search.error_score == "raise":
                raise
            errors[fold] = exc
            rec.update(fit_error=repr(exc), test_scores=search.error_score)
            if search.return_train_score:
                rec["train_scores"] = search.error_score


def _fold_step(stepper: _Stepper, step: int, X: Any, y: Any,
               fold: tuple[np.ndarray, np.ndarray],
               params: tuple[dict[str, Any], dict[str, Any]], scorer: Any, rec: dict[str, Any],
               train_score: bool) -> None:
    """One training step on one ``(train, test)`` fold, then its scores, into ``rec``
    (``_fit_and_score``'s record format, which ``BaseSearchCV._format_results`` reads).
    ``params``: the estimator's fit parameters and the scorer's, split along the fold as
    ``_fit_and_score`` splits them."""
    (train, test), (fit_params, score_params) = fold, params
    # As _fit_and_score splits: a pairwise estimator (a precomputed kernel) gets the square
    # train block, and the test rows against the train columns.
    X_train, y_train = _safe_split(stepper.model, X, y, train)
    X_test, y_test = _safe_split(stepper.model, X, y, test, train)
    started = time.time()
    stepper.step(step, X_train, y_train, _check_method_params(X, fit_params, indices=train))
    scored = time.time()
    score = scorer(stepper.model, X_test, y_test,
                   **_check_method_params(X, score_params, indices=test))
    if isinstance(score, Mapping):
        raise TuneError(
            f"TuneSearchCV: with a scheduler the search follows one score, and scoring returned "
            f"{len(score)}: {sorted(score)}. Make it return one number, or drop scheduler.")
    rec["test_scores"] = float(score)
    if train_score:
        rec["train_scores"] = float(scorer(
            stepper.model, X_train, y_train,
            **_check_method_params(X, score_params, indices=train)))
    rec["fit_time"] += scored - started
    rec["score_time"] += time.time() - scored

