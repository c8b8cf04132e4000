"""Published figures redrawn as published: the share of incidents reported to the police
in England and Wales (ONS Table D10)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tipresearch.data.reporting import MAIN_OFFENCES
from tipresearch.errors import ParameterError

__all__ = ["OFFENCE_LABELS", "STAGE_NAMES", "plot_funnel", "plot_inverse", "plot_reporting_series"]

#: Offence groups in plain words on figures.
OFFENCE_LABELS: dict[str, str] = {
    "all CSEW crime (excluding fraud and computer misuse)": "all crime (without fraud)",
    "vehicle-related theft": "vehicle-related theft",
}


def plot_reporting_series(table: pd.DataFrame, offences: Sequence[str] = MAIN_OFFENCES) -> Figure:
    """Share of CSEW incidents reported to the police, by survey year, one line per group.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`tipresearch.data.load_reporting`.
    offences : sequence of str
        Offence groups to draw (top-level names of Table D10).

    Returns
    -------
    matplotlib.figure.Figure
        Each published value a marker at the end of its survey year (a gap where the
        ONS gives none), joined only between surveys at most two years apart; a dotted
        line where the survey moves from calendar years (to 1997) to financial years
        (from 2001/02).

    References
    ----------
    Office for National Statistics (2019), Crime in England and Wales: Annual Trend and
    Demographic Tables, year ending March 2019, Table D10.
    """
    missing = [o for o in offences if o not in set(table["offence"])]
    if missing:
        raise ParameterError("offences", missing, "offence groups of Table D10")
    fig, ax = plt.subplots(figsize=(9, 5))
    for offence in offences:
        rows = table[table["offence"] == offence].sort_values("survey_year_ending")
        values = rows["value"].to_numpy(dtype=float).copy()
        # no line across years without a survey (1981, 1991, 1995, ...): a line would
        # suggest figures the ONS never published
        dates = rows["survey_year_ending"]
        apart = dates.diff().dt.days.fillna(0).to_numpy() > 2 * 366
        x = list(dates)
        y = list(values)
        for i in sorted(apart.nonzero()[0], reverse=True):
            x.insert(i, dates.iloc[i - 1] + (dates.iloc[i] - dates.iloc[i - 1]) / 2)
            y.insert(i, float("nan"))
        ax.plot(
            x,
            y,
            marker="o",
            markersize=4,
            lw=2.2 if offence.startswith("all") else 1.5,
            label=OFFENCE_LABELS.get(offence, offence),
        )
    ax.axvline(pd.Timestamp("1999-12-31"), color="0.5", ls=":", lw=1)
    ax.annotate(
        "calendar-year surveys | financial-year surveys",
        xy=(pd.Timestamp("1999-12-31"), 0.02),
        ha="center",
        fontsize="x-small",
        color="0.35",
    )
    ax.set_ylim(0, 1)
    ax.set_xlabel("end of the survey year")
    ax.set_ylabel("share of incidents reported to the police")
    ax.set_title("Incidents reported to the police, Crime Survey for England and Wales")
    ax.legend(fontsize="small", loc="upper left", ncols=2)
    fig.tight_layout()
    return fig


#: The stages of the funnel in plain words.
STAGE_NAMES: dict[str, str] = {
    "victim_reporting": "reported by the victim",
    "police_recording": "recorded by the police, of those reported",
    "both_stages": "recorded, of all incidents",
}


def plot_funnel(funnel: pd.DataFrame) -> Figure:
    """Each published stage of the funnel, one bar per place, crimes, years and stage.

    Parameters
    ----------
    funnel : pandas.DataFrame
        :func:`tipresearch.reforms.funnel_table`.

    Returns
    -------
    matplotlib.figure.Figure
        Horizontal bars grouped by place and crimes, coloured by stage, each labelled
        with its share; a hatched bar is a product of two published stages, not a
        published figure.
    """
    from .world import STAGE_COLOURS

    needed = {"place", "crime", "years", "stage", "share", "how"}
    if not isinstance(funnel, pd.DataFrame) or not needed <= set(funnel.columns):
        raise ParameterError("funnel", type(funnel).__name__, "funnel_table() output")
    rank = {stage: i for i, stage in enumerate(STAGE_NAMES)}
    rows = (
        funnel.assign(_rank=funnel["stage"].map(rank))
        .sort_values(["place", "crime", "_rank", "years"], kind="stable")
        .reset_index(drop=True)
    )
    fig, ax = plt.subplots(figsize=(10, 0.42 * len(rows) + 1.6))
    y = range(len(rows))[::-1]
    for pos, row in zip(y, rows.itertuples(index=False), strict=True):
        computed = row.how == "reported x recorded"
        ax.barh(
            pos,
            row.share,
            color=STAGE_COLOURS[row.stage],
            hatch="//" if computed else None,
            edgecolor="white" if computed else None,
        )
        ax.text(row.share + 0.01, pos, f"{row.share:.0%}", va="center", fontsize="x-small")
    ax.set_yticks(list(y))
    ax.set_yticklabels(
        [f"{r.place}, {r.crime}, {r.years}" for r in rows.itertuples(index=False)],
        fontsize="x-small",
    )
    ax.set_xlim(0, 1.08)
    ax.set_xlabel("share")
    handles = [
        plt.Rectangle((0, 0), 1, 1, color=STAGE_COLOURS[s], label=name)
        for s, name in STAGE_NAMES.items()
    ]
    handles.append(
        plt.Rectangle(
            (0, 0),
            1,
            1,
            facecolor="0.7",
            hatch="//",
            edgecolor="white",
            label="product of the two published stages",
        )
    )
    ax.legend(handles=handles, fontsize="x-small", loc="lower right")
    ax.set_title("From incidents to recorded crimes, stage by stage, as published")
    fig.tight_layout()
    return fig


def plot_inverse(curves: pd.DataFrame, solutions: pd.DataFrame, title: str | None = None) -> Figure:
    """The inverse problem: intake over audit probability per rule, and the audit each
    published recording share needs.

    Parameters
    ----------
    curves : pandas.DataFrame
        :func:`tipresearch.model.intake_curves`.
    solutions : pandas.DataFrame
        :func:`tipresearch.model.audit_for_share` rows for several shares, with a
        ``study`` column naming each share's study.
    title : str, optional
        The figure's title (say which parameters the curves use).

    Returns
    -------
    matplotlib.figure.Figure
        Left: each rule's intake rate (share of reports opened, the model's recording
        stage) against the audit probability, the published shares as grey lines.
        Right: for each study, the audit probability each fitting rule needs (marker)
        and the band within the figure's rounding (bar); a study no rule fits is
        marked so.
    """
    from .theme import metric_label

    needed = {"metric", "audit_prob", "audit_low", "audit_high", "fits", "share", "study"}
    if not needed <= set(solutions.columns):
        raise ParameterError("solutions", sorted(solutions.columns), f"columns {sorted(needed)}")
    rules = list(dict.fromkeys(curves["metric"]))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colour = {rule: colours[i % len(colours)] for i, rule in enumerate(rules)}
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5.2), width_ratios=(1, 1.25))
    for share in solutions["share"].unique():
        left.axhline(share, color="0.75", lw=0.8, zorder=0)
    for rule in rules:
        g = curves[curves["metric"] == rule]
        left.plot(
            g["audit_prob"], g["intake_rate"], color=colour[rule], lw=1.8, label=metric_label(rule)
        )
    left.set_xlabel("audit probability (per declined report)")
    left.set_ylabel("intake rate (share of reports opened)")
    left.set_ylim(0, 1.05)
    left.set_title("Intake under each rating rule")
    left.legend(fontsize="x-small", loc="center right")
    studies = list(dict.fromkeys(solutions["study"]))
    for pos, study in enumerate(studies[::-1]):
        rows = solutions[solutions["study"] == study]
        fitting = rows[rows["fits"]]
        if fitting.empty:
            right.text(
                0.005, pos, "no rule reaches it", va="center", fontsize="x-small", color="0.35"
            )
        offsets = np.linspace(-0.15, 0.15, len(fitting)) if len(fitting) > 1 else [0.0]
        for off, row in zip(offsets, fitting.itertuples(index=False), strict=False):
            right.plot(
                [row.audit_low, row.audit_high],
                [pos + off] * 2,
                color=colour[row.metric],
                lw=3,
                alpha=0.5,
            )
            if row.audit_prob == row.audit_prob:
                right.plot(row.audit_prob, pos + off, "o", color=colour[row.metric], ms=5)
    right.set_ylim(-0.6, len(studies) - 0.4)
    right.set_yticks(range(len(studies)))
    right.set_yticklabels(studies[::-1], fontsize="x-small")
    right.set_xlim(left=0)
    right.set_xlabel("audit probability needed")
    right.set_title("Audit each published share needs")
    fig.suptitle(
        title or "Which rating rule and audit strength produce each published recording share"
    )
    fig.tight_layout()
    return fig
