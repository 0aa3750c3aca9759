"""TuneSearchCV: the scikit-learn contract, spaces, early stopping."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.stats import loguniform, norm, poisson, randint, uniform
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import load_iris
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import GridSearchCV, ShuffleSplit
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from hpt_magic import Choice, Float, Int, Scheduler, TrialState, TuneError
from hpt_magic.samplers import SAMPLERS, GridSampler, Sampler
from hpt_magic.sklearn import SUBSPACE, ScipyDistribution, TuneSearchCV, to_distribution


class StopOdd(Scheduler):
    """Stops every odd-numbered trial after its second step."""

    def on_report(self, study, trial, step, value):
        return "stop" if step >= 1 and trial.number % 2 else "continue"


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


@parametrize_with_checks([
    TuneSearchCV(LogisticRegression(), {"C": Float(0.1, 10, log=True)}, n_trials=2, cv=2,
                 random_state=0),
    TuneSearchCV(SGDClassifier(random_state=0), {"alpha": Float(1e-4, 1e-1, log=True)},
                 n_trials=2, cv=2, random_state=0, scheduler=StopOdd(), max_steps=3),
])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_cv_results_have_grid_search_keys(iris):
    X, y = iris
    search = TuneSearchCV(LogisticRegression(max_iter=300), {"C": [0.1, 1.0, 10.0]},
                          sampler="grid", n_trials=10, cv=3, return_train_score=True).fit(X, y)
    grid = GridSearchCV(LogisticRegression(max_iter=300), {"C": [0.1, 1.0, 10.0]}, cv=3,
                        return_train_score=True).fit(X, y)
    assert set(search.cv_results_) == set(grid.cv_results_)
    # The grid is exhausted after its three points although ten trials were allowed.
    assert sorted(p["C"] for p in search.cv_results_["params"]) == [0.1, 1.0, 10.0]

    def by_c(results):
        return dict(zip((p["C"] for p in results["params"]), results["mean_test_score"]))

    assert by_c(search.cv_results_) == pytest.approx(by_c(grid.cv_results_))
    assert search.best_score_ == pytest.approx(grid.best_score_)
    assert search.study_.best_value == pytest.approx(search.best_score_)


def test_fit_predict_score_and_refit(iris):
    X, y = iris
    search = TuneSearchCV(LogisticRegression(max_iter=300), {"C": Float(1e-2, 1e2, log=True)},
                          n_trials=4, cv=3, random_state=1).fit(X, y)
    assert search.predict(X).shape == y.shape
    assert search.predict_proba(X).shape == (len(y), 3)
    assert search.score(X, y) > 0.9
    assert search.best_estimator_.C == search.best_params_["C"]
    assert len(search.study_.trials) == 4


def test_pipeline_step_names_clone_and_params(iris):
    X, y = iris
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=300))])
    search = TuneSearchCV(pipe, {"clf__C": Float(1e-2, 1e2, log=True),
                                 "scale__with_mean": [True, False]}, n_trials=3, cv=2)
    copy = clone(search)
    assert copy.get_params()["param_space"] == search.param_space
    copy.set_params(n_trials=2, estimator__clf__max_iter=200)
    assert copy.n_trials == 2 and copy.estimator.named_steps["clf"].max_iter == 200
    copy.fit(X, y)
    assert set(copy.best_params_) == {"clf__C", "scale__with_mean"}
    assert isinstance(copy.best_estimator_, Pipeline)
    assert "param_clf__C" in copy.cv_results_
    assert not hasattr(search, "study_")


def test_same_random_state_same_candidates(iris):
    X, y = iris
    space = {"C": Float(1e-2, 1e2, log=True), "tol": loguniform(1e-5, 1e-2)}
    runs = [TuneSearchCV(LogisticRegression(max_iter=300), space, n_trials=4, cv=2,
                         random_state=7).fit(X, y).cv_results_["params"] for _ in range(2)]
    assert runs[0] == runs[1]


def test_scipy_distributions_map_to_ours():
    assert to_distribution("a", uniform(1, 2)) == Float(1, 3)
    assert to_distribution("b", loguniform(1e-3, 1e1)) == Float(1e-3, 1e1, log=True)
    assert to_distribution("c", randint(2, 9)) == Int(2, 8)
    assert to_distribution("d", [1, 2]) == [1, 2]
    d = to_distribution("e", norm(5, 2))
    assert isinstance(d, ScipyDistribution)
    assert d.from_unit(0.5) == pytest.approx(5.0)
    assert d.to_unit(d.from_unit(0.3)) == pytest.approx(0.3)
    draws = [d.sample(np.random.default_rng(i)) for i in range(400)]
    assert np.mean(draws) == pytest.approx(5.0, abs=0.4)
    p = to_distribution("f", poisson(3))
    values = {p.sample(np.random.default_rng(i)) for i in range(100)}
    assert all(isinstance(v, int) and v >= 0 for v in values) and len(values) > 3
    with pytest.raises(TuneError, match="not a distribution"):
        to_distribution("g", 0.5)


def test_scipy_space_in_a_search(iris):
    X, y = iris
    search = TuneSearchCV(LogisticRegression(max_iter=300),
                          {"C": norm(3, 0.5), "solver": Choice(["lbfgs", "newton-cg"])},
                          sampler="random", n_trials=3, cv=2, random_state=0).fit(X, y)
    assert all(1 < p["C"] < 5 for p in search.cv_results_["params"])


def test_tpe_falls_back_to_random_when_missing(iris, monkeypatch):
    X, y = iris
    monkeypatch.delitem(SAMPLERS, "tpe", raising=False)
    search = TuneSearchCV(LogisticRegression(max_iter=300), {"C": Float(0.1, 10)},
                          n_trials=2, cv=2)
    with pytest.warns(UserWarning, match="'tpe' sampler is not available"):
        search.fit(X, y)
    assert search.study_.sampler.name == "random"


def test_failed_candidates_follow_error_score(iris):
    X, y = iris
    space = {"C": [1.0], "tol": [1e-4, -1.0]}
    search = TuneSearchCV(LogisticRegression(max_iter=300), space, sampler="grid",
                          n_trials=4, cv=2, random_state=0)
    with pytest.warns(FitFailedWarning, match="every fit of candidate"):
        search.fit(X, y)
    states = {t.params["tol"]: t.state for t in search.study_.trials}
    assert states == {1e-4: TrialState.COMPLETE, -1.0: TrialState.FAILED}
    scores = dict(zip((p["tol"] for p in search.cv_results_["params"]),
                      search.cv_results_["mean_test_score"]))
    assert np.isnan(scores[-1.0]) and scores[1e-4] > 0.9
    with pytest.raises(ValueError, match="tol"):
        search.set_params(error_score="raise").fit(X, y)
    assert search.study_.trials[-1].state is TrialState.FAILED
    with pytest.warns(FitFailedWarning), pytest.raises(ValueError, match="fits failed"):
        search.set_params(error_score=np.nan, param_space={"tol": [-1.0, -2.0]}).fit(X, y)


def test_multimetric_refit_by_name_and_callbacks(iris):
    X, y = iris
    seen = []
    search = TuneSearchCV(LogisticRegression(max_iter=300), {"C": Float(1e-2, 1e2, log=True)},
                          scoring=["accuracy", "f1_macro"], refit="f1_macro", n_trials=3, cv=2,
                          callbacks=[lambda study, trial: seen.append(trial.number)]).fit(X, y)
    assert seen == [0, 1, 2]
    values = [t.value for t in search.study_.trials]
    assert values == pytest.approx(list(search.cv_results_["mean_test_f1_macro"]))
    assert "rank_test_accuracy" in search.cv_results_


def test_empty_or_bad_settings_raise_clear_errors(iris):
    X, y = iris
    with pytest.raises(TuneError, match="n_trials"):
        TuneSearchCV(LogisticRegression(), {"C": Float(0.1, 1)}, n_trials=0).fit(X, y)
    with pytest.raises(TuneError, match="empty"):
        TuneSearchCV(LogisticRegression(), [], n_trials=1).fit(X, y)
    with pytest.raises(TuneError, match=r"TuneSearchCV: param_space is empty.*'C'"):
        TuneSearchCV(LogisticRegression(), {}, n_trials=1).fit(X, y)
    with pytest.raises(TuneError, match=r"TuneSearchCV: param_space\[1\] is empty.*'C'"):
        TuneSearchCV(LogisticRegression(), [{"C": [1.0]}, {}], n_trials=1).fit(X, y)


def test_scheduler_stops_partial_fit_candidates_early(iris):
    X, y = iris
    search = TuneSearchCV(SGDClassifier(random_state=0), {"alpha": Float(1e-5, 1e-1, log=True)},
                          scheduler=StopOdd(), max_steps=6, n_trials=4, cv=3,
                          random_state=0).fit(X, y)
    trials = search.study_.trials
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.PRUNED] * 2
    assert list(search.cv_results_["n_steps"]) == [6, 2, 6, 2]
    assert [len(t.intermediate) for t in trials] == [6, 2, 6, 2]
    assert trials[1].value == pytest.approx(search.cv_results_["mean_test_score"][1])
    assert search.score(X, y) > 0.5
    assert "split2_test_score" in search.cv_results_


def test_scheduler_with_warm_start_estimators(iris):
    X, y = iris
    boost = TuneSearchCV(GradientBoostingClassifier(n_estimators=6, random_state=0),
                         {"learning_rate": Float(0.05, 0.5)}, scheduler=StopOdd(), max_steps=3,
                         n_trials=2, cv=2, random_state=0).fit(X, y)
    assert list(boost.cv_results_["n_steps"]) == [3, 2]
    assert boost.best_estimator_.n_estimators_ == (6 if boost.best_index_ == 0 else 4)
    # The best estimator is trained step by step, then given back the candidate's settings:
    # fitted again, it trains afresh as the user configured it.
    assert not boost.best_estimator_.warm_start
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=50))])
    logistic = TuneSearchCV(pipe, {"clf__C": Float(0.1, 10)}, scheduler=StopOdd(), max_steps=4,
                            n_trials=2, cv=2, random_state=0).fit(X, y)
    assert list(logistic.cv_results_["n_steps"]) == [4, 2]
    clf = logistic.best_estimator_.named_steps["clf"]
    assert clf.n_iter_[0] <= 4  # one iteration per step
    assert not clf.warm_start and clf.max_iter == 50


def test_a_scheduler_refuses_a_scoring_callable_of_several_metrics(iris):
    X, y = iris
    search = TuneSearchCV(SGDClassifier(random_state=0), {"alpha": Float(1e-4, 1e-1, log=True)},
                          scheduler=StopOdd(), max_steps=2, n_trials=3, cv=2,
                          scoring=lambda model, X, y: {"acc": model.score(X, y), "one": 1.0})
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitFailedWarning)  # refused at once, not per candidate
        with pytest.raises(TuneError, match=r"scoring returned 2: \['acc', 'one'\]"):
            search.fit(X, y)
    assert len(search.study_.trials) == 1


def test_scheduler_needs_a_stepwise_estimator(iris):
    X, y = iris
    with pytest.raises(TuneError, match="step by step"):
        TuneSearchCV(SVC(), {"C": Float(0.1, 10)}, scheduler=StopOdd(), n_trials=2).fit(X, y)


def test_list_of_dicts_as_grid_search_cv_takes(iris):
    X, y = iris
    space = [{"kernel": ["linear"], "C": Float(0.1, 10, log=True)},
             {"kernel": ["rbf"], "C": Float(0.1, 10, log=True), "gamma": Float(1e-3, 1, log=True)}]
    search = TuneSearchCV(SVC(), space, sampler="random", n_trials=8, cv=2,
                          random_state=0).fit(X, y)
    params = search.cv_results_["params"]
    assert {p["kernel"] for p in params} == {"linear", "rbf"}
    assert all(("gamma" in p) == (p["kernel"] == "rbf") for p in params)
    assert SUBSPACE not in search.best_params_
    trial = search.study_.trials[0]
    index = trial.params[SUBSPACE]
    assert trial.params[f"kernel[{index}]"] == params[0]["kernel"]
    assert trial.params["C"] == params[0]["C"]
    linear = np.array([p["kernel"] == "linear" for p in params])
    assert search.cv_results_["param_gamma"].mask.tolist() == linear.tolist()
    with pytest.raises(TuneError, match="list of grids"):
        TuneSearchCV(SVC(), space, sampler="grid").fit(X, y)


def test_scheduler_failed_candidates(iris):
    X, y = iris
    search = TuneSearchCV(SGDClassifier(), {"alpha": [1e-4, -1.0]}, sampler="grid",
                          scheduler=StopOdd(), max_steps=2, n_trials=2, cv=2)
    with pytest.warns(FitFailedWarning, match="alpha"):
        search.fit(X, y)
    scores = dict(zip((p["alpha"] for p in search.cv_results_["params"]),
                      search.cv_results_["mean_test_score"]))
    assert np.isnan(scores[-1.0]) and scores[1e-4] > 0.3
    assert search.best_params_ == {"alpha": 1e-4}
    with pytest.warns(FitFailedWarning), pytest.raises(ValueError, match="alpha"):
        search.set_params(param_space={"alpha": [-1.0, -2.0]}).fit(X, y)


def test_show_draws_the_dashboard_of_the_search(iris, capsys):
    X, y = iris
    TuneSearchCV(LogisticRegression(max_iter=300), {"C": Float(0.1, 10, log=True)},
                 n_trials=3, cv=2, show=True).fit(X, y)
    assert "3/3 trials" in capsys.readouterr().out


def test_scheduler_grows_boosting_iterations(iris):
    X, y = iris
    search = TuneSearchCV(HistGradientBoostingClassifier(max_iter=8, random_state=0),
                          {"learning_rate": Float(0.05, 0.5)}, scheduler=StopOdd(), max_steps=4,
                          n_trials=2, cv=2, random_state=0).fit(X, y)
    assert list(search.cv_results_["n_steps"]) == [4, 2]
    assert search.best_estimator_.n_iter_ == (8 if search.best_index_ == 0 else 4)


class FoldRecorder(ClassifierMixin, BaseEstimator):
    """Predicts the first class; remembers the training rows of every fit (by their sum)."""

    seen: list[float] = []

    def __init__(self, c=1.0):
        self.c = c

    def fit(self, X, y):
        FoldRecorder.seen.append(round(float(X.sum()), 6))
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


def test_every_candidate_sees_the_same_folds_of_a_randomized_splitter(iris):
    X, y = iris
    FoldRecorder.seen = []
    # Unseeded: each call to split shuffles anew, and the candidates are evaluated one by one.
    TuneSearchCV(FoldRecorder(), {"c": Float(0, 1)}, sampler="random", n_trials=3,
                 cv=ShuffleSplit(2, test_size=0.3), refit=False).fit(X, y)
    folds = FoldRecorder.seen
    assert len(folds) == 6 and folds[0:2] == folds[2:4] == folds[4:6]


def test_arrays_and_ranges_are_grid_values_as_grid_search_cv_takes(iris):
    X, y = iris
    assert to_distribution("C", np.logspace(-2, 2, 3)) == [0.01, 1.0, 100.0]
    assert to_distribution("degree", range(1, 4)) == [1, 2, 3]
    search = TuneSearchCV(LogisticRegression(max_iter=300), {"C": np.array([0.1, 1.0])},
                          sampler="grid", n_trials=5, cv=2).fit(X, y)
    assert sorted(p["C"] for p in search.cv_results_["params"]) == [0.1, 1.0]
    with pytest.raises(TuneError, match="one-dimensional"):
        to_distribution("C", np.ones((2, 2)))
    with pytest.raises(TuneError, match="not a distribution"):
        to_distribution("kernel", "rbf")


def test_unknown_parameter_names_fail_before_any_fit(iris):
    X, y = iris
    FoldRecorder.seen = []
    with pytest.raises(TuneError, match=r"'cc' .*FoldRecorder.*did you mean 'c'"):
        TuneSearchCV(FoldRecorder(), {"cc": Float(0, 1)}, n_trials=2).fit(X, y)
    assert FoldRecorder.seen == []
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())])
    with pytest.raises(TuneError, match=r"'logreg__C'.*did you mean 'clf__C'.*step__param"):
        TuneSearchCV(pipe, {"logreg__C": Float(0.1, 1)}, n_trials=2).fit(X, y)
    with pytest.raises(TuneError, match="'alphaa'"):
        TuneSearchCV(SGDClassifier(), {"alphaa": Float(0.1, 1)}, scheduler=StopOdd(),
                     n_trials=2).fit(X, y)
    # A step the search swaps in brings its own parameters, as in GridSearchCV.
    swap = TuneSearchCV(pipe, {"clf": [SVC()], "clf__gamma": [0.1]}, sampler="grid",
                        n_trials=1, cv=2).fit(X, y)
    assert swap.best_params_["clf__gamma"] == 0.1
    # A name that get_params does not list but set_params takes (LightGBM and XGBoost take any
    # booster parameter) is searched, as GridSearchCV does.
    search = TuneSearchCV(Lenient(), {"feature_fraction": Float(0.5, 1)}, n_trials=2,
                          cv=2).fit(X, y)
    assert 0.5 <= search.best_params_["feature_fraction"] <= 1


class Lenient(LogisticRegression):
    """Takes any parameter in set_params, as LGBMClassifier and XGBClassifier do."""

    def set_params(self, **params):
        known = self.get_params()
        for name in [n for n in params if n not in known]:
            setattr(self, name, params.pop(name))
        return super().set_params(**params)


def test_a_param_space_that_is_no_dict_says_what_it_takes(iris):
    X, y = iris
    with pytest.raises(TuneError, match=r"param_space must be a dict.*got list of tuple"):
        TuneSearchCV(FoldRecorder(), [("c", Float(0, 1))], n_trials=2).fit(X, y)


def test_verbose_prints_one_header_for_the_search(iris, capsys):
    X, y = iris
    TuneSearchCV(LogisticRegression(max_iter=300), {"C": Float(0.1, 10, log=True)}, n_trials=4,
                 cv=3, verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert out.splitlines() == ["Fitting 3 folds for each of up to 4 candidates, totalling up to "
                                "12 fits"]
    TuneSearchCV(SGDClassifier(), {"alpha": Float(1e-4, 1e-1, log=True)}, scheduler=StopOdd(),
                 max_steps=2, n_trials=2, cv=3, verbose=1).fit(X, y)
    assert capsys.readouterr().out.count("Fitting 3 folds") == 1


class FailsOn(ClassifierMixin, BaseEstimator):
    """Predicts the first class; ``fit`` fails when ``p`` is "bad" or "worse", and on the first
    of three stratified iris folds when ``p`` is "half"."""

    def __init__(self, p="ok"):
        self.p = p

    def fit(self, X, y):
        first_row = np.array([5.1, 3.5, 1.4, 0.2])  # of iris, in every training set but one
        if self.p in ("bad", "worse") or (self.p == "half" and not (X == first_row).all(1).any()):
            raise RuntimeError(f"p={self.p}")
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


@pytest.mark.parametrize("error_score", [np.nan, 0.0])
def test_failed_candidates_have_their_rows_as_in_grid_search_cv(iris, error_score):
    X, y = iris
    space = {"p": ["half", "bad", "ok", "worse"]}  # the last candidate fails too
    scoring = {"acc": "accuracy", "bal": "balanced_accuracy"}
    grid = GridSearchCV(FailsOn(), space, cv=3, scoring=scoring, refit="acc",
                        error_score=error_score, return_train_score=True)
    ours = TuneSearchCV(FailsOn(), space, sampler=GridSampler(shuffle=False), n_trials=4, cv=3,
                        scoring=scoring,
                        refit="acc", error_score=error_score, return_train_score=True)
    non_finite = []
    for search in (grid, ours):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            search.fit(X, y)
        non_finite.append(sum("non-finite" in str(w.message) for w in caught))
    # scikit-learn's warning about non-finite scores: once per metric and search, not once
    # more with every candidate.
    assert non_finite[1] == non_finite[0] == (4 if np.isnan(error_score) else 0)
    assert [p["p"] for p in ours.cv_results_["params"]] == ["half", "bad", "ok", "worse"]
    assert set(ours.cv_results_) == set(grid.cv_results_)
    for key in grid.cv_results_:
        if "test" in key or "train" in key:
            np.testing.assert_array_equal(ours.cv_results_[key], grid.cv_results_[key], key)
    assert ours.best_index_ == grid.best_index_ and ours.best_params_ == {"p": "ok"}
    assert [t.state for t in ours.study_.trials] == [
        TrialState.FAILED if np.isnan(error_score) else TrialState.COMPLETE,
        TrialState.FAILED, TrialState.COMPLETE, TrialState.FAILED]


class FailsOnStepwise(FailsOn):
    """:class:`FailsOn`, trained step by step."""

    def partial_fit(self, X, y, classes=None):
        return self.fit(X, y)


@pytest.mark.parametrize("error_score", [np.nan, 0.0])
def test_a_failed_fold_with_a_scheduler_scores_as_in_grid_search_cv(iris, error_score):
    # The fit of one fold fails: that fold scores error_score, the others keep their scores.
    X, y = iris
    space = {"p": ["half", "ok", "bad"]}
    grid = GridSearchCV(FailsOnStepwise(), space, cv=3, error_score=error_score,
                        return_train_score=True)
    ours = TuneSearchCV(FailsOnStepwise(), space, sampler=GridSampler(shuffle=False),
                        n_trials=3, cv=3, scheduler=Never(), max_steps=2,
                        error_score=error_score, return_train_score=True)
    for search in (grid, ours):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            search.fit(X, y)
    for key in ("split0_test_score", "split1_test_score", "split2_train_score",
                "mean_test_score", "rank_test_score"):
        np.testing.assert_array_equal(ours.cv_results_[key], grid.cv_results_[key], key)
    assert ours.best_params_ == grid.best_params_ == {"p": "ok"}
    with pytest.warns(FitFailedWarning, match=r"1 of the 3 fits of candidate \{'p': 'half'\}"):
        ours.set_params(param_space={"p": ["half"]}).fit(X, y)


class Picky(ClassifierMixin, BaseEstimator):
    """Fails where alpha > 0.2 (a region of the space), with one message for each fit."""

    def __init__(self, alpha=0.1):
        self.alpha = alpha

    def fit(self, X, y):
        if self.alpha > 0.2:
            raise ValueError("alpha diverged")
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


def test_candidates_failing_alike_do_not_stop_the_search(iris):
    # scikit-learn says "All the 3 fits failed" of any failed candidate: five of them in a
    # row are no bug of the search, which goes on to its budget and learns where they fail.
    X, y = iris
    search = TuneSearchCV(Picky(), {"alpha": Float(0, 1)}, n_trials=20, cv=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, y)
    states = [t.state for t in search.study_.trials if "repeat_of" not in t.user_attrs]
    assert len(states) >= 20 and TrialState.COMPLETE in states
    assert not search.study_._attrs.get("failed_alike")


#: The private names of scikit-learn that TuneSearchCV uses: BaseSearchCV's hooks for search
#: estimators (HalvingGridSearchCV uses them too), a validation helper and the fold splitter of
#: _fit_and_score (`utils.metaestimators._safe_split`, the same signature in every version), each
#: read in the sources of scikit-learn 1.4, 1.5, 1.6, 1.7, 1.8 and 1.9 (pyproject:
#: scikit-learn>=1.4).
SKLEARN_PRIVATE_CHECKED = {
    "_search", "_validation",  # the modules of BaseSearchCV and of _check_method_params
    "_format_results", "_select_best_index", "_get_routed_params_for_fit", "_validate_params",
    "_parameter_constraints", "_safe_split", "_check_method_params",
}


def test_private_scikit_learn_names_are_the_checked_ones():
    # A private name of scikit-learn may be missing from the versions we support: 1.4 to
    # 1.8 have no `_checked_cv_orig`, which 1.9 sets in BaseSearchCV.fit.
    import ast
    from pathlib import Path

    import hpt_magic

    root = Path(hpt_magic.__file__).parent
    ours: set[str] = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                ours.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                ours.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                ours.add(node.id)
    used: set[str] = set()
    for name in ("_sklearn.py", "_sklearn_search.py", "_sklearn_space.py"):
        for node in ast.walk(ast.parse((root / "integration" / name).read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sklearn"):
                used |= {part for part in node.module.split(".") if part.startswith("_")}
                used |= {a.name for a in node.names if a.name.startswith("_")}
            elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and \
                    not node.attr.startswith("__"):
                if node.attr not in ours:
                    used.add(node.attr)
    assert used - SKLEARN_PRIVATE_CHECKED == set()


def test_the_search_reaches_the_engine_through_its_public_api():
    # TuneSearchCV is a front end: a private attribute of a study or a run (one that
    # hpt_magic defines outside these modules) is the engine's to change.
    import ast
    from pathlib import Path

    import hpt_magic

    root = Path(hpt_magic.__file__).parent
    modules = [root / "integration" / name
               for name in ("_sklearn.py", "_sklearn_search.py", "_sklearn_space.py")]

    def defined(paths):
        names: set[str] = set()
        for path in paths:
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    names.add(node.name)
                elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                    names.add(node.attr)
        return names

    engine = defined(set(root.rglob("*.py")) - set(modules)) - defined(modules)
    used = {node.attr for path in modules for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Attribute) and node.attr.startswith("_")
            and not node.attr.startswith("__")}
    assert used & engine == set()


class Cut(ClassifierMixin, BaseEstimator):
    """Predicts whether the first feature is above ``cut``; ``fit`` and ``partial_fit`` learn
    only the classes, so that stepwise and plain training score alike."""

    def __init__(self, cut=5.0):
        self.cut = cut

    def fit(self, X, y, sample_weight=None):
        self.classes_ = np.unique(y)
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        return self.fit(X, y)

    def predict(self, X):
        return self.classes_[(np.asarray(X)[:, 0] > self.cut).astype(int)]


class Never(Scheduler):
    """Stops no trial."""

    def on_report(self, study, trial, step, value):
        return "continue"


@pytest.mark.parametrize("routing", [False, True])
def test_scheduler_scores_with_sample_weight_as_grid_search_cv(iris, routing):
    import sklearn
    from sklearn.metrics import accuracy_score, make_scorer

    X, y = iris[0], (iris[1] > 0).astype(int)
    weights = np.where(y == 1, 0.2, 3.0) * np.linspace(0.5, 1.5, len(y))
    space = {"cut": [4.8, 5.4, 6.0]}
    with sklearn.config_context(enable_metadata_routing=routing):
        scoring, estimator = "accuracy", Cut()
        if routing:
            scoring = make_scorer(accuracy_score).set_score_request(sample_weight=True)
            estimator = Cut().set_fit_request(sample_weight=True).set_partial_fit_request(
                sample_weight=True)
        grid = GridSearchCV(estimator, space, scoring=scoring, cv=3, return_train_score=True)
        grid.fit(X, y, sample_weight=weights)
        ours = TuneSearchCV(estimator, space, sampler=GridSampler(shuffle=False), n_trials=3,
                            scheduler=Never(), max_steps=2, scoring=scoring, cv=3,
                            return_train_score=True).fit(X, y, sample_weight=weights)
    for key in ("mean_test_score", "mean_train_score", "split0_test_score"):
        np.testing.assert_allclose(ours.cv_results_[key], grid.cv_results_[key], err_msg=key)
    assert ours.best_params_ == grid.best_params_


class PrecomputedSVC(SVC):
    """An SVC that a scheduler can train step by step (each step fits anew): on a precomputed
    kernel it is pairwise, and a fold is the train block and the test rows x train columns."""

    def partial_fit(self, X, y, classes=None):
        return self.fit(X, y)


@pytest.mark.parametrize("scheduler", [None, Never()])
def test_a_precomputed_kernel_is_split_as_grid_search_cv_splits_it(iris, scheduler):
    X, y = iris
    kernel = X @ X.T
    space = {"C": [0.001, 1.0]}
    grid = GridSearchCV(PrecomputedSVC(kernel="precomputed"), space, cv=3,
                        return_train_score=True).fit(kernel, y)
    ours = TuneSearchCV(PrecomputedSVC(kernel="precomputed"), space,
                        sampler=GridSampler(shuffle=False), n_trials=2, cv=3,
                        scheduler=scheduler, max_steps=2, return_train_score=True)
    ours.fit(kernel, y)
    for key in ("split0_test_score", "split2_test_score", "mean_test_score",
                "mean_train_score"):
        np.testing.assert_allclose(ours.cv_results_[key], grid.cv_results_[key], err_msg=key)
    assert ours.best_params_ == grid.best_params_
    assert ours.score(kernel, y) == grid.score(kernel, y)


def test_randomized_search_cv_names_n_iter_and_param_distributions(iris):
    X, y = iris
    space = {"C": loguniform(1e-2, 1e2)}
    theirs = TuneSearchCV(LogisticRegression(max_iter=300), param_distributions=space,
                          n_iter=3, sampler="random", cv=2, random_state=0)
    # Parameters as given, as scikit-learn requires: clone and set_params round-trip.
    params = theirs.get_params(deep=False)
    assert params["n_iter"] == 3 and params["param_distributions"] is space
    assert params["n_trials"] is None and params["param_space"] is None
    copy = clone(theirs)
    copied = copy.get_params(deep=False)
    assert copied["n_iter"] == 3 and copied["param_distributions"].keys() == {"C"}
    assert copied["n_trials"] is None and copied["param_space"] is None
    ours = TuneSearchCV(LogisticRegression(max_iter=300), space, n_trials=3, sampler="random",
                        cv=2, random_state=0)
    theirs.fit(X, y)
    assert theirs.cv_results_["params"] == ours.fit(X, y).cv_results_["params"]
    assert len(theirs.cv_results_["params"]) == 3
    copy.set_params(n_iter=2).fit(X, y)
    assert len(copy.cv_results_["params"]) == 2
    # One name of each pair, not both.
    both = [dict(n_trials=2, n_iter=2), dict(param_space=space, param_distributions=space)]
    for kwargs, name in zip(both, ("n_iter", "param_distributions")):
        kwargs.setdefault("param_distributions", space)
        search = TuneSearchCV(LogisticRegression(), **kwargs)
        with pytest.raises(TuneError, match="both .* RandomizedSearchCV's name .* one of them"
                           ) as raised:
            search.fit(X, y)
        assert f"{name} is RandomizedSearchCV's name" in str(raised.value)
    with pytest.raises(TuneError, match="no space to search"):
        TuneSearchCV(LogisticRegression()).fit(X, y)


@pytest.mark.parametrize("space, sampler, says", [
    ({"Cx": [1.0]}, "tpe", "'Cx' in {} is not a parameter of LogisticRegression"),
    ([], "tpe", "{} is an empty list"),
    ([{}], "tpe", "{}[0] is empty"),
    ([("C", 1.0)], "tpe", "{} must be a dict"),
    ({"C": np.ones((2, 2))}, "tpe", "{}['C'] is an array of shape (2, 2)"),
    ({"C": "big"}, "tpe", "{}['C'] = 'big' is not a distribution"),
    ({"C": []}, "tpe", "{}['C'] has no values"),
    ({"C": np.array([])}, "grid", "{}['C'] has no values"),
    ({"max_iter": range(0)}, "random", "{}['max_iter'] has no values"),
    ({"C": [1.0, 2.0, 1.0]}, "tpe", "{}['C']: Grid: options [1.0, 2.0, 1.0] contain duplicates"),
    ([{"C": [1.0]}, {"C": [2.0]}], "grid", "one dict of lists as {}, not a list of them"),
])
def test_errors_about_the_space_name_it_as_it_was_given(iris, space, sampler, says):
    X, y = iris
    for argument in ("param_space", "param_distributions"):
        search = TuneSearchCV(LogisticRegression(), sampler=sampler, n_trials=1, cv=2,
                              **{argument: space})
        with pytest.raises(TuneError) as raised:
            search.fit(X, y)
        assert says.format(argument) in str(raised.value)


class Stuck(Sampler):
    """Proposes the lowest value of every parameter, however often it is asked again."""

    def sample_joint(self, study, trial, space):
        return {name: dist.from_unit(0.0) for name, dist in space.items()}

    def sample_one(self, study, trial, name, dist):
        return dist.from_unit(0.0)


def test_n_trials_counts_every_trial_of_the_study(iris):
    # The study re-serves a candidate it has already evaluated: it is drawn again, and the
    # search still ends after n_trials trials, each of them one row of cv_results_.
    X, y = iris
    space = {"C": [0.01, 0.1, 1.0, 10.0], "fit_intercept": [True, False]}
    for seed in range(3):
        search = TuneSearchCV(LogisticRegression(max_iter=300), space, n_trials=6, cv=2,
                              random_state=seed).fit(X, y)
        assert len(search.study_.trials) == 6
        assert [t.params for t in search.study_.trials] == search.cv_results_["params"]
        assert len({tuple(p.values()) for p in search.cv_results_["params"]}) == 6


@pytest.mark.parametrize("scheduler", [None, Never()])
def test_a_candidate_repeated_after_every_redraw_is_not_fitted_again(iris, scheduler):
    X, y = iris
    search = TuneSearchCV(SGDClassifier(random_state=0), {"alpha": [1e-3, 1e-2, 1e-1, 1.0]},
                          sampler=Stuck(), n_trials=3, cv=2, scheduler=scheduler, max_steps=2)
    search.fit(X, y)
    assert len(search.study_.trials) == 3
    assert [t.user_attrs.get("repeat_of") for t in search.study_.trials] == [None, 0, 0]
    results = search.cv_results_
    assert results["params"] == [{"alpha": 1e-3}] * 3
    assert list(results["mean_test_score"]) == [results["mean_test_score"][0]] * 3
    assert list(results["mean_fit_time"][1:]) == [0.0, 0.0]  # not fitted again
    assert list(results["rank_test_score"]) == [1, 1, 1] and search.best_index_ == 0


@pytest.mark.parametrize("scheduler", [None, Never()])
def test_the_dashboard_of_a_search_with_reused_candidates_reads_finished(iris, capsys,
                                                                          scheduler):
    # A repeat is one of the n_trials candidates: the search ends with its budget, as planned.
    X, y = iris
    search = TuneSearchCV(SGDClassifier(random_state=0), {"alpha": [1e-3, 1e-2, 1e-1, 1.0]},
                          sampler=Stuck(), n_trials=3, cv=2, scheduler=scheduler, max_steps=2,
                          show=True).fit(X, y)
    assert [t.user_attrs.get("repeat_of") for t in search.study_.trials] == [None, 0, 0]
    final = capsys.readouterr().out.strip().splitlines()[-1]
    assert final.startswith("Finished: 3/3 trials · 3 complete, 0 pruned, 0 failed")


class StuckOnce(Sampler):
    """Proposes the lowest value for its first two trials (the second, after every redraw),
    then the highest, then the middle."""

    def sample_joint(self, study, trial, space):
        return {name: self.sample_one(study, trial, name, dist) for name, dist in space.items()}

    def sample_one(self, study, trial, name, dist):
        return dist.from_unit([0.0, 0.0, 1.0, 0.5][min(len(study.trials) - 1, 3)])


@pytest.mark.parametrize("scheduler", [None, Never()])
def test_a_repeat_before_new_candidates_still_ends_the_search_at_n_trials(iris, scheduler):
    X, y = iris
    search = TuneSearchCV(SGDClassifier(random_state=0), {"alpha": Float(1e-4, 1, log=True)},
                          sampler=StuckOnce(), n_trials=3, cv=2, scheduler=scheduler,
                          max_steps=2).fit(X, y)
    assert [t.user_attrs.get("repeat_of") for t in search.study_.trials] == [None, 0, None]
    assert len(search.cv_results_["params"]) == 3


@pytest.mark.parametrize("scheduler", [None, Never()])
@pytest.mark.parametrize("verbose,n_trials", [(2, 2), (3, 2), (10, 2), (10, None)])
def test_verbose_prints_the_lines_of_grid_search_cv_per_fold(iris, capsys, verbose, scheduler,
                                                              n_trials):
    X, y = iris
    space = {"alpha": [1e-3, 1e-2]}
    GridSearchCV(SGDClassifier(random_state=0), space, cv=3, verbose=verbose).fit(X, y)
    theirs = capsys.readouterr().out.splitlines()
    # n_trials=None asks for the default 50 candidates: the space's 2 are all there are.
    TuneSearchCV(SGDClassifier(random_state=0), space, sampler=GridSampler(shuffle=False),
                 n_trials=n_trials, cv=3, scheduler=scheduler, max_steps=2,
                 verbose=verbose).fit(X, y)
    ours = capsys.readouterr().out.splitlines()
    assert ours[0] == "Fitting 3 folds for each of up to 2 candidates, totalling up to 6 fits"
    # Above 9, a START line before each END line, and both number the fold and the candidate
    # ("[CV 2/3; 1/2]"), as GridSearchCV does.
    assert len(ours) == len(theirs) == 1 + 2 * 3 * (2 if verbose > 9 else 1)
    for mine, grid in zip(ours[1:], theirs[1:]):
        # The same line but for the time, and for the score when trained step by step.
        mine, grid = mine.split(" total time=")[0], grid.split(" total time=")[0]
        if scheduler is not None:
            mine, grid = mine.rsplit("score=", 1)[0], grid.rsplit("score=", 1)[0]
        assert mine == grid
    assert {len(line) for line in ours[1:]} == {80}


@pytest.mark.filterwarnings("ignore")
def test_verbose_never_numbers_a_candidate_beyond_the_total(iris, capsys):
    # A random sampler on a small finite space adds rows for repeats (not fitted again): the
    # space's size is no bound on the rows, n_trials is.
    import re

    X, y = iris
    space = {"alpha": [1e-3, 1e-2, 1e-1], "penalty": ["l2", "l1"]}
    rows = []
    for seed in range(8):
        search = TuneSearchCV(SGDClassifier(random_state=0), space, sampler="random",
                              n_trials=50, cv=2, verbose=10, random_state=seed).fit(X, y)
        numbered = [(int(k), int(n)) for k, n in
                    re.findall(r"; (\d+)/(\d+)\]", capsys.readouterr().out)]
        rows.append(len(search.cv_results_["params"]))
        assert max(k for k, _ in numbered) == rows[-1]
        assert all(k <= n for k, n in numbered), (seed, numbered)
    assert max(rows) > 6  # a repeat's row on some seed: the case this test is about
    # The grid proposes each point once: its 6 points bound the count, whatever the case of
    # its name, and it does not warn about a small space.
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="TuneSearchCV: the space has")
        TuneSearchCV(SGDClassifier(random_state=0), space, sampler="Grid", n_trials=10, cv=2,
                     verbose=1).fit(X, y)
    assert capsys.readouterr().out.startswith(
        "Fitting 2 folds for each of up to 6 candidates, totalling up to 12 fits")


def test_more_candidates_asked_than_a_finite_space_holds_warns_as_randomized_search(iris):
    from sklearn.model_selection import RandomizedSearchCV

    X, y = iris
    space = {"C": [0.1, 1.0, 10.0]}
    with pytest.warns(UserWarning, match="smaller than n_iter=5"):
        RandomizedSearchCV(LogisticRegression(max_iter=300), space, n_iter=5, cv=2).fit(X, y)
    with pytest.warns(UserWarning, match="has 3 candidates, fewer than n_iter=5") as caught:
        search = TuneSearchCV(LogisticRegression(max_iter=300), param_distributions=space,
                              n_iter=5, sampler="random", cv=2).fit(X, y)
    assert [w.filename for w in caught if "the space has" in str(w.message)] == [__file__]
    assert len(search.cv_results_["params"]) == len(search.study_.trials) == 3
    quiet = [dict(sampler="grid", n_trials=5), dict(sampler="random")]  # a grid; the default
    for kwargs in quiet:
        with warnings.catch_warnings():
            warnings.filterwarnings("error", "TuneSearchCV: the space has")
            TuneSearchCV(LogisticRegression(max_iter=300), space, cv=2, **kwargs).fit(X, y)
