"""Figures of the world the fitted China calendar implies (notebook 03).

:func:`plot_implied_world` shows, by year, the share of reports the police
recorded as cases (and, on the right-hand axis, the share left unrecorded) by case
type, and the reports received against the cases recorded;
:func:`plot_recording_comparison` sets the model's recorded share of one year
beside published recording studies, each labelled with its place, years and the
stage it measures. Both take the tidy frames of :mod:`tipresearch.reforms.world`
and return a :class:`matplotlib.figure.Figure`.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from tipresearch.errors import ParameterError
from tipresearch.reforms import STAGE_NAMES, WORLD_MEASURES

from .theme import CASE_TYPE_COLOURS, CASE_TYPE_NAMES

__all__ = ["STAGE_COLOURS", "plot_implied_world", "plot_recording_comparison"]

#: One colour per recording stage (seaborn's colour-blind palette).
STAGE_COLOURS: dict[str, str] = {
    "victim_reporting": "#56b4e9",
    "police_recording": "#029e73",
    "both_stages": "#cc78bc",
}

#: Order of the study groups: the stage the model measures first.
_STAGE_ORDER: tuple[str, ...] = ("police_recording", "both_stages", "victim_reporting")

_COUNT_LINES = (
    ("reports", "reports received", "#3b3b3b", "-"),
    ("recorded", "recorded as cases", "#d55e00", "-"),
    ("declined_solvable", "declined, though solvable", "#3b3b3b", "--"),
)


def _check_bands(bands: object) -> pd.DataFrame:
    allowed = "a frame from tipresearch.reforms.world_bands"
    if not isinstance(bands, pd.DataFrame):
        raise ParameterError("bands", type(bands).__name__, allowed)
    needed = {"year", "case_type", "measure", "mean", "low", "high"}
    if not needed <= set(bands.columns):
        raise ParameterError(
            "bands", f"a frame without {sorted(needed - set(bands.columns))}", allowed
        )
    if bands.empty or not set(bands["measure"].astype(str)) <= set(WORLD_MEASURES):
        raise ParameterError("bands", "no rows or unknown measures", allowed)
    return bands


def _series(bands: pd.DataFrame, measure: str, case_type: str) -> pd.DataFrame:
    rows = bands[
        (bands["measure"].astype(str) == measure) & (bands["case_type"].astype(str) == case_type)
    ]
    return rows.sort_values("year")


def _band_text(bands: pd.DataFrame) -> str:
    level = bands.attrs.get("level")
    if level is None:
        return "shaded: band across replications"
    lo = round(100 * (1 - level) / 2)
    return f"shaded: {lo}-{100 - lo}% of replications"


def plot_implied_world(bands: pd.DataFrame, years: Sequence[int] | None = None) -> Figure:
    """Recorded and unrecorded shares of reports, and reports against recorded cases.

    Left: the share of reports received that the police recorded as criminal
    cases, by case type (line: mean over replications; shaded: the band of
    :func:`~tipresearch.reforms.world.world_bands`); the right-hand axis reads the
    same lines as the share left unrecorded (one minus it). Right: reports
    received, cases recorded and declined reports that standard effort would
    have solved, both types, in reports per year.

    Parameters
    ----------
    bands : pandas.DataFrame
        :func:`tipresearch.reforms.world_bands` output.
    years : sequence of int, optional
        First and last year to show (default: all years of ``bands``).

    Raises
    ------
    ParameterError
        If ``bands`` is not such a frame, or ``years`` is not two years in order.
    """
    bands = _check_bands(bands)
    if years is not None:
        if len(years) != 2 or years[0] > years[1]:
            raise ParameterError("years", years, "two years, first <= last")
        bands = bands[(bands["year"] >= years[0]) & (bands["year"] <= years[1])]
        if bands.empty:
            raise ParameterError("years", years, "years that the bands cover")
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    ax = axes[0]
    for ct in ("women", "children", "all"):
        b = _series(bands, "recorded_share", ct)
        if b.empty:
            continue
        colour = CASE_TYPE_COLOURS[ct]
        lw, ls = (2.4, "-") if ct == "all" else (1.5, "--" if ct == "children" else ":")
        ax.plot(b["year"], b["mean"], color=colour, lw=lw, ls=ls, label=CASE_TYPE_NAMES[ct])
        ax.fill_between(b["year"], b["low"], b["high"], color=colour, alpha=0.2, lw=0)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("share of reports recorded as cases")
    right = ax.secondary_yaxis("right", functions=(lambda x: 1 - x, lambda x: 1 - x))
    right.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    right.set_ylabel("share of reports left unrecorded")
    ax.set_title("Reports recorded (left axis) and unrecorded (right axis)")
    ax.set_xlabel("year")
    ax.legend(fontsize=8, loc="upper left", title=_band_text(bands), title_fontsize=8)
    ax = axes[1]
    for measure, label, colour, ls in _COUNT_LINES:
        b = _series(bands, measure, "all")
        if b.empty:
            continue
        ax.plot(b["year"], b["mean"], color=colour, lw=1.9, ls=ls, label=label)
        ax.fill_between(b["year"], b["low"], b["high"], color=colour, alpha=0.18, lw=0)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_ylabel("reports per year, both types")
    ax.set_title("Reports received against cases recorded")
    ax.set_xlabel("year")
    ax.legend(fontsize=8, loc="upper right")
    for a in axes:
        a.xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    return fig


def plot_recording_comparison(comparison: pd.DataFrame) -> Figure:
    """The model's recorded share beside published recording studies, one row each.

    Rows are grouped under headings: the model (diamonds coloured by case type,
    with their band), then the studies by the stage they measure: the police
    recording what is reported (the stage the model's share measures), crimes
    recorded against crimes estimated to have happened (both stages together),
    and victims reporting to the police. Each row is labelled with its place,
    years and crimes, and its share is written beside its marker.

    Parameters
    ----------
    comparison : pandas.DataFrame
        :func:`tipresearch.reforms.recording_comparison` output.

    Raises
    ------
    ParameterError
        If ``comparison`` lacks the columns of that output or has no rows.
    """
    needed = {"kind", "label", "case_type", "stage", "share", "low", "high"}
    if not isinstance(comparison, pd.DataFrame) or not needed <= set(comparison.columns):
        raise ParameterError(
            "comparison",
            type(comparison).__name__,
            "a frame from tipresearch.reforms.recording_comparison",
        )
    if comparison.empty:
        raise ParameterError("comparison", "an empty frame", "at least one row")
    groups: list[tuple[str, str, pd.DataFrame]] = []
    model = comparison[comparison["kind"] == "model"]
    if len(model):
        groups.append(("the model: reports received that were recorded", "0.25", model))
    studies = comparison[comparison["kind"] != "model"]
    for stage in _STAGE_ORDER:
        rows = studies[studies["stage"].astype(str) == stage].sort_values("share", kind="stable")
        if len(rows):
            groups.append((f"studies: {STAGE_NAMES[stage]}", STAGE_COLOURS[stage], rows))
    n = sum(len(rows) + 1 for _, _, rows in groups)
    fig, ax = plt.subplots(figsize=(10, 1.2 + 0.34 * n))
    y = n - 1
    ticks: list[tuple[int, str, str, bool]] = []
    for heading, heading_colour, rows in groups:
        ticks.append((y, heading, heading_colour, True))
        y -= 1
        for row in rows.itertuples(index=False):
            if row.kind == "model":
                colour = CASE_TYPE_COLOURS.get(str(row.case_type), "0.3")
                ax.errorbar(
                    row.share,
                    y,
                    xerr=[[row.share - row.low], [row.high - row.share]],
                    fmt="D",
                    ms=7,
                    color=colour,
                    mec="black",
                    mew=0.7,
                    capsize=3,
                    zorder=4,
                )
            else:
                colour = STAGE_COLOURS[str(row.stage)]
                ax.plot(row.share, y, "o", ms=7, color=colour, mec="black", mew=0.7, zorder=4)
            ax.hlines(y, 0, row.share, color="0.8", lw=0.8, zorder=1)
            ax.annotate(
                f"{100 * row.share:.1f}%",
                (row.share, y),
                textcoords="offset points",
                xytext=(9, 0),
                va="center",
                fontsize=8,
            )
            ticks.append((y, str(row.label), "0.1", False))
            y -= 1
    ax.set_yticks([t[0] for t in ticks], [t[1] for t in ticks])
    for label, (_, _, colour, heading) in zip(ax.get_yticklabels(), ticks, strict=True):
        label.set_color(colour)
        if heading:
            label.set_fontweight("bold")
    for tick_y, _, _, heading in ticks:
        if heading and tick_y < n - 1:
            ax.axhline(tick_y + 0.5, color="0.6", lw=0.8)
    ax.set_xlim(0, 1.0)
    ax.set_ylim(-0.6, n - 0.4)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(
        "share recorded by the police (victim-reporting rows: share reported to the police)"
    )
    ax.grid(axis="y", visible=False)
    ax.set_title("Share recorded: the fitted model against recording studies")
    fig.tight_layout()
    return fig
