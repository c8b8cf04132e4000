"""The China calendar fitted to published counts: its parameters and targets, the fit,
the fitted result and its checks.

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
from .parameters import FITTED, FitParameter
from .result import FitResult, fit_table, load_fit
from .targets import (
    CONFIDENCE_WEIGHTS,
    KINDS,
    Target,
    china_targets,
    model_moments,
)

__all__ = [
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
