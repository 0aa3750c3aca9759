"""Objectives that fail in part of the space: wasted trials and regret, against the peers.

Tuning often meets configurations that raise (a solver that does not take a penalty, a
network that runs out of memory, an option that a library refuses). Optuna's and Hyperopt's
samplers ignore failed trials, so the failing region never gains bad observations: a TPE
keeps finding its good-to-bad density ratio high there, a GP its uncertainty. hpt_magic's
``tpe`` counts failed trials as bad ones and ``gp`` models them as the worst loss seen
(``consider_failed``, the default).

Run: ``.venv/bin/python benchmarks/failures.py [--seeds 10] [--trials 50]``. Prints, per case
and optimizer, the median over seeds of log10 simple regret (of the trials that succeeded) and
the median number of failed trials.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _functions import PROBLEMS  # noqa: E402
from regret import hpt_space, hyperopt_params, hyperopt_space, optuna_distributions  # noqa: E402

#: name -> (function, where it fails)
CASES: dict[str, tuple[str, Callable[[dict[str, Any]], bool]]] = {
    "branin, x0 > 5 fails": ("branin", lambda p: p["x0"] > 5),
    "hartmann3, x0 + x1 > 1.2 fails": ("hartmann3", lambda p: p["x0"] + p["x1"] > 1.2),
    "mixed, sigmoid fails": ("mixed", lambda p: p["activation"] == "sigmoid"),
    "mixed, layers >= 5 fails": ("mixed", lambda p: p["layers"] >= 5),
}
OPTIMIZERS = ["hpt-tpe", "hpt-tpe (failures ignored)", "optuna-tpe", "hyperopt-tpe",
              "hpt-gp", "hpt-gp (failures ignored)", "optuna-gp"]


class Failed(Exception):
    """The objective's failure in the failing region."""


def run(job: tuple[str, str, int, int]) -> tuple[float, int]:
    """One run: (log10 regret of the best successful trial, failed trials)."""
    case, optimizer, seed, n_trials = job
    name, fails = CASES[case]
    problem = PROBLEMS[name]

    def f(params: dict[str, Any]) -> float:
        if fails(params):
            raise Failed
        return problem.f(params)

    values = _RUNNERS[optimizer.split()[0].split("-")[0]](optimizer, problem, f, seed, n_trials)
    ok = [v for v in values if v is not None]
    best = min(ok) if ok else math.inf
    return math.log10(max(best - problem.optimum, 1e-12)), len(values) - len(ok)


def _ask_tell(ask: Callable[[], Any], tell: Callable[[Any, float], Any],
              fail: Callable[[Any], Any], f: Callable, n: int) -> list[float | None]:
    """``n`` trials asked and told; a failure is told with ``fail`` and recorded as ``None``."""
    values: list[float | None] = []
    for _ in range(n):
        trial = ask()
        try:
            v = f(trial.params)
        except Failed:
            fail(trial)
            values.append(None)
        else:
            tell(trial, v)
            values.append(v)
    return values


def _hpt(optimizer: str, problem: Any, f: Callable, seed: int, n: int) -> list[float | None]:
    from hpt_magic import Study

    sampler = optimizer.split()[0].split("-")[1]
    study = Study(space=hpt_space(problem.space), sampler=sampler, seed=seed,
                  sampler_args={"consider_failed": "ignored" not in optimizer})
    return _ask_tell(study.ask, study.tell, lambda t: study.tell(t, state="failed"), f, n)


def _optuna(optimizer: str, problem: Any, f: Callable, seed: int, n: int) -> list[float | None]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    sampler = (optuna.samplers.TPESampler(seed=seed) if optimizer == "optuna-tpe"
               else optuna.samplers.GPSampler(seed=seed))
    dists = optuna_distributions(problem.space)
    study = optuna.create_study(sampler=sampler)
    return _ask_tell(lambda: study.ask(dists), study.tell,
                     lambda t: study.tell(t, state=optuna.trial.TrialState.FAIL), f, n)


def _hyperopt(optimizer: str, problem: Any, f: Callable, seed: int,
              n: int) -> list[float | None]:
    import numpy as np
    from hyperopt import STATUS_FAIL, STATUS_OK, Trials, fmin, tpe

    values: list[float | None] = []

    def objective(x: dict[str, Any]) -> dict[str, Any]:
        try:
            v = f(hyperopt_params(problem.space, x))
        except Failed:
            values.append(None)
            return {"status": STATUS_FAIL}
        values.append(v)
        return {"loss": v, "status": STATUS_OK}

    fmin(objective, hyperopt_space(problem.space), algo=tpe.suggest, max_evals=n,
         trials=Trials(), rstate=np.random.default_rng(seed), show_progressbar=False)
    return values


_RUNNERS = {"hpt": _hpt, "optuna": _optuna, "hyperopt": _hyperopt}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--optimizers", default=",".join(OPTIMIZERS))
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    optimizers = args.optimizers.split(",")
    jobs = [(case, opt, seed, args.trials) for case in CASES for opt in optimizers
            for seed in range(args.seeds)]
    with ProcessPoolExecutor(args.processes) as pool:
        results = dict(zip(jobs, pool.map(run, jobs, chunksize=1)))
    print(f"{args.trials} trials, {args.seeds} seeds: median log10 regret of the successful "
          "trials / median failed trials")
    print(f"{'case':32s}" + "".join(f"{o:>28s}" for o in optimizers))
    for case in CASES:
        cells = []
        for opt in optimizers:
            runs = [results[(case, opt, s, args.trials)] for s in range(args.seeds)]
            cells.append(f"{statistics.median(r for r, _ in runs):7.2f} / "
                         f"{statistics.median(k for _, k in runs):4.1f}")
        print(f"{case:32s}" + "".join(f"{c:>28s}" for c in cells))


if __name__ == "__main__":
    main()
