"""The parameters of the China fit: what is fitted, within which bounds, on which scale.

:data:`FITTED` lists the fitted parameters (:class:`FitParameter`: a key of
:meth:`tipresearch.reforms.ChinaModel.updated`, bounds and scale); :func:`expand`,
:func:`current_values` and :func:`base_changes` turn estimates into changes of a
:class:`~tipresearch.reforms.ChinaModel` and back.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from tipresearch.errors import ParameterError
from tipresearch.reforms import ChinaModel, china_params

__all__ = ["FITTED", "FitParameter", "base_changes", "current_values", "expand"]


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
        "dynamics.deterrence_floor",
        0.005,
        0.5,
        log=True,
        description="lowest share of its first level that deterrence can bring incidence to",
    ),
    FitParameter(
        "reforms.campaign_persist",
        0.0,
        1.0,
        description="share of the 2009 campaign's changes kept after December 2009",
    ),
)


def expand(parameters: Sequence[FitParameter], values: Mapping[str, float]) -> dict[str, float]:
    """Estimates by parameter key to values by model key (tied keys share a value)."""
    return {k: values[p.key] for p in parameters for k in p.keys}


def current_values(model: ChinaModel, parameters: Sequence[FitParameter]) -> dict[str, float]:
    params = model.params
    out = {}
    for p in parameters:
        group, _, name = p.keys[0].partition(".")
        if group == "settings":
            if name in model.settings:
                value = model.settings[name]
            else:
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


def base_changes(model: ChinaModel) -> dict[str, Any]:
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
