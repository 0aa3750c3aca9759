"""What every framework callback shares: importing its framework, reporting a point, checking
that the study ranks the metric as the framework does, the step a resumed trial starts at. The
per-framework modules import this, never :mod:`._frameworks` (which builds them), so no import
goes in a circle."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from ..exceptions import TrialPruned, TuneError
from ..executors._tune import tune
from ..trial import CURVE_DIRECTION, Direction

__all__ = ["KERAS_HINT", "budget_spent", "check_direction", "name_says_higher_is_better",
           "require", "report", "resume_step"]


def require(module: str, extra: str, what: str, hint: str = "") -> ModuleType:
    """Import ``module`` for ``what``, or raise a :class:`TuneError` naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise TuneError(
            f"{what} needs the {module!r} package, which cannot be imported here ({exc}). "
            f"Install it with `pip install hpt_magic[{extra}]` (in the kernel and in every "
            f"worker environment), then restart the kernel.{hint}") from None


def report(value: Any, step: int, checkpoint: Any = None) -> bool:
    """Report a point of the curve; ``True`` when the scheduler stops the trial.

    ``tune.report`` raises :class:`TrialPruned` outside ``tune.steps``; a callback instead
    lets the framework end its training loop cleanly, and the run records the trial as
    pruned with its curve once the objective returns.
    """
    try:
        return tune.report(float(value), step, checkpoint=checkpoint)
    except TrialPruned:
        return True


def check_direction(what: str, metric: str, higher_is_better: bool | None) -> None:
    """Raise a :class:`TuneError` when the running trial's study ranks ``metric`` the wrong way.

    Schedulers judge the reported curve by the study's direction: a curve of AUC in a study
    that minimises would have them stop the best trials first and keep the worst. Without a
    scheduler the curve is only drawn, and any metric may be recorded, unless the trial ends
    without a value and the curve's last point becomes its score: the mismatch is noted
    (``user_attrs["_curve_direction"]``) and the study then fails the trial with it.
    """
    trial = tune.trial
    if trial is None or trial.scoring is None or higher_is_better is None:
        return  # (None: nobody can tell which way the metric ranks)
    wanted = Direction.MAXIMIZE if higher_is_better else Direction.MINIMIZE
    direction = trial.scoring.directions[0]
    if direction is wanted:
        return
    better, worse = ("higher", "lower") if higher_is_better else ("lower", "higher")
    if not getattr(trial, "judged", True):
        trial.user_attrs.setdefault(CURVE_DIRECTION, (
            f"{what}: for {metric!r} {better} is better, but the study {direction.value}s its "
            "score and the trial returned nothing, so the curve's last point was its score. "
            f"Run the study with --{wanted.value}, end the cell with the score to "
            f"{direction.value}, or report a metric for which {worse} is better."))
        return
    raise TuneError(
        f"{what}: for {metric!r} {better} is better, but the study {direction.value}s its "
        "score, so a scheduler would stop the best trials and keep the worst. Run the study "
        f"with --{wanted.value} (Study(direction={wanted.value!r})), or report a metric for "
        f"which {worse} is better.")


#: Metric names (after any ``val_``/``train_`` prefix) whose direction the name itself says,
#: for frameworks that log metrics by free names (Keras, Lightning).
_LOWER_WORDS = ("loss", "error", "mse", "mae", "rmse", "mape", "msle", "crossentropy",
                "perplexity", "nll", "hinge", "divergence")
_HIGHER_WORDS = ("accuracy", "acc", "auc", "f1", "precision", "recall", "iou", "r2")
#: Words that turn a metric around or measure a difference (``neg_loss``, ``acc_gap``,
#: ``loss_reduction``): the name then says nothing sure.
_UNSURE_WORDS = ("neg", "negative", "minus", "gap", "drop", "diff", "delta", "change",
                 "reduction", "improvement", "disparity")


def name_says_higher_is_better(metric: str) -> bool | None:
    """Whether a higher value of the metric named ``metric`` is better, when its name says
    so unambiguously (``val_loss``: no, ``val_accuracy``: yes, ``my_score``: ``None``).

    A negated metric or a difference (``neg_loss``, ``acc_gap``) is left to the user.

    >>> [name_says_higher_is_better(m) for m in ("val_loss", "train/acc", "val_f1", "score",
    ...                                          "val_neg_loss", "val_acc_gap")]
    [False, True, True, None, None, None]
    """
    words = [w for w in metric.lower().replace("/", "_").replace("-", "_").split("_") if w]
    if any(w in _UNSURE_WORDS for w in words):
        return None
    lower = any(w in _LOWER_WORDS or w.endswith("loss") for w in words)
    higher = any(w in _HIGHER_WORDS for w in words)
    return None if lower == higher else higher


def budget_spent(rounds: int) -> bool:
    """Whether a trial continued from a checkpoint has trained the study's ``max_steps``
    rounds in all. A booster continued with ``xgb_model=``/``init_model=`` trains
    ``num_boost_round`` rounds *more*; without this it would run past the budget the other
    members of its population had, and be ranked against them on a longer curve."""
    trial = tune.trial
    if trial is None or not trial.user_attrs.get("resume_step"):
        return False
    max_steps = trial.user_attrs.get("max_steps")
    return max_steps is not None and rounds >= int(max_steps)


def resume_step() -> int:
    """The step a trial continued from a checkpoint starts at (0 for a fresh trial)."""
    trial = tune.trial
    return int(trial.user_attrs.get("resume_step", 0)) if trial is not None else 0


#: Keras 3 imports its backend at once; without one installed the import fails.
KERAS_HINT = (" Keras 3 also needs a backend: set the environment variable KERAS_BACKEND "
              "(e.g. to 'torch') before keras is first imported.")
