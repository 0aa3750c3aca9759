"""Plots and the live dashboard: the public face of :mod:`hpt_magic.visualization` (matplotlib
Figures) and of the notebook dashboard."""

from .notebook._dashboard import Dashboard, progress_line, show_dashboard, show_summary
from .visualization._analysis import (
    plot_compare,
    plot_contour,
    plot_edf,
    plot_importances,
    plot_parallel_coordinates,
    plot_slice,
    plot_timeline,
)
from .visualization._document import MIME
from .visualization._figures import (
    plot,
    plot_curves,
    plot_history,
    plot_hypervolume,
    plot_params,
    plot_pareto_front,
    study_json,
)
from .visualization._summary import summary_html, summary_text

__all__ = ["Dashboard", "plot", "plot_history", "plot_curves", "plot_params", "study_json",
           "plot_parallel_coordinates", "plot_contour", "plot_slice", "plot_importances",
           "plot_edf", "plot_timeline", "plot_compare", "plot_pareto_front", "plot_hypervolume",
           "show_dashboard", "show_summary", "summary_html", "summary_text", "progress_line",
           "MIME"]
