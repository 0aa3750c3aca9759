"""Per-trial engine overhead: random sampler, trivial objective, in memory and in SQLite.

Run: ``.venv/bin/python benchmarks/engine_overhead.py [--trials 1000]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from hpt_magic import Float, Int, Study, tune


def fixed_space(trial):
    return trial.params["x"] + trial.params["n"]


def define_by_run(trial):
    x = tune.uniform(0, 1, name="x")
    n = tune.int(1, 10, name="n")
    tune.report(x, 0)
    return x + n


def measure(storage, objective, n_trials: int) -> float:
    space = {"x": Float(0, 1), "n": Int(1, 10)} if objective is fixed_space else None
    # Warm up (as before_after.py does): what the engine imports on first use is not a
    # per-trial cost (it went into the first row of each storage kind).
    warm = None if storage is None else f"{storage}.warm"
    Study(space=space, sampler="random", seed=1, storage=warm).optimize(objective, n_trials=20)
    study = Study(space=space, sampler="random", seed=0, storage=storage)
    t0 = time.perf_counter()
    study.optimize(objective, n_trials=n_trials)
    return (time.perf_counter() - t0) / n_trials * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [
            ("in memory, fixed space", None, fixed_space),
            ("in memory, define-by-run + 1 report", None, define_by_run),
            ("SQLite, fixed space", os.path.join(tmp, "a.db"), fixed_space),
            ("SQLite, define-by-run + 1 report", os.path.join(tmp, "b.db"), define_by_run),
        ]
        print(f"engine overhead per trial, random sampler, {args.trials} trials")
        for label, storage, objective in rows:
            print(f"  {label:<40} {measure(storage, objective, args.trials):7.3f} ms")


if __name__ == "__main__":
    main()
