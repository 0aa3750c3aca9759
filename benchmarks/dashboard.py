"""Cost of the live dashboard: its share of a study's wall time, and one redraw of a big study.

1. A study of 200 trials of 50 ms each (10 reported steps of 5 ms) with the dashboard live:
   the time spent in dashboard updates over the run's wall time (target < 5 %). Run first, in
   a fresh process, so that the dashboard's first drawing pays matplotlib's warm-up; the
   same run without the dashboard gives the CPU it costs.
2. One redraw of a study of 2000 trials with 20 reported steps each (target < 300 ms): a live
   update (figure, PNG, JSON document and its serialisation), and ``plot(study)`` saved as a
   PNG (a new Figure each time, as ``%tune_plot`` does).

Times are wall clock (what the user waits) and process CPU (what a busy shared machine does
not inflate); the load average is printed with them.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/dashboard.py``
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import statistics
import time

import numpy as np

from hpt_magic import Choice, Float, Int, Study, tune
from hpt_magic.display import Dashboard, plot


def space():
    return {"lr": Float(1e-4, 1.0, log=True), "depth": Int(1, 8),
            "act": Choice(["relu", "tanh", "gelu"]), "momentum": Float(0.0, 0.99)}


def kernel_output(bundle):
    """What a kernel does with a bundle: serialise it to JSON."""
    json.dumps(bundle, allow_nan=False)


def objective(trial):
    quality = 1 - abs(math.log10(tune.trial.params["lr"]) + 2) / 4
    value = 0.0
    for step in range(10):
        time.sleep(0.005)
        value = quality * (1 - math.exp(-(step + 1) / 3))
        tune.report(value, step)
    return value


def run_share(n_trials: int, show: bool) -> tuple[float, float, Dashboard | None]:
    study = Study(space=space(), direction="maximize", seed=0)
    cpu, wall = time.process_time(), time.perf_counter()
    dash = Dashboard(study, n_trials=n_trials, output=kernel_output) if show else None
    study.optimize(objective, n_trials=n_trials)
    if dash is not None:
        dash.close()
    return time.perf_counter() - wall, time.process_time() - cpu, dash


def big_study(n_trials: int, steps: int) -> Study:
    rng = np.random.default_rng(0)
    study = Study(space=space(), direction="maximize", seed=0)
    for _ in range(n_trials):
        trial = study.ask()
        level = rng.random()
        last = steps if rng.random() > 0.3 else int(rng.integers(1, steps))
        for step in range(last):
            trial.report(level * (1 - math.exp(-(step + 1) / 5)) + 0.01 * rng.normal(), step)
        study.tell(trial, state="complete" if last == steps else "pruned")
    return study


def timed(fn, repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``fn()``."""
    walls, cpus = [], []
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--big", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    run_share(5, show=False)  # warm the engine up, not the drawing
    wall, cpu, dash = run_share(args.trials, show=True)
    base_wall, base_cpu, _ = run_share(args.trials, show=False)
    print(f"{args.trials} trials of 50 ms, live dashboard: wall {wall:.2f} s (without it "
          f"{base_wall:.2f} s); {dash.updates} updates took {dash.seconds * 1000:.0f} ms = "
          f"{100 * dash.seconds / wall:.1f} % of the wall time, of which {dash.drawings} "
          f"drawings {dash.drawing_seconds * 1000:.0f} ms = "
          f"{100 * dash.drawing_seconds / wall:.1f} %; CPU with/without {cpu:.2f}/"
          f"{base_cpu:.2f} s = {100 * (cpu - base_cpu) / wall:.1f} % of the wall time")

    study = big_study(args.big, args.steps)
    dash = Dashboard(study, output=kernel_output)
    first = timed(lambda: kernel_output(dash.bundle()), 1)
    update = timed(lambda: kernel_output(dash.bundle()), args.repeat)
    fresh = timed(lambda: plot(study).savefig(io.BytesIO(), format="png"), args.repeat)
    print(f"{args.big} trials x {args.steps} steps: live update (PNG + JSON) "
          f"{update[0] * 1000:.0f} ms (CPU {update[1] * 1000:.0f}), the first one "
          f"{first[0] * 1000:.0f} ms (CPU {first[1] * 1000:.0f}); plot(study) to PNG "
          f"{fresh[0] * 1000:.0f} ms (CPU {fresh[1] * 1000:.0f}); medians of {args.repeat}")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
