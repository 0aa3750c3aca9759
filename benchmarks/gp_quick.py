"""Quick check of the ``gp`` sampler against its closest peers: regret and optimizer CPU time.

A development tool next to ``regret.py`` (the full comparison): it can pass options to the
sampler, and times in CPU seconds of this process, which a busy machine disturbs less::

    python benchmarks/gp_quick.py --seeds 3 --peers gp,gp:acquisition=ucb,optuna-gp
    python benchmarks/gp_quick.py --timing --trials 200 --peers gp,optuna-gp

A peer is ``NAME[:key=value...]`` for an hpt_magic sampler, or a name from
``regret.OPTIMIZERS`` (``optuna-gp``, ``skopt-gp``...).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import regret  # noqa: E402
from _functions import PROBLEMS, Param  # noqa: E402


def _parse(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def run_hpt(spec: str, space: list[Param], f, n_trials: int, seed: int):
    """Values and optimizer CPU seconds per trial for ``NAME[:key=value...]``."""
    name, *options = spec.split(":")
    kwargs = {k: _parse(v) for k, v in (o.split("=", 1) for o in options)}
    return regret._run_hpt(name, space, f, n_trials, seed, time.process_time, **kwargs)


def run_any(peer: str, space: list[Param], f, n_trials: int, seed: int):
    """Run one optimizer, timed in CPU seconds of this process."""
    if peer in regret.OPTIMIZERS and not peer.startswith("hpt-"):
        return regret.run(peer, space, f, n_trials, seed, clock="cpu")
    return run_hpt(peer, space, f, n_trials, seed)


def regrets(args: argparse.Namespace) -> None:
    for fname in args.functions.split(","):
        problem = PROBLEMS[fname]
        for peer in args.peers.split(","):
            logs, ms = [], []
            for seed in range(args.seeds):
                values, times = run_any(peer, problem.space, problem.f, args.trials, seed)
                logs.append(math.log10(max(min(values) - problem.optimum, 1e-12)))
                ms.append(1e3 * np.mean(times[-10:]))
            print(f"{fname:12s} {peer:28s} median log10 regret {np.median(logs):6.2f}  "
                  f"[{' '.join(f'{r:.1f}' for r in logs)}]  ms/trial (last 10) "
                  f"{np.mean(ms):5.0f}", flush=True)


def timing(args: argparse.Namespace) -> None:
    """Optimizer time per ask+tell around trials 50, 100 and 200 (6-D floats, cheap f)."""
    space = [Param(f"x{i}", "float", 0.0, 1.0) for i in range(6)]

    def sphere(p: dict[str, Any]) -> float:
        return float(sum((v - 0.3) ** 2 for v in p.values()))

    marks = [m for m in (50, 100, 200) if m <= args.trials]
    for peer in args.peers.split(","):
        _, times = run_any(peer, space, sphere, args.trials, 0)
        print(f"{peer:28s}", "  ".join(
            f"trial {m}: {1e3 * np.mean(times[m - 5:m]):6.1f} ms" for m in marks), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--functions", default=",".join(PROBLEMS))
    ap.add_argument("--peers", default="gp,optuna-gp")
    ap.add_argument("--timing", action="store_true", help="time per trial instead of regret")
    args = ap.parse_args()
    (timing if args.timing else regrets)(args)


if __name__ == "__main__":
    main()
