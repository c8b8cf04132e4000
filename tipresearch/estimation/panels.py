"""Panels of recorded cases from the model: bureau x month, with a staggered rating reform.

A researcher studying incentive effects sees recorded cases by bureau and month, and
when each bureau's rating changed; not the incidence behind them. :func:`simulate_panel`
builds that panel from the model, with the truth beside it, so that estimators can be
judged against what the model knows.

The design (:class:`PanelDesign`)
---------------------------------
Bureaus are drawn as the engines draw them (:func:`tipresearch.model.draw_bureaus`).
Before the reform every bureau is rated on the clearance rate (the preset
``clearance_rate``: cases solved, the clearance rate and a solved-case quota); the
reform drops the clearance-rate weight and the quota, so that the bureau is rated on
cases solved alone, a rating that rewards intake more (the 2015 Ministry opinion that
abolished clearance-rate indicators, ``data/published/``; ``docs/model.md`` §3.3.12).
Bureaus adopt the reform in ``waves`` waves between periods ``first_adoption`` and
``last_adoption``; a share ``never_share`` never adopts within the panel. The order of
adoption is that of ``endogeneity * z_b + e_b``, where ``z_b`` is the bureau's
standardised log expected reports and ``e_b`` standard normal: with ``endogeneity = 0``
adoption is random, with a positive value bureaus with more trafficking reports adopt
first (the cable notes that provinces with more trafficking are further ahead with their
own action plans: 09BEIJING2594 ¶5). Thresholds move
towards the new best response at ``adjust_rate`` a month (partial adjustment,
``docs/model.md`` §3.3.11), so the reform's effect grows over the months after adoption.

Each adoption wave (and the bureaus that never adopt) is simulated with its own reform
month by :func:`tipresearch.reforms.simulate_timeline`: observed counts with the
``aggregate`` engine, their expectations with the ``expected`` engine, under the
bureau's own calendar and under no reform at all. Incidence (the reports that reach the
police) does not respond to the rating in this design, so its expectation is the same
under both (the truth the estimators are judged by is computed, not assumed).

A share ``survey_share`` of bureaus also has a victimisation-survey-like measure: each
report of the month is in the survey's sample with probability ``survey_rate``
(binomial thinning), so ``survey / survey_rate`` estimates incidence without the police's
choice.

References
----------
``docs/estimation.md`` (estimands and estimators); ``docs/model.md`` §1.2 (bureaus),
§3.3.11 (partial adjustment), §3.3.12 (reforms).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tipresearch.checks import check_seed
from tipresearch.errors import ParameterError
from tipresearch.model import Bureaus, Dynamics, ModelParams, draw_bureaus
from tipresearch.reforms import Reform, Timeline, simulate_timeline

__all__ = [
    "OBSERVED_COLUMNS",
    "PANEL_COLUMNS",
    "TRUTH_COLUMNS",
    "PanelDesign",
    "adoption_periods",
    "check_panel",
    "simulate_panel",
    "yearly_panel",
]

#: What a researcher sees: bureau, period, calendar month and year, the reform (0/1),
#: recorded cases, reports received (incidence), and the survey where there is one.
OBSERVED_COLUMNS = (
    "bureau",
    "period",
    "month",
    "year",
    "reform",
    "recorded",
    "incidence",
    "surveyed",
    "survey",
)
#: What the model knows besides: the adoption period (-1: never) and the expected
#: counts under the bureau's own calendar and under no reform.
TRUTH_COLUMNS = (
    "adopt_period",
    "mu_recorded",
    "mu_recorded_untreated",
    "mu_incidence",
    "mu_incidence_untreated",
)
#: Columns of :func:`simulate_panel`.
PANEL_COLUMNS = OBSERVED_COLUMNS + TRUTH_COLUMNS


def _share(name: str, value: Any, low_open: bool = False, high_open: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value)
    ok = ok and (0 < value if low_open else 0 <= value) and (value < 1 if high_open else value <= 1)
    if not ok:
        lo, hi = "(" if low_open else "[", ")" if high_open else "]"
        raise ParameterError(name, value, f"a number in {lo}0, 1{hi}")
    return float(value)


def _whole(name: str, value: Any, low: int, high: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or not low <= value <= high
    ):
        raise ParameterError(name, value, f"a whole number in [{low}, {high}]")
    return int(value)


@dataclass(frozen=True)
class PanelDesign:
    """A staggered rating reform on a bureau x month panel (see the module's text).

    Parameters
    ----------
    n_bureaus : int
        Bureaus (10 to 100,000).
    months : int
        Monthly periods (6 to 600).
    start : str
        First calendar month, ``YYYY-MM``.
    first_adoption, last_adoption : int
        Periods (from 0) of the first and last adoption waves; the first at least 2
        (so that every bureau has months before the reform), the last before ``months``.
    waves : int
        Adoption waves, evenly spaced between the first and the last (1 to 24).
    never_share : float
        Share of bureaus that never adopt within the panel, in [0, 1).
    endogeneity : float
        Weight of a bureau's standardised log expected reports in its adoption order
        (0: random; >0: more reports, earlier adoption), in [-10, 10].
    reports_mean, reports_sigma, capacity_sigma, dispersion
        The bureaus' :class:`tipresearch.model.ModelParams` (mean reports a month,
        their spread, the spread of capacity per report, over-dispersion of counts).
    adjust_rate : float
        Partial adjustment of thresholds a month, in (0, 1] (1: at once).
    survey_share : float
        Share of bureaus with a victimisation-survey measure, in [0, 1].
    survey_rate : float
        Share of incidents a survey records, in (0, 1].
    metric_before : str
        The rating before the reform (a preset of :func:`tipresearch.model.get_metric`).
    reform : mapping
        The reform's changes to the metric's weights (:class:`tipresearch.reforms.Reform`).
    """

    n_bureaus: int = 120
    months: int = 48
    start: str = "2009-01"
    first_adoption: int = 12
    last_adoption: int = 30
    waves: int = 4
    never_share: float = 0.3
    endogeneity: float = 0.0
    reports_mean: float = 20.0
    reports_sigma: float = 0.5
    capacity_sigma: float = 0.4
    dispersion: float = 0.1
    adjust_rate: float = 0.25
    survey_share: float = 0.25
    survey_rate: float = 0.5
    metric_before: str = "clearance_rate"
    reform: dict[str, Any] = field(default_factory=lambda: {"rate": 0.0, "quota": 0.0})

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "n_bureaus", _whole("n_bureaus", self.n_bureaus, 10, 100_000))
        set_(self, "months", _whole("months", self.months, 6, 600))
        first = _whole("first_adoption", self.first_adoption, 2, self.months - 1)
        last = _whole("last_adoption", self.last_adoption, first, self.months - 1)
        set_(self, "first_adoption", first)
        set_(self, "last_adoption", last)
        set_(self, "waves", _whole("waves", self.waves, 1, 24))
        if self.waves > last - first + 1:
            raise ParameterError(
                "waves", self.waves, f"at most {last - first + 1} (one a period at most)"
            )
        set_(self, "never_share", _share("never_share", self.never_share, high_open=True))
        e = self.endogeneity
        if isinstance(e, bool) or not isinstance(e, int | float) or not -10 <= e <= 10:
            raise ParameterError("endogeneity", e, "a number in [-10, 10]")
        set_(self, "endogeneity", float(e))
        set_(self, "adjust_rate", _share("adjust_rate", self.adjust_rate, low_open=True))
        set_(self, "survey_share", _share("survey_share", self.survey_share))
        set_(self, "survey_rate", _share("survey_rate", self.survey_rate, low_open=True))
        try:
            pd.Period(self.start, freq="M")
        except (TypeError, ValueError):
            raise ParameterError("start", self.start, "a calendar month, YYYY-MM") from None
        # the model's own checks name any bad bureau parameter
        self.params()
        Reform("reform", self.start, metric=dict(self.reform))

    def params(self) -> ModelParams:
        """The model's parameters for these bureaus (defaults elsewhere)."""
        return ModelParams(
            n_bureaus=self.n_bureaus,
            reports_mean=self.reports_mean,
            reports_sigma=self.reports_sigma,
            capacity_sigma=self.capacity_sigma,
            dispersion=self.dispersion,
        )

    def wave_periods(self) -> np.ndarray:
        """The adoption period of each wave, evenly spaced (rounded) from first to last."""
        return np.unique(
            np.round(np.linspace(self.first_adoption, self.last_adoption, self.waves)).astype(int)
        )

    def to_dict(self) -> dict[str, Any]:
        """The design as plain values (for records and tables)."""
        return dataclasses.asdict(self)


def adoption_periods(design: PanelDesign, reports: np.ndarray, seed: int) -> np.ndarray:
    """Each bureau's adoption period (-1: never), from its expected reports and a seed.

    The ``round((1 - never_share) n)`` bureaus with the highest
    ``endogeneity * z_b + e_b`` adopt, the highest first, in waves of equal size
    (:meth:`PanelDesign.wave_periods`); ``z_b`` is the standardised log of ``reports``.
    """
    reports = np.asarray(reports, dtype=float)
    rng = np.random.default_rng(np.random.SeedSequence(check_seed(seed)))
    log_r = np.log(reports)
    spread = log_r.std()
    z = (log_r - log_r.mean()) / spread if spread > 0 else np.zeros_like(log_r)
    score = design.endogeneity * z + rng.standard_normal(len(reports))
    order = np.argsort(-score, kind="stable")
    adopters = order[: int(round((1 - design.never_share) * len(reports)))]
    out = np.full(len(reports), -1, dtype=int)
    waves = design.wave_periods()
    for period, members in zip(waves, np.array_split(adopters, len(waves)), strict=True):
        out[members] = period
    return out


def _counts(frame: pd.DataFrame, index: np.ndarray) -> pd.DataFrame:
    """Opened cases and reports per bureau and period, all case types together."""
    out = frame.groupby(["bureau", "period"], sort=True)[["opened", "reports"]].sum()
    out = out.reset_index()
    out["bureau"] = index[out["bureau"].to_numpy()]
    out["period"] = out["period"] - 1  # the engines count periods from 1
    return out


def simulate_panel(design: PanelDesign | None = None, seed: int = 0) -> pd.DataFrame:
    """A bureau x month panel of recorded cases under a staggered rating reform.

    Parameters
    ----------
    design : PanelDesign, optional
        The design (defaults if None).
    seed : int
        Root seed: the same seed and design give the same panel.

    Returns
    -------
    pandas.DataFrame
        :data:`PANEL_COLUMNS`, one row per bureau and period, sorted by both:
        ``recorded`` and ``incidence`` are counts (cases opened, reports received),
        ``survey`` a count for surveyed bureaus (``<NA>`` elsewhere), ``reform`` 1
        from the bureau's adoption period on; the ``mu_*`` columns are the
        ``expected`` engine's counts under the bureau's calendar and under no reform.
    """
    design = PanelDesign() if design is None else design
    seed = check_seed(seed)
    ss_bureaus, ss_adopt, ss_draws, ss_survey = np.random.SeedSequence(seed).spawn(4)
    params = design.params()
    bureaus = draw_bureaus(params, ss_bureaus)
    adopt = adoption_periods(design, bureaus.reports, int(ss_adopt.generate_state(1)[0]))
    first = pd.Period(design.start, freq="M")
    end = first + (design.months - 1)
    dynamics = Dynamics(adjust_rate=design.adjust_rate)

    def run(timeline: Timeline, index: np.ndarray, engine: str, run_seed: int) -> pd.DataFrame:
        frame = simulate_timeline(
            timeline,
            dataclasses.replace(params, n_bureaus=len(index)),
            design.metric_before,
            start=first,
            end=end,
            seed=run_seed,
            dynamics=dynamics,
            bureaus=Bureaus(bureaus.reports[index], bureaus.capacity[index]),
            engine=engine,
        )
        return _counts(frame, index)

    # expectations depend on each bureau and its calendar only: one run without the reform
    everyone = np.arange(design.n_bureaus)
    untreated = run(Timeline(), everyone, "expected", 0).set_index(["bureau", "period"])
    groups = np.unique(adopt)
    parts = []
    for group, ss in zip(groups, ss_draws.spawn(len(groups)), strict=True):
        index = np.flatnonzero(adopt == group)
        timeline = Timeline()
        if group >= 0:
            timeline = Timeline([Reform("rating", first + int(group), metric=dict(design.reform))])
        part = run(timeline, index, "aggregate", int(ss.generate_state(1)[0]))
        part = part.rename(columns={"opened": "recorded", "reports": "incidence"})
        base = untreated.loc[list(zip(part["bureau"], part["period"], strict=True))]
        expected = base.reset_index() if group < 0 else run(timeline, index, "expected", 0)
        part["mu_recorded"] = expected["opened"].to_numpy()
        part["mu_incidence"] = expected["reports"].to_numpy()
        part["mu_recorded_untreated"] = base["opened"].to_numpy()
        part["mu_incidence_untreated"] = base["reports"].to_numpy()
        part["adopt_period"] = int(group)
        parts.append(part)
    panel = pd.concat(parts, ignore_index=True).sort_values(["bureau", "period"])
    panel = panel.reset_index(drop=True)
    adopt_p = panel["adopt_period"].to_numpy()
    panel["reform"] = ((adopt_p >= 0) & (panel["period"].to_numpy() >= adopt_p)).astype(int)
    months = pd.period_range(first, periods=design.months, freq="M")
    panel["month"] = months[panel["period"].to_numpy()].strftime("%Y-%m")
    panel["year"] = months[panel["period"].to_numpy()].year
    rng = np.random.default_rng(ss_survey)
    surveyed = np.zeros(design.n_bureaus, dtype=bool)
    n_surveyed = int(round(design.survey_share * design.n_bureaus))
    surveyed[rng.choice(design.n_bureaus, n_surveyed, replace=False)] = True
    panel["surveyed"] = surveyed[panel["bureau"].to_numpy()]
    draws = rng.binomial(panel["incidence"].to_numpy(), design.survey_rate)
    panel["survey"] = pd.array(np.where(panel["surveyed"], draws, 0), dtype="Int64")
    panel.loc[~panel["surveyed"], "survey"] = pd.NA
    for column in ("recorded", "incidence"):
        panel[column] = panel[column].astype(np.int64)
    return panel[list(PANEL_COLUMNS)]


def check_panel(
    panel: Any, outcome: str = "recorded", require: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Check a panel an estimator is given; return it sorted by bureau and period.

    Parameters
    ----------
    panel : pandas.DataFrame
        Needs ``bureau``, ``period``, ``reform`` and ``outcome`` (and ``require``).
    outcome : str
        The count column the estimator models.
    require : tuple of str
        Further columns the estimator needs.

    Raises
    ------
    ParameterError
        Naming the column for a frame without it, a count that is missing, negative
        or not a whole number, a ``reform`` that is not 0/1 or that switches off
        again, or a bureau and period given twice.
    """
    if not isinstance(panel, pd.DataFrame):
        raise ParameterError("panel", type(panel).__name__, "a pandas DataFrame")
    needed = ["bureau", "period", "reform", outcome, *require]
    missing = [c for c in needed if c not in panel.columns]
    if missing:
        raise ParameterError("panel", f"columns {list(panel.columns)}", f"columns {missing} too")
    counts = pd.to_numeric(panel[outcome], errors="coerce")
    bad = counts.isna() | (counts < 0) | (counts != np.floor(counts))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ParameterError(
            f"panel.{outcome}", panel[outcome].iloc[row], f"whole counts >= 0 (row {row})"
        )
    reform = panel["reform"]
    if not reform.isin([0, 1]).all() or reform.isna().any():
        row = int(np.flatnonzero(~reform.isin([0, 1]).to_numpy())[0])
        raise ParameterError("panel.reform", reform.iloc[row], f"0 or 1 (row {row})")
    if panel.duplicated(["bureau", "period"]).any():
        row = int(np.flatnonzero(panel.duplicated(["bureau", "period"]).to_numpy())[0])
        raise ParameterError(
            "panel", f"bureau and period repeated at row {row}", "one row per bureau and period"
        )
    out = panel.sort_values(["bureau", "period"], kind="stable").reset_index(drop=True)
    drops = out.groupby("bureau")["reform"].diff().lt(0)
    if drops.any():
        bureau = out.loc[drops, "bureau"].iloc[0]
        raise ParameterError(
            "panel.reform", f"1 then 0 for bureau {bureau}", "a reform that stays once adopted"
        )
    return out


def yearly_panel(panel: pd.DataFrame) -> pd.DataFrame:
    """A monthly panel summed to bureau x year.

    Counts (``recorded``, ``incidence``, ``survey``) and expected counts are summed over
    each bureau's months of the year; ``period`` becomes the year's index from 0. A year
    in which the bureau adopts part-way is not a treated year: ``reform`` is 1 only from
    the first year that starts under the reform, and ``partly_treated`` marks the year of
    a mid-year adoption (estimators on yearly data usually drop or bin it).

    Raises
    ------
    ParameterError
        For a frame without the monthly panel's columns.
    """
    needed = {"bureau", "year", "month", "reform", "recorded"}
    if not isinstance(panel, pd.DataFrame) or needed - set(panel.columns):
        raise ParameterError("panel", type(panel).__name__, "simulate_panel() output")
    counts = [c for c in ("recorded", "incidence", "survey") if c in panel.columns]
    counts += [c for c in TRUTH_COLUMNS if c.startswith("mu_") and c in panel.columns]
    grouped = panel.groupby(["bureau", "year"], sort=True)
    out = grouped[counts].sum(min_count=1)
    if "survey" in out:
        out["survey"] = out["survey"].astype("Int64")
    out["reform"] = grouped["reform"].min().astype(int)
    out["partly_treated"] = (grouped["reform"].max() > grouped["reform"].min()).to_numpy()
    for column in ("surveyed", "adopt_period"):
        if column in panel.columns:
            out[column] = grouped[column].first()
    out = out.reset_index()
    out["period"] = out["year"] - out["year"].min()
    return out
