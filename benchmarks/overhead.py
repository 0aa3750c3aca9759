"""Optimizer time per trial (ask + tell) at trial 100, 500 and 1000, for a trivial objective.

Run ``python benchmarks/overhead.py`` (6-D floats; a few minutes on 2 cores). The time at trial
``k`` is the mean over the ``--window`` trials before it, in CPU time of the single-threaded
worker process (``--clock wall`` for wall time). The GP optimizers stop at
``--gp-trials`` (their cost grows with the cube of the trial count). Hyperopt has no ask/tell:
its time is the gap between two objective calls inside ``fmin``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _functions import Param  # noqa: E402
from regret import CLOCKS, OPTIMIZERS, available, run, versions  # noqa: E402

SPACE = [Param(f"x{i}", "float", -5.0, 5.0) for i in range(6)]
SLOW = ("hpt-gp", "optuna-gp", "skopt-gp")


def _sphere(p: dict[str, float]) -> float:
    return sum(v * v for v in p.values())


def _job(args: tuple[str, int, int, str]) -> tuple[str, list[float]]:
    name, n_trials, seed, clock = args
    _, times = run(name, SPACE, _sphere, n_trials, seed, clock)
    return name, times


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--at", default="100,500,1000", help="trial numbers to report")
    ap.add_argument("--window", type=int, default=20)
    ap.add_argument("--gp-trials", type=int, default=200)
    ap.add_argument("--optimizers", default=",".join(OPTIMIZERS))
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    a = ap.parse_args(argv)
    at = [int(k) for k in a.at.split(",")]
    names = [o for o in a.optimizers.split(",") if o and available(o)]
    jobs = [(o, min(max(at), a.gp_trials) if o in SLOW else max(at), 0, a.clock) for o in names]
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(a.processes) as pool:
        results = dict(pool.imap_unordered(_job, sorted(jobs, key=lambda j: j[0] not in SLOW)))
    print(" ".join(f"{k} {v}" for k, v in versions().items()))
    print(f"ms ({a.clock} time) per ask+tell, 6-D floats, mean of the {a.window} trials before "
          f"trial k ({a.processes} processes, 1 thread each)")
    w = max(len(o) for o in names)
    print(f"{'optimizer':<{w}} " + " ".join(f"{f'k={k}':>9}" for k in at))
    for o in names:
        times = results[o]
        cells = [f"{1000 * np.mean(times[k - a.window:k]):>9.1f}" if len(times) >= k
                 else f"{'-':>9}" for k in at]
        print(f"{o:<{w}} " + " ".join(cells))


if __name__ == "__main__":
    main()
