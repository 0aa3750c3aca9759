"""The Pareto front of three objectives, as a live study document finds it at every update.

For n trials: ``pareto_mask`` of uniform random losses (a small front) and of points near a
trade-off surface (a tenth of them on it), ``pareto_front`` of a study of those points, and
the study document of that study as a live update builds it (at most 2000 trials, 50 curve
points). Median CPU milliseconds of ``--repeat`` calls (``--clock wall`` for wall time).

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/pareto_front.py [--sizes 1000,5000]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial

import numpy as np

from hpt_magic import Float, Study
from hpt_magic._pareto import pareto_front, pareto_mask
from hpt_magic.visualization._document import document


def surface(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` losses of three objectives: a tenth on the plane where they sum to 1 (none
    dominates another there), the rest moved away from it (dominated)."""
    points = rng.random((n, 3))
    points /= points.sum(axis=1, keepdims=True)
    points[n // 10:] += rng.random((n - n // 10, 1)) * 0.5 + 0.01
    return points


def median_ms(fn: Callable[[], object], repeat: int, clock: Callable[[], float]) -> float:
    times = []
    for _ in range(repeat):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,5000")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu")
    args = parser.parse_args()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    print(f"three objectives; median {args.clock} ms of {args.repeat} calls")
    for n in (int(s) for s in args.sizes.split(",")):
        rng = np.random.default_rng(0)
        uniform, near = rng.random((n, 3)), surface(n, rng)
        study = Study(space={"x": Float(0, 1)}, directions=["min"] * 3,
                      objectives=["a", "b", "c"])
        for a, b, c in near.tolist():
            study.tell(study.ask(), {"a": a, "b": b, "c": c})
        cells = {
            f"mask, uniform (front {pareto_mask(uniform).sum()})": partial(pareto_mask, uniform),
            f"mask, surface (front {pareto_mask(near).sum()})": partial(pareto_mask, near),
            "pareto_front": partial(pareto_front, study.trials, study.directions),
            "document": partial(document, study, max_trials=2000, max_curve_points=50),
        }
        print(f"{n:>6} trials: " + ", ".join(
            f"{name} {median_ms(fn, args.repeat, clock):.1f}" for name, fn in cells.items()),
            flush=True)


if __name__ == "__main__":
    main()
