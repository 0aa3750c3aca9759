"""MLflow and TensorBoard loggers, checked by reading what they wrote to disk."""

from __future__ import annotations

import copy as copy_module
import pickle
import struct
from pathlib import Path

import pytest

from hpt_magic import Float, Study, TuneError, tune
from hpt_magic.callbacks import MLflowCallback, TensorBoardCallback, make_logger

pytest.importorskip("mlflow")
pytest.importorskip("tensorboardX")


def objective(trial):
    lr = tune.loguniform(1e-3, 1e-1, name="lr")
    tune.choice(["relu", "tanh"], name="act")
    if trial.number == 2:
        raise RuntimeError("diverged")
    for step in range(3):
        tune.report(lr * (3 - step), step)
    return lr


def run_study(logger, *, subscribe: bool, name: str = "mlflow-test") -> Study:
    study = Study(name=name, seed=0, sampler="random")
    if subscribe:
        study.subscribe(logger)
        study.optimize(objective, n_trials=3)
    else:
        study.optimize(objective, n_trials=3, callbacks=[logger])
    return study


@pytest.fixture
def file_store(tmp_path, monkeypatch):
    # MLflow 3 keeps its file store only behind this switch; it is a real store on disk.
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    return (tmp_path / "mlruns").as_uri()


def mlflow_runs(uri: str, experiment: str):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(experiment)
    runs = client.search_runs([exp.experiment_id])
    return client, {int(r.data.tags["hpt_magic.trial"]): r for r in runs}


@pytest.mark.parametrize("subscribe", [True, False])
def test_mlflow_runs_hold_params_curves_and_scores(file_store, subscribe):
    study = run_study(MLflowCallback(file_store, experiment="exp"), subscribe=subscribe)
    client, runs = mlflow_runs(file_store, "exp")
    assert sorted(runs) == [0, 1, 2]
    for number in (0, 1):
        run, trial = runs[number], study.trials[number]
        assert run.info.status == "FINISHED"
        assert run.info.run_name == f"trial-{number}"
        assert float(run.data.params["lr"]) == pytest.approx(trial.params["lr"])
        assert run.data.params["act"] == trial.params["act"]
        assert run.data.metrics["score"] == pytest.approx(trial.value)
        assert run.data.tags["hpt_magic.state"] == "complete"
        history = client.get_metric_history(run.info.run_id, "value")
        assert {m.step: m.value for m in history} == pytest.approx(trial.intermediate)
    failed = runs[2]
    assert failed.info.status == "FAILED"
    assert "diverged" in failed.data.tags["hpt_magic.error"]
    assert "score" not in failed.data.metrics


@pytest.mark.parametrize("subscribe", [True, False])
def test_mlflow_names_it_refuses_are_written_with_underscores(file_store, subscribe):
    # Names MLflow refuses ("acc@5", "x<b>") stopped the logging (or, as a callback, the run).
    def hostile(trial):
        x = tune.uniform(0, 1, name="x<b>")
        tune.uniform(0, 1, name="x>b>")  # MLflow would write both names as x_b_
        tune.report({"acc@5": x}, step=0)
        return {"acc@5": x, "lat ms": 1 - x}

    study = Study(name="names", directions=["max", "min"], objectives=["acc@5", "lat ms"])
    logger = MLflowCallback(file_store, metric="val/acc@1")
    if subscribe:
        study.subscribe(logger)
        study.optimize(hostile, n_trials=2)
    else:
        study.optimize(hostile, n_trials=2, callbacks=[logger])
    client, runs = mlflow_runs(file_store, "names")
    assert sorted(runs) == [0, 1]
    run = runs[0]
    assert float(run.data.params["x_b_"]) == pytest.approx(study.trials[0].params["x<b>"])
    assert float(run.data.params["x_b__2"]) == pytest.approx(study.trials[0].params["x>b>"])
    assert {"acc_5", "lat ms", "score"} <= set(run.data.metrics)
    if subscribe:
        assert client.get_metric_history(run.info.run_id, "val/acc_1")


def test_mlflow_subscribed_and_callback_logs_each_trial_once(file_store):
    logger = MLflowCallback(file_store)
    study = Study(name="once", seed=0)
    study.subscribe(logger)
    study.optimize(objective, n_trials=2, callbacks=[logger])
    _, runs = mlflow_runs(file_store, "once")
    assert sorted(runs) == [0, 1]


def test_mlflow_sqlite_store(tmp_path):
    pytest.importorskip("sqlalchemy")
    pytest.importorskip("alembic")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    study = Study(space={"x": Float(0, 1)}, name="sqlite-study", seed=1)
    study.subscribe(make_logger("mlflow", tracking_uri=uri))
    study.optimize(lambda t: t.params["x"] ** 2, n_trials=2)
    _, runs = mlflow_runs(uri, "sqlite-study")
    assert {n: r.data.metrics["score"] for n, r in runs.items()} == \
        pytest.approx({t.number: t.value for t in study.trials})


def read_events(path: Path):
    """Events of TFRecord files (length, crc, payload, crc), parsed with tensorboardX's proto."""
    from tensorboardX.proto.event_pb2 import Event

    events = []
    for file in sorted(path.glob("events.out.tfevents.*")):
        data = file.read_bytes()
        pos = 0
        while pos < len(data):
            (length,) = struct.unpack("<Q", data[pos:pos + 8])
            pos += 12
            events.append(Event.FromString(data[pos:pos + length]))
            pos += length + 4
    return events


def scalars(events, tag):
    return {e.step: v.simple_value for e in events for v in e.summary.value if v.tag == tag}


@pytest.mark.parametrize("subscribe", [True, False])
def test_tensorboard_writes_scalars_and_hparams(tmp_path, subscribe):
    from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData

    study = run_study(TensorBoardCallback(tmp_path), subscribe=subscribe, name="tb")
    runs = sorted(p.name for p in (tmp_path / "tb").iterdir())
    assert runs == ["trial-0000", "trial-0001", "trial-0002"]
    trial = study.trials[1]
    events = read_events(tmp_path / "tb" / "trial-0001")
    assert scalars(events, "value") == pytest.approx(trial.intermediate)
    assert scalars(events, "score") == pytest.approx({2: trial.value})
    plugin = [HParamsPluginData.FromString(v.metadata.plugin_data.content)
              for e in events for v in e.summary.value
              if v.metadata.plugin_data.plugin_name == "hparams"]
    starts = [p.session_start_info for p in plugin if p.HasField("session_start_info")]
    assert starts[0].hparams["lr"].number_value == pytest.approx(trial.params["lr"])
    assert starts[0].hparams["act"].string_value == trial.params["act"]
    experiments = [p.experiment for p in plugin if p.HasField("experiment")]
    assert [m.name.tag for m in experiments[0].metric_infos] == ["score"]


def test_tensorboard_logs_a_failed_trial_quietly_with_its_reason(tmp_path, capfd):
    study = Study(name="tbf", seed=0)
    study.subscribe(TensorBoardCallback(tmp_path))

    def fails(trial):
        trial.suggest_float("x", 0, 1)
        raise ValueError("diverged")

    study.optimize(fails, n_trials=1)
    events = read_events(tmp_path / "tbf" / "trial-0000")
    assert scalars(events, "score") == {}  # no score to draw
    texts = [v.tensor.string_val[0].decode() for e in events for v in e.summary.value
             if v.tag.startswith("state")]
    assert texts == ["failed: ValueError: diverged"]
    out, err = capfd.readouterr()
    assert out == err == ""  # calm output: no library warning about a NaN score


def test_make_logger_names_and_errors(tmp_path):
    assert isinstance(make_logger("TensorBoard", logdir=tmp_path), TensorBoardCallback)
    with pytest.raises(TuneError, match="Unknown logger 'wandb'"):
        make_logger("wandb")
    with pytest.raises(TuneError, match="does not take these options"):
        make_logger("tensorboard", colour="red")


def test_mlflow_final_values_end_each_metric_curve_at_the_last_step(file_store):
    study = Study(name="mo-mlflow", directions=["min", "min"], objectives=["f1", "f2"], seed=0)
    study.subscribe(MLflowCallback(file_store))

    def objective(trial):
        x = trial.suggest_float("x", 0, 1)
        for step in range(3):
            trial.report({"f1": x * (3 - step), "f2": 1 - x}, step=step)
        return {"f1": x, "f2": (1 - x) ** 2}

    study.optimize(objective, n_trials=1)
    client, runs = mlflow_runs(file_store, "mo-mlflow")
    trial = study.trials[0]
    history = client.get_metric_history(runs[0].info.run_id, "f2")
    # One point per step; the returned value is the curve's last point, not a second step 0.
    assert sorted(m.step for m in history) == [0, 1, 2, 2]
    assert [m.value for m in history if m.step == 0] == pytest.approx([1 - trial.params["x"]])


@pytest.mark.parametrize("make", [lambda tmp: MLflowCallback((tmp / "mlruns").as_uri()),
                                  lambda tmp: TensorBoardCallback(tmp / "runs")])
def test_a_logger_copies_as_a_new_logger_with_its_settings(tmp_path, monkeypatch, make):
    # What scikit-learn's clone and joblib do to a search that holds the logger.
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    logger = make(tmp_path)
    study = Study(name="copied", seed=0)
    study.subscribe(logger)
    study.optimize(objective, n_trials=1)
    for copy in (pickle.loads(pickle.dumps(logger)), copy_module.deepcopy(logger)):
        assert type(copy) is type(logger) and repr(copy) == repr(logger)
        assert copy.metric == logger.metric and not copy._open and not copy._done
