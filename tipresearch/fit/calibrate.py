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

The targets and the model's moments are in :mod:`tipresearch.fit.targets`;
checks of a finished fit against published figures are in
:mod:`tipresearch.fit.checks`; their public names are importable from here too.

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tipresearch.errors import ParameterError
from tipresearch.io import write_table, write_text
from tipresearch.reforms import ChinaModel

from .targets import KINDS as KINDS
from .targets import (
    Target,
    china_targets,
    model_moments,
)

__all__ = [
    "FITTED",
    "FitParameter",
    "FitResult",
    "bootstrap",
    "fit",
    "fit_table",
    "load_fit",
    "synthetic_targets",
]


@dataclass(frozen=True)
class FitParameter:
    """A parameter of the fit.

    Parameters
    ----------
    key : str
        A key of :meth:`tipresearch.reforms.china.ChinaModel.updated`, or several joined
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
        Every change to the default :class:`~tipresearch.reforms.china.ChinaModel`
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

                from tipresearch.reforms import china_params

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
