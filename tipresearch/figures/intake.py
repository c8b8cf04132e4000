"""Figures of how rating rules move case intake (notebook 02).

Every function takes a tidy frame from :mod:`tipresearch.model.analysis`
(:func:`~tipresearch.model.analysis.metric_table`, :func:`~tipresearch.model.analysis.frontier`,
:func:`~tipresearch.model.analysis.threshold_curve`), returns a
:class:`matplotlib.figure.Figure` with its title set and its layout tightened,
and labels its axes with units.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from tipresearch.errors import ParameterError
from tipresearch.model import ALL_TYPES, PLANNER, PRESETS

from .theme import CASE_TYPE_COLOURS, metric_label

__all__ = [
    "METRIC_MARKERS",
    "plot_audits",
    "plot_capacity",
    "plot_intake_clearance_frontier",
    "plot_metric_outcomes",
]

#: Marker of each metric's chosen point on the frontier (the presets, then the planner).
METRIC_MARKERS: dict[str, str] = dict(
    zip([*PRESETS, PLANNER.name], ["o", "s", "^", "v", "D", "*"], strict=True)
)


def _require_columns(name: str, frame: object, columns: Iterable[str]) -> pd.DataFrame:
    """Return ``frame`` if it is a DataFrame holding ``columns``; raise ParameterError if not."""
    columns = list(columns)
    allowed = f"a DataFrame with columns {columns}"
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(name, type(frame).__name__, allowed)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ParameterError(name, f"a DataFrame lacking {missing}", allowed)
    if frame.empty:
        raise ParameterError(name, "an empty DataFrame", allowed)
    return frame


def _require_types(name: str, frame: pd.DataFrame, case_types: Sequence[str]) -> list[str]:
    """Return ``case_types`` as a list if non-empty and every type has rows in ``frame``."""
    types = [str(k) for k in case_types]
    present = set(frame["case_type"].astype(str))
    if not types or any(k not in present for k in types):
        raise ParameterError(
            "case_types", list(case_types), f"a non-empty list of case types in {name}"
        )
    return types


def plot_metric_outcomes(table: pd.DataFrame) -> Figure:
    """Intake, clearance and rescues per 100 reports under each metric's thresholds.

    Parameters
    ----------
    table : pandas.DataFrame
        A table from :func:`tipresearch.model.analysis.metric_table`: one row per
        metric and case type, including the rows of all case types together
        (``case_type == ALL_TYPES``).

    Returns
    -------
    matplotlib.figure.Figure
        Three panels: intake rate and clearance rate by case type (bars per
        metric), and victims rescued per 100 reports (all types) stacked as
        rescued when the case is solved and later from the backlog.

    Raises
    ------
    ParameterError
        If ``table`` lacks a needed column or the all-types rows.

    References
    ----------
    ``docs/model.md``, §3.5 "Outputs": intake rate = opened / reports, clearance
    rate = solved / opened; §2.2 "Objectives": the rating rules, which follow
    09BEIJING2594 ¶9.
    """
    needed = ["metric", "case_type", "intake_rate", "clearance_rate", "reports", "victims"]
    table = _require_columns("table", table, [*needed, "victims_later"])
    if not (table["case_type"] == ALL_TYPES).any():
        raise ParameterError("table", "a table without all-types rows", "metric_table() output")
    fig, axes = plt.subplots(1, 3, figsize=(16, 5))
    by_type = table[table["case_type"] != ALL_TYPES].astype({"case_type": str})
    labels = [textwrap.fill(metric_label(m), 10) for m in dict.fromkeys(by_type["metric"])]
    for ax, col, label in (
        (axes[0], "intake_rate", "intake rate (share of reports opened)"),
        (axes[1], "clearance_rate", "clearance rate (share of opened solved)"),
    ):
        sns.barplot(by_type, x="metric", y=col, hue="case_type", palette=CASE_TYPE_COLOURS, ax=ax)
        ax.set_ylim(0, 1.3)
        ax.set_xticks(range(len(labels)), labels)
        ax.set_xlabel("rating rule")
        ax.set_ylabel(label)
        ax.legend(title="case type", fontsize="small", ncol=2, loc="upper center")
    total = table[table["case_type"] == ALL_TYPES].set_index("metric")
    per_100 = 100 / total["reports"]
    now, later = total["victims"] * per_100, total["victims_later"] * per_100
    x = np.arange(len(total))
    axes[2].bar(x, now, color="#029e73", label="when the case is solved")
    axes[2].bar(x, later, bottom=now, color="#029e73", alpha=0.4, label="later, from the backlog")
    axes[2].set_xticks(x, [textwrap.fill(metric_label(m), 10) for m in total.index])
    axes[2].set_xlabel("rating rule")
    axes[2].set_ylabel("victims rescued (persons per 100 reports)")
    axes[2].set_ylim(0, 1.5 * (now + later).max())
    axes[2].legend(fontsize="small", loc="upper left")
    fig.suptitle("Expected outcomes of each rating rule")
    fig.tight_layout()
    return fig


def plot_intake_clearance_frontier(
    front: pd.DataFrame, chosen: pd.DataFrame, case_types: Sequence[str]
) -> Figure:
    """The intake–clearance frontier of one bureau, with each metric's chosen point.

    Parameters
    ----------
    front : pandas.DataFrame
        A table from :func:`tipresearch.model.analysis.frontier`: outcomes of each
        case type over a grid of thresholds.
    chosen : pandas.DataFrame
        Rows of :func:`tipresearch.model.analysis.metric_table` for single case types,
        one per metric; every metric must have a marker in :data:`METRIC_MARKERS`.
    case_types : sequence of str
        Case types to draw, one column of panels each.

    Returns
    -------
    matplotlib.figure.Figure
        Two rows of panels per case type: clearance rate against intake rate
        (top) and victims rescued per 100 reports, when solved and with later
        backlog rescues, against intake rate (bottom).

    Raises
    ------
    ParameterError
        If a frame lacks a needed column, a case type has no rows, or a metric
        has no marker.

    References
    ----------
    ``docs/model.md``, §3.3.3 "Screening" (the threshold rule) and §3.3.6
    "Dilution of effort" (over opened cases).
    """
    needed = ["case_type", "intake_rate", "clearance_rate", "reports", "victims", "victims_total"]
    front = _require_columns("front", front, needed)
    chosen = _require_columns("chosen", chosen, ["metric", *needed])
    types = _require_types("front", front, case_types)
    unknown = sorted(set(chosen["metric"].astype(str)) - set(METRIC_MARKERS))
    if unknown:
        raise ParameterError("chosen", f"metrics {unknown}", f"metrics in {list(METRIC_MARKERS)}")
    fig, axes = plt.subplots(2, len(types), figsize=(6.8 * len(types), 9), sharex=True)
    axes = np.asarray(axes).reshape(2, len(types))
    for j, k in enumerate(types):
        f = front[front["case_type"] == k]
        c = chosen[chosen["case_type"] == k]
        per_100 = 100 / f["reports"]
        colour = CASE_TYPE_COLOURS[k]
        axes[0, j].plot(f["intake_rate"], f["clearance_rate"], color=colour)
        axes[1, j].plot(f["intake_rate"], f["victims"] * per_100, color=colour, label="when solved")
        axes[1, j].plot(
            f["intake_rate"],
            f["victims_total"] * per_100,
            color=colour,
            linestyle="--",
            label="with later backlog rescues",
        )
        for _, row in c.iterrows():
            m = str(row["metric"])
            size = 14 if m == PLANNER.name else 8
            kw = dict(
                marker=METRIC_MARKERS[m], markersize=size, linestyle="none", markeredgecolor="black"
            )
            axes[0, j].plot(row["intake_rate"], row["clearance_rate"], label=metric_label(m), **kw)
            axes[1, j].plot(row["intake_rate"], 100 * row["victims_total"] / row["reports"], **kw)
        axes[0, j].set_title(k)
        axes[0, j].set_ylabel("clearance rate (share solved)")
        axes[1, j].set_ylabel("victims rescued (persons per 100 reports)")
        axes[1, j].set_xlabel("intake rate (share of reports opened)")
        axes[0, j].legend(fontsize="small", title="where each rating rule puts it")
        axes[1, j].legend(fontsize="small", loc="upper left")
    fig.suptitle("Intake against clearance and rescues as the threshold moves (mean bureau)")
    fig.tight_layout()
    return fig


def plot_capacity(cap: pd.DataFrame, case_types: Sequence[str]) -> Figure:
    """Best-response intake and clearance rates against investigative capacity.

    Parameters
    ----------
    cap : pandas.DataFrame
        Tables from :func:`tipresearch.model.analysis.threshold_curve` over
        ``capacity_ratio``, concatenated over metrics (``value`` is the capacity).
    case_types : sequence of str
        Case types to draw, one column of panels each.

    Returns
    -------
    matplotlib.figure.Figure
        Intake rate (top) and clearance rate (bottom) against capacity on a log
        scale, one line per metric.

    Raises
    ------
    ParameterError
        If ``cap`` lacks a needed column or a case type has no rows.

    References
    ----------
    ``docs/model.md``, §3.3.6 "Dilution of effort": capacity sets the effort factor.
    """
    cap = _require_columns(
        "cap", cap, ["metric", "case_type", "value", "intake_rate", "clearance_rate"]
    )
    types = _require_types("cap", cap, case_types)
    cap_types = cap[cap["case_type"] != ALL_TYPES].astype({"case_type": str})
    fig, axes = plt.subplots(
        2, len(types), figsize=(6.8 * len(types), 8.5), sharex=True, sharey="row"
    )
    axes = np.asarray(axes).reshape(2, len(types))
    for j, k in enumerate(types):
        rows = cap_types[cap_types["case_type"] == k]
        rows = rows.assign(rule=rows["metric"].map(metric_label))
        for i, col in enumerate(["intake_rate", "clearance_rate"]):
            sns.lineplot(
                rows,
                x="value",
                y=col,
                hue="rule",
                style="rule",
                markers=True,
                ax=axes[i, j],
                legend=(i == 0 and j == 0),
            )
            axes[i, j].set_xscale("log")
        axes[0, j].set_title(k)
        axes[1, j].set_xlabel("capacity (effort units per month per expected report)")
    axes[0, 0].set_ylabel("intake rate (share of reports opened)")
    axes[1, 0].set_ylabel("clearance rate (share of opened cases solved)")
    axes[0, 0].legend(title="rating rule", fontsize="small", loc="lower right")
    fig.suptitle("Intake and clearance as investigative capacity grows (mean bureau)")
    fig.tight_layout()
    return fig


def plot_audits(audit: pd.DataFrame, metrics: Sequence[str], case_types: Sequence[str]) -> Figure:
    """Best-response intake rate against the audit probability, per penalty.

    Parameters
    ----------
    audit : pandas.DataFrame
        Tables from :func:`tipresearch.model.analysis.threshold_curve` over
        ``audit_prob`` (``value``), concatenated over metrics and penalties with
        a ``penalty`` column.
    metrics : sequence of str
        Metrics to draw, one row of panels each.
    case_types : sequence of str
        Case types to draw, one column of panels each.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per metric and case type; one line per penalty.

    Raises
    ------
    ParameterError
        If ``audit`` lacks a needed column, or a metric or case type has no rows.

    References
    ----------
    ``docs/model.md``, §3.3.8 "The expected score and the best response": expected
    penalty per declined report = audit probability × penalty.
    """
    audit = _require_columns(
        "audit", audit, ["metric", "case_type", "value", "intake_rate", "penalty"]
    )
    types = _require_types("audit", audit, case_types)
    metrics = [str(m) for m in metrics]
    present = set(audit["metric"].astype(str))
    if not metrics or any(m not in present for m in metrics):
        raise ParameterError("metrics", metrics, "a non-empty list of metrics in audit")
    audit_types = audit[audit["case_type"] != ALL_TYPES].astype({"case_type": str})
    fig, axes = plt.subplots(
        len(metrics),
        len(types),
        figsize=(6 * len(types), 3.4 * len(metrics)),
        sharex=True,
        sharey=True,
    )
    axes = np.asarray(axes).reshape(len(metrics), len(types))
    for i, m in enumerate(metrics):
        for j, k in enumerate(types):
            rows = audit_types[(audit_types["metric"] == m) & (audit_types["case_type"] == k)]
            sns.lineplot(
                rows,
                x="value",
                y="intake_rate",
                hue=rows["penalty"].astype(str),
                palette="colorblind",
                marker="o",
                ax=axes[i, j],
                legend=(i == 0 and j == 0),
            )
            axes[i, j].set_title(f"rated on {metric_label(m)}, {k}")
            axes[i, j].set_xlabel("audit probability (chance a declined report is found)")
            axes[i, j].set_ylabel("intake rate (share opened)")
    axes[0, 0].legend(
        title="penalty per report found\n(solved-case units)", fontsize="small", loc="lower right"
    )
    fig.suptitle("Intake as audits of declined reports grow (mean bureau)")
    fig.tight_layout()
    return fig
