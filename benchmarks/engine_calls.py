"""Python function calls per trial of the engine: a deterministic measure of its cost.

Timings of a tenth of a millisecond swing by tens of percent on a shared machine; the number of
calls does not. Random sampler, the objectives of ``engine_overhead.py``, 1000 trials after 100
of warm-up.

Run: ``.venv/bin/python benchmarks/engine_calls.py`` (``PYTHONPATH=<tree>`` for another version).
"""

from __future__ import annotations

import cProfile
import os
import pstats
import tempfile

from engine_overhead import define_by_run, fixed_space

from hpt_magic import Float, Int, Study


def calls_per_trial(storage: str | None, objective, n_trials: int = 1000) -> float:
    space = {"x": Float(0, 1), "n": Int(1, 10)} if objective is fixed_space else None
    study = Study(space=space, sampler="random", seed=0, storage=storage)
    study.optimize(objective, n_trials=100)
    profile = cProfile.Profile()
    profile.enable()
    study.optimize(objective, n_trials=n_trials)
    profile.disable()
    return pstats.Stats(profile).total_calls / n_trials


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for label, storage, objective in [
                ("memory, fixed space", None, fixed_space),
                ("memory, define-by-run + report", None, define_by_run),
                ("SQLite, fixed space", os.path.join(tmp, "a.db"), fixed_space),
                ("SQLite, define-by-run + report", os.path.join(tmp, "b.db"), define_by_run)]:
            print(f"{label:32s} {calls_per_trial(storage, objective):7.1f} calls/trial")


if __name__ == "__main__":
    main()
