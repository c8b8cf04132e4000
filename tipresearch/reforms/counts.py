"""National counts from a simulated calendar: per year, per month, over a window of days.

A simulation (:meth:`tipresearch.reforms.china.ChinaModel.simulate`,
:func:`tipresearch.reforms.simulate_timeline`) has one row per month, bureau and
case type. :func:`annual_counts` and :func:`monthly_counts` sum it to national
counts per calendar year or month and case type (and ``all``), with the
clearance rate and victims per solved case; :func:`window_counts` sums it over a
window of days, weighting each month by the share of its days inside.
:func:`to_annual` and :func:`window_totals` do the same to monthly counts already
summed (:func:`tipresearch.reforms.china.replicate` with ``monthly=True``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tipresearch.errors import ParameterError

__all__ = [
    "annual_counts",
    "monthly_counts",
    "to_annual",
    "window_counts",
    "window_totals",
    "with_recalled",
]


def annual_counts(frame: pd.DataFrame, scale: float = 1.0) -> pd.DataFrame:
    """National counts per calendar year and case type (and ``all``).

    Parameters
    ----------
    frame : pandas.DataFrame
        A simulation (one row per month, bureau and case type).
    scale : float
        Multiplier from simulated to national counts.

    Returns
    -------
    pandas.DataFrame
        ``year``, ``case_type`` (women, children, all), ``reports``,
        ``registered`` (opened, plus declined reports recalled from the stock of
        earlier declined ones), ``recalled`` (those recalled reports), ``solved``
        (new cases solved, plus cold cases solved from the backlog, plus recalled
        reports, as a year's published solved count includes cases reported
        earlier), ``rescued``, ``clearance`` (solved / registered) and
        ``victims_per_solved``. A frame without a ``recalled`` column (made
        before recall existed) counts no recalled reports.

    References
    ----------
    ``docs/model.md``, §3.3.10 (backlog solves and recalled reports), §3.5.
    """
    frame = with_recalled(frame)
    cols = _FRAME_COUNTS
    g = frame.groupby([frame["month"].dt.year.rename("year"), "case_type"], observed=True)[
        cols
    ].sum()
    g = g.reset_index()
    total = g.groupby("year", as_index=False)[cols].sum()
    total["case_type"] = "all"
    out = pd.concat([g, total], ignore_index=True)
    return _finish(out, scale, ["year", "case_type"])


#: Count columns of a simulation frame that the national counts sum.
_FRAME_COUNTS = ["reports", "opened", "solved", "solved_backlog", "recalled", "victims_rescued"]


def with_recalled(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with a ``recalled`` column of zeros if it has none.

    Frames made before the recall of declined reports existed (or built by hand)
    have no ``recalled`` column; they recalled nothing.
    """
    return frame if "recalled" in frame.columns else frame.assign(recalled=0)


def _finish(out: pd.DataFrame, scale: float, keys: list[str]) -> pd.DataFrame:
    res = pd.DataFrame({k: out[k] for k in keys})
    res["case_type"] = pd.Categorical(
        res["case_type"].astype(str), categories=["women", "children", "all"]
    )
    recalled = out["recalled"]
    res["reports"] = out["reports"] * scale
    # a recalled report is registered and solved in the month it is recalled
    res["registered"] = (out["opened"] + recalled) * scale
    res["recalled"] = recalled * scale
    res["solved"] = (out["solved"] + out["solved_backlog"] + recalled) * scale
    res["rescued"] = out["victims_rescued"] * scale
    with np.errstate(invalid="ignore", divide="ignore"):
        res["clearance"] = res["solved"] / res["registered"].where(res["registered"] > 0)
        res["victims_per_solved"] = res["rescued"] / res["solved"].where(res["solved"] > 0)
    return res.sort_values(keys, kind="stable").reset_index(drop=True)


def _window_weights(month: pd.Series, first_day: Any, last_day: Any) -> pd.Series:
    """Share of each month's days inside ``[first_day, last_day]`` (0 outside).

    Raises
    ------
    ParameterError
        If ``last_day`` is before ``first_day``.
    """
    first, last = pd.Timestamp(first_day), pd.Timestamp(last_day)
    if last < first:
        raise ParameterError("last_day", str(last.date()), f"a day not before {first.date()}")
    codes, months = pd.factorize(month)  # the weights of each distinct month, then mapped
    months = pd.DatetimeIndex(months)
    days = np.asarray(months.days_in_month)
    lo = months.where(months > first, first)
    ends = months + pd.to_timedelta(days - 1, unit="D")
    hi = ends.where(ends < last, last)
    share = np.clip(np.asarray((hi - lo).days) + 1, 0, None) / days
    return pd.Series(share[codes], index=month.index)


def window_counts(
    frame: pd.DataFrame, first_day: Any, last_day: Any, scale: float = 1.0
) -> pd.DataFrame:
    """National counts over a window of days, by case type (and ``all``).

    Monthly counts are weighted by the share of each month's days that fall in
    ``[first_day, last_day]`` (so 1 April to 15 August takes April to July whole
    and 15/31 of August): the model's unit is the month.

    Returns
    -------
    pandas.DataFrame
        ``case_type`` and the columns of :func:`annual_counts` but ``year``.
    """
    frame = with_recalled(frame)
    weight = _window_weights(frame["month"], first_day, last_day)
    cols = _FRAME_COUNTS
    weighted = frame[cols].mul(weight, axis=0)
    weighted["case_type"] = frame["case_type"].astype(str)
    g = weighted.groupby("case_type", as_index=False)[cols].sum()
    total = pd.DataFrame([g[cols].sum()])
    total["case_type"] = "all"
    return _finish(pd.concat([g, total], ignore_index=True), scale, ["case_type"])


def monthly_counts(frame: pd.DataFrame, scale: float = 1.0) -> pd.DataFrame:
    """National counts per month and case type (and ``all``), as :func:`annual_counts`."""
    frame = with_recalled(frame)
    cols = _FRAME_COUNTS
    g = frame.groupby(["month", "case_type"], observed=True)[cols].sum().reset_index()
    total = g.groupby("month", as_index=False)[cols].sum()
    total["case_type"] = "all"
    return _finish(pd.concat([g, total], ignore_index=True), scale, ["month", "case_type"])


def to_annual(monthly: pd.DataFrame) -> pd.DataFrame:
    """Sum monthly counts to calendar years.

    The monthly counts are those of :func:`tipresearch.reforms.china.replicate` with
    ``monthly=True``. Keeps ``scenario`` and ``seed`` when present; recomputes
    ``clearance`` and ``victims_per_solved`` from the sums.
    """
    keys = [k for k in ("scenario", "seed") if k in monthly.columns]
    monthly = with_recalled(monthly)
    counts = ["reports", "registered", "recalled", "solved", "rescued"]
    year = monthly["month"].dt.year.rename("year")
    g = monthly.groupby([*(monthly[k] for k in keys), year, "case_type"], observed=True)[
        counts
    ].sum()
    out = g.reset_index()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["clearance"] = out["solved"] / out["registered"].where(out["registered"] > 0)
        out["victims_per_solved"] = out["rescued"] / out["solved"].where(out["solved"] > 0)
    return out


def window_totals(monthly: pd.DataFrame, first_day: Any, last_day: Any) -> pd.DataFrame:
    """Counts over a window of days from monthly counts.

    The monthly counts are those of :func:`tipresearch.reforms.china.replicate` with
    ``monthly=True``. Months are weighted by the share of their days inside
    ``[first_day, last_day]``, as in :func:`window_counts`.

    Returns
    -------
    pandas.DataFrame
        ``scenario`` and ``seed`` (when present), ``case_type``, ``registered``,
        ``recalled``, ``solved``, ``rescued``.
    """
    monthly = with_recalled(monthly)
    weight = _window_weights(monthly["month"], first_day, last_day)
    cols = ["registered", "recalled", "solved", "rescued"]
    weighted = monthly[cols].mul(weight, axis=0)
    keys = [k for k in ("scenario", "seed") if k in monthly.columns] + ["case_type"]
    for k in keys:
        weighted[k] = monthly[k]
    return weighted.groupby(keys, observed=True)[cols].sum().reset_index()
