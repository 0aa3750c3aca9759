"""The same measurements on two versions of hpt_magic, side by side, in one run.

Each measurement runs in a fresh process per version (``PYTHONPATH`` points at that version's
tree); the versions alternate and each figure is the median of ``--repeat`` runs, so a busy
machine slows both alike. Times are CPU seconds of the process (``time.process_time``) unless
the row says wall; each probe first runs a small warm-up study, so that modules a version
imports on first use (rather than on ``import hpt_magic``) do not count as per-trial cost.

Run: ``.venv/bin/python benchmarks/before_after.py --before REV [--after .]``
(``REV`` is a git revision; it is checked out into a temporary worktree).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Each probe prints one JSON object. It uses only the public API that both versions share.
PROBES = {
    "engine": """
import json, os, sys, tempfile, time
from hpt_magic import Float, Int, Study, tune
N = int(sys.argv[1])
def fixed(trial):
    return trial.params["x"] + trial.params["n"]
def dbr(trial):
    x = tune.uniform(0, 1, name="x"); n = tune.int(1, 10, name="n")
    tune.report(x, 0)
    return x + n
out = {}
# Warm up: what a version imports on first use is not a per-trial cost.
Study(space={"x": Float(0, 1), "n": Int(1, 10)}, seed=0).optimize(fixed, n_trials=50)
Study(seed=0).optimize(dbr, n_trials=50)
with tempfile.TemporaryDirectory() as tmp:
    for label, storage, objective in [
            ("memory, fixed space", None, fixed), ("memory, define-by-run + report", None, dbr),
            ("SQLite, fixed space", os.path.join(tmp, "a.db"), fixed),
            ("SQLite, define-by-run + report", os.path.join(tmp, "b.db"), dbr)]:
        space = {"x": Float(0, 1), "n": Int(1, 10)} if objective is fixed else None
        study = Study(space=space, sampler="random", seed=0, storage=storage)
        t0 = time.process_time()
        study.optimize(objective, n_trials=N)
        out[label + " (ms/trial)"] = (time.process_time() - t0) / N * 1000
print(json.dumps(out))
""",
    "samplers": """
import json, sys, time, hashlib
from hpt_magic import Float, Int, Choice, Study
N = int(sys.argv[1])
space = {"x": Float(-5, 10), "y": Float(1e-3, 1, log=True), "n": Int(1, 64, log=True),
         "c": Choice(["a", "b", "c"])}
def f(t):
    p = t.params
    return (p["x"] - 1) ** 2 + (p["y"] - 0.1) ** 2 + abs(p["n"] - 8) + (p["c"] != "b")
out = {}
for sampler in ("tpe", "gp"):  # warm up: first-use imports are not a per-trial cost
    Study(space=space, sampler=sampler, seed=1).optimize(f, n_trials=15)
for sampler, n in (("tpe", N), ("gp", min(N, 60))):
    study = Study(space=space, sampler=sampler, seed=0)
    t0 = time.process_time()
    study.optimize(f, n_trials=n)
    out[f"{sampler}: ms/trial over {n} trials"] = (time.process_time() - t0) / n * 1000
    out[f"{sampler}: best after {n}"] = study.best_value
    trials = repr([(t.number, sorted(t.params.items())) for t in study.trials])
    out[f"{sampler}: trials digest"] = hashlib.sha1(trials.encode()).hexdigest()[:10]
print(json.dumps(out))
""",
    "parallel": """
import json, sys, time
from hpt_magic import Float, Study, tune
N = int(sys.argv[1])
def trivial(trial):
    tune.report(trial.params["x"], 0)
    return trial.params["x"]
def sleeping(trial):
    time.sleep(0.25)
    return trial.params["x"]
out = {}
study = Study(space={"x": Float(0, 1)}, seed=0)
t0 = time.process_time()
study.optimize(trivial, n_trials=N, n_jobs=2)
out["n_jobs 2, trivial trials: kernel CPU ms/trial"] = (time.process_time() - t0) / N * 1000
study = Study(space={"x": Float(0, 1)}, seed=0)
t0 = time.perf_counter()
study.optimize(sleeping, n_trials=16, n_jobs=4)
out["n_jobs 4, 16 trials of 0.25 s: wall s (start-up included)"] = time.perf_counter() - t0
print(json.dumps(out))
""",
}


def measure(tree: Path, probe: str, arg: int) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(tree), OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    result = subprocess.run([sys.executable, "-c", PROBES[probe], str(arg)], env=env,
                            capture_output=True, text=True, cwd=tempfile.gettempdir())
    if result.returncode != 0:
        raise SystemExit(f"{probe} failed on {tree}:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", required=True, help="git revision of the earlier version")
    ap.add_argument("--after", default=str(ROOT), help="tree of the later version")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--trials", type=int, default=1000, help="trials of the engine probe")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        before = Path(tmp) / "before"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach",
                        str(before), args.before], check=True)
        try:
            trees = {"before": before, "after": Path(args.after)}
            for probe, arg in (("engine", args.trials), ("samplers", 300), ("parallel", 400)):
                runs: dict[str, list[dict[str, float]]] = {k: [] for k in trees}
                for _ in range(args.repeat):
                    for label, tree in trees.items():
                        runs[label].append(measure(tree, probe, arg))
                print(f"\n{probe} (median of {args.repeat})")
                print(f"  {'':<58} {'before':>10} {'after':>10}")
                for key in runs["before"][0]:
                    cells = []
                    for label in trees:
                        values = [r[key] for r in runs[label]]
                        if isinstance(values[0], str):
                            cells.append(values[0])
                        else:
                            cells.append(f"{statistics.median(values):.4g}")
                    print(f"  {key:<58} {cells[0]:>10} {cells[1]:>10}")
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(before)], check=False)


if __name__ == "__main__":
    main()
