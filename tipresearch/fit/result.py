"""A finished fit: estimates, the fit table and its files.

:class:`FitResult` holds the estimates, the targets and the model's moments at the
estimates, with the Jacobian and bootstrap draws where computed; :meth:`FitResult.save`
writes ``fit.json``, ``fit_table.csv`` and ``estimates.csv`` atomically and
:func:`load_fit` reads them back (the committed fit is ``data/fit/``).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tipresearch.errors import ParameterError
from tipresearch.io import write_table, write_text
from tipresearch.reforms import ChinaModel

from .parameters import FitParameter
from .targets import Target

__all__ = [
    "FitResult",
    "fit_table",
    "load_fit",
    "on_bounds",
    "residuals",
    "sandwich_errors",
]

#: An estimate within this distance of a bound, in unit coordinates, is on the bound.
_BOUND_TOLERANCE = 0.005


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


def residuals(targets: Sequence[Target], moments: np.ndarray) -> np.ndarray:
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

    def fixed_changes(self) -> dict[str, Any]:
        """``changes`` without the fitted parameters' keys: the base every refit starts from."""
        fitted = {k for p in self.parameters for k in p.keys}
        return {k: v for k, v in self.changes.items() if k not in fitted}

    def table(self) -> pd.DataFrame:
        """The fit table (:func:`fit_table`)."""
        return fit_table(self.targets, self.moments)

    def estimates_table(self) -> pd.DataFrame:
        """Estimates with two kinds of standard error, and the values held fixed.

        ``std_error``, ``low_5`` and ``high_95`` come from the one-step bootstrap
        (:func:`tipresearch.fit.bootstrap`: the published counts' sampling noise and
        the simulation noise, not the model's misfit); ``robust_std_error`` is the
        sandwich error (:func:`sandwich_errors`), which includes the misfit.
        ``on_bound`` names a bound the estimate sits on. Parameters held fixed
        (``notes["fixed"]``, with the reason in ``notes["fixed_reason"]``) have a row
        with ``status`` ``fixed`` and no errors.
        """
        robust = (
            sandwich_errors(self).set_index("parameter")["robust_std_error"]
            if self.jacobian is not None
            else None
        )
        bounds = on_bounds(self).set_index("parameter")["on_bound"]
        rows = []
        for j, p in enumerate(self.parameters):
            d = None if self.draws is None else self.draws[:, j]
            rows.append(
                {
                    "parameter": p.key,
                    "description": p.description,
                    "status": "fitted",
                    "estimate": self.estimates[p.key],
                    "std_error": np.nan if d is None else float(np.std(d, ddof=1)),
                    "low_5": np.nan if d is None else float(np.quantile(d, 0.05)),
                    "high_95": np.nan if d is None else float(np.quantile(d, 0.95)),
                    "robust_std_error": np.nan if robust is None else robust[p.key],
                    "on_bound": bounds[p.key],
                    "lower_bound": p.lower,
                    "upper_bound": p.upper,
                    "scale": "log" if p.log else "linear",
                }
            )
        for key, value in dict(self.notes.get("fixed", {})).items():
            rows.append(
                {
                    "parameter": key,
                    "description": str(self.notes.get("fixed_reason", "")),
                    "status": "fixed",
                    "estimate": float(value),
                    "on_bound": "",
                    "scale": "",
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


def _units(result: FitResult) -> np.ndarray:
    return np.array([p.to_unit(result.estimates[p.key]) for p in result.parameters])


def _scale(p: FitParameter, value: float) -> float:
    """d value / d unit coordinate at ``value``."""
    if p.log:
        return value * math.log(p.upper / p.lower)
    return p.upper - p.lower


def sandwich_errors(result: FitResult) -> pd.DataFrame:
    """Standard errors of the estimates, robust to misspecification.

    ``(J'J)^-1 J' diag(r^2) J (J'J)^-1`` from the Jacobian ``J`` of the weighted
    residuals (unit coordinates) and the residuals ``r`` at the estimates, scaled to
    the parameters' units (White 1982, Econometrica 50(1), 1-25).

    Parameters
    ----------
    result : FitResult
        A fit with its Jacobian (of the weighted residuals in unit coordinates).

    Returns
    -------
    pandas.DataFrame
        ``parameter``, ``estimate``, ``robust_std_error`` (sandwich, in the
        parameter's units; NaN where ``J'J`` is singular in that direction),
        ``condition`` (condition number of ``J'J``).

    Raises
    ------
    ParameterError
        When the fit has no Jacobian.
    """
    if result.jacobian is None:
        raise ParameterError("result.jacobian", None, "a fit with its Jacobian")
    J = np.asarray(result.jacobian, dtype=float)
    r = residuals(result.targets, result.moments)
    A = J.T @ J
    A_inv = np.linalg.pinv(A)
    B = J.T @ (r[:, None] ** 2 * J)
    cov_u = A_inv @ B @ A_inv
    cond = float(np.linalg.cond(A))
    rows = []
    for j, p in enumerate(result.parameters):
        est = result.estimates[p.key]
        var = cov_u[j, j]
        se = math.sqrt(var) * _scale(p, est) if var > 0 and np.isfinite(var) else math.nan
        rows.append(
            {"parameter": p.key, "estimate": est, "robust_std_error": se, "condition": cond}
        )
    return pd.DataFrame(rows)


def on_bounds(result: FitResult) -> pd.DataFrame:
    """Which estimates sit on a bound of their search.

    Returns
    -------
    pandas.DataFrame
        ``parameter``, ``estimate``, ``lower_bound``, ``upper_bound``,
        ``unit`` (position in [0, 1] between the bounds, log scale where stated),
        ``on_bound`` (``lower``, ``upper`` or empty).
    """
    rows = []
    for p, u in zip(result.parameters, _units(result), strict=True):
        side = "lower" if u <= _BOUND_TOLERANCE else "upper" if u >= 1 - _BOUND_TOLERANCE else ""
        rows.append(
            {
                "parameter": p.key,
                "estimate": result.estimates[p.key],
                "lower_bound": p.lower,
                "upper_bound": p.upper,
                "unit": float(u),
                "on_bound": side,
            }
        )
    return pd.DataFrame(rows)
