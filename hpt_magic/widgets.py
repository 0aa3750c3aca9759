"""Tuning by hand with sliders: the public face of the notebook's manual tuner."""

from .notebook._widgets import ManualTuner

__all__ = ["ManualTuner"]
