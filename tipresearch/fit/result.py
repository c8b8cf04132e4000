"""A finished fit: estimates, the fit table and its files.

:class:`FitResult` holds the estimates, the targets and the model's moments at the
estimates, with the Jacobian and bootstrap draws where computed; :meth:`FitResult.save`
writes ``fit.json``, ``fit_table.csv`` and ``estimates.csv`` atomically and
:func:`load_fit` reads them back (the committed fit is ``data/fit/``).
"""

from __future__ import annotations

import json
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

__all__ = ["FitResult", "fit_table", "load_fit", "residuals"]


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
