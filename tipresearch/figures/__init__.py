"""Every figure of the collection, in one theme: the cable's figures, intake under each
rating rule, the reform calendar and its fit, the fit's tests out of sample and its
profiles, the world the fit implies, and sweep results.

Each function takes tidy frames from the rooms below and returns a
:class:`matplotlib.figure.Figure`.
"""

from __future__ import annotations

from .cable import (
    plot_campaign_results,
    plot_ratios,
    plot_timeline,
)
from .estimation import (
    ESTIMATOR_ORDER,
    plot_event_study,
    plot_monte_carlo,
    plot_recorded_and_incidence,
)
from .intake import (
    METRIC_MARKERS,
    plot_audits,
    plot_capacity,
    plot_intake_clearance_frontier,
    plot_metric_outcomes,
)
from .layout import text_problems
from .published import (
    OFFENCE_LABELS,
    STAGE_NAMES,
    plot_funnel,
    plot_inverse,
    plot_reporting_series,
)
from .reforms import (
    band,
    differences,
    plot_counterfactuals,
    plot_fit_series,
    plot_monthly_path,
)
from .sensitivity import (
    plot_prim_trajectory,
    plot_response_map,
    plot_sobol,
)
from .tables import paper_table
from .theme import (
    CASE_TYPE_COLOURS,
    CASE_TYPE_NAMES,
    CONFIDENCE_COLOURS,
    DEFAULT_DPI,
    DPI_RANGE,
    METRIC_LABELS,
    THEME,
    FigureLayoutWarning,
    check_dpi,
    check_figure_name,
    metric_label,
    save_figure,
    set_theme,
)
from .validation import PARAMETER_LABELS, plot_out_of_sample, plot_profiles, plot_ridge
from .world import STAGE_COLOURS, plot_implied_world, plot_recording_comparison

__all__ = [
    "ESTIMATOR_ORDER",
    "plot_event_study",
    "plot_monte_carlo",
    "plot_recorded_and_incidence",
    "OFFENCE_LABELS",
    "plot_reporting_series",
    "plot_funnel",
    "plot_inverse",
    "STAGE_NAMES",
    "paper_table",
    "PARAMETER_LABELS",
    "plot_out_of_sample",
    "plot_profiles",
    "plot_ridge",
    "CASE_TYPE_COLOURS",
    "CASE_TYPE_NAMES",
    "CONFIDENCE_COLOURS",
    "DEFAULT_DPI",
    "DPI_RANGE",
    "METRIC_MARKERS",
    "STAGE_COLOURS",
    "THEME",
    "band",
    "check_dpi",
    "check_figure_name",
    "differences",
    "plot_audits",
    "plot_campaign_results",
    "plot_capacity",
    "plot_counterfactuals",
    "plot_fit_series",
    "plot_implied_world",
    "plot_intake_clearance_frontier",
    "plot_metric_outcomes",
    "plot_monthly_path",
    "plot_prim_trajectory",
    "plot_ratios",
    "plot_recording_comparison",
    "plot_response_map",
    "plot_sobol",
    "plot_timeline",
    "save_figure",
    "set_theme",
    "METRIC_LABELS",
    "FigureLayoutWarning",
    "metric_label",
    "text_problems",
]
