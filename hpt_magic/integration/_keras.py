"""The Keras 3 callback behind ``tune.keras_callback`` (any Keras backend)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import keras

from ..exceptions import TuneError
from ..executors._tune import tune
from ._framework_base import check_direction, name_says_higher_is_better, report, resume_step

__all__ = ["KerasCallback", "BestEpoch"]


class KerasCallback(keras.callbacks.Callback):
    """Report ``logs[monitor]`` after every epoch; stop training when the scheduler says so.

    With ``checkpoint=True`` the weights go with each report, and a trial that population-
    based training continues from a checkpoint starts from its weights at its epoch. With
    ``required=False`` an epoch without ``monitor`` reports nothing (a tuner whose
    ``HyperModel.fit`` computes its score after training checks the score itself). With
    ``validation_freq=k`` (as given to ``fit``) only every k-th epoch is expected to have a
    ``val_*`` metric: Keras does not tell a callback when it validates.
    """

    def __init__(self, monitor: str = "val_loss", *, checkpoint: bool = False,
                 required: bool = True, validation_freq: int = 1) -> None:
        super().__init__()
        if isinstance(validation_freq, bool) or not isinstance(validation_freq, int) \
                or validation_freq < 1:
            raise TuneError(f"tune.keras_callback: validation_freq={validation_freq!r} must be "
                            "a whole number of epochs >= 1, the one given to fit.")
        self.monitor = monitor
        self.checkpoint = checkpoint
        self.required = required
        self.validation_freq = validation_freq

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        weights = tune.restore()
        if weights is not None and self.checkpoint:
            try:
                self.model.set_weights(weights)
            except ValueError as exc:
                raise TuneError(
                    f"tune.keras_callback: the checkpoint's weights do not fit this model "
                    f"({exc}). Population-based training changed a hyperparameter that shapes "
                    "the model: let it change only the others, e.g. "
                    "PBTScheduler(mutate=['lr']).") from None
            # The hook Keras's own BackupAndRestore uses: fit starts at this epoch.
            self.model._initial_epoch = resume_step()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        if self.monitor not in logs:
            # (fit validates after epochs k, 2k...; the others have no val_* metric)
            validated = (epoch + 1) % self.validation_freq == 0
            if not self.required or (self.monitor.startswith("val_") and not validated):
                return
            raise TuneError(
                f"tune.keras_callback: {self.monitor!r} is not among the metrics of epoch "
                f"{epoch} ({sorted(logs)}). Pass validation_data (or validation_split) to fit "
                "for val_* metrics, or monitor one of these. (With fit(..., validation_freq=k), "
                "give tune.keras_callback(..., validation_freq=k) too.)")
        if self.required:  # (a tuner's own callback follows the tuner's objective)
            check_direction("tune.keras_callback", self.monitor,
                            _keras_higher_is_better(self.model, self.monitor))
        weights = self.model.get_weights() if self.checkpoint else None
        if report(logs[self.monitor], epoch, weights):
            self.model.stop_training = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        # A model trained again later starts from epoch 0 again.
        self.model._initial_epoch = None

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Nothing. Defining it keeps Keras from running the batch callbacks in a thread pool,
        where the progress bar's writes escape the trial's captured output into the cell."""


def _keras_higher_is_better(model: Any, monitor: str) -> bool | None:
    """Whether Keras ranks ``monitor`` higher-is-better, as its own ``EarlyStopping(mode=
    "auto")`` decides (a loss is lower-is-better; a compiled metric has a ``_direction``);
    else what the name says; ``None`` when neither tells."""
    name = monitor.removeprefix("val_")
    if name == "loss" or name.endswith("_loss"):
        return False
    metrics = []
    for m in getattr(model, "metrics", None) or ():
        metrics.extend(getattr(m, "metrics", None) or [m])  # compiled metrics are nested
    for m in metrics:
        if getattr(m, "name", None) == name and getattr(m, "_direction", None) in ("up", "down"):
            return m._direction == "up"
    return name_says_higher_is_better(name)


class BestEpoch(keras.callbacks.Callback):
    """Keep the weights of the epoch where ``logs[monitor]`` was best (in memory), and put
    them back into the model when training ends: a tuner's kept model is then the one its
    trial's score describes (the best epoch's), as Keras Tuner's ``get_best_models`` gives.

    An epoch without the metric, or with a value that is not finite, changes nothing.
    """

    def __init__(self, monitor: str, better: Callable[[float, float | None], bool]) -> None:
        super().__init__()
        self.monitor = monitor
        self.better = better  # e.g. Direction.is_better: anything beats None
        self.best: float | None = None
        self.weights: list[Any] | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        try:
            value = float((logs or {})[self.monitor])
        except (KeyError, TypeError, ValueError):
            return
        if math.isfinite(value) and self.better(value, self.best):
            self.best, self.weights = value, self.model.get_weights()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.weights is not None:
            self.model.set_weights(self.weights)
