"""Fit the China calendar to published counts of trafficking cases.

Simulated method of moments: a small set of parameters (:data:`FITTED`) is chosen
to bring the model's moments close to published figures (:func:`china_targets`)
in weighted least squares on log ratios (relative errors that treat a model
twice too high like one half too low),

    min_theta  sum_i w_i log(m_i(theta) / d_i)^2,

with ``m_i`` the mean of the moment over a fixed set of simulation seeds (common
random numbers: every evaluation of the objective uses the same seeds, so the
objective changes only through ``theta``), and weights by source: 1 for a
primary source, 1/4 for a secondary one, the cable (``seed``) and the model
brief's qualitative statement (standard errors twice as large). The optimiser
is :func:`scipy.optimize.least_squares` (trust region reflective) in unit
coordinates of each parameter's bounds (log scale where stated), with finite
differences wide enough to step over the jumps that integer draws put in a
simulated objective.

Uncertainty is a parametric bootstrap linearised at the estimate (a one-step
bootstrap): each replication draws new published counts (Poisson around the
figures) and new simulation seeds, and takes one damped Gauss-Newton step from
the estimate with the Jacobian at the estimate, instead of a full re-fit
(Davidson & MacKinnon 1999; Andrews 2002).

References
----------
McFadden, D. (1989). A method of simulated moments for estimation of discrete
response models without numerical integration. Econometrica 57(5), 995-1026.
Andrews, D. W. K. (2002). Higher-order improvements of a computationally
attractive k-step bootstrap for extremum estimators. Econometrica 70(1), 119-162.
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .china import ChinaModel, annual_counts, to_annual, window_counts, window_totals
from .errors import ParameterError
from .io import write_table, write_text
from .published import load_published, published_row, published_value

__all__ = [
    "CHECK_ALLOWED",
    "CONFIDENCE_WEIGHTS",
    "FITTED",
    "FitParameter",
    "FitResult",
    "Target",
    "bootstrap",
    "campaign_solved",
    "china_targets",
    "fit",
    "fit_checks",
    "fit_table",
    "load_fit",
    "model_moments",
    "replication_means",
    "synthetic_targets",
    "trade_off_table",
]

#: Weight of a squared relative error by the confidence of its source.
CONFIDENCE_WEIGHTS: dict[str, float] = {
    "primary": 1.0,
    "secondary": 0.25,
    "seed": 0.25,
    "brief": 0.25,
}

#: Moment kinds: what :func:`model_moments` computes for a target.
KINDS: tuple[str, ...] = (
    "registered",
    "solved",
    "clearance",
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
        One of :data:`KINDS`: registered or solved cases in a calendar ``year``;
        the clearance rate (solved / registered) in ``year``; cases solved, or
        victims per solved case, between ``first_day`` and ``last_day``.
    case_type : str
        ``women``, ``children`` or ``all``.
    value : float
        The published figure (> 0).
    confidence : str
        ``primary``, ``secondary``, ``seed`` or ``brief`` (a statement of the model
        brief): sets the weight (:data:`CONFIDENCE_WEIGHTS`).
    sources : tuple of str
        Row ids in ``data/published/`` (empty for the brief's statement).
    year : int, optional
    first_day, last_day : str, optional
        The window, ISO dates.
    description : str
        What the figure is, for the fit table.
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
    100% in 2008 (model brief, "Numbers to meet": before 2009 the solved counts
    were close to the registered counts; China Daily, 2 June 2009, rows
    ``cn_reg_traf_pre2009`` and ``cn_solved_2009_to_may25``), a target of 1.

    Parameters
    ----------
    published : pandas.DataFrame, optional
        Tables from :func:`tipresearch.published.load_published` (loaded if None).
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
            "brief",
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
            row = annual.loc[(t.year, t.case_type)]
            out[i] = row[t.kind]
    return out


def model_moments(
    model: ChinaModel, targets: Sequence[Target], seeds: Sequence[int] = (0,)
) -> np.ndarray:
    """The model's value of each target, averaged over ``seeds``.

    Counts are national (the model's units pool all of China's bureaus);
    ``solved`` counts new and cold-case solves in the period.
    """
    runs = np.vstack([_moments_of_frame(model.simulate(seed=s), targets) for s in seeds])
    with warnings.catch_warnings():  # a moment no run can give stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(runs, axis=0)


@dataclass(frozen=True)
class FitParameter:
    """A parameter of the fit.

    Parameters
    ----------
    key : str
        A key of :meth:`tipresearch.china.ChinaModel.updated`, or several joined
        by ``+`` for values tied together (one parameter sets them all).
    lower, upper : float
        Bounds (``lower < upper``; both > 0 on a log scale).
    log : bool
        Search on a log scale.
    description : str
        What it is.
    """

    key: str
    lower: float
    upper: float
    log: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        if not self.lower < self.upper or (self.log and self.lower <= 0):
            raise ParameterError(
                f"{self.key}.bounds", (self.lower, self.upper), "lower < upper (> 0 on a log scale)"
            )

    @property
    def keys(self) -> tuple[str, ...]:
        """The model keys this parameter sets."""
        return tuple(self.key.split("+"))

    def to_value(self, u: float) -> float:
        """Unit coordinate in [0, 1] to the parameter's value."""
        u = min(max(float(u), 0.0), 1.0)
        if self.log:
            return float(math.exp(math.log(self.lower) + u * math.log(self.upper / self.lower)))
        return float(self.lower + u * (self.upper - self.lower))

    def to_unit(self, value: float) -> float:
        """The parameter's value to its unit coordinate."""
        if self.log:
            u = math.log(value / self.lower) / math.log(self.upper / self.lower)
        else:
            u = (value - self.lower) / (self.upper - self.lower)
        return min(max(u, 0.0), 1.0)


#: The fitted parameters of the China calendar, with bounds.
FITTED: tuple[FitParameter, ...] = (
    FitParameter(
        "settings.reports_per_bureau",
        0.2,
        5.0,
        log=True,
        description="expected reports per county bureau and month, both types",
    ),
    FitParameter(
        "settings.women_solvability+settings.children_solvability",
        0.3,
        0.95,
        description="mean solvability of reports, women's and children's alike",
    ),
    FitParameter(
        "metric.rate",
        0.3,
        20.0,
        log=True,
        description="weight of the clearance rate in the rating (times expected reports)",
    ),
    FitParameter(
        "reforms.mandatory_audit_prob",
        0.02,
        1.0,
        log=True,
        description="children's audit probability once every report must be filed (April 2009)",
    ),
    FitParameter(
        "dynamics.adjust_rate",
        0.02,
        1.0,
        log=True,
        description="share of the gap to the best threshold closed each month",
    ),
    FitParameter(
        "dynamics.deterrence",
        0.0,
        3.0,
        description="elasticity of incidence to the chance a trafficker is caught",
    ),
    FitParameter(
        "reforms.campaign_persist",
        0.0,
        1.0,
        description="share of the 2009 campaign's changes kept after December 2009",
    ),
)


def fit_table(targets: Sequence[Target], moments: np.ndarray) -> pd.DataFrame:
    """Target, model value and relative error, one row per target.

    Returns
    -------
    pandas.DataFrame
        ``target``, ``description``, ``case_type``, ``published``, ``model``,
        ``relative_error`` ((model - published) / published), ``confidence``,
        ``weight``, ``sources``.
    """
    moments = np.asarray(moments, dtype=float)
    return pd.DataFrame(
        {
            "target": [t.id for t in targets],
            "description": [t.description for t in targets],
            "case_type": [t.case_type for t in targets],
            "published": [t.value for t in targets],
            "model": moments,
            "relative_error": [
                (m - t.value) / t.value for t, m in zip(targets, moments, strict=True)
            ],
            "confidence": [t.confidence for t in targets],
            "weight": [t.weight for t in targets],
            "sources": [", ".join(t.sources) for t in targets],
        }
    )


def _residuals(targets: Sequence[Target], moments: np.ndarray) -> np.ndarray:
    """Weighted log ratios ``sqrt(w_i) log(m_i / d_i)``; a moment the run cannot give counts 5."""
    values = np.array([t.value for t in targets])
    weights = np.sqrt([t.weight for t in targets])
    with np.errstate(divide="ignore", invalid="ignore"):
        r = weights * np.log(np.asarray(moments, dtype=float) / values)
    return np.where(np.isfinite(r), r, 5.0 * weights)


@dataclass
class FitResult:
    """Estimates, the fit table and their uncertainty.

    Attributes
    ----------
    parameters : tuple of FitParameter
    estimates : dict of str to float
    changes : dict of str to Any
        Every change to the default :class:`~tipresearch.china.ChinaModel`
        (fixed values and estimates): ``ChinaModel().updated(changes)`` is the
        fitted model.
    targets : tuple of Target
    moments : ndarray
        Model moments at the estimates (mean over ``seeds``).
    seeds : tuple of int
        Simulation seeds of the objective (common random numbers).
    objective : float
        Weighted sum of squared log ratios.
    jacobian : ndarray, optional
        Of the weighted residuals in unit coordinates, at the estimates.
    draws : ndarray, optional
        Bootstrap estimates, one row per replication.
    evaluations : int
    seconds : float
    """

    parameters: tuple[FitParameter, ...]
    estimates: dict[str, float]
    changes: dict[str, Any]
    targets: tuple[Target, ...]
    moments: np.ndarray
    seeds: tuple[int, ...]
    objective: float
    jacobian: np.ndarray | None = None
    draws: np.ndarray | None = None
    evaluations: int = 0
    seconds: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)

    def model(self) -> ChinaModel:
        """The fitted model."""
        return ChinaModel().updated(self.changes)

    def table(self) -> pd.DataFrame:
        """The fit table (:func:`fit_table`)."""
        return fit_table(self.targets, self.moments)

    def estimates_table(self) -> pd.DataFrame:
        """Estimates with bootstrap standard errors and 5-95% intervals."""
        rows = []
        for j, p in enumerate(self.parameters):
            d = None if self.draws is None else self.draws[:, j]
            rows.append(
                {
                    "parameter": p.key,
                    "description": p.description,
                    "estimate": self.estimates[p.key],
                    "std_error": np.nan if d is None else float(np.std(d, ddof=1)),
                    "low_5": np.nan if d is None else float(np.quantile(d, 0.05)),
                    "high_95": np.nan if d is None else float(np.quantile(d, 0.95)),
                    "lower_bound": p.lower,
                    "upper_bound": p.upper,
                    "scale": "log" if p.log else "linear",
                }
            )
        return pd.DataFrame(rows)

    # -- files -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready)."""
        return {
            "parameters": [asdict(p) for p in self.parameters],
            "estimates": self.estimates,
            "changes": self.changes,
            "targets": [asdict(t) for t in self.targets],
            "moments": [float(x) for x in self.moments],
            "seeds": list(self.seeds),
            "objective": self.objective,
            "jacobian": None if self.jacobian is None else self.jacobian.tolist(),
            "draws": None if self.draws is None else self.draws.tolist(),
            "evaluations": self.evaluations,
            "seconds": self.seconds,
            "notes": self.notes,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FitResult:
        """Inverse of :meth:`to_dict`."""
        return cls(
            parameters=tuple(FitParameter(**p) for p in data["parameters"]),
            estimates=dict(data["estimates"]),
            changes=dict(data["changes"]),
            targets=tuple(Target(**{**t, "sources": tuple(t["sources"])}) for t in data["targets"]),
            moments=np.asarray(data["moments"], dtype=float),
            seeds=tuple(data["seeds"]),
            objective=float(data["objective"]),
            jacobian=None if data.get("jacobian") is None else np.asarray(data["jacobian"]),
            draws=None if data.get("draws") is None else np.asarray(data["draws"]),
            evaluations=int(data.get("evaluations", 0)),
            seconds=float(data.get("seconds", 0.0)),
            notes=dict(data.get("notes", {})),
        )

    def save(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        """Write ``fit.json``, ``fit_table.csv`` and ``estimates.csv`` atomically.

        Returns
        -------
        dict of str to pathlib.Path
        """
        out = Path(out_dir)
        return {
            "fit": write_text(out / "fit.json", json.dumps(self.to_dict(), indent=1) + "\n"),
            "fit_table": write_table(self.table(), out / "fit_table.csv"),
            "estimates": write_table(self.estimates_table(), out / "estimates.csv"),
        }


def load_fit(path: str | os.PathLike) -> FitResult:
    """Read a fit written by :meth:`FitResult.save` (the ``fit.json`` file or its folder)."""
    path = Path(path)
    if path.is_dir():
        path = path / "fit.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"no fit at {path}: run `tipresearch calibrate`") from None
    except json.JSONDecodeError as exc:
        raise ParameterError("fit file", str(path), f"a JSON fit result ({exc})") from None
    return FitResult.from_dict(data)


class _Objective:
    """Weighted residuals as a function of unit coordinates, with a cache and a counter."""

    def __init__(
        self,
        base: ChinaModel,
        parameters: Sequence[FitParameter],
        targets: Sequence[Target],
        seeds: Sequence[int],
        progress: Callable[[str], None] | None,
    ) -> None:
        self.base, self.parameters, self.targets = base, tuple(parameters), tuple(targets)
        self.seeds = tuple(seeds)
        self.progress = progress
        self.cache: dict[tuple[float, ...], np.ndarray] = {}
        self.count = 0
        self.best: tuple[float, np.ndarray | None] = (math.inf, None)

    def values(self, u: np.ndarray) -> dict[str, float]:
        return {p.key: p.to_value(x) for p, x in zip(self.parameters, u, strict=True)}

    def model(self, u: np.ndarray) -> ChinaModel:
        return self.base.updated(_expand(self.parameters, self.values(u)))

    def moments(self, u: np.ndarray, seeds: Sequence[int] | None = None) -> np.ndarray:
        return model_moments(self.model(u), self.targets, self.seeds if seeds is None else seeds)

    def __call__(self, u: np.ndarray) -> np.ndarray:
        key = tuple(np.round(np.asarray(u, dtype=float), 12))
        if key in self.cache:
            return self.cache[key]
        r = _residuals(self.targets, self.moments(np.asarray(u)))
        self.cache[key] = r
        self.count += 1
        obj = float(r @ r)
        if obj < self.best[0]:
            self.best = (obj, np.asarray(u, dtype=float).copy())
        if self.progress is not None:
            self.progress(f"evaluation {self.count}: objective {obj:.5f}")
        return r


def fit(
    base: ChinaModel | None = None,
    targets: Sequence[Target] | None = None,
    parameters: Sequence[FitParameter] = FITTED,
    *,
    start: Mapping[str, float] | None = None,
    seeds: Sequence[int] = (0, 1),
    screen: int = 0,
    screen_seed: int = 0,
    max_evaluations: int = 200,
    diff_step: float = 0.03,
    progress: Callable[[str], None] | None = None,
) -> FitResult:
    """Fit parameters of the China calendar by simulated method of moments.

    Parameters
    ----------
    base : ChinaModel, optional
        The model with every value not fitted (defaults if None).
    targets : sequence of Target, optional
        The moments (:func:`china_targets` if None).
    parameters : sequence of FitParameter
        What is fitted, with bounds (:data:`FITTED`).
    start : mapping, optional
        Starting values by key (default: the base model's values, clipped to the bounds).
    seeds : sequence of int
        Simulation seeds averaged in every evaluation (common random numbers).
    screen : int
        Points of a scrambled Sobol' design over the bounds evaluated before the
        local search, which starts from the best of them and the start values (0:
        start values only). A simulated objective has local minima; a global
        screen avoids the worst of them.
    screen_seed : int
        Seed of the Sobol' scrambling.
    max_evaluations : int
        Budget of objective evaluations for the optimiser.
    diff_step : float
        Finite-difference step in unit coordinates.
    progress : callable, optional
        Called with a line of text after each evaluation.

    Returns
    -------
    FitResult
        With the Jacobian at the estimates (no bootstrap draws; see :func:`bootstrap`).
    """
    from scipy.optimize import least_squares

    base = ChinaModel() if base is None else base
    targets = china_targets() if targets is None else tuple(targets)
    parameters = tuple(parameters)
    if not parameters:
        raise ParameterError("parameters", parameters, "at least one FitParameter")
    if not seeds:
        raise ParameterError("seeds", seeds, "at least one seed")
    obj = _Objective(base, parameters, targets, seeds, progress)
    current = _current_values(base, parameters)
    given = dict(start or {})
    unknown = sorted(set(given) - {p.key for p in parameters})
    if unknown:
        raise ParameterError(f"start.{unknown[0]}", given[unknown[0]], "a fitted parameter's key")
    u0 = np.array([p.to_unit(given.get(p.key, current[p.key])) for p in parameters])
    began = time.perf_counter()
    if screen:
        from scipy.stats import qmc

        design = qmc.Sobol(len(parameters), seed=screen_seed).random(int(screen))
        best = (float(obj(u0) @ obj(u0)), u0)
        for u in design:
            r = obj(u)
            if float(r @ r) < best[0]:
                best = (float(r @ r), u)
        u0 = best[1]
    sol = least_squares(
        obj,
        u0,
        bounds=(0.0, 1.0),
        method="trf",
        diff_step=diff_step,
        x_scale=1.0,
        max_nfev=max_evaluations,
        xtol=1e-4,
        ftol=1e-6,
    )
    u_hat = sol.x if float(sol.fun @ sol.fun) <= obj.best[0] else obj.best[1]
    jac = _jacobian(obj, u_hat, diff_step)
    moments = obj.moments(u_hat)
    r = _residuals(targets, moments)
    estimates = obj.values(u_hat)
    changes = {**_base_changes(base), **_expand(parameters, estimates)}
    return FitResult(
        parameters=parameters,
        estimates=estimates,
        changes=changes,
        targets=tuple(targets),
        moments=moments,
        seeds=tuple(seeds),
        objective=float(r @ r),
        jacobian=jac,
        evaluations=obj.count,
        seconds=time.perf_counter() - began,
        notes={
            "optimizer": "scipy.optimize.least_squares (trf)",
            "status": int(sol.status),
            "screen": int(screen),
        },
    )


def _jacobian(obj: _Objective, u: np.ndarray, step: float) -> np.ndarray:
    """Central differences in unit coordinates (one-sided at a bound)."""
    cols = []
    for j in range(u.size):
        lo, hi = u.copy(), u.copy()
        lo[j] = max(u[j] - step, 0.0)
        hi[j] = min(u[j] + step, 1.0)
        cols.append((obj(hi) - obj(lo)) / (hi[j] - lo[j]))
    return np.column_stack(cols)


def _expand(parameters: Sequence[FitParameter], values: Mapping[str, float]) -> dict[str, float]:
    """Estimates by parameter key to values by model key (tied keys share a value)."""
    return {k: values[p.key] for p in parameters for k in p.keys}


def _current_values(model: ChinaModel, parameters: Sequence[FitParameter]) -> dict[str, float]:
    params = model.params
    out = {}
    for p in parameters:
        group, _, name = p.keys[0].partition(".")
        if group == "settings":
            if name in model.settings:
                value = model.settings[name]
            else:
                import inspect

                from .china import china_params

                default = inspect.signature(china_params).parameters.get(name)
                value = default.default if default is not None else params.to_dict()[name]
        elif group == "reforms":
            value = getattr(model.reforms, name)
        elif group == "dynamics":
            value = getattr(model.dynamics, name)
        else:
            value = getattr(model.metric, name)
        out[p.key] = float(value)
    return out


def _base_changes(model: ChinaModel) -> dict[str, Any]:
    """The base model as changes to the default ChinaModel (so a fit file is self-contained)."""
    default = ChinaModel()
    changes: dict[str, Any] = {f"settings.{k}": v for k, v in model.settings.items()}
    for group, obj, ref in (
        ("reforms", model.reforms, default.reforms),
        ("dynamics", model.dynamics, default.dynamics),
        ("metric", model.metric, default.metric),
    ):
        for k, v in asdict(obj).items():
            if k != "name" and v != asdict(ref)[k]:
                changes[f"{group}.{k}"] = v
    return changes


def synthetic_targets(
    model: ChinaModel, targets: Sequence[Target], seeds: Sequence[int] = (0,)
) -> tuple[Target, ...]:
    """The targets with their values replaced by the model's own moments (for recovery tests)."""
    m = model_moments(model, targets, seeds)
    return tuple(replace(t, value=float(v)) for t, v in zip(targets, m, strict=True))


def bootstrap(
    result: FitResult,
    base: ChinaModel | None = None,
    *,
    replications: int = 30,
    seed: int = 12345,
    damping: float = 0.01,
    progress: Callable[[str], None] | None = None,
) -> FitResult:
    """Parametric bootstrap of a fit, linearised at the estimates.

    Each replication draws every published count as Poisson around its figure
    (a ratio from its drawn numerator and denominator; the brief's clearance
    target stays 1) and fresh simulation seeds, evaluates the residuals at the
    estimates, and moves the estimates by one Levenberg-Marquardt step with the
    Jacobian at the estimates,

        theta_b = theta_hat - (J'J + damping diag(J'J))^-1 J' (r_b - r_hat),

    within the bounds (a one-step bootstrap: Davidson & MacKinnon 1999; Andrews
    2002). Centring on the estimate's own residuals ``r_hat`` keeps the
    systematic misfit out of the draws, which then show the spread due to the
    counts' sampling noise and the simulation noise, not the model's
    misspecification. The damping keeps weakly identified directions from
    taking unbounded steps.

    Parameters
    ----------
    result : FitResult
        A fit with its Jacobian.
    base : ChinaModel, optional
        The model of the fit (``result.model()`` if None).
    replications : int
        Bootstrap replications.
    seed : int
        Seed of the bootstrap's own draws (counts and simulation seeds).
    damping : float
        Levenberg-Marquardt damping, relative to the diagonal of ``J'J``.

    Returns
    -------
    FitResult
        ``result`` with ``draws`` (one row of estimates per replication).

    References
    ----------
    Davidson, R., MacKinnon, J. G. (1999). Bootstrap testing in nonlinear models.
    International Economic Review 40(2), 487-508.
    """
    if result.jacobian is None:
        raise ParameterError("result.jacobian", None, "a fit with its Jacobian")
    base = result.model() if base is None else base
    rng = np.random.default_rng(seed)
    params = result.parameters
    u_hat = np.array([p.to_unit(result.estimates[p.key]) for p in params])
    r_hat = _residuals(result.targets, result.moments)
    J = result.jacobian
    H = J.T @ J
    H = H + damping * np.diag(np.diag(H)) + 1e-9 * np.eye(len(params))
    draws = []
    for b in range(replications):
        targets = _perturbed(result.targets, rng)
        seeds = tuple(int(x) for x in rng.integers(1_000_000, 2**31 - 1, size=len(result.seeds)))
        obj = _Objective(base, params, targets, seeds, None)
        u = np.clip(u_hat - np.linalg.solve(H, J.T @ (obj(u_hat) - r_hat)), 0.0, 1.0)
        draws.append([p.to_value(x) for p, x in zip(params, u, strict=True)])
        if progress is not None:
            progress(f"bootstrap {b + 1}/{replications}")
    return replace(result, draws=np.array(draws))


def _perturbed(targets: Sequence[Target], rng: np.random.Generator) -> tuple[Target, ...]:
    out = []
    for t in targets:
        if t.kind == "clearance":
            out.append(t)
        elif t.kind == "window_victims_per_solved":
            # the ratio of two counts: draw both (the denominator is the paired solved count)
            solved = next(
                (
                    u.value
                    for u in targets
                    if u.kind == "window_solved" and u.case_type == t.case_type
                ),
                None,
            )
            if solved is None:
                out.append(t)
                continue
            num = rng.poisson(t.value * solved)
            den = max(rng.poisson(solved), 1)
            out.append(replace(t, value=float(max(num, 1)) / den))
        else:
            out.append(replace(t, value=float(max(rng.poisson(t.value), 1))))
    return tuple(out)


#: Rows of :func:`fit_checks`: label, published row id(s), year, case type and count.
#: A pair of ids is a ratio, later year over earlier year.
_CHECK_ROWS: tuple[tuple[str, tuple[str, ...], tuple[int, ...], str, str], ...] = (
    (
        "registered 2009 / 2008",
        ("cn_reg_traf_2009", "cn_reg_traf_2008"),
        (2009, 2008),
        "all",
        "registered",
    ),
    ("registered 2011", ("cn_reg_traf_2011",), (2011,), "all", "registered"),
    ("solved 2011, women", ("cn_solved_women_2011",), (2011,), "women", "solved"),
    ("solved 2011, children", ("cn_solved_children_2011",), (2011,), "children", "solved"),
    ("registered 2020", ("cn_reg_traf_2020",), (2020,), "all", "registered"),
)

#: Largest relative error asked of each row of :func:`fit_checks` (None: not asked).
CHECK_ALLOWED: dict[str, float | None] = {
    "registered 2009 / 2008": 0.10,
    "registered 2011": 0.15,
    "solved 2011, women": 0.15,
    "solved 2011, children": 0.15,
    "registered 2020": None,
}


def replication_means(annual: pd.DataFrame) -> pd.DataFrame:
    """Mean registered and solved counts over replications, by year and case type.

    Parameters
    ----------
    annual : pandas.DataFrame
        Annual counts per replication (:func:`tipresearch.china.to_annual`), with
        ``year``, ``case_type``, ``registered`` and ``solved``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(year, case_type)``, columns ``registered`` and ``solved``.
    """
    missing = {"year", "case_type", "registered", "solved"} - set(annual.columns)
    if missing:
        raise ParameterError(
            "annual", f"a frame without {sorted(missing)}", "annual counts from to_annual"
        )
    return annual.groupby(["year", "case_type"], observed=True)[["registered", "solved"]].mean()


def _mean_at(means: pd.DataFrame, year: int, case_type: str, count: str) -> float:
    if (year, case_type) not in means.index:
        raise ParameterError(
            "means", f"no row for ({year}, {case_type!r})", "means covering 2008 to 2020"
        )
    return float(means.loc[(year, case_type), count])


def _check_values(means: pd.DataFrame, published: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Published and model value of each row of :data:`_CHECK_ROWS`."""
    out = {}
    for label, ids, years, case_type, count in _CHECK_ROWS:
        pub = [published_value(published, i) for i in ids]
        mod = [_mean_at(means, y, case_type, count) for y in years]
        if len(ids) == 2:
            out[label] = (pub[0] / pub[1], mod[0] / mod[1])
        else:
            out[label] = (pub[0], mod[0])
    return out


def fit_checks(means: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """The fitted model's annual means against the published counts it is checked on.

    Rows: the rise of registered cases from 2008 to 2009 (a ratio, 2009 over
    2008), registered cases in 2011, cases solved in 2011 by type (women,
    children) and registered cases in 2020.

    Parameters
    ----------
    means : pandas.DataFrame
        Mean counts over replications (:func:`replication_means`), indexed by
        ``(year, case_type)``, covering 2008, 2009, 2011 and 2020.
    published : pandas.DataFrame
        The published figures (:func:`tipresearch.published.load_published`).

    Returns
    -------
    pandas.DataFrame
        Indexed by the row label, columns ``published``, ``model``, ``allowed``
        (:data:`CHECK_ALLOWED`) and ``relative_error`` = model / published - 1.

    References
    ----------
    China Statistical Yearbook 2010 (registered cases 2008, 2009); the yearbook
    as cited for 2011 and 2020; Xinhua for cases solved in 2011 (rows of
    ``data/published/``, with their sources).
    """
    values = _check_values(means, published)
    checks = pd.DataFrame(
        {
            "published": [p for p, _ in values.values()],
            "model": [m for _, m in values.values()],
            "allowed": [CHECK_ALLOWED[label] for label in values],
        },
        index=list(values),
    )
    checks["relative_error"] = checks.model / checks.published - 1
    return checks


def campaign_solved(monthly: pd.DataFrame, published: pd.DataFrame) -> pd.Series:
    """Mean cases solved by type over the window of the cable's campaign counts.

    The window runs from the earliest ``period_start`` to the latest ``period_end``
    of the ``cable_solved_*`` rows of ``published`` (April to mid-August 2009);
    months are weighted by their days inside it
    (:func:`tipresearch.china.window_totals`).

    Parameters
    ----------
    monthly : pandas.DataFrame
        Monthly counts per replication (:func:`tipresearch.china.replicate` with
        ``monthly=True``).
    published : pandas.DataFrame
        The published figures.

    Returns
    -------
    pandas.Series
        Mean solved cases over replications, indexed by ``case_type``.

    References
    ----------
    09BEIJING2594 ¶8 (cases solved during the campaign, by type).
    """
    cable = _cable_rows(published)
    window = (cable["period_start"].min(), cable["period_end"].max())
    totals = window_totals(monthly, *window)
    return totals.groupby("case_type", observed=True)["solved"].mean()


def _cable_rows(published: pd.DataFrame) -> pd.DataFrame:
    cable = published[published["id"].str.startswith("cable_solved_")].set_index("case_type")
    if cable.empty:
        raise ParameterError("published", "a table without cable_solved_* rows", "load_published()")
    return cable


def trade_off_table(runs: Mapping[str, pd.DataFrame], published: pd.DataFrame) -> pd.DataFrame:
    """Compare model variants on the 2009/2008 ratio, the 2011 counts and the campaign counts.

    Parameters
    ----------
    runs : Mapping[str, pandas.DataFrame]
        Monthly counts per replication (:func:`tipresearch.china.replicate` with
        ``monthly=True``) by variant name, e.g. the fitted model and one with a
        slower adjustment rate, run on the same seeds.
    published : pandas.DataFrame
        The published figures (:func:`tipresearch.published.load_published`).

    Returns
    -------
    pandas.DataFrame
        Rows ``registered 2009 / 2008``, ``registered 2011``, ``solved 2011,
        women``, ``solved 2011, children``, ``campaign solved, women`` and
        ``campaign solved, children``; one column of model means per variant,
        ``published``, and ``error, NAME`` = NAME / published - 1 per variant.

    References
    ----------
    Published rows as in :func:`fit_checks`; the campaign counts from
    09BEIJING2594 ¶8 (:func:`campaign_solved`).
    """
    if not runs:
        raise ParameterError("runs", "{}", "at least one named frame of monthly counts")
    labels = ["registered 2009 / 2008", "registered 2011", "solved 2011, women"]
    labels.append("solved 2011, children")
    cable = _cable_rows(published)
    columns: dict[str, list[float]] = {}
    pub: list[float] = []
    for name, monthly in runs.items():
        values = _check_values(replication_means(to_annual(monthly)), published)
        solved = campaign_solved(monthly, published)
        columns[name] = [values[label][1] for label in labels]
        columns[name] += [float(solved["women"]), float(solved["children"])]
        pub = [values[label][0] for label in labels]
    table = pd.DataFrame(
        columns, index=[*labels, "campaign solved, women", "campaign solved, children"]
    )
    table["published"] = [*pub, cable.loc["women", "value"], cable.loc["children", "value"]]
    for name in runs:
        table[f"error, {name}"] = table[name] / table["published"] - 1
    return table
