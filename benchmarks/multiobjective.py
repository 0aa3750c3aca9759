"""Multi-objective samplers and early stopping, against Optuna 5.

Part 1 — samplers: hypervolume of the front after 50, 100 and 300 trials (median over seeds)
on ZDT1, ZDT2, ZDT3 (2 objectives, 10 floats), DTLZ2 (3 objectives, 7 floats) and MIXED (2
objectives, a float, an int and a choice), and the mean time per trial. hpt_magic's
``tpe``, ``nsga2`` and ``gp`` (ParEGO) against Optuna's default multi-objective sampler
(``TPESampler()``), ``NSGAIISampler`` and ``GPSampler``. GP samplers are for small budgets and
run to ``--gp-trials`` only (their time per trial grows with the trials).

Part 2 — early stopping: an MLP on digits (maximise validation accuracy, minimise the number
of weights), epochs as the resource. The same epoch budget is spent without a scheduler and
with ``asha``/``hyperband``/``median``; the hypervolume of each front, with a fixed reference.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/multiobjective.py --seeds 10 \\
        > benchmarks/results/multiobjective.txt
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import mannwhitneyu

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from hpt_magic import Choice, Float, Int, Study  # noqa: E402
from hpt_magic._pareto import hypervolume  # noqa: E402

CHECKPOINTS = (50, 100, 300)


@dataclass(frozen=True)
class MOProblem:
    name: str
    space: dict[str, Any]  # name -> ("float", lo, hi) | ("int", lo, hi) | ("choice", options)
    f: Callable[[dict[str, Any]], tuple[float, ...]]
    reference: tuple[float, ...]


def _zdt(kind: int) -> Callable[[dict[str, Any]], tuple[float, ...]]:
    def f(p: dict[str, Any]) -> tuple[float, ...]:
        x = [p[f"x{i}"] for i in range(10)]
        g = 1 + 9 * sum(x[1:]) / 9
        r = x[0] / g
        h = {1: 1 - math.sqrt(r), 2: 1 - r * r,
             3: 1 - math.sqrt(r) - r * math.sin(10 * math.pi * x[0])}[kind]
        return x[0], g * h
    return f


def _dtlz2(p: dict[str, Any]) -> tuple[float, ...]:
    x = [p[f"x{i}"] for i in range(7)]
    g = sum((v - 0.5) ** 2 for v in x[2:])
    a, b = x[0] * math.pi / 2, x[1] * math.pi / 2
    return ((1 + g) * math.cos(a) * math.cos(b), (1 + g) * math.cos(a) * math.sin(b),
            (1 + g) * math.sin(a))


_OFFSET = {"sgd": 0.6, "adam": 0.0, "rmsprop": 0.3}


def _mixed(p: dict[str, Any]) -> tuple[float, ...]:
    x, n, c = p["x"], p["n"], p["opt"]
    f1 = (x - 1) ** 2 + ((n - 3) / 4) ** 2 + _OFFSET[c]
    f2 = (x + 1) ** 2 + ((n - 12) / 4) ** 2 + 0.6 - _OFFSET[c]
    return f1, f2


PROBLEMS = [
    MOProblem("ZDT1", {f"x{i}": ("float", 0.0, 1.0) for i in range(10)}, _zdt(1), (1.1, 5.0)),
    MOProblem("ZDT2", {f"x{i}": ("float", 0.0, 1.0) for i in range(10)}, _zdt(2), (1.1, 5.0)),
    MOProblem("ZDT3", {f"x{i}": ("float", 0.0, 1.0) for i in range(10)}, _zdt(3), (1.1, 5.0)),
    MOProblem("DTLZ2", {f"x{i}": ("float", 0.0, 1.0) for i in range(7)}, _dtlz2,
              (2.0, 2.0, 2.0)),
    MOProblem("MIXED", {"x": ("float", -2.0, 2.0), "n": ("int", 0, 15),
                        "opt": ("choice", ("sgd", "adam", "rmsprop"))}, _mixed, (10.0, 10.0)),
]


def _ours(problem: MOProblem, sampler: str, seed: int, n: int) -> tuple[list, float]:
    space = {k: (Float(v[1], v[2]) if v[0] == "float" else Int(v[1], v[2]) if v[0] == "int"
                 else Choice(list(v[1]))) for k, v in problem.space.items()}
    k = len(problem.reference)
    study = Study(space=space, sampler=sampler, seed=seed, directions=["min"] * k)
    start = time.perf_counter()
    study.optimize(lambda t: problem.f(t.params), n_trials=n)
    elapsed = time.perf_counter() - start
    return [t.values for t in study.trials if t.values is not None], elapsed / n


def _optuna(problem: MOProblem, sampler: str, seed: int, n: int) -> tuple[list, float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore")
    make = {"optuna-tpe": lambda: optuna.samplers.TPESampler(seed=seed),
            "optuna-nsga2": lambda: optuna.samplers.NSGAIISampler(seed=seed),
            "optuna-gp": lambda: optuna.samplers.GPSampler(seed=seed)}[sampler]
    study = optuna.create_study(directions=["minimize"] * len(problem.reference),
                                sampler=make())

    def objective(trial: Any) -> tuple[float, ...]:
        p = {}
        for name, spec in problem.space.items():
            if spec[0] == "float":
                p[name] = trial.suggest_float(name, spec[1], spec[2])
            elif spec[0] == "int":
                p[name] = trial.suggest_int(name, spec[1], spec[2])
            else:
                p[name] = trial.suggest_categorical(name, list(spec[1]))
        return problem.f(p)

    start = time.perf_counter()
    study.optimize(objective, n_trials=n)
    elapsed = time.perf_counter() - start
    return [list(t.values) for t in study.trials if t.values is not None], elapsed / n


SAMPLERS = {"tpe": _ours, "nsga2": _ours, "gp": _ours,
            "optuna-tpe": _optuna, "optuna-nsga2": _optuna, "optuna-gp": _optuna}


def _run(job: tuple[str, str, int, int]) -> tuple[str, str, int, list[float], float]:
    problem_name, sampler, seed, n = job
    problem = next(p for p in PROBLEMS if p.name == problem_name)
    values, per_trial = SAMPLERS[sampler](problem, sampler, seed, n)
    ref = np.array(problem.reference)
    hvs = [hypervolume(np.array(values[:c], dtype=float), ref) if c <= len(values)
           else math.nan for c in CHECKPOINTS]
    return problem_name, sampler, seed, hvs, per_trial


def samplers_table(seeds: int, gp_trials: int, workers: int, only: list[str]) -> str:
    jobs = []
    for problem in PROBLEMS:
        for sampler in only:
            n = gp_trials if sampler.endswith("gp") else max(CHECKPOINTS)
            jobs += [(problem.name, sampler, seed, n) for seed in range(seeds)]
    with ProcessPoolExecutor(workers) as pool:
        results = list(pool.map(_run, jobs))
    lines = [f"Hypervolume (median of {seeds} seeds; higher is better) after "
             f"{'/'.join(map(str, CHECKPOINTS))} trials, GP samplers to {gp_trials} trials; "
             "mean ms per trial", ""]
    head = f"{'problem':<7} {'sampler':<13}" + "".join(f"{'HV@' + str(c):>10}"
                                                     for c in CHECKPOINTS) + f"{'ms/trial':>10}"
    lines.append(head)
    for problem in PROBLEMS:
        for sampler in only:
            rows = [r for r in results if r[0] == problem.name and r[1] == sampler]
            med = [statistics.median(r[3][i] for r in rows) for i in range(len(CHECKPOINTS))]
            ms = 1000 * statistics.mean(r[4] for r in rows)
            cells = "".join(f"{'-':>10}" if math.isnan(v) else f"{v:>10.4f}" for v in med)
            lines.append(f"{problem.name:<7} {sampler:<13}{cells}{ms:>10.1f}")
        lines.append("")
    return "\n".join(lines)


# -- part 2: early stopping on an MLP ------------------------------------------------------
EPOCHS = 27


def _digits() -> tuple[np.ndarray, ...]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    return tuple(train_test_split(X, y, test_size=0.3, random_state=0))


def _mlp_objective(data: tuple[np.ndarray, ...]) -> Callable[[Any], dict[str, float]]:
    from sklearn.neural_network import MLPClassifier

    Xtr, Xva, ytr, yva = data

    def objective(trial: Any) -> dict[str, float]:
        width = trial.suggest_int("width", 2, 128, log=True)
        depth = trial.suggest_int("depth", 1, 3)
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        sizes = [64] + [width] * depth + [10]
        weights = float(sum(a * b + b for a, b in zip(sizes, sizes[1:])))
        model = MLPClassifier(hidden_layer_sizes=(width,) * depth, learning_rate_init=lr,
                              random_state=trial.number, batch_size=128)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in range(EPOCHS):
                model.partial_fit(Xtr, ytr, classes=np.arange(10))
                acc = model.score(Xva, yva)
                trial.report({"accuracy": acc, "weights": weights}, step=epoch)
        return {"accuracy": acc, "weights": weights}
    return objective


def _early_stopping_run(
        job: tuple[str | None, int, int, str]) -> tuple[str, int, float, int, int, float]:
    scheduler, seed, budget, sampler = job
    data = _digits()
    study = Study(directions=["maximize", "minimize"], objectives=["accuracy", "weights"],
                  sampler=sampler, seed=seed, scheduler=scheduler, max_steps=EPOCHS)

    # Fixed reference in objective units: accuracy 0.5, 30 000 weights.
    reference = [0.5, 30000.0]
    half: list[float] = []

    def spent(study: Study, trial: Any) -> None:
        used = sum(len(t.intermediate) for t in study.trials)
        if not half and used >= budget // 2:
            half.append(study.hypervolume(reference) / 1e4)
        if used >= budget:
            study.stop()

    study.optimize(_mlp_objective(data), callbacks=[spent])
    epochs = sum(len(t.intermediate) for t in study.trials)
    hv = study.hypervolume(reference) / 1e4
    return scheduler or "none", seed, hv, epochs, len(study.trials), half[0]


def early_stopping_table(seeds: int, n_full: int, workers: int, sampler: str = "tpe") -> str:
    budget = n_full * EPOCHS
    jobs = [(s, seed, budget, sampler) for s in (None, "asha", "hyperband", "median")
            for seed in range(seeds)]
    with ProcessPoolExecutor(workers) as pool:
        results = list(pool.map(_early_stopping_run, jobs))
    lines = [f"MLP on digits (maximise accuracy, minimise weights), sampler {sampler}: the same "
             f"budget of {budget} epochs ({n_full} full trials of {EPOCHS} epochs); median of "
             f"{seeds} seeds.",
             "Hypervolume in units of 1e4 (reference: accuracy 0.5, 30 000 weights).", "",
             f"{'scheduler':<10}{'HV':>9}{'HV@1/2':>9}{'epochs':>9}{'trials':>9}"
             f"{'HV@1/2 < none HV':>19}",
             "(HV@1/2: the front once half the epochs were spent; the last column: the "
             "one-sided Mann-Whitney p-value",
             " that the scheduler's HV@1/2 is below the full-budget HV without a scheduler, "
             "over the seeds)"]
    full = [r[2] for r in results if r[0] == "none"]
    for name in ("none", "asha", "hyperband", "median"):
        rows = [r for r in results if r[0] == name]
        p = ("-" if name == "none" else
             f"{mannwhitneyu([r[5] for r in rows], full, alternative='less').pvalue:.3f}")
        lines.append(f"{name:<10}{statistics.median(r[2] for r in rows):>9.3f}"
                     f"{statistics.median(r[5] for r in rows):>9.3f}"
                     f"{statistics.median(r[3] for r in rows):>9.0f}"
                     f"{statistics.median(r[4] for r in rows):>9.0f}{p:>19}")
    lines.append("HV@1/2 by seed: " + "; ".join(
        f"{name} " + " ".join(f"{r[5]:.3f}" for r in results if r[0] == name)
        for name in ("none", "asha")) + "; none at the full budget " + " ".join(
        f"{v:.3f}" for v in full))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--gp-trials", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--samplers", default=",".join(SAMPLERS))
    parser.add_argument("--mlp-trials", type=int, default=30,
                        help="The epoch budget, in full trials.")
    parser.add_argument("--part", choices=("all", "samplers", "early-stopping"), default="all")
    parser.add_argument("--es-sampler", default="tpe",
                        help="The sampler of the early-stopping part (tpe or gp).")
    args = parser.parse_args()
    if args.part in ("all", "samplers"):
        print(samplers_table(args.seeds, args.gp_trials, args.workers,
                             args.samplers.split(",")), flush=True)
    if args.part in ("all", "early-stopping"):
        print(early_stopping_table(args.seeds, args.mlp_trials, args.workers, args.es_sampler),
              flush=True)


if __name__ == "__main__":
    main()
