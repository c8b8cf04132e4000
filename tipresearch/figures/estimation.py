"""Figures of the estimation room: what a panel shows, and what estimators make of it.

:func:`plot_recorded_and_incidence` draws a panel's national series, recorded cases
against incidence, as bureaus adopt the reform; :func:`plot_monte_carlo` the estimates
of every estimator over the replications of a Monte Carlo against the truth, for each
scenario; :func:`plot_event_study` an event study's coefficients against the truth.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tipresearch.errors import ParameterError
from tipresearch.estimation import EVENT_TERM

__all__ = ["ESTIMATOR_ORDER", "plot_event_study", "plot_monte_carlo", "plot_recorded_and_incidence"]

#: Estimator rows of :func:`plot_monte_carlo`, top to bottom: (estimator, term).
ESTIMATOR_ORDER: tuple[tuple[str, str], ...] = (
    ("naive before/after", "reform"),
    ("cross-section (OLS)", "reform"),
    ("two-way FE Poisson", "reform"),
    ("negative binomial", "reform"),
    ("event study", "post average"),
    ("not-yet-treated", "reform"),
    ("segmented regression", "post average"),
    ("survey (dark figure)", "reform"),
)


def plot_recorded_and_incidence(panel: pd.DataFrame) -> Figure:
    """National recorded cases and incidence by month, as a share of bureaus adopts.

    Both series are indexed to their mean before the first adoption (= 100); the lower
    panel shows the share of bureaus rated under the new rule.
    """
    needed = {"period", "month", "reform", "recorded", "incidence"}
    if not isinstance(panel, pd.DataFrame) or needed - set(panel.columns):
        raise ParameterError("panel", type(panel).__name__, "simulate_panel() output")
    national = panel.groupby("period").agg(
        month=("month", "first"),
        recorded=("recorded", "sum"),
        incidence=("incidence", "sum"),
        adopted=("reform", "mean"),
    )
    first = int(panel.loc[panel["reform"] == 1, "period"].min())
    before = national.loc[national.index < first]
    dates = pd.PeriodIndex(national["month"], freq="M").to_timestamp()
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(9, 5.6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    for column, label, colour in (
        ("recorded", "recorded cases", "C0"),
        ("incidence", "reports received (incidence)", "C1"),
    ):
        top.plot(dates, 100 * national[column] / before[column].mean(), color=colour, label=label)
    top.axhline(100, color="0.6", lw=0.8)
    top.set_ylabel("index (before adoption = 100)")
    top.legend(loc="upper left", fontsize="small")
    fig.suptitle("Recorded cases and incidence as bureaus adopt the new rating")
    bottom.fill_between(dates, 0, national["adopted"], step="post", color="0.6")
    bottom.set_ylim(0, 1)
    bottom.set_ylabel("share adopted")
    bottom.set_xlabel("month")
    fig.tight_layout()
    return fig


def plot_monte_carlo(
    mc: pd.DataFrame, scenarios: dict[str, str] | None = None, scenario_column: str = "scenario"
) -> Figure:
    """Each estimator's estimates over the replications, against the truth, by scenario.

    Parameters
    ----------
    mc : pandas.DataFrame
        :func:`tipresearch.estimation.monte_carlo` output for one or more scenarios,
        with a ``scenario_column`` naming each.
    scenarios : dict of str to str, optional
        Scenario -> panel title, in the order to draw (all scenarios, by name, if None).
    scenario_column : str
        The column naming the scenario.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per scenario: per estimator (rows of :data:`ESTIMATOR_ORDER` present in
        ``mc``), the estimates' middle 95% (a bar) and mean (a dot), the mean truth for
        its estimand (a black tick), and zero, the reform's effect on incidence.
    """
    needed = {scenario_column, "estimator", "term", "estimate", "truth"}
    if not isinstance(mc, pd.DataFrame) or needed - set(mc.columns):
        raise ParameterError("mc", type(mc).__name__, "monte_carlo() output with a scenario")
    if scenarios is None:
        scenarios = {s: str(s) for s in mc[scenario_column].unique()}
    rows = [r for r in ESTIMATOR_ORDER if ((mc["estimator"] == r[0]) & (mc["term"] == r[1])).any()]
    fig, axes = plt.subplots(
        1, len(scenarios), figsize=(5.2 * len(scenarios), 0.5 * len(rows) + 1.8), sharey=True
    )
    axes = np.atleast_1d(axes)
    for ax, (scenario, title) in zip(axes, scenarios.items(), strict=True):
        data = mc[mc[scenario_column] == scenario]
        for y, (estimator, term) in enumerate(rows[::-1]):
            sel = data[(data["estimator"] == estimator) & (data["term"] == term)]
            if sel.empty:
                continue
            low, high = np.percentile(sel["estimate"], [2.5, 97.5])
            colour = "C2" if estimator.startswith("survey") else "C0"
            ax.plot([low, high], [y, y], color=colour, lw=4, alpha=0.45, solid_capstyle="butt")
            ax.plot(sel["estimate"].mean(), y, "o", color=colour, ms=5)
            ax.plot(sel["truth"].mean(), y, marker="|", color="black", ms=14, mew=2)
        ax.axvline(0, color="C3", lw=1, ls="--")
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel("effect of the reform (log points)")
    axes[0].set_yticks(range(len(rows)))
    axes[0].set_yticklabels([f"{e}" for e, _ in rows[::-1]], fontsize="small")
    handles = [
        plt.Line2D([], [], color="C0", lw=4, alpha=0.45, label="middle 95% of estimates"),
        plt.Line2D([], [], color="C0", marker="o", ls="", label="mean estimate"),
        plt.Line2D([], [], color="black", marker="|", ms=12, mew=2, ls="", label="true effect"),
        plt.Line2D([], [], color="C3", ls="--", label="effect on incidence (none)"),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize="small", frameon=False)
    fig.suptitle("What each estimator recovers of the reform's effect on recorded cases")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def plot_event_study(estimates: pd.DataFrame, truth: pd.DataFrame | None = None) -> Figure:
    """An event study's coefficients with 95% intervals, and the truth where known.

    Parameters
    ----------
    estimates : pandas.DataFrame
        :func:`tipresearch.estimation.event_study` output.
    truth : pandas.DataFrame, optional
        :func:`tipresearch.estimation.true_effects` output (its ``event k`` rows for
        the same outcome).
    """
    if not isinstance(estimates, pd.DataFrame) or "term" not in estimates:
        raise ParameterError("estimates", type(estimates).__name__, "event_study() output")
    events = estimates[estimates["term"].str.match(EVENT_TERM)].copy()
    if events.empty:
        raise ParameterError("estimates", "no event terms", "event_study() output")
    events["k"] = events["term"].str.split().str[1].astype(int)
    events = events.sort_values("k")
    fig, ax = plt.subplots(figsize=(8, 4.2))
    ax.errorbar(
        events["k"],
        events["estimate"],
        yerr=[events["estimate"] - events["ci_low"], events["ci_high"] - events["estimate"]],
        fmt="o",
        color="C0",
        capsize=2,
        label="estimate, 95% interval",
    )
    if truth is not None:
        outcome = events["outcome"].iloc[0]
        t = truth[(truth["outcome"] == outcome) & truth["estimand"].str.match(EVENT_TERM)]
        t = t.assign(k=t["estimand"].str.split().str[1].astype(int))
        # before adoption the truth is nil by construction, the omitted month included
        t = pd.concat([t, pd.DataFrame({"k": [-1], "truth": [0.0]})]).sort_values("k")
        ax.plot(t["k"], t["truth"], color="black", lw=1.5, label="true effect")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.axvline(-0.5, color="0.6", lw=0.8, ls=":")
    ax.set_xlabel("months since adoption (ends binned; the month before omitted)")
    ax.set_ylabel("effect on recorded cases (log points)")
    ax.set_title("Event study of the reform: estimates against the true effect")
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.legend(fontsize="small", loc="upper left")
    fig.tight_layout()
    return fig
