"""Reforms as dated switches on a monthly calendar, the timelines that compose them, and
China's 2008-2015 calendar with its national counts.

- :mod:`tipresearch.reforms.reform`: a reform (:class:`Reform`), a dated change of
  model parameters and metric weights, its operators (``times``, ``plus``,
  ``at_least``, ``at_most``), the share it leaves behind after its end
  (``persist``), and calendar months (:func:`as_month`);
- :mod:`tipresearch.reforms.timeline`: timelines (:class:`Timeline`), the order in
  which reforms in effect in the same month are composed, and simulations with them
  (:func:`simulate_timeline`);
- :mod:`tipresearch.reforms.files`: reforms read from YAML files or dicts
  (:func:`load_reforms`, :func:`reforms_from_dict`);
- :mod:`tipresearch.reforms.calendar`: China's reforms of trafficking-case intake on
  their dates (:class:`ChinaReforms`, :func:`china_timeline`, :func:`china_params`);
- :mod:`tipresearch.reforms.china`: the whole China model (:class:`ChinaModel`), its
  counterfactual calendars and replications (:func:`replicate`);
- :mod:`tipresearch.reforms.counts`: national counts of a simulated calendar per
  year, month and window of days;
- :mod:`tipresearch.reforms.world`: the world a simulated calendar implies
  (reports received, recorded and unrecorded shares, solvable reports declined) and
  the published recording studies it is compared with.

Builds on :mod:`tipresearch.model`.

References
----------
``docs/model.md``, "Dynamics and reforms"; dates from ``data/reform_timeline.csv``.
"""

from __future__ import annotations

from .calendar import REFORM_IDS, ChinaReforms, china_params, china_timeline
from .china import BASE_METRIC, COUNTERFACTUALS, ChinaModel, counterfactual_timelines, replicate
from .counts import annual_counts, monthly_counts, to_annual, window_counts, window_totals
from .files import REFORM_KEYS, load_reforms, reforms_from_dict
from .funnel import (
    CLASSIFICATION_COLUMNS,
    FUNNEL_COLUMNS,
    NCRS_STUDIES,
    REFORM_PATH_COLUMNS,
    SURVEY_OFFENCES,
    classification_table,
    funnel_table,
    recording_reforms,
    recording_solutions,
    reform_paths,
    study_label,
    survey_year_for,
)
from .reform import FIXED_PARAMETERS, OPERATORS, Reform, as_month
from .timeline import Timeline, simulate_timeline
from .world import (
    STAGE_NAMES,
    WORLD_COUNTS,
    WORLD_MEASURES,
    WORLD_SHARES,
    implied_world,
    incidence_change,
    recording_comparison,
    recording_studies,
    replicate_world,
    world_bands,
)

__all__ = [
    "CLASSIFICATION_COLUMNS",
    "FUNNEL_COLUMNS",
    "REFORM_PATH_COLUMNS",
    "classification_table",
    "reform_paths",
    "SURVEY_OFFENCES",
    "funnel_table",
    "NCRS_STUDIES",
    "recording_reforms",
    "recording_solutions",
    "study_label",
    "survey_year_for",
    "BASE_METRIC",
    "COUNTERFACTUALS",
    "FIXED_PARAMETERS",
    "OPERATORS",
    "REFORM_IDS",
    "REFORM_KEYS",
    "STAGE_NAMES",
    "WORLD_COUNTS",
    "WORLD_MEASURES",
    "WORLD_SHARES",
    "ChinaModel",
    "ChinaReforms",
    "Reform",
    "Timeline",
    "annual_counts",
    "as_month",
    "china_params",
    "china_timeline",
    "counterfactual_timelines",
    "implied_world",
    "incidence_change",
    "load_reforms",
    "monthly_counts",
    "recording_comparison",
    "recording_studies",
    "reforms_from_dict",
    "replicate",
    "replicate_world",
    "simulate_timeline",
    "to_annual",
    "window_counts",
    "window_totals",
    "world_bands",
]
