"""The inverse problem: which rating rule and audit strength produce a published recording share.

The model's recording stage is the share of reports a bureau opens as cases (the intake
rate, ``docs/model.md`` §1.1). Under a rating rule, the mean bureau's intake rate rises
with the probability that an audit finds a declined report (§3.3.8; notebook 2). For a
published share ``s`` known to within ``tol``, :func:`audit_for_share` gives, for every
rating rule, the audit probability at which the intake rate equals ``s`` (linear
interpolation between the points of :func:`intake_curves`, where the curve crosses
``s``) and the interval of audit probabilities whose intake lies within ``s +- tol``;
a rule whose curve never comes within ``tol`` of ``s`` cannot produce the figure at any
audit probability of the grid. Several rules may fit equally; the table lists them all.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tipresearch.errors import ParameterError

from .decision import _per_type_arrays, best_thresholds
from .expected import type_moments
from .metrics import Metric, get_metric
from .params import ModelParams

__all__ = ["INVERSE_COLUMNS", "audit_for_share", "intake_curves", "rounding_tolerance"]

#: Columns of :func:`audit_for_share`.
INVERSE_COLUMNS = (
    "metric",
    "share",
    "tolerance",
    "audit_prob",
    "audit_low",
    "audit_high",
    "fits",
    "intake_at_no_audit",
    "intake_at_most_audit",
)


def intake_curves(
    params: ModelParams,
    metrics: Sequence[str | Metric],
    audit_probs: Sequence[float] | np.ndarray,
) -> pd.DataFrame:
    """The mean bureau's intake rate (both case types) over audit probabilities, per rule.

    Parameters
    ----------
    params : ModelParams
        Every other parameter (the audit penalty included).
    metrics : sequence of str or Metric
        Rating rules.
    audit_probs : sequence of float
        Audit probabilities, increasing, in [0, 1].

    Returns
    -------
    pandas.DataFrame
        ``metric``, ``audit_prob``, ``intake_rate`` (share of reports opened): the
        best responses of the closed forms (``docs/model.md`` §3.3.4-§3.3.8), every
        audit probability of a rule solved in one vectorised call
        (:func:`tipresearch.model.decision.best_thresholds` with ``audit_q``); the
        same as :func:`tipresearch.model.analysis.threshold_curve` point by point.
    """
    grid = np.asarray(audit_probs, dtype=float)
    if grid.ndim != 1 or grid.size < 2 or np.any(np.diff(grid) <= 0):
        raise ParameterError("audit_probs", list(grid), "two or more increasing values")
    if grid[0] < 0 or grid[-1] > 1:
        raise ParameterError("audit_probs", list(grid), "values in [0, 1]")
    if not metrics:
        raise ParameterError("metrics", list(metrics), "one or more rating rules")
    frames = []
    lam, cap = _per_type_arrays(params, None, None)  # the mean bureau, (1, K)
    lam_g, cap_g = np.repeat(lam, grid.size, axis=0), np.repeat(cap, grid.size, axis=0)
    for metric in metrics:
        rule = get_metric(metric)
        # every audit probability of the grid solved in one call, as a row of its own
        tau = best_thresholds(params, rule, lam_g, cap_g, audit_q=grid)
        p_open, _ = type_moments(params, tau)
        intake = (lam_g * p_open).sum(axis=1) / lam_g.sum(axis=1)
        frames.append(
            pd.DataFrame({"metric": rule.name, "audit_prob": grid, "intake_rate": intake})
        )
    return pd.concat(frames, ignore_index=True)


#: Falls smaller than this are rounding (a plateau's last digits), not falls.
_ROUNDING = 1e-12


def _crossing(q: np.ndarray, y: np.ndarray, target: float) -> float:
    """First audit probability where the piecewise-linear curve reaches ``target``."""
    above = np.nonzero(y >= target)[0]
    if above.size == 0:
        return float("nan")
    i = int(above[0])
    if i == 0:
        return float(q[0]) if y[0] == target else float("nan")
    return float(q[i - 1] + (target - y[i - 1]) * (q[i] - q[i - 1]) / (y[i] - y[i - 1]))


def _band(q: np.ndarray, y: np.ndarray, share: float, tolerance: float) -> tuple[float, float]:
    """Audit probabilities whose intake is within ``share +- tolerance``.

    On a curve that never falls (intake rising with audits; steps down of rounding
    size, 1e-12, where the intake stays flat, do not count), the band's ends are
    interpolated where the curve crosses ``share - tolerance`` and ``share +
    tolerance``; otherwise the grid points inside the band bound it.
    """
    lo_y, hi_y = share - tolerance, share + tolerance
    if np.all(np.diff(y) >= -_ROUNDING):  # never falls, up to rounding on a plateau
        if y[-1] < lo_y or y[0] > hi_y:
            return float("nan"), float("nan")
        low = float(q[0]) if y[0] >= lo_y else _crossing(q, y, lo_y)
        above = np.nonzero(y > hi_y)[0]
        if above.size == 0:
            return low, float(q[-1])
        i = int(above[0])
        high = float(q[i - 1] + (hi_y - y[i - 1]) * (q[i] - q[i - 1]) / (y[i] - y[i - 1]))
        return low, high
    near = np.abs(y - share) <= tolerance
    if not near.any():
        return float("nan"), float("nan")
    return float(q[near].min()), float(q[near].max())


def audit_for_share(curves: pd.DataFrame, share: float, tolerance: float) -> pd.DataFrame:
    """For each rating rule, the audit probability that gives a recording share.

    Parameters
    ----------
    curves : pandas.DataFrame
        :func:`intake_curves`.
    share : float
        The published recording share, in [0, 1].
    tolerance : float
        How far from ``share`` an intake rate still fits it (the figure's uncertainty;
        at least half a unit of its last published digit).

    Returns
    -------
    pandas.DataFrame
        :data:`INVERSE_COLUMNS`, one row per rule: ``audit_prob`` where the intake
        rate reaches ``share`` (NaN where it never does, and where it is above it
        already without audits: audits only raise intake),
        ``audit_low`` and ``audit_high`` the audit probabilities whose intake is within
        ``share +- tolerance`` (interpolated on a rising curve; NaN if none), ``fits``
        whether there are any.
    """
    if not 0 <= share <= 1:
        raise ParameterError("share", share, "a share in [0, 1]")
    if not tolerance >= 0:
        raise ParameterError("tolerance", tolerance, "a number >= 0")
    rows = []
    for metric, g in curves.groupby("metric", sort=False):
        q = g["audit_prob"].to_numpy(dtype=float)
        y = g["intake_rate"].to_numpy(dtype=float)
        low, high = _band(q, y, share, tolerance)
        rows.append(
            {
                "metric": metric,
                "share": share,
                "tolerance": tolerance,
                "audit_prob": _crossing(q, y, share),
                "audit_low": low,
                "audit_high": high,
                "fits": not np.isnan(low),
                "intake_at_no_audit": float(y[0]),
                "intake_at_most_audit": float(y[-1]),
            }
        )
    return pd.DataFrame(rows, columns=list(INVERSE_COLUMNS))


def rounding_tolerance(value: float) -> float:
    """Half a unit of the last digit of a share published as a percentage.

    81% -> 0.005, 32.6% -> 0.0005, 70% -> 0.005: the least uncertainty a published
    figure carries (the rounding of its last digit); sampling and measurement errors,
    where a source states them, are larger.
    """
    percent = round(float(value) * 100.0, 8)
    text = repr(percent)
    if text.endswith(".0"):
        text = text[:-2]
    decimals = len(text.split(".")[1]) if "." in text else 0
    return 0.5 * 10.0 ** (-decimals) / 100.0
