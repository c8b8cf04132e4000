"""The funnel from incidents to recorded crimes, from published figures, stage by stage.

Two choices stand between an incident and a recorded crime: the victim's, to report it
(measured by victimisation surveys: the share of incidents the police came to know
about), and the police's, to record what is reported (measured by inspections and
audits). Where both are published for the same place, crimes and time, the share of
incidents that become recorded crimes is their product; where a source measures both
stages at once (recorded crimes over crimes estimated to have happened), it is taken as
published. :func:`funnel_table` builds one row per place, crimes, years and stage, and
says how each share was obtained, so that a reader can see which stage each published
figure measures (``docs/model.md`` §1.1: the model's recording stage is the police's).

References
----------
Office for National Statistics (2019), Table D10 (victims' reporting, England and Wales);
HMIC (2014), Crime-recording: making the victim count; Home Office, Crime in England and
Wales 2002/03; Bureau of Justice Statistics, Criminal Victimization 2017, table 6; Yu &
Zhang (1999); Hu & Hu (2006) (rows and locators in ``data/published/``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tipresearch.data.published import load_published, load_recording_shares, published_value
from tipresearch.data.reporting import load_reporting
from tipresearch.errors import ParameterError
from tipresearch.model.inverse import audit_for_share, rounding_tolerance

from .world import recording_studies

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
]

#: Crimes of a recording study -> the CSEW offence group whose reporting share goes with
#: them (a study of "BCS comparable crimes" goes with the survey's comparable crime).
SURVEY_OFFENCES: dict[str, str] = {
    "all crimes": "all CSEW crime (excluding fraud and computer misuse)",
    "violence": "violence",
}
_COMPARABLE = "comparable crime"

#: Columns of :func:`funnel_table`.
FUNNEL_COLUMNS = ("place", "crime", "years", "stage", "share", "how", "ids")


def survey_year_for(
    start: pd.Timestamp, end: pd.Timestamp, survey_ends: pd.Series
) -> pd.Timestamp | None:
    """The survey year (12 months ending at one of ``survey_ends``) that overlaps
    ``[start, end]`` most; None if none overlaps it.

    Ties go to the later survey year.
    """
    best, overlap = None, pd.Timedelta(0)
    for ending in sorted(pd.to_datetime(survey_ends).unique()):
        ending = pd.Timestamp(ending)
        begins = (ending - pd.DateOffset(years=1)) + pd.Timedelta(days=1)
        common = min(ending, end) - max(begins, start)
        if common >= overlap and common > pd.Timedelta(0):
            best, overlap = ending, common
    return best


def funnel_table(
    reporting: pd.DataFrame | None = None, recording: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Published shares by stage, and the share of incidents recorded where both are known.

    Parameters
    ----------
    reporting : pandas.DataFrame, optional
        :func:`tipresearch.data.load_reporting` (CSEW, England and Wales).
    recording : pandas.DataFrame, optional
        :func:`tipresearch.data.published.load_recording_shares`.

    Returns
    -------
    pandas.DataFrame
        :data:`FUNNEL_COLUMNS`: ``stage`` is ``victim_reporting``,
        ``police_recording`` or ``both_stages``; ``how`` says whether the share is
        published, one minus a published share not recorded, recorded over estimated
        crimes, or the product of the two stages (``reported x recorded``); ``ids``
        names the rows used. For each England and Wales recording study, the CSEW
        reporting share of the survey year that overlaps the study's period most is
        added, and their product.
    """
    reporting = load_reporting() if reporting is None else reporting
    recording = load_recording_shares() if recording is None else recording
    if "offence" not in reporting or "survey_year_ending" not in reporting:
        raise ParameterError(
            "reporting", "a frame without offence and survey year", "load_reporting()"
        )
    periods = recording.set_index("id")[["period_start", "period_end", "measure", "quantity"]]
    studies = recording_studies(recording)
    rows = []
    for study in studies.itertuples(index=False):
        how = {
            "both_stages": "recorded / estimated crimes",
            "police_recording": "published",
            "victim_reporting": "published",
        }[str(study.stage)]
        if study.id in periods.index and periods.loc[study.id, "quantity"] == "share_not_recorded":
            how = "1 - published share not recorded"
        rows.append(
            {
                "place": study.place,
                "crime": study.crime,
                "years": study.years,
                "stage": str(study.stage),
                "share": float(study.share),
                "how": how,
                "ids": study.id,
            }
        )
        if study.place != "England and Wales" or str(study.stage) != "police_recording":
            continue
        # a study of the survey's "comparable crimes" goes with that line of Table D10
        measure = str(periods.loc[study.id, "measure"])
        offence = _COMPARABLE if "comparable" in measure else SURVEY_OFFENCES.get(study.crime)
        if offence is None:
            continue  # the survey table has no reporting share for these crimes
        survey = reporting[reporting["offence"] == offence].dropna(subset=["value"])
        start, end = periods.loc[study.id, ["period_start", "period_end"]]
        ending = survey_year_for(start, end, survey["survey_year_ending"])
        if ending is None:
            continue
        reported = survey[survey["survey_year_ending"] == ending].iloc[0]
        label = f"year ending {ending:%b %Y}"
        rows.append(
            {
                "place": study.place,
                "crime": study.crime,
                "years": label,
                "stage": "victim_reporting",
                "share": float(reported["value"]),
                "how": "published",
                "ids": reported["id"],
            }
        )
        rows.append(
            {
                "place": study.place,
                "crime": study.crime,
                "years": f"{study.years} (recording), {label} (reporting)",
                "stage": "both_stages",
                "share": float(reported["value"]) * float(study.share),
                "how": "reported x recorded",
                "ids": f"{reported['id']} x {study.id}",
            }
        )
    out = pd.DataFrame(rows, columns=list(FUNNEL_COLUMNS))
    return out.drop_duplicates(subset=["place", "crime", "years", "stage"]).reset_index(drop=True)


def study_label(row) -> str:  # noqa: ANN001 - a funnel_table row (namedtuple or Series)
    """``place, crimes, years (share)``: how figures and tables name a study."""
    return f"{row.place}, {row.crime}, {row.years} ({row.share:.1%})"


def recording_solutions(curves: pd.DataFrame, funnel: pd.DataFrame) -> pd.DataFrame:
    """:func:`tipresearch.model.audit_for_share` for every police-recording share of a funnel.

    Each share fits within its rounding (:func:`tipresearch.model.rounding_tolerance`);
    a ``study`` column names it (:func:`study_label`) and ``ids`` gives its rows.
    """
    recording = funnel[funnel["stage"] == "police_recording"]
    if recording.empty:
        raise ParameterError("funnel", "no police_recording rows", "funnel_table() output")
    return pd.concat(
        [
            audit_for_share(curves, r.share, rounding_tolerance(r.share)).assign(
                study=study_label(r), ids=r.ids
            )
            for r in recording.itertuples(index=False)
        ],
        ignore_index=True,
    )


#: The recording studies before and after the National Crime Recording Standard
#: (violence, England and Wales, 1999 and 2002/03).
NCRS_STUDIES: tuple[str, str] = ("ew_violent_recorded_1999", "ew_violent_recorded_2002")


def recording_reforms(
    solutions: pd.DataFrame,
    out_of_sample: pd.DataFrame,
    published: pd.DataFrame | None = None,
    rule: str = "clearance_rate",
) -> tuple[pd.DataFrame, np.ndarray]:
    """Two recording reforms, published against the model.

    Parameters
    ----------
    solutions : pandas.DataFrame
        :func:`recording_solutions`.
    out_of_sample : pandas.DataFrame
        ``data/fit/out_of_sample.csv`` (its ``full`` design's ``growth_2009`` row).
    published : pandas.DataFrame, optional
        :func:`tipresearch.data.published.load_published` (loaded if None).
    rule : str
        The rating rule under which the standard is read as an audit.

    Returns
    -------
    table : pandas.DataFrame
        ``reform``, ``published``, ``in the model``, one row each for the National
        Crime Recording Standard (as the audit ``rule`` needs before and after) and
        China's 2009 filing rule (the fitted calendar's 2009/2008 ratio, in-sample).
    audits : ndarray
        The audit probability ``rule`` needs before and after the standard (NaN where
        it cannot produce the share).
    """
    published = load_published() if published is None else published
    under = solutions[solutions["metric"] == rule].set_index("ids")
    missing = [i for i in NCRS_STUDIES if i not in under.index]
    if missing:
        raise ParameterError("solutions", missing, "rows for both NCRS studies")
    audits = under.loc[list(NCRS_STUDIES), "audit_prob"].to_numpy(dtype=float)
    shares = under.loc[list(NCRS_STUDIES), "share"].to_numpy(dtype=float)
    full = out_of_sample[(out_of_sample["design"] == "full")]
    growth = full[full["figure"] == "growth_2009"]
    if len(growth) != 1:
        raise ParameterError("out_of_sample", "no full growth_2009 row", "out_of_sample.csv")
    growth = growth.iloc[0]
    before = published_value(published, "cn_reg_traf_2008")
    after = published_value(published, "cn_reg_traf_2009")
    others = solutions[solutions["ids"] == NCRS_STUDIES[0]]
    alone = set(others.loc[others["fits"], "metric"]) == {rule}
    table = pd.DataFrame(
        [
            {
                "reform": "National Crime Recording Standard (violence, 1999 to 2002/03)",
                "published": f"{shares[0]:.0%} to {shares[1]:.0%} recorded",
                "in the model": f"audit {audits[0]:.3f} to {audits[1]:.3f}, rated on the "
                + rule.replace("_", " ")
                + (f" (no other rule records {shares[0]:.0%})" if alone else ""),
            },
            {
                "reform": "China's 2009 filing rule (registered trafficking cases)",
                "published": f"{before:,.0f} to {after:,.0f} (x{after / before:.2f})",
                "in the model": f"x{growth['model']:.2f} ({growth['low_5']:.2f} to "
                f"{growth['high_95']:.2f}), {growth['role']}: a ratio of two fitted counts",
            },
        ]
    )
    return table, audits


#: Columns of :func:`classification_table`.
CLASSIFICATION_COLUMNS = (
    "place",
    "crime",
    "years",
    "published",
    "share_counted",
    "share_counted_low",
    "share_counted_high",
    "ids",
    "source",
    "confidence",
)


def classification_table(recording: pd.DataFrame | None = None) -> pd.DataFrame:
    """The figures on crimes recorded as lesser ones (Los Angeles, New York City).

    They are beside the funnel: a serious assault recorded as a minor one was recorded,
    as the wrong crime. Where a figure says how much higher the serious count would
    have been (``share_above_official``, *s*), the share of serious crimes counted as
    serious is ``1 / (1 + s)``, with the bounds of ``s`` within its rounding
    (:func:`tipresearch.model.rounding_tolerance`); other figures (a count of crimes
    misclassified, a survey of officers) are shown as published.

    Parameters
    ----------
    recording : pandas.DataFrame, optional
        :func:`tipresearch.data.published.load_recording_shares` (loaded if None).

    Returns
    -------
    pandas.DataFrame
        :data:`CLASSIFICATION_COLUMNS`, one row per ``police_classification`` figure;
        ``share_counted`` and its bounds are NaN where a figure does not give them.
    """
    recording = load_recording_shares() if recording is None else recording
    needed = {"id", "stage", "quantity", "value", "place", "crime", "period_start"}
    needed |= {"period_end", "qualifier", "unit", "measure", "source", "confidence"}
    if not isinstance(recording, pd.DataFrame) or not needed <= set(recording.columns):
        raise ParameterError(
            "recording", "a frame without the recording table's columns", "load_recording_shares()"
        )
    rows = []
    for r in recording[recording["stage"].astype(str) == "police_classification"].itertuples():
        quantity, value = str(r.quantity), float(r.value)
        counted = low = high = np.nan
        if quantity == "share_above_official":
            tol = rounding_tolerance(value)
            counted, low, high = 1 / (1 + value), 1 / (1 + value + tol), 1 / (1 + value - tol)
            published = f"{value:.0%} more serious assaults than officially counted"
        elif quantity == "crimes_misclassified":
            qualifier = "" if str(r.qualifier) == "exact" else f"{r.qualifier} "
            published = f"{qualifier}{value:,.0f} {r.unit} misclassified"
        else:
            published = f"{value:.0%}: {r.measure}"
        first, last = r.period_start.year, r.period_end.year
        rows.append(
            {
                "place": r.place,
                "crime": str(r.crime).replace("_", " "),
                "years": str(first) if first == last else f"{first}-{last}",
                "published": published,
                "share_counted": counted,
                "share_counted_low": low,
                "share_counted_high": high,
                "ids": r.id,
                "source": r.source,
                "confidence": str(r.confidence),
            }
        )
    return pd.DataFrame(rows, columns=list(CLASSIFICATION_COLUMNS))


#: Columns of :func:`reform_paths`.
REFORM_PATH_COLUMNS = (
    "rule_before",
    "audit_before_low",
    "audit_before_high",
    "rule_after",
    "audit_after_low",
    "audit_after_high",
    "change",
)


def reform_paths(solutions: pd.DataFrame, before: str, after: str) -> pd.DataFrame:
    """Every way the model can go from one published recording share to another.

    A reform is read as a change of rating rule, of audit strength, or both: for each
    rule that produces the share ``before`` and each that produces ``after`` (within
    their rounding, :func:`recording_solutions`), the audits that do it. A pair with
    the same rule needs another audit (``stronger audit``, or ``weaker audit``); a pair
    of two rules whose audit ranges overlap needs no change of audit (``new rating
    alone``); otherwise both change (``new rating and audit``).

    Parameters
    ----------
    solutions : pandas.DataFrame
        :func:`recording_solutions` (its ``ids``, ``metric``, ``fits``, ``audit_low``,
        ``audit_high``).
    before, after : str
        The row ids of the two published shares (for example :data:`NCRS_STUDIES`).

    Returns
    -------
    pandas.DataFrame
        :data:`REFORM_PATH_COLUMNS`, one row per pair of fitting rules (empty if either
        share is out of reach), rules as metric names.
    """
    for name, row_id in (("before", before), ("after", after)):
        if row_id not in set(solutions["ids"]):
            raise ParameterError(name, row_id, "a row id among the solutions' ids")
    fit = solutions[solutions["fits"]]
    first = fit[fit["ids"] == before].itertuples(index=False)
    second = list(fit[fit["ids"] == after].itertuples(index=False))
    rows = []
    for b in first:
        for a in second:
            if a.metric == b.metric:
                change = "stronger audit" if a.audit_low > b.audit_high else "weaker audit"
                if a.audit_low <= b.audit_high and a.audit_high >= b.audit_low:
                    change = "no change needed"
            elif a.audit_low <= b.audit_high and a.audit_high >= b.audit_low:
                change = "new rating alone"
            else:
                change = "new rating and audit"
            rows.append(
                {
                    "rule_before": b.metric,
                    "audit_before_low": b.audit_low,
                    "audit_before_high": b.audit_high,
                    "rule_after": a.metric,
                    "audit_after_low": a.audit_low,
                    "audit_after_high": a.audit_high,
                    "change": change,
                }
            )
    return pd.DataFrame(rows, columns=list(REFORM_PATH_COLUMNS))
