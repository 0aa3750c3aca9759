"""Regret under ``--jobs 4`` against the sequential run, at the same number of trials.

With four workers a sampler proposes each point while three others are still running: it sees
them only as pending points. This measures what that costs in regret for ``gp`` and ``tpe``
on the regret benchmark's functions (``_functions.py``), and the wall-time speed-up. Each
evaluation sleeps ``--sleep`` seconds (a model being trained) so that the workers matter.

Prints, per sampler and function, the median log10 simple regret over seeds with one worker
and with ``--jobs`` workers, and the median wall time of each.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/parallel_regret.py [--seeds 5]``
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _functions import PROBLEMS  # noqa: E402
from regret import hpt_space  # noqa: E402

from hpt_magic import Study  # noqa: E402

#: Set for the workers (module-level, so that the pool can pickle the objective by name).
_SLEEP = 0.05


class Objective:
    """The problem's function, after a short sleep (a picklable callable for the workers)."""

    def __init__(self, problem: str, sleep: float) -> None:
        self.problem, self.sleep = problem, sleep

    def __call__(self, trial: Any) -> float:
        time.sleep(self.sleep)
        return PROBLEMS[self.problem].f(trial.params)


def run(sampler: str, problem: str, seed: int, n_trials: int, jobs: int,
        sleep: float) -> tuple[float, float]:
    """``(log10 regret, wall seconds)`` of one study."""
    p = PROBLEMS[problem]
    study = Study(space=hpt_space(p.space), sampler=sampler, seed=seed)
    began = time.perf_counter()
    study.optimize(Objective(problem, sleep), n_trials=n_trials, n_jobs=jobs)
    wall = time.perf_counter() - began
    return math.log10(max(study.best_value - p.optimum, 1e-12)), wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--trials", type=int, default=60)
    ap.add_argument("--jobs", type=int, default=4)
    ap.add_argument("--sleep", type=float, default=_SLEEP)
    ap.add_argument("--samplers", default="gp,tpe")
    ap.add_argument("--problems", default="branin,hartmann3,styblinski4,mixed")
    args = ap.parse_args()
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} {args.trials} trials of {args.sleep:g} s, "
          f"{args.seeds} seeds, 1 worker against {args.jobs}; load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"{'sampler':<8}{'function':<13}{'regret 1':>10}{f'regret {args.jobs}':>10}"
          f"{'wall 1 s':>10}{f'wall {args.jobs} s':>10}{'speed-up':>10}")
    for sampler in args.samplers.split(","):
        for problem in args.problems.split(","):
            rows = {jobs: [run(sampler, problem, seed, args.trials, jobs, args.sleep)
                           for seed in range(args.seeds)] for jobs in (1, args.jobs)}
            regret = {j: statistics.median(r for r, _ in rows[j]) for j in rows}
            wall = {j: statistics.median(w for _, w in rows[j]) for j in rows}
            print(f"{sampler:<8}{problem:<13}{regret[1]:>10.2f}{regret[args.jobs]:>10.2f}"
                  f"{wall[1]:>10.1f}{wall[args.jobs]:>10.1f}"
                  f"{wall[1] / wall[args.jobs]:>9.1f}x", flush=True)


if __name__ == "__main__":
    main()
