"""The China calendar fitted to published counts: its parameters and targets, the fit,
the fitted result and its checks, what the figures pin down (profiles, robust errors)
and how the fit does on figures it was not fitted to (hold-out designs).

Builds on :mod:`tipresearch.reforms`; the published counts come from
``data/published/``, the committed fit is ``data/fit/``.
"""

from __future__ import annotations

from .calibrate import bootstrap, fit, synthetic_targets
from .checks import (
    CHECK_ALLOWED,
    campaign_solved,
    fit_checks,
    replication_means,
    trade_off_table,
)
from .identification import (
    FLAT_PROFILE,
    best_profile_point,
    identification_table,
    profiles,
    refit_chains,
    traces_as_profile,
)
from .mechanisms import SWITCHES, mechanism_table, mechanism_verdict
from .parameters import FITTED, FitParameter
from .recovery import RECOVERY_DATA_SEED, coverage_table, recovery
from .result import FitResult, fit_table, load_fit, on_bounds, sandwich_errors
from .ridge import RIDGE_OUTCOMES, load_traces, near_best, ridge_outcomes, trace_ridge
from .targets import (
    CONFIDENCE_WEIGHTS,
    KINDS,
    Target,
    china_targets,
    model_moments,
)
from .validation import (
    HOLDOUTS,
    NOT_PRODUCED,
    PREDICTION_SEEDS,
    HoldOut,
    china_figures,
    fit_holdouts,
    out_of_sample_table,
    predict,
)

__all__ = [
    "RIDGE_OUTCOMES",
    "load_traces",
    "near_best",
    "ridge_outcomes",
    "trace_ridge",
    "FLAT_PROFILE",
    "RECOVERY_DATA_SEED",
    "best_profile_point",
    "coverage_table",
    "mechanism_table",
    "mechanism_verdict",
    "SWITCHES",
    "recovery",
    "HOLDOUTS",
    "NOT_PRODUCED",
    "PREDICTION_SEEDS",
    "HoldOut",
    "china_figures",
    "fit_holdouts",
    "identification_table",
    "on_bounds",
    "out_of_sample_table",
    "predict",
    "profiles",
    "refit_chains",
    "traces_as_profile",
    "sandwich_errors",
    "CHECK_ALLOWED",
    "CONFIDENCE_WEIGHTS",
    "FITTED",
    "FitParameter",
    "FitResult",
    "KINDS",
    "Target",
    "bootstrap",
    "campaign_solved",
    "china_targets",
    "fit",
    "fit_checks",
    "fit_table",
    "load_fit",
    "model_moments",
    "replication_means",
    "synthetic_targets",
    "trade_off_table",
]
