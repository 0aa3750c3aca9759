"""The IPython front end: :class:`TuneMagics` with the ``%%tune`` cell magic, and the line
magics ``%tune_plot``, ``%tune_list`` and ``%tune_compare`` registered beside it (their work is
in :mod:`hpt_magic.notebook._line_magics`; ``%load_ext`` in :mod:`hpt_magic.notebook._extension`).
"""

from __future__ import annotations

import inspect
import math
import os
import sys
import threading
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display

from ..exceptions import TuneError
from ..executors import n_workers
from ..executors._objective import user_frames
from ..integration._loggers import make_logger
from ..samplers import make_sampler
from ..study._objectives import preview_objectives
from ..study._optimize import optimize, start_background
from ..study._space_edit import check_warm_start
from ..study._stopping import RunInfo, check_auto_patience, check_budget, check_iteration
from ..study._storage import DEFAULT_STORAGE, InMemoryStorage, make_storage
from ..study._study import Study, load_study
from ._cell import CellObjective, cell_hash, parse_cell
from ._line_magics import compare_studies, draw_study, list_stored_studies
from ._options import (
    _auto_sampler,
    _enqueued,
    _Maximize,
    _Minimize,
    _parse_kv,
    _patience,
    _unquote,
    default_storage,
    import_run_modules,
    objectives_of,
)
from ._output import show
from ._run_summary import (
    NOT_KEPT_BACKGROUND,
    NOT_KEPT_EARLIER,
    NOT_KEPT_PARALLEL,
    _best_number,
    _check_pick,
    _keep_best,
    _summary_bundle,
    _Text,
)
from ._widget_space import literal_space

__all__ = ["TuneMagics"]

DEFAULT_TRIALS = 20


@magics_class
class TuneMagics(Magics):
    """``%%tune``: the cell body is the objective; ``tune.*`` calls define the search space.

    One instance per shell (``%load_ext hpt_magic``); it owns the kernel's in-memory storage,
    so ``--storage memory`` studies continue from cell to cell.
    """

    def __init__(self, shell: Any = None) -> None:
        super().__init__(shell)
        self.memory = InMemoryStorage()
        #: The thread importing what the first run needs (see
        #: :func:`hpt_magic.notebook._extension.preload`), once loaded.
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
    @argument("--quiet", "-q", action="store_true",
              help="Show only the final summary (and notes on likely mistakes).")
    @argument("--plot", choices=("none", "final", "live"), default="live",
              help="Dashboard: live (default), final only, or none.")
    @argument("--background", action="store_true",
              help="Run in a thread; the cell returns at once (study.wait(), study.stop()).")
    @argument("--scheduler", default=None,
              help="Early stopping: early-stop, median, asha, hyperband, bohb, mobster, pbt.")
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
        __tracebackhide__ = True  # noqa: F841 (read by IPython's traceback display)
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
        __tracebackhide__ = True  # noqa: F841 (read by IPython's traceback display)
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
        # Every option the run reads is checked before the study is opened: a typo must not
        # leave an empty study in the file and in the notebook's variable.
        check_budget(args.trials, args.timeout)
        check_iteration(args.trial_timeout, args.patience, args.min_improvement,
                        args.on_repeat, args.retries)
        if not args.dask:
            n_workers(args.jobs)
        else:
            from ..executors._dask import check_dask

            check_dask(args.dask)
        log_args = _parse_kv(args.log_args, "--log-args")
        loggers = [make_logger(name, **log_args) for name in args.log]
        points = [_enqueued(text) for text in args.enqueue]
        program = parse_cell(cell, out_name=out)
        written = literal_space(cell)
        for params in points:  # the values the cell's own definitions refuse
            for name, value in params.items():
                if name in written and not written[name].contains(value):
                    why, fix = written[name].refusal(value)
                    raise TuneError(f"--enqueue: the value {value!r} for {name!r} {why}, as "
                                    f"the cell defines it. {fix}.")
        if args.jobs != 1 and not args.dask:
            # The forkserver boots while the study opens and its first trials are sampled.
            from ..executors._processes import prestart

            prestart()
        import_run_modules(args)
        parallel = args.jobs != 1 or bool(args.dask)
        objective = CellObjective(program, ns, keep=not parallel)
        if parallel:  # a value that cannot be sent is refused before the study is opened
            objective = objective.shippable()
        study = self._study(args, cell, program)
        ns[out] = study
        # Notes once the study is open: a cell refused while it opens shows its error alone.
        # A cell that may report (a function of the notebook might) is judged after the run,
        # by what its trials reported: see _run_summary._no_curves_text.
        expect_curves = _scheduled(args) and _may_report(program, ns)
        if _scheduled(args) and not expect_curves:
            print(f"Note: --scheduler {args.scheduler} has nothing to act on: this cell never "
                  "calls tune.report or tune.steps, so every trial runs to its end.",
                  file=sys.stderr)
        unused = [opt for opt, given in (("--max-steps", args.max_steps is not None),
                                         ("--scheduler-args", bool(args.scheduler_args)))
                  if given]
        if unused and not _scheduled(args):
            print(f"Note: {' and '.join(unused)} only tell{'s' if len(unused) == 1 else ''} a "
                  "scheduler what to do, and this cell has none: add --scheduler (asha, "
                  "hyperband, median...) for early stopping.", file=sys.stderr)
        for params in points:
            unknown = [n for n in params
                       if n not in program.param_names and n not in study.search_space()]
            if unknown:
                # Only a warning: a function the cell calls may define parameters too.
                print(f"Note: --enqueue names {unknown}, which this cell does not define (it "
                      f"defines {program.param_names}): check the spelling.", file=sys.stderr)
            study.enqueue(params, skip_if_exists=args.on_repeat != "run")
        unsubscribe = [study.subscribe(logger) for logger in loggers]
        try:
            self._run(args, cell, study, objective, expect_curves)
        finally:
            # Manual and background studies keep logging after the cell returns.
            if not (args.background or args.manual):
                for off in unsubscribe:
                    off()

    def _run(self, args: Any, cell: str, study: Study, objective: CellObjective,
             expect_curves: bool) -> None:
        __tracebackhide__ = True  # noqa: F841 (read by IPython's traceback display)
        ns = self.shell.user_ns
        out = args.out
        if args.manual:
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
                    handle.update(_summary_bundle(study, info, error, args.pick, dashboard,
                                                  NOT_KEPT_BACKGROUND, expect_curves),
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
        not_kept = None if kept is not None else (
            NOT_KEPT_PARALLEL if args.jobs != 1 or args.dask else NOT_KEPT_EARLIER)
        show(_summary_bundle(study, info, error, args.pick, dashboard, not_kept, expect_curves))
        if error is not None:
            # --no-catch: the user's error, from their cell down (IPython hides the frames
            # marked __tracebackhide__, ours above it).
            tb = user_frames(error.__traceback__)
            if tb is None and info.failed:
                # From a worker (--jobs, --dask): its frames stayed there; the trial has them.
                text = study.trial(info.failed[-1]).traceback
                if text and hasattr(error, "add_note"):
                    error.add_note(f"In the worker, trial {info.failed[-1]}:\n{text}")
            raise error.with_traceback(tb)

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
        if args.warm_start == name and existing is not None and (
                args.warm_start_storage is None or (
                    args.storage != "memory"
                    and _same_file(args.warm_start_storage, args.storage))):
            raise TuneError(f"--warm-start {name}: that is the study this cell continues, whose "
                            "trials it already uses. Drop --warm-start, or add --new to start "
                            "a new study from this one.")
        # Read before the study is opened: a misspelt name must leave nothing behind.
        source = load_study(args.warm_start, args.warm_start_storage or store) \
            if args.warm_start else None
        # The options that depend on the study, checked before it is opened too: a refused
        # cell leaves no empty study in the file (nor, with --new, the old one renamed).
        scoring = preview_objectives(name, existing, **objectives)
        _check_pick(name, scoring.names, args.pick)
        if source is not None:
            check_warm_start(source)
        sampler = make_sampler(sampler, args.seed, **sampler_args)
        written = literal_space(cell)
        if not args.manual:  # (what the run would refuse; sliders need neither)
            check_auto_patience(args.patience, name, scoring.names)
            sampler.check_space(written)
        study = Study(sampler=sampler, **objectives, seed=args.seed, name=name,
                      storage=store, scheduler=args.scheduler, max_steps=args.max_steps,
                      new=args.new,
                      scheduler_args=_parse_kv(args.scheduler_args, "--scheduler-args"),
                      retry_orphans=args.retry_orphans)
        # The cell's own definitions, read before it runs: an edited range or choice
        # continues the study, a changed type or scale is refused before anything is stored.
        changes = study.edit_space(written, names=program.param_names)
        warm = study.warm_start(source) if source is not None else None
        if existing is not None and study.trials:
            try:
                best = (f", {len(study.best_trials)} on the Pareto front"
                        if study.is_multi_objective else f", best {study.best_value:.6g}")
            except TuneError:
                best = ""
            earlier = f"{len(study.trials)} earlier trial{'s' if len(study.trials) != 1 else ''}"
            first = (f"continuing study {name!r}: {earlier}{best} "
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
            then = ", re-queued" if orphan in study.orphans_queued else ""
            print(f"trial {orphan.number} was running when its kernel died: marked "
                  f"interrupted{then}.")
        return study

    @line_magic
    def tune_plot(self, line: str) -> None:
        """``%tune_plot [study-name] [--kind KIND] [--storage PATH]``: draw a study.

        KIND is ``dashboard`` (the default), ``history``, ``parallel``, ``contour``, ``slice``,
        ``importance``, ``edf`` or ``timeline``.
        """
        draw_study(self.shell.user_ns, line)

    @line_magic
    def tune_list(self, line: str) -> None:
        """``%tune_list [PATH]``: the studies stored in a file."""
        list_stored_studies(line)

    @line_magic
    def tune_compare(self, line: str) -> None:
        """``%tune_compare A B C [--storage PATH]``: several studies on one Figure (best so far
        and the distribution of their scores); each name is a variable or a stored study."""
        compare_studies(self.shell.user_ns, line)


def _same_file(a: str, b: str) -> bool:
    """Whether two paths name one file (``s.db`` and ``./s.db``)."""
    return os.path.realpath(os.path.expanduser(a)) == os.path.realpath(os.path.expanduser(b))


def _scheduled(args: Any) -> bool:
    """Whether the cell's options name a scheduler."""
    return bool(args.scheduler) and args.scheduler.lower() != "none"


def _may_report(program: Any, ns: Any) -> bool:
    """Whether the cell may report a learning curve: it calls ``tune.report``, ``tune.steps``
    or a ``tune.*_callback`` itself, or reads from the notebook a framework callback made in
    an earlier cell (alone or in a list), or a function or class the notebook defines (which
    may call them)."""
    if program.reports:
        return True

    def callback(value: Any) -> bool:
        return (type(value).__module__ or "").startswith("hpt_magic.integration")

    for name in program.loads:
        value = ns.get(name)
        if value is None:
            continue
        if callback(value) or (isinstance(value, (list, tuple))
                               and any(callback(v) for v in value)):
            return True
        if (inspect.isfunction(value) or inspect.isclass(value)) \
                and getattr(value, "__module__", None) == "__main__":
            return True
    return False
