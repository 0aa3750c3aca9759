"""Cost of the live dashboard: its share of a study's wall time, and one redraw of a big study.

1. A study of 200 trials of 50 ms each (10 reported steps of 5 ms) with the dashboard live:
   the time spent in dashboard updates over the run's wall time (target < 5 %). Run first, in
   a fresh process, so that the dashboard's first drawing pays matplotlib's warm-up; the
   same run without the dashboard gives the CPU it costs.
2. One redraw of a study of 2000 trials with 20 reported steps each (target < 300 ms): a live
   update (figure, PNG, JSON document and its serialisation), and ``plot(study)`` saved as a
   PNG (a new Figure each time, as ``%tune_plot`` does).
3. A live study of 5000 quick trials (``--live-big``, ``--pairs`` runs each way, alternated):
   wall and CPU time with the dashboard against without (target: under 5 % more wall time),
   the largest update sent and the longest gap between updates (the document of a live update
   is a bounded sample of the study). The extra CPU over the wall time without is what the
   dashboard would add on an idle machine. Only this part: ``--only live-big``.
4. Every analysis plot of the 2000-trial study drawn to PNG (target < 300 ms of CPU each).
5. Importances: PED-ANOVA and fANOVA against Optuna's evaluators on the same trials (Spearman
   rank correlation; needs ``optuna``).

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
from hpt_magic.display import (
    MIME,
    Dashboard,
    plot,
    plot_compare,
    plot_contour,
    plot_edf,
    plot_importances,
    plot_parallel_coordinates,
    plot_slice,
    plot_timeline,
)
from hpt_magic.visualization._importance import fanova, ped_anova


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


class SizedOutput:
    """Serialises each bundle as a kernel does; keeps the largest size and the longest gap."""

    def __init__(self) -> None:
        self.largest, self.longest, self.last = 0, 0.0, time.perf_counter()

    def __call__(self, bundle) -> None:
        size = len(json.dumps(bundle, allow_nan=False))
        now = time.perf_counter()
        if bundle[MIME]["progress"]["status"] == "running":  # the final update sends all
            self.largest = max(self.largest, size)
        self.longest = max(self.longest, now - self.last)
        self.last = now


def quick(trial):
    x = tune.trial.params
    value = 0.0
    for step in range(5):
        value = (1 - abs(math.log10(x["lr"]) + 2) / 4) * (1 - math.exp(-(step + 1) / 3))
        tune.report(value, step)
    time.sleep(0.004)
    return value


def live_big(n_trials: int, pairs: int) -> None:
    """Wall and CPU time of a quick study with and without the live dashboard, run in
    alternation (``pairs`` times each, medians compared: the machine's load drifts)."""
    runs: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    largest = longest = 0.0
    updates, images = [], []
    for show in (False, True) * pairs:
        study = Study(space=space(), direction="maximize", seed=0)
        out = SizedOutput()
        cpu, wall = time.process_time(), time.perf_counter()
        dash = Dashboard(study, n_trials=n_trials, output=out) if show else None
        study.optimize(quick, n_trials=n_trials)
        if dash is not None:
            dash.close()
        runs[show].append((time.perf_counter() - wall, time.process_time() - cpu))
        if show:
            largest, longest = max(largest, out.largest), max(longest, out.longest)
            updates.append(dash.updates)
            images.append(dash.drawings)
    print(f"live study of {n_trials} trials of ~5 ms, {pairs} runs each way in alternation "
          f"(load {os.getloadavg()[0]:.1f}):")
    reference = statistics.median(r[0] for r in runs[False])
    for label, i in (("wall", 0), ("CPU", 1)):
        base = [r[i] for r in runs[False]]
        live = [r[i] for r in runs[True]]
        b, m = statistics.median(base), statistics.median(live)
        print(f"  {label:4s} without / with the dashboard (s): "
              f"{' '.join(f'{x:.2f}' for x in base)} / {' '.join(f'{x:.2f}' for x in live)}; "
              f"medians {b:.2f} / {m:.2f}: {m - b:+.2f} s = {100 * (m - b) / reference:+.1f} "
              f"% of the wall time without")
    print(f"  largest live update {largest / 1e3:.0f} kB, longest gap between updates "
          f"{longest:.2f} s, updates per run {updates}, images {images}")


def analysis_plots(study: Study, repeat: int) -> None:
    plot_importances(study)  # imports scikit-learn and scipy once, outside the timings
    plot_contour(study, "lr", "depth")
    plots = {"parallel": lambda: plot_parallel_coordinates(study),
             "contour": lambda: plot_contour(study, "lr", "depth"),
             "slice": lambda: plot_slice(study),
             "importance ped-anova": lambda: plot_importances(study),
             "importance fanova": lambda: plot_importances(study, "fanova"),
             "edf": lambda: plot_edf(study),
             "timeline": lambda: plot_timeline(study),
             "compare (2 studies)": lambda: plot_compare([study, study])}
    cells = []
    for name, draw in plots.items():
        _, cpu = timed(lambda draw=draw: draw().savefig(io.BytesIO(), format="png"), repeat)
        cells.append(f"{name} {cpu * 1000:.0f}")
    print(f"analysis plots of {len(study.trials)} trials to PNG, CPU ms (median of {repeat}): "
          + ", ".join(cells))


def importance_agreement(n_trials: int) -> None:
    """Spearman correlation of our importances with Optuna's on the same trials."""
    try:
        import optuna
        from optuna.importance import FanovaImportanceEvaluator, PedAnovaImportanceEvaluator
    except ImportError:
        print("importance agreement: optuna is not installed (pip install optuna)")
        return
    from scipy.stats import spearmanr

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rng = np.random.default_rng(1)
    weights = {"a": 4.0, "b": 2.0, "c": 1.0, "d": 0.3, "e": 0.0}
    rows = []
    for seed in range(5):
        study = Study(space={n: Float(0, 1) for n in weights}, seed=seed)
        ostudy = optuna.create_study()
        centre = rng.random(len(weights))
        for _ in range(n_trials):
            trial = study.ask()
            x = {n: trial.suggest(n, Float(0, 1)) for n in weights}
            value = sum(w * (x[n] - c) ** 2 for (n, w), c in zip(weights.items(), centre))
            study.tell(trial, value=value)
            ostudy.add_trial(optuna.trial.create_trial(
                params=x, distributions={n: optuna.distributions.FloatDistribution(0, 1)
                                         for n in weights}, value=value))
        names = list(weights)
        ours_ped = ped_anova(study)
        ours_fan = fanova(study)
        theirs_ped = optuna.importance.get_param_importances(
            ostudy, evaluator=PedAnovaImportanceEvaluator())
        theirs_fan = optuna.importance.get_param_importances(
            ostudy, evaluator=FanovaImportanceEvaluator(seed=0))
        rows.append((
            spearmanr([ours_ped[n][0] for n in names], [theirs_ped[n] for n in names])[0],
            spearmanr([ours_fan[n][0] for n in names], [theirs_fan[n] for n in names])[0],
            list(ours_fan)[:3] == sorted(names, key=lambda n: -theirs_fan[n])[:3]))
    ped_r, fan_r, top3 = zip(*rows)
    print(f"importances vs optuna {optuna.__version__} ({len(rows)} studies of {n_trials} "
          f"trials, 5 parameters of known weights): Spearman PED-ANOVA mean "
          f"{statistics.mean(ped_r):.2f} (min {min(ped_r):.2f}), fANOVA mean "
          f"{statistics.mean(fan_r):.2f} (min {min(fan_r):.2f}); fANOVA top 3 equal in "
          f"{sum(top3)}/{len(top3)}")


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
    parser.add_argument("--live-big", type=int, default=5000)
    parser.add_argument("--pairs", type=int, default=3,
                        help="runs with and without the dashboard in part 3")
    parser.add_argument("--only", choices=["share", "big", "live-big", "plots", "importance"])
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    if args.only in (None, "share"):
        share(args)
    study = big_study(args.big, args.steps) if args.only in (None, "big", "plots") else None
    if args.only in (None, "big"):
        big(args, study)
    if args.only in (None, "plots"):
        analysis_plots(study, args.repeat)
    if args.only in (None, "live-big"):
        live_big(args.live_big, args.pairs)
    if args.only in (None, "importance"):
        importance_agreement(200)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


def share(args) -> None:
    run_share(5, show=False)  # warm the engine up, not the drawing
    wall, cpu, dash = run_share(args.trials, show=True)
    base_wall, base_cpu, _ = run_share(args.trials, show=False)
    print(f"{args.trials} trials of 50 ms, live dashboard: wall {wall:.2f} s (without it "
          f"{base_wall:.2f} s); {dash.updates} updates took {dash.seconds * 1000:.0f} ms = "
          f"{100 * dash.seconds / wall:.1f} % of the wall time, of which {dash.drawings} "
          f"drawings {dash.drawing_seconds * 1000:.0f} ms = "
          f"{100 * dash.drawing_seconds / wall:.1f} %; CPU with/without {cpu:.2f}/"
          f"{base_cpu:.2f} s = {100 * (cpu - base_cpu) / wall:.1f} % of the wall time")



def big(args, study: Study) -> None:
    dash = Dashboard(study, output=kernel_output)
    first = timed(lambda: kernel_output(dash.bundle()), 1)
    update = timed(lambda: kernel_output(dash.bundle()), args.repeat)
    fresh = timed(lambda: plot(study).savefig(io.BytesIO(), format="png"), args.repeat)
    print(f"{args.big} trials x {args.steps} steps: live update (PNG + JSON) "
          f"{update[0] * 1000:.0f} ms (CPU {update[1] * 1000:.0f}), the first one "
          f"{first[0] * 1000:.0f} ms (CPU {first[1] * 1000:.0f}); plot(study) to PNG "
          f"{fresh[0] * 1000:.0f} ms (CPU {fresh[1] * 1000:.0f}); medians of {args.repeat}")


if __name__ == "__main__":
    main()
