"""Parallel trials: throughput of sleeping trials and dispatch overhead of trivial ones.

Sleep-bound trials (0.5 s) are not limited by the cores, so ``n`` workers should give close to
``n`` times the sequential throughput. Two figures per row: the whole ``optimize`` call (worker
or cluster start-up included), and the steady state (trials told after the first wave, divided
by the time from the first to the last tell; workers warming up are left out).

Run: ``.venv/bin/python benchmarks/parallel.py [--trials 24] [--trivial 400]``
"""

from __future__ import annotations

import argparse
import time

from hpt_magic import Float, Study, tune


def sleeping(trial):
    time.sleep(0.5)
    return trial.params["x"]


def trivial(trial):
    tune.report(trial.params["x"], 0)
    return trial.params["x"]


def run(objective, n_trials: int, workers: int = 1, **parallel) -> tuple[float, float]:
    """``(whole run, steady state)`` throughput of one study, in trials per second."""
    study = Study(space={"x": Float(0, 1)}, seed=0)
    t0 = time.perf_counter()
    study.optimize(objective, n_trials=n_trials, **parallel)
    wall = time.perf_counter() - t0
    assert study.counts()["complete"] == n_trials
    told = sorted(t.finished for t in study.trials)
    return n_trials / wall, (n_trials - workers) / (told[-1] - told[workers - 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=24, help="sleeping trials per row")
    parser.add_argument("--trivial", type=int, default=400, help="trivial trials at n_jobs 4")
    args = parser.parse_args()
    n = args.trials
    rows = [("n_jobs 1", 1, {}), ("n_jobs 2", 2, {"n_jobs": 2}), ("n_jobs 4", 4, {"n_jobs": 4}),
            ("dask local:4", 4, {"dask": "local:4"})]
    print(f"{n} trials of 0.5 s sleep (n_jobs 1 = sequential, in the kernel): trials/s "
          "(speed-up over sequential), per-trial overhead seen by a worker")
    base = None
    for label, workers, parallel in rows:
        rate_wall, rate_steady = run(sleeping, n, workers, **parallel)
        base = base or (rate_wall, rate_steady)
        overhead = (workers / rate_steady - 0.5) * 1000
        print(f"  {label:<14} whole run {rate_wall:5.2f}/s ({rate_wall / base[0]:4.2f}x), "
              f"steady {rate_steady:5.2f}/s ({rate_steady / base[1]:4.2f}x), "
              f"overhead {overhead:5.1f} ms/trial")
    m = args.trivial
    _, sequential = run(trivial, m)
    whole, steady = run(trivial, m, 4, n_jobs=4)
    print(f"{m} trivial trials (1 report each): sequential {1000 / sequential:.2f} ms/trial; "
          f"n_jobs 4: {1000 / steady:.2f} ms/trial in the kernel (dispatch overhead), "
          f"{m / whole:.2f} s for the whole run")


if __name__ == "__main__":
    main()
