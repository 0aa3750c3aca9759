"""A study of many quick trials in SQLite: time to run, to reopen and to summarise, against n.

Random sampler, a fixed space of two parameters, a trivial objective with one report per trial.
Each size runs in a fresh SQLite file; times are CPU seconds of this process (steadier than
wall time on a shared machine; ``--clock wall`` for wall time). The last column is the time
per trial of each step, which stays flat when no step grows faster than linearly.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/scale.py [--sizes 1000,10000,100000]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from hpt_magic import Float, Int, Study, load_study, tune


def objective(trial):
    tune.report(trial.params["x"], 0)
    return trial.params["x"] + trial.params["n"]


def measure(n: int, path: str, clock) -> dict[str, float]:
    study = Study(space={"x": Float(0, 1), "n": Int(1, 10)}, sampler="random", seed=0,
                  name="scale", storage=path)
    t0 = clock()
    study.optimize(objective, n_trials=n)
    t1 = clock()
    reopened = load_study("scale", path)
    t2 = clock()
    text = reopened.summary()
    t3 = clock()
    assert len(reopened.trials) == n and text
    return {"run": t1 - t0, "reopen": t2 - t1, "summary": t3 - t2}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,3000,10000,30000,100000")
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu")
    args = parser.parse_args()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    print(f"random sampler, SQLite, one report per trial; {args.clock} seconds "
          "(and µs per trial)")
    print(f"{'trials':>8} | {'run':>16} | {'reopen':>16} | {'summary':>16}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            row = measure(n, os.path.join(tmp, f"{n}.db"), clock)
            cells = [f"{row[k]:7.2f} ({row[k] / n * 1e6:5.0f})" for k in ("run", "reopen",
                                                                          "summary")]
            print(f"{n:>8} | " + " | ".join(f"{c:>16}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
