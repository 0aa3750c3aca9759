"""Simple regret after N trials on functions with known optima: hpt_magic against the peers.

Run ``python benchmarks/regret.py`` (full: 100 trials, 10 seeds, every optimizer; about
half an hour on 2 cores) or reduce it, e.g.::

    python benchmarks/regret.py --seeds 3 --trials 60 --optimizers hpt-tpe,optuna-tpe

Prints, per function, the median over seeds of log10(best value - optimum), then the average
rank of every optimizer (the rank of its median on each function, averaged over the functions;
lower is better) and its mean optimizer time per trial (CPU time of the single-threaded worker
by default, ``--clock wall`` for wall time). ``--cache FILE`` keeps every
finished run in a JSON file so that an interrupted or extended run does not redo it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

# One BLAS/torch thread per process: one process per core is faster than threads here.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _functions import PROBLEMS, Param, Problem  # noqa: E402

#: The optimizers, by the name the command line takes.
OPTIMIZERS = ["hpt-random", "hpt-tpe", "hpt-gp", "optuna-tpe", "optuna-tpe-indep", "optuna-gp",
              "optuna-cmaes", "hyperopt-tpe", "skopt-gp"]
#: Variants that ``--optimizers`` also takes: hpt_magic's classic (independent) TPE, and the
#: strongest peers, which need `pip install --no-deps hebo` and `smac` (see README).
EXTRA = ["hpt-tpe-indep", "hebo", "smac-rf", "smac-gp"]

#: Floor of the regret (log10 of 0 is not a number).
REGRET_FLOOR = 1e-12

#: Clocks for the optimizer time. ``cpu`` (the default) is the CPU time of the
#: single-threaded worker process, which other processes on a shared machine disturb much
#: less than the wall time.
CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}


def versions() -> dict[str, str]:
    """Versions of the libraries compared."""
    import importlib.metadata as md

    out = {"python": sys.version.split()[0]}
    for pkg in ("hpt-magic", "numpy", "scipy", "optuna", "hyperopt", "scikit-optimize",
                "torch", "cmaes", "hebo", "smac"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "missing"
    return out


def available(name: str) -> bool:
    """Whether an optimizer can run here (``hpt-gp`` needs a registered ``gp`` sampler)."""
    if name == "hpt-gp":
        from hpt_magic.samplers import SAMPLERS

        return "gp" in SAMPLERS
    package = {"hebo": "hebo", "smac-rf": "smac", "smac-gp": "smac"}.get(name)
    if package is not None and importlib.util.find_spec(package) is None:
        return False  # skipped with a note, not a crash in a worker (`make bench` installs it)
    return name in OPTIMIZERS or name in EXTRA


# -- drivers: each runs one optimizer and returns the values and optimizer seconds per trial --
Objective = Callable[[dict[str, Any]], float]


def run(name: str, space: list[Param], f: Objective, n_trials: int, seed: int,
        clock: str = "cpu") -> tuple[list[float], list[float]]:
    """Minimise ``f`` over ``space``; return (value per trial, optimizer seconds per trial)."""
    warnings.filterwarnings("ignore")
    tick = CLOCKS[clock]
    if name == "hpt-tpe-indep":
        return _run_hpt("tpe", space, f, n_trials, seed, tick, multivariate=False)
    if name.startswith("hpt-"):
        return _run_hpt(name[4:], space, f, n_trials, seed, tick)
    if name.startswith("optuna-"):
        return _run_optuna(name[7:], space, f, n_trials, seed, tick)
    if name == "hyperopt-tpe":
        return _run_hyperopt(space, f, n_trials, seed, tick)
    if name == "skopt-gp":
        return _run_skopt(space, f, n_trials, seed, tick)
    if name == "hebo":
        return _run_hebo(space, f, n_trials, seed, tick)
    if name in ("smac-rf", "smac-gp"):
        return _run_smac(name[5:], space, f, n_trials, seed, tick)
    raise ValueError(f"unknown optimizer {name!r}; choose from {OPTIMIZERS + EXTRA}")


def hpt_space(space: list[Param]) -> dict[str, Any]:
    """The benchmark space as hpt_magic distributions."""
    from hpt_magic import Choice, Float, Int

    return {p.name: (Float(p.low, p.high, log=p.log) if p.kind == "float" else
                     Int(int(p.low), int(p.high), log=p.log) if p.kind == "int" else
                     Choice(list(p.options))) for p in space}


def _ask_tell(ask: Callable[[], Any], tell: Callable[[Any, float], None], f: Objective,
              n_trials: int, tick: Callable[[], float]) -> tuple[list[float], list[float]]:
    """Values and optimizer time (ask + tell, not the objective) of ``n_trials`` trials."""
    values, times = [], []
    for _ in range(n_trials):
        t0 = tick()
        trial = ask()
        t1 = tick()
        v = f(trial.params)
        t2 = tick()
        tell(trial, v)
        times.append(t1 - t0 + tick() - t2)
        values.append(v)
    return values, times


def _run_hpt(sampler: str, space: list[Param], f: Objective, n_trials: int, seed: int,
             tick: Callable[[], float], **options: Any) -> tuple[list[float], list[float]]:
    from hpt_magic import Study

    study = Study(space=hpt_space(space), sampler=sampler, seed=seed, sampler_args=options)
    return _ask_tell(study.ask, study.tell, f, n_trials, tick)


def optuna_distributions(space: list[Param]) -> dict[str, Any]:
    """``space`` as Optuna's distributions, for ``study.ask``."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    return {p.name: (FloatDistribution(p.low, p.high, log=p.log) if p.kind == "float" else
                     IntDistribution(int(p.low), int(p.high), log=p.log) if p.kind == "int"
                     else CategoricalDistribution(list(p.options))) for p in space}


def hyperopt_space(space: list[Param]) -> dict[str, Any]:
    """``space`` as Hyperopt's search space (ints as quantised ranges, rounded back by
    :func:`hyperopt_params`)."""
    from hyperopt import hp

    def dim(p: Param) -> Any:
        if p.kind == "choice":
            return hp.choice(p.name, list(p.options))
        lo, hi = (math.log(p.low), math.log(p.high)) if p.log else (p.low, p.high)
        if p.kind == "float":
            return (hp.loguniform if p.log else hp.uniform)(p.name, lo, hi)
        if p.log:
            return hp.qloguniform(p.name, math.log(p.low - 0.5), math.log(p.high + 0.5), 1)
        return hp.quniform(p.name, p.low - 0.5, p.high + 0.5, 1)

    return {p.name: dim(p) for p in space}


def hyperopt_params(space: list[Param], x: dict[str, Any]) -> dict[str, Any]:
    """The parameters of a point Hyperopt proposed in :func:`hyperopt_space`."""
    return {p.name: (int(min(p.high, max(p.low, round(x[p.name])))) if p.kind == "int"
                     else x[p.name]) for p in space}


def _run_optuna(kind: str, space: list[Param], f: Objective, n_trials: int, seed: int,
                tick: Callable[[], float]
                ) -> tuple[list[float], list[float]]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    sampler = {"tpe": lambda: optuna.samplers.TPESampler(seed=seed),
               "tpe-indep": lambda: optuna.samplers.TPESampler(seed=seed, multivariate=False),
               "gp": lambda: optuna.samplers.GPSampler(seed=seed),
               "cmaes": lambda: optuna.samplers.CmaEsSampler(seed=seed)}[kind]()
    dists = optuna_distributions(space)
    study = optuna.create_study(sampler=sampler)
    return _ask_tell(lambda: study.ask(dists), study.tell, f, n_trials, tick)


class _Gaps:
    """Wraps an objective to time what the optimizer does between two calls."""

    def __init__(self, f: Callable[[Any], float], tick: Callable[[], float]) -> None:
        self.f, self.tick, self.values, self.times = f, tick, [], []
        self.last = tick()

    def __call__(self, x: Any) -> float:
        self.times.append(self.tick() - self.last)
        v = float(self.f(x))
        self.values.append(v)
        self.last = self.tick()
        return v


def _run_hyperopt(space: list[Param], f: Objective, n_trials: int, seed: int,
                  tick: Callable[[], float]) -> tuple[list[float], list[float]]:
    from hyperopt import STATUS_OK, Trials, fmin, tpe

    gaps = _Gaps(lambda x: f(hyperopt_params(space, x)), tick)
    fmin(lambda x: {"loss": gaps(x), "status": STATUS_OK}, hyperopt_space(space),
         algo=tpe.suggest, max_evals=n_trials, trials=Trials(),
         rstate=np.random.default_rng(seed), show_progressbar=False)
    return gaps.values, gaps.times


def _run_skopt(space: list[Param], f: Objective, n_trials: int, seed: int,
               tick: Callable[[], float]
               ) -> tuple[list[float], list[float]]:
    from skopt import gp_minimize
    from skopt.space import Categorical, Integer, Real

    prior = {True: "log-uniform", False: "uniform"}
    dims = [Real(p.low, p.high, prior=prior[p.log], name=p.name) if p.kind == "float" else
            Integer(int(p.low), int(p.high), prior=prior[p.log], name=p.name)
            if p.kind == "int" else Categorical(list(p.options), name=p.name) for p in space]
    gaps = _Gaps(lambda x: f({p.name: v for p, v in zip(space, x)}), tick)
    gp_minimize(gaps, dims, n_calls=n_trials, n_initial_points=10, acq_func="EI",
                random_state=seed)
    return gaps.values, gaps.times


class _Asked:
    """A peer's suggestion with the ``params`` that :func:`_ask_tell` evaluates."""

    def __init__(self, handle: Any, params: dict[str, Any]) -> None:
        self.handle, self.params = handle, params


def _run_hebo(space: list[Param], f: Objective, n_trials: int, seed: int,
              tick: Callable[[], float]) -> tuple[list[float], list[float]]:
    from hebo.design_space.design_space import DesignSpace
    from hebo.optimizers.hebo import HEBO

    def dim(p: Param) -> dict[str, Any]:
        if p.kind == "choice":
            return {"name": p.name, "type": "cat", "categories": list(p.options)}
        kind = ("pow" if p.log else "num") if p.kind == "float" else (
            "pow_int" if p.log else "int")
        return {"name": p.name, "type": kind, "lb": p.low, "ub": p.high}

    opt = HEBO(DesignSpace().parse([dim(p) for p in space]), rand_sample=10, scramble_seed=seed)

    def ask() -> _Asked:
        # pymoo seeds itself from numpy's global generator: seed it for reproducible runs.
        np.random.seed(seed * 100_003 + len(opt.y))
        row = opt.suggest(n_suggestions=1)
        params = {p.name: (int(row[p.name].iloc[0]) if p.kind == "int" else
                           row[p.name].iloc[0]) for p in space}
        return _Asked(row, params)

    def tell(asked: _Asked, value: float) -> None:
        opt.observe(asked.handle, np.array([[value]]))

    return _ask_tell(ask, tell, f, n_trials, tick)


def _run_smac(kind: str, space: list[Param], f: Objective, n_trials: int, seed: int,
              tick: Callable[[], float]) -> tuple[list[float], list[float]]:
    import tempfile

    from ConfigSpace import Categorical, ConfigurationSpace
    from ConfigSpace import Float as CSFloat
    from ConfigSpace import Integer as CSInteger
    from smac import BlackBoxFacade, HyperparameterOptimizationFacade, Scenario
    from smac.runhistory.dataclasses import TrialValue

    cs = ConfigurationSpace(seed=seed)
    cs.add([CSFloat(p.name, (p.low, p.high), log=p.log) if p.kind == "float" else
            CSInteger(p.name, (int(p.low), int(p.high)), log=p.log) if p.kind == "int" else
            Categorical(p.name, list(p.options)) for p in space])
    facade = HyperparameterOptimizationFacade if kind == "rf" else BlackBoxFacade
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Scenario(cs, deterministic=True, n_trials=n_trials, seed=seed,
                            output_directory=Path(tmp))
        smac = facade(scenario, lambda config, seed=0: 0.0, overwrite=True, logging_level=40)

        def ask() -> _Asked:
            info = smac.ask()
            return _Asked(info, dict(info.config))

        return _ask_tell(ask, lambda asked, v: smac.tell(asked.handle, TrialValue(cost=v)), f,
                         n_trials, tick)


# -- the benchmark ------------------------------------------------------------------------------
Job = tuple[str, str, int, int]


def _job(args: tuple[Job, str]) -> tuple[Job, dict[str, Any]]:
    job, clock = args
    name, problem, seed, n_trials = job
    p: Problem = PROBLEMS[problem]
    t0 = time.perf_counter()
    values, times = run(name, p.space, p.f, n_trials, seed, clock)
    regret = max(min(values) - p.optimum, REGRET_FLOOR)
    return job, {"log_regret": math.log10(regret), "time_per_trial": float(np.mean(times)),
                  "wall": time.perf_counter() - t0}


def _key(job: Job) -> str:
    return "|".join(map(str, job))


def run_all(optimizers: list[str], problems: list[str], seeds: int, n_trials: int,
            processes: int = 2, cache: Path | None = None, clock: str = "cpu",
            log: Any = sys.stderr) -> dict[Job, dict[str, Any]]:
    """Run every (optimizer, problem, seed) job, in ``processes`` worker processes."""
    import multiprocessing as mp

    done: dict[str, dict[str, Any]] = {}
    if cache is not None and cache.exists():
        done = json.loads(cache.read_text())
    jobs = [(o, p, s, n_trials) for o in optimizers for p in problems for s in range(seeds)]
    todo = [j for j in jobs if _key(j) not in done]
    # The slow optimizers first, so that the two processes finish together.
    todo.sort(key=lambda j: j[0] not in ("skopt-gp", "optuna-gp", "hpt-gp"))
    with mp.get_context("spawn").Pool(processes) as pool:
        work = [(j, clock) for j in todo]
        for k, (job, res) in enumerate(pool.imap_unordered(_job, work), 1):
            done[_key(job)] = res
            print(f"[{k}/{len(todo)}] {_key(job)}: {res['log_regret']:.2f} "
                  f"({res['wall']:.1f} s)", file=log, flush=True)
            if cache is not None:
                cache.write_text(json.dumps(done))
    return {j: done[_key(j)] for j in jobs}


def report(results: dict[Job, dict[str, Any]], optimizers: list[str],
           problems: list[str]) -> str:
    """The tables: median log10 regret and ms per trial per function, and average ranks."""
    med = {(o, p): float(np.median([r["log_regret"] for (o2, p2, _, _), r in results.items()
                                    if o2 == o and p2 == p])) for o in optimizers
           for p in problems}
    ms = {o: 1000 * float(np.mean([r["time_per_trial"] for (o2, _, _, _), r in results.items()
                                   if o2 == o])) for o in optimizers}
    ranks = {o: [] for o in optimizers}
    for p in problems:
        col = np.array([med[o, p] for o in optimizers])
        r = _rank(col)
        for o, v in zip(optimizers, r):
            ranks[o].append(v)
    w = max(len(o) for o in optimizers)
    head = f"{'optimizer':<{w}} " + " ".join(f"{p[:11]:>11}" for p in problems)
    lines = ["Median log10 simple regret (lower is better)", head]
    for o in optimizers:
        lines.append(f"{o:<{w}} " + " ".join(f"{med[o, p]:>11.2f}" for p in problems))
    lines += ["", f"{'optimizer':<{w}} {'avg rank':>8} {'ms/trial':>9}"]
    for o in sorted(optimizers, key=lambda o: np.mean(ranks[o])):
        lines.append(f"{o:<{w}} {np.mean(ranks[o]):>8.2f} {ms[o]:>9.1f}")
    return "\n".join(lines)


def _rank(col: np.ndarray) -> np.ndarray:
    """Ranks from 1 (lowest), ties sharing their average rank."""
    order = np.argsort(col, kind="stable")
    r = np.empty(len(col))
    r[order] = np.arange(1, len(col) + 1)
    for v in np.unique(col):
        r[col == v] = r[col == v].mean()
    return r


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--optimizers", default=",".join(OPTIMIZERS))
    ap.add_argument("--problems", default=",".join(PROBLEMS))
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    a = ap.parse_args(argv)
    optimizers = [o for o in a.optimizers.split(",") if o]
    skipped = [o for o in optimizers if not available(o)]
    optimizers = [o for o in optimizers if o not in skipped]
    problems = [p for p in a.problems.split(",") if p]
    t0 = time.time()
    results = run_all(optimizers, problems, a.seeds, a.trials, a.processes, a.cache, a.clock)
    print(f"{a.trials} trials, {a.seeds} seeds, {a.processes} processes, {a.clock} time, "
          f"{time.time() - t0:.0f} s")
    print(" ".join(f"{k} {v}" for k, v in versions().items()))
    if skipped:
        print(f"skipped (not available): {', '.join(skipped)}")
    print(report(results, optimizers, problems))


if __name__ == "__main__":
    main()
