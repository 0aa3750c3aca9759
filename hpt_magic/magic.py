"""The IPython magics ``%%tune``, ``%tune_plot`` and ``%tune_list`` (``%load_ext hpt_magic``)."""

from .notebook._extension import load_ipython_extension
from .notebook._magic import TuneMagics

__all__ = ["TuneMagics", "load_ipython_extension"]
