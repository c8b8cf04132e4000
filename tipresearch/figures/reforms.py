"""Figures of the China reform calendar: the fit against published counts, the 2009
monthly path, and counterfactual calendars (notebook 03).

Every function takes tidy frames (from :func:`tipresearch.reforms.china.replicate` and
:func:`tipresearch.data.published.load_published`), returns a
:class:`matplotlib.figure.Figure`, labels its axes with units and marks the
reform dates.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from tipresearch.reforms import Timeline

from .layout import keep_inside
from .theme import CASE_TYPE_COLOURS

__all__ = ["band", "differences", "plot_counterfactuals", "plot_fit_series", "plot_monthly_path"]

_MARKERS = {"primary": "o", "secondary": "s", "seed": "D"}


def band(counts: pd.DataFrame, keys: Sequence[str], value: str, level: float = 0.9) -> pd.DataFrame:
    """Mean and central ``level`` interval of ``value`` across seeds, by ``keys``.

    Returns
    -------
    pandas.DataFrame
        ``keys``, ``mean``, ``low``, ``high``.
    """
    g = counts.groupby(list(keys), observed=True)[value]
    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
    out = g.mean().rename("mean").to_frame()
    out["low"] = g.quantile(lo)
    out["high"] = g.quantile(hi)
    return out.reset_index()


#: Short plain names of the China reforms, for labels on reform lines.
_SHORT_NAMES: dict[str, str] = {
    "indicator_2008": "indicator",
    "missing_child_filing_rule": "filing rule",
    "dna_database": "DNA database",
    "special_campaign_2009": "campaign",
    "campaign_recall_2009": "recall",
    "indicator_abolished": "indicators abolished",
}


def _mark_reforms(ax: plt.Axes, timeline: Timeline, *, years: bool, label: bool) -> None:
    """Dotted lines at reform starts; one label per date, naming every reform starting then."""
    starts: dict[pd.Period, list[str]] = {}
    for r in timeline.ordered():
        starts.setdefault(r.start, []).append(_SHORT_NAMES.get(r.name, r.name.replace("_", " ")))
    for start, names in starts.items():
        when = start.to_timestamp()
        x = when.year + (when.month - 1) / 12 if years else when
        ax.axvline(x, color="0.45", lw=0.8, ls=":", zorder=0)
        if label:
            ax.annotate(
                f"{start}: " + ", ".join(names),
                (x, 0.98),
                xycoords=("data", "axes fraction"),
                rotation=90,
                va="top",
                ha="right",
                fontsize=7,
                color="0.35",
            )


def _published_points(ax: plt.Axes, rows: pd.DataFrame) -> None:
    """Published figures: colour by case type, marker by confidence, labelled with the source."""
    ordered = rows.sort_values(["period_start", "value"])
    same_year = ordered.groupby(ordered["period_start"].dt.year)["value"]
    # several points in one year: the lower label below its point, the highest above
    below_max = (ordered["value"] < same_year.transform("max")).to_numpy()
    alone = (same_year.transform("size") == 1).to_numpy()
    for i, row in enumerate(ordered.itertuples()):
        year = row.period_start.year + 0.5
        up = (i % 2 == 0) if alone[i] else not below_max[i]
        ax.scatter(
            year,
            row.value,
            marker=_MARKERS[row.confidence],
            s=46,
            color=CASE_TYPE_COLOURS[row.case_type],
            edgecolor="black",
            linewidth=0.7,
            zorder=5,
        )
        ax.annotate(
            f"{row.value:,.0f} ({row.case_type})\n{_short_source(row.source)}",
            (year, row.value),
            textcoords="offset points",
            xytext=(6, 4 if up else -22),
            fontsize=7,
        )


def _short_source(source: str) -> str:
    if "Yearbook" in source and "Shang" not in source:
        return "Statistical Yearbook"
    if "Shang" in source:
        return "Shang 2022 (yearbook)"
    if "Xinhua" in source:
        return "Xinhua"
    return source.split(",")[0]


def plot_fit_series(
    annual: pd.DataFrame, published: pd.DataFrame, timeline: Timeline, level: float = 0.9
) -> Figure:
    """Registered and solved trafficking cases by year: model band and published points.

    Parameters
    ----------
    annual : pandas.DataFrame
        :func:`tipresearch.reforms.china.replicate` output (one scenario), several seeds.
    published : pandas.DataFrame
        :func:`tipresearch.data.published.load_published` output.
    timeline : Timeline
        Reforms to mark.
    level : float
        Width of the band across replications.
    """
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), sharex=True)
    years = annual["year"].astype(float) + 0.5
    annual = annual.assign(x=years)
    traf = published[published["crime"] == "trafficking"]
    panels = (
        ("registered", "Registered cases", ["all", "children"]),
        ("solved", "Solved cases (new and cold)", ["women", "children"]),
    )
    for ax, (value, title, types) in zip(axes, panels, strict=True):
        for ct in types:
            b = band(annual[annual.case_type == ct], ["x"], value, level)
            colour = CASE_TYPE_COLOURS[ct]
            name = {"all": "both types"}.get(ct, ct)
            ax.plot(b["x"], b["mean"], color=colour, lw=1.8, label=f"model, {name}")
            ax.fill_between(b["x"], b["low"], b["high"], color=colour, alpha=0.2, lw=0)
        table = "registered_cases" if value == "registered" else "solved_cases"
        rows = traf[(traf["table"] == table) & (traf["period_precision"] == "year")]
        rows = rows[rows["period_start"].dt.year >= int(annual["year"].min())]
        _published_points(ax, rows)
        _mark_reforms(ax, timeline, years=True, label=(value == "registered"))
        ax.set_title(title)
        ax.set_xlabel("year")
        ax.set_ylabel("cases per year")
        # headroom, so that the labels of the highest published points stay inside
        ax.set_ylim(0, ax.get_ylim()[1] * 1.12)
    for conf, marker in _MARKERS.items():
        axes[0].scatter([], [], marker=marker, color="white", edgecolor="black", label=conf)
    axes[0].legend(
        fontsize=8, loc="upper right", title="line: model; marker: source", title_fontsize=8
    )
    axes[1].legend(fontsize=8, loc="upper right")
    keep_inside(fig)  # lays the figure out; edge labels turned back inside
    return fig


def plot_monthly_path(
    monthly: pd.DataFrame,
    published: pd.DataFrame,
    timeline: Timeline,
    first: str = "2008-07",
    last: str = "2010-12",
    level: float = 0.9,
) -> Figure:
    """The monthly path through 2009 and cumulative solved cases against the cable.

    Left: registered cases per month by type (mean and band across seeds).
    Right: cases solved since 1 April 2009, cumulated to December 2009, by type,
    with the cable's counts for April to mid-August 2009 (09BEIJING2594 ¶8).
    """
    m = monthly[(monthly["month"] >= first) & (monthly["month"] <= last)]
    lo, hi = pd.Period(first, "M"), pd.Period(last, "M")
    timeline = Timeline(r for r in timeline if lo <= r.start <= hi)
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6))
    ax = axes[0]
    for ct in ("women", "children"):
        b = band(m[m.case_type == ct], ["month"], "registered", level)
        colour = CASE_TYPE_COLOURS[ct]
        ax.plot(b["month"], b["mean"], color=colour, lw=1.8, label=f"registered, {ct}")
        ax.fill_between(b["month"], b["low"], b["high"], color=colour, alpha=0.2, lw=0)
    _mark_reforms(ax, timeline, years=False, label=True)
    ax.set_title("Registered cases per month")
    ax.set_ylabel("cases per month")
    ax.set_xlabel("month")
    ax.legend(fontsize=8, loc="upper left")
    ax = axes[1]
    cable = published[published["id"].str.startswith("cable_solved_")]
    start = cable["period_start"].min()
    window_end = cable["period_end"].max()
    since = m[(m["month"] >= start) & (m["month"] <= "2009-12-01")].copy()
    since = since.sort_values("month")
    since["cumulative"] = since.groupby(["seed", "case_type"], observed=True)["solved"].cumsum()
    for ct in ("women", "children"):
        b = band(since[since.case_type == ct], ["month"], "cumulative", level)
        colour = CASE_TYPE_COLOURS[ct]
        # a month's solves are counted at its end
        ends = b["month"] + pd.offsets.MonthEnd(0)
        ax.plot(ends, b["mean"], color=colour, lw=1.8, label=f"model, {ct}")
        ax.fill_between(ends, b["low"], b["high"], color=colour, alpha=0.2, lw=0)
        row = cable[cable.case_type == ct].iloc[0]
        ax.scatter(
            row.period_end,
            row.value,
            marker=_MARKERS["seed"],
            s=50,
            color=colour,
            edgecolor="black",
            zorder=5,
            label=f"cable ¶8, {ct}: {row.value:,.0f}",
        )
    ax.axvspan(start, window_end, color="0.85", alpha=0.5, lw=0, zorder=0)
    ax.set_title("Cases solved since April 2009, cumulated")
    ax.set_ylabel("cases")
    ax.set_xlabel("month")
    ax.legend(fontsize=8, loc="upper left")
    axes[0].set_xlim(lo.to_timestamp(), (hi + 1).to_timestamp())
    axes[0].xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 7)))
    axes[1].set_xlim(pd.Timestamp(start) - pd.Timedelta(days=15), pd.Timestamp("2010-01-15"))
    axes[1].xaxis.set_major_locator(mdates.MonthLocator(bymonth=(4, 6, 8, 10, 12)))
    for a in axes:
        a.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
        a.set_ylim(bottom=0)
    fig.tight_layout()
    return fig


def plot_counterfactuals(
    annual: pd.DataFrame,
    timeline: Timeline,
    value: str = "registered",
    title: str | None = None,
) -> Figure:
    """Mean national counts by year under each scenario (same draws), both types together.

    Left: the counts. Right: each scenario minus the first (the fitted calendar), on a
    symmetric log scale (linear within 100 cases), so that a scenario close to the
    first, whose line would hide under it, can be read beside a large one.

    Parameters
    ----------
    annual : pandas.DataFrame
        :func:`tipresearch.reforms.to_annual` of replications with a ``scenario``
        column (categorical; its first category is the reference).
    timeline : Timeline
        Reform dates, drawn as dotted lines.
    value : str
        The count (``registered``, ``solved`` or ``rescued``).
    title : str, optional
        The figure's title.
    """
    fig, (ax, diff_ax) = plt.subplots(1, 2, figsize=(12, 4.6))
    data = annual[annual.case_type == "all"]
    styles = ["-", "--", "-.", ":", (0, (5, 1))]
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    means = {
        name: g.groupby("year")[value].mean() for name, g in data.groupby("scenario", observed=True)
    }
    first = next(iter(means.values()))
    for i, (name, mean) in enumerate(means.items()):
        style = {"ls": styles[i % len(styles)], "color": colours[i % len(colours)]}
        ax.plot(mean.index + 0.5, mean.values, lw=2.2 if i == 0 else 1.6, label=str(name), **style)
        if i:
            gap = mean - first.reindex(mean.index)
            diff_ax.plot(gap.index + 0.5, gap.values, lw=1.6, label=str(name), **style)
    diff_ax.axhline(0.0, color=colours[0], lw=2.2)
    for axis in (ax, diff_ax):
        _mark_reforms(axis, timeline, years=True, label=False)
        axis.set_xlabel("year")
    noun = value.replace("_", " ")
    ax.set_ylabel(f"{noun} cases per year")
    ax.set_ylim(bottom=0)
    ax.set_title("Each calendar")
    ax.legend(fontsize=8)
    # a symmetric log scale, linear within +-100 cases: small effects stay visible
    # beside large ones
    diff_ax.set_yscale("symlog", linthresh=100.0)
    diff_ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    diff_ax.set_ylabel("difference, cases per year")
    diff_ax.set_title(f'Difference from "{next(iter(means))!s}" (symmetric log scale)')
    fig.suptitle(title or f"{noun[:1].upper()}{noun[1:]} cases per year under each calendar")
    fig.tight_layout()
    return fig


def differences(annual: pd.DataFrame, years: tuple[int, int], level: float = 0.9) -> pd.DataFrame:
    """Each scenario minus the first, summed over ``years`` (inclusive), per seed, summarised.

    Returns
    -------
    pandas.DataFrame
        ``scenario``, ``case_type``, ``measure`` (registered, solved, rescued),
        ``mean``, ``low``, ``high``, ``share_of_seeds_below_zero``.
    """
    sel = annual[(annual.year >= years[0]) & (annual.year <= years[1])]
    sums = sel.groupby(["scenario", "seed", "case_type"], observed=True)[
        ["registered", "solved", "rescued"]
    ].sum()
    first = sums.index.get_level_values("scenario").categories[0]
    base = sums.xs(first, level="scenario")
    diff = (sums - base).drop(index=first, level="scenario").reset_index()
    long = diff.melt(
        id_vars=["scenario", "seed", "case_type"],
        value_vars=["registered", "solved", "rescued"],
        var_name="measure",
    )
    out = band(long, ["scenario", "case_type", "measure"], "value", level)
    below = long.groupby(["scenario", "case_type", "measure"], observed=True)["value"].apply(
        lambda v: float(np.mean(v < 0))
    )
    out["share_of_seeds_below_zero"] = below.to_numpy()
    return out
