"""Framework benchmark: hpt_magic's pruning callbacks and Keras Tuner against the peers.

Two parts, run side by side (one process per core, one BLAS/torch thread each):

- XGBoost on ``make_classification`` (20 000 rows, 40 features, 15 informative, 10 % label
  noise; 75/25 split), up to 500 boosting rounds a trial, six hyperparameters, a budget of
  ``--budget`` rounds per run (the run stops at the first trial end past it). hpt_magic's
  TPE with ``asha`` / ``hyperband`` and ``tune.xgboost_callback`` against Optuna's TPE with
  ``XGBoostPruningCallback`` and ``SuccessiveHalvingPruner`` / ``HyperbandPruner``, the same
  rungs (first at 10 rounds, factor 3). Per method, median over seeds: the best validation
  log-loss (best round of a trial), the rounds spent, and the pruning callback's time as a
  share of a boosting round (the round's update and evaluation included).
- Keras 3 (torch backend) MLP on scikit-learn's digits: ``Tuner(build, scheduler=
  "hyperband", max_trials=30)`` against Keras Tuner's ``Hyperband`` with the same
  ``max_epochs`` and factor (it decides its own number of trials): best validation accuracy,
  trials, epochs trained; and the resident memory of hpt_magic's run after 5 and 30 trials.

Run::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/frameworks.py --seeds 5
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import io
import multiprocessing
import os
import statistics
import tempfile
import time
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")

MAX_ROUNDS = 500
HPT = ["hpt asha", "hpt hyperband"]
#: More of ours, run with ``--methods``: ``mobster`` proposes with the ``gp`` sampler, and
#: ``hpt gp`` is that sampler with every trial trained fully (no scheduler).
HPT_MORE = ["hpt bohb", "hpt mobster", "hpt gp"]
OPTUNA = ["optuna sha", "optuna hyperband"]
KERAS_EPOCHS = 27


# -- XGBoost --------------------------------------------------------------------------------
def _xgb_data() -> tuple[Any, Any]:
    import xgboost as xgb
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split

    X, y = make_classification(n_samples=20_000, n_features=40, n_informative=15,
                               n_redundant=5, flip_y=0.1, class_sep=0.8, random_state=0)
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.25, random_state=0)
    return xgb.DMatrix(X_train, label=y_train), xgb.DMatrix(X_val, label=y_val)


def _timed(inner: Any, clock: dict[str, float]) -> Any:
    """Wrap a pruning callback: count rounds, time the callback and the whole round."""
    import xgboost as xgb

    class Timed(xgb.callback.TrainingCallback):
        def before_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            # The inner callback stops training here (before the next round), so its answer
            # must pass through; its time counts as the callback's.
            clock["start"] = time.perf_counter()
            try:
                return inner.before_iteration(model, epoch, evals_log)
            finally:
                clock["callback"] += time.perf_counter() - clock["start"]

        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            clock["rounds"] += 1
            began = time.perf_counter()
            try:
                return inner.after_iteration(model, epoch, evals_log)
            finally:
                end = time.perf_counter()
                clock["callback"] += end - began
                clock["round"] += end - clock["start"]

    return Timed()


def _train(data: tuple[Any, Any], params: dict[str, Any], callback: Any,
           clock: dict[str, float]) -> float:
    import xgboost as xgb

    dtrain, dval = data
    log: dict[str, Any] = {}
    params = {"objective": "binary:logistic", "eval_metric": "logloss", "nthread": 1,
              "tree_method": "hist", **params}
    xgb.train(params, dtrain, num_boost_round=MAX_ROUNDS, evals=[(dval, "valid")],
              evals_result=log, callbacks=[_timed(callback, clock)], verbose_eval=False)
    return min(log["valid"]["logloss"])


def _hpt_params(tune: Any) -> dict[str, Any]:
    return {"eta": tune.loguniform(0.005, 0.3, name="eta"),
            "max_depth": tune.int(2, 10, name="max_depth"),
            "subsample": tune.uniform(0.5, 1.0, name="subsample"),
            "colsample_bytree": tune.uniform(0.3, 1.0, name="colsample_bytree"),
            "min_child_weight": tune.loguniform(0.1, 20, name="min_child_weight"),
            "lambda": tune.loguniform(1e-3, 10, name="lambda")}


def _optuna_params(trial: Any) -> dict[str, Any]:
    return {"eta": trial.suggest_float("eta", 0.005, 0.3, log=True),
            "max_depth": trial.suggest_int("max_depth", 2, 10),
            "subsample": trial.suggest_float("subsample", 0.5, 1.0),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
            "min_child_weight": trial.suggest_float("min_child_weight", 0.1, 20, log=True),
            "lambda": trial.suggest_float("lambda", 1e-3, 10, log=True)}


def run_xgboost(method: str, seed: int, budget: int) -> dict[str, Any]:
    data = _xgb_data()
    clock = {"rounds": 0, "callback": 0.0, "round": 0.0, "start": 0.0}
    began = time.perf_counter()
    if method in HPT + HPT_MORE:
        from hpt_magic import Study, tune

        callback = tune.xgboost_callback("valid-logloss")
        name = method.split()[1]
        scheduler = None if name == "gp" else name
        # TPE, as on the Optuna side: the comparison is of the pruning, not of the sampler.
        study = Study(seed=seed, sampler="gp" if name in ("gp", "mobster") else "tpe",
                      scheduler=scheduler, max_steps=MAX_ROUNDS,
                      scheduler_args={"min_resource": 10, "reduction_factor": 3}
                      if scheduler else None)
        study.optimize(lambda trial: _train(data, _hpt_params(tune), callback, clock),
                       callbacks=[lambda s, t: clock["rounds"] >= budget and s.stop()])
        best, trials = study.best_value, len(study.trials)
        pruned = study.counts().get("pruned", 0)
    else:
        import optuna
        from optuna_integration import XGBoostPruningCallback

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        pruner = (optuna.pruners.SuccessiveHalvingPruner(min_resource=10, reduction_factor=3)
                  if method == "optuna sha" else
                  optuna.pruners.HyperbandPruner(min_resource=10, max_resource=MAX_ROUNDS,
                                                 reduction_factor=3))
        # A fixed name: HyperbandPruner's brackets hash the study's name (random by default).
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed),
                                    pruner=pruner, study_name=f"{method} {seed}")
        study.optimize(lambda trial: _train(data, _optuna_params(trial), XGBoostPruningCallback(
            trial, "valid-logloss"), clock),
            callbacks=[lambda s, t: clock["rounds"] >= budget and s.stop()])
        best, trials = study.best_value, len(study.trials)
        pruned = sum(t.state.name == "PRUNED" for t in study.trials)
    return {"part": "xgboost", "method": method, "seed": seed, "best": best,
            "rounds": clock["rounds"], "trials": trials, "pruned": pruned,
            "overhead": clock["callback"] / clock["round"],
            "us_per_call": 1e6 * clock["callback"] / clock["rounds"],
            "seconds": time.perf_counter() - began}


# -- Keras ----------------------------------------------------------------------------------
EPOCHS = [0]  # epochs trained in this process (Keras Tuner deep-copies callbacks per trial)


def _digits() -> tuple[Any, ...]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype("float32")
    return tuple(train_test_split(X, y, test_size=0.25, random_state=0, stratify=y))


def _build(hp: Any) -> Any:
    import keras

    model = keras.Sequential([keras.Input((64,))])
    for i in range(hp.Int("layers", 1, 2)):
        model.add(keras.layers.Dense(hp.Int(f"units_{i}", 16, 256, sampling="log"),
                                     activation=hp.Choice("activation", ["relu", "tanh"])))
    model.add(keras.layers.Dropout(hp.Float("dropout", 0.0, 0.5)))
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.compile(optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-4, 3e-2, sampling="log")),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def run_keras(method: str, seed: int) -> dict[str, Any]:
    import keras

    class CountEpochs(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            EPOCHS[0] += 1

    keras.utils.set_random_seed(seed)
    X, X_val, y, y_val = _digits()
    fit = {"epochs": KERAS_EPOCHS, "validation_data": (X_val, y_val), "batch_size": 64,
           "callbacks": [CountEpochs()], "verbose": 0}
    began = time.perf_counter()
    out: dict[str, Any] = {"part": "keras", "method": method, "seed": seed}
    if method == "hpt Tuner hyperband":
        from hpt_magic import Tuner

        tuner = Tuner(_build, objective="val_accuracy", max_trials=5, seed=seed,
                      scheduler="hyperband", max_steps=KERAS_EPOCHS)
        tuner.search(X, y, **fit)
        out["rss_5"] = _rss_mb()
        tuner.max_trials = 25
        tuner.search(X, y, **fit)
        out["rss_30"] = _rss_mb()
        out.update(best=tuner.study.best_value, trials=len(tuner.study.trials))
    else:
        import keras_tuner

        with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
            tuner = keras_tuner.Hyperband(_build, objective="val_accuracy",
                                          max_epochs=KERAS_EPOCHS, factor=3, seed=seed,
                                          directory=tmp, project_name="bench", overwrite=True)
            tuner.search(X, y, **fit)
            out.update(best=tuner.oracle.get_best_trials(1)[0].score,
                       trials=len(tuner.oracle.trials))
    out.update(epochs=EPOCHS[0], seconds=time.perf_counter() - began)
    return out


def _run(task: tuple) -> dict[str, Any]:
    kind, *args = task
    return run_xgboost(*args) if kind == "xgboost" else run_keras(*args)


def _table(results: list[dict[str, Any]], seeds: int, budget: int) -> str:
    med = statistics.median
    lines = [f"XGBoost, make_classification 20 000 rows, <= {MAX_ROUNDS} rounds a trial, "
             f"budget {budget} rounds, {seeds} seed(s), medians",
             f"{'method':<18}{'best val logloss':>18}{'rounds':>9}{'trials':>8}{'pruned':>8}"
             f"{'callback/round':>16}{'us/call':>9}{'s/run':>8}"]
    for method in HPT + HPT_MORE + OPTUNA:
        rs = [r for r in results if r["method"] == method]
        if rs:
            lines.append(
                f"{method:<18}{med(r['best'] for r in rs):>18.5f}"
                f"{med(r['rounds'] for r in rs):>9.0f}{med(r['trials'] for r in rs):>8.0f}"
                f"{med(r['pruned'] for r in rs):>8.0f}"
                f"{100 * med(r['overhead'] for r in rs):>15.3f}%"
                f"{med(r['us_per_call'] for r in rs):>9.0f}{med(r['seconds'] for r in rs):>8.0f}")
    lines += ["", f"Keras 3 MLP on digits (torch backend), max {KERAS_EPOCHS} epochs, factor 3",
              f"{'method':<24}{'best val acc':>13}{'trials':>8}{'epochs':>8}{'s':>6}"
              f"{'RSS@5':>9}{'RSS@30':>9}"]
    for r in (r for r in results if r["part"] == "keras"):
        rss = (f"{r['rss_5']:>7.0f}MB{r['rss_30']:>7.0f}MB" if "rss_5" in r else "")
        lines.append(f"{r['method']:<24}{r['best']:>13.4f}{r['trials']:>8}{r['epochs']:>8}"
                     f"{r['seconds']:>6.0f}{rss}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="Seeds run are first-seed .. first-seed + seeds - 1.")
    parser.add_argument("--budget", type=int, default=6000, help="Boosting rounds per run.")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--parts", default="xgboost,keras")
    parser.add_argument("--methods", default=",".join(HPT + OPTUNA),
                        help=f"XGBoost methods, of {', '.join(HPT + HPT_MORE + OPTUNA)}.")
    args = parser.parse_args()
    parts = args.parts.split(",")
    tasks: list[tuple] = []
    if "keras" in parts:  # the longest first
        tasks += [("keras", m, 0) for m in ("hpt Tuner hyperband", "Keras Tuner Hyperband")]
    if "xgboost" in parts:
        seeds = range(args.first_seed, args.first_seed + args.seeds)
        methods = [m for m in args.methods.split(",") if m]
        unknown = set(methods) - set(HPT + HPT_MORE + OPTUNA)
        if unknown:
            parser.error(f"unknown methods {sorted(unknown)}")
        tasks += [("xgboost", m, s, args.budget) for s in seeds for m in methods]
    # A fresh process per run: a run's memory figures are its own.
    context = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(args.processes, mp_context=context,
                                max_tasks_per_child=1) as pool:
        results = []
        for result in pool.map(_run, tasks):
            print({k: round(v, 5) if isinstance(v, float) else v for k, v in result.items()},
                  flush=True)
            results.append(result)
    print()
    print(_table(results, args.seeds, args.budget))


if __name__ == "__main__":
    main()
