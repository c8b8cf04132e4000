"""The effects the estimators aim at, computed from the model's expected counts.

A simulated panel carries, for every bureau and month, the ``expected`` engine's count
under the bureau's own calendar (``mu``) and under no reform (``mu0``). The reform's
effect in a cohort-period cell ``(g, t)`` (the bureaus adopting in period ``g``, in
period ``t >= g``) is ``tau_gt = log(sum mu / sum mu0)`` over the cell's bureaus, and
each estimand averages cell effects:

``att``
    over all treated cells, weighted by ``sum mu0`` (the cell's expected count without
    the reform): the average effect on a treated bureau-month, in log points.
``event k``
    the same over the cells ``k`` months after adoption (``k`` binned at ``-leads``
    and ``lags`` as the event study bins it); zero before adoption.
``event average``
    the mean of ``event k`` over ``k = 0 .. lags``.
``att_final_year``
    over bureaus treated throughout the last ``months`` months, the mean of each
    bureau's ``log(sum mu / sum mu0)`` there (what a cross-section of that window
    compares).
``national``
    the mean over months from the first adoption of ``log(sum_b mu_bt / sum_b mu0_bt)``
    (what a segmented regression of the national series averages).

Each is given for recorded cases and for incidence (the reports that reach the police).

References
----------
``docs/estimation.md``; Callaway & Sant'Anna (2021) for cohort-period effects.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tipresearch.errors import ParameterError

from .estimators import event_times
from .panels import TRUTH_COLUMNS

__all__ = ["OUTCOME_COLUMNS", "TRUTH_FRAME_COLUMNS", "true_effects"]

#: Outcome -> (expected count under the calendar, under no reform).
OUTCOME_COLUMNS = {
    "recorded": ("mu_recorded", "mu_recorded_untreated"),
    "incidence": ("mu_incidence", "mu_incidence_untreated"),
}
#: Columns of :func:`true_effects`.
TRUTH_FRAME_COLUMNS = ("estimand", "outcome", "truth")


def _cell_effects(
    frame: pd.DataFrame, mu: str, mu0: str, by: list[str]
) -> tuple[pd.Series, pd.Series]:
    """Each cell's ``log(sum mu / sum mu0)`` and its ``sum mu0``."""
    sums = frame.groupby(by)[[mu, mu0]].sum()
    return np.log(sums[mu] / sums[mu0]), sums[mu0]


def true_effects(
    panel: pd.DataFrame, *, leads: int = 6, lags: int = 12, months: int = 12
) -> pd.DataFrame:
    """The estimands of :mod:`tipresearch.estimation.estimators`, from a simulated panel.

    Parameters
    ----------
    panel : pandas.DataFrame
        :func:`tipresearch.estimation.simulate_panel` output (its truth columns).
    leads, lags : int
        The event study's bins.
    months : int
        The cross-section's window.

    Returns
    -------
    pandas.DataFrame
        :data:`TRUTH_FRAME_COLUMNS`, one row per estimand and outcome.
    """
    missing = [c for c in TRUTH_COLUMNS if c not in panel.columns]
    if missing:
        raise ParameterError("panel", f"without {missing}", "simulate_panel() output")
    panel = panel.sort_values(["bureau", "period"]).reset_index(drop=True)
    treated = panel[panel["reform"] == 1]
    if treated.empty:
        raise ParameterError("panel", "no treated bureau-month", "a panel with adopters")
    rel = event_times(panel, leads, lags)
    last = int(panel["period"].max())
    window = panel[panel["period"] > last - months]
    throughout = window.groupby("bureau")["reform"].min()
    window = window[window["bureau"].map(throughout) == 1]
    first = int(treated["period"].min())
    rows = []
    for outcome, (mu, mu0) in OUTCOME_COLUMNS.items():
        tau, weight = _cell_effects(treated, mu, mu0, ["adopt_period", "period"])
        rows.append(("att", outcome, float(np.average(tau, weights=weight))))
        events = {}
        for k in [k for k in range(-leads, lags + 1) if k != -1]:
            cells = panel[rel == k]
            if cells.empty:
                continue
            tau_k, w_k = _cell_effects(cells, mu, mu0, ["adopt_period", "period"])
            events[k] = float(np.average(tau_k, weights=w_k))
            rows.append((f"event {k}", outcome, events[k]))
        rows.append(
            ("event average", outcome, float(np.mean([v for k, v in events.items() if k >= 0])))
        )
        if not window.empty:
            by_bureau = window.groupby("bureau")[[mu, mu0]].sum()
            rows.append(
                ("att_final_year", outcome, float(np.log(by_bureau[mu] / by_bureau[mu0]).mean()))
            )
        national = panel[panel["period"] >= first].groupby("period")[[mu, mu0]].sum()
        rows.append(("national", outcome, float(np.log(national[mu] / national[mu0]).mean())))
    return pd.DataFrame(rows, columns=list(TRUTH_FRAME_COLUMNS))
