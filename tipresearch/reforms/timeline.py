"""Timelines: reforms composed into a monthly schedule, and simulations with them.

A :class:`Timeline` holds reforms (:class:`~tipresearch.reforms.reform.Reform`) and
resolves the parameters and metric in effect in a month; its :meth:`Timeline.schedule`
drives :func:`tipresearch.model.engines.simulate`. :func:`simulate_timeline` simulates
intake month by month with a timeline's reforms in effect, running the case types
one by one when a reform scopes a model-wide field or a metric weight to one type.

Composition order
-----------------
In a given month the reforms in effect are applied one after the other, ordered
by ``priority`` (lower first), then start month, then their position in the
timeline's list. Each change acts on the value left by the reforms before it: a
later absolute value replaces an earlier one, multipliers and additions compound.
An unset per-type audit starts from the model-wide value.

Calendar
--------
Periods are calendar months. The bureaus are drawn once per simulation: a reform
may scale every bureau's incidence and capacity through ``reports_mean`` and
``capacity_ratio``, but not change ``n_bureaus``, ``reports_sigma``,
``capacity_sigma`` or the case types' ``share``.

References
----------
``docs/model.md``, §3.3.12 "Schedules and reforms" and §3.3.11 "Partial
adjustment, learning by doing and deterrence".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from tipresearch.checks import check_seed
from tipresearch.errors import ParameterError
from tipresearch.model import (
    Bureaus,
    Dynamics,
    Metric,
    ModelParams,
    draw_bureaus,
    get_metric,
    simulate,
)

from .reform import _WIDE_ONLY, Reform, as_month

__all__ = ["Timeline", "simulate_timeline"]


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
        """A ``schedule(t, month)`` for :func:`tipresearch.model.engines.simulate`.

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
    engine: str = "aggregate",
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
    bureaus : tipresearch.model.engines.Bureaus, optional
        Common bureaus (all types together); by default drawn from ``params`` and
        ``seed`` as :func:`~tipresearch.model.engines.simulate` draws them.
    split : bool, optional
        Run each case type on its own (needed when a reform scopes a metric
        weight or a model-wide parameter to one type; types do not interact in
        the model, since best responses, backlogs, learning and deterrence are per
        bureau and type). Default: only when the timeline needs it
        (:meth:`Timeline.needs_split`). Split runs draw each type from a seed
        derived from ``seed``, so they do not share draws with unsplit runs.
    engine : {"aggregate", "micro", "expected"}
        As in :func:`~tipresearch.model.engines.simulate`.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`tipresearch.model.engines.simulate`, one row per month,
        bureau and case type.

    References
    ----------
    ``docs/model.md``, §3.3.12 "Schedules and reforms".
    """
    seed = check_seed(seed)
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
            engine=engine,
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
                engine=engine,
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out["case_type"] = pd.Categorical(
        out["case_type"].astype(str), categories=list(params.type_names)
    )
    out = out.sort_values(["period", "bureau", "case_type"], kind="stable").reset_index(drop=True)
    out.attrs.update(seed=seed, metric=metric.name, engine=engine, split=True)
    return out
