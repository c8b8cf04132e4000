"""China's reforms of trafficking-case intake, 2008-2015, as a calendar of reforms.

:class:`ChinaReforms` holds the size of each reform (model choices, stated and
adjustable); :func:`china_timeline` places them on the dates of
``data/reform_timeline.csv``; :func:`china_params` gives the model's parameters
before any reform. :class:`tipresearch.reforms.china.ChinaModel` bundles them with the
metric, the dynamics and the national scale.

The reforms
-----------
================================ ============ ===========================================
reform                           in effect    change (defaults)
================================ ============ ===========================================
``indicator_2008``               2008-01 on   solved-case quota 0.05 per expected report,
                                              penalty 5 per case short of it: discipline
                                              for bureaus that solve too little
                                              (09BEIJING2594 ¶9; the year only is known)
``missing_child_filing_rule``    2009-04 on   children: audit probability
                                              ``mandatory_audit_prob`` (fitted) and
                                              penalty 5 per declined report found
                                              (mandatory intake, 9 April 2009)
``dna_database``                 2009-04 on   children: DNA effect 0.1, cold-case
                                              hazard × 3 (¶7; in use since April 2009)
``special_campaign_2009``        2009-04 to   weight on solved cases × 2, audit
                                 2009-12      probability at least 0.3, capacity × 1.5
                                              (¶6, ¶8); a share ``campaign_persist``
                                              (fitted) stays afterwards
``campaign_recall_2009``         2009-04 to   children: ``recall_prob`` (0: off, and
                                 2009-12      the reform is left out) of declined
                                              solvable reports brought back, registered
                                              and solved each month (¶7: old cases
                                              solved); nothing stays afterwards
``reporting_2009``               2009-04 on   reports reaching the police, both types,
                                              × ``reporting_times`` (1: off, and the
                                              reform is left out); capacity unchanged:
                                              more victims and families report once
                                              reports must be filed (¶7), not more
                                              recording
``indicator_abolished``          2015-11 on   clearance-rate weight, quota and quota
                                              penalty set to 0 (6 November 2015);
                                              weight on solved cases ×
                                              ``abolition_solved_times`` (1: kept)
================================ ============ ===========================================

References
----------
US Embassy Beijing, cable 09BEIJING2594 (10 September 2009), ¶6-¶9; Ministry of
Public Security, Gongtongzi [2015] No. 32; ``docs/model.md``, section 3.3.12
(schedules and reforms).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tipresearch.data import load_reform_timeline
from tipresearch.errors import ParameterError
from tipresearch.model.params import CaseType, ModelParams, _in_range, _whole

from .reform import Reform, as_month
from .timeline import Timeline

__all__ = ["REFORM_IDS", "ChinaReforms", "china_params", "china_timeline"]


#: The reforms of ``data/reform_timeline.csv`` the China timeline uses, in list order.
REFORM_IDS: tuple[str, ...] = (
    "indicator_2008",
    "missing_child_filing_rule",
    "dna_database",
    "special_campaign_2009",
    "indicator_abolished",
)


@dataclass(frozen=True)
class ChinaReforms:
    """Sizes of the China reforms (model choices, not published figures).

    Parameters
    ----------
    indicator_quota : float
        Solved cases required per expected report under the 2008 indicator (>= 0).
    indicator_quota_penalty : float
        Penalty per solved case short of that quota (>= 0).
    mandatory_audit_prob, mandatory_audit_penalty : float
        Children's audit probability (in [0, 1]) and penalty per declined report
        found (>= 0) once every missing-child report must be filed.
    dna_effect : float
        Children's DNA effect ``delta`` in [0, 1).
    dna_hazard_times : float
        Multiplier of children's cold-case hazard with the DNA database (>= 0).
    campaign_solved_times : float
        Multiplier of the weight on solved cases during the 2009 campaign (>= 0).
    campaign_audit_prob : float
        Audit probability during the campaign, in [0, 1] (at least this much).
    campaign_capacity_times : float
        Multiplier of investigative capacity during the campaign (> 0): central
        attention and resources (09BEIJING2594 ¶6).
    campaign_persist : float
        Share in [0, 1] of the campaign's changes that stays after December 2009.
    abolition_solved_times : float
        Multiplier (>= 0) of the weight on solved cases from the 2015 abolition of
        the case-count and clearance-rate indicators. 1 (the default) keeps the
        weight, as in the calendar fitted so far: the Opinion abolished the
        indicators, but the count of cases solved may still weigh with superiors;
        0 removes it with the indicators.
    recall_prob : float
        Children's ``recall_prob`` in [0, 1] during the 2009 campaign (April to
        December): the monthly chance that a declined but solvable report still
        in the stock is brought back, registered and solved (09BEIJING2594 ¶7
        tells of old cases solved after the reforms; ``docs/model.md``, §3.3.10).
        0 (the default) leaves the calendar as fitted so far; above 0 the
        timeline gets the reform ``campaign_recall_2009`` on the campaign's
        dates, with nothing left behind after December 2009 (the campaign's own
        ``campaign_persist`` does not apply to it).
    reporting_times : float
        Multiplier (> 0) of the reports that reach the police, both case types,
        from April 2009 on (the month of the filing rule): the victims' reporting
        stage, apart from police recording. Once missing-person reports must be
        filed as cases and a DNA database matches families to children found
        (09BEIJING2594 ¶7), more victims and families may come to the police; the
        bureaus' capacity stays as it was. 1 (the default) leaves the calendar as
        fitted so far; otherwise the timeline gets the reform ``reporting_2009``
        (``docs/model.md``, §3.3.12).
    """

    indicator_quota: float = 0.05
    indicator_quota_penalty: float = 5.0
    mandatory_audit_prob: float = 0.1
    mandatory_audit_penalty: float = 5.0
    dna_effect: float = 0.1
    dna_hazard_times: float = 3.0
    campaign_solved_times: float = 2.0
    campaign_audit_prob: float = 0.3
    campaign_capacity_times: float = 1.5
    campaign_persist: float = 0.85
    abolition_solved_times: float = 1.0
    recall_prob: float = 0.0
    reporting_times: float = 1.0

    def __post_init__(self) -> None:
        checks = {
            "indicator_quota": (0, np.inf),
            "indicator_quota_penalty": (0, np.inf),
            "mandatory_audit_prob": (0, 1),
            "mandatory_audit_penalty": (0, np.inf),
            "dna_effect": (0, 0.999),
            "dna_hazard_times": (0, np.inf),
            "campaign_solved_times": (0, np.inf),
            "campaign_audit_prob": (0, 1),
            "campaign_capacity_times": (1e-6, np.inf),
            "campaign_persist": (0, 1),
            "abolition_solved_times": (0, np.inf),
            "recall_prob": (0, 1),
            "reporting_times": (1e-6, np.inf),
        }
        for name, (lo, hi) in checks.items():
            object.__setattr__(
                self, name, _in_range(f"reforms.{name}", getattr(self, name), lo, hi)
            )


def china_timeline(
    reforms: ChinaReforms | None = None, dates: pd.DataFrame | None = None
) -> Timeline:
    """The China reforms on their dates.

    Parameters
    ----------
    reforms : ChinaReforms, optional
        Sizes of the reforms (defaults if None).
    dates : pandas.DataFrame, optional
        A table from :func:`tipresearch.data.load_reform_timeline` (loaded if None).

    Returns
    -------
    Timeline
        The five reforms of :data:`REFORM_IDS`, each starting in the month of its
        ``date_start`` and, for the campaign, ending in the month of ``date_end``;
        when ``reforms.recall_prob > 0``, also ``campaign_recall_2009`` on the
        campaign's dates, and when ``reforms.reporting_times != 1``,
        ``reporting_2009`` from the filing rule's month (both after the campaign,
        before the abolition).
    """
    r = ChinaReforms() if reforms is None else reforms
    dates = load_reform_timeline() if dates is None else dates
    rows = dates.set_index("id")
    missing = [i for i in REFORM_IDS if i not in rows.index]
    if missing:
        raise ParameterError("dates", missing, f"a reform table with rows {', '.join(REFORM_IDS)}")

    def when(row_id: str) -> tuple[pd.Period, pd.Period]:
        row = rows.loc[row_id]
        return as_month(row["date_start"]), as_month(row["date_end"])

    def source(row_id: str) -> str:
        row = rows.loc[row_id]
        return f"{row['source']}; {row['locator']}"

    campaign_start, campaign_end = when("special_campaign_2009")
    return Timeline(
        [
            Reform(
                "indicator_2008",
                when("indicator_2008")[0],
                params={},
                metric={"quota": r.indicator_quota, "quota_penalty": r.indicator_quota_penalty},
                source=source("indicator_2008"),
            ),
            Reform(
                "missing_child_filing_rule",
                when("missing_child_filing_rule")[0],
                params={
                    "children.audit_prob": r.mandatory_audit_prob,
                    "children.audit_penalty": r.mandatory_audit_penalty,
                },
                source=source("missing_child_filing_rule"),
            ),
            Reform(
                "dna_database",
                when("dna_database")[0],
                params={
                    "children.dna_effect": r.dna_effect,
                    "children.backlog_hazard": {"times": r.dna_hazard_times},
                },
                source=source("dna_database"),
            ),
            Reform(
                "special_campaign_2009",
                campaign_start,
                campaign_end,
                params={
                    "audit_prob": {"at_least": r.campaign_audit_prob},
                    "capacity_ratio": {"times": r.campaign_capacity_times},
                },
                metric={"solved": {"times": r.campaign_solved_times}},
                persist=r.campaign_persist,
                source=source("special_campaign_2009"),
            ),
            *(
                []
                if r.recall_prob == 0.0
                else [
                    Reform(
                        "campaign_recall_2009",
                        campaign_start,
                        campaign_end,
                        params={"children.recall_prob": r.recall_prob},
                        source=source("special_campaign_2009") + "; 09BEIJING2594 ¶7",
                    )
                ]
            ),
            *(
                []
                if r.reporting_times == 1.0
                else [
                    Reform(
                        "reporting_2009",
                        when("missing_child_filing_rule")[0],
                        params={"reports_mean": {"times": r.reporting_times}},
                        source=source("missing_child_filing_rule") + "; 09BEIJING2594 ¶7",
                    )
                ]
            ),
            Reform(
                "indicator_abolished",
                when("indicator_abolished")[0],
                metric={
                    "rate": 0.0,
                    "quota": 0.0,
                    "quota_penalty": 0.0,
                    **(
                        {}
                        if r.abolition_solved_times == 1.0
                        else {"solved": {"times": r.abolition_solved_times}}
                    ),
                },
                source=source("indicator_abolished"),
            ),
        ]
    )


def _beta_shapes(mean: float, concentration: float) -> tuple[float, float]:
    return mean * concentration, (1.0 - mean) * concentration


def china_params(
    *,
    n_bureaus: int = 200,
    national_bureaus: int = 2800,
    reports_per_bureau: float = 2.25,
    children_share: float = 0.5,
    women_solvability: float = 0.75,
    children_solvability: float = 0.75,
    concentration: float = 0.6,
    **changes: Any,
) -> ModelParams:
    """Model parameters before any reform, for the China calibration.

    A unit pools ``national_bureaus / n_bureaus`` county bureaus: expected reports
    vary across units as a lognormal with sigma 0.5 (trafficking is concentrated
    in some regions), capacity per expected report with sigma 0.15 (pooled
    bureaus' capacities average out). Screening noise 0.3: at intake a report's
    chance of being solved is hard to judge.

    Solvability is Beta with the given mean and ``a + b = concentration``; a
    concentration below 2 makes it U-shaped (most reports either easy or hard to
    solve), which lets a bureau that files only what it can solve keep a
    clearance rate near 1. Victims per solved case are the cable's ¶8 ratios
    (2,291 / 1,214 and 1,460 / 1,174).

    Parameters
    ----------
    n_bureaus : int
        Units simulated, each pooling ``national_bureaus / n_bureaus`` county bureaus.
    national_bureaus : int
        County-level public security bureaus in China (about 2,800).
    reports_per_bureau : float
        Expected reports per county bureau and month, both types (> 0); a unit's
        ``reports_mean`` is this times the bureaus it pools.
    children_share : float
        Share of reports about children, in (0, 1).
    women_solvability, children_solvability : float
        Mean solvability, in (0, 1).
    concentration : float
        ``a + b`` of both Beta distributions (> 0).
    **changes
        Other :class:`~tipresearch.model.params.ModelParams` fields.
    """
    n_bureaus = _whole("n_bureaus", n_bureaus)
    pool = _whole("national_bureaus", national_bureaus) / n_bureaus
    reports = _in_range("reports_per_bureau", reports_per_bureau, 0, lo_open=True) * pool
    share = _in_range("children_share", children_share, 0, 1, lo_open=True, hi_open=True)
    women = CaseType(
        "women",
        *_beta_shapes(
            _in_range("women_solvability", women_solvability, 0, 1, lo_open=True, hi_open=True),
            _in_range("concentration", concentration, 0, lo_open=True),
        ),
        share=1.0 - share,
        victims_per_solved=2291 / 1214,
        backlog_hazard=0.01,
    )
    children = CaseType(
        "children",
        *_beta_shapes(
            _in_range(
                "children_solvability", children_solvability, 0, 1, lo_open=True, hi_open=True
            ),
            concentration,
        ),
        share=share,
        victims_per_solved=1460 / 1174,
        backlog_hazard=0.005,
    )
    base: dict[str, Any] = {
        "n_bureaus": n_bureaus,
        "reports_mean": reports,
        "reports_sigma": 0.5,
        "capacity_ratio": 1.0,
        "capacity_sigma": 0.15,
        "effort_half": 0.25,
        "screening_noise": 0.3,
        "audit_prob": 0.02,
        "audit_penalty": 0.5,
        "handling_cost": 0.05,
        "backlog_attrition": 0.05,
    }
    known = {f.name for f in dataclasses.fields(ModelParams)} - {"case_types"}
    for key, value in changes.items():
        if key not in known:
            raise ParameterError(
                f"settings.{key}",
                value,
                "an argument of china_params or a ModelParams field: " + ", ".join(sorted(known)),
            )
    base.update(changes)
    return ModelParams(case_types=(women, children), **base)
