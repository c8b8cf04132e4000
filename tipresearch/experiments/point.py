"""The model at one point of a sweep: its settings, its parameters, its outputs, its seeds.

:class:`ModelSettings` is what every point of a sweep shares: the base model and
how it is run. :func:`build_point` turns a point's values into model parameters, a
metric and run settings; :func:`check_levers` checks every parameter of a space
against them before any point runs. :func:`model_point` runs the model once at a
point, the default ``evaluate`` of :func:`tipresearch.experiments.sweep.run_sweep`;
:func:`point_seed` gives each run its seed from the root seed and the run's
(point, replication) only.

Output of one run of the model (:func:`point_outputs`): means over periods of the
per-period totals over bureaus (reports, opened, solved, victims rescued) and of
the per-period rates (intake rate, clearance rate, unrecorded share), overall and
by case type, as :func:`tipresearch.model.engines.summarise` defines them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
import pandas as pd

from tipresearch.errors import ParameterError
from tipresearch.model import (
    ENGINES,
    Dynamics,
    Metric,
    ModelParams,
    expected_totals_many,
    get_metric,
    metric_names,
    simulate,
)

from .space import ParameterSpace, check_keys

__all__ = [
    "OUTPUTS",
    "RUN_SETTINGS",
    "ModelSettings",
    "build_point",
    "check_levers",
    "model_point",
    "model_points",
    "point_outputs",
    "point_seed",
]

#: Outputs of one model run (also by case type, as ``NAME_TYPE``).
OUTPUTS = (
    "reports",
    "opened",
    "solved",
    "rescued",
    "intake_rate",
    "clearance_rate",
    "unrecorded_share",
)
#: Run settings that can be parameters of a space, besides model parameters,
#: ``metric.WEIGHT`` and ``dynamics.FIELD``.
RUN_SETTINGS = ("metric", "periods")

_METRIC_WEIGHTS = tuple(f.name for f in dataclasses.fields(Metric) if f.name != "name")
_DYNAMICS = tuple(f.name for f in dataclasses.fields(Dynamics))


def _whole(name: str, value: Any, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lo:
        raise ParameterError(name, value, f"a whole number >= {lo}")
    return int(value)


# --------------------------------------------------------------------------- model settings


@dataclass(frozen=True)
class ModelSettings:
    """What every point of a sweep shares: the base model and how it is run.

    Parameters
    ----------
    params : mapping
        Changes to the default :class:`~tipresearch.model.params.ModelParams` (``TYPE.field``
        for case types), e.g. ``{"n_bureaus": 100}``.
    metric : str or mapping
        Base metric: a preset name or ``{weight: value}`` (see
        :func:`~tipresearch.model.metrics.get_metric`). Parameters ``metric.WEIGHT`` change
        its weights point by point.
    engine : {"aggregate", "micro", "expected"}
        How counts are made (:func:`tipresearch.model.simulate`); ``expected`` takes
        each count's expectation (``docs/model.md``, §3.3.14), and a sweep then
        evaluates the points of a task together (:func:`model_points`).
    periods : int
        Monthly periods per run (>= 1).
    start : str
        Calendar month of the first period.
    dynamics : mapping
        Fields of :class:`~tipresearch.model.dynamics.Dynamics` (``adjust_rate``,
        ``learning_rate``, ``deterrence``, ...); parameters ``dynamics.FIELD`` change
        them point by point.
    """

    params: Mapping[str, Any] = field(default_factory=dict)
    metric: str | Mapping[str, Any] = "clearance_rate"
    engine: str = "aggregate"
    periods: int = 60
    start: str = "2008-01"
    dynamics: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.params, Mapping):
            raise ParameterError("model.params", self.params, "a mapping {name: value}")
        object.__setattr__(self, "params", dict(self.params))
        if isinstance(self.metric, Mapping):
            object.__setattr__(self, "metric", dict(self.metric))
        get_metric(self.metric)  # raises for an unknown preset or weight
        if self.engine not in ENGINES:
            raise ParameterError("model.engine", self.engine, f"one of {', '.join(ENGINES)}")
        _whole("model.periods", self.periods, 1)
        if not isinstance(self.dynamics, Mapping):
            raise ParameterError("model.dynamics", self.dynamics, "a mapping {field: value}")
        object.__setattr__(self, "dynamics", dict(self.dynamics))
        check_keys("model.dynamics", self.dynamics, _DYNAMICS)
        Dynamics(**self.dynamics)  # raises for a bad value
        if not isinstance(self.start, str):
            raise ParameterError("model.start", self.start, "a month such as '2008-01'")
        _ = self.base_params  # raises for an unknown or bad parameter

    @cached_property
    def base_params(self) -> ModelParams:
        """The default parameters with :attr:`params` applied."""
        return ModelParams().updated(self.params) if self.params else ModelParams()

    @cached_property
    def base_metric(self) -> Metric:
        """The base metric."""
        return get_metric(self.metric)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (the ``model`` entry of a spec)."""
        return {
            "metric": self.metric,
            "engine": self.engine,
            "periods": self.periods,
            "start": self.start,
            "params": dict(self.params),
            "dynamics": dict(self.dynamics),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ModelSettings:
        """Build from a spec's ``model`` entry; unknown keys are refused."""
        data = data or {}
        check_keys("model", data, ("metric", "engine", "periods", "start", "params", "dynamics"))
        return cls(**data)


def build_point(
    settings: ModelSettings, values: Mapping[str, Any]
) -> tuple[ModelParams, Metric, dict[str, Any]]:
    """Parameters, metric and run settings of one point.

    Parameters
    ----------
    settings : ModelSettings
        The base model.
    values : mapping
        ``{name: value}``: model parameters (``audit_prob``, ``children.dna_effect``),
        metric weights ``metric.WEIGHT`` (applied to the base metric, or to the
        preset chosen by a ``metric`` parameter, with ``dataclasses.replace``), the
        dynamics ``dynamics.FIELD`` and the run length ``periods``.

    Returns
    -------
    params : ModelParams
    metric : Metric
    run : dict
        ``{"periods": int, "dynamics": Dynamics}``.

    Raises
    ------
    ParameterError
        For an unknown name or a value the model does not allow.
    """
    changes: dict[str, Any] = {}
    weights: dict[str, Any] = {}
    run: dict[str, Any] = {"periods": settings.periods}
    dynamics = dict(settings.dynamics)
    metric: Any = settings.metric
    for name, value in values.items():
        if isinstance(value, np.generic):
            value = value.item()
        if name == "metric":
            metric = value
        elif name.startswith("metric."):
            weight = name.split(".", 1)[1]
            if weight not in _METRIC_WEIGHTS:
                raise ParameterError(name, value, f"metric.WEIGHT, WEIGHT among {_METRIC_WEIGHTS}")
            weights[weight] = value
        elif name == "periods":
            run["periods"] = _whole("periods", value, 1)
        elif name.startswith("dynamics."):
            key = name.split(".", 1)[1]
            if key not in _DYNAMICS:
                raise ParameterError(name, value, f"dynamics.FIELD, FIELD among {_DYNAMICS}")
            dynamics[key] = value
        else:
            changes[name] = value
    m = get_metric(metric)
    if weights:
        m = m.weighted(**weights)
    params = settings.base_params.updated(changes) if changes else settings.base_params
    run["dynamics"] = Dynamics(**dynamics) if dynamics else None
    return params, m, run


def check_levers(space: ParameterSpace, settings: ModelSettings) -> None:
    """Check that every parameter of ``space`` is one the model knows, at its extremes.

    Each parameter is set alone, at each of its bounds (or each choice), on the
    base model; this catches a misspelt name or a bound outside what the model
    allows before any point runs.

    Raises
    ------
    ParameterError
        Naming the parameter and the value that is not allowed.
    """
    top = [n for n in ModelParams.settable() if not n.startswith("TYPE.")]
    per_type = [
        f"{t}.{n[5:]}"
        for t in settings.base_params.type_names
        for n in ModelParams.settable()
        if n.startswith("TYPE.")
    ]
    known = set(top) | set(per_type) | set(RUN_SETTINGS)
    known |= {f"metric.{w}" for w in _METRIC_WEIGHTS} | {f"dynamics.{d}" for d in _DYNAMICS}
    for p in space.parameters:
        if p.name not in known:
            raise ParameterError(
                "parameters",
                p.name,
                "a model parameter ("
                + ", ".join(top + per_type)
                + "), a metric weight ("
                + ", ".join(f"metric.{w}" for w in _METRIC_WEIGHTS)
                + "), dynamics ("
                + ", ".join(f"dynamics.{d}" for d in _DYNAMICS)
                + ") or a run setting ("
                + ", ".join(RUN_SETTINGS)
                + ")",
            )
        if p.name == "metric" and p.dist != "choice":
            raise ParameterError(
                "parameters.metric", p.dist, f"dist choice, among {', '.join(metric_names())}"
            )
        for value in p.extremes():
            try:
                build_point(settings, {p.name: value})
            except ParameterError as exc:
                raise ParameterError(
                    f"parameters.{p.name}",
                    value,
                    f"values the model accepts ({exc.allowed})",
                ) from exc


# --------------------------------------------------------------------------- one run


def _period_sums(frame: pd.DataFrame, columns: Iterable[str]) -> tuple[dict, list[str]]:
    t = frame["period"].to_numpy(dtype=np.int64)
    t = t - t.min()
    case = frame["case_type"]
    if isinstance(case.dtype, pd.CategoricalDtype):
        codes = case.cat.codes.to_numpy(dtype=np.int64)
        names = [str(c) for c in case.cat.categories]
    else:
        names_arr, codes = np.unique(case.to_numpy(dtype=str), return_inverse=True)
        names = [str(c) for c in names_arr]
    n_t, n_k = int(t.max()) + 1, len(names)
    key = t * n_k + codes
    sums = {
        c: np.bincount(key, weights=frame[c].to_numpy(dtype=float), minlength=n_t * n_k).reshape(
            n_t, n_k
        )
        for c in columns
    }
    return sums, names


def point_outputs(frame: pd.DataFrame) -> dict[str, float]:
    """Summary outputs of one simulation: means over periods, overall and by case type.

    Parameters
    ----------
    frame : pandas.DataFrame
        A frame from :func:`tipresearch.model.engines.simulate`.

    Returns
    -------
    dict
        :data:`OUTPUTS` and ``NAME_TYPE`` for each case type: the mean over periods
        of the period's totals over bureaus (``reports``, ``opened``, ``solved``,
        ``rescued`` = victims rescued) and of the period's ``intake_rate`` (opened /
        reports), ``clearance_rate`` (solved / opened) and ``unrecorded_share``
        (declined / reports), periods where a rate is undefined left out. These are
        the column means of ``summarise(frame, by_type=...)``, computed without a
        group-by.

    References
    ----------
    :func:`tipresearch.model.engines.summarise`; ``docs/model.md``, section 3.5 "Outputs".
    """
    cols = ("reports", "opened", "declined", "solved", "victims_rescued")
    sums, names = _period_sums(frame, cols)
    return _outputs_from_sums(sums, names)


def _outputs_from_sums(sums: Mapping[str, np.ndarray], names: list[str]) -> dict[str, float]:
    """:func:`point_outputs` from per-period totals, each shaped (periods, types)."""
    return _outputs_from_stacked({c: np.asarray(v)[None] for c, v in sums.items()}, names)[0]


def _outputs_from_stacked(
    sums: Mapping[str, np.ndarray], names: list[str]
) -> list[dict[str, float]]:
    """:func:`point_outputs` of many runs from their totals, each (runs, periods, types).

    All types together and each type are the columns of one array per count, so that
    each output of every run is one mean over the periods axis.
    """
    cols = ("reports", "opened", "declined", "solved", "victims_rescued")
    s = {c: np.concatenate([sums[c].sum(axis=2, keepdims=True), sums[c]], axis=2) for c in cols}
    with np.errstate(invalid="ignore", divide="ignore"):
        rep = np.where(s["reports"] > 0, s["reports"], np.nan)
        opn = np.where(s["opened"] > 0, s["opened"], np.nan)
        values = {
            "reports": s["reports"].mean(axis=1),
            "opened": s["opened"].mean(axis=1),
            "solved": s["solved"].mean(axis=1),
            "rescued": s["victims_rescued"].mean(axis=1),
            "intake_rate": _nanmean(s["opened"] / rep),
            "clearance_rate": _nanmean(s["solved"] / opn),
            "unrecorded_share": _nanmean(s["declined"] / rep),
        }
    keys = [
        (f"{name}{suffix}", name, j)
        for j, suffix in enumerate(["", *(f"_{n}" for n in names)])
        for name in values
    ]
    # one row of floats per run, in the order of keys
    table = np.stack([values[name][:, j] for _, name, j in keys], axis=1).tolist()
    labels = [key for key, _, _ in keys]
    return [dict(zip(labels, row, strict=True)) for row in table]


def _nanmean(x: np.ndarray) -> np.ndarray:
    """Means of ``x`` over its periods axis (1) leaving out NaN; NaN where none is left."""
    valid = ~np.isnan(x)
    count = valid.sum(axis=1)
    total = np.where(valid, x, 0.0).sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def model_point(values: Mapping[str, Any], seed: int, settings: ModelSettings) -> dict[str, float]:
    """Run the model once at a point and return its outputs (:func:`point_outputs`).

    This is the default ``evaluate`` of :func:`run_sweep`: any function with the
    signature ``evaluate(values, seed, settings) -> {output: float}`` can take its
    place. It is :func:`model_points` with one run, so that a run gives the same
    outputs alone or in a batch.
    """
    (out,) = model_points([values], [seed], settings)
    if isinstance(out, Exception):
        raise out
    return out


def model_points(
    points: Sequence[Mapping[str, Any]], seeds: Sequence[int], settings: ModelSettings
) -> list[dict[str, float] | Exception]:
    """Run the model at many points in one call: the batched form of :func:`model_point`.

    With the expected-value engine and no feedback (no learning, deterrence or effort
    shared with the backlog), the runs' outputs come from
    :func:`tipresearch.model.expected_totals_many`: the totals of
    ``simulate(engine="expected")`` over bureaus, computed without its frame, with
    every bureau of every run in one array after each run's own threshold search, and
    the outputs as means over one stacked array per count. Otherwise each run is
    simulated into a frame and summarised (:func:`point_outputs`). A sweep's task
    calls this once for all its runs (``model_point.batch``), so the per-run overhead
    of frames and calls is paid once per task. A run's outputs do not depend on the
    other runs of the call (``tests/test_batched_points.py``); a run that fails is its
    own error.

    Parameters
    ----------
    points : sequence of mapping
        Each run's values (a point repeated for its replications).
    seeds : sequence of int
        Each run's seed.
    settings : ModelSettings

    Returns
    -------
    list
        Per run, its outputs (:func:`point_outputs`), or the exception it raised.
    """
    if len(points) != len(seeds):
        raise ParameterError("seeds", len(seeds), f"one seed per point ({len(points)})")
    out: list[dict[str, float] | Exception | None] = [None] * len(points)
    # runs the expected engine sums without a frame, grouped by their length and types
    groups: dict[tuple[int, tuple[str, ...]], list[tuple[int, ModelParams, Metric]]] = {}
    for i, (values, seed) in enumerate(zip(points, seeds, strict=True)):
        try:
            params, metric, run = build_point(settings, values)
            dynamics = run["dynamics"]
            if settings.engine == "expected" and (dynamics is None or not dynamics.has_feedback):
                key = (run["periods"], params.type_names)
                groups.setdefault(key, []).append((i, params, metric))
            else:
                frame = simulate(
                    params,
                    metric,
                    run["periods"],
                    int(seed),
                    settings.engine,
                    start=settings.start,
                    dynamics=dynamics,
                )
                out[i] = point_outputs(frame)
        except Exception as exc:  # noqa: BLE001 - recorded with its run by the caller
            out[i] = exc
    for (periods, names), members in groups.items():
        runs = [(params, metric) for _, params, metric in members]
        done = _expected_runs(runs, [int(seeds[i]) for i, _, _ in members], periods, names)
        for (i, _, _), outputs in zip(members, done, strict=True):
            out[i] = outputs
    return out  # type: ignore[return-value]


def _expected_runs(
    runs: list[tuple[ModelParams, Metric]],
    seeds: list[int],
    periods: int,
    names: tuple[str, ...],
) -> list[dict[str, float] | Exception]:
    """Outputs of runs of the expected engine, together; a run that fails is its own error.

    If the runs fail together, each is run alone, so that the others keep their outputs.
    """
    try:
        totals = expected_totals_many(runs, seeds, periods)
    except Exception as exc:  # noqa: BLE001 - recorded with its run by the caller
        if len(runs) == 1:
            return [exc]
        return [
            _expected_runs([run], [seed], periods, names)[0]
            for run, seed in zip(runs, seeds, strict=True)
        ]
    return _outputs_from_stacked(totals, list(names))


model_point.batch = model_points  # type: ignore[attr-defined]


def point_seed(root_seed: int, point: int, replication: int, common: bool = False) -> int:
    """The seed of one run, from the root seed and the run's place in the design only.

    ``SeedSequence(root_seed, spawn_key=(point, replication)).generate_state(1)[0]``;
    with ``common=True`` the key is ``(replication,)`` alone, so every point of a
    replication shares its random numbers (common random numbers).
    """
    if common:  # the same for every point: kept per (root seed, replication)
        return _common_seed(int(root_seed), int(replication))
    key = (int(point), int(replication))
    return int(np.random.SeedSequence(int(root_seed), spawn_key=key).generate_state(1)[0])


@lru_cache(maxsize=256)
def _common_seed(root_seed: int, replication: int) -> int:
    """:func:`point_seed` with ``common=True``, computed once per (root seed, replication)."""
    key = (replication,)
    return int(np.random.SeedSequence(root_seed, spawn_key=key).generate_state(1)[0])
