"""Multi-fidelity benchmark: our schedulers against full-training random search and Optuna.

Three tasks (scikit-learn's digits; a harder ``make_classification`` with 40 features, 15
informative, 10 % label noise; ``noisy``: 5 classes, 10 informative among 100 features,
15 % flipped labels, 1500 samples, minibatches of 64, so validation curves jitter from epoch to
epoch and slow, well-regularised configurations overtake fast starters late), an ``MLPClassifier``
trained epoch by epoch with
``partial_fit`` up to ``--max-steps`` epochs, four hyperparameters (learning rate, L2 alpha,
hidden units, activation). Every method gets the same budget of epochs: ``--budget`` full
trainings. A configuration counts once it is trained to the last epoch; reported per method
(median over seeds): the best validation accuracy, the same at 1/3 and 1/2 of the budget, the
held-out test accuracy of the chosen configuration, and the epochs needed to reach the final
validation accuracy of full-training random search, the trials started, and the optimiser's
own CPU time per trial (everything but training: sampler, scheduler, bookkeeping) and per
pruning decision.

DEHB (PyPI ``dehb``) and SMAC3's multi-fidelity facade (Hyperband intensifier) train every
evaluation from scratch at the fidelity they ask for, as they are designed to; the same epoch
budget is charged.

Run (one process per task on two cores, one BLAS thread each)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/multifidelity.py \\
        --tasks digits --out digits.json
    .venv/bin/python benchmarks/multifidelity.py --table digits.json synthetic.json
    .venv/bin/python benchmarks/multifidelity.py --decision-cost
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from hpt_magic import Choice, Float, Int, Study, TrialPruned
from hpt_magic.samplers import SAMPLERS
from hpt_magic.schedulers import SCHEDULERS, PBTScheduler

SPACE = {"lr": Float(1e-4, 1e-1, log=True), "alpha": Float(1e-6, 1e-1, log=True),
         "hidden": Int(16, 256, log=True), "activation": Choice(["relu", "tanh", "logistic"])}
MODEL_SAMPLER = "tpe" if "tpe" in SAMPLERS else "random"
OURS = ["gp (full)", "tpe (full)", "asha", "hyperband", "median", "bohb", "mobster"]
OPTUNA = ["optuna tpe (full)", "optuna tpe+median", "optuna tpe+sha", "optuna tpe+hyperband"]
PEERS = ["dehb", "smac-mf"]
FULL = {"random (full)": "random", "gp (full)": "gp", "tpe (full)": "tpe"}


def load(task: str) -> dict[str, Any]:
    """Train / validation / test splits, standardised (split fixed; seeds vary the search)."""
    if task == "digits":
        X, y = load_digits(return_X_y=True)
    elif task == "noisy":
        X, y = make_classification(n_samples=1500, n_features=100, n_informative=10,
                                   n_redundant=0, n_classes=5, n_clusters_per_class=2,
                                   flip_y=0.15, class_sep=2.5, random_state=1)
    else:
        X, y = make_classification(n_samples=3000, n_features=40, n_informative=15,
                                   n_redundant=5, n_classes=3, flip_y=0.1, class_sep=0.8,
                                   random_state=0)
    X_train, X_rest, y_train, y_rest = train_test_split(X, y, test_size=0.4, random_state=0,
                                                        stratify=y)
    X_val, X_test, y_val, y_test = train_test_split(X_rest, y_rest, test_size=0.5,
                                                    random_state=0, stratify=y_rest)
    scaler = StandardScaler().fit(X_train)
    return {"train": (scaler.transform(X_train), y_train), "val": (scaler.transform(X_val), y_val),
            "test": (scaler.transform(X_test), y_test), "classes": np.unique(y),
            # Minibatches of 64 make the noisy task's curves jitter (and cross).
            "batch_size": 64 if task == "noisy" else "auto"}


class Budget:
    """Epochs spent so far, and every configuration trained to the last epoch."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.used = 0
        self.done: list[tuple[int, float, float]] = []  # (epochs used then, val acc, test acc)
        self.train_cpu = 0.0   # CPU seconds spent training and scoring

    @property
    def exhausted(self) -> bool:
        return self.used >= self.total


def train(data: dict[str, Any], params: dict[str, Any], seed: int, steps, report, budget: Budget,
          model: MLPClassifier | None = None) -> float | None:
    """Train epoch by epoch; ``report(epoch, acc, model) -> stop``. Returns the last val acc."""
    if model is None:
        model = MLPClassifier(hidden_layer_sizes=(int(params["hidden"]),),
                              activation=params["activation"], alpha=params["alpha"],
                              learning_rate_init=params["lr"], random_state=seed,
                              batch_size=data["batch_size"])
    else:  # a PBT checkpoint, carried on with perturbed rates (Adam keeps its own copy)
        model.set_params(alpha=params["alpha"], learning_rate_init=params["lr"])
        # Adam recomputes its step size from learning_rate_init at every update: setting
        # only learning_rate (as before) left the checkpoint's rate in force.
        model._optimizer.learning_rate_init = model._optimizer.learning_rate = params["lr"]
    (X, y), (X_val, y_val) = data["train"], data["val"]
    acc, last = None, None
    for epoch in steps:
        if budget.exhausted:
            return acc
        budget.used += 1
        t0 = time.process_time()
        model.partial_fit(X, y, classes=data["classes"])
        acc, last = model.score(X_val, y_val), epoch
        budget.train_cpu += time.process_time() - t0
        if report(epoch, acc, model):
            return acc
    if last == data["max_steps"] - 1:
        t0 = time.process_time()
        budget.done.append((budget.used, acc, model.score(*data["test"])))
        budget.train_cpu += time.process_time() - t0
    return acc


def run_ours(method: str, data: dict[str, Any], seed: int, budget: Budget) -> tuple[int, dict]:
    from hpt_magic import tune

    max_steps = data["max_steps"]
    if method in FULL:
        study = Study(space=SPACE, sampler=FULL[method], direction="maximize", seed=seed)
    elif method == "pbt":
        study = Study(space=SPACE, sampler="random", direction="maximize", seed=seed,
                      scheduler=PBTScheduler(population_size=8, interval=3,
                                             mutate=["lr", "alpha"], max_steps=max_steps))
    else:
        sampler = {"bohb": "random", "mobster": "gp"}.get(method, MODEL_SAMPLER)
        study = Study(space=SPACE, sampler=sampler, direction="maximize", seed=seed,
                      scheduler=method, max_steps=max_steps)
    decisions: list[float] = []
    proposals: list[float] = []
    if study.scheduler is not None:
        _time_calls(study.scheduler, "on_report", decisions, clock=time.process_time)
        _time_calls(study.scheduler, "on_trial_start", proposals, clock=time.process_time)

    def objective(trial):
        def report(epoch, acc, model):
            return tune.report(acc, checkpoint=model)

        acc = train(data, trial.params, seed * 100_003 + trial.number, tune.steps(max_steps),
                    report, budget, tune.restore(None))
        if budget.exhausted:
            study.stop()
        return acc

    study.optimize(objective, n_trials=100_000)
    return len(study.trials), {"decision_s": sum(decisions), "decisions": len(decisions),
                               "proposal_s": sum(proposals)}


def run_optuna(method: str, data: dict[str, Any], seed: int, budget: Budget) -> tuple[int, dict]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    max_steps = data["max_steps"]
    pruner = {"optuna tpe+sha": lambda: optuna.pruners.SuccessiveHalvingPruner(
                  min_resource=1, reduction_factor=3),
              "optuna tpe+hyperband": lambda: optuna.pruners.HyperbandPruner(
                  min_resource=1, max_resource=max_steps, reduction_factor=3),
              "optuna tpe+median": lambda: optuna.pruners.MedianPruner(
                  n_startup_trials=5, n_warmup_steps=5),
              "optuna tpe (full)": optuna.pruners.NopPruner}[method]()
    # A fixed name per run: HyperbandPruner deals trials to brackets by a hash of the study's
    # name, which is random by default (the same seed gave 0.6750 and 0.6867 in two runs).
    study = optuna.create_study(direction="maximize", pruner=pruner, study_name=f"{method} {seed}",
                                sampler=optuna.samplers.TPESampler(seed=seed))
    decisions: list[float] = []

    def objective(trial):
        params = {"lr": trial.suggest_float("lr", 1e-4, 1e-1, log=True),
                  "alpha": trial.suggest_float("alpha", 1e-6, 1e-1, log=True),
                  "hidden": trial.suggest_int("hidden", 16, 256, log=True),
                  "activation": trial.suggest_categorical("activation",
                                                          ["relu", "tanh", "logistic"])}

        def report(epoch, acc, model):
            trial.report(acc, epoch + 1)    # step = epochs done, as our schedulers count
            t0 = time.process_time()
            try:
                return trial.should_prune()
            finally:
                decisions.append(time.process_time() - t0)

        acc = train(data, params, seed * 100_003 + trial.number, range(max_steps), report,
                    budget)
        if budget.exhausted:
            study.stop()
        elif trial.should_prune():
            raise optuna.TrialPruned()
        return acc

    study.optimize(objective, n_trials=100_000)
    return len(study.trials), {"decision_s": sum(decisions), "decisions": len(decisions)}


def _configspace(seed: int):
    from ConfigSpace import Categorical, ConfigurationSpace
    from ConfigSpace import Float as CSFloat
    from ConfigSpace import Integer as CSInteger

    cs = ConfigurationSpace(seed=seed)
    cs.add([CSFloat("lr", (1e-4, 1e-1), log=True), CSFloat("alpha", (1e-6, 1e-1), log=True),
            CSInteger("hidden", (16, 256), log=True),
            Categorical("activation", ["relu", "tanh", "logistic"])])
    return cs


def run_dehb(method: str, data: dict[str, Any], seed: int, budget: Budget) -> tuple[int, dict]:
    """DEHB by ask/tell; every evaluation trains from scratch for the fidelity it asks."""
    import tempfile

    from dehb import DEHB

    max_steps = data["max_steps"]
    with tempfile.TemporaryDirectory() as tmp:
        dehb = DEHB(cs=_configspace(seed), dimensions=len(SPACE), min_fidelity=1,
                    max_fidelity=max_steps, eta=3, n_workers=1, seed=seed, output_path=tmp,
                    log_level="ERROR")
        return _ask_tell(data, seed, budget, lambda: _dehb_ask(dehb),
                         lambda job, loss, epochs: dehb.tell(job, {"fitness": loss,
                                                                  "cost": epochs}))


def _dehb_ask(dehb) -> tuple[Any, dict, int]:
    job = dehb.ask()
    config = dict(job["config"])
    return job, config, int(round(job["fidelity"]))


def run_smac(method: str, data: dict[str, Any], seed: int, budget: Budget) -> tuple[int, dict]:
    """SMAC3's multi-fidelity facade (random forest, Hyperband intensifier) by ask/tell."""
    import tempfile

    from smac import MultiFidelityFacade, Scenario
    from smac.runhistory.dataclasses import TrialValue

    max_steps = data["max_steps"]
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Scenario(_configspace(seed), deterministic=True, n_trials=100_000,
                            min_budget=1, max_budget=max_steps, seed=seed,
                            output_directory=tmp)
        smac = MultiFidelityFacade(
            scenario, lambda config, seed=0, budget=1: 0.0,
            intensifier=MultiFidelityFacade.get_intensifier(scenario, eta=3),
            overwrite=True, logging_level=40)

        def ask():
            info = smac.ask()
            return info, dict(info.config), int(round(info.budget))

        return _ask_tell(data, seed, budget, ask,
                         lambda info, loss, epochs: smac.tell(info, TrialValue(cost=loss)))


def _ask_tell(data: dict[str, Any], seed: int, budget: Budget, ask: Callable,
              tell: Callable) -> tuple[int, dict]:
    n = 0
    while not budget.exhausted:
        job, params, epochs = ask()
        acc = train(data, params, seed * 100_003 + n, range(max(1, epochs)),
                    lambda *a: False, budget)
        n += 1
        if acc is not None:
            tell(job, 1.0 - acc, epochs)
    return n, {}


def measure(task: str, methods: list[str], seeds: int, max_steps: int, budget: int,
            save: Callable[[dict], None] = lambda result: None) -> dict:
    """Run every method on ``task``; ``save`` gets the results so far after each run."""
    data = load(task)
    data["max_steps"] = max_steps
    out: dict[str, list[dict[str, Any]]] = {}
    result = {"task": task, "max_steps": max_steps, "budget": budget, "runs": out}
    for method in methods:
        for seed in range(seeds):
            b = Budget(budget * max_steps)
            t0, c0 = time.perf_counter(), time.process_time()
            runner = (run_optuna if method.startswith("optuna") else run_dehb
                      if method == "dehb" else run_smac if method == "smac-mf" else run_ours)
            n_trials, extra = runner(method, data, seed, b)
            cpu = time.process_time() - c0
            row = {"seed": seed, "trials": n_trials, "seconds": time.perf_counter() - t0,
                   "done": b.done, "total": b.total, "used": b.used,
                   "overhead_s": cpu - b.train_cpu, **extra}
            out.setdefault(method, []).append(row)
            print(f"{task:9s} {method:22s} seed {seed}: best val "
                  f"{best(b.done, b.total)[0]}, {n_trials} trials, {row['seconds']:.0f} s",
                  flush=True)
            save(result)
    return result


def best(done: list, until: float) -> tuple[float | None, float | None]:
    """Best val acc (and the test acc of that configuration) among those done by ``until``."""
    seen = [(val, -used, test) for used, val, test in done if used <= until]
    if not seen:
        return None, None
    val, _, test = max(seen)
    return val, test


def epochs_to(done: list, target: float) -> int | None:
    return next((used for used, val, _ in done if val >= target), None)


def table(results: list[dict]) -> str:
    lines = []
    for res in results:
        runs = res["runs"]
        total = res["budget"] * res["max_steps"]
        ref_name = next((m for m in FULL if m in runs), None)
        ref = _median([best(r["done"], total)[0] for r in runs.get(ref_name, [])])
        lines += [f"\n### {res['task']}: {res['max_steps']} epochs max, budget {total} epochs "
                  f"({res['budget']} full trainings), {len(next(iter(runs.values())))} seeds "
                  "(medians)", "",
                  f"| method | best val | val @1/3 | val @1/2 | test acc | epochs to {ref_name}'s "
                  "final | epochs used | trials | overhead ms/trial | µs/decision | s/run |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for method, rows in runs.items():
            vals = [best(r["done"], total) for r in rows]
            reach = [epochs_to(r["done"], ref) if ref is not None else None for r in rows]
            hit = [e for e in reach if e is not None]
            reach_txt = (f"{_median(hit):.0f}" if len(hit) == len(rows) else
                         f"{_median(hit):.0f} ({len(hit)}/{len(rows)} seeds)" if hit else "never")
            lines.append(
                f"| {method} | {_fmt(_median([v for v, _ in vals]))} | "
                f"{_fmt(_median([best(r['done'], total / 3)[0] for r in rows]))} | "
                f"{_fmt(_median([best(r['done'], total / 2)[0] for r in rows]))} | "
                f"{_fmt(_median([t for _, t in vals]))} | {reach_txt} | "
                f"{_median([r.get('used') for r in rows]) or 0:.0f} | "
                f"{_median([r['trials'] for r in rows]):.0f} | "
                f"{_fmt(_median([r.get('overhead_s', 0) / r['trials'] * 1e3 for r in rows]), 1)}"
                f" | {_decision(rows)} | {_median([r['seconds'] for r in rows]):.0f} |")
    return "\n".join(lines)


def _median(xs: list) -> float | None:
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def _fmt(x: float | None, digits: int = 4) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _decision(rows: list[dict]) -> str:
    """CPU µs per pruning decision (median over seeds), with the model's ms per proposal."""
    per = [r["decision_s"] / r["decisions"] * 1e6 for r in rows if r.get("decisions")]
    text = f"{_median(per):.0f}" if per else "-"
    if any(r.get("proposal_s") for r in rows):
        text += (f" (+{_median([r['proposal_s'] / r['trials'] * 1e3 for r in rows]):.0f} ms "
                 "per trial start)")
    return text


def decision_cost(n_trials: int = 1000, max_steps: int = 27) -> str:
    """Mean and worst time of ``scheduler.on_report`` over the last 100 of ``n_trials``."""
    lines = [f"\n### Decision cost per report at {n_trials} trials ({max_steps} steps max, "
             "ask/report/tell, the last 100 trials)", "",
             "| scheduler | median µs/report | mean µs | p99 µs | max µs | reports timed |",
             "|---|---|---|---|---|---|"]
    for name in SCHEDULERS:
        study = Study(space={"x": Float(0, 1), "y": Float(0, 1)}, scheduler=name,
                      max_steps=max_steps, direction="maximize", seed=0)
        times: list[float] = []
        _time_calls(study.scheduler, "on_report", times)
        starts: list[float] = []
        _time_calls(study.scheduler, "on_trial_start", starts)
        rng = np.random.default_rng(0)
        for number in range(n_trials):
            trial = study.ask()
            quality = rng.random()
            if number == n_trials - 100:
                times.clear()
                starts.clear()
            try:
                for step in range(int(trial.user_attrs.get("resume_step", 0)), max_steps):
                    value = quality * (1 - np.exp(-(step + 1) / 5)) + 0.01 * rng.normal()
                    trial.report(value, step, checkpoint=step)
                study.tell(trial)
            except TrialPruned:
                study.tell(trial, state="pruned")
        us = np.array(times) * 1e6
        line = (f"| {name} | {np.median(us):.1f} | {us.mean():.1f} | {np.percentile(us, 99):.1f} "
                f"| {us.max():.1f} | {len(us)} |")
        if name == "bohb":
            line += f" (proposal per new trial: {np.mean(starts) * 1e3:.2f} ms)"
        lines.append(line)
    return "\n".join(lines)


def _time_calls(obj: Any, method: str, sink: list[float],
                clock: Callable[[], float] = time.perf_counter) -> None:
    inner: Callable = getattr(obj, method)

    def timed(*args: Any) -> Any:
        t0 = clock()
        try:
            return inner(*args)
        finally:
            sink.append(clock() - t0)

    setattr(obj, method, timed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=["noisy", "digits"])
    parser.add_argument("--methods", nargs="+", default=OURS + OPTUNA + PEERS)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--max-steps", type=int, default=27)
    parser.add_argument("--budget", type=int, default=20, help="in full trainings")
    parser.add_argument("--out", help="write the raw results (JSON) here")
    parser.add_argument("--table", nargs="+", metavar="JSON", help="print the table of results")
    parser.add_argument("--decision-cost", action="store_true")
    args = parser.parse_args()
    if args.decision_cost:
        print(decision_cost())
        return
    if args.table:
        # One table per task; a method measured in several files is taken from the last.
        merged: dict[str, dict] = {}
        for path in args.table:
            with open(path) as f:
                for res in json.load(f):
                    merged.setdefault(res["task"], {**res, "runs": {}})["runs"].update(
                        res["runs"])
        print(table(list(merged.values())))
        return
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    logging.getLogger("optuna").setLevel(logging.ERROR)
    results: list[dict] = []

    def save(result: dict) -> None:
        # Written after every run, so that an interrupted benchmark keeps what it measured.
        if args.out:
            with open(args.out, "w") as f:
                json.dump(results + [result], f)

    for task in args.tasks:
        results.append(measure(task, args.methods, args.seeds, args.max_steps, args.budget,
                               save))
    print(table(results))


if __name__ == "__main__":
    main()
