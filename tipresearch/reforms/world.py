"""The world a simulated China calendar implies: incidence, what gets recorded, what is lost.

A fit to registered cases shows only what the police recorded. The model also
says how many reports were received, how many were declined, and how many of the
declined ones standard effort would have solved. :func:`implied_world` sums a
simulation (:meth:`tipresearch.reforms.china.ChinaModel.simulate`) into these
numbers per calendar year and case type; :func:`replicate_world` does it on
several seeds, :func:`world_bands` summarises the seeds (mean and central band),
and :func:`incidence_change` gives the change in reports between two years.

:func:`recording_studies` turns the published recording studies
(``data/published/recording_shares.csv``,
:func:`tipresearch.data.published.load_recording_shares`) into one share per
study, and :func:`recording_comparison` sets the model's recorded share of one
year beside them, each study labelled with its place, years and the stage it
measures.

The quantities
--------------
Per year and case type, with ``N`` reports, ``O`` opened (recorded, registered),
``D`` declined reports that standard effort would have solved (``docs/model.md``,
§3.3.9), ``S`` cases solved in the year, new and from the backlog (§3.3.10):

================================ ====================================================
``reports``                      ``N``: reports received (incidence as the police see it)
``recorded``                     ``O``: reports opened as criminal cases
``unrecorded``                   ``N - O``: reports declined, in no statistic (§1.1)
``recorded_share``               ``O / N`` (the intake rate of §3.5)
``unrecorded_share``             ``(N - O) / N`` (the ``unrecorded_share`` of §3.5)
``declined_solvable``            ``D``
``declined_solvable_share``      ``D / (N - O)``: declined reports that were solvable
``solved``                       ``S``, new and cold cases and recalled declined
                                 reports, as
                                 :func:`~tipresearch.reforms.counts.annual_counts`
``clearance``                    ``S / O``
================================ ====================================================

References
----------
``docs/model.md``, §1.1 (the unrecorded figure), §3.3.9 (the engines and ``D``),
§3.3.10 (backlog solves), §3.5 (outputs and shares); recording studies in
``data/README.md`` (``published/recording_shares.csv``).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
import pandas as pd

from tipresearch.checks import check_seed
from tipresearch.data.published import FUNNEL_STAGES, load_recording_shares
from tipresearch.errors import ParameterError

from .china import ChinaModel
from .counts import with_recalled
from .timeline import Timeline

__all__ = [
    "STAGE_NAMES",
    "WORLD_COUNTS",
    "WORLD_MEASURES",
    "WORLD_SHARES",
    "implied_world",
    "incidence_change",
    "recording_comparison",
    "recording_studies",
    "replicate_world",
    "world_bands",
]

#: Counts of :func:`implied_world`, per year and case type.
WORLD_COUNTS: tuple[str, ...] = (
    "reports",
    "recorded",
    "unrecorded",
    "declined_solvable",
    "solved",
)
#: Shares of :func:`implied_world` (each in [0, 1], NaN when its denominator is 0).
WORLD_SHARES: tuple[str, ...] = (
    "recorded_share",
    "unrecorded_share",
    "declined_solvable_share",
    "clearance",
)
#: Every measure of :func:`implied_world`, in column order.
WORLD_MEASURES: tuple[str, ...] = (
    "reports",
    "recorded",
    "unrecorded",
    "recorded_share",
    "unrecorded_share",
    "declined_solvable",
    "declined_solvable_share",
    "solved",
    "clearance",
)
#: Plain-language names of the recording stages.
STAGE_NAMES: dict[str, str] = {
    "victim_reporting": "victims report to police",
    "police_recording": "police record what is reported",
    "both_stages": "crimes estimated to have happened, recorded",
}

#: Columns of a simulation that :func:`implied_world` needs.
_FRAME_COLUMNS: tuple[str, ...] = (
    "month",
    "case_type",
    "reports",
    "opened",
    "declined",
    "solved",
    "solved_backlog",
    "declined_solvable",
)
_CASE_TYPES: tuple[str, ...] = ("women", "children", "all")


def _check_frame(frame: object) -> pd.DataFrame:
    """The simulation, if it has the columns and counts :func:`implied_world` needs."""
    allowed = "a simulated calendar (ChinaModel.simulate) with columns " + ", ".join(_FRAME_COLUMNS)
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError("frame", type(frame).__name__, allowed)
    missing = [c for c in _FRAME_COLUMNS if c not in frame.columns]
    if missing:
        raise ParameterError("frame", f"a frame without columns {missing}", allowed)
    if frame.empty:
        raise ParameterError("frame", "an empty frame", allowed)
    if not pd.api.types.is_datetime64_any_dtype(frame["month"]):
        raise ParameterError("frame['month']", str(frame["month"].dtype), "datetime64 months")
    types = set(frame["case_type"].astype(str))
    if not types <= {"women", "children"}:
        raise ParameterError("frame['case_type']", sorted(types), "women and children")
    counts = frame[list(_FRAME_COLUMNS[2:])]
    if counts.isna().any().any() or (counts < 0).any().any():
        raise ParameterError("frame", "negative or missing counts", "counts >= 0")
    if (frame["opened"] > frame["reports"]).any():
        raise ParameterError("frame", "more reports opened than received", "opened <= reports")
    if (frame["declined"] != frame["reports"] - frame["opened"]).any():
        raise ParameterError("frame", "declined != reports - opened", "declined = reports - opened")
    if (frame["declined_solvable"] > frame["declined"]).any():
        raise ParameterError(
            "frame", "more declined solvable reports than declined", "declined_solvable <= declined"
        )
    return frame


def _check_scale(scale: object) -> float:
    if (
        isinstance(scale, bool)
        or not isinstance(scale, numbers.Real)
        or not np.isfinite(scale)
        or scale <= 0
    ):
        raise ParameterError("scale", scale, "a finite number > 0")
    return float(scale)


def _check_level(level: object) -> float:
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise ParameterError("level", level, "a share in (0, 1), such as 0.9 for a 5-95% band")
    return float(level)


def _share(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    with np.errstate(invalid="ignore", divide="ignore"):
        return numerator / denominator.where(denominator > 0)


def implied_world(frame: pd.DataFrame, scale: float = 1.0) -> pd.DataFrame:
    """Incidence, recording and what is lost, per calendar year and case type.

    Parameters
    ----------
    frame : pandas.DataFrame
        A simulated calendar, one row per month, bureau and case type
        (:meth:`tipresearch.reforms.china.ChinaModel.simulate`).
    scale : float
        Multiplier from simulated to national counts (> 0; 1 for the China
        model, whose units together are the whole country).

    Returns
    -------
    pandas.DataFrame
        ``year``, ``case_type`` (women, children, all; categorical) and the
        columns of :data:`WORLD_MEASURES` (formulas in the module docstring,
        ``docs/model.md`` §3.3.9, §3.3.10 and §3.5). ``solved`` equals ``solved``
        of :func:`~tipresearch.reforms.counts.annual_counts`, and ``recorded``
        its ``registered`` less the ``recalled`` reports (0 unless the recall of
        declined reports is on): ``recorded`` is the year's own reports opened,
        so that ``recorded + unrecorded = reports``. A share whose denominator is
        0 is NaN.

    Raises
    ------
    ParameterError
        If ``frame`` is not a simulation (a missing column, no rows, months that
        are not dates, a case type other than women and children, negative
        counts, or counts that do not add up) or ``scale`` is not a number > 0.
    """
    frame = _check_frame(frame)
    scale = _check_scale(scale)
    frame = with_recalled(frame)
    cols = [*_FRAME_COLUMNS[2:], "recalled"]
    year = frame["month"].dt.year.rename("year")
    by_type = frame.groupby([year, frame["case_type"].astype(str)])[cols].sum().reset_index()
    total = by_type.groupby("year", as_index=False)[cols].sum()
    total["case_type"] = "all"
    sums = pd.concat([by_type, total], ignore_index=True)
    out = pd.DataFrame({"year": sums["year"].astype(int)})
    out["case_type"] = pd.Categorical(sums["case_type"], categories=list(_CASE_TYPES))
    out["reports"] = sums["reports"] * scale
    out["recorded"] = sums["opened"] * scale
    out["unrecorded"] = sums["declined"] * scale
    out["recorded_share"] = _share(out["recorded"], out["reports"])
    out["unrecorded_share"] = _share(out["unrecorded"], out["reports"])
    out["declined_solvable"] = sums["declined_solvable"] * scale
    out["declined_solvable_share"] = _share(out["declined_solvable"], out["unrecorded"])
    out["solved"] = (sums["solved"] + sums["solved_backlog"] + sums["recalled"]) * scale
    out["clearance"] = _share(out["solved"], out["recorded"])
    return out.sort_values(["year", "case_type"], kind="stable").reset_index(drop=True)


def _check_seeds(seeds: object) -> list[int]:
    allowed = "a non-empty sequence of distinct whole numbers >= 0"
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence | np.ndarray):
        raise ParameterError("seeds", seeds, allowed)
    if len(seeds) == 0:
        raise ParameterError("seeds", seeds, allowed)
    try:
        out = [check_seed(s.item() if isinstance(s, np.generic) else s) for s in seeds]
    except ParameterError:
        raise ParameterError("seeds", seeds, allowed) from None
    if len(set(out)) != len(out):
        raise ParameterError("seeds", seeds, allowed)
    return out


def replicate_world(
    model: ChinaModel,
    seeds: Sequence[int],
    *,
    timeline: Timeline | None = None,
    end: str | None = None,
) -> pd.DataFrame:
    """:func:`implied_world` of the model's calendar on each seed.

    Every seed is one run of :meth:`ChinaModel.simulate` (as
    :func:`tipresearch.reforms.china.replicate` runs them), so runs of two
    models or timelines on the same seeds share bureaus and report draws.

    Parameters
    ----------
    model : ChinaModel
        The China model (for the committed fit, ``load_fit("data/fit").model()``).
    seeds : sequence of int
        Distinct root seeds (at least one).
    timeline : Timeline, optional
        Reforms (default: the model's own, :meth:`ChinaModel.timeline`).
    end : str, optional
        Last month, if earlier than the model's.

    Returns
    -------
    pandas.DataFrame
        ``seed`` and the columns of :func:`implied_world`.

    Raises
    ------
    ParameterError
        If ``model`` is not a :class:`ChinaModel`, ``seeds`` is empty or holds
        anything but distinct whole numbers >= 0, or ``timeline`` is not a
        :class:`Timeline`.
    """
    if not isinstance(model, ChinaModel):
        raise ParameterError("model", type(model).__name__, "a ChinaModel")
    if timeline is not None and not isinstance(timeline, Timeline):
        raise ParameterError("timeline", type(timeline).__name__, "a Timeline or None")
    frames = []
    for seed in _check_seeds(seeds):
        world = implied_world(model.simulate(seed=seed, timeline=timeline, end=end))
        world.insert(0, "seed", seed)
        frames.append(world)
    return pd.concat(frames, ignore_index=True)


def _seeded(world: pd.DataFrame, name: str) -> pd.DataFrame:
    """A world from :func:`implied_world` or :func:`replicate_world`, with a ``seed`` column."""
    allowed = "a frame from implied_world or replicate_world"
    if not isinstance(world, pd.DataFrame):
        raise ParameterError(name, type(world).__name__, allowed)
    missing = [c for c in ("year", "case_type", *WORLD_MEASURES) if c not in world.columns]
    if missing:
        raise ParameterError(name, f"a frame without columns {missing}", allowed)
    if world.empty:
        raise ParameterError(name, "an empty frame", allowed)
    return world if "seed" in world.columns else world.assign(seed=0)


def world_bands(world: pd.DataFrame, level: float = 0.9) -> pd.DataFrame:
    """Mean and central ``level`` band across seeds of every measure, by year and case type.

    Parameters
    ----------
    world : pandas.DataFrame
        :func:`replicate_world` output (or one :func:`implied_world`, a single seed).
    level : float
        Width of the band, in (0, 1): 0.9 gives the 5% and 95% quantiles across seeds.

    Returns
    -------
    pandas.DataFrame
        Tidy: ``year``, ``case_type``, ``measure`` (one of :data:`WORLD_MEASURES`,
        categorical in that order), ``mean``, ``low``, ``high`` and ``seeds`` (how
        many seeds gave a value; a share is missing in a seed whose denominator
        was 0). The mean of a share is the mean of the seeds' shares. The band's
        width is kept in ``attrs["level"]`` for the figures.

    Raises
    ------
    ParameterError
        If ``world`` is not such a frame or ``level`` is not in (0, 1).
    """
    world = _seeded(world, "world")
    level = _check_level(level)
    long = world.melt(
        id_vars=["seed", "year", "case_type"],
        value_vars=list(WORLD_MEASURES),
        var_name="measure",
    )
    long["measure"] = pd.Categorical(long["measure"], categories=list(WORLD_MEASURES))
    g = long.groupby(["year", "case_type", "measure"], observed=True)["value"]
    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
    out = g.mean().rename("mean").to_frame()
    out["low"] = g.quantile(lo)
    out["high"] = g.quantile(hi)
    out["seeds"] = g.count()
    out = out.reset_index()
    out.attrs["level"] = level
    return out


def incidence_change(
    world: pd.DataFrame, first: int = 2008, last: int = 2020, level: float = 0.9
) -> pd.DataFrame:
    """Relative change in reports received from ``first`` to ``last``, by case type.

    ``reports[last] / reports[first] - 1`` in each seed (so -0.95 is a fall of
    95%), then the mean and the central ``level`` band across seeds.

    Parameters
    ----------
    world : pandas.DataFrame
        :func:`replicate_world` output (or one :func:`implied_world`).
    first, last : int
        Calendar years, ``first`` before ``last``, both in ``world``.
    level : float
        Width of the band, in (0, 1).

    Returns
    -------
    pandas.DataFrame
        ``case_type``, ``first`` and ``last`` (mean reports in those years),
        ``change`` (mean over seeds of the relative change), ``low``, ``high``.

    Raises
    ------
    ParameterError
        If a year is missing from ``world``, ``last`` is not after ``first``, a
        year has no reports, or ``level`` is not in (0, 1).
    """
    world = _seeded(world, "world")
    level = _check_level(level)
    years = set(world["year"].astype(int))
    for name, year in (("first", first), ("last", last)):
        if isinstance(year, bool) or not isinstance(year, numbers.Integral) or year not in years:
            raise ParameterError(name, year, f"a year of the world, {min(years)} to {max(years)}")
    if last <= first:
        raise ParameterError("last", last, f"a year after first ({first})")
    reports = world.pivot_table(
        index=["seed", "case_type"], columns="year", values="reports", observed=True
    )[[first, last]]
    if (reports[first] <= 0).any():
        raise ParameterError("first", first, "a year with reports in every seed")
    change = (reports[last] / reports[first] - 1.0).rename("change").reset_index()
    g = change.groupby("case_type", observed=True)["change"]
    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
    means = reports.groupby("case_type", observed=True).mean()
    out = pd.DataFrame(
        {
            "first": means[first],
            "last": means[last],
            "change": g.mean(),
            "low": g.quantile(lo),
            "high": g.quantile(hi),
        }
    )
    return out.reset_index()


def _years_label(start: pd.Timestamp, end: pd.Timestamp) -> str:
    if start.year == end.year:
        return str(start.year)
    if start.month == 4 and end.month == 3 and end.year == start.year + 1:
        return f"{start.year}/{str(end.year)[2:]}"  # a financial year, April to March
    return f"{start.year}-{str(end.year)[2:]}"


def recording_studies(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """One share per recording study, with its place, years and stage.

    A ``share_recorded`` or ``share_reported`` row is taken as it is; a
    ``share_not_recorded`` row gives ``1 - value``; a ``crimes_recorded`` row is
    divided by the ``crimes_estimated`` row of the same jurisdiction and period
    (crimes recorded over crimes estimated to have happened: both stages).

    Parameters
    ----------
    table : pandas.DataFrame, optional
        :func:`tipresearch.data.published.load_recording_shares` output (loaded
        from ``data/published/`` if None).

    Returns
    -------
    pandas.DataFrame
        ``id`` (the row or rows used), ``place``, ``years`` (``1985``,
        ``2012-13``, ``2002/03`` for a financial year), ``year`` (the first),
        ``crime``, ``stage`` (categorical, :data:`FUNNEL_STAGES`),
        ``share`` (in [0, 1]: recorded for the recording stages, reported to
        the police for ``victim_reporting``), ``label`` (place, years, crimes),
        ``source``, ``confidence``; ordered by stage, then year.

    Raises
    ------
    ParameterError
        If ``table`` lacks a column, or a recorded count has no estimate to go with.
    """
    table = load_recording_shares() if table is None else table
    needed = ["id", "place", "crime", "stage", "quantity", "value"]
    needed += ["period_start", "period_end", "source", "confidence", "jurisdiction"]
    if not isinstance(table, pd.DataFrame) or [c for c in needed if c not in table.columns]:
        raise ParameterError(
            "table", "a frame without the recording table's columns", "load_recording_shares()"
        )
    rows = []
    for row in table.itertuples(index=False):
        quantity = str(row.quantity)
        if quantity == "crimes_estimated" or str(row.stage) not in FUNNEL_STAGES:
            continue  # an estimate goes with its count; classification is beside the funnel
        ids = row.id
        if quantity == "share_not_recorded":
            share = 1.0 - row.value
        elif quantity == "crimes_recorded":
            match = table[
                (table["quantity"].astype(str) == "crimes_estimated")
                & (table["jurisdiction"] == row.jurisdiction)
                & (table["period_start"] == row.period_start)
                & (table["period_end"] == row.period_end)
            ]
            if len(match) != 1:
                raise ParameterError(
                    "table", f"row {row.id!r} without its estimated crimes", "a matching estimate"
                )
            share = row.value / float(match["value"].iloc[0])
            ids = f"{row.id} / {match['id'].iloc[0]}"
        else:
            share = float(row.value)
        years = _years_label(row.period_start, row.period_end)
        crime = str(row.crime).replace("_", " ")
        rows.append(
            {
                "id": ids,
                "place": row.place,
                "years": years,
                "year": int(row.period_start.year),
                "crime": crime,
                "stage": str(row.stage),
                "share": share,
                "label": f"{row.place}, {years} ({crime})",
                "source": row.source,
                "confidence": str(row.confidence),
            }
        )
    out = pd.DataFrame(rows)
    out["stage"] = pd.Categorical(out["stage"], categories=list(FUNNEL_STAGES))
    return out.sort_values(["stage", "year", "share"], kind="stable").reset_index(drop=True)


def recording_comparison(
    bands: pd.DataFrame, studies: pd.DataFrame | None = None, year: int = 2008
) -> pd.DataFrame:
    """The model's recorded share in ``year`` beside the recording studies.

    The model's share is that of reports the police received and opened as
    cases, so it measures the ``police_recording`` stage.

    Parameters
    ----------
    bands : pandas.DataFrame
        :func:`world_bands` output.
    studies : pandas.DataFrame, optional
        :func:`recording_studies` output (built from the committed table if None).
    year : int
        The model's year.

    Returns
    -------
    pandas.DataFrame
        One row per model case type (``kind`` "model", with ``low`` and ``high``
        from the band) and per study (``kind`` "study", ``low`` and ``high``
        NaN): ``kind``, ``label``, ``case_type`` (model rows), ``place``,
        ``years``, ``stage``, ``share``, ``low``, ``high``, ``source``.

    Raises
    ------
    ParameterError
        If ``bands`` has no recorded share for ``year``.
    """
    if not isinstance(bands, pd.DataFrame) or not {"year", "case_type", "measure"} <= set(
        bands.columns
    ):
        raise ParameterError("bands", type(bands).__name__, "a frame from world_bands")
    studies = recording_studies() if studies is None else studies
    sel = bands[(bands["year"] == year) & (bands["measure"].astype(str) == "recorded_share")]
    if sel.empty:
        years = sorted(set(bands["year"]))
        raise ParameterError("year", year, f"a year of the bands ({years[0]} to {years[-1]})")
    names = {"women": "women", "children": "children", "all": "both types"}
    model = pd.DataFrame(
        {
            "kind": "model",
            "label": [f"model, China {year} ({names[str(c)]})" for c in sel["case_type"]],
            "case_type": sel["case_type"].astype(str).to_numpy(),
            "place": "China",
            "years": str(year),
            "stage": "police_recording",
            "share": sel["mean"].to_numpy(),
            "low": sel["low"].to_numpy(),
            "high": sel["high"].to_numpy(),
            "source": "fitted model (data/fit)",
        }
    )
    study = studies.assign(kind="study", case_type=None, low=np.nan, high=np.nan)
    cols = list(model.columns)
    out = pd.concat([model, study[cols]], ignore_index=True)
    out["stage"] = pd.Categorical(out["stage"].astype(str), categories=list(FUNNEL_STAGES))
    return out
