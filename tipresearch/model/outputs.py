"""What a simulation returns: the tidy frame of counts, the realised score, and sums.

One row per period, bureau and case type (:data:`OUTPUT_COLUMNS`; ``docs/model.md``,
section 3.5); :func:`realized_score` scores a period's realised counts
(section 3.3.13); :func:`summarise` aggregates a frame per period (and case type).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .metrics import Metric
from .params import CaseType, ModelParams

__all__ = [
    "COUNT_COLUMNS",
    "OUTPUT_COLUMNS",
    "ROW_BYTES",
    "frame_bytes",
    "realized_score",
    "summarise",
]

#: Columns of a simulation's frame, in order.
OUTPUT_COLUMNS = (
    "period",
    "month",
    "bureau",
    "case_type",
    "metric",
    "reports",
    "opened",
    "declined",
    "solved",
    "solved_backlog",
    "recalled",
    "clearance_rate",
    "victims_rescued",
    "backlog",
    "declined_solvable",
    "threshold",
    "score",
)

#: Columns of a frame that are not counts: the row's place, a rate, the plan and its score.
_NOT_COUNTS = (
    "period",
    "month",
    "bureau",
    "case_type",
    "metric",
    "clearance_rate",
    "threshold",
    "score",
)
#: The counts of a frame, which add up over bureaus (and case types), in frame order.
COUNT_COLUMNS = tuple(c for c in OUTPUT_COLUMNS if c not in _NOT_COUNTS)

#: Estimated peak bytes a simulation holds per row of its frame: the engine's arrays,
#: the frame and its copy when written. Measured: about 135 bytes a row above the
#: interpreter's own memory (960,000 rows, either engine, CSV or Parquet); 600 leaves
#: a margin.
ROW_BYTES = 600


def frame_bytes(n_bureaus: int, n_types: int, periods: int) -> int:
    """Estimated peak bytes of one simulation: one row per bureau, type and period."""
    return int(n_bureaus) * int(n_types) * int(periods) * ROW_BYTES


def realized_score(
    metric: Metric,
    params: ModelParams,
    ct: CaseType,
    reports: np.ndarray,
    opened: np.ndarray,
    solved: np.ndarray,
    victims: np.ndarray,
) -> np.ndarray:
    """A metric's score on realised counts (the expected score's formula, ``docs/model.md``
    section 3.3.8, with ``N, O, S, R`` drawn).

    ``victims`` are those rescued in the period, through new and cold-case solves,
    the realised counterpart of the expected score's rescues now and later.
    """
    reports, opened, solved = (np.asarray(x, dtype=float) for x in (reports, opened, solved))
    q, pen = params.audit(ct)
    audit = metric.penalty_weight * q * pen
    rate = np.divide(solved, opened, out=np.zeros_like(solved), where=opened > 0)
    score = (
        metric.solved * solved
        + metric.opened * opened
        + metric.rate * reports * rate
        + metric.victims * np.asarray(victims, dtype=float)
        - metric.unsolved * (opened - solved)
        - audit * (reports - opened)
        - metric.cost_weight * params.handling_cost * opened
    )
    if metric.bonus:
        score = score + metric.bonus * reports * (rate >= metric.target - 1e-12)
    if metric.quota:
        score = score - metric.quota_penalty * np.maximum(metric.quota * reports - solved, 0.0)
    return score


def _repeat_categories(labels: list[str], size: int) -> pd.Categorical:
    categories = list(dict.fromkeys(labels))
    codes = np.array([categories.index(x) for x in labels], dtype=np.int8)
    return pd.Categorical.from_codes(np.repeat(codes, size), categories=categories, validate=False)


def frame_of_counts(
    out: dict[str, np.ndarray],
    tau: np.ndarray,
    score: np.ndarray,
    plan: list[tuple[ModelParams, Metric]],
    months: pd.PeriodIndex,
    type_names: tuple[str, ...],
    engine: str,
    seed: int,
    metric: Metric,
) -> pd.DataFrame:
    n_t, n_b, n_k = tau.shape
    size = n_b * n_k
    n, opened, solved = out["reports"], out["opened"], out["solved"]
    with np.errstate(invalid="ignore", divide="ignore"):
        clearance = np.where(opened > 0, solved / np.maximum(opened, 1), np.nan)
    frame = pd.DataFrame(
        {
            "period": np.repeat(np.arange(1, n_t + 1), size),
            "month": np.repeat(months.to_timestamp().to_numpy(), size),
            "bureau": np.tile(np.repeat(np.arange(n_b), n_k), n_t),
            "case_type": pd.Categorical.from_codes(
                np.tile(np.arange(n_k, dtype=np.int8), n_t * n_b),
                categories=list(type_names),
                validate=False,  # codes 0 .. n_k - 1 by construction
            ),
            "metric": _repeat_categories([m.name for _, m in plan], size),
            "reports": n.ravel(),
            "opened": opened.ravel(),
            "declined": (n - opened).ravel(),
            "solved": solved.ravel(),
            "solved_backlog": out["solved_backlog"].ravel(),
            "recalled": out["recalled"].ravel(),
            "clearance_rate": clearance.ravel(),
            "victims_rescued": out["victims_rescued"].ravel(),
            "backlog": out["backlog"].ravel(),
            "declined_solvable": out["declined_solvable"].ravel(),
            "threshold": tau.ravel(),
            "score": score.ravel(),
        },
        copy=False,  # the arrays are this call's own: no consolidating copy
    )
    frame.attrs.update(engine=engine, seed=seed, metric=metric.name)
    return frame


def summarise(frame: pd.DataFrame, by_type: bool = True) -> pd.DataFrame:
    """Aggregate a simulation per period (and case type): sums and rates.

    Adds ``intake_rate = opened / reports``, ``clearance_rate = solved / opened``
    and ``unrecorded_share = declined / reports`` (the "dark figure" among reports).
    """
    keys = ["period", "month"] + (["case_type"] if by_type else [])
    out = frame.groupby(keys, observed=True, sort=True)[list(COUNT_COLUMNS)].sum().reset_index()
    out["intake_rate"] = out["opened"] / out["reports"].where(out["reports"] > 0)
    out["clearance_rate"] = out["solved"] / out["opened"].where(out["opened"] > 0)
    out["unrecorded_share"] = out["declined"] / out["reports"].where(out["reports"] > 0)
    return out
