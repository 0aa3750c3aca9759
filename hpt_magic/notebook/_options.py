"""The options of ``%%tune`` and its line magics, read into what a run needs: the parsed values,
the objectives, the default storage and sampler, and the modules the run imports."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from typing import Any

from IPython.core.error import UsageError
from IPython.utils.process import arg_split

from .._signals import hold_interrupts
from ..exceptions import TuneError
from ..study._storage import DEFAULT_STORAGE

__all__ = ["default_storage", "import_run_modules", "objectives_of"]


def _patience(text: str) -> int | str:
    """``--patience N`` or ``--patience auto``."""
    return "auto" if text.strip().strip("'\"") == "auto" else int(text)


def _unquote(text: str) -> str:
    """Strip one pair of matching outer quotes, which IPython's option parser leaves on."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


#: What each ``key=value`` option's error shows as an example.
_EXAMPLES = {"--scheduler-args": "reduction_factor=3,min_resource=1",
             "--sampler-args": "n_startup_trials=5",
             "--log-args": "logdir=runs"}


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
                            f"{option} '{_EXAMPLES.get(option, 'name=value')}'.")
        key, value = (s.strip() for s in part.split("=", 1))
        try:
            out[key.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            out[key.replace("-", "_")] = value
    return out


class _Maximize(argparse.Action):
    """``--maximize [NAME]``: appends ``(name or None, direction)`` to ``args.objectives``,
    keeping the order of the line (it is the order of the objectives). The name is unquoted
    here: the magic unquotes string options, not the pairs of this one."""

    direction = "maximize"

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        found = list(getattr(namespace, self.dest, None) or [])
        found.append((_unquote(values) if values else None, self.direction))
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


def _options(line: str, names: tuple[str, ...]) -> tuple[list[str], dict[str, str]]:
    """The words of ``line`` and the values of the options ``names`` taken out of them.

    Words are split as IPython splits a magic's options, so that a quoted name may hold spaces (as
    ``%%tune --study 'my study'`` allows).

    >>> _options("a b --kind edf", ("--kind",))
    (['a', 'b'], {'--kind': 'edf'})
    >>> _options('"my study" --storage files/s.db', ("--storage",))
    (['my study'], {'--storage': 'files/s.db'})
    """
    try:
        # As IPython splits a magic's options: a Windows path keeps its backslashes.
        words = arg_split(line, posix=not sys.platform.startswith("win"), strict=True)
    except ValueError as exc:  # an unmatched quote
        raise UsageError(f"Cannot read {line!r}: {exc}. Close the quote.") from None
    options = {}
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
    trial (and :func:`~hpt_magic.notebook._extension.preload` has usually imported it by then,
    where no interrupt lands).
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
