"""China's 2008-2015 calendar on the intake model: the whole model, its runs and its
counterfactuals.

:class:`ChinaModel` bundles the parameters before any reform
(:func:`~tipresearch.reforms.calendar.china_params`), the metric, the dynamics, the
reforms (:class:`~tipresearch.reforms.calendar.ChinaReforms`, on the dates of
:func:`~tipresearch.reforms.calendar.china_timeline`) and the national scale, and
:meth:`ChinaModel.simulate` runs it month by month. :func:`counterfactual_timelines`
gives the calendars of :data:`COUNTERFACTUALS` and :func:`replicate` runs calendars on
common seeds. The national counts of a simulation per year, month or window of days
are in :mod:`tipresearch.reforms.counts`.

National scale
--------------
China has about 2,800 county-level public security bureaus. The model simulates
``n_bureaus`` units (200 by default), each pooling ``national_bureaus /
n_bureaus`` county bureaus (14 by default, about a prefecture): a unit expects
that many times a county bureau's reports and has that many times its capacity.
The units together are the whole country, so simulated counts are national counts
(scale 1). Pooling keeps a unit's monthly counts away from 0 and 1, where effort
diluted over whole cases (``h(K / O)`` with ``O >= 1`` whenever a case is opened)
would fall far below its expected value.

Before the reforms bureaus are rated by :data:`BASE_METRIC`: cases solved, the
clearance rate (weight 6 per expected report) and a small solved-case quota.
The defaults of :class:`ChinaModel` are the starting values of the committed fit
(``data/fit/``), near its estimates; the fitted parameters are listed in
:data:`tipresearch.fit.parameters.FITTED`.

References
----------
US Embassy Beijing, cable 09BEIJING2594 (10 September 2009), ¶6-¶9; Ministry of
Public Security, Gongtongzi [2015] No. 32; ``docs/model.md``, section 3.3.12
(schedules and reforms).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from tipresearch.errors import ParameterError
from tipresearch.model import ENGINES, Dynamics, Metric
from tipresearch.model.params import ModelParams, _whole

from .calendar import ChinaReforms, china_params, china_timeline
from .counts import annual_counts, monthly_counts
from .timeline import Timeline, simulate_timeline

__all__ = [
    "BASE_METRIC",
    "COUNTERFACTUALS",
    "ChinaModel",
    "counterfactual_timelines",
    "replicate",
]

#: Metric before the reforms: cases solved and the clearance rate count.
BASE_METRIC = Metric("clearance_rating", solved=1.0, rate=6.0, quota=0.03, quota_penalty=5.0)


@dataclass(frozen=True)
class ChinaModel:
    """Everything one run of the China calendar needs.

    Parameters
    ----------
    settings : mapping
        Keyword arguments of :func:`china_params` (``reports_per_bureau``,
        ``children_share``, solvability means, ``concentration``, other fields).
    metric : Metric
        Metric before any reform (:data:`BASE_METRIC`).
    reforms : ChinaReforms
        Sizes of the reforms.
    dynamics : Dynamics
        Partial adjustment, learning by doing and deterrence.
    national_bureaus : int
        County-level bureaus in China (2,800), pooled into ``n_bureaus`` units.
    engine : {"aggregate", "micro", "expected"}
        How the months are simulated (:func:`tipresearch.model.engines.simulate`):
        Monte Carlo (default) or each count's expectation (``docs/model.md``, §3.3.14;
        with this model's learning by doing an approximation, exact otherwise).
    start, end : str
        First and last simulated month (2007-01 to 2020-12: 2007 is a year of
        burn-in before the 2008 indicator).
    """

    settings: Mapping[str, Any] = field(default_factory=dict)
    metric: Metric = BASE_METRIC
    reforms: ChinaReforms = field(default_factory=ChinaReforms)
    dynamics: Dynamics = field(
        default_factory=lambda: Dynamics(
            adjust_rate=0.05,
            learning_rate=0.1,
            learning_scale=50.0,
            deterrence=2.5,
            deterrence_memory=0.002,
        )
    )
    national_bureaus: int = 2800
    engine: str = "aggregate"
    start: str = "2007-01"
    end: str = "2020-12"

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings", dict(self.settings))
        _whole("national_bureaus", self.national_bureaus)
        if self.engine not in ENGINES:
            raise ParameterError("engine", self.engine, f"one of {', '.join(ENGINES)}")
        self.params  # noqa: B018 (validates the settings)

    def __hash__(self) -> int:
        return hash((tuple(sorted(self.settings.items())), self.metric, self.reforms, self.engine))

    @property
    def params(self) -> ModelParams:
        """Parameters before any reform."""
        return china_params(national_bureaus=self.national_bureaus, **self.settings)

    @property
    def pool(self) -> float:
        """County bureaus per simulated unit: ``national_bureaus / n_bureaus``."""
        return self.national_bureaus / self.params.n_bureaus

    def timeline(self) -> Timeline:
        """The China reforms with this model's sizes."""
        return china_timeline(self.reforms)

    def updated(self, changes: Mapping[str, Any]) -> ChinaModel:
        """A copy with some values changed, by dotted key.

        Keys: ``settings.NAME`` (:func:`china_params` arguments and
        ModelParams fields), ``reforms.NAME`` (:class:`ChinaReforms`),
        ``dynamics.NAME`` (:class:`~tipresearch.model.dynamics.Dynamics`),
        ``metric.NAME`` (a weight of the metric before the reforms), and ``engine``.

        Raises
        ------
        ParameterError
            For an unknown key.
        """
        settings = dict(self.settings)
        reforms: dict[str, Any] = {}
        dyn: dict[str, Any] = {}
        metric: dict[str, Any] = {}
        groups = {
            "reforms": (reforms, {f.name for f in dataclasses.fields(ChinaReforms)}),
            "dynamics": (dyn, {f.name for f in dataclasses.fields(Dynamics)}),
            "metric": (metric, {f.name for f in dataclasses.fields(Metric)} - {"name"}),
        }
        engine = self.engine
        for key, value in changes.items():
            group, _, name = key.partition(".")
            if key == "engine":
                engine = value
            elif group == "settings" and name:
                settings[name] = value
            elif group in groups and name in groups[group][1]:
                groups[group][0][name] = value
            else:
                raise ParameterError(
                    key,
                    value,
                    "settings.NAME, reforms.NAME, dynamics.NAME or metric.NAME with a known "
                    "NAME, or engine",
                )
        return dataclasses.replace(
            self,
            settings=settings,
            reforms=dataclasses.replace(self.reforms, **reforms),
            dynamics=dataclasses.replace(self.dynamics, **dyn),
            metric=dataclasses.replace(self.metric, **metric),
            engine=engine,
        )

    def simulate(
        self, seed: int = 0, timeline: Timeline | None = None, end: str | None = None
    ) -> pd.DataFrame:
        """Simulate the calendar month by month (with :attr:`engine`).

        Parameters
        ----------
        seed : int
            Root seed; runs that share it share bureaus and report draws.
        timeline : Timeline, optional
            Reforms (default :meth:`timeline`); pass a changed one for a
            counterfactual.
        end : str, optional
            Last month, if earlier than the model's.

        Returns
        -------
        pandas.DataFrame
            As :func:`tipresearch.reforms.simulate_timeline`.
        """
        return simulate_timeline(
            self.timeline() if timeline is None else timeline,
            self.params,
            self.metric,
            start=self.start,
            end=self.end if end is None else end,
            seed=seed,
            dynamics=self.dynamics,
            engine=self.engine,
        )


#: Counterfactual calendars of notebook 03, as changes to the fitted timeline.
COUNTERFACTUALS: tuple[str, ...] = (
    "as fitted",
    "no mandatory intake",
    "campaign not institutionalised",
    "no DNA database",
    "indicators abolished in 2009",
)


def counterfactual_timelines(model: ChinaModel) -> dict[str, Timeline]:
    """The fitted calendar and four counterfactuals on it.

    - ``no mandatory intake``: without the 9 April 2009 filing rule for children;
    - ``campaign not institutionalised``: the 2009 campaign leaves nothing behind
      (``persist`` 0);
    - ``no DNA database``: without the April 2009 database;
    - ``indicators abolished in 2009``: the November 2015 abolition of
      clearance-rate and case-count indicators moved to April 2009.
    """
    tl = model.timeline()
    return {
        "as fitted": tl,
        "no mandatory intake": tl.without("missing_child_filing_rule"),
        "campaign not institutionalised": tl.replace("special_campaign_2009", persist=0.0),
        "no DNA database": tl.without("dna_database"),
        "indicators abolished in 2009": tl.replace(
            "indicator_abolished", start=tl["special_campaign_2009"].start
        ),
    }


def replicate(
    model: ChinaModel,
    seeds: Sequence[int],
    timelines: Mapping[str, Timeline] | None = None,
    *,
    end: str | None = None,
    monthly: bool = False,
) -> pd.DataFrame:
    """Annual (or monthly) national counts for each timeline and seed.

    Every timeline runs on the same seeds, so the scenarios share bureaus and
    report draws (common random numbers) and differ only by their reforms.

    Parameters
    ----------
    model : ChinaModel
    seeds : sequence of int
    timelines : mapping of str to Timeline, optional
        Scenarios by name; by default ``{"as fitted": model.timeline()}``.
    end : str, optional
        Last month, if earlier than the model's.
    monthly : bool
        Counts per month (:func:`monthly_counts`) instead of per year.

    Returns
    -------
    pandas.DataFrame
        ``scenario``, ``seed`` and the columns of :func:`annual_counts` (or
        :func:`monthly_counts`).
    """
    timelines = {"as fitted": model.timeline()} if timelines is None else dict(timelines)
    frames = []
    for name, tl in timelines.items():
        for seed in seeds:
            f = model.simulate(seed=int(seed), timeline=tl, end=end)
            counts = monthly_counts(f) if monthly else annual_counts(f)
            counts.insert(0, "seed", int(seed))
            counts.insert(0, "scenario", name)
            frames.append(counts)
    out = pd.concat(frames, ignore_index=True)
    out["scenario"] = pd.Categorical(out["scenario"], categories=list(timelines))
    return out
