"""Hypermodels and the numpy MLP they are shown with."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler

from hpt_magic import Int, Scheduler, TrialState, TuneError
from hpt_magic.integration._hypermodel import HyperModel, HyperParameters, Tuner
from hpt_magic.integration._nn import SGD, Adam, Dense, EarlyStopping, Sequential


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    order = np.random.default_rng(0).permutation(len(X))
    X, y = X[order], y[order]
    return X[:100], y[:100], X[100:], y[100:]


def test_dense_worked_example():
    layer = Dense(2, "linear", kernel=[[0.5, 0.75], [0.25, 0.5]], bias=[0.0, 0.0])
    out = layer(np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_allclose(out, [[1.0, 1.75], [2.5, 4.25]])


def test_dense_applies_activation_and_checks_shapes():
    layer = Dense(2, "relu", kernel=[[1.0, -1.0]], bias=[0.5, 0.5])
    np.testing.assert_allclose(layer([[1.0], [-2.0]]), [[1.5, 0.0], [0.0, 2.5]])
    with pytest.raises(TuneError, match="must be \\(3, 2\\)"):
        Dense(2, kernel=np.ones((2, 2)))(np.ones((1, 3)))
    with pytest.raises(TuneError, match="unknown activation"):
        Dense(2, "swish")


@pytest.mark.parametrize("loss, last", [("crossentropy", "softmax"), ("mse", "sigmoid")])
def test_backpropagation_matches_numerical_gradients(loss, last):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 3))
    y = np.array([0, 1, 2, 1, 0, 2]) if loss == "crossentropy" else rng.random((6, 3))
    model = Sequential([Dense(4, "tanh"), Dense(5, "relu"), Dense(3, last)], loss=loss,
                       optimizer=SGD(0.0), seed=1)
    model._train_batch(X, model._targets(y, len(X)))
    for layer in model.layers:
        analytic = layer.d_kernel.copy()
        numeric = np.zeros_like(layer.kernel)
        for idx in np.ndindex(*layer.kernel.shape):
            layer.kernel[idx] += 1e-6
            up = model.evaluate(X, y)["loss"]
            layer.kernel[idx] -= 2e-6
            down = model.evaluate(X, y)["loss"]
            layer.kernel[idx] += 1e-6
            numeric[idx] = (up - down) / 2e-6
        np.testing.assert_allclose(analytic, numeric, atol=1e-6)


def test_sequential_learns_and_stops_early(iris):
    X, y, Xv, yv = iris
    model = Sequential([Dense(16, "relu"), Dense(3, "softmax")], optimizer=Adam(0.05), seed=0)
    stop = EarlyStopping("val_loss", patience=2)
    history = model.fit(X, y, epochs=200, batch_size=16, validation_data=(Xv, yv),
                        callbacks=[stop])
    assert stop.stopped_epoch is not None and len(history.epoch) == stop.stopped_epoch + 1 < 200
    # The best epoch's weights are back in the model.
    assert model.evaluate(Xv, yv)["loss"] == pytest.approx(min(history.history["val_loss"]))
    assert model.evaluate(Xv, yv)["accuracy"] > 0.85


def test_sequential_rejects_bad_settings():
    with pytest.raises(TuneError, match="softmax"):
        Sequential([Dense(3, "relu")])
    with pytest.raises(TuneError, match="class labels"):
        Sequential([Dense(2, "softmax")]).fit(np.ones((3, 2)), np.array([0, 1, 2]))
    with pytest.raises(TuneError, match="val_loss"):
        Sequential([Dense(2, "softmax")]).fit(np.ones((2, 2)), np.array([0, 1]),
                                              callbacks=[EarlyStopping()])


def test_hyperparameters_outside_a_search():
    hp = HyperParameters({"units": 32})
    assert hp.Int("units", 8, 128, log=True) == 32
    assert hp.Float("lr", 1e-4, 1e-2, sampling="log") == pytest.approx(1e-3)
    assert hp.Boolean("dropout") is False
    assert hp["lr"] == pytest.approx(1e-3)
    assert hp.space["units"] == Int(8, 128, log=True)
    with pytest.raises(TuneError, match="outside"):
        HyperParameters({"units": 500}).Int("units", 8, 128)
    with pytest.raises(TuneError, match="has not been defined"):
        hp.get("momentum")


def build_mlp(hp):
    """Depth counts the layers that learn weights: depth - 1 hidden layers and the output."""
    width = hp.Int("width", 4, 32, log=True)
    layers = [Dense(width, hp.Choice("activation", ["relu", "tanh"]))
              for _ in range(hp.Int("depth", 1, 3) - 1)]
    layers.append(Dense(3, "softmax"))
    return Sequential(layers, optimizer=Adam(hp.Float("lr", 1e-3, 1e-1, log=True)), seed=0)


def test_tuner_searches_depth_and_width_with_early_stopping(iris):
    X, y, Xv, yv = iris
    tuner = Tuner(build_mlp, objective="val_loss", max_trials=5, seed=0, keep_models=2)
    tuner.search(X, y, epochs=15, validation_data=(Xv, yv),
                 callbacks=[EarlyStopping(patience=2)])
    trials = tuner.study.trials
    assert all(t.state is TrialState.COMPLETE for t in trials)
    assert {"width", "depth", "lr"} <= set(tuner.study.search_space())
    # Every epoch's val_loss was reported; the score is the best of them.
    for t in trials:
        assert t.value == pytest.approx(min(t.intermediate.values()))
    best_hp = tuner.get_best_hyperparameters()[0]
    assert best_hp.values == tuner.study.best_params
    best_model = tuner.get_best_models()[0]
    assert len(best_model.layers) == best_hp["depth"]
    assert best_model.evaluate(Xv, yv)["loss"] == pytest.approx(tuner.study.best_value)
    assert len(tuner.get_best_models(5)) == 2
    rebuilt = build_mlp(best_hp)
    assert [layer.units for layer in rebuilt.layers] == [layer.units for layer in
                                                         best_model.layers]


class StopAfterTwo(Scheduler):
    def on_report(self, study, trial, step, value):
        return "stop" if trial.number > 0 and step >= 1 else "continue"


def test_tuner_scheduler_stops_trials_through_reports(iris):
    X, y, Xv, yv = iris
    tuner = Tuner(build_mlp, objective="val_accuracy", scheduler=StopAfterTwo(), max_trials=3,
                  seed=1)
    assert tuner.study.direction == "maximize"
    tuner.search(X, y, epochs=6, validation_data=(Xv, yv))
    assert [t.state for t in tuner.study.trials] == [TrialState.COMPLETE] + \
        [TrialState.PRUNED] * 2
    assert [len(t.intermediate) for t in tuner.study.trials] == [6, 2, 2]


def test_hypermodel_subclass_with_its_own_fit():
    class Quadratic(HyperModel):
        def build(self, hp):
            return np.array([hp.Float("a", -2, 2), hp.Float("b", -2, 2)])

        def fit(self, hp, model, target):
            return float(np.sum((model - target) ** 2))

    tuner = Tuner(Quadratic(), objective=lambda model, loss: loss, direction="minimize",
                  sampler="random", max_trials=20, seed=0)
    tuner.search(np.array([1.0, -1.0]))
    assert tuner.study.best_value < 0.5
    np.testing.assert_allclose(tuner.get_best_models()[0],
                               list(tuner.get_best_hyperparameters()[0].values.values()))


def test_tuner_errors_are_clear(iris):
    X, y, _, _ = iris
    with pytest.raises(TuneError, match="direction"):
        Tuner(build_mlp, objective=lambda model, result: 0.0)
    tuner = Tuner(build_mlp, objective="val_loss", max_trials=1, seed=0)
    with pytest.raises(TuneError, match="no complete trial"):
        tuner.get_best_models()
    tuner.search(X, y, epochs=1)
    assert "Pass validation_data" in tuner.study.trials[0].error


def test_a_tuner_whose_trials_keep_failing_stops_and_says_why(iris):
    # Every trial failing means a bug in build or fit: the search stops after three in a
    # row and names the error, rather than ending quietly with no model.
    X, y, _, _ = iris

    def broken(hp):
        hp.Int("width", 4, 32)
        raise ValueError("a typo in build")

    tuner = Tuner(broken, objective="val_loss", max_trials=10, seed=0)
    with pytest.raises(TuneError, match=r"Tuner: 3 trials in a row failed.*trial 2, failed "
                                        r"with: ValueError: a typo in build\. Fix that \("
                                        r"tuner\.study\.trials\[2\]\.traceback"):
        tuner.search(X, y, epochs=1)
    assert [t.state for t in tuner.study.trials] == [TrialState.FAILED] * 3
    with pytest.raises(TuneError, match="max_consecutive_failed_trials=0 must be"):
        Tuner(broken, max_consecutive_failed_trials=0)
    # The tuner's own limit governs, above the five after which a plain run stops.
    patient = Tuner(broken, objective="val_loss", max_trials=20, seed=0,
                    max_consecutive_failed_trials=8)
    with pytest.raises(TuneError, match="8 trials in a row failed"):
        patient.search(X, y, epochs=1)


def test_tuner_study_on_disk_continues(tmp_path):
    class Dict(HyperModel):
        def build(self, hp):
            return hp.Float("x", -1, 1)

        def fit(self, hp, model):
            return {"loss": model ** 2}

    def make(**kwargs):
        return Tuner(Dict(), objective="loss", max_trials=3, seed=0, storage=tmp_path / "s.db",
                     study_name="dict", **kwargs)

    first = make()
    first.search()
    assert first.study.direction == "minimize"
    assert [t.value for t in first.study.trials] == pytest.approx(
        [t.params["x"] ** 2 for t in first.study.trials])
    again = make()
    assert len(again.study.trials) == 3
    with pytest.raises(TuneError, match="not in memory"):
        again.get_best_models()
    assert again.get_best_hyperparameters()[0].values == first.study.best_params
    again.search()
    assert len(again.study.trials) == 6
    assert len(make(new=True).study.trials) == 0
