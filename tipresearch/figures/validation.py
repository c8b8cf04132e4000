"""Figures of the fit's tests (notebook 03): predictions against published figures by
hold-out design, and the profile of the objective for each fitted parameter.

Each function takes a tidy frame from :mod:`tipresearch.fit`
(:func:`~tipresearch.fit.out_of_sample_table`, :func:`~tipresearch.fit.profiles`)
and returns its :class:`matplotlib.figure.Figure`, in the collection's theme.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

from tipresearch.errors import ParameterError

__all__ = ["PARAMETER_LABELS", "plot_out_of_sample", "plot_profiles", "plot_ridge"]

#: Plain-language names of the fitted parameters, for axes.
PARAMETER_LABELS: dict[str, str] = {
    "settings.reports_per_bureau": "reports per county bureau and month",
    "settings.women_solvability+settings.children_solvability": "mean solvability of reports",
    "metric.rate": "weight of the clearance rate in the rating",
    "reforms.mandatory_audit_prob": "audit probability under the 2009 filing rule",
    "dynamics.adjust_rate": "share of the gap to the best threshold closed a month",
    "dynamics.deterrence": "deterrence: elasticity of incidence to the catch rate",
    "dynamics.deterrence_floor": "floor of deterrence: lowest share of first incidence",
    "reforms.campaign_persist": "share of the 2009 campaign kept after 2009",
}

_DESIGN_COLOURS = ("#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc", "#949494")


def _need(frame: object, name: str, columns: set[str]) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame) or not columns <= set(frame.columns):
        raise ParameterError(name, type(frame).__name__, f"a frame with columns {sorted(columns)}")
    if frame.empty:
        raise ParameterError(name, "an empty frame", "at least one row")
    return frame


def plot_out_of_sample(table: pd.DataFrame) -> Figure:
    """Model over published, with the 5-95% band over seeds, for every figure and design.

    One row per published figure, one marker per hold-out design (filled where the
    design was fitted to the figure, open where the figure was held out), on a log
    scale of model / published: 1 is a perfect prediction. A figure published as a
    range is drawn against the range's nearer end (1 inside it).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`tipresearch.fit.out_of_sample_table`.
    """
    table = _need(
        table,
        "table",
        {"design", "figure", "description", "role", "published", "model", "low_5", "high_95"},
    )
    designs = list(dict.fromkeys(table["design"]))
    figures = list(dict.fromkeys(table["figure"]))
    labels = table.drop_duplicates("figure").set_index("figure")["description"].reindex(figures)
    fig, ax = plt.subplots(figsize=(10.5, 0.42 * len(figures) + 2.4))
    step = 0.7 / max(len(designs), 1)
    for d, design in enumerate(designs):
        rows = table[table["design"] == design].set_index("figure")
        colour = _DESIGN_COLOURS[d % len(_DESIGN_COLOURS)]
        for i, fid in enumerate(figures):
            if fid not in rows.index:
                continue
            r = rows.loc[fid]
            ref = _reference(r)
            y = i - 0.35 + step * (d + 0.5)
            ax.plot([r["low_5"] / ref, r["high_95"] / ref], [y, y], color=colour, lw=1.4)
            held = r["role"] == "held out"
            ax.plot(
                r["model"] / ref,
                y,
                marker="o",
                ms=5.5,
                color=colour,
                mfc="white" if held else colour,
                mew=1.4,
                ls="none",
            )
    ax.axvline(1.0, color="0.3", lw=1.0)
    ax.set_xscale("log")
    lo = float(np.nanmin(table["low_5"] / table.apply(_reference, axis=1)))
    hi = float(np.nanmax(table["high_95"] / table.apply(_reference, axis=1)))
    ax.set_xlim(min(lo, 0.5) / 1.15, max(hi, 2.0) * 1.15)
    ticks = [2.0**k for k in range(-6, 7) if min(lo, 0.5) / 1.2 <= 2.0**k <= max(hi, 2.0) * 1.2]
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"1/{round(1 / x)}" if x < 1 else f"{x:g}" for x in ticks])
    ax.minorticks_off()
    ax.set_yticks(range(len(figures)))
    ax.set_yticklabels([textwrap.shorten(str(s), 58, placeholder="…") for s in labels])
    ax.invert_yaxis()
    ax.set_xlabel("model / published (log scale; 1 = the published figure)")
    handles = [
        Line2D([], [], color=_DESIGN_COLOURS[d % 6], marker="o", lw=1.4, label=_name(name))
        for d, name in enumerate(designs)
    ]
    handles += [
        Line2D([], [], color="0.3", marker="o", ls="none", label="fitted (or a ratio of fitted)"),
        Line2D([], [], color="0.3", marker="o", mfc="white", ls="none", label="held out"),
    ]
    ax.legend(
        handles=handles,
        title="hold-out design (bar: 5-95% band over seeds)",
        loc="upper center",
        bbox_to_anchor=(0.5, -0.09),
        ncol=4,
        fontsize="small",
        title_fontsize="small",
        frameon=False,
    )
    ax.set_title("Published figures against the model, fitted and held out")
    fig.tight_layout()
    return fig


def _name(design: str) -> str:
    return "without the campaign" if design == "without_campaign" else design.replace("_", " ")


def _reference(row: pd.Series) -> float:
    """The published value a model value is compared with (a range's nearer end)."""
    high = row.get("published_high")
    if high is None or (isinstance(high, float) and math.isnan(high)):
        return float(row["published"])
    if row["model"] < row["published"]:
        return float(row["published"])
    if row["model"] > high:
        return float(high)
    return float(row["model"])  # inside the range: ratio 1


def plot_profiles(
    profile: pd.DataFrame,
    identification: pd.DataFrame | None = None,
    traces: Sequence[pd.DataFrame] = (),
) -> Figure:
    """The objective with each parameter held on a grid and the others refitted.

    One panel per fitted parameter: the profile (line and points; the objective, a
    weighted sum of squared log errors, on a log scale), the estimate (a star) and,
    where ``identification`` says so, a note that the profile is flat.

    Parameters
    ----------
    profile : pandas.DataFrame
        From :func:`tipresearch.fit.profiles`.
    identification : pandas.DataFrame, optional
        From :func:`tipresearch.fit.identification_table`.
    traces : sequence of pandas.DataFrame
        Ridge traces (:func:`tipresearch.fit.trace_ridge`), drawn as a second curve on
        the panel of the parameter each one holds.
    """
    profile = _need(profile, "profile", {"parameter", "value", "objective", "at_estimate"})
    traces = [_need(t, "traces", {"parameter", "value", "objective"}) for t in traces]
    names = list(dict.fromkeys(profile["parameter"]))
    flat = set()
    if identification is not None:
        ident = _need(identification, "identification", {"parameter", "identified"})
        flat = set(ident.loc[~ident["identified"].astype(bool), "parameter"])
    cols = min(4, len(names))
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.7 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        p = profile[profile["parameter"] == name].sort_values("value")
        grid = p[~p["at_estimate"].astype(bool)]
        est = p[p["at_estimate"].astype(bool)]
        ax.plot(grid["value"], grid["objective"], "-o", color="#0173b2", ms=4, label="profile")
        for trace in traces:
            along = trace[trace["parameter"] == name].sort_values("value")
            if len(along):
                ax.plot(
                    along["value"],
                    along["objective"],
                    "--",
                    color="#029e73",
                    marker=".",
                    ms=5,
                    lw=1,
                    label="ridge trace",
                )
        ax.plot(est["value"], est["objective"], "*", color="#d55e00", ms=11, label="estimate")
        _plain_log_axis(ax.yaxis, pd.concat([grid["objective"], est["objective"]]))
        ax.set_title(textwrap.fill(PARAMETER_LABELS.get(name, name), 30), fontsize="small")
        ax.set_xlabel("value held", fontsize="small")
        ax.tick_params(labelsize="x-small")
        if name in flat:
            # below the axis, where no curve can run into it
            ax.set_xlabel("value held  (flat: not pinned down)", fontsize="small", color="#d55e00")
    handles, labels = [], []
    for ax in axes.flat[: len(names)]:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    spare = axes.flat[len(names) :]
    for ax in spare:
        ax.set_visible(False)
    if len(spare):  # the legend in the first empty panel
        spare[0].set_visible(True)
        spare[0].axis("off")
        spare[0].legend(handles, labels, loc="center", fontsize="small", frameon=False)
    else:
        fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize="small")
    for ax in axes[:, 0]:
        ax.set_ylabel("objective (log scale)", fontsize="small")
    fig.suptitle("Profiles of the fit's objective: each parameter held, the others refitted")
    fig.tight_layout()
    return fig


#: Panels of :func:`plot_ridge`: column, title, y-axis label, scale to percent.
_RIDGE_PANELS: tuple[tuple[str, str, str, bool], ...] = (
    ("objective", "Objective (fit to the targets)", "objective (log scale)", False),
    ("at.metric.rate", "Weight of the clearance rate, refitted", "weight", False),
    ("at.dynamics.deterrence", "Deterrence, refitted", "elasticity", False),
    ("growth_2009", "Registered cases 2009 / 2008", "ratio", False),
    ("recorded_share_2008", "Reports recorded by the police, 2008", "% of reports", True),
    ("held_out_median_abs_error", "Figures held out: median error", "% (absolute)", True),
)


def _plain_log_axis(axis, values: pd.Series) -> None:
    """A log scale on ``axis`` with ticks at round values, written as plain numbers.

    1, 2 and 5 times powers of ten over at most a decade and a half, 1 and 3 over at
    most three decades, powers of ten beyond.
    """
    v = pd.to_numeric(values, errors="coerce")
    v = v[v > 0]
    decades = math.log10(v.max() / v.min()) if len(v) else 0.0
    subs = (1, 2, 5) if decades <= 1.5 else (1, 3) if decades <= 3 else (1,)
    axis.axes.set_xscale("log") if axis is axis.axes.xaxis else axis.axes.set_yscale("log")
    axis.set_major_locator(FixedLocator([m * 10.0**e for e in range(-4, 4) for m in subs]))
    axis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
    axis.set_minor_formatter(NullFormatter())


def plot_ridge(table: pd.DataFrame, published_growth: float | None = None) -> Figure:
    """The fit followed along one parameter, and its conclusions there.

    Six panels against the held value (from :func:`tipresearch.fit.ridge_outcomes`):
    the objective, two refitted parameters, the 2008 → 2009 rise as fitted and when
    rated on cases solved only, the share of reports recorded in 2008, and the median
    error on the figures held out. The points that fit about as well as the best
    (``near_best``) are filled and the span between them shaded in every panel; the
    estimate is a star. Held at the clearance rate's weight, the second panel shows
    the refitted mean solvability, and the held values are on a log scale.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`tipresearch.fit.ridge_outcomes`.
    published_growth : float, optional
        The published 2009 / 2008 ratio, drawn as a line.
    """
    need = {"parameter", "value", "direction", "near_best", "growth_2009_solved_only"}
    need |= {c for c, *_ in _RIDGE_PANELS}
    t = _need(table, "table", need).sort_values("value")
    name = str(t["parameter"].iloc[0])
    near = t[t["near_best"].astype(bool)]
    est = t[t["direction"] == "estimate"]
    panels = list(_RIDGE_PANELS)
    if name == "metric.rate":  # the held value itself: show the solvability refitted instead
        solv = "at.settings.women_solvability+settings.children_solvability"
        panels[1] = (solv, "Mean solvability of reports, refitted", "mean solvability", False)
    fig, axes = plt.subplots(2, 3, figsize=(11, 6.2))
    for ax, (col, title, ylabel, percent) in zip(axes.flat, panels, strict=True):
        k = 100.0 if percent else 1.0
        ax.axvspan(near["value"].min(), near["value"].max(), color="#e5e5e5", zorder=0)
        ax.plot(t["value"], k * t[col], "-", color="#0173b2", lw=1.2)
        ax.plot(t["value"], k * t[col], "o", mfc="white", mec="#0173b2", ms=4)
        ax.plot(near["value"], k * near[col], "o", color="#0173b2", ms=4, label="fitted rating")
        ax.plot(est["value"], k * est[col], "*", color="#d55e00", ms=11, label="estimate")
        if col == "growth_2009":
            ax.plot(
                t["value"],
                t["growth_2009_solved_only"],
                "-s",
                color="#029e73",
                ms=3.5,
                label="rated on cases solved only",
            )
            if published_growth is not None:
                ax.axhline(published_growth, color="0.3", ls="--", lw=1, label="yearbook")
            handles, labels = ax.get_legend_handles_labels()
        if name == "metric.rate":
            _plain_log_axis(ax.xaxis, t["value"])
        if col == "objective":  # log scale, so that the flat stretch shows
            _plain_log_axis(ax.yaxis, t[col])
            ax.set_ylabel("objective (log scale)", fontsize="small")
        ax.set_title(title, fontsize="small")
        ax.set_ylabel(ylabel, fontsize="small")
        ax.tick_params(labelsize="x-small")
    for ax in axes[1]:
        ax.set_xlabel(f"{PARAMETER_LABELS.get(name, name)} (held)", fontsize="small")
    fig.suptitle(
        "The fit followed along a ridge (filled points and grey span: "
        "fit about as well as the best)",
        fontsize="medium",
    )
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize="small", frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig
