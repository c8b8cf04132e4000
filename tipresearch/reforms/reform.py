"""A reform: a dated change of model parameters and metric weights, and calendar months.

A :class:`Reform` changes model parameters and metric weights from a start month
to an optional end month (both inclusive). A change is written as in
:meth:`tipresearch.model.params.ModelParams.updated`, with a value that is

- a number: the new value (``{"audit_prob": 0.9}``);
- ``{"times": x}``: the current value multiplied by ``x``
  (``{"children.beta_a": {"times": 1.5}}``);
- ``{"plus": x}``: ``x`` added to the current value;
- ``{"at_least": x}`` / ``{"at_most": x}``: the larger / smaller of the current
  value and ``x`` (a campaign that raises audits to at least 0.3 leaves a
  stricter audit in place).

Metric changes name :class:`tipresearch.model.metrics.Metric` weights the same way
(``{"solved": {"times": 2}}``). Keys may be scoped to one case type with
``TYPE.``: ``children.dna_effect`` and ``children.audit_prob`` are case-type
fields; ``children.handling_cost`` (a model-wide field) or ``children.solved`` (a
metric weight) apply to that type only. No reform may change the parameters in
:data:`FIXED_PARAMETERS`.

After its end a reform may leave part of its change behind (``persist``, the
institutionalised share): the value becomes ``v + persist (v' - v)``, where ``v``
is the value before the reform and ``v'`` the value with it.

Months are calendar months (:func:`as_month`): a reform dated to a day (9 April
2009) takes effect for the whole of that month; a reform dated to a year only
(2008) starts in its January.

References
----------
``docs/model.md``, §3.3.12 "Schedules and reforms".
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tipresearch.errors import ParameterError
from tipresearch.model import CaseType, Metric, ModelParams

__all__ = ["FIXED_PARAMETERS", "OPERATORS", "Reform", "as_month"]

#: Operators a change may use besides an absolute value.
OPERATORS: tuple[str, ...] = ("times", "plus", "at_least", "at_most")
#: Parameters fixed for a whole simulation (the bureaus drawn and the report
#: shares): no reform may change them. ``reports_mean`` and ``capacity_ratio``
#: may change: a schedule scales every bureau's incidence and capacity by them.
FIXED_PARAMETERS: tuple[str, ...] = (
    "n_bureaus",
    "reports_sigma",
    "capacity_sigma",
    "share",
)

_MODEL_FIELDS = tuple(f.name for f in dataclasses.fields(ModelParams) if f.name != "case_types")
_TYPE_FIELDS = tuple(f.name for f in dataclasses.fields(CaseType) if f.name != "name")
#: Model-wide fields without a per-type counterpart: scoping one to a type needs a split run.
_WIDE_ONLY = tuple(f for f in _MODEL_FIELDS if f not in _TYPE_FIELDS)
_METRIC_FIELDS = tuple(f.name for f in dataclasses.fields(Metric) if f.name != "name")


def as_month(value: Any, name: str = "month") -> pd.Period:
    """Return a calendar month from ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``, a date or a Period.

    A day gives its month; a year gives its January.

    Raises
    ------
    ParameterError
        If the value is not one of those forms.
    """
    allowed = "a month 'YYYY-MM' (or a date 'YYYY-MM-DD', or a year 'YYYY')"
    if isinstance(value, pd.Period):
        return value.asfreq("M", how="start")
    if isinstance(value, pd.Timestamp | _dt.date):
        return pd.Period(year=value.year, month=value.month, freq="M")
    if isinstance(value, int) and not isinstance(value, bool) and 1000 <= value <= 9999:
        return pd.Period(year=value, month=1, freq="M")
    if isinstance(value, str):
        text = value.strip()
        parts = text.split("-")
        if (
            1 <= len(parts) <= 3
            and all(p.isdigit() for p in parts)
            and len(parts[0]) == 4
            and all(len(p) == 2 for p in parts[1:])
        ):
            try:
                stamp = pd.Timestamp(text if len(parts) > 1 else f"{text}-01")
            except ValueError:
                raise ParameterError(name, value, allowed) from None
            return pd.Period(year=stamp.year, month=stamp.month, freq="M")
    raise ParameterError(name, value, allowed)


def _check_change(where: str, value: Any) -> Any:
    """Validate one change value: a number, or ``{"times": x}`` / ``{"plus": x}``."""
    allowed = "a number, or {OP: x} with OP one of times, plus, at_least, at_most and a finite x"

    def finite(v: Any) -> bool:
        return (
            not isinstance(v, bool) and isinstance(v, int | float | np.number) and math.isfinite(v)
        )

    if finite(value):
        return float(value)
    if isinstance(value, Mapping):
        if len(value) != 1:
            raise ParameterError(where, dict(value), allowed)
        (op, x), *_ = value.items()
        if op not in OPERATORS:
            raise ParameterError(f"{where}.{op}", x, f"an operator among {', '.join(OPERATORS)}")
        if not finite(x):
            raise ParameterError(f"{where}.{op}", x, "a finite number")
        return {op: float(x)}
    raise ParameterError(where, value, allowed)


def _check_param_key(where: str, key: Any) -> str:
    if not isinstance(key, str):
        raise ParameterError(where, key, "a parameter name such as 'audit_prob'")
    parts = key.split(".")
    last = parts[-1]
    if last in FIXED_PARAMETERS:
        raise ParameterError(
            f"{where}.{key}",
            key,
            "a parameter a reform can change; the bureaus and report shares "
            f"({', '.join(FIXED_PARAMETERS)}) are fixed for a simulation",
        )
    ok = (len(parts) == 1 and last in _MODEL_FIELDS) or (
        len(parts) == 2 and parts[0].isidentifier() and last in _MODEL_FIELDS + _TYPE_FIELDS
    )
    if not ok:
        known = ", ".join(_MODEL_FIELDS) + "; TYPE." + ", TYPE.".join(_TYPE_FIELDS)
        raise ParameterError(f"{where}.{key}", key, f"a model parameter name: {known}")
    return key


def _check_metric_key(where: str, key: Any) -> str:
    parts = key.split(".") if isinstance(key, str) else []
    ok = (len(parts) == 1 and parts[0] in _METRIC_FIELDS) or (
        len(parts) == 2 and parts[0].isidentifier() and parts[1] in _METRIC_FIELDS
    )
    if not ok:
        raise ParameterError(
            f"{where}.{key}",
            key,
            f"a metric weight (optionally TYPE.weight): {', '.join(_METRIC_FIELDS)}",
        )
    return key


@dataclass(frozen=True)
class Reform:
    """A dated change of parameters and metric weights.

    Parameters
    ----------
    name : str
        Identifier (unique within a timeline).
    start : str or pandas.Period
        First month in effect (``YYYY-MM``; a day gives its month, a year its January).
    end : str or pandas.Period, optional
        Last month in effect (inclusive); None for a reform still in force.
    params : mapping
        Parameter changes: ``{"audit_prob": 0.9, "children.beta_a": {"times": 1.5}}``.
    metric : mapping
        Metric weight changes: ``{"solved": {"times": 2.0}, "rate": 0.0}``.
    persist : float
        Share in [0, 1] of the change that remains after ``end`` (institutionalised);
        needs an ``end`` when > 0.
    priority : int
        Composition order: lower first (then start month, then list position).
    source : str
        Where the reform and its date come from.

    Raises
    ------
    ParameterError
        Naming the field or change key that is not allowed.
    """

    name: str
    start: pd.Period
    end: pd.Period | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    metric: Mapping[str, Any] = field(default_factory=dict)
    persist: float = 0.0
    priority: int = 0
    source: str = ""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not isinstance(self.name, str) or not self.name.strip():
            raise ParameterError("reform.name", self.name, "a non-empty name")
        where = f"reform '{self.name}'"
        set_(self, "start", as_month(self.start, f"{where}.start"))
        if self.end is not None:
            set_(self, "end", as_month(self.end, f"{where}.end"))
            if self.end < self.start:
                raise ParameterError(
                    f"{where}.end", str(self.end), f"a month not before the start {self.start}"
                )
        for attr, check in (("params", _check_param_key), ("metric", _check_metric_key)):
            given = getattr(self, attr)
            if given is None:
                given = {}
            if not isinstance(given, Mapping):
                raise ParameterError(f"{where}.{attr}", given, "a mapping of name to change")
            checked = {
                check(f"{where}.{attr}", k): _check_change(f"{where}.{attr}.{k}", v)
                for k, v in given.items()
            }
            set_(self, attr, checked)
        p = self.persist
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 1:
            raise ParameterError(f"{where}.persist", p, "a share in [0, 1]")
        set_(self, "persist", float(p))
        if self.persist > 0 and self.end is None:
            raise ParameterError(f"{where}.persist", p, "0 for a reform without an end month")
        pr = self.priority
        if isinstance(pr, bool) or not isinstance(pr, int | np.integer):
            raise ParameterError(f"{where}.priority", pr, "a whole number")
        set_(self, "priority", int(pr))
        if not isinstance(self.source, str):
            raise ParameterError(f"{where}.source", self.source, "text")

    def __hash__(self) -> int:
        return hash((self.name, self.start, self.end, self.persist, self.priority))

    def active(self, month: Any) -> bool:
        """True when ``month`` lies in ``[start, end]`` (``end`` inclusive, open if None)."""
        m = as_month(month)
        return self.start <= m and (self.end is None or m <= self.end)

    def weight(self, month: Any) -> float:
        """Share of the change in effect: 1 inside the window, ``persist`` after it, else 0."""
        m = as_month(month)
        if self.active(m):
            return 1.0
        if self.end is not None and m > self.end:
            return self.persist
        return 0.0

    def replace(self, **changes: Any) -> Reform:
        """A copy with some fields changed (``reform.replace(persist=0.0)``)."""
        return dataclasses.replace(self, **changes)
