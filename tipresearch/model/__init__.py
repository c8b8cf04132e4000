"""The intake model: parameters, performance metrics, the bureau's decision, the
dynamics and the two simulation engines, with analyses of the decision.

Formulas and their sources are in ``docs/model.md``. Imports only :mod:`tipresearch.data`
and the shared helpers.
"""

from __future__ import annotations

from .analysis import (
    ALL_TYPES,
    OUTCOME_COLUMNS,
    declined_summary,
    frontier,
    metric_table,
    report_sample,
    threshold_curve,
)
from .bureaus import Bureaus, draw_bureaus, draw_reports
from .decision import (
    Response,
    best_response,
    expected_outcomes,
    intake_moments,
    later_solve_share,
    planner_response,
    tabulated_moments,
)
from .dynamics import (
    Dynamics,
    DynamicState,
    shared_capacity,
)
from .engines import ENGINES, Schedule, simulate
from .expected import TOTALS, expected_totals, expected_totals_many
from .inverse import INVERSE_COLUMNS, audit_for_share, intake_curves, rounding_tolerance
from .metrics import (
    PLANNER,
    PRESETS,
    Metric,
    get_metric,
    metric_names,
)
from .outputs import OUTPUT_COLUMNS, ROW_BYTES, frame_bytes, realized_score, summarise
from .params import (
    CaseType,
    ModelParams,
    default_case_types,
    parse_assignment,
)

__all__ = [
    "INVERSE_COLUMNS",
    "audit_for_share",
    "intake_curves",
    "rounding_tolerance",
    "OUTPUT_COLUMNS",
    "ROW_BYTES",
    "TOTALS",
    "expected_totals",
    "expected_totals_many",
    "frame_bytes",
    "draw_reports",
    "ALL_TYPES",
    "Bureaus",
    "CaseType",
    "DynamicState",
    "Dynamics",
    "ENGINES",
    "Metric",
    "ModelParams",
    "OUTCOME_COLUMNS",
    "PLANNER",
    "PRESETS",
    "Response",
    "Schedule",
    "best_response",
    "declined_summary",
    "default_case_types",
    "draw_bureaus",
    "expected_outcomes",
    "frontier",
    "get_metric",
    "intake_moments",
    "later_solve_share",
    "metric_names",
    "metric_table",
    "parse_assignment",
    "planner_response",
    "realized_score",
    "report_sample",
    "shared_capacity",
    "simulate",
    "summarise",
    "tabulated_moments",
    "threshold_curve",
]
