"""The published figures the China calendar is fitted to, and the model's value of each.

A :class:`Target` is one published figure (a count of registered or solved
trafficking cases in a year, a clearance rate, or a count or ratio over a
window of days) with the confidence of its source, which sets its weight
(:data:`CONFIDENCE_WEIGHTS`). :func:`china_targets` reads the figures of the fit
from ``data/published/``; :func:`model_moments` computes the same quantities
from simulated calendars, averaged over seeds.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tipresearch.data import load_published, published_row
from tipresearch.errors import ParameterError
from tipresearch.reforms import ChinaModel, annual_counts, window_counts

__all__ = [
    "CONFIDENCE_WEIGHTS",
    "KINDS",
    "Target",
    "china_targets",
    "model_moments",
]

#: Weight of a squared relative error by the confidence of its source.
CONFIDENCE_WEIGHTS: dict[str, float] = {
    "primary": 1.0,
    "secondary": 0.25,
    "seed": 0.25,
    "assumption": 0.25,
}

#: Moment kinds: what :func:`model_moments` computes for a target.
KINDS: tuple[str, ...] = (
    "registered",
    "solved",
    "rescued",
    "clearance",
    "growth",
    "window_solved",
    "window_victims_per_solved",
)


@dataclass(frozen=True)
class Target:
    """One published figure the model is fitted to.

    Parameters
    ----------
    id : str
        Name of the moment.
    kind : str
        One of :data:`KINDS`: registered or solved cases, or victims rescued, in a
        calendar ``year``; the clearance rate (solved / registered) in ``year``;
        ``growth``, registered cases in ``year`` over those of the year before;
        cases solved, or
        victims per solved case, between ``first_day`` and ``last_day``.
    case_type : str
        ``women``, ``children`` or ``all``.
    value : float
        The published figure (> 0).
    confidence : str
        ``primary``, ``secondary``, ``seed`` or ``assumption`` (a pattern the model is
        documented to reproduce, ``docs/model.md`` §1.1 "Purpose"): sets the
        weight (:data:`CONFIDENCE_WEIGHTS`).
    sources : tuple of str
        Row ids in ``data/published/`` (for an ``assumption`` target, the rows the
        pattern rests on, if any).
    year : int, optional
    first_day, last_day : str, optional
        The window, ISO dates.
    description : str
        What the figure is, for the fit table.
    value_high : float, optional
        Upper end of a figure published as a range (``value`` is then its lower
        end); a model value inside ``[value, value_high]`` meets it.
    """

    id: str
    kind: str
    case_type: str
    value: float
    confidence: str
    sources: tuple[str, ...] = ()
    year: int | None = None
    first_day: str | None = None
    last_day: str | None = None
    description: str = ""
    value_high: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ParameterError(f"target {self.id}.kind", self.kind, f"one of {', '.join(KINDS)}")
        if self.confidence not in CONFIDENCE_WEIGHTS:
            raise ParameterError(
                f"target {self.id}.confidence",
                self.confidence,
                f"one of {', '.join(CONFIDENCE_WEIGHTS)}",
            )
        if not (isinstance(self.value, int | float) and self.value > 0):
            raise ParameterError(f"target {self.id}.value", self.value, "a number > 0")
        windowed = self.kind.startswith("window")
        if windowed and (self.first_day is None or self.last_day is None):
            raise ParameterError(f"target {self.id}.first_day", None, "a window for this kind")
        if not windowed and self.year is None:
            raise ParameterError(f"target {self.id}.year", None, "a year for this kind")
        if self.value_high is not None and not self.value_high >= self.value:
            raise ParameterError(
                f"target {self.id}.value_high", self.value_high, f"a number >= value {self.value}"
            )
        object.__setattr__(self, "sources", tuple(self.sources))

    @property
    def weight(self) -> float:
        """Weight of the squared relative error."""
        return CONFIDENCE_WEIGHTS[self.confidence]


def china_targets(published: pd.DataFrame | None = None) -> tuple[Target, ...]:
    """The published figures of the fit, read from ``data/published/``.

    Registered trafficking cases in 2008, 2009 (China Statistical Yearbook 2010,
    table 22-11), 2011 and 2020 (secondary, citing the yearbook); cases solved in
    2011 by type (Xinhua, 9 March 2012); cases solved and victims per solved case
    from April to 15 August 2009 by type (09BEIJING2594 ¶8); and clearance near
    100% in 2008 (``docs/model.md``, §1.1 "Purpose": before 2009 few trafficking
    cases were registered and almost all of them were solved; China Daily, 2 June 2009, rows
    ``cn_reg_traf_pre2009`` and ``cn_solved_2009_to_may25``), a target of 1.

    Parameters
    ----------
    published : pandas.DataFrame, optional
        Tables from :func:`tipresearch.data.published.load_published` (loaded if None).
    """
    pub = load_published() if published is None else published

    def value(row_id: str) -> float:
        return float(published_row(pub, row_id)["value"])

    def conf(row_id: str) -> str:
        return str(published_row(pub, row_id)["confidence"])

    def window(row_id: str) -> tuple[str, str]:
        row = published_row(pub, row_id)
        return (str(row["period_start"].date()), str(row["period_end"].date()))

    out: list[Target] = []
    for year in (2008, 2009, 2011, 2020):
        rid = f"cn_reg_traf_{year}"
        out.append(
            Target(
                f"registered_{year}",
                "registered",
                "all",
                value(rid),
                conf(rid),
                (rid,),
                year=year,
                description=f"trafficking cases registered in {year}",
            )
        )
    for kind in ("women", "children"):
        rid = f"cn_solved_{kind}_2011"
        out.append(
            Target(
                f"solved_{kind}_2011",
                "solved",
                kind,
                value(rid),
                conf(rid),
                (rid,),
                year=2011,
                description=f"{kind}'s cases solved in 2011",
            )
        )
    out.append(
        Target(
            "clearance_2008",
            "clearance",
            "all",
            1.0,
            "assumption",
            ("cn_reg_traf_pre2009", "cn_solved_2009_to_may25"),
            year=2008,
            description="cases solved / registered in 2008 (close to 100%)",
        )
    )
    for kind in ("women", "children"):
        solved, rescued = f"cable_solved_{kind}_2009", f"cable_rescued_{kind}_2009"
        first, last = window(solved)
        out.append(
            Target(
                f"campaign_solved_{kind}",
                "window_solved",
                kind,
                value(solved),
                conf(solved),
                (solved,),
                first_day=first,
                last_day=last,
                description=f"{kind}'s cases solved, April to mid-August 2009",
            )
        )
        out.append(
            Target(
                f"campaign_victims_per_solved_{kind}",
                "window_victims_per_solved",
                kind,
                value(rescued) / value(solved),
                conf(rescued),
                (rescued, solved),
                first_day=first,
                last_day=last,
                description=f"{kind} rescued per solved case, April to mid-August 2009",
            )
        )
    return tuple(out)


def _moments_of_frame(frame: pd.DataFrame, targets: Sequence[Target]) -> np.ndarray:
    annual = annual_counts(frame).set_index(["year", "case_type"])
    windows: dict[tuple[str, str], pd.DataFrame] = {}
    out = np.empty(len(targets))
    for i, t in enumerate(targets):
        if t.kind.startswith("window"):
            key = (t.first_day, t.last_day)
            if key not in windows:
                windows[key] = window_counts(frame, *key).set_index("case_type")
            row = windows[key].loc[t.case_type]
            out[i] = row["solved"] if t.kind == "window_solved" else row["victims_per_solved"]
        else:
            if (t.year, t.case_type) not in annual.index:
                raise ParameterError(
                    f"target {t.id}.year", t.year, "a year inside the simulated calendar"
                )
            if t.kind == "growth":
                before = (t.year - 1, t.case_type)
                if before not in annual.index:
                    raise ParameterError(
                        f"target {t.id}.year", t.year, "a year after the calendar's first"
                    )
                base = annual.loc[before, "registered"]
                out[i] = annual.loc[(t.year, t.case_type), "registered"] / base if base else np.nan
                continue
            row = annual.loc[(t.year, t.case_type)]
            out[i] = row[t.kind]
    return out


def _seed_moments(model: ChinaModel, targets: Sequence[Target], seed: int) -> np.ndarray:
    """The model's value of each target in one simulated calendar (an executor task)."""
    return _moments_of_frame(model.simulate(seed=seed), targets)


def model_moments(
    model: ChinaModel,
    targets: Sequence[Target],
    seeds: Sequence[int] = (0,),
    executor: Executor | None = None,
) -> np.ndarray:
    """The model's value of each target, averaged over ``seeds``.

    Counts are national (the model's units pool all of China's bureaus);
    ``solved`` counts new and cold-case solves in the period.

    Parameters
    ----------
    model : ChinaModel
    targets : sequence of Target
    seeds : sequence of int
        Simulation seeds, one calendar each.
    executor : concurrent.futures.Executor, optional
        Simulates the seeds' calendars in parallel. The result does not depend on
        it: each calendar depends on its seed only.
    """
    seeds, targets = tuple(seeds), tuple(targets)
    if executor is None or len(seeds) < 2:
        rows = [_seed_moments(model, targets, s) for s in seeds]
    else:
        n = len(seeds)
        rows = list(executor.map(_seed_moments, [model] * n, [targets] * n, seeds))
    runs = np.vstack(rows)
    with warnings.catch_warnings():  # a moment no run can give stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(runs, axis=0)
