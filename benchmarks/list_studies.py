"""``list_studies`` (``%tune_list``) on a study file of constrained and multi-objective studies.

Each size writes, once, an SQLite file with three studies of n trials: one objective under a
constraint, two objectives under a constraint, and one plain objective; every trial reports
two steps. The constrained best and the Pareto front are what ``list_studies`` computes beyond
the storage's own summary. Times are the median of ``--repeat`` calls, in CPU seconds of this
process (``--clock wall`` for wall time).

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/list_studies.py [--sizes 1000,10000]
[--dir DIR]`` (``--dir`` keeps the files, so that another checkout can time the same ones).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from hpt_magic import Float, Study, tune
from hpt_magic.study._export import list_studies


def _curve(x: float) -> None:
    tune.report(x / 2, 0)
    tune.report(x, 1)


def single(trial):
    x = trial.params["x"]
    _curve(x)
    return {"acc": x, "mem": x}


def multi(trial):
    x = trial.params["x"]
    _curve(x)
    return {"acc": x, "ms": x * x, "mem": 1 - x}


def plain(trial):
    _curve(trial.params["x"])
    return trial.params["x"]


def build(path: str, n: int) -> None:
    """The three studies of ``n`` trials each, unless the file has them already."""
    if os.path.exists(path):
        return
    space = {"x": Float(0, 1), "y": Float(0, 1)}
    Study(space=space, direction="max", objectives=["acc"], constraints=["mem <= 0.5"],
          storage=path, name="single", sampler="random", seed=0).optimize(single, n_trials=n)
    Study(space=space, directions=["max", "min"], objectives=["acc", "ms"],
          constraints=["mem <= 0.5"], storage=path, name="multi", sampler="random",
          seed=0).optimize(multi, n_trials=n)
    Study(space=space, storage=path, name="plain", sampler="random",
          seed=0).optimize(plain, n_trials=n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dir", default=None)
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu")
    args = parser.parse_args()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    with tempfile.TemporaryDirectory() as tmp:
        where = args.dir or tmp
        os.makedirs(where, exist_ok=True)
        print(f"list_studies, 3 studies of n trials each; median {args.clock} seconds of "
              f"{args.repeat} calls")
        for n in (int(s) for s in args.sizes.split(",")):
            path = os.path.join(where, f"list-{n}.db")
            build(path, n)
            times = []
            for _ in range(args.repeat):
                t0 = clock()
                rows = list_studies(path)
                times.append(clock() - t0)
            front = len(next(r for r in rows if r["name"] == "multi")["front"])
            print(f"{n:>8} trials: {statistics.median(times) * 1e3:8.1f} ms "
                  f"(front of {front}, best {rows[0]['best_value']:.4f})", flush=True)


if __name__ == "__main__":
    main()
