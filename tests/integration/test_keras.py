"""Keras 3 models in Tuner/HyperModel, and tune.keras_callback in any objective."""

import sys

import cloudpickle
import numpy as np
import pytest
from framework_cases import StopAfter, assert_pruned_with_curve

from hpt_magic import HyperModel, PBTScheduler, Study, TrialState, Tuner, tune

keras = pytest.importorskip("keras")
cloudpickle.register_pickle_by_value(sys.modules[__name__])

EPOCHS = 4
#: One callback object for every trial: it must carry nothing between them.
CALLBACK = tune.keras_callback("val_loss")


def build(hp):
    model = keras.Sequential([keras.Input((10,)),
                              keras.layers.Dense(hp.Int("units", 4, 32, log=True),
                                                 activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(hp.Float("lr", 1e-5, 0.5, sampling="log")),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def objective_for(data, callback=CALLBACK):
    X, y, Xv, yv = data

    def objective(trial):
        keras.utils.set_random_seed(0)
        model = build(_TrialHP())
        history = model.fit(X, y, epochs=EPOCHS, batch_size=32, validation_data=(Xv, yv),
                            callbacks=[callback], verbose=0)
        return history.history["val_loss"][-1]
    return objective


class _TrialHP:
    """``hp`` drawing from tune.*, so one build serves the Tuner and plain objectives."""

    def Int(self, name, low, high, log=False):
        return tune.int(low, high, log=log, name=name)

    def Float(self, name, low, high, sampling=None):
        return tune.float(low, high, log=sampling == "log", name=name)


def test_asha_prunes_a_poor_trial_and_the_callback_carries_nothing_over(binary):
    study = Study(scheduler="asha", max_steps=EPOCHS, scheduler_args={"reduction_factor": 2})
    for lr in (0.2, 1e-5, 0.4):  # distinct (a repeat reuses its result), the last best
        study.enqueue({"units": 16, "lr": lr})
    study.optimize(objective_for(binary), n_trials=3)
    good, poor, again = study.trials
    assert good.state is again.state is TrialState.COMPLETE
    assert sorted(good.intermediate) == sorted(again.intermediate) == list(range(EPOCHS))
    assert_pruned_with_curve(poor, [0])


def test_two_worker_processes(binary):
    study = Study(scheduler=StopAfter(1), seed=0)
    study.optimize(objective_for(binary), n_trials=3, n_jobs=2)
    for trial in study.trials:
        assert_pruned_with_curve(trial, [0, 1])


def test_population_based_training_continues_weights_and_epochs(binary):
    epochs = 6
    X, y, Xv, yv = binary
    tuner = Tuner(build, objective="val_loss", max_trials=5, seed=0,
                  scheduler=PBTScheduler(population_size=4, interval=2, max_steps=epochs,
                                         mutate=["lr"]))
    # Three members that learn and one that cannot: the fifth trial replaces the fourth.
    # The weights start from Keras's global seed: set here, whatever ran before in the process.
    keras.utils.set_random_seed(0)
    for lr in (0.3, 0.2, 0.25, 1e-5):
        tuner.study.enqueue({"units": 8, "lr": lr})
    tuner.search(X, y, epochs=epochs, batch_size=32, validation_data=(Xv, yv))
    children = [t for t in tuner.study.trials if "parent" in t.user_attrs]
    assert [t.number for t in children] == [4]
    for child in children:
        start = child.user_attrs["resume_step"]
        parent = tuner.study.trial(child.user_attrs["parent"])
        # Only the epochs left, counted on from the checkpoint's epoch (the architecture is
        # the parent's: units is not mutated)...
        assert child.state is TrialState.COMPLETE
        assert sorted(child.intermediate) == list(range(start, epochs))
        # ...from the parent's weights: one more epoch is about where the parent was, far
        # below where a fresh model starts.
        fresh = max(t.intermediate[0] for t in tuner.study.trials if 0 in t.intermediate)
        assert child.intermediate[start] < parent.intermediate[start - 1] + 0.5 * (
            fresh - parent.intermediate[start - 1])


def test_tuner_with_a_keras_build_function(binary, capsys):
    X, y, Xv, yv = binary
    names = []

    def build_and_name(hp):
        model = build(hp)
        names.append(model.layers[0].name)
        return model

    stop = keras.callbacks.EarlyStopping("val_loss", patience=1)
    tuner = Tuner(build_and_name, objective="val_accuracy", max_trials=4, seed=0,
                  scheduler="hyperband", max_steps=EPOCHS)
    tuner.search(X, y, epochs=EPOCHS, validation_data=(Xv, yv), callbacks=[stop])
    assert tuner.study.direction == "maximize"
    # clear_session() ran before every build: Keras numbers layer names afresh each trial.
    assert names == ["dense"] * 4
    best = tuner.get_best_models()[0]
    assert isinstance(best, keras.Model)
    # The kept model is its trial's best epoch (the trial's score), as in Keras Tuner, not
    # the last one (EarlyStopping with patience 1 ends a trial one epoch after its best).
    accuracy = best.evaluate(Xv, yv, verbose=0)[1]
    assert accuracy == pytest.approx(tuner.study.best_value, abs=1e-6)
    hp = tuner.get_best_hyperparameters()[0]
    assert hp.values == tuner.study.best_params
    assert isinstance(build(hp), keras.Model)
    tuner.results_summary(2)
    out = capsys.readouterr().out
    assert "Objective(name='val_accuracy', direction='maximize')" in out
    assert f"Trial {tuner.study.best_trial.number} summary" in out
    assert "units: " in out and "Score: " in out


def test_the_kept_model_is_its_trials_best_epoch(binary):
    X, y, Xv, yv = binary

    class Collapse(keras.callbacks.Callback):
        """The last epoch starts from zero weights: its validation accuracy falls."""

        def on_epoch_begin(self, epoch, logs=None):
            if epoch == EPOCHS - 1:
                self.model.set_weights([np.zeros_like(w) for w in self.model.get_weights()])

    tuner = Tuner(build, objective="val_accuracy", max_trials=3, seed=0)
    tuner.search(X, y, epochs=EPOCHS, validation_data=(Xv, yv), callbacks=[Collapse()])
    trial = tuner.study.best_trial
    curve = [trial.intermediate[s] for s in sorted(trial.intermediate)]
    assert len(curve) == EPOCHS and curve[-1] < max(curve) == trial.value
    accuracy = tuner.get_best_models()[0].evaluate(Xv, yv, verbose=0)[1]
    assert accuracy == pytest.approx(max(curve), abs=1e-6)


def test_a_search_of_other_models_clears_keras_state_once(monkeypatch):
    # clear_session() collects garbage (seconds a trial in a big process): a tuner whose
    # models are not Keras's clears what earlier searches left, once, not at every trial.
    cleared = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *a, **k: cleared.append(1))

    class Plain:
        def fit(self, *args, **kwargs):
            return {"loss": 1.0}

    tuner = Tuner(lambda hp: (hp.Float("x", 0, 1), Plain())[1], objective="loss",
                  max_trials=4, seed=0)
    tuner.search()
    assert len(tuner.study.trials) == 4 and len(cleared) == 1


def test_hypermodel_with_its_own_fit(binary):
    X, y, Xv, yv = binary

    class Model(HyperModel):
        def build(self, hp):
            return build(hp)

        def fit(self, hp, model, *args, **kwargs):
            return model.fit(*args, batch_size=hp.Choice("batch_size", [16, 64]), **kwargs)

    tuner = Tuner(Model(), objective="val_loss", max_trials=2, seed=1)
    tuner.search(X, y, epochs=2, validation_data=(Xv, yv))
    assert tuner.study.counts()["complete"] == 2
    for trial in tuner.study.trials:
        assert {"units", "lr", "batch_size"} <= set(trial.params)
        assert sorted(trial.intermediate) == [0, 1]
        assert trial.value == pytest.approx(min(trial.intermediate.values()))


def test_missing_metric_fails_the_trial_and_says_why(binary):
    # A forgotten validation_data: said after the first epoch, not after the whole fit.
    X, y, _, _ = binary
    epochs = []
    study = Study(seed=0)
    study.optimize(lambda t: build(_TrialHP()).fit(X, y, epochs=EPOCHS, verbose=0, callbacks=[
        keras.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: epochs.append(e)),
        CALLBACK]) and 0.0, n_trials=1)
    trial = study.trials[0]
    assert trial.state is TrialState.FAILED
    assert "'val_loss' is not among the metrics of epoch 0 (['accuracy', 'loss'])" in \
        trial.error
    assert "validation_data" in trial.error and "validation_freq=k" in trial.error
    assert epochs == [0]


def test_a_misspelt_validation_metric_fails_at_the_first_epoch(binary):
    X, y, Xv, yv = binary
    epochs = []
    study = Study(seed=0)
    study.optimize(lambda t: build(_TrialHP()).fit(
        X, y, epochs=EPOCHS, verbose=0, validation_data=(Xv, yv), callbacks=[
            keras.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: epochs.append(e)),
            tune.keras_callback("val_acc")]) and 0.0, n_trials=1)
    trial = study.trials[0]
    assert trial.state is TrialState.FAILED
    assert "'val_acc' is not among the metrics of epoch 0" in trial.error
    assert "'val_accuracy'" in trial.error
    assert epochs == [0]


def test_epochs_that_do_not_validate_report_nothing(binary):
    # fit(validation_freq=2) validates every other epoch: the others have no val_* metric,
    # which is no reason to fail the trial once the callback is told the same cadence.
    X, y, Xv, yv = binary

    def objective(trial):
        history = build(_TrialHP()).fit(
            X, y, epochs=EPOCHS, batch_size=32, verbose=0, validation_data=(Xv, yv),
            validation_freq=2, callbacks=[tune.keras_callback("val_loss", validation_freq=2)])
        return history.history["val_loss"][-1]

    study = Study(seed=0, scheduler="asha", max_steps=EPOCHS)
    study.optimize(objective, n_trials=1)
    trial, = study.trials
    assert trial.state is TrialState.COMPLETE, trial.error
    assert sorted(trial.intermediate) == [1, 3]
    assert trial.intermediate[3] == trial.value


def test_outside_a_trial_it_only_trains(binary):
    X, y, Xv, yv = binary
    history = build(_TrialHP()).fit(X, y, epochs=2, validation_data=(Xv, yv),
                                    callbacks=[CALLBACK], verbose=0)
    assert len(history.history["val_loss"]) == 2
    assert np.isfinite(history.history["val_loss"]).all()


def test_the_progress_bar_stays_in_the_trials_output(binary, capsys):
    """Keras runs batch callbacks, the progress bar's among them, in a thread pool unless a
    callback needs them in order: there the bar's writes would escape the trial's capture."""
    X, y, Xv, yv = binary
    study = Study(seed=0)
    study.optimize(lambda t: build(_TrialHP()).fit(
        X, y, epochs=2, batch_size=32, validation_data=(Xv, yv), verbose=1,
        callbacks=[CALLBACK]).history["val_loss"][-1], n_trials=1)
    trial = study.trials[0]
    assert trial.state is TrialState.COMPLETE, trial.error
    assert "Epoch 2/2" in trial.output and "13/13" in trial.output
    assert "step" not in capsys.readouterr().out


@pytest.mark.parametrize(("monitor", "direction", "wanted"),
                         [("val_loss", "maximize", "--minimize"),
                          ("val_accuracy", "minimize", "--maximize")])
def test_a_metric_ranked_the_other_way_fails_the_trial_and_says_so(binary, monitor, direction,
                                                                  wanted):
    # A scheduler would otherwise stop the best trials and keep the worst, silently.
    study = Study(seed=0, direction=direction, scheduler="asha", max_steps=EPOCHS)
    study.optimize(objective_for(binary, tune.keras_callback(monitor)), n_trials=2)
    assert all(t.state is TrialState.FAILED for t in study.trials)
    assert f"with {wanted}" in study.trials[0].error
    assert study.trials[0].intermediate == {}


def test_without_a_scheduler_any_metric_is_recorded(binary):
    # Nothing judges the curve: a maximised accuracy with the loss's curve is fine.
    study = Study(seed=0, direction="maximize")
    study.optimize(objective_for(binary, tune.keras_callback("val_loss")), n_trials=1)
    trial, = study.trials
    assert trial.state is TrialState.COMPLETE, trial.error
    assert sorted(trial.intermediate) == list(range(EPOCHS))


@pytest.mark.parametrize("jobs", [None, 2])
def test_without_a_scheduler_a_curve_the_other_way_fails_only_as_the_score(binary, jobs):
    # The trial returns nothing, so its curve's last point (val_loss) would be the score of a
    # study that maximises: that fails the trial with the reason, in the kernel or a worker.
    X, y, Xv, yv = binary
    callback = tune.keras_callback("val_loss")

    def objective(trial):
        keras.utils.set_random_seed(0)
        model = build(_TrialHP())
        model.fit(X, y, epochs=EPOCHS, batch_size=32, validation_data=(Xv, yv),
                  callbacks=[callback], verbose=0)

    study = Study(seed=0, direction="maximize")
    study.optimize(objective, n_trials=1, **({"n_jobs": jobs} if jobs else {}))
    trial, = study.trials
    assert trial.state is TrialState.FAILED
    assert "returned nothing" in trial.error and "--minimize" in trial.error
    assert "_curve_direction" not in trial.user_attrs
    assert sorted(trial.intermediate) == list(range(EPOCHS))


def test_a_metric_named_freely_is_not_judged(binary):
    X, y, Xv, yv = binary
    study = Study(seed=0, direction="maximize", scheduler="asha", max_steps=EPOCHS)
    model_ok = []

    def objective(trial):
        model = build(_TrialHP())
        model.fit(X, y, epochs=1, validation_data=(Xv, yv), verbose=0,
                  callbacks=[keras.callbacks.LambdaCallback(
                      on_epoch_end=lambda e, logs: logs.update(my_score=1.0)),
                      tune.keras_callback("my_score")])
        model_ok.append(True)
        return 1.0
    study.optimize(objective, n_trials=1)
    assert study.trials[0].state is TrialState.COMPLETE and model_ok
