"""Reforms as dated switches on a monthly calendar, and timelines that compose them.

A :class:`Reform` changes model parameters and metric weights from a start month
to an optional end month (both inclusive). A change is written as in
:meth:`tipresearch.params.ModelParams.updated`, with a value that is

- a number: the new value (``{"audit_prob": 0.9}``);
- ``{"times": x}``: the current value multiplied by ``x``
  (``{"children.beta_a": {"times": 1.5}}``);
- ``{"plus": x}``: ``x`` added to the current value;
- ``{"at_least": x}`` / ``{"at_most": x}``: the larger / smaller of the current
  value and ``x`` (a campaign that raises audits to at least 0.3 leaves a
  stricter audit in place).

Metric changes name :class:`tipresearch.metrics.Metric` weights the same way
(``{"solved": {"times": 2}}``). Keys may be scoped to one case type with
``TYPE.``: ``children.dna_effect`` and ``children.audit_prob`` are case-type
fields (an unset per-type audit starts from the model-wide value);
``children.handling_cost`` (a model-wide field) or ``children.solved`` (a metric
weight) apply to that type only, which :func:`simulate_timeline` handles by
running the case types one by one.

After its end a reform may leave part of its change behind (``persist``, the
institutionalised share): the value becomes ``v + persist (v' - v)``, where ``v``
is the value before the reform and ``v'`` the value with it.

Composition order
-----------------
In a given month the reforms in effect are applied one after the other, ordered
by ``priority`` (lower first), then start month, then their position in the
timeline's list. Each change acts on the value left by the reforms before it: a
later absolute value replaces an earlier one, multipliers and additions compound.

Calendar
--------
Periods are calendar months. A reform dated to a day (9 April 2009) takes effect
for the whole of that month; a reform dated to a year only (2008) starts in its
January. The bureaus are drawn once per simulation: a reform may scale every
bureau's incidence and capacity through ``reports_mean`` and ``capacity_ratio``,
but not change ``n_bureaus``, ``reports_sigma``, ``capacity_sigma`` or the case
types' ``share``.

References
----------
Model brief (``docs/model.md``), "Dynamics and reforms"; dates from
``data/reform_timeline.csv``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .dynamics import Dynamics
from .errors import ParameterError
from .metrics import Metric, get_metric
from .params import CaseType, ModelParams

__all__ = [
    "FIXED_PARAMETERS",
    "OPERATORS",
    "REFORM_KEYS",
    "Reform",
    "Timeline",
    "as_month",
    "load_reforms",
    "reforms_from_dict",
    "simulate_timeline",
]

#: Operators a change may use besides an absolute value.
OPERATORS: tuple[str, ...] = ("times", "plus", "at_least", "at_most")
#: Keys a reform may have in a YAML file.
REFORM_KEYS: tuple[str, ...] = (
    "name",
    "start",
    "end",
    "params",
    "metric",
    "persist",
    "priority",
    "source",
)
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


def _apply(value: float, change: Any, weight: float) -> float:
    if isinstance(change, dict):
        ((op, x),) = change.items()
        if op == "times":
            new = value * x
        elif op == "plus":
            new = value + x
        elif op == "at_least":
            new = max(value, x)
        else:
            new = min(value, x)
    else:
        new = change
    return value + weight * (new - value) if weight != 1.0 else new


def _split_key(key: str) -> tuple[str | None, str]:
    head, _, tail = key.rpartition(".")
    return (head or None), tail


class Timeline:
    """Reforms on a monthly calendar, composed in a documented order.

    Parameters
    ----------
    reforms : iterable of Reform
        The reforms; names must be unique. The list order breaks ties (see the
        module docstring, "Composition order").
    """

    def __init__(self, reforms: Iterable[Reform] = ()) -> None:
        items = list(reforms)
        for r in items:
            if not isinstance(r, Reform):
                raise ParameterError("reforms", r, "Reform objects")
        names = [r.name for r in items]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ParameterError("reforms", dup, "reforms with distinct names")
        self.reforms: tuple[Reform, ...] = tuple(items)
        self._cache: dict[tuple, tuple[ModelParams, Metric]] = {}

    def __repr__(self) -> str:
        return f"Timeline({[r.name for r in self.ordered()]})"

    def __len__(self) -> int:
        return len(self.reforms)

    def __iter__(self):
        return iter(self.reforms)

    def __getitem__(self, name: str) -> Reform:
        for r in self.reforms:
            if r.name == name:
                return r
        raise ParameterError("reform", name, f"one of {', '.join(self.names)}")

    @property
    def names(self) -> tuple[str, ...]:
        """Reform names in list order."""
        return tuple(r.name for r in self.reforms)

    # -- building -----------------------------------------------------------------
    def with_reform(self, reform: Reform) -> Timeline:
        """A new timeline with ``reform`` appended (or replacing one of the same name)."""
        items = [reform if r.name == reform.name else r for r in self.reforms]
        if reform.name not in self.names:
            items.append(reform)
        return Timeline(items)

    def without(self, *names: str) -> Timeline:
        """A new timeline without the named reforms."""
        for n in names:
            self[n]  # raises for an unknown name
        return Timeline(r for r in self.reforms if r.name not in names)

    def replace(self, name: str, **changes: Any) -> Timeline:
        """A new timeline in which reform ``name`` has some fields changed."""
        return self.with_reform(self[name].replace(**changes))

    # -- composition ----------------------------------------------------------------
    def ordered(self) -> list[Reform]:
        """Reforms in composition order: priority, then start month, then list position."""
        indexed = sorted(
            enumerate(self.reforms), key=lambda ir: (ir[1].priority, ir[1].start, ir[0])
        )
        return [r for _, r in indexed]

    def in_effect(self, month: Any) -> list[tuple[Reform, float]]:
        """Reforms in effect in ``month`` with their weight, in composition order."""
        m = as_month(month)
        out = []
        for r in self.ordered():
            w = r.weight(m)
            if w > 0:
                out.append((r, w))
        return out

    def active(self, month: Any) -> list[str]:
        """Names of the reforms inside their window in ``month``, in composition order."""
        m = as_month(month)
        return [r.name for r in self.ordered() if r.active(m)]

    def resolve(
        self,
        params: ModelParams,
        metric: str | Metric,
        month: Any,
        case_type: str | None = None,
    ) -> tuple[ModelParams, Metric]:
        """Parameters and metric in effect in ``month``.

        Parameters
        ----------
        params : ModelParams
            Values before any reform.
        metric : str or Metric
            Metric before any reform.
        month : str or pandas.Period
            The calendar month.
        case_type : str, optional
            Resolve for this case type only: the returned parameters hold that
            type alone (share 1), and changes scoped to it (``TYPE.audit_prob``,
            ``TYPE.solved``) apply. Without it, a type-scoped change of a
            model-wide parameter or of a metric weight raises ParameterError.

        Returns
        -------
        ModelParams, Metric
            The metric is named after the base metric and the reforms in effect.
        """
        metric = get_metric(metric)
        m = as_month(month)
        effect = self.in_effect(m)
        key = (params, metric, case_type, tuple((r.name, r, w) for r, w in effect))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if case_type is not None:
            ct = params.case_type(case_type)
        values = params.to_dict()
        weights = {k: v for k, v in metric.to_dict().items() if k != "name"}
        for reform, w in effect:
            for k, change in reform.params.items():
                scope, name = _split_key(k)
                if scope is not None and scope not in params.type_names:
                    raise ParameterError(
                        f"reform '{reform.name}'.params.{k}",
                        scope,
                        f"a case type among {', '.join(params.type_names)}",
                    )
                if scope is not None and name in _WIDE_ONLY:
                    if case_type is None:
                        raise ParameterError(
                            f"reform '{reform.name}'.params.{k}",
                            change,
                            "a model-wide change here; a change for one case type needs "
                            "simulate_timeline (which runs the types one by one)",
                        )
                    if scope != case_type:
                        continue
                    k = name
                current = values[k]
                if current is None and scope is not None:  # per-type audit unset: model-wide
                    current = values[name]
                values[k] = _apply(float(current), change, w)
            for k, change in reform.metric.items():
                scope, name = _split_key(k)
                if scope is not None:
                    if scope not in params.type_names:
                        raise ParameterError(
                            f"reform '{reform.name}'.metric.{k}",
                            scope,
                            f"a case type among {', '.join(params.type_names)}",
                        )
                    if case_type is None:
                        raise ParameterError(
                            f"reform '{reform.name}'.metric.{k}",
                            change,
                            "a change for all types here; a change for one case type needs "
                            "simulate_timeline",
                        )
                    if scope != case_type:
                        continue
                current = weights[name]
                weights[name] = _apply(0.0 if current is None else float(current), change, w)
        try:
            new_params = params.updated(values)
            names = [r.name for r, _ in effect]
            label = metric.name if not names else f"{metric.name} + {' + '.join(names)}"
            new_metric = Metric(name=label, **weights)
        except ParameterError as exc:
            who = ", ".join(r.name for r, _ in effect) or "no reform"
            raise ParameterError(
                f"{exc.name} in {m} (reforms in effect: {who})", exc.value, exc.allowed
            ) from None
        if case_type is not None:
            ct = new_params.case_type(case_type)
            new_params = dataclasses.replace(
                new_params, case_types=(dataclasses.replace(ct, share=1.0),)
            )
        self._cache[key] = (new_params, new_metric)
        return new_params, new_metric

    def needs_split(self) -> bool:
        """True when some change is scoped to one case type and is model-wide or a metric weight."""
        for r in self.reforms:
            for k in r.params:
                scope, name = _split_key(k)
                if scope is not None and name in _WIDE_ONLY:
                    return True
            if any("." in k for k in r.metric):
                return True
        return False

    def schedule(
        self, params: ModelParams, metric: str | Metric, case_type: str | None = None
    ) -> Callable[[int, pd.Period], tuple[ModelParams, Metric]]:
        """A ``schedule(t, month)`` for :func:`tipresearch.simulate.simulate`.

        With ``case_type`` the schedule is for a one-type run (see :meth:`resolve`).
        """
        metric = get_metric(metric)

        def schedule(t: int, month: pd.Period) -> tuple[ModelParams, Metric]:
            return self.resolve(params, metric, month, case_type)

        return schedule

    def to_frame(self) -> pd.DataFrame:
        """One row per reform in composition order: window, persist, priority, changes."""
        rows = []
        for r in self.ordered():
            rows.append(
                {
                    "reform": r.name,
                    "start": str(r.start),
                    "end": "" if r.end is None else str(r.end),
                    "persist": r.persist,
                    "priority": r.priority,
                    "params": _changes_text(r.params),
                    "metric": _changes_text(r.metric),
                    "source": r.source,
                }
            )
        return pd.DataFrame(rows)


def _changes_text(changes: Mapping[str, Any]) -> str:
    parts = []
    for k, v in changes.items():
        if isinstance(v, dict):
            ((op, x),) = v.items()
            sign = {"times": " ×", "plus": " +", "at_least": " ≥ ", "at_most": " ≤ "}[op]
            parts.append(f"{k}{sign}{x:g}")
        else:
            parts.append(f"{k} = {v:g}")
    return "; ".join(parts)


# ---------------------------------------------------------------------------- YAML


def reforms_from_dict(data: Any, prefix: str = "") -> list[Reform]:
    """Build reforms from plain data: ``{"reforms": [{"name": ..., "start": ...}, ...]}``.

    Parameters
    ----------
    data : mapping
        As read from YAML.
    prefix : str
        Put before the key in error messages (the file name).

    Raises
    ------
    ParameterError
        Naming the entry and key that is missing, unknown or not allowed
        (``reforms[1].start``).
    """
    if not isinstance(data, Mapping) or set(data) != {"reforms"}:
        keys = sorted(map(str, data)) if isinstance(data, Mapping) else type(data).__name__
        raise ParameterError(f"{prefix}top level", keys, "a mapping with the single key 'reforms'")
    entries = data["reforms"]
    if not isinstance(entries, list) or not entries:
        raise ParameterError(f"{prefix}reforms", entries, "a non-empty list of reforms")
    out = []
    for i, entry in enumerate(entries):
        here = f"{prefix}reforms[{i}]"
        if not isinstance(entry, Mapping):
            raise ParameterError(here, entry, "a mapping with keys " + ", ".join(REFORM_KEYS))
        for key in entry:
            if key not in REFORM_KEYS:
                raise ParameterError(
                    f"{here}.{key}", entry[key], f"a reform key among {', '.join(REFORM_KEYS)}"
                )
        for key in ("name", "start"):
            if entry.get(key) is None:
                raise ParameterError(f"{here}.{key}", None, "a value (the key is required)")
        if not entry.get("params") and not entry.get("metric"):
            raise ParameterError(
                f"{here}.params", None, "at least one change under 'params' or 'metric'"
            )
        kwargs = dict(entry)
        kwargs["params"] = kwargs.get("params") or {}
        kwargs["metric"] = kwargs.get("metric") or {}
        try:
            out.append(Reform(**kwargs))
        except ParameterError as exc:
            name = exc.name.replace(f"reform '{entry['name']}'", here)
            raise ParameterError(name, exc.value, exc.allowed) from None
    return out


def load_reforms(path: str | os.PathLike) -> list[Reform]:
    """Read reforms from a YAML file (safe loader).

    The file holds one key, ``reforms``, a list of reforms with the keys of
    :class:`Reform` (:data:`REFORM_KEYS`)::

        reforms:
          - name: provincial_dna_drive
            start: 2012-03
            end: 2012-12
            params:
              children.dna_effect: 0.3
              audit_prob: {times: 1.5}
            metric:
              solved: {times: 1.2}

    Raises
    ------
    ParameterError
        Naming the file, the entry and the key at fault
        (``my.yaml:reforms[0].strat``).
    FileNotFoundError
        If the file does not exist.
    """
    import yaml

    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "the file"
        raise ParameterError(path.name, f"YAML error at {where}", "valid YAML") from None
    return reforms_from_dict(data, prefix=f"{path.name}: ")


# ---------------------------------------------------------------------------- simulation


def _type_seed(seed: int, k: int) -> int:
    """A seed for case type ``k`` derived from the root seed (independent streams)."""
    return int(np.random.SeedSequence([int(seed), 7919, k]).generate_state(1, np.uint32)[0])


def simulate_timeline(
    timeline: Timeline,
    params: ModelParams,
    metric: str | Metric,
    *,
    start: Any = "2008-01",
    end: Any = "2008-12",
    seed: int = 0,
    dynamics: Dynamics | None = None,
    bureaus: Any = None,
    split: bool | None = None,
) -> pd.DataFrame:
    """Simulate intake month by month with the reforms of a timeline in effect.

    Parameters
    ----------
    timeline : Timeline
        Reforms.
    params : ModelParams
        Values before any reform (bureaus are drawn from them).
    metric : str or Metric
        Metric before any reform.
    start, end : str or pandas.Period
        First and last month (inclusive).
    seed : int
        Root seed: the same seed gives the same frame, and timelines run with the
        same seed (and the same ``split``) share bureaus and report draws
        (common random numbers).
    dynamics : Dynamics, optional
        Partial adjustment, learning and deterrence.
    bureaus : tipresearch.simulate.Bureaus, optional
        Common bureaus (all types together); by default drawn from ``params`` and
        ``seed`` as :func:`~tipresearch.simulate.simulate` draws them.
    split : bool, optional
        Run each case type on its own (needed when a reform scopes a metric
        weight or a model-wide parameter to one type; types do not interact in
        the model, since best responses, backlogs, learning and deterrence are per
        bureau and type). Default: only when the timeline needs it
        (:meth:`Timeline.needs_split`). Split runs draw each type from a seed
        derived from ``seed``, so they do not share draws with unsplit runs.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`tipresearch.simulate.simulate`, one row per month,
        bureau and case type.

    References
    ----------
    Model brief, "Dynamics and reforms".
    """
    from .simulate import Bureaus, _check_seed, draw_bureaus, simulate

    seed = _check_seed(seed)
    first = as_month(start, "start")
    last = as_month(end, "end")
    if last < first:
        raise ParameterError("end", str(last), f"a month not before start {first}")
    periods = (last - first).n + 1
    metric = get_metric(metric)
    if split is None:
        split = timeline.needs_split()
    elif not split and timeline.needs_split():
        raise ParameterError(
            "split", split, "True (a reform scopes a metric weight or model-wide field to a type)"
        )
    if not split:
        schedule = timeline.schedule(params, metric)
        return simulate(
            params,
            schedule(0, first)[1],
            periods,
            seed,
            start=str(first),
            schedule=schedule,
            dynamics=dynamics,
            bureaus=bureaus,
        )
    if bureaus is None:
        bureaus = draw_bureaus(params, np.random.SeedSequence(seed).spawn(2)[0])
    frames = []
    for k, ct in enumerate(params.case_types):
        one = dataclasses.replace(params, case_types=(dataclasses.replace(ct, share=1.0),))
        b_k = Bureaus(bureaus.reports * ct.share, bureaus.capacity * ct.share)
        schedule = timeline.schedule(params, metric, ct.name)
        frames.append(
            simulate(
                one,
                schedule(0, first)[1],
                periods,
                _type_seed(seed, k),
                start=str(first),
                schedule=schedule,
                dynamics=dynamics,
                bureaus=b_k,
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out["case_type"] = pd.Categorical(
        out["case_type"].astype(str), categories=list(params.type_names)
    )
    out = out.sort_values(["period", "bureau", "case_type"], kind="stable").reset_index(drop=True)
    out.attrs.update(seed=seed, metric=metric.name, engine="aggregate", split=True)
    return out
