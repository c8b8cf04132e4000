"""Figures of what the cable reports (notebook 01): campaign results, victims per case,
and the timeline of reforms.

Every function takes a tidy frame from :mod:`tipresearch.data` and returns its
:class:`matplotlib.figure.Figure`, with axes labelled in units, in the collection's
theme (:func:`tipresearch.figures.theme.set_theme`).
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from tipresearch.errors import ParameterError

from .layout import keep_inside
from .theme import CASE_TYPE_COLOURS, CASE_TYPE_NAMES, CONFIDENCE_COLOURS

__all__ = ["plot_campaign_results", "plot_ratios", "plot_timeline"]


def _label_bars(ax: plt.Axes, fmt: str) -> None:
    for container in ax.containers:
        ax.bar_label(container, fmt=fmt, padding=2, fontsize="small")


def plot_campaign_results(cable: pd.DataFrame) -> Figure:
    """Cases solved and victims rescued in the 2009 campaign, by case type.

    Parameters
    ----------
    cable : pandas.DataFrame
        A table from :func:`tipresearch.data.load_cable`; the rows with unit
        ``cases`` or ``persons`` whose ids start with ``solved_`` or ``rescued_``
        and whose case type is women or children are plotted.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels: cases solved (cases) and victims rescued (persons).

    References
    ----------
    09BEIJING2594 ¶8.
    """
    panels = (("solved_", "Cases solved", "cases"), ("rescued_", "Victims rescued", "persons"))
    fig, axes = plt.subplots(1, 2, figsize=(9, 4), sharey=False)
    for ax, (prefix, title, unit) in zip(axes, panels, strict=True):
        rows = cable[
            cable["id"].str.startswith(prefix)
            & cable["case_type"].isin(["women", "children"])
            & (cable["unit"] == unit)
        ].copy()
        if rows.empty:
            raise ParameterError("cable", f"a table without '{prefix}*' rows", "load_cable()")
        rows["case_type"] = rows["case_type"].cat.remove_unused_categories()
        sns.barplot(
            data=rows,
            x="case_type",
            y="value",
            hue="case_type",
            palette=CASE_TYPE_COLOURS,
            legend=False,
            dodge=False,
            width=0.6,
            ax=ax,
        )
        _label_bars(ax, "{:,.0f}")
        ax.set_title(title)
        ax.set_xlabel("case type")
        ax.set_ylabel(f"number ({unit})")
        ax.margins(y=0.12)
    fig.suptitle("Special campaign, April to mid-August 2009")
    fig.tight_layout()
    return fig


def plot_ratios(ratios: pd.DataFrame) -> Figure:
    """Victims rescued per solved case and the shares derived from the cable.

    Parameters
    ----------
    ratios : pandas.DataFrame
        A table from :func:`tipresearch.data.cable_ratios`.

    Returns
    -------
    matplotlib.figure.Figure
        Left: persons rescued per solved case by case type, with a line at one
        victim per case. Right: shares (upper bounds drawn hatched).

    References
    ----------
    09BEIJING2594 ¶7, ¶8.
    """
    per_case = ratios[ratios["unit"] == "persons per solved case"]
    shares = ratios[ratios["unit"] == "share"]
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1, 1.5]}
    )
    names = [CASE_TYPE_NAMES.get(str(c), str(c)) for c in per_case["case_type"]]
    colours = [CASE_TYPE_COLOURS.get(str(c), "#949494") for c in per_case["case_type"]]
    left.bar(names, per_case["value"], color=colours, width=0.6)
    _label_bars(left, "{:.2f}")
    left.axhline(1.0, color="black", linewidth=1, linestyle="--")
    left.set_xlabel("case type")
    left.set_ylabel("persons rescued per solved case")
    left.set_title("Victims rescued per solved case")
    left.margins(y=0.12)

    labels = [_wrap(str(r).replace("share of ", ""), 30) for r in shares["ratio"]]
    colours = [CASE_TYPE_COLOURS.get(str(c), "#949494") for c in shares["case_type"]]
    hatches = ["//" if b == "upper bound" else "" for b in shares["bound"]]
    bars = right.barh(labels, shares["value"], color=colours, edgecolor="black", linewidth=0.5)
    for bar, hatch in zip(bars, hatches, strict=True):
        bar.set_hatch(hatch)
    right.bar_label(
        bars,
        labels=[
            f"{'at most ' if h else ''}{v:.1%}"
            for v, h in zip(shares["value"], hatches, strict=True)
        ],
        padding=3,
        fontsize="small",
    )
    right.set_xlim(0, 1)
    right.invert_yaxis()
    right.set_xlabel("share (fraction)")
    right.set_title("Shares (hatched: upper bound)")
    fig.tight_layout()
    return fig


def plot_timeline(events: pd.DataFrame) -> Figure:
    """The reform timeline: one row per event, drawn over the days its date covers.

    A date known to the day is a diamond; a month or a year is a bar over the
    whole month or year (lighter when the source gives only the year); an
    interval is a bar from its start to its end.

    Parameters
    ----------
    events : pandas.DataFrame
        A table from :func:`tipresearch.data.load_reform_timeline`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    events = events.sort_values("date_start", kind="stable").reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(10, 0.6 * len(events) + 1.6))
    for y, row in events.iterrows():
        colour = CONFIDENCE_COLOURS.get(str(row["confidence"]), "#949494")
        start = row["date_start"]
        width = row["date_end"] + pd.Timedelta(days=1) - start
        if row["date_precision"] == "day" and width == pd.Timedelta(days=1):
            ax.plot(start, y, marker="D", markersize=8, color=colour, linestyle="none")
        else:
            alpha = 0.45 if row["date_precision"] == "year" else 0.9
            ax.barh(y, width, left=start, height=0.5, color=colour, alpha=alpha)
        ax.annotate(
            f"{row['date']}",
            (row["date_end"] + pd.Timedelta(days=1), y),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize="small",
        )
    ax.set_yticks(range(len(events)), [_wrap(e) for e in events["event"]])
    ax.invert_yaxis()
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.set_xlabel("date (calendar year)")
    ax.set_title("Reforms of case intake and police rating")
    handles = [
        mpl.patches.Patch(color=c, label=f"{level} source")
        for level, c in CONFIDENCE_COLOURS.items()
        if level in set(events["confidence"].astype(str))
    ]
    first, last = events["date_start"].min(), events["date_end"].max()
    ax.set_xlim(pd.Timestamp(first.year, 1, 1), pd.Timestamp(last.year + 2, 1, 1))
    ax.legend(handles=handles, loc="upper right", fontsize="small")
    keep_inside(fig)  # lays the figure out; a late date label turned back inside
    return fig


def _wrap(text: str, width: int = 42) -> str:
    words, lines, line = str(text).split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines)
