"""Tune by hand with sliders; every run is a trial of the study, so an algorithm can go on from it.

>>> from hpt_magic import Study, Float
>>> study = Study(space={"x": Float(-5, 5)}, direction="minimize")
>>> tuner = ManualTuner(study, lambda t: (t.params["x"] - 1) ** 2, dashboard=False)
>>> tuner.set_values({"x": 1.5})
>>> tuner.run_button.click()
>>> study.trials[0].manual, study.best_value
(True, 0.25)
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import ipywidgets as w
from IPython.utils.capture import capture_output

from .._format import error_line, format_number, format_params, plain_line
from ..distributions import Distribution
from ..exceptions import TuneError
from ..samplers import Sampler, make_sampler
from ..study._events import Event
from ..study._optimize import run_one
from ..study._study import Study
from ..trial import Trial, TrialState
from ._widget_controls import Control, control_for, description_width

__all__ = ["ManualTuner"]

#: Trials of the Pareto front listed under the controls; the study view shows them all.
FRONT_ROWS = 5


class ManualTuner:
    """Sliders for a study's hyperparameters with Run, Suggest and Best buttons.

    Each "Run" calls ``objective`` once with the values on the sliders and records the result
    as a manual trial of ``study`` (in its storage, next to automated trials, which can later
    continue from it). "Suggest" moves the sliders to the point the sampler proposes next,
    without recording anything; "Best" moves them to the best trial so far.

    Parameters
    ----------
    study : Study
    objective : callable
        ``objective(trial) -> score``: the ``%%tune`` cell body, or a function that reads
        ``trial.params`` or calls ``tune.*`` with ``name=``.
    space : dict of str -> Distribution, optional
        Parameters to show before a run defines them (a new study knows none yet). A parameter
        defined only in some branch of the objective gets its control once a run takes it.
    suggest_sampler : str or Sampler, optional
        The sampler behind "Suggest" (default: the study's own).
    dashboard : bool
        Show the study beside the controls, as its own output updated after each run: the
        JupyterLab study view (with a PNG for other front ends) when
        ``hpt_magic.display`` is available, else the summary text. A saved notebook, an HTML
        export or a reload without kernel still shows it, while the controls need a kernel.
    callbacks : iterable of callables
        ``callback(study, trial)`` after each run, as in :meth:`Study.optimize`.

    Attributes
    ----------
    widget : ipywidgets.VBox
        The whole interface.
    controls : dict of str -> Control
        One per hyperparameter (``.widget`` is the slider, dropdown or toggle buttons).
    output : ipywidgets.Output
        What the last run printed, and its error.
    view : dict
        The MIME bundle of the study shown beside the controls (empty without ``dashboard``).
    """

    def __init__(self, study: Study, objective: Callable[[Trial], Any], *,
                 space: Mapping[str, Distribution] | None = None,
                 suggest_sampler: str | Sampler | None = None, dashboard: bool = True,
                 callbacks: Iterable[Callable[[Study, Trial], None]] = ()) -> None:
        self.study = study
        self.objective = objective
        self.callbacks = list(callbacks)
        if suggest_sampler is None or isinstance(suggest_sampler, Sampler):
            self._sampler = suggest_sampler
        else:
            self._sampler = make_sampler(suggest_sampler, study.seed)
        self._run_lock = threading.Lock()
        self._ui_lock = threading.RLock()
        self._n_suggested = 0
        self.controls: dict[str, Control] = {}
        self._rows = w.VBox()
        self.run_button = w.Button(description="Run", button_style="primary", icon="play",
                                   tooltip="Run the objective once with these values")
        self.suggest_button = w.Button(description="Suggest", icon="magic",
                                       tooltip=f"Move to the point the {self.sampler.name} "
                                               "sampler proposes next (nothing is recorded)")
        self.best_button = w.Button(description="Best", icon="trophy",
                                    tooltip="Move to the best trial so far")
        self.run_button.on_click(lambda _: self.run())
        self.suggest_button.on_click(lambda _: self._guarded(self.suggest))
        self.best_button.on_click(lambda _: self._guarded(self.best))
        self.best_text = w.HTML()
        self.message = w.HTML()
        self.output = w.Output(layout={"border": "1px solid #ddd", "max_height": "300px",
                                       "overflow": "auto"})
        self._view = _StudyView(study, dashboard)
        self.widget = w.VBox([
            self._rows,
            w.HBox([self.run_button, self.suggest_button, self.best_button]),
            self.best_text, self.message, self.output,
        ])
        self.widget.add_class("hpt-manual-tuner")
        start = self._best_params()
        for name, dist in {**study.search_space(), **dict(space or {})}.items():
            self._add_control(name, dist, start.get(name, dist.default))
        self._unsubscribe = study.subscribe(self._on_event)
        self._show_best()
        if not self.controls:
            self._say("No parameters known yet: Run once and their controls appear.")

    # -- values ------------------------------------------------------------------------------
    @property
    def sampler(self) -> Sampler:
        """The sampler behind "Suggest"."""
        return self._sampler or self.study.sampler

    def values(self) -> dict[str, Any]:
        """The parameter values on the controls."""
        return {name: c.value for name, c in self.controls.items()}

    def set_values(self, values: Mapping[str, Any]) -> None:
        """Move the controls to ``values``; unknown names and values out of range are refused.

        Raises
        ------
        TuneError
            Naming the parameter and its range; no control moves then.
        """
        unknown = [n for n in values if n not in self.controls]
        if unknown:
            raise TuneError(f"No control for {unknown}; the parameters are "
                            f"{list(self.controls)}. Check the spelling.")
        for name, value in values.items():
            self.controls[name].check(value)
        for name, value in values.items():
            self.controls[name].value = value

    # -- the three buttons -------------------------------------------------------------------
    def run(self) -> Trial | None:
        """Run the objective once with the controls' values, as a manual trial.

        Returns the finished trial, or ``None`` when a run is already going (a second click
        never starts a parallel run).
        """
        buttons = (self.run_button, self.suggest_button, self.best_button)
        if not self._run_lock.acquire(blocking=False):
            self._say("A run is going: wait for it to finish.", error=True)
            return None
        try:
            for b in buttons:
                b.disabled = True
            self.output.outputs = ()
            self._say("Running…")
            self._n_suggested = 0
            first = len(self.study.trials)
            # display() calls of the objective are collected here and shown with its text:
            # the Output widget's content is then set from Python only, never also by the
            # browser, whose echoed state would overwrite ours.
            refused: TuneError | None = None
            try:
                with capture_output(stdout=False, stderr=False, display=True) as rich:
                    try:
                        run_one(self.study, self.objective, self.values())
                    except TuneError as exc:
                        refused = exc  # shown below, with the trial when it ran
            except KeyboardInterrupt:
                self._say(f"Trial {first} interrupted.", error=True)
                raise
            finally:
                self._view.refresh()
        finally:
            # Released first: an interrupt while the buttons come back (widget updates take
            # a moment) must not leave the tuner locked for good. The buttons come back
            # before the message that the run ended: a user who reads it can click.
            self._run_lock.release()
            for b in buttons:
                b.disabled = False
        trial = self.study.trials[first] if len(self.study.trials) > first else None
        if trial is None or (refused is not None and trial.traceback is None):
            # Refused before the objective ran (a value outside the space...).
            self._say(str(refused), error=True)
            return None
        self._show_trial(trial, rich.outputs)
        for callback in self.callbacks:
            callback(self.study, trial)
        return trial

    def suggest(self) -> dict[str, Any]:
        """Move the controls to the sampler's next proposal; record nothing.

        The proposal is made for a detached trial numbered like the study's next one, so it is
        the point an automated run would try next; pressing again without a run in between
        asks for further points.
        """
        space = {n: c.dist for n, c in self.controls.items()}
        probe = Trial(len(self.study.trials) + self._n_suggested)
        values = dict(self.sampler.sample_joint(self.study, probe, space) or {})
        for name, dist in space.items():
            if name not in values:
                values[name] = self.sampler.sample_one(self.study, probe, name, dist)
        self._n_suggested += 1
        self.set_values(values)
        self._say(f"Suggested by the {self.sampler.name} sampler: press Run to try it.")
        return values

    def best(self) -> dict[str, Any]:
        """Move the controls to the best trial's parameters (those that have a control)."""
        params = self._best_params()
        if not params:
            raise TuneError(f"Study {self.study.name!r} has no complete trial yet, so no best "
                            "one. Run some trials first.")
        values = {n: v for n, v in params.items() if n in self.controls}
        self.set_values(values)
        self._say(f"Moved to the best trial, number {self.study.best_trial.number}.")
        return values

    # -- display -----------------------------------------------------------------------------
    @property
    def view(self) -> dict[str, Any]:
        return self._view.bundle

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = dict(self.widget._repr_mimebundle_(**kwargs))
        # What an HTML export or a front end without widgets shows instead of the controls.
        bundle["text/plain"] = (f"Manual tuning panel of study {self.study.name!r} (its "
                                "controls need a running kernel)")
        return bundle

    def _ipython_display_(self) -> None:
        """The controls, then the study as its own output (which outlives the kernel)."""
        from IPython.display import display

        display(self._repr_mimebundle_(), raw=True)
        self._view.show()

    def close(self) -> None:
        """Stop following the study and close the widgets."""
        self._unsubscribe()
        self.widget.close()

    def __repr__(self) -> str:
        return f"<ManualTuner study={self.study.name!r} params={list(self.controls)}>"

    # -- helpers -----------------------------------------------------------------------------
    def _guarded(self, action: Callable[[], Any]) -> None:
        """Run a button's action; show a :class:`TuneError` as a message, not a traceback."""
        try:
            action()
        except TuneError as exc:
            self._say(str(exc), error=True)

    def _best_params(self) -> dict[str, Any]:
        try:
            return self.study.best_params
        except TuneError:
            return {}

    def _add_control(self, name: str, dist: Distribution, value: Any) -> None:
        with self._ui_lock:
            if name in self.controls:
                return
            control = control_for(name, dist, value)
            self.controls[name] = control
            self._rows.children = (*self._rows.children, control.row)
            width = description_width(list(self.controls))
            for c in self.controls.values():
                c.widget.style.description_width = width

    def _on_event(self, event: Event) -> None:
        """Follow the study, also when another run (a background one) adds trials."""
        if event.kind != "trial_finished" or event.trial is None:
            return
        for name, dist in event.trial.distributions.items():
            self._add_control(name, dist, event.trial.params.get(name, dist.default))
        self._show_best()

    def _show_trial(self, trial: Trial, displays: list[Any]) -> None:
        if trial.output:
            self.output.append_stdout(trial.output)
        self.output.outputs += tuple(
            {"output_type": "display_data", "data": d.data, "metadata": d.metadata}
            for d in displays if not d.update)
        if trial.state is TrialState.FAILED:
            self.output.append_stderr(trial.traceback or f"{trial.error}\n")
            self._say(f"Trial {trial.number} failed: {error_line(trial.error)}", error=True)
        else:
            self._say(f"Trial {trial.number} {trial.state.value}{self._scores(trial)}.")

    def _scores(self, trial: Trial) -> str:
        """``, score 0.25``; with several objectives every one, and a broken constraint."""
        if not self.study.is_multi_objective:
            return "" if trial.value is None else f", score {format_number(trial.value)}"
        if trial.values is None:
            return ""
        text = ", ".join(f"{plain_line(name)} {format_number(v)}"
                         for name, v in zip(self.study.objectives, trial.values))
        if trial.feasible is False:
            text += f" (infeasible: breaks {' or '.join(self.study.constraints)})"
        return f": {text}"

    def _show_best(self) -> None:
        if self.study.is_multi_objective:
            self._show_front()
            return
        try:
            best = self.study.best_trial
        except TuneError:
            self.best_text.value = "<b>Best:</b> no complete trial yet."
            return
        how = "manual" if best.manual else "automated"
        self.best_text.value = (f"<b>Best:</b> {format_number(best.value)} (trial {best.number}, "
                                f"{how}): {html.escape(format_params(best.params))}")

    def _show_front(self) -> None:
        """The Pareto front, each trial with every objective (the first few)."""
        front = self.study.best_trials
        if not front:
            self.best_text.value = "<b>Pareto front:</b> no feasible complete trial yet."
            return
        rows = "".join(
            f"<li>trial {t.number}{' (manual)' if t.manual else ''}"
            f"{html.escape(self._scores(t))}</li>" for t in front[:FRONT_ROWS])
        more = f"<li>… and {len(front) - FRONT_ROWS} more</li>" if len(front) > FRONT_ROWS else ""
        self.best_text.value = (f"<b>Pareto front:</b> {len(front)} trial"
                                f"{'' if len(front) == 1 else 's'}<ul>{rows}{more}</ul>")

    def _say(self, text: str, *, error: bool = False) -> None:
        color = "#b00" if error else "#444"
        self.message.value = f'<span style="color:{color}">{html.escape(text)}</span>'


class _StudyView:
    """The study beside the controls: its own output, updated after each run.

    Not inside the panel's widgets: a saved notebook, another front end or an HTML export
    shows it without the widget state or a kernel. It is the JupyterLab study view (JSON,
    with manual trials marked) with a PNG for other front ends, or the study's summary text
    when :mod:`hpt_magic.notebook._dashboard` is unavailable.
    """

    def __init__(self, study: Study, enabled: bool) -> None:
        self.study = study
        self.enabled = enabled
        self.bundle: dict[str, Any] = {}
        self._id: str | None = None
        self._figure: Any = None
        if enabled:
            self.refresh()

    def refresh(self) -> None:
        """Redraw the study; shown outputs follow (one display id for all of them)."""
        if not self.enabled:
            return
        try:
            from ..visualization._layout import DashboardFigure
            from ._dashboard import manual_bundle
        except ImportError:
            self.bundle = {"text/plain": self.study.summary()}
        else:
            self._figure = self._figure or DashboardFigure()
            self.bundle = manual_bundle(self.study, self._figure)
        if self._id is not None:
            from IPython.display import update_display

            update_display(self.bundle, raw=True, display_id=self._id)

    def show(self) -> None:
        """Display the study below the panel (again under the same id when shown twice)."""
        if not self.enabled:
            return
        from IPython.display import display

        if self._id is None:
            self._id = display(self.bundle, raw=True, display_id=True).display_id
        else:
            display(self.bundle, raw=True, display_id=self._id)
