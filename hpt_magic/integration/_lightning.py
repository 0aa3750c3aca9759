"""The Lightning callback behind ``tune.lightning_callback`` (the ``lightning`` package)."""

from __future__ import annotations

import lightning.pytorch as pl

from ..exceptions import TuneError
from ..executors._tune import tune
from ._framework_base import report, resume_step

__all__ = ["LightningCallback"]


class LightningCallback(pl.Callback):
    """Report ``trainer.callback_metrics[monitor]`` after each validation epoch; stop the
    trainer when the scheduler says so.

    With ``checkpoint=True`` the module's weights go with each report, and a trial continued
    from a checkpoint starts from them and trains only the epochs left to ``max_epochs``.
    """

    def __init__(self, monitor: str = "val_loss", *, checkpoint: bool = False) -> None:
        super().__init__()
        self.monitor = monitor
        self.checkpoint = checkpoint

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        weights = tune.restore()
        if weights is not None and self.checkpoint:
            pl_module.load_state_dict(weights)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        metrics = trainer.callback_metrics
        if self.monitor not in metrics:
            raise TuneError(
                f"tune.lightning_callback: {self.monitor!r} is not among the logged metrics "
                f"({sorted(metrics)}). Log it with self.log({self.monitor!r}, ...) in "
                "validation_step, or monitor one of these.")
        step = resume_step() + trainer.current_epoch
        weights = ({k: v.detach().clone() for k, v in pl_module.state_dict().items()}
                   if self.checkpoint else None)
        last = trainer.max_epochs is not None and step + 1 >= trainer.max_epochs
        if report(metrics[self.monitor].item(), step, weights) or last:
            trainer.should_stop = True
