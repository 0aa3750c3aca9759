"""A Keras Tuner example ported by changing its import to ``hpt_magic.keras_tuner``."""

import numpy as np
import pytest

import hpt_magic.keras_tuner as kt
from hpt_magic import (
    GPSampler,
    GridSampler,
    HyperbandScheduler,
    RandomSampler,
    TrialState,
    TuneError,
)

keras = pytest.importorskip("keras")


def build(hp):
    """Keras Tuner's tutorial model, in its own spelling (min_value/max_value, values=)."""
    model = keras.Sequential([
        keras.Input((10,)),
        keras.layers.Dense(hp.Int("units", min_value=8, max_value=16, step=8),
                           activation=hp.Fixed("activation", "relu")),
        keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.Adam(hp.Choice("learning_rate", values=[1e-2, 1e-3])),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


NAMES = {"units", "activation", "learning_rate"}


def assert_best_model_predicts(tuner, Xv):
    best = tuner.get_best_models()[0]
    assert isinstance(best, keras.Model)
    assert best.predict(Xv[:5], verbose=0).shape == (5, 2)
    values = tuner.get_best_hyperparameters()[0].values
    assert set(values) == NAMES and values["activation"] == "relu"
    assert isinstance(tuner.hypermodel.build(tuner.get_best_hyperparameters()[0]), keras.Model)


def test_hyperband_runs_its_brackets_for_at_most_max_epochs(binary):
    X, y, Xv, yv = binary
    tuner = kt.Hyperband(build, objective="val_accuracy", max_epochs=3, factor=3, seed=0)
    # Keras Tuner replaces the epochs of search with the bracket's: so does the port.
    tuner.search(X, y, epochs=50, validation_data=(Xv, yv))
    study = tuner.study
    assert isinstance(study.sampler, RandomSampler)
    assert isinstance(study.scheduler, HyperbandScheduler)
    assert (study.scheduler.max_steps, study.scheduler.reduction_factor) == (3, 3)
    assert study.direction == "maximize"
    # max_epochs=3, factor=3: one bracket of 3 trials from 1 epoch, one of 2 trained fully;
    # a repeat of a complete trial (4 points in this space) is recorded, not run, and leaves
    # its place in the bracket to the next trial.
    ran = [t for t in study.trials if "repeat_of" not in t.user_attrs]
    assert sorted(t.user_attrs["bracket"] for t in ran) == [0, 0, 0, 1, 1]
    for trial in ran:
        stopped = trial.state is TrialState.PRUNED
        assert sorted(trial.intermediate) == ([0] if stopped else [0, 1, 2])
    assert_best_model_predicts(tuner, Xv)


def test_random_search_with_an_objective_of_direction_min_minimises(binary):
    X, y, Xv, yv = binary
    tuner = kt.RandomSearch(build, objective=kt.Objective("val_loss", direction="min"),
                            max_trials=3, seed=0)
    tuner.search(X, y, epochs=2, validation_data=(Xv, yv))
    study = tuner.study
    assert isinstance(study.sampler, RandomSampler) and study.scheduler is None
    assert study.direction == "minimize"
    ran = [t for t in study.trials if "repeat_of" not in t.user_attrs]
    assert len(ran) == 3  # max_trials counts trials run, not repeats recorded with a score
    # Each trial scores its best (lowest) epoch; the best trial is the lowest of them.
    for trial in ran:
        assert trial.value == pytest.approx(min(trial.intermediate.values()))
    assert study.best_value == min(t.value for t in study.trials)
    assert_best_model_predicts(tuner, Xv)
    n = len(study.trials)
    tuner.search(X, y, epochs=2, validation_data=(Xv, yv))
    assert len(study.trials) == n  # max_trials counts in all, as in Keras Tuner


def test_bayesian_optimization_maps_its_arguments_onto_the_gp_sampler(binary):
    X, y, Xv, yv = binary
    tuner = kt.BayesianOptimization(build, objective="val_accuracy", max_trials=3,
                                    num_initial_points=2, beta=3.0, seed=0)
    tuner.search(X, y, epochs=2, validation_data=(Xv, yv))
    gp = tuner.study.sampler
    assert isinstance(gp, GPSampler)
    assert (gp.n_startup_trials, gp.acquisition, gp.kappa) == (2, "ucb", 3.0)
    assert tuner.study.direction == "maximize"
    assert [t.state for t in tuner.study.trials] == [TrialState.COMPLETE] * 3
    assert_best_model_predicts(tuner, Xv)


def test_grid_search_without_max_trials_runs_the_whole_grid(binary):
    X, y, Xv, yv = binary
    tuner = kt.GridSearch(build, objective="val_accuracy", seed=0)
    tuner.search(X, y, epochs=1, validation_data=(Xv, yv))
    assert isinstance(tuner.study.sampler, GridSampler)
    # 2 units x 1 activation x 2 learning rates, each once.
    points = [tuple(sorted(t.params.items())) for t in tuner.study.trials]
    assert len(points) == len(set(points)) == 4
    assert_best_model_predicts(tuner, Xv)


def test_overriding_run_trial_is_refused_where_it_is_written():
    with pytest.raises(TuneError, match="overriding run_trial is not supported.*HyperModel"):
        class MyTuner(kt.RandomSearch):
            def run_trial(self, trial, *args, **kwargs):
                return {"val_accuracy": 0.5}

    class Quiet(kt.RandomSearch):  # other subclasses stay allowed
        pass


@pytest.fixture(scope="module")
def regression():
    """Keras Tuner's guide regresses random targets: 60 training and 20 validation rows."""
    rng = np.random.default_rng(0)
    x, y = rng.random((80, 10), dtype="float32"), rng.random((80, 1), dtype="float32")
    return x[:60], y[:60], (x[60:], y[60:])


def build_regressor(hp):
    """The guide's regressor, with Keras Tuner's positional order: name, min, max, step."""
    model = keras.Sequential([keras.Input((10,)),
                              keras.layers.Dense(hp.Int("units", 8, 24, 8), activation="relu"),
                              keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-2, None, "log")),
                  loss="mean_squared_error", metrics=[keras.metrics.MeanAbsoluteError()])
    return model


def test_hyperparameters_take_keras_tuners_positional_order(regression):
    x, y, validation = regression
    tuner = kt.RandomSearch(hypermodel=build_regressor,
                            objective=kt.Objective("val_mean_absolute_error", direction="min"),
                            max_trials=2, seed=0)
    tuner.search(x=x, y=y, validation_data=validation)
    assert [t.state for t in tuner.study.trials] == [TrialState.COMPLETE] * 2
    space = tuner.study.search_space()
    assert (space["units"].low, space["units"].high, space["units"].step) == (8, 24, 8)
    assert space["lr"].log


class HyperRegressor(kt.HyperModel):
    """The guide's regressor that scores itself after training, without validation metrics."""

    def build(self, hp):
        model = keras.Sequential([keras.Input((10,)),
                                  keras.layers.Dense(hp.Int("units", 8, 24, 8),
                                                     activation="relu"),
                                  keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mean_squared_error")
        return model

    def fit(self, hp, model, x, y, validation_data, **kwargs):
        model.fit(x, y, **kwargs)
        x_val, y_val = validation_data
        error = model.predict(x_val, verbose=0) - y_val
        return np.mean(np.abs(error))  # a numpy float32, not a float


class HyperRegressorOfMetrics(HyperRegressor):
    def fit(self, hp, model, x, y, validation_data, **kwargs):
        model.fit(x, y, **kwargs)
        x_val, y_val = validation_data
        error = model.predict(x_val, verbose=0) - y_val
        return {"metric_a": -np.mean(np.abs(error)), "metric_b": np.mean(np.square(error))}


@pytest.mark.parametrize("hypermodel, objective, direction", [
    (HyperRegressor(), None, "minimize"),  # no objective: fit's number is minimised
    (HyperRegressorOfMetrics(), kt.Objective("metric_a", "max"), "maximize"),
])
def test_a_fit_that_scores_the_model_itself_is_its_trials_score(regression, hypermodel,
                                                                objective, direction):
    x, y, validation = regression
    tuner = kt.RandomSearch(hypermodel=hypermodel, objective=objective, max_trials=2, seed=0)
    tuner.search(x=x, y=y, validation_data=validation)
    assert [t.state for t in tuner.study.trials] == [TrialState.COMPLETE] * 2
    assert tuner.study.direction == direction
    # The model was trained on x alone: its epochs had no objective to report.
    assert all(t.intermediate == {} and np.isfinite(t.value) for t in tuner.study.trials)
    assert isinstance(tuner.get_best_models()[0], keras.Model)


def test_an_objective_that_fit_never_returns_fails_the_trial_with_the_way_out(regression):
    x, y, validation = regression
    tuner = kt.RandomSearch(build_regressor, objective="val_accuracy", max_trials=1)
    tuner.search(x=x, y=y, validation_data=validation)
    [trial] = tuner.study.trials
    assert trial.state is TrialState.FAILED
    assert "the objective 'val_accuracy' is not among the results of fit" in trial.error


def test_executions_per_trial_fits_several_models_and_scores_their_mean(binary, tmp_path):
    """Keras Tuner's Getting Started tuner, as written there."""
    X, y, Xv, yv = binary
    tuner = kt.RandomSearch(hypermodel=build, objective="val_accuracy", max_trials=2,
                            executions_per_trial=2, overwrite=True, directory=tmp_path,
                            project_name="helloworld", seed=0)
    tuner.search(X, y, epochs=2, validation_data=(Xv, yv))
    ran = [t for t in tuner.study.trials if "repeat_of" not in t.user_attrs]
    assert len(ran) == 2
    for trial in ran:
        first, second = trial.user_attrs["execution_scores"]
        assert trial.value == pytest.approx((first + second) / 2)
        # The epochs reported are the first execution's: its score is their best.
        assert sorted(trial.intermediate) == [0, 1]
        assert first == pytest.approx(max(trial.intermediate.values()))
    assert_best_model_predicts(tuner, Xv)


def build_tailored(hp):
    """The model of Keras Tuner's guide "Tailor the search space"."""
    model = keras.Sequential([keras.Input((10,)),
                              keras.layers.Dense(hp.Int("units", min_value=8, max_value=32,
                                                        step=8, default=16))])
    if hp.Boolean("dropout"):
        model.add(keras.layers.Dropout(rate=0.25))
    model.add(keras.layers.Dense(2, activation="softmax"))
    model.compile(keras.optimizers.Adam(hp.Choice("learning_rate", values=[1e-2, 1e-3, 1e-4])),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_hyperparameters_search_a_few_and_fix_the_rest(binary, capsys):
    X, y, Xv, yv = binary
    hp = kt.HyperParameters()
    hp.Float("learning_rate", min_value=1e-4, max_value=1e-2, sampling="log")
    tuner = kt.RandomSearch(hypermodel=build_tailored, hyperparameters=hp,
                            tune_new_entries=False, objective="val_accuracy", max_trials=3,
                            seed=0)
    tuner.search_space_summary()
    assert "Default search space size: 1\nlearning_rate (Float)" in capsys.readouterr().out
    tuner.search(X, y, epochs=1, validation_data=(Xv, yv))
    rates = {t.params["learning_rate"] for t in tuner.study.trials}
    assert len(rates) == 3 and not rates & {1e-2, 1e-3, 1e-4}  # the Float, not the Choice
    assert all(set(t.params) == {"learning_rate"} for t in tuner.study.trials)
    # The others took their defaults: 16 units, no dropout.
    best = tuner.get_best_models()[0]
    assert [layer.units for layer in best.layers] == [16, 2]


def test_hyperparameters_fix_a_few_and_search_the_rest(binary):
    X, y, Xv, yv = binary
    hp = kt.HyperParameters()
    hp.Fixed("learning_rate", value=1e-4)
    tuner = kt.RandomSearch(build_tailored, hyperparameters=hp, tune_new_entries=True,
                            objective="val_accuracy", max_trials=3, seed=0)
    tuner.search(X, y, epochs=1, validation_data=(Xv, yv))
    assert {t.params["learning_rate"] for t in tuner.study.trials} == {1e-4}
    assert {"units", "dropout"} <= set(tuner.study.search_space())
    best_hp = tuner.get_best_hyperparameters()[0]
    assert best_hp.get("learning_rate") == 1e-4
    assert float(tuner.hypermodel.build(best_hp).optimizer.learning_rate) == pytest.approx(1e-4)


def test_a_tailored_project_resumes_with_its_own_hyperparameters_only(binary, tmp_path):
    X, y, Xv, yv = binary

    def tuner(hp, tune_new_entries):
        return kt.RandomSearch(build_tailored, hyperparameters=hp,
                               tune_new_entries=tune_new_entries, objective="val_accuracy",
                               max_trials=1, seed=0, directory=tmp_path, project_name="tailor")

    fixed = kt.HyperParameters()
    fixed.Fixed("learning_rate", value=1e-3)
    tuner(fixed, True).search(X[:64], y[:64], epochs=1, validation_data=(Xv[:64], yv[:64]))
    searched = kt.HyperParameters()
    searched.Float("learning_rate", min_value=1e-4, max_value=1e-2, sampling="log")
    with pytest.raises(TuneError, match=r"project 'tailor' .* was created with "
                       r"hyperparameters=\{'learning_rate': Choice\(\[0\.001\]\)\}, "
                       r"tune_new_entries=True, and this tuner passes hyperparameters="
                       r"\{'learning_rate': Float\(0\.0001, 0\.01, log=True\)\}, "
                       r"tune_new_entries=False\."):
        tuner(searched, False)
    again = tuner(fixed, True)
    assert again.study.resumed
    assert [t.params["learning_rate"] for t in again.study.trials] == [1e-3]


def test_trials_failing_in_a_row_stop_the_search_with_the_error(binary):
    X, y, Xv, yv = binary

    def build_with_a_typo(hp):
        return keras.Sequential([keras.Input((10,)),
                                 keras.layers.Dense(hp.Int("units", 8, 16), activation="rleu")])

    tuner = kt.RandomSearch(build_with_a_typo, objective="val_loss", max_trials=10, seed=0)
    with pytest.raises(TuneError, match=r"3 trials in a row failed, so the search stopped "
                                        r"\(max_consecutive_failed_trials=3\)\. The last, "
                                        r"trial 2, failed with: ValueError: .*rleu"):
        tuner.search(X, y, epochs=1, validation_data=(Xv, yv))
    assert [t.state for t in tuner.study.trials] == [TrialState.FAILED] * 3

    patient = kt.RandomSearch(build_with_a_typo, max_trials=2, max_consecutive_failed_trials=5)
    patient.search(X, y, epochs=1)  # fewer failures than the limit: recorded, not raised
    assert [t.state for t in patient.study.trials] == [TrialState.FAILED] * 2


class CustomLoop(kt.HyperModel):
    """Keras Tuner's custom training loop guide: fit trains batch by batch, hands the
    tuner's callbacks the model and each epoch's objective, and returns the best value."""

    def __init__(self):
        super().__init__(name="custom_loop")

    def build(self, hp):
        model = keras.Sequential([keras.Input((10,)),
                                  keras.layers.Dense(hp.Int("units", 8, 32, step=8),
                                                     activation="relu"),
                                  keras.layers.Dense(2, activation="softmax")])
        rate = hp.Float("learning_rate", 1e-4, 1e-2, sampling="log", default=1e-3)
        model.compile(keras.optimizers.Adam(rate), loss="sparse_categorical_crossentropy")
        return model

    def fit(self, hp, model, x, y, validation_data, callbacks=None, **kwargs):
        batch_size = hp.Int("batch_size", 32, 128, step=32, default=64)
        for callback in callbacks:
            callback.set_model(model)
        best = float("inf")
        for epoch in range(2):
            for start in range(0, len(x), batch_size):
                model.train_on_batch(x[start:start + batch_size], y[start:start + batch_size])
            loss = float(model.evaluate(*validation_data, verbose=0))
            for callback in callbacks:
                callback.on_epoch_end(epoch, logs={"my_metric": loss})
            best = min(best, loss)
        return best


def test_a_custom_training_loop_reports_its_metric_through_the_callbacks(binary):
    X, y, Xv, yv = binary
    tuner = kt.RandomSearch(objective=kt.Objective("my_metric", "min"), max_trials=2,
                            hypermodel=CustomLoop(), seed=0)
    tuner.search(x=X, y=y, validation_data=(Xv, yv))
    assert tuner.hypermodel.name == "custom_loop"
    for trial in tuner.study.trials:
        assert trial.state is TrialState.COMPLETE and sorted(trial.intermediate) == [0, 1]
        assert trial.value == pytest.approx(min(trial.intermediate.values()))


def test_a_multiplicative_step_is_refused_with_the_way_out(binary):
    X, y, Xv, yv = binary

    def build_log_step(hp):
        units = hp.Int("units", min_value=8, max_value=64, step=2, sampling="log")
        return keras.Sequential([keras.Input((10,)), keras.layers.Dense(units)])

    tuner = kt.RandomSearch(build_log_step, max_trials=3)
    with pytest.raises(TuneError, match=r"hp.Int\('units'\): step=2 with sampling='log' is not "
                                        r"supported .* or list the values: hp.Choice"):
        tuner.search(X, y, epochs=1, validation_data=(Xv, yv))
