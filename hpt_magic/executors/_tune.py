"""The define-by-run face: ``tune.loguniform(...)``, ``tune.report(...)``, ``tune.steps(n)``.

Inside a running trial each call asks that trial (found through a ``contextvars`` context, so it
works in threads and worker processes); outside, the call returns its default so the same cell
runs as plain Python.
"""

from __future__ import annotations

import builtins
import contextvars
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..distributions import Choice, Distribution, Float, Grid, Int
from ..exceptions import TuneError
from ..trial import Trial

__all__ = ["tune", "current_trial", "activate", "register_framework_callback"]

_current: contextvars.ContextVar[Trial | None] = contextvars.ContextVar("hpt_trial", default=None)


def current_trial() -> Trial | None:
    """The trial running in this context, or ``None`` outside any trial."""
    return _current.get()


def activate(trial: Trial | None) -> contextvars.Token:
    """Make ``trial`` the current one; pass the token to ``deactivate``."""
    return _current.set(trial)


def deactivate(token: contextvars.Token) -> None:
    _current.reset(token)


#: Framework callbacks by framework name, filled by ``hpt_magic.integration`` (a front end
#: this engine module must not import); ``import hpt_magic`` always loads it first.
_framework_callbacks: dict[str, Callable[..., Any]] = {}


def register_framework_callback(framework: str, factory: Callable[..., Any]) -> None:
    """Make ``tune.<framework>_callback(...)`` call ``factory(...)``."""
    _framework_callbacks[framework] = factory


def _framework_callback(framework: str, *args: Any, **kwargs: Any) -> Any:
    factory = _framework_callbacks.get(framework)
    if factory is None:
        raise TuneError(f"tune.{framework}_callback is not available: hpt_magic.integration "
                        "was not imported. Import hpt_magic (import hpt_magic) first.")
    return factory(*args, **kwargs)


class _Tune:
    """Namespace of the define-by-run calls; the object users know as ``tune``."""

    def _param(self, dist: Distribution, name: str | None, kind: str, *args: Any) -> Any:
        trial = _current.get()
        if trial is None:
            return dist.default
        if not name:
            # Written out only here: every call of every trial would pay for the text.
            call = f"tune.{kind}({', '.join(map(str, args))})" if args else f"tune.{kind}([...])"
            if name is not None:  # name='': where the call is does not matter
                raise TuneError(f"{call} has name={name!r}, and a parameter needs a name: pass "
                                "name='x', or leave name= out and assign the call "
                                f"(`x = {call}`).")
            # The user's frame: _param <- tune.uniform (or another call) <- the objective.
            caller = sys._getframe(2)
            raise TuneError(
                f"{call} on line {caller.f_lineno} of {caller.f_code.co_filename} needs a "
                f"parameter name inside a trial: write `x = {call}` (the magic takes the name "
                "from the assignment) or pass name='x'.")
        return trial.suggest(name, dist)

    def uniform(self, low: float, high: float, *, step: float | None = None,
                default: float | None = None, prior: float | None = None,
                name: str | None = None) -> float:
        """A float drawn uniformly from ``[low, high]`` (default: the centre).

        ``prior`` (or an explicit ``default``) is a guess of a good value: half of the random
        draws land near it. The same holds for every call below."""
        return self._param(_guess(Float(low, high, step=step, default=default), prior, default),
                           name, "uniform", low, high)

    def loguniform(self, low: float, high: float, *, default: float | None = None,
                   prior: float | None = None, name: str | None = None) -> float:
        """A positive float drawn on a log scale (default: the geometric mean)."""
        return self._param(_guess(Float(low, high, log=True, default=default), prior, default),
                           name, "loguniform", low, high)

    def float(self, low: float, high: float, *, log: bool = False, step: float | None = None,
              default: float | None = None, prior: float | None = None,
              name: str | None = None) -> builtins.float:
        """A float in ``[low, high]``, linear or log scale."""
        dist = Float(low, high, log=log, step=step, default=default)
        return self._param(_guess(dist, prior, default), name, "float", low, high)

    def int(self, low: int, high: int, *, log: bool = False, step: int = 1,
            default: int | None = None, prior: int | None = None,
            name: str | None = None) -> builtins.int:
        """An integer in ``[low, high]`` (both included)."""
        dist = Int(low, high, log=log, step=step, default=default)
        return self._param(_guess(dist, prior, default), name, "int", low, high)

    def choice(self, options: Sequence[Any], *, default: Any = None, prior: Any = None,
               name: str | None = None) -> Any:
        """One of ``options`` (default: the first)."""
        return self._param(_guess(Choice(options, default=default), prior, default), name,
                           "choice")

    def grid(self, values: Sequence[Any], *, default: Any = None, name: str | None = None) -> Any:
        """One of explicit grid points, enumerated by grid search."""
        return self._param(Grid(values, default=default), name, "grid")

    def report(self, value: builtins.float, step: builtins.int | None = None, *,
               checkpoint: Any = None) -> bool:
        """Record a point of the learning curve. Returns ``True`` when the trial should stop.

        Outside ``tune.steps`` a stop decision ends the trial at once (as pruned). Outside any
        trial the call does nothing and returns ``False``.
        """
        trial = _current.get()
        if trial is None:
            return False
        return trial.report(value, step, checkpoint=checkpoint)

    def steps(self, n: builtins.int, start: builtins.int | None = None) -> Iterator[builtins.int]:
        """Yield ``0 .. n-1``; end early, quietly, when the scheduler stops the trial.

        When the trial was restored from a checkpoint (population-based training) the steps
        continue after the checkpoint's step; ``start`` overrides that.
        """
        trial = _current.get()
        if trial is None:
            yield from range(start or 0, n)
            return
        first = start if start is not None else builtins.int(
            trial.user_attrs.get("resume_step", 0))
        trial.in_steps = True
        try:
            for step in range(first, n):
                if trial.should_stop:
                    return
                trial.user_attrs["step"] = step
                yield step
        finally:
            trial.in_steps = False

    def report_noise(self, std: builtins.float) -> None:
        """Say how noisy this trial's score is: the standard deviation a re-run would show
        (e.g. the spread of cross-validation folds, ``np.std(scores) / np.sqrt(len(scores))``
        for their mean). ``--patience auto`` stops when what is left to gain is below it.
        Outside a trial it does nothing."""
        trial = _current.get()
        if trial is None:
            return
        try:
            value = builtins.float(std)
        except (TypeError, ValueError):
            raise TuneError(f"tune.report_noise needs a number, got {std!r}.") from None
        if not value >= 0:
            raise TuneError(f"tune.report_noise needs a standard deviation >= 0, got {std!r}.")
        trial.user_attrs["noise"] = value

    def restore(self, default: Any = None) -> Any:
        """The checkpoint this trial continues from (population-based training), else
        ``default``."""
        trial = _current.get()
        if trial is None or trial.checkpoint is None:
            return default
        return trial.checkpoint

    def should_stop(self) -> bool:
        """Whether the scheduler asked the current trial to stop."""
        trial = _current.get()
        return bool(trial and trial.should_stop)

    # -- framework callbacks: report every epoch or round, stop when the scheduler says so ---
    def keras_callback(self, monitor: str = "val_loss", *, checkpoint: bool = False,
                       validation_freq: int = 1) -> Any:
        """A ``keras.callbacks.Callback`` for ``model.fit(..., callbacks=[...])``.

        Reports ``logs[monitor]`` after each epoch and stops training when the scheduler says
        so. ``checkpoint=True`` reports the weights too (population-based training), and a
        trial continued from a checkpoint starts from its weights and epoch. With
        ``fit(..., validation_freq=k)``, pass the same ``validation_freq=k`` here.
        """
        return _framework_callback("keras", monitor, checkpoint=checkpoint,
                                   validation_freq=validation_freq)

    def xgboost_callback(self, metric: str = "validation_0-logloss", *,
                         checkpoint: bool = False) -> Any:
        """An ``xgboost.callback.TrainingCallback`` reporting ``"<data>-<metric>"`` each round.

        For ``xgb.train(..., evals=[(dvalid, "valid")], callbacks=[...])`` (metric
        ``"valid-logloss"``) or ``XGBClassifier(callbacks=[...])`` with ``eval_set`` (data
        ``validation_0``). ``checkpoint=True`` reports the booster; continue it with
        ``xgb.train(..., xgb_model=tune.restore())``.
        """
        return _framework_callback("xgboost", metric, checkpoint=checkpoint)

    def lightgbm_callback(self, data: str = "valid_0", metric: str | None = None, *,
                          checkpoint: bool = False) -> Any:
        """A LightGBM callback for ``lgb.train`` / ``LGBMClassifier.fit(callbacks=[...])``.

        Reports ``metric`` (default: the first) of validation set ``data`` each round.
        ``checkpoint=True`` reports the booster; continue it with
        ``lgb.train(..., init_model=tune.restore())``.
        """
        return _framework_callback("lightgbm", data, metric, checkpoint=checkpoint)

    def lightning_callback(self, monitor: str = "val_loss", *, checkpoint: bool = False) -> Any:
        """A ``lightning.pytorch.Callback`` for ``Trainer(callbacks=[...])``.

        Reports ``trainer.callback_metrics[monitor]`` after each validation epoch and stops
        the trainer when the scheduler says so. ``checkpoint=True`` reports the module's
        weights, and a continued trial starts from them.
        """
        return _framework_callback("lightning", monitor, checkpoint=checkpoint)

    @property
    def trial(self) -> Trial | None:
        """The running trial, or ``None`` in plain Python."""
        return _current.get()

    def __reduce__(self) -> str:
        return "tune"

    def __repr__(self) -> str:
        return "<hpt_magic.tune: define-by-run search space>"


tune = _Tune()


def _guess(dist: Distribution, prior: Any, default: Any) -> Distribution:
    """``dist`` with the user's guess as its prior: ``prior``, else an explicit ``default``."""
    return dist.with_prior(prior if prior is not None else default)
