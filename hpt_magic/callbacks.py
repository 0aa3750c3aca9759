"""Trial loggers for MLflow and TensorBoard (study event subscribers)."""

from .integration._loggers import MLflowCallback, TensorBoardCallback, make_logger

__all__ = ["MLflowCallback", "TensorBoardCallback", "make_logger"]
