"""Analyses of the intake model: metrics compared, the intake-clearance frontier,
comparative statics of the threshold, and per-report samples.

Every function returns a tidy :class:`pandas.DataFrame` (one row per metric, or
parameter value, or report, and case type), ready for seaborn. Expected values
come from :func:`tipresearch.model.decision.best_response` and
:func:`tipresearch.model.decision.expected_outcomes`; per-report samples are drawn as the
micro engine of :func:`tipresearch.model.engines.simulate` draws them.

Rows with ``case_type == "all"`` (:data:`ALL_TYPES`) sum the case types.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from tipresearch.errors import ParameterError

from .decision import best_response, expected_outcomes
from .metrics import PLANNER, PRESETS, Metric, get_metric
from .params import ModelParams

__all__ = [
    "ALL_TYPES",
    "OUTCOME_COLUMNS",
    "metric_table",
    "frontier",
    "threshold_curve",
    "report_sample",
    "declined_summary",
]

#: Label of the rows that sum all case types.
ALL_TYPES = "all"

#: Expected outcomes per period, summed over the bureaus given (counts), and rates.
OUTCOME_COLUMNS = (
    "reports",
    "opened",
    "declined",
    "solved",
    "victims",
    "victims_later",
    "victims_total",
    "declined_solvable",
    "intake_rate",
    "clearance_rate",
    "unrecorded_share",
    "declined_solvable_share",
)
_COUNTS = OUTCOME_COLUMNS[:8]


# --------------------------------------------------------------------------- checks


def _positive(name: str, value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ParameterError(name, value, "a finite number > 0")
    return float(value)


def _whole(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ParameterError(name, value, f"a whole number >= {low}")
    return int(value)


def _bureau_arrays(
    reports: Sequence[float] | np.ndarray | float | None,
    capacity: Sequence[float] | np.ndarray | float | None,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Check optional per-bureau expected reports and capacity (all types together)."""
    out: list[np.ndarray | None] = []
    for name, value in (("reports", reports), ("capacity", capacity)):
        if value is None:
            out.append(None)
            continue
        arr = np.atleast_1d(np.asarray(value, dtype=float))
        if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
            raise ParameterError(name, value, "a number > 0 or a 1-d array of numbers > 0")
        out.append(arr)
    lam, cap = out
    if cap is not None and lam is None:
        raise ParameterError("capacity", capacity, "None unless reports are given too")
    if cap is not None and lam is not None and cap.size not in (1, lam.size):
        raise ParameterError("capacity", capacity, f"one value or {lam.size} (one per bureau)")
    return lam, cap


# --------------------------------------------------------------------------- expected outcomes


def _add_rates(frame: pd.DataFrame) -> pd.DataFrame:
    """Intake rate, clearance rate, unrecorded share and solvable share among declined."""
    reports = frame["reports"].where(frame["reports"] > 0)
    opened = frame["opened"].where(frame["opened"] > 0)
    declined = frame["declined"].where(frame["declined"] > 1e-12)
    frame["intake_rate"] = frame["opened"] / reports
    frame["clearance_rate"] = frame["solved"] / opened
    frame["unrecorded_share"] = frame["declined"] / reports
    frame["declined_solvable_share"] = frame["declined_solvable"] / declined
    return frame


def _type_rows(
    params: ModelParams,
    threshold: np.ndarray,
    outcomes: dict[str, np.ndarray],
) -> pd.DataFrame:
    """Sum per-bureau expected outcomes over bureaus; one row per case type plus ``all``."""
    rows = []
    for k, name in enumerate(params.type_names):
        row: dict[str, Any] = {"case_type": name, "threshold": float(np.mean(threshold[:, k]))}
        for key in ("reports", "opened", "declined", "solved", "victims", "victims_later"):
            row[key] = float(outcomes[key][:, k].sum())
        row["declined_solvable"] = float(outcomes["declined_solvable"][:, k].sum())
        row["victims_total"] = row["victims"] + row["victims_later"]
        rows.append(row)
    total: dict[str, Any] = {"case_type": ALL_TYPES, "threshold": np.nan}
    for key in _COUNTS:
        total[key] = sum(r[key] for r in rows)
    rows.append(total)
    frame = pd.DataFrame(rows)
    frame["case_type"] = pd.Categorical(
        frame["case_type"], categories=[*params.type_names, ALL_TYPES]
    )
    return _add_rates(frame)


def metric_table(
    params: ModelParams,
    metrics: Iterable[str | Metric] | None = None,
    reports: Sequence[float] | np.ndarray | float | None = None,
    capacity: Sequence[float] | np.ndarray | float | None = None,
    planner: Metric = PLANNER,
) -> pd.DataFrame:
    """Expected outcomes of each metric's best response, and the rescues lost against the planner.

    Parameters
    ----------
    params : ModelParams
    metrics : iterable of str or Metric, optional
        Metrics to compare; default every preset of :data:`tipresearch.model.metrics.PRESETS`.
        The planner is always added as the last metric.
    reports, capacity : float or array_like, optional
        Expected reports and capacity per bureau (all types together); default one
        mean bureau (``reports_mean`` and ``capacity_ratio * reports_mean``). Counts
        are summed over the bureaus.
    planner : Metric
        The benchmark (default :data:`tipresearch.model.metrics.PLANNER`).

    Returns
    -------
    pandas.DataFrame
        One row per metric and case type (and ``all``): ``metric``, ``case_type``,
        ``threshold`` (mean over bureaus; NaN for ``all``), the expected counts per
        period of :data:`OUTCOME_COLUMNS` and their rates, ``rescues_lost`` (the
        planner's ``victims_total`` minus the metric's) and ``rescues_lost_share``
        (that as a share of the planner's).

    Notes
    -----
    ``victims`` are rescued when the case is solved in its period; ``victims_later``
    are those expected from the backlog later, ``victims_per_solved`` times
    ``later_solve_share`` times the opened cases left unsolved (``docs/model.md``,
    §3.3.7 "Victims and the backlog").
    Declined reports are never solved, so a declined report loses both.

    References
    ----------
    ``docs/model.md``, §1.1 "Purpose" and §2.2 "Objectives" (the planner): the gap
    between the planner's and the metric's thresholds, and the rescues lost to it,
    are the headline outputs.
    09BEIJING2594 ¶9 (rating by cases solved, not opened).
    """
    lam, cap = _bureau_arrays(reports, capacity)
    chosen = [get_metric(m) for m in (PRESETS.values() if metrics is None else metrics)]
    planner = get_metric(planner)
    chosen = [m for m in chosen if m != planner] + [planner]
    names = [m.name for m in chosen]
    if len(set(names)) != len(names):
        raise ParameterError("metrics", names, "metrics with distinct names")
    frames = []
    for m in chosen:
        r = best_response(params, m, lam, cap)
        frame = _type_rows(params, r.threshold, r.outcomes)
        frame.insert(0, "metric", m.name)
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    best = table.loc[table["metric"] == planner.name].set_index("case_type")
    ref = table["case_type"].map(best["victims_total"]).astype(float)
    table["rescues_lost"] = ref - table["victims_total"]
    table["rescues_lost_share"] = table["rescues_lost"] / ref.where(ref > 0)
    table["metric"] = pd.Categorical(table["metric"], categories=names)
    return table


def frontier(
    params: ModelParams,
    thresholds: Sequence[float] | np.ndarray | None = None,
    reports: float | None = None,
    capacity: float | None = None,
) -> pd.DataFrame:
    """Expected outcomes of one bureau as its intake threshold moves.

    Parameters
    ----------
    params : ModelParams
    thresholds : array_like, optional
        Thresholds ``tau`` to evaluate, the same for every case type; default 241
        points from where every report is opened to where none is
        (``min delta - 4 sigma`` to ``1 + 4 sigma``).
    reports, capacity : float, optional
        The bureau's expected reports and capacity (all types); default the mean bureau.

    Returns
    -------
    pandas.DataFrame
        One row per threshold and case type: ``threshold``, ``case_type`` and the
        columns of :data:`OUTCOME_COLUMNS` (expected values per period).

    References
    ----------
    ``docs/model.md``, §3.3.4 "Intake moments from the regularized incomplete beta",
    §3.3.5 "Screening noise by quadrature" and §3.3.6 "Dilution of effort".
    """
    if thresholds is None:
        sigma = params.screening_noise
        lo = min(c.dna_effect for c in params.case_types) - 4 * sigma - 0.01
        thresholds = np.linspace(lo, 1 + 4 * sigma + 0.01, 241)
    tau = np.asarray(thresholds, dtype=float)
    if tau.ndim != 1 or tau.size == 0 or not np.all(np.isfinite(tau)):
        raise ParameterError("thresholds", thresholds, "a 1-d array of finite numbers")
    lam = params.reports_mean if reports is None else _positive("reports", reports)
    if capacity is not None and reports is None:
        raise ParameterError("capacity", capacity, "None unless reports is given too")
    cap = params.capacity_ratio * lam if capacity is None else _positive("capacity", capacity)
    n_k = len(params.case_types)
    grid = np.repeat(tau[:, None], n_k, axis=1)
    out = expected_outcomes(
        params, PLANNER, grid, np.full(tau.size, lam), np.full(tau.size, cap), exact=True
    )
    frame = pd.DataFrame(
        {
            "threshold": np.repeat(tau, n_k),
            "case_type": pd.Categorical(
                np.tile(np.array(params.type_names, dtype=object), tau.size),
                categories=list(params.type_names),
            ),
        }
    )
    for key in ("reports", "opened", "declined", "solved", "victims", "victims_later"):
        frame[key] = out[key].ravel()
    frame["victims_total"] = frame["victims"] + frame["victims_later"]
    frame["declined_solvable"] = out["declined_solvable"].ravel()
    return _add_rates(frame)


def threshold_curve(
    params: ModelParams,
    metric: str | Metric,
    name: str,
    values: Sequence[Any] | np.ndarray,
    reports: Sequence[float] | np.ndarray | float | None = None,
    capacity: Sequence[float] | np.ndarray | float | None = None,
) -> pd.DataFrame:
    """The best-response threshold and its outcomes as one parameter varies.

    Parameters
    ----------
    params : ModelParams
        The other parameters.
    metric : str or Metric
        The metric bureaus maximise.
    name : str
        A parameter accepted by :meth:`ModelParams.updated` (``"audit_prob"``,
        ``"capacity_ratio"``, ``"children.dna_effect"``, ...).
    values : sequence
        Values of that parameter.
    reports, capacity : float or array_like, optional
        As in :func:`metric_table`; default the mean bureau, whose capacity follows
        ``capacity_ratio`` as it varies.

    Returns
    -------
    pandas.DataFrame
        One row per value and case type (and ``all``): ``parameter``, ``value``,
        ``metric``, ``case_type``, ``threshold`` and the columns of
        :data:`OUTCOME_COLUMNS`.

    Raises
    ------
    ParameterError
        For an unknown parameter name or a value it does not allow.
    """
    metric = get_metric(metric)
    lam, cap = _bureau_arrays(reports, capacity)
    values = list(values)
    if not values:
        raise ParameterError("values", values, "one or more values")
    frames = []
    for value in values:
        p = params.updated({name: value})
        r = best_response(p, metric, lam, cap)
        frame = _type_rows(p, r.threshold, r.outcomes)
        frame.insert(0, "metric", metric.name)
        frame.insert(0, "value", value)
        frame.insert(0, "parameter", name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- per-report draws


def report_sample(
    params: ModelParams,
    metric: str | Metric,
    n_reports: int,
    seed: int,
    *,
    reports: float | None = None,
    capacity: float | None = None,
) -> pd.DataFrame:
    """Draw single reports of one bureau, period after period, as the micro engine does.

    The bureau (by default the mean bureau: ``reports_mean`` expected reports and
    ``capacity_ratio * reports_mean`` capacity per period) uses its best-response
    threshold ``tau_k`` for ``metric``. For each case type, periods are drawn until
    at least ``n_reports`` reports have arrived (the last period is kept whole);
    in each period:

    1. ``N ~ Poisson(lambda_k)`` (gamma-Poisson when ``dispersion > 0``);
    2. each report's solvability ``s' = delta + (1 - delta) s``, ``s ~ Beta(a, b)``;
    3. it is opened when ``s' + sigma z >= tau_k``, ``z ~ N(0, 1)``;
    4. with ``O`` opened this period, an opened report is solved when
       ``u < s' h(K_k / O)``, ``u ~ U(0, 1)``, ``h(e) = e / (e + e_half)``;
       any report with ``u < s'`` would be solved by standard effort (``solvable``),
       which is how the micro engine counts ``declined_solvable``.

    Parameters
    ----------
    params : ModelParams
    metric : str or Metric
        The metric whose best response sets the threshold.
    n_reports : int
        Reports wanted per case type (>= 1).
    seed : int
        Seed (>= 0); the same seed gives the same sample. The draws follow the
        micro engine's distributions and order of operations, not its random
        numbers.
    reports, capacity : float, optional
        The bureau's expected reports and capacity per period (all types).

    Returns
    -------
    pandas.DataFrame
        One row per report: ``case_type``, ``period`` (from 1), ``s`` (solvability
        ``s'``), ``signal`` (``s' + sigma z``), ``threshold``, ``opened``, ``solved``
        and ``solvable`` (booleans).

    References
    ----------
    ``docs/model.md``, §3.3.1-3.3.3 (reports, solvability, screening), §3.3.6
    "Dilution of effort" and §3.3.9 "The two engines that draw";
    :func:`tipresearch.model.engines.simulate` with ``engine="micro"``.
    """
    metric = get_metric(metric)
    n_reports = _whole("n_reports", n_reports, 1)
    seed = _whole("seed", seed, 0)
    lam = params.reports_mean if reports is None else _positive("reports", reports)
    if capacity is not None and reports is None:
        raise ParameterError("capacity", capacity, "None unless reports is given too")
    cap = params.capacity_ratio * lam if capacity is None else _positive("capacity", capacity)
    tau = best_response(params, metric, lam, cap).threshold[0]
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)]
    rng_reports, rng_solv, rng_noise, rng_outcome = streams
    sigma, d_mix = params.screening_noise, params.dispersion
    frames = []
    for k, ct in enumerate(params.case_types):
        lam_k, cap_k = lam * ct.share, cap * ct.share
        counts: list[np.ndarray] = []
        total = 0
        while total < n_reports:
            batch = max(16, int(1.2 * (n_reports - total) / lam_k) + 1)
            mean = rng_reports.gamma(1.0 / d_mix, lam_k * d_mix, batch) if d_mix > 0 else lam_k
            drawn = rng_reports.poisson(mean, batch)
            counts.append(drawn)
            total += int(drawn.sum())
        n = np.concatenate(counts)
        n = n[: int(np.searchsorted(np.cumsum(n), n_reports)) + 1]
        period = np.repeat(np.arange(n.size), n)
        a, b, d = ct.beta_a, ct.beta_b, ct.dna_effect
        s = d + (1.0 - d) * rng_solv.beta(a, b, period.size)
        signal = s + sigma * rng_noise.standard_normal(period.size) if sigma > 0 else s
        opened = signal >= tau[k]
        o_count = np.bincount(period[opened], minlength=n.size)
        h = cap_k / (cap_k + params.effort_half * o_count)
        u = rng_outcome.random(period.size)
        frames.append(
            pd.DataFrame(
                {
                    "case_type": ct.name,
                    "period": period + 1,
                    "s": s,
                    "signal": signal,
                    "threshold": tau[k],
                    "opened": opened,
                    "solved": opened & (u < s * h[period]),
                    "solvable": u < s,
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    frame["case_type"] = pd.Categorical(frame["case_type"], categories=list(params.type_names))
    frame.attrs.update(metric=metric.name, seed=seed)
    return frame


def declined_summary(sample: pd.DataFrame) -> pd.DataFrame:
    """How declined reports compare with opened ones, per case type.

    Parameters
    ----------
    sample : pandas.DataFrame
        A frame from :func:`report_sample` (columns ``case_type``, ``s``,
        ``opened``, ``solvable``).

    Returns
    -------
    pandas.DataFrame
        One row per case type and status (``opened``, ``declined``): ``reports``,
        ``share`` of the type's reports, ``mean_solvability`` (mean ``s'``), its
        standard error ``se_solvability``, and ``solvable_share`` (share that standard
        effort would solve).
    """
    missing = {"case_type", "s", "opened", "solvable"} - set(sample.columns)
    if missing:
        raise ParameterError("sample", sorted(missing), "a frame from report_sample()")
    status = np.where(sample["opened"], "opened", "declined")
    grouped = sample.assign(status=pd.Categorical(status, categories=["opened", "declined"]))
    out = (
        grouped.groupby(["case_type", "status"], observed=False)
        .agg(
            reports=("s", "size"),
            mean_solvability=("s", "mean"),
            se_solvability=("s", "sem"),
            solvable_share=("solvable", "mean"),
        )
        .reset_index()
    )
    per_type = out.groupby("case_type", observed=False)["reports"].transform("sum")
    out.insert(3, "share", out["reports"] / per_type.where(per_type > 0))
    return out
