"""Iterating on a study: an edited space, repeated proposals, priors and warm starts.

Run: ``.venv/bin/python benchmarks/iterating.py [--seeds 5] [--processes 2]``

1. Editing: 50 trials on a too-narrow range (the lower 40 % of each range, on its own scale),
   widen it, 50 more, against a fresh study of 100 and of 50 trials on the wide range.
2. Repeats: a mixed integer/categorical space of 200 points, 100 trials, ``on_repeat`` reuse,
   skip and run: proposals that repeated a tried point (reused without running) and the best.
3. Priors and warm starts: regret at 20 and 50 trials with a good prior (the optimum), a
   misleading one (the far corner) and none; and a warm start from a study of 30 trials.
Median log10 simple regret (lower is better) over the seeds; the default sampler for these
budgets (``gp``).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from _functions import PROBLEMS, Param

from hpt_magic import Choice, Float, Int, Study

FUNCTIONS = ("branin", "hartmann3", "mixed")
#: Where each function is best (one of its optima), for the "good prior".
OPTIMA = {"branin": {"x0": math.pi, "x1": 2.275},
          "hartmann3": {"x0": 0.114614, "x1": 0.555649, "x2": 0.852547},
          "mixed": {"lr": 10 ** -2.5, "wd": 1e-4, "units": 128, "layers": 3, "batch": 64,
                    "activation": "gelu"}}


def dist(p: Param, share: float = 1.0) -> Any:
    """The distribution of ``p``, cut to the lower ``share`` of its range."""
    if p.kind == "choice":
        return Choice(list(p.options))
    if p.log:
        high = math.exp(math.log(p.low) + share * (math.log(p.high) - math.log(p.low)))
    else:
        high = p.low + share * (p.high - p.low)
    if p.kind == "int":
        return Int(int(p.low), max(int(p.low) + 1, int(round(high))), log=p.log)
    return Float(p.low, high, log=p.log)


def space(name: str, share: float = 1.0, prior: dict[str, Any] | None = None) -> dict:
    out = {}
    for p in PROBLEMS[name].space:
        d = dist(p, share)
        if prior is not None:
            d.with_prior(d.clip(prior[p.name]))
        out[p.name] = d
    return out


def regret(study: Study, name: str) -> float:
    return math.log10(max(study.best_value - PROBLEMS[name].optimum, 1e-12))


def objective(name: str):
    f = PROBLEMS[name].f
    return lambda t: f(t.params)


def editing(name: str, seed: int) -> dict[str, float]:
    out = {}
    edited = Study(space=space(name, 0.4), seed=seed, sampler="gp", name="e")
    edited.optimize(objective(name), n_trials=50)
    edited.space = None  # the same study object, continued on the wide space
    edited.space = space(name)
    edited.edit_space(edited.space, names=())
    edited.optimize(objective(name), n_trials=50)
    out["narrow 50 + wide 50"] = regret(edited, name)
    for n in (100, 50):
        fresh = Study(space=space(name), seed=seed, sampler="gp")
        fresh.optimize(objective(name), n_trials=n)
        out[f"fresh wide {n}"] = regret(fresh, name)
    return out


def corner(name: str) -> dict[str, Any]:
    """The far corner from the optimum: each parameter at the end of its range away from it."""
    out = {}
    for p in PROBLEMS[name].space:
        if p.kind == "choice":
            out[p.name] = next(o for o in p.options if o != OPTIMA[name][p.name])
            continue
        d = dist(p)
        mid = d.from_unit(0.5)
        out[p.name] = p.low if OPTIMA[name][p.name] > mid else p.high
    return out


def priors(name: str, seed: int) -> dict[str, float]:
    out = {}
    for label, prior in (("no prior", None), ("good prior", OPTIMA[name]),
                         ("misleading prior", corner(name))):
        for n in (20, 50):
            study = Study(space=space(name, prior=prior), seed=seed, sampler="gp")
            study.optimize(objective(name), n_trials=n)
            out[f"{label} @{n}"] = regret(study, name)
    source = Study(space=space(name), seed=seed + 1000, sampler="gp")
    source.optimize(objective(name), n_trials=30)
    for n in (20, 50):
        warm = Study(space=space(name), seed=seed, sampler="gp")
        warm.warm_start(source)
        warm.optimize(objective(name), n_trials=n)
        out[f"warm start (30) @{n}"] = regret(warm, name)
    return out


DISCRETE = {"a": Int(1, 10), "b": Int(1, 5), "c": Choice(["p", "q", "r", "s"])}


def discrete(t: Any) -> float:
    p = t.params
    return (p["a"] - 7) ** 2 + 2 * (p["b"] - 2) ** 2 + "pqrs".index(p["c"])


def repeats(sampler: str, seed: int) -> dict[str, float]:
    out = {}
    for mode in ("reuse", "skip", "run"):
        calls: list[int] = []

        def counted(t: Any, calls: list[int] = calls) -> float:
            calls.append(1)
            return discrete(t)

        study = Study(space=DISCRETE, seed=seed, sampler=sampler)
        study.optimize(counted, n_trials=100, on_repeat=mode)
        reused = sum("repeat_of" in t.user_attrs for t in study.trials)
        distinct = len({tuple(sorted(t.params.items())) for t in study.trials})
        out[f"{mode}: cell runs"] = len(calls)
        out[f"{mode}: distinct points run"] = distinct
        out[f"{mode}: reused proposals"] = reused
        out[f"{mode}: best"] = study.best_value
    return out


def _job(args: tuple[str, str, int]) -> tuple[str, str, dict[str, float]]:
    kind, name, seed = args
    fn = {"editing": editing, "priors": priors, "repeats": repeats}[kind]
    return kind, name, fn(name, seed)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--parts", default="editing,repeats,priors",
                    help="Which parts to run (comma-separated).")
    args = ap.parse_args()
    parts = args.parts.split(",")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    jobs = [(kind, name, seed) for seed in range(args.seeds)
            for kind, names in (("editing", FUNCTIONS), ("priors", FUNCTIONS),
                                ("repeats", ("tpe", "gp")))
            if kind in parts for name in names]
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    with ProcessPoolExecutor(args.processes) as pool:
        for kind, name, row in pool.map(_job, jobs):
            results.setdefault((kind, name), []).append(row)
    titles = {"editing": "1. Editing the space (median log10 regret at the end)",
              "priors": "3. Priors and warm starts (median log10 regret)",
              "repeats": "2. Repeats on a 200-point integer/categorical space, 100 trials "
                         "(medians)"}
    for kind in [k for k in ("editing", "repeats", "priors") if k in parts]:
        print(f"\n{titles[kind]}, {args.seeds} seeds")
        names = [n for k, n in results if k == kind]
        keys = list(results[(kind, names[0])][0])
        print(f"  {'':<28}" + "".join(f"{n:>12}" for n in names))
        for key in keys:
            cells = [statistics.median(r[key] for r in results[(kind, n)]) for n in names]
            print(f"  {key:<28}" + "".join(f"{c:>12.3g}" for c in cells))


if __name__ == "__main__":
    main()
