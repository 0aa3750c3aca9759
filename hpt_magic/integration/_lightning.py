"""The Lightning callback behind ``tune.lightning_callback`` (the ``lightning`` package)."""

from __future__ import annotations

import lightning.pytorch as pl
from lightning.pytorch.trainer.states import TrainerFn

from ..exceptions import TuneError
from ..executors._tune import tune
from ._framework_base import check_direction, name_says_higher_is_better, report, resume_step

__all__ = ["LightningCallback"]


class LightningCallback(pl.Callback):
    """Report ``trainer.callback_metrics[monitor]`` after each validation epoch; stop the
    trainer when the scheduler says so.

    With ``checkpoint=True`` the module's weights go with each report, and a trial continued
    from a checkpoint starts from them and trains only the epochs left to ``max_epochs``. In a
    trial, a fit that runs no validation is refused before it trains.
    """

    def __init__(self, monitor: str = "val_loss", *, checkpoint: bool = False) -> None:
        super().__init__()
        self.monitor = monitor
        self.checkpoint = checkpoint

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # In a trial, else it trains to the end unjudged. (Outside one, e.g. a final fit on
        # all the data with the same callbacks, nothing is reported anyway.)
        if tune.trial is not None and not trainer.enable_validation:
            raise TuneError(
                f"tune.lightning_callback: this Trainer runs no validation, so {self.monitor!r} "
                "would never be reported and no scheduler could stop the trial. Pass "
                "val_dataloaders to trainer.fit, with a validation_step that logs it (and "
                "limit_val_batches above 0).")
        weights = tune.restore()
        if weights is not None and self.checkpoint:
            pl_module.load_state_dict(weights)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # Only the validation of fitting is a step of the curve: not the sanity check, and not a
        # trainer.validate() after fit (it trained nothing).
        if trainer.sanity_checking or trainer.state.fn != TrainerFn.FITTING:
            return
        metrics = trainer.callback_metrics
        if self.monitor not in metrics:
            raise TuneError(
                f"tune.lightning_callback: {self.monitor!r} is not among the logged metrics "
                f"({sorted(metrics)}). Log it with self.log({self.monitor!r}, ...) in "
                "validation_step, or monitor one of these.")
        check_direction("tune.lightning_callback", self.monitor,
                        name_says_higher_is_better(self.monitor))
        step = resume_step() + trainer.current_epoch
        weights = ({k: v.detach().clone() for k, v in pl_module.state_dict().items()}
                   if self.checkpoint else None)
        # A trial continued from a checkpoint trains only the epochs left; max_epochs is -1
        # when only max_steps bounds training.
        last = trainer.max_epochs is not None and trainer.max_epochs > 0 \
            and step + 1 >= trainer.max_epochs
        if report(metrics[self.monitor].item(), step, weights) or last:
            trainer.should_stop = True
