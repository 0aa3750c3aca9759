"""The live notebook dashboard.

:class:`Dashboard` follows a study through its events and keeps one output up to date: a PNG
of the three panels (history, learning curves, parameters), a progress line, and the study as
JSON (``application/vnd.hpt-magic.study+json``) for the JupyterLab extension. The panels are
also available alone, as functions returning a matplotlib ``Figure`` (:mod:`hpt_magic.display`).

Everything is drawn on ``matplotlib.figure.Figure`` objects with the Agg canvas: no pyplot
figure is created, so nothing piles up and the user's own plotting state is left alone.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._format import format_duration, format_number
from .._signals import hold_interrupts
from ..exceptions import TuneError
from ..study._events import Event
from ..trial import top_trials
from ..visualization._document import MIME, document, trial_json
from ..visualization._summary import summary_bundle, summary_html, summary_text, view_fallback
from ._output import Controls, KernelOutput, in_kernel, show

if TYPE_CHECKING:
    from ..visualization._layout import DashboardFigure

__all__ = ["Dashboard", "show_dashboard", "show_summary", "summary_html", "summary_text",
           "progress_line", "manual_bundle", "MIME"]

MODES = ("live", "final", "none")
#: Shares of the run's time that live updates may take, each update costed on the dashboard's
#: clock (the run waits for it, whatever a busy machine makes of its CPU): ``BUDGET`` for the
#: updates that draw a new image, ``LIGHT_BUDGET`` for the light ones between them. After an
#: update, the next of its kind waits its expected cost divided by its share: costlier updates
#: (a huge study, a busy machine) come less often, evenly spaced rather than in bursts, and all
#: live updates together take 2 % of the run. The expected cost is the mean of the last
#: one and the one expected before it, so that one slow update (a garbage collection) does not
#: hold the next back for long. The first image is drawn as soon as the first trial finishes
#: (front ends without the JupyterLab extension show nothing else); ``FIRST_DRAWING`` is the
#: cost expected before it.
BUDGET, FIRST_DRAWING = 0.01, 0.1
#: Live updates of a large study send a sample of it (the best, the newest, the running trials
#: and an even spread of the rest) with thinned learning curves, so that an update stays
#: bounded in size (and in the browser's work) however long the study grows; the final update
#: sends everything. See :func:`hpt_magic.visualization._document.document`. Its cost sets how
#: often light updates fit in their budget: 500 trials keep one under ~20 ms (a few hundred kB).
LIVE_TRIALS, LIVE_CURVE_POINTS = 500, 40
#: Between drawings, light updates refresh the progress line and the JSON document (which the
#: JupyterLab extension renders) and keep the last image, within their own, smaller budget.
#: Each converts the trials finished since the one before, so that the final update, which
#: sends them all, is left with only the newest to convert.
LIGHT_BUDGET = 0.01
#: The final update of a run at least this long (seconds) adds the parameter importances: their
#: surrogate model takes up to a second, too much for the budget of a short run.
IMPORTANCES_AFTER = 60.0
_STATUS = {"done": "finished", "timeout": "finished", "exhausted": "finished",
           "no improvement": "stopped", "converged": "stopped",
           "stopped": "stopped", "failing": "stopped", "interrupted": "interrupted",
           "error": "interrupted"}


class Dashboard:
    """A live view of a running study in the notebook output.

    Subscribes to the study's events on construction, shows one output and updates it in
    place at most every ``min_interval`` seconds: the progress line and the JSON document at
    each update, a new image of the panels when the drawing budget (:data:`BUDGET`) allows,
    and everything once more when the run ends.

    Parameters
    ----------
    study : Study
    n_trials, timeout : int, float, optional
        The run's plan, for the progress line (taken from ``run_started`` when not given).
    mode : {"live", "final", "none"}
        Update while running, show only the final state, or show nothing.
    controls : bool
        Show Stop and Abort buttons above the output (useful when the study runs in a
        background thread: a busy cell does not process clicks).
    min_interval : float
        Seconds between two updates.
    clock : callable
        Returns seconds; the throttle's clock.
    output : callable, optional
        ``output(bundle)`` shows a MIME bundle. Default: one display handle updated in place
        in a Jupyter kernel; elsewhere only the final state is shown (as text).
    table : bool
        Add the table of the top 5 trials to what the final update shows in front ends
        without the JupyterLab extension (whose view lists the best trials itself): HTML with
        the image, and plain text. ``%%tune`` then leaves the table out of its summary.

    Attributes
    ----------
    controls : ipywidgets.HBox or None
        The Stop and Abort buttons, when shown (removed at the end of the run).
    updates, seconds : int, float
        How many updates were shown and the time they took.
    drawings, drawing_seconds : int, float
        How many of them drew a new image, and the time those took.
    """

    def __init__(self, study: Any, *, n_trials: int | None = None, timeout: float | None = None,
                 mode: str = "live", controls: bool = False, min_interval: float = 0.5,
                 clock: Callable[[], float] = time.monotonic,
                 output: Callable[[dict[str, Any]], None] | None = None,
                 table: bool = False) -> None:
        if mode not in MODES:
            raise TuneError(f"The dashboard mode must be one of {MODES}, got {mode!r}.")
        # Outside a kernel (terminal, script) only the final text is shown: no image to draw.
        self._images = output is not None or in_kernel()
        if output is None:
            output = KernelOutput() if self._images else show
            mode = mode if self._images or mode == "none" else "final"
        self.study = study
        self.mode = mode
        self.n_trials, self.timeout = n_trials, timeout
        self.min_interval = min_interval
        self.updates, self.seconds = 0, 0.0
        self.drawings, self.drawing_seconds = 0, 0.0
        self._drawing_cost, self._light_cost = FIRST_DRAWING, 0.0
        self._png: str | None = None
        self._clock = clock
        self._output = output
        self._table = table
        self._model = _Model(study)
        self._cache: dict[int, dict[str, Any]] = {}
        self._new: list[Any] = []  # finished since the last update, not yet in the cache
        self._figure: DashboardFigure | None = None  # made for the first image
        self._drawing = threading.Lock()
        self._started = self._last_drawing = clock()
        self._ended: float | None = None
        self._status = "running"
        self._reason: str | None = None
        self._space_size: int | None = None
        self._done = 0
        #: Whether the run counts a reused repeat as one of its trials (TuneSearchCV).
        self._count_repeats = False
        self._last: float | None = None
        self._final = mode == "none"
        self._unsubscribe: Callable[[], None] | None = None
        self._controls = Controls(study) if controls and mode != "none" and in_kernel() \
            else None
        self.controls = None if self._controls is None else self._controls.box
        if mode != "none":
            self._unsubscribe = study.subscribe(self._on_event)
        if mode == "live":
            self._update(image=False)

    # -- events ------------------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        kind = event.kind
        if kind == "run_started":
            self._started, self._done, self._status = self._clock(), 0, "running"
            self._count_repeats = bool(event.data.get("count_repeats"))
            self.n_trials = self.n_trials if self.n_trials is not None else \
                event.data.get("n_trials")
            self.timeout = self.timeout if self.timeout is not None else event.data.get("timeout")
        elif kind == "run_finished":
            self._status = _STATUS.get(event.data.get("reason"), "finished")
            self._reason = event.data.get("reason")
            self._space_size = event.data.get("space_size")
            self._done = event.data.get("n_done", self._done)
            self._finish()
            return
        elif event.trial is not None:
            # O(1) per event: thousands of them arrive between two updates.
            self._model.add(event.trial, changed=kind != "trial_reported")
            # A reused repeat is recorded but not run: it is no trial of the plan, unless the
            # run counts it as one.
            if kind == "trial_finished" and (self._count_repeats
                                             or "repeat_of" not in event.trial.user_attrs):
                self._done += 1
                if self.mode == "live":
                    self._new.append(event.trial)
        if self.mode == "live":
            due = self._due(first_image=kind == "trial_finished" and self.drawings == 0)
            if due is not None:
                self._update(image=due == "image")

    def _due(self, first_image: bool = False) -> str | None:
        """``"image"``, ``"light"`` or ``None``: which update, if any, to make now.

        ``first_image`` (a trial finished and nothing was drawn yet) bypasses the throttle: an
        update skipped now might otherwise wait for the next event, a whole trial later.
        """
        if first_image and self._images:
            return "image"
        now = self._clock()
        if self._last is None:
            return "light"
        if now - self._last < self.min_interval:
            return None
        if now - self._last_drawing >= self._drawing_cost / BUDGET:
            return "image"
        if now - self._last >= self._light_cost / LIGHT_BUDGET:
            return "light"
        return None

    def _update(self, final: bool = False, image: bool = True) -> None:
        # One Figure, one drawer: a live update finding another thread drawing (a background
        # run closed from the notebook) is skipped; the final one waits its turn.
        if not self._drawing.acquire(blocking=final):
            return
        try:
            image = image and self._images
            start = self._clock()
            self._output(self.bundle(final=final, image=image))
            self._last = self._clock()
            cost = self._last - start
            self.updates += 1
            self.seconds += cost
            if image:
                self.drawings += 1
                self.drawing_seconds += cost
                self._drawing_cost = cost if self.drawings == 1 else (self._drawing_cost +
                                                                      cost) / 2
                self._last_drawing = self._last
            else:
                self._light_cost = (self._light_cost + cost) / 2 if self._light_cost else cost
        finally:
            self._drawing.release()

    def _finish(self) -> None:
        if self._final:
            return
        self._final = True
        self._ended = self._clock()
        self._update(final=True)
        if self._controls is not None:
            self._controls.close()

    def close(self) -> None:
        """Unsubscribe and show the final state (once; later calls do nothing)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._status == "running":
            self._status = "finished"
        self._finish()

    # -- what is shown -----------------------------------------------------------------------
    def progress(self) -> dict[str, Any]:
        """The run's progress: status, done, planned, timeout, elapsed, eta (seconds)."""
        end = self._ended if self._ended is not None else self._clock()
        elapsed = max(0.0, end - self._started)
        eta = None
        if self._status == "running":
            etas = []
            if self.n_trials and self._done:
                etas.append(elapsed / self._done * max(0, self.n_trials - self._done))
            if self.timeout is not None:
                etas.append(max(0.0, self.timeout - elapsed))
            eta = min(etas) if etas else None
        # A run that used up its search space did all it could: no trial is missing from a
        # plan (the bar is full, the line does not read "4/10" as if cut short).
        planned = None if self._reason == "exhausted" else self.n_trials
        return {"status": self._status, "done": self._done, "planned": planned,
                "timeout": self.timeout, "elapsed": elapsed, "eta": eta,
                "reason": self._reason, "space_size": self._space_size}

    def bundle(self, final: bool = False, image: bool = True) -> dict[str, Any]:
        """The MIME bundle of the current state: text, JSON and PNG.

        The PNG is drawn anew, or with ``image=False`` the last one is kept (none before
        the first drawing).

        ``final`` adds the parameter importances when the study computes them and the run
        lasted :data:`IMPORTANCES_AFTER` seconds or more.
        """
        progress = self.progress()
        live = not final and progress["status"] == "running"
        self._convert_new()
        doc = document(self._model, progress, self._cache,
                       max_trials=LIVE_TRIALS if live else None,
                       max_curve_points=LIVE_CURVE_POINTS if live else None)
        out = {"text/plain": progress_line(doc), MIME: doc}
        if image:
            ranked = final and progress["elapsed"] >= IMPORTANCES_AFTER
            layout, figures = _drawing()
            ranks = figures.importances_or_none(self.study) if ranked else None
            self._figure = self._figure or layout.DashboardFigure()
            fig = self._figure.draw(self._model, ranks, out["text/plain"])
            self._png = base64.b64encode(layout.png_bytes(fig)).decode("ascii")
        if self._png is not None:
            out["image/png"] = self._png
        if final:
            # The image with its alternative text, and the table unless a summary below
            # the view carries it.
            out.update(view_fallback(self.study, out, k=5 if self._table else 0))
        return out

    def _convert_new(self) -> None:
        new, self._new = self._new, []
        for trial in new:
            if trial.state.finished:
                self._cache[trial.number] = trial_json(trial)


class _Model:
    """The dashboard's own picture of the study, kept up to date from the study's events."""

    def __init__(self, study: Any) -> None:
        self.name, self.direction = study.name, study.direction
        # What a multi-objective view draws (one objective: the one direction, no names).
        self.directions = list(getattr(study, "directions", [study.direction]))
        self.objectives = list(getattr(study, "objectives", []))
        self.constraints = list(getattr(study, "constraints", []))
        self.is_multi_objective = bool(getattr(study, "is_multi_objective", False))
        self.sampler, self.scheduler = study.sampler, study.scheduler
        self._space = dict(study.search_space())
        self._trials = {t.number: t for t in study.trials}
        self._top: dict[int | None, list[Any]] = {}  # top_trials(k), until a trial changes

    @property
    def trials(self) -> list[Any]:
        return list(self._trials.values())

    def add(self, trial: Any, changed: bool = True) -> None:
        """Follow ``trial``; ``changed=False`` when only its learning curve grew."""
        self._trials[trial.number] = trial
        if changed:
            self._top.clear()
        for name, dist in trial.distributions.items():
            self._space.setdefault(name, dist)

    def search_space(self) -> dict[str, Any]:
        return dict(self._space)

    def top_trials(self, k: int | None = None) -> list[Any]:
        """The ``k`` best complete trials, as :meth:`Study.top_trials` has them."""
        if k not in self._top:
            self._top[k] = top_trials(self._trials.values(), self.direction, k)
        return list(self._top[k])


#: Why a run stopped before its budget, as the progress line says it.
_WHY = {"no improvement": "no improvement in --patience trials",
        "converged": "nothing left to gain above the noise",
        "failing": "every trial failed with the same error"}


def progress_line(doc: Mapping[str, Any]) -> str:
    """One line from a study document: done/planned, counts, best, elapsed and ETA."""
    p = doc["progress"]
    c = p["counts"]
    status = p["status"]
    head = {"running": "", "finished": "Finished: ", "stopped": "Stopped: ",
            "interrupted": "Interrupted: "}.get(status, "")
    why = _WHY.get(p.get("reason") or "")
    if why:
        head = f"Stopped ({why}): "
    elif p.get("reason") == "exhausted":
        size = p.get("space_size")
        head = (f"Finished (all {size} points of the search space tried): " if size
                else "Finished (nothing new left to try): ")
    done = f"{p['done']}/{p['planned']} trials" if p["planned"] else f"{p['done']} trials"
    counts = f"{c['complete']} complete, {c['pruned']} pruned, {c['failed']} failed"
    if c.get("interrupted"):  # the trial an interrupt cut short: the counts add up
        counts += f", {c['interrupted']} interrupted"
    parts = [head + done, counts]
    if p["best"] is not None:
        parts.append(f"best {format_number(p['best']['value'])} (trial {p['best']['number']})")
    timing = format_duration(p["elapsed"])
    if p["timeout"] is not None and status == "running":
        timing += f" / {format_duration(p['timeout'])}"
    if p["eta"] is not None:
        timing += f", ETA {format_duration(p['eta'])}"
    parts.append(timing)
    return " · ".join(parts)


def show_dashboard(study: Any) -> None:
    """Display the final dashboard of a finished or stored study (PNG, text and JSON)."""
    doc = document(study)
    line = progress_line(doc)
    layout, figures = _drawing()
    fig = layout.dashboard_figure(study, figures.importances_or_none(study), line)
    png = base64.b64encode(layout.png_bytes(fig)).decode("ascii")
    bundle = {"image/png": png, "text/plain": line, MIME: doc}
    show({**bundle, **view_fallback(study, bundle)})


def manual_bundle(study: Any, figure: DashboardFigure | None = None) -> dict[str, Any]:
    """The study as tuned by hand: JSON (status ``manual``), PNG and text, for the view shown
    beside the manual panel. ``figure`` is kept by the caller between runs (faster redraws).
    """
    finished = sum(t.state.finished for t in study.trials)
    doc = document(study, {"status": "manual", "done": finished, "planned": None,
                           "elapsed": None})
    counts, best = doc["progress"]["counts"], doc["progress"]["best"]
    trials = "1 trial" if finished == 1 else f"{finished} trials"
    parts = [f"{trials}, {counts['complete']} complete, {counts['failed']} failed"]
    if best is not None:
        parts.append(f"best {format_number(best['value'])} (trial {best['number']})")
    line = f"Manual tuning of study {study.name!r}: " + (" · ".join(parts) if finished
                                                        else "no trial yet")
    layout, _ = _drawing()
    fig = (figure or layout.DashboardFigure()).draw(study, None, line)
    png = base64.b64encode(layout.png_bytes(fig)).decode("ascii")
    bundle = {"image/png": png, "text/plain": line, MIME: doc}
    return {**bundle, **view_fallback(study, bundle, k=0)}


def show_summary(study: Any, elapsed: float | None = None, n_new: int | None = None, *,
                 text: str | None = None) -> None:
    """Display the end-of-run summary with a table of the top 5 trials (HTML and text).

    ``text`` replaces the study's own summary paragraph (``study.summary(elapsed, n_new)``).
    """
    show(summary_bundle(study, elapsed, n_new, text=text))


def _drawing() -> tuple[Any, Any]:
    """The modules that draw (``_layout``, ``_figures``), imported for the first image rather
    than with the dashboard: matplotlib takes about a second to import, and the first trial
    need not wait for it (``%load_ext`` has usually imported it in the background by then).
    Interrupts are held back meanwhile: one landing mid-import would leave matplotlib
    half-initialised for the rest of the kernel's life."""
    with hold_interrupts():
        from ..visualization import _figures, _layout
    return _layout, _figures
