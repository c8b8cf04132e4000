"""Published figures redrawn as published: the share of incidents reported to the police
in England and Wales (ONS Table D10)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from tipresearch.data.reporting import MAIN_OFFENCES
from tipresearch.errors import ParameterError

__all__ = ["OFFENCE_LABELS", "STAGE_NAMES", "plot_funnel", "plot_reporting_series"]

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
