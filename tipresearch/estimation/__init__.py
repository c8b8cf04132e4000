"""Estimating incentive effects from recorded data: panels, estimators, a Monte Carlo.

Researchers see recorded cases, not incidence. This room builds bureau x month panels
from the model with a staggered rating reform (:mod:`.panels`), estimates the reform's
effect with the estimators researchers use (:mod:`.estimators`, on statsmodels; the
fixed-effects Poisson core in :mod:`.poisson`), computes what each estimator aims at
from the model's expected counts (:mod:`.truth`), and runs a Monte Carlo of bias, RMSE
and coverage on the sweep executors (:mod:`.montecarlo`). ``docs/estimation.md`` says
what each estimand is and where each formula comes from.
"""

from .estimators import (
    ESTIMATE_COLUMNS,
    ESTIMATORS,
    EVENT_TERM,
    cross_sectional_ols,
    dark_figure,
    estimate_all,
    event_study,
    event_times,
    naive_before_after,
    national_series,
    negative_binomial,
    not_yet_treated,
    overdispersion,
    segmented_regression,
    twfe_poisson,
    without_event_terms,
)
from .montecarlo import (
    MC_COLUMNS,
    SUMMARY_COLUMNS,
    estimates_with_truth,
    monte_carlo,
    monte_carlo_table,
    replicate,
    replication_seed,
    run_monte_carlo,
    summarise_monte_carlo,
)
from .panels import (
    OBSERVED_COLUMNS,
    PANEL_COLUMNS,
    TRUTH_COLUMNS,
    PanelDesign,
    adoption_periods,
    check_panel,
    simulate_panel,
    yearly_panel,
)
from .poisson import FEPoissonResult, cohorts, fe_negative_binomial, fe_poisson
from .truth import OUTCOME_COLUMNS, TRUTH_FRAME_COLUMNS, true_effects

__all__ = [
    "ESTIMATE_COLUMNS",
    "EVENT_TERM",
    "ESTIMATORS",
    "FEPoissonResult",
    "MC_COLUMNS",
    "OBSERVED_COLUMNS",
    "OUTCOME_COLUMNS",
    "PANEL_COLUMNS",
    "PanelDesign",
    "SUMMARY_COLUMNS",
    "TRUTH_COLUMNS",
    "TRUTH_FRAME_COLUMNS",
    "adoption_periods",
    "check_panel",
    "cohorts",
    "cross_sectional_ols",
    "dark_figure",
    "estimate_all",
    "estimates_with_truth",
    "event_study",
    "event_times",
    "fe_negative_binomial",
    "fe_poisson",
    "monte_carlo",
    "monte_carlo_table",
    "naive_before_after",
    "national_series",
    "negative_binomial",
    "not_yet_treated",
    "overdispersion",
    "replicate",
    "replication_seed",
    "run_monte_carlo",
    "segmented_regression",
    "simulate_panel",
    "summarise_monte_carlo",
    "true_effects",
    "twfe_poisson",
    "without_event_terms",
    "yearly_panel",
]
