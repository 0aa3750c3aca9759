"""The IPython front end: ``%%tune``, ``%tune_plot`` and ``%tune_list``."""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import sys
import threading
from collections.abc import Sequence
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display

from .._signals import hold_interrupts
from ..exceptions import TuneError
from ..executors._tune import tune
from ..integration._loggers import make_logger
from ..study._export import list_studies
from ..study._lifecycle import RunInfo, optimize, start_background
from ..study._storage import DEFAULT_STORAGE, InMemoryStorage, make_storage
from ..study._study import Study, load_study
from ..trial import TrialState
from ..visualization._summary import summary_bundle
from ._cell import CellObjective, cell_hash, parse_cell
from ._output import show
from ._widget_space import literal_space

__all__ = ["TuneMagics", "load_ipython_extension"]

DEFAULT_TRIALS = 20


def _patience(text: str) -> int | str:
    """``--patience N`` or ``--patience auto``."""
    return "auto" if text.strip().strip("'\"") == "auto" else int(text)


def _unquote(text: str) -> str:
    """Strip one pair of matching outer quotes, which IPython's option parser leaves on."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _parse_kv(text: str | None, option: str) -> dict[str, Any]:
    """``'a=1,b=x'`` -> ``{'a': 1, 'b': 'x'}`` (values parsed as JSON when they can be)."""
    out: dict[str, Any] = {}
    if not text:
        return out
    for part in text.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise TuneError(f"{option} expects 'key=value,...', got {part.strip()!r}. Example: "
                            f"{option} 'reduction_factor=3,min_resource=1'.")
        key, value = (s.strip() for s in part.split("=", 1))
        try:
            out[key.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            out[key.replace("-", "_")] = value
    return out


class _Maximize(argparse.Action):
    """``--maximize [NAME]``: appends ``(name or None, direction)`` to ``args.objectives``,
    keeping the order of the line (it is the order of the objectives)."""

    direction = "maximize"

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        found = list(getattr(namespace, self.dest, None) or [])
        found.append((values or None, self.direction))
        setattr(namespace, self.dest, found)


class _Minimize(_Maximize):
    direction = "minimize"


def objectives_of(args: Any) -> dict[str, Any]:
    """The ``Study`` arguments that ``--maximize/--minimize [NAME]``, ``--directions`` and
    ``--constraint`` ask for.

    >>> from types import SimpleNamespace as NS
    >>> objectives_of(NS(objectives=[("acc", "maximize"), ("ms", "minimize")], directions=None,
    ...                  constraint=["size <= 20"]))
    {'directions': ['maximize', 'minimize'], 'objectives': ['acc', 'ms'], 'constraints': \
['size <= 20']}
    """
    given = args.objectives or []
    named = [(n, d) for n, d in given if n]
    out: dict[str, Any] = {}
    if args.directions:
        if given:
            raise TuneError("Give the objectives either as --directions max,min (a tuple result) "
                            "or as --maximize NAME / --minimize NAME (a dict result), not both.")
        out["directions"] = [d.strip() for d in args.directions.split(",") if d.strip()]
    elif named:
        if len(named) != len(given):
            raise TuneError("Name every objective (--maximize accuracy --minimize latency_ms) "
                            "or none (a bare --maximize or --minimize for one score).")
        names = [n for n, _ in named]
        if len(set(names)) != len(names):
            raise TuneError(f"The objectives {names} name one twice. Give each --maximize / "
                            "--minimize its own key.")
        out.update(directions=[d for _, d in named], objectives=names)
    else:
        out["direction"] = given[-1][1] if given else "minimize"
    if args.constraint:
        out["constraints"] = list(args.constraint)
    return out


@magics_class
class TuneMagics(Magics):
    """``%%tune``: the cell body is the objective; ``tune.*`` calls define the search space.

    One instance per shell (``%load_ext hpt_magic``); it owns the kernel's in-memory storage,
    so ``--storage memory`` studies continue from cell to cell.
    """

    def __init__(self, shell: Any = None) -> None:
        super().__init__(shell)
        self.memory = InMemoryStorage()
        #: The thread importing what the first run needs (:func:`preload`), once loaded.
        self.preload: threading.Thread | None = None

    @magic_arguments()
    @argument("--trials", "-n", type=int, default=None,
              help=f"Trials to add (default {DEFAULT_TRIALS}; grid: until exhausted).")
    @argument("--timeout", type=float, default=None, help="Stop after this many seconds.")
    @argument("--sampler", default=None,
              help="random, grid, tpe, gp, ... (default: auto, chosen from the budget).")
    @argument("--sampler-args", default=None, help="Sampler options as 'k=v,...'.")
    @argument("--maximize", dest="objectives", action=_Maximize,
              nargs="?", metavar="NAME",
              help="Higher is better. With NAME (repeatable): an objective, a key of the dict "
                   "the cell ends with; several make a multi-objective study.")
    @argument("--minimize", dest="objectives", action=_Minimize,
              nargs="?", metavar="NAME",
              help="Lower is better (the default). With NAME: an objective, as --maximize.")
    @argument("--directions", default=None,
              help="One direction per value of a tuple the cell ends with, e.g. max,min.")
    @argument("--constraint", action="append", default=[],
              help="A bound on a returned metric, 'NAME <= NUMBER' or 'NAME >= NUMBER' "
                   "(repeatable); trials that break one stay off the Pareto front.")
    @argument("--pick", default=None,
              help="Multi-objective: keep the variables of the front trial best in this "
                   "objective (default: the first).")
    @argument("--study", default=None,
              help="Study name; re-running continues it (default: named after the cell).")
    @argument("--storage", default=None,
              help=f"SQLite file of the studies (default {DEFAULT_STORAGE}, or the "
                   "HPT_MAGIC_STORAGE environment variable); 'memory' keeps the study in this "
                   "kernel only.")
    @argument("--new", action="store_true",
              help="Start the study afresh (earlier trials are kept under a renamed study).")
    @argument("--seed", type=int, default=None, help="Seed of the sampler.")
    @argument("--out", default="study", help="Variable that receives the study (default study).")
    @argument("--catch", dest="catch", action="store_true", default=True,
              help="Record failing trials and go on (the default).")
    @argument("--no-catch", dest="catch", action="store_false",
              help="Stop at the first failing trial and show its error.")
    @argument("--quiet", "-q", action="store_true", help="Show only the final summary.")
    @argument("--plot", choices=("none", "final", "live"), default="live",
              help="Dashboard: live (default), final only, or none.")
    @argument("--background", action="store_true",
              help="Run in a thread; the cell returns at once (study.wait(), study.stop()).")
    @argument("--scheduler", default=None,
              help="Early stopping: early-stop, median, asha, hyperband, bohb, pbt.")
    @argument("--scheduler-args", default=None, help="Scheduler options as 'k=v,...'.")
    @argument("--max-steps", type=int, default=None, help="The full resource (e.g. epochs).")
    @argument("--manual", action="store_true",
              help="Tune by hand with sliders; every run is a trial of the study.")
    @argument("--enqueue", action="append", default=[],
              help="A JSON dict of parameters to try first (repeatable).")
    @argument("--jobs", type=int, default=1, help="Local worker processes (-1: all cores).")
    @argument("--trial-timeout", type=float, default=None,
              help="Stop a trial after this many seconds (recorded failed, the study goes on).")
    @argument("--patience", type=_patience, default=None,
              help="Stop when the best score has not improved in this many trials; 'auto': "
                   "when the remaining regret is below the score's noise "
                   "(tune.report_noise).")
    @argument("--min-improvement", type=float, default=0.0,
              help="With --patience: the least change that counts as an improvement.")
    @argument("--on-repeat", choices=("reuse", "skip", "run"), default="reuse",
              help="A proposal repeating a complete trial: reuse its score without running "
                   "the cell (default, not counted in --trials), skip it (ask the sampler "
                   "for another point), or run it (noisy scores).")
    @argument("--warm-start", default=None,
              help="Start from another study: its best values become priors, its best "
                   "configurations run first (a new study).")
    @argument("--warm-start-storage", default=None,
              help="The file of the --warm-start study (default: --storage).")
    @argument("--no-retry-orphans", dest="retry_orphans", action="store_false", default=True,
              help="Do not re-run the trials a dead kernel left running (they are marked "
                   "interrupted either way).")
    @argument("--retries", type=int, default=0,
              help="With --jobs/--dask: run a trial again if its worker process died.")
    @argument("--dask", default=None,
              help="Dask scheduler address, or local:N for a LocalCluster of N workers.")
    @argument("--log", action="append", default=[],
              help="Log trials to mlflow or tensorboard (repeatable).")
    @argument("--log-args", default=None,
              help="Logger options as 'k=v,...' (tracking_uri, experiment, logdir, metric).")
    @cell_magic
    def tune(self, line: str, cell: str) -> None:
        """Tune the hyperparameters of the cell body.

        Parameters are written inline (``lr = tune.loguniform(1e-4, 1e-1)``), the last
        expression is the score, ``tune.report(value)`` records learning curves. Without
        ``%%tune`` the same cell runs as plain Python on the defaults.
        """
        try:
            args = parse_argstring(self.tune, line)
        except UsageError as exc:
            raise UsageError(f"{exc}\nSee %%tune? for the options.") from None
        for key, value in vars(args).items():
            if isinstance(value, str):
                setattr(args, key, _unquote(value))
            elif isinstance(value, list):
                setattr(args, key, [_unquote(v) for v in value])
        try:
            self._tune(args, cell)
        except TuneError as exc:
            raise UsageError(str(exc)) from None

    def _tune(self, args: Any, cell: str) -> None:
        ns = self.shell.user_ns
        out = args.out
        if not out.isidentifier():
            raise TuneError(f"--out {out!r} is not a valid variable name. Use e.g. --out study.")
        if out in ns and not isinstance(ns[out], Study):
            raise TuneError(
                f"--out {out}: the notebook variable {out!r} is a {type(ns[out]).__name__}, "
                f"and %%tune would overwrite it with the study. Pick another name with --out.")
        if args.timeout is not None and not (math.isfinite(args.timeout) and args.timeout > 0):
            raise TuneError(f"--timeout must be a positive number of seconds, got "
                            f"{args.timeout!r}. Example: --timeout 60.")
        points = [_enqueued(text) for text in args.enqueue]
        program = parse_cell(cell, out_name=out)
        if args.scheduler and args.scheduler.lower() != "none" and not program.reports:
            print(f"Note: --scheduler {args.scheduler} has nothing to act on: this cell never "
                  "calls tune.report or tune.steps, so every trial runs to its end.",
                  file=sys.stderr)
        if args.jobs != 1 and not args.dask:
            # The forkserver boots while the study opens and its first trials are sampled.
            from ..executors._processes import prestart

            prestart()
        import_run_modules(args)
        study = self._study(args, cell, program)
        ns[out] = study
        for params in points:
            unknown = [n for n in params
                       if n not in program.param_names and n not in study.search_space()]
            if unknown:
                # Only a warning: a function the cell calls may define parameters too.
                print(f"Note: --enqueue names {unknown}, which this cell does not define (it "
                      f"defines {program.param_names}): check the spelling.", file=sys.stderr)
            study.enqueue(params)
        parallel = args.jobs != 1 or bool(args.dask)
        objective = CellObjective(program, ns, keep=not parallel)
        if parallel:
            objective = objective.shippable()
        log_args = _parse_kv(args.log_args, "--log-args")
        loggers = [make_logger(name, **log_args) for name in args.log]
        unsubscribe = [study.subscribe(logger) for logger in loggers]
        try:
            self._run(args, cell, study, program, objective)
        finally:
            # Manual and background studies keep logging after the cell returns.
            if not (args.background or args.manual):
                for off in unsubscribe:
                    off()

    def _run(self, args: Any, cell: str, study: Study, program: Any,
             objective: CellObjective) -> None:
        ns = self.shell.user_ns
        out = args.out
        if args.manual:
            from ._widget_space import literal_space
            from ._widgets import ManualTuner

            def keep_best(study: Study, trial: Any) -> None:
                best = _best_number(study, args.pick)
                kept = objective.take(best) if best is not None else None
                if kept:
                    ns.update(kept)
                objective.forget(best)

            display(ManualTuner(study, objective, space=literal_space(cell),
                                dashboard=not args.quiet and args.plot != "none",
                                callbacks=[keep_best]))
            return
        n_trials = args.trials
        if n_trials is None and args.timeout is None and study.sampler.name != "grid":
            n_trials = DEFAULT_TRIALS
        _check_pick(study, args.pick)
        callbacks = [_keep_best(objective, args.pick)]
        dashboard = None
        if not args.quiet:
            from ._dashboard import Dashboard

            dashboard = Dashboard(study, n_trials=n_trials, timeout=args.timeout,
                                  mode=args.plot, controls=args.background, table=True)
        run = dict(n_trials=n_trials, timeout=args.timeout, catch=args.catch,
                   callbacks=callbacks, n_jobs=args.jobs, dask=args.dask,
                   retries=args.retries, trial_timeout=args.trial_timeout,
                   patience=args.patience, min_improvement=args.min_improvement,
                   on_repeat=args.on_repeat)
        if args.background:
            handle = display(_Text("running in the background..."), display_id=True)

            def done(info: RunInfo, error: BaseException | None) -> None:
                if dashboard is not None:
                    dashboard.close()
                if handle is not None:
                    handle.update(_summary_bundle(study, info, error, args.pick, dashboard),
                                  raw=True)
            start_background(study, objective, on_done=done, **run)
            return
        info = RunInfo(n_trials, args.timeout)
        error: BaseException | None = None
        try:
            optimize(study, objective, info=info, **run)
        except KeyboardInterrupt:
            pass
        except TuneError:
            raise
        except Exception as exc:
            error = exc
        finally:
            if dashboard is not None:
                dashboard.close()
        best = _best_number(study, args.pick)
        kept = objective.take(best) if best is not None else None
        if kept:
            ns.update(kept)
        ns[out] = study
        show(_summary_bundle(study, info, error, args.pick, dashboard))
        if error is not None:
            raise error

    def _study(self, args: Any, cell: str, program: Any) -> Study:
        objectives = objectives_of(args)
        args.storage = args.storage or default_storage()
        storage = None if args.storage == "memory" else args.storage
        name = args.study or f"cell-{cell_hash(cell)}"
        store = make_storage(storage) if storage else self.memory
        sampler = args.sampler or "auto"
        sampler_args = _parse_kv(args.sampler_args, "--sampler-args")
        if sampler == "auto":
            budget = args.trials if args.trials is not None or args.timeout else DEFAULT_TRIALS
            sampler = _auto_sampler(budget, program.conditional,
                                    multi=len(objectives.get("directions", ())) > 1)
        existing = store.get_study(name) if not args.new else None
        study = Study(sampler=sampler, **objectives, seed=args.seed, name=name,
                      storage=store, scheduler=args.scheduler, max_steps=args.max_steps,
                      new=args.new, sampler_args=sampler_args,
                      scheduler_args=_parse_kv(args.scheduler_args, "--scheduler-args"),
                      retry_orphans=args.retry_orphans)
        # The cell's own definitions, read before it runs: an edited range or choice
        # continues the study, a changed type or scale is refused before anything is stored.
        changes = study.edit_space(literal_space(cell), names=program.param_names)
        warm = None
        if args.warm_start:
            where_from = args.warm_start_storage or store
            warm = study.warm_start(load_study(args.warm_start, where_from))
        if existing is not None and study.trials:
            try:
                best = (f", {len(study.best_trials)} on the Pareto front"
                        if study.is_multi_objective else f", best {study.best_value:.6g}")
            except TuneError:
                best = ""
            first = (f"continuing study {name!r}: {len(study.trials)} earlier trials{best} "
                     "(--new starts afresh)")
            if changes:
                first = f"continuing study {name!r} on an edited space: {'; '.join(changes)}"
        elif args.study:
            first = f"new study {name!r}"
            if study.previous_name:
                first += f" (the earlier one is kept as {study.previous_name!r})"
        else:
            first = (f"new study {name!r}, named after this cell: re-running the unchanged "
                     "cell continues it")
        where = "in memory" if storage is None else f"in {args.storage}"
        if not args.quiet:
            print(f"{first}; sampler {study.sampler.name}, {where}.")
        if warm and not args.quiet:
            print(warm + ".")
        for orphan in study.orphans:
            # Said even with --quiet: the file changed under the user's eyes.
            then = ", re-queued" if study.retry_orphans and orphan.params else ""
            print(f"trial {orphan.number} was running when its kernel died: marked "
                  f"interrupted{then}.")
        return study

    @line_magic
    def tune_plot(self, line: str) -> None:
        """``%tune_plot [study-name] [--kind KIND] [--storage PATH]``: draw a study.

        KIND is ``dashboard`` (the default), ``history``, ``parallel``, ``contour``, ``slice``,
        ``importance``, ``edf`` or ``timeline``.
        """
        from ..visualization._analysis import KINDS, plot_kind
        from ._dashboard import show_dashboard

        parts, options = _options(line, ("--storage", "--kind"))
        kind = options.get("--kind", "dashboard")
        try:
            if kind not in KINDS:
                raise TuneError(f"Unknown plot kind {kind!r}; choose one of "
                                f"{', '.join(KINDS)}.")
            if parts:
                study = self._named_study(parts[0], options.get("--storage"))
            else:
                study = self.shell.user_ns.get("study")
                if not isinstance(study, Study):
                    raise TuneError("No study to plot: run %%tune first, or name one: "
                                    "%tune_plot NAME [--kind KIND] [--storage FILE].")
            if kind == "dashboard":
                show_dashboard(study)
            else:
                display(plot_kind(study, kind))
        except TuneError as exc:
            raise UsageError(str(exc)) from None

    def _named_study(self, name: str, storage: str | None) -> Study:
        """The study in the variable ``name``, else the one stored under that name."""
        obj = self.shell.user_ns.get(name)
        return obj if isinstance(obj, Study) else load_study(name, storage or default_storage())

    @line_magic
    def tune_list(self, line: str) -> None:
        """``%tune_list [PATH]``: the studies stored in a file."""
        path = line.strip() or default_storage()
        try:
            rows = list_studies(path)
        except TuneError as exc:
            raise UsageError(str(exc)) from None
        if not rows:
            print(f"No studies in {path}.")
            return
        width = max(len(r["name"]) for r in rows)
        print(f"{'study':<{width}}  direction  trials  complete  best")
        for r in rows:
            best = "-" if r["best_value"] is None else f"{r['best_value']:.6g}"
            direction = r["direction"]
            if r.get("front") is not None:
                # Several objectives: each one's direction, and the values of the front.
                direction = ",".join(o["direction"][:3] for o in r["objectives"])
                names = ", ".join(o["name"] for o in r["objectives"])
                best = f"front of {len(r['front'])} ({names}): " + "; ".join(
                    "(" + ", ".join(f"{v:.4g}" for v in values) + ")"
                    for values in r["front"][:5]) + ("; ..." if len(r["front"]) > 5 else "")
            print(f"{r['name']:<{width}}  {direction:<9}  {r['n_trials']:>6}  "
                  f"{r['n_complete']:>8}  {best}")

    @line_magic
    def tune_compare(self, line: str) -> None:
        """``%tune_compare A B C [--storage PATH]``: several studies on one Figure (best so far
        and the distribution of their scores); each name is a variable or a stored study."""
        from ..visualization._analysis import plot_compare

        names, options = _options(line, ("--storage",))
        try:
            if not names:
                raise TuneError("Name the studies to compare: %tune_compare A B [C ...] "
                                "[--storage FILE].")
            studies = [self._named_study(n, options.get("--storage")) for n in names]
        except TuneError as exc:
            raise UsageError(str(exc)) from None
        display(plot_compare(studies))


def _options(line: str, names: tuple[str, ...]) -> tuple[list[str], dict[str, str]]:
    """The words of ``line`` and the values of the options ``names`` taken out of them.

    >>> _options("a b --kind edf", ("--kind",))
    (['a', 'b'], {'--kind': 'edf'})
    """
    words, options = line.split(), {}
    for name in names:
        if name in words:
            i = words.index(name)
            if i + 1 >= len(words):
                raise UsageError(f"{name} needs a value.")
            options[name] = words[i + 1]
            words = words[:i] + words[i + 2:]
    return words, options


def _enqueued(text: str) -> dict[str, Any]:
    """The parameters of one ``--enqueue`` option."""
    try:
        params = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TuneError(f"--enqueue {text!r} is not valid JSON ({exc.msg}). Example: "
                        "--enqueue '{\"lr\": 0.01}'.") from None
    if not isinstance(params, dict) or not params:
        raise TuneError(f"--enqueue {text!r} is not a JSON object of parameter values. "
                        "Example: --enqueue '{\"lr\": 0.01}'.")
    return params


def import_run_modules(args: Any) -> None:
    """Import what a run of ``%%tune`` loads on its way, before anything can be interrupted.

    A Kernel > Interrupt that lands while matplotlib (or ipywidgets, distributed) is being
    imported leaves half-initialised modules in ``sys.modules``, and every later run of the
    kernel fails on them (``KeyError: 'Rectangle:kwdoc'``) until a restart. The imports run
    with the interrupt held back; it is raised once they are complete. matplotlib is not
    among them: the dashboard imports it, held likewise, for its first image, after the first
    trial (and :func:`preload` has usually imported it by then, where no interrupt lands).
    """
    names = ["hpt_magic.notebook._dashboard"]
    if args.manual or args.background:  # their panel, their Stop and Abort buttons
        names.append("ipywidgets")
    if args.background and not args.quiet and args.plot != "none":
        # A background run draws in its own thread, where Abort raises KeyboardInterrupt and
        # nothing holds it back: matplotlib must be whole before that thread starts.
        names.append("hpt_magic.visualization._figures")
    if args.manual:
        names.append("hpt_magic.notebook._widgets")
    if args.jobs != 1:
        names.append("hpt_magic.executors._processes")
    if args.dask:
        names += ["hpt_magic.executors._dask", "distributed"]
    missing = [name for name in names if name not in sys.modules]
    if not missing:
        return
    with hold_interrupts():
        for name in missing:
            importlib.import_module(name)


class _Text:
    """Plain text for a display slot."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def default_storage() -> str:
    """The study file used when ``--storage`` is not given."""
    return os.environ.get("HPT_MAGIC_STORAGE") or DEFAULT_STORAGE


def _auto_sampler(n_trials: int | None, conditional: bool, multi: bool = False) -> str:
    """The default sampler: ``gp`` for budgets up to 200 trials of a fixed-shape space (it
    wins the regret benchmark there at ~20-80 ms per trial), ``tpe`` for larger or open-ended
    budgets and for conditional spaces (about 1 ms per trial at any size).

    With several objectives: ``gp`` (ParEGO) up to 50 trials of a fixed-shape space, where
    its front beat TPE's by far (hypervolume 5.0 against 2.8 on ZDT1) at 50-150 ms per trial;
    ``tpe`` (non-dominated sorting, 10-20 ms per trial) beyond, where it led on 3 of the 5
    problems at 100 and 300 trials (benchmarks/results/multiobjective.txt)."""
    if multi:
        return "gp" if n_trials is not None and n_trials <= 50 and not conditional else "tpe"
    if n_trials is not None and n_trials <= 200 and not conditional:
        return "gp"
    return "tpe"


def _keep_best(objective: CellObjective, pick: str | None = None):
    def keep(study: Study, trial: Any) -> None:
        objective.forget(_best_number(study, pick))
    return keep


def _check_pick(study: Study, pick: str | None) -> None:
    if pick is not None and pick not in study.objectives:
        raise TuneError(f"--pick {pick!r} is not an objective of study {study.name!r} "
                        f"({', '.join(study.objectives)}). Pick one of those.")


def _best_number(study: Study, pick: str | None = None) -> int | None:
    """The trial whose variables the notebook keeps: the best one, or with several
    objectives the front trial best in ``pick`` (default: the first objective)."""
    if study.is_multi_objective:
        picked = picked_trial(study, pick)
        return None if picked is None else picked.number
    try:
        return study.best_trial.number
    except TuneError:
        return None


def picked_trial(study: Study, pick: str | None) -> Any:
    """The front trial best in objective ``pick`` (the first objective when ``None``)."""
    front = study.best_trials
    if not front:
        return None
    k = study.objectives.index(pick) if pick in study.objectives else 0
    return min(front, key=lambda t: (study.directions[k].to_loss(t.values[k]), t.number))


def _summary(study: Study, info: RunInfo, error: BaseException | None,
             pick: str | None = None) -> str:
    text = study.summary(info.elapsed, info.done)
    if study.is_multi_objective:
        picked = picked_trial(study, pick)
        if picked is not None:
            which = pick or study.objectives[0]
            text += (f"\nThe notebook keeps the variables of trial {picked.number}, the front's "
                     f"best {which} (--pick NAME chooses another objective).")
    if info.reused:
        text += (f"\n{info.reused} proposal(s) repeated a complete trial and reused its score "
                 "(--on-repeat run runs them).")
    if info.redrawn:
        text += (f"\n{info.redrawn} proposal(s) repeated a complete trial and were replaced by "
                 "new ones (--on-repeat skip).")
    if info.reason == "interrupted":
        text = "Interrupted: finished trials are kept.\n" + text
    elif info.reason == "timeout":
        text += f"\nStopped by the timeout ({info.timeout:g} s)."
    elif info.reason == "exhausted":
        if study.sampler.name == "grid":
            text += "\nThe grid is exhausted."
        elif info.space_size is not None:
            text += f"\nStopped: all {info.space_size} points of the search space were tried."
        else:
            text += "\nStopped: the sampler kept proposing parameters already tried."
    elif info.reason == "no improvement":
        text += "\nStopped: the best score stopped improving (--patience)."
    elif info.reason == "converged":
        text += (f"\nStopped: what is left to gain (at most {info.regret_bound:.3g}) is below "
                 f"the noise of the score ({info.noise:.3g}).")
    elif info.reason == "stopped":
        text += "\nStopped on request."
    failed = [t for t in study.trials[-max(info.done, 1):] if t.state is TrialState.FAILED]
    if failed:
        first = failed[0]
        text += (f"\n{len(failed)} trial(s) failed this run; first: trial {first.number}: "
                 f"{first.error}. Full text: study.trial({first.number}).traceback")
        if first.output:
            text += f" (output: study.trial({first.number}).output)"
    if error is not None:
        text += f"\nThe run stopped on an error: {type(error).__name__}: {error}"
    return text


def _summary_bundle(study: Study, info: RunInfo, error: BaseException | None,
                    pick: str | None, dashboard: Any) -> dict[str, str]:
    """The end-of-run summary (HTML and text), with the table of the top trials unless the
    dashboard showed its final view."""
    # The JupyterLab view lists the best trials itself, and that display's fallback for other
    # front ends carries the same table (Dashboard(table=True)): a second one here would repeat it.
    shown = dashboard is not None and dashboard.updates > 0
    return summary_bundle(study, text=_summary(study, info, error, pick), k=0 if shown else 5)


#: What the first run of ``%%tune`` needs that ``import hpt_magic`` leaves out, in the order
#: the run imports them: the dashboard (before the first trial), the dashboard's image
#: (matplotlib with the Agg canvas, after the first trial), the default sampler's model
#: (``scipy``, after its design trials; the design itself needs no scipy, so the first trial
#: never waits for it). The same order as the run's: a cell started at once waits for the
#: thread's import instead of starting another one beside it.
PRELOAD = ("hpt_magic.notebook._dashboard", "hpt_magic.visualization._figures", "scipy.stats",
           "hpt_magic.samplers._gp_acq")


def preload(names: Sequence[str]) -> threading.Thread:
    """Import the modules ``names`` in a daemon thread (started), while the user writes the
    first cell.

    A cell that needs one of them first waits for it at its ``import`` (Python's import lock
    lets one thread import a module while the others wait for it); one that needs a module the
    thread has not reached yet imports it itself. Kernel > Interrupt reaches only the main
    thread, so it cannot cut these imports in half. A module that fails to import is left to
    the code that needs it, which shows the error in its cell: the thread prints nothing.
    """
    def run() -> None:
        for name in names:
            try:
                importlib.import_module(name)
            except Exception:
                continue

    thread = threading.Thread(target=run, name="hpt_magic-preload", daemon=True)
    thread.start()
    return thread


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics, make ``tune`` available in the notebook, and start importing what
    the first run needs (:data:`PRELOAD`)."""
    magics = TuneMagics(ipython)
    ipython.register_magics(magics)
    ipython.user_ns.setdefault("tune", tune)
    magics.preload = preload(PRELOAD)
