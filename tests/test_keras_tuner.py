"""hpt_magic.keras_tuner: Keras Tuner's classes and arguments on Tuner (no framework needed;
the Keras examples are in tests/integration/test_keras_tuner_port.py)."""

import math
import multiprocessing as mp
import re

import pytest

import hpt_magic.keras_tuner as kt
from hpt_magic import Choice, HyperbandScheduler, SQLiteStorage, TuneError, load_study
from hpt_magic.executors._processes import main_module_spec
from hpt_magic.integration._keras_tuner import _KerasTunerPort


class Quadratic(kt.HyperModel):
    """A model that is a dict, "trained" in no time: the score is a loss of x."""

    def build(self, hp):
        return {"x": hp.Float("x", min_value=-2, max_value=2)}

    def fit(self, hp, model):
        return {"loss": [(model["x"] - 1) ** 2]}


def branching(hp):
    kind = hp.Choice("kind", ["linear", "mlp"])
    with hp.conditional_scope("kind", ["mlp"]):
        units = hp.Int("units", min_value=4, max_value=64, sampling="log")
    depth = hp.Int("depth", 1, 3, parent_name="kind", parent_values="mlp")
    return {"kind": kind, "units": units, "depth": depth,
            "optimizer": hp.Fixed("optimizer", "adam")}


class Branching(kt.HyperModel):
    def build(self, hp):
        return branching(hp)

    def fit(self, hp, model):
        return 1.0 if model["kind"] == "linear" else abs(model["units"] - 16) / 16


def test_directory_and_project_name_keep_a_study_that_a_second_tuner_resumes(tmp_path):
    def tuner(max_trials, **kwargs):
        return kt.RandomSearch(Quadratic(), objective="loss", max_trials=max_trials, seed=0,
                               directory=tmp_path / "runs", project_name="quad", **kwargs)

    first = tuner(3)
    first.search()
    assert (tmp_path / "runs" / "quad.db").is_file()
    assert first.study.name == "quad" and len(first.study.trials) == 3

    again = tuner(5)
    assert again.study.resumed and len(again.study.trials) == 3
    again.search()  # the 2 trials left of max_trials
    assert len(again.study.trials) == 5
    best = again.study.best_trial
    assert again.get_best_hyperparameters()[0].values == best.params

    done = tuner(5)
    done.search()  # nothing left to do
    assert len(done.study.trials) == 5

    fresh = tuner(2, overwrite=True)
    assert not fresh.study.resumed and fresh.study.trials == []
    fresh.search()
    assert len(fresh.study.trials) == 2
    assert len(tuner(2).study.trials) == 2  # the fresh study is the one named quad now


def test_without_directory_or_project_name_the_study_lives_in_memory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tuner = kt.RandomSearch(Quadratic(), objective="loss", max_trials=2, seed=0)
    tuner.search()
    assert len(tuner.study.trials) == 2 and list(tmp_path.iterdir()) == []


def test_objective_direction_overrides_the_inferred_one():
    class Accuracy(Quadratic):
        def fit(self, hp, model):
            return {"accuracy": [abs(model["x"])]}

    tuner = kt.RandomSearch(Accuracy(), objective=kt.Objective("accuracy", direction="min"),
                            max_trials=6, seed=0)
    tuner.search()
    assert tuner.study.direction == "minimize"
    assert tuner.study.best_value == min(t.value for t in tuner.study.trials)
    assert kt.Objective("val_loss", "min") == kt.Objective("val_loss", "minimize")
    with pytest.raises(TuneError, match="direction must be"):
        kt.Objective("val_loss", direction="down")


def test_a_list_of_one_objective_is_that_objective():
    tuner = kt.RandomSearch(Quadratic(), objective=[kt.Objective("loss", "max")], max_trials=1)
    assert (tuner.objective, tuner.study.direction) == ("loss", "maximize")


@pytest.mark.parametrize("make, message", [
    (lambda: kt.RandomSearch(Quadratic(), objective=["loss", "accuracy"]),
     "lists several objectives; Keras Tuner sums them"),
    (lambda: kt.RandomSearch(Quadratic(), executions_per_trial=0),
     "executions_per_trial=0 must be a whole number >= 1"),
    (lambda: kt.RandomSearch(Quadratic(), tune_new_entries=False),
     "tune_new_entries=False without hyperparameters= would search nothing"),
    (lambda: kt.RandomSearch(Quadratic(), hyperparameters={"x": 1.0}),
     "hyperparameters={'x': 1.0} must be a kt.HyperParameters"),
    (lambda: kt.RandomSearch(Quadratic(), max_consecutive_failed_trials=0),
     "max_consecutive_failed_trials=0 must be a whole number >= 1"),
    (lambda: kt.RandomSearch(Quadratic(), allow_new_entries=False),
     "allow_new_entries=False is not supported: build(hp) may define any parameter"),
    (lambda: kt.GridSearch(Quadratic(), optimizer="adam", loss="mse"),
     "optimizer='adam' is not supported: compile the model in build"),
    (lambda: kt.RandomSearch(Quadratic(), max_trial=3),
     "'max_trial' is not an argument of Keras Tuner's tuner"),
    (lambda: kt.RandomSearch(Quadratic(), max_trials=0), "max_trials=0 must be a whole number"),
    (lambda: kt.Hyperband(Quadratic(), max_epochs=9, max_trials=20),
     "max_trials is not an argument of Hyperband"),
    (lambda: kt.Hyperband(Quadratic(), max_epochs=9, factor=1), "factor=1 must be"),
    (lambda: kt.Hyperband(Quadratic(), max_epochs=9, hyperband_iterations=0),
     "hyperband_iterations=0 must be"),
    (lambda: kt.BayesianOptimization(Quadratic(), alpha=0.01),
     "alpha=0.01 is not supported: the Gaussian process here estimates the noise"),
    (lambda: kt.RandomSearch(Quadratic(), directory="runs", project_name="a/b"),
     "project_name='a/b' must be a non-empty name without path separators"),
])
def test_unsupported_arguments_are_refused_with_the_way_out(make, message):
    with pytest.raises(TuneError, match=re.escape(message)):
        make()


def test_keras_tuner_defaults_spelled_out_are_accepted():
    tuner = kt.BayesianOptimization(Quadratic(), objective="loss", max_trials=2, alpha=1e-4,
                                    executions_per_trial=1, tune_new_entries=True,
                                    max_retries_per_trial=0, logger=None, timeout=60,
                                    keep_models=1)
    tuner.search()
    assert len(tuner.study.trials) == 2 and tuner.keep_models == 1
    assert tuner.study.sampler.acquisition == "ei"  # beta not given: log EI


def test_hyperband_runs_its_iterations_of_brackets():
    one = kt.Hyperband(Quadratic(), objective="loss", max_epochs=9, factor=3)
    per_iteration = sum(n for n, _ in HyperbandScheduler(9, 3).brackets)
    assert one.max_trials == per_iteration == 9 + 5 + 3
    two = kt.Hyperband(Quadratic(), objective="loss", max_epochs=9, hyperband_iterations=2)
    assert two.max_trials == 2 * per_iteration


def test_search_space_summary_before_and_after_a_search(capsys):
    tuner = kt.RandomSearch(Branching(), objective="score", max_trials=8, seed=0)
    tuner.search_space_summary()
    # Before any trial: what build defines with default values (the linear branch).
    assert capsys.readouterr().out == (
        "Search space summary\nDefault search space size: 2\n"
        "kind (Choice)\n{'default': 'linear', 'options': ['linear', 'mlp']}\n"
        "optimizer (Fixed)\n{'default': 'adam', 'options': ['adam']}\n")
    tuner.search()
    tuner.search_space_summary()
    out = capsys.readouterr().out
    assert out.startswith("Search space summary\nDefault search space size: 4\n")
    assert ("units (Int)\n{'default': 16, 'low': 4, 'high': 64, 'log': True, 'step': 1}\n"
            in out)
    assert "depth (Int)\n{'default': 2, 'low': 1, 'high': 3, 'log': False, 'step': 1}\n" in out


def test_conditional_parameters_exist_only_under_their_condition():
    tuner = kt.RandomSearch(Branching(), objective="score", max_trials=8, seed=0)
    tuner.search()
    kinds = {t.params["kind"] for t in tuner.study.trials}
    assert kinds == {"linear", "mlp"}
    for trial in tuner.study.trials:
        mlp = trial.params["kind"] == "mlp"
        assert ("units" in trial.params) is ("depth" in trial.params) is mlp
        assert trial.params["optimizer"] == "adam"
    assert tuner.study.search_space()["optimizer"] == Choice(["adam"])

    hp = kt.HyperParameters({"kind": "mlp", "units": 8})
    assert branching(hp) == {"kind": "mlp", "units": 8, "depth": 2, "optimizer": "adam"}
    hp = kt.HyperParameters({"kind": "linear"})
    assert branching(hp) == {"kind": "linear", "units": None, "depth": None,
                             "optimizer": "adam"}
    assert set(hp.values) == {"kind", "optimizer"}


def test_hyperparameters_take_keras_tuner_spellings_and_refuse_what_has_no_counterpart():
    hp = kt.HyperParameters()
    assert hp.Int("n", min_value=1, max_value=9, step=None) == 5
    assert hp.Float("lr", 1e-4, 1e-2, sampling="log") == pytest.approx(1e-3)
    assert hp.Choice("act", values=["relu", "tanh"], ordered=False) == "relu"
    with pytest.raises(TuneError, match="sampling='reverse_log' is not supported"):
        hp.Float("decay", 0.9, 0.999, sampling="reverse_log")
    with pytest.raises(TuneError, match=re.escape(
            "hp.Int('units'): step=2 with sampling='log' is not supported (in Keras Tuner it "
            "multiplies")):
        hp.Int("units", 32, 512, step=2, sampling="log")
    with pytest.raises(TuneError, match="step=10 with sampling='log' is not supported"):
        hp.Float("lr", 1e-5, 1e-1, 10, "log")
    assert hp.Int("batch", 16, 256, step=1, sampling="log") == 64  # a step of 1 is no step
    with pytest.raises(TuneError, match="needs both bounds"):
        hp.Int("m", min_value=1)
    with pytest.raises(TuneError, match="give each bound once"):
        hp.Int("m", 1, 9, min_value=1)
    with pytest.raises(TuneError, match="the parent 'shape' has not been defined"):
        with hp.conditional_scope("shape", ["wide"]):
            pass


def test_executions_per_trial_scores_a_trial_by_the_mean_of_its_fits():
    class Noisy(Quadratic):
        fits = 0

        def fit(self, hp, model):
            Noisy.fits += 1
            return {"loss": [(model["x"] - 1) ** 2 + Noisy.fits % 2]}  # 1 more every other

    tuner = kt.RandomSearch(Noisy(), objective="loss", max_trials=2, executions_per_trial=2,
                            seed=0)
    tuner.search()
    assert Noisy.fits == 4
    for trial in tuner.study.trials:
        first, second = trial.user_attrs["execution_scores"]
        assert first == pytest.approx(second + 1)
        assert trial.value == pytest.approx(second + 0.5)


def test_a_hypermodel_takes_keras_tuners_name_and_refuses_tunable_false():
    assert Quadratic(name="quadratic").name == "quadratic"
    with pytest.raises(TuneError, match="tunable=False is not supported"):
        Quadratic(tunable=False)


@pytest.mark.parametrize("name, instead", [
    ("HyperResNet", "write a build(hp) that returns the Keras model"),
    ("applications", "write a build(hp) that returns the Keras model"),
    ("Tuner", "use RandomSearch, BayesianOptimization, Hyperband or GridSearch"),
    ("SklearnTuner", "hpt_magic.sklearn.TuneSearchCV"),
])
def test_keras_tuner_names_without_a_counterpart_say_what_to_use(name, instead):
    with pytest.raises(TuneError, match=f"keras_tuner has no {name}: .*{re.escape(instead)}"):
        getattr(kt, name)
    with pytest.raises(TuneError, match=re.escape(instead)):
        exec(f"from hpt_magic.keras_tuner import {name}")
    assert not hasattr(kt, "HyperResNets")  # other names: the usual AttributeError


class Scored(kt.HyperModel):
    """A hypermodel whose "model" is its values and whose fit scores them."""

    def build(self, hp):
        return {"units": hp.Int("units", 32, 512, step=32),
                "lr": hp.Float("lr", 1e-4, 1e-2, sampling="log")}

    def fit(self, hp, model, *args, **kwargs):
        return abs(model["lr"] - 1e-3) + model["units"] / 1e4


def test_the_best_hyperparameters_rebuild_with_the_tailored_space():
    # hyperparameters=hp fixes units outside the range build gives: the trials ran with it,
    # and the best values must build again, as in Keras Tuner.
    hp = kt.HyperParameters()
    hp.Fixed("units", 1024)
    tuner = kt.RandomSearch(Scored(), objective=kt.Objective("score", "min"), max_trials=3,
                            seed=0, hyperparameters=hp)
    tuner.search()
    best = tuner.get_best_hyperparameters()[0]
    assert tuner.hypermodel.build(best)["units"] == 1024 == Scored().build(best)["units"]


def _tailored(kind):
    hp = kt.HyperParameters()
    if kind == "fixed":
        hp.Fixed("lr", 1e-3)
    else:
        hp.Float("lr", 1e-4, 1e-1 if kind == "wider" else 1e-2, sampling="log")
    return hp


@pytest.mark.parametrize("hp, tune_new_entries, passed", [
    (None, True, "hyperparameters=None, tune_new_entries=True"),
    ("fixed", False, "hyperparameters={'lr': Choice([0.001])}, tune_new_entries=False"),
    ("searched", True,
     "hyperparameters={'lr': Float(0.0001, 0.01, log=True)}, tune_new_entries=True"),
    ("wider", False,
     "hyperparameters={'lr': Float(0.0001, 0.1, log=True)}, tune_new_entries=False"),
])
def test_a_project_resumed_with_other_hyperparameters_is_refused(tmp_path, hp,
                                                                  tune_new_entries, passed):
    # Keras Tuner would go on with the saved space and ignore the new arguments; searching
    # the new one would mix two searches in one study.
    def tuner(hp, tune_new_entries=True, **kwargs):
        return kt.RandomSearch(Scored(), objective=kt.Objective("score", "min"), max_trials=3,
                               seed=0, directory=tmp_path, hyperparameters=hp,
                               tune_new_entries=tune_new_entries, **kwargs)

    tuner(_tailored("fixed"), project_name="p").search()
    again = tuner(_tailored("fixed"), project_name="p")  # the same arguments resume it
    assert again.study.resumed and len(again.study.trials) == 3
    new = None if hp is None else _tailored(hp)
    with pytest.raises(TuneError) as caught:
        tuner(new, tune_new_entries, project_name="p")
    message = str(caught.value)
    assert f"project 'p' ({tmp_path / 'p.db'}) was created with hyperparameters={{'lr': " \
        f"Choice([0.001])}}, tune_new_entries=True, and this tuner passes {passed}." in message
    assert "overwrite=True" in message and "a new project_name" in message
    for way_out in ({"project_name": "p", "overwrite": True}, {"project_name": "q"}):
        fresh = tuner(new, tune_new_entries, **way_out)
        fresh.search()
        assert not fresh.study.resumed and fresh.study.trials
        resumed = tuner(new, tune_new_entries, project_name=way_out["project_name"])
        assert resumed.study.resumed and len(resumed.study.trials) == len(fresh.study.trials)


def test_a_tailored_value_that_is_no_finite_number_is_kept_and_resumes(tmp_path):
    hp = kt.HyperParameters()
    hp.Fixed("clip", math.inf)

    def tuner():
        return kt.RandomSearch(Scored(), objective=kt.Objective("score", "min"), max_trials=2,
                               seed=0, directory=tmp_path, project_name="p", hyperparameters=hp)

    tuner().search()
    again = tuner()
    assert again.study.resumed and len(again.study.trials) == 2


def _open_projects_at_once(directories, kinds, barrier, results):
    """In each directory in turn, open project ``p`` with the ``hyperparameters=`` of that
    round's kind, in step with the other process: both have looked for the project (and not
    found it) before either creates it, and both have their study before either keeps its
    arguments with it. Put ``(directory, kind, outcome)`` on ``results`` (spawned: the child
    imports this module by name)."""
    get_study, looked = SQLiteStorage.get_study, set()
    keep_tailoring = _KerasTunerPort._keep_tailoring

    def look_together(storage, name):
        found = get_study(storage, name)
        if storage.path not in looked:
            looked.add(storage.path)
            barrier.wait(timeout=60)
        return found

    def keep_together(tuner, *args):
        barrier.wait(timeout=60)
        keep_tailoring(tuner, *args)

    SQLiteStorage.get_study = look_together
    _KerasTunerPort._keep_tailoring = keep_together
    for directory, kind in zip(directories, kinds):
        try:
            tuner = kt.RandomSearch(Scored(), objective=kt.Objective("score", "min"),
                                    max_trials=2, seed=0, directory=directory,
                                    project_name="p", hyperparameters=_tailored(kind))
            outcome = "continued" if tuner.study.resumed else "created"
        except TuneError as exc:
            outcome = "refused" if "was created with" in str(exc) else f"TuneError: {exc}"
        except Exception as exc:  # the test shows what went wrong in which round
            outcome = f"{type(exc).__name__}: {exc}"
        results.put((directory, kind, outcome))


def test_two_processes_opening_one_new_project_at_once_create_it_once(tmp_path):
    # Both processes open a new project at the same instant, round after round, with the same
    # arguments (even rounds) or others (odd ones). One creates it, the other continues it;
    # with other arguments, the one whose arguments the project kept goes on and the other is
    # refused, whichever created it.
    rounds = 8
    directories = [str(tmp_path / str(i)) for i in range(rounds)]
    kinds = {"a": ["fixed"] * rounds,
             "b": ["fixed" if i % 2 == 0 else "wider" for i in range(rounds)]}
    main_module_spec()  # IPython shells of earlier tests leave a __main__ without __spec__
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    children = [ctx.Process(target=_open_projects_at_once,
                            args=(directories, kinds[name], barrier, results))
                for name in kinds]
    for child in children:
        child.start()
    got: dict[str, list] = {directory: [] for directory in directories}
    try:
        for _ in range(2 * rounds):
            directory, kind, outcome = results.get(timeout=120)
            got[directory].append((kind, outcome))
    finally:
        for child in children:
            child.join(30)
            if child.is_alive():
                child.kill()
    for i, directory in enumerate(directories):
        outcomes = {outcome for _, outcome in got[directory]}
        stored = load_study("p", f"{directory}/p.db").user_attrs["keras_tuner_space"]
        kept = "fixed" if stored["hyperparameters"]["lr"]["type"] == "choice" else "wider"
        if i % 2 == 0:
            assert outcomes == {"created", "continued"} and kept == "fixed", (i, got[directory])
        else:
            going_on = [(kind, outcome) for kind, outcome in got[directory]
                        if outcome != "refused"]
            assert len(going_on) == 1 and outcomes <= {"created", "continued", "refused"}, (
                i, got[directory])
            assert kept == going_on[0][0], (i, got[directory], stored)
