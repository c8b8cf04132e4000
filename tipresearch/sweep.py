"""Sweeps: evaluate the model over a design, with replications, on one worker or many.

A sweep is described by a :class:`SweepSpec` (plain data, read from YAML): a
parameter space, a design method, the model settings, the number of replications
and one root seed. Each run's seed is derived from the root seed and the run's
(point, replication) only, through :class:`numpy.random.SeedSequence`, so the
results are the same on one worker or many and in any order.

Points are grouped into tasks of consecutive points. Each finished task's rows are
written to their own Parquet part file, ``parts/points-START-STOP.parquet``
(atomically, named by the point range), so memory stays flat however many points
there are, and an interrupted sweep resumes by skipping the points whose part
files exist: none is lost and none is run twice. ``manifest.json`` (the spec, the
design method and a digest of both) and ``design.parquet`` (every point, in values
and unit coordinates) are written first; resuming with a different spec is refused,
and a lock file (``.lock``) keeps a second sweep from writing to the same folder.

A point whose evaluation raises is recorded with its error (its outputs missing)
and the sweep goes on. Executors: ``inprocess``; ``processes`` (a local process
pool; the tasks of a worker that dies are retried); ``dask`` (``distributed``:
a ``LocalCluster`` by default, or an existing scheduler, whose own retry of a dead
worker's tasks applies).

Output of one run of the model (:func:`point_outputs`): means over periods of the
per-period totals over bureaus (reports, opened, solved, victims rescued) and of
the per-period rates (intake rate, clearance rate, unrecorded share), overall and
by case type, as :func:`tipresearch.simulate.summarise` defines them.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .dynamics import Dynamics
from .errors import DataFileError, ParameterError
from .executors import _DRIVERS, Task, resolve_executor, run_task
from .io import atomic_write, write_text
from .metrics import Metric, get_metric, metric_names
from .params import ModelParams
from .simulate import ENGINES, simulate
from .space import Design, ParameterSpace, check_keys, read_yaml, sample
from .sweep_store import (
    DESIGN,
    MANIFEST,
    PARTS,
    _code_version,
    _differences,
    _digest,
    _finished,
    _lock,
    _part_name,
    _read_design,
    _read_manifest,
    _write_design,
)

__all__ = [
    "EXECUTORS",
    "OUTPUTS",
    "ModelSettings",
    "Sweep",
    "SweepSpec",
    "SweepSummary",
    "Task",
    "build_point",
    "check_levers",
    "load_spec",
    "model_point",
    "open_sweep",
    "point_outputs",
    "point_seed",
    "run_sweep",
    "run_task",
    "saved_or_run",
    "scaled_spec",
]

#: Executors accepted by :func:`run_sweep` (``auto``: ``dask`` when a scheduler is
#: given, ``inprocess`` for one worker, else ``processes``).
EXECUTORS = ("auto", "inprocess", "processes", "dask")
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
#: Columns of every result row besides the parameters and outputs.
KEY_COLUMNS = ("point", "replication", "seed")
TAIL_COLUMNS = ("error", "seconds")

_FORMAT = 1
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
        Changes to the default :class:`~tipresearch.params.ModelParams` (``TYPE.field``
        for case types), e.g. ``{"n_bureaus": 100}``.
    metric : str or mapping
        Base metric: a preset name or ``{weight: value}`` (see
        :func:`~tipresearch.metrics.get_metric`). Parameters ``metric.WEIGHT`` change
        its weights point by point.
    engine : {"aggregate", "micro"}
    periods : int
        Monthly periods per run (>= 1).
    start : str
        Calendar month of the first period.
    dynamics : mapping
        Fields of :class:`~tipresearch.dynamics.Dynamics` (``adjust_rate``,
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
        m = dataclasses.replace(m, **weights)
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
        A frame from :func:`tipresearch.simulate.simulate`.

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
    :func:`tipresearch.simulate.summarise`; model brief, "Outputs".
    """
    cols = ("reports", "opened", "declined", "solved", "victims_rescued")
    sums, names = _period_sums(frame, cols)
    out: dict[str, float] = {}
    groups: list[tuple[str, Any]] = [("", None)] + [(f"_{n}", k) for k, n in enumerate(names)]
    with np.errstate(invalid="ignore", divide="ignore"):
        for suffix, k in groups:
            s = {c: (v.sum(axis=1) if k is None else v[:, k]) for c, v in sums.items()}
            rep = np.where(s["reports"] > 0, s["reports"], np.nan)
            opn = np.where(s["opened"] > 0, s["opened"], np.nan)
            values = {
                "reports": s["reports"].mean(),
                "opened": s["opened"].mean(),
                "solved": s["solved"].mean(),
                "rescued": s["victims_rescued"].mean(),
                "intake_rate": _nanmean(s["opened"] / rep),
                "clearance_rate": _nanmean(s["solved"] / opn),
                "unrecorded_share": _nanmean(s["declined"] / rep),
            }
            out.update({f"{name}{suffix}": float(v) for name, v in values.items()})
    return out


def _nanmean(x: np.ndarray) -> float:
    x = x[~np.isnan(x)]
    return float(x.mean()) if x.size else math.nan


def model_point(values: Mapping[str, Any], seed: int, settings: ModelSettings) -> dict[str, float]:
    """Run the model once at a point and return its outputs (:func:`point_outputs`).

    This is the default ``evaluate`` of :func:`run_sweep`: any function with the
    signature ``evaluate(values, seed, settings) -> {output: float}`` can take its
    place.
    """
    params, metric, run = build_point(settings, values)
    frame = simulate(
        params,
        metric,
        run["periods"],
        seed,
        settings.engine,
        start=settings.start,
        dynamics=run["dynamics"],
    )
    return point_outputs(frame)


def point_seed(root_seed: int, point: int, replication: int, common: bool = False) -> int:
    """The seed of one run, from the root seed and the run's place in the design only.

    ``SeedSequence(root_seed, spawn_key=(point, replication)).generate_state(1)[0]``;
    with ``common=True`` the key is ``(replication,)`` alone, so every point of a
    replication shares its random numbers (common random numbers).
    """
    key = (int(replication),) if common else (int(point), int(replication))
    return int(np.random.SeedSequence(int(root_seed), spawn_key=key).generate_state(1)[0])


# --------------------------------------------------------------------------- spec


@dataclass(frozen=True)
class SweepSpec:
    """A sweep as plain data.

    Parameters
    ----------
    space : ParameterSpace
        The parameters that vary.
    method : {"grid", "lhs", "sobol", "morris"}
        Design (see :func:`tipresearch.space.sample`).
    n : int, optional
        Points (lhs), base samples (sobol) or trajectories (morris).
    design_seed : int
        Seed of the design sampler.
    second_order, num_levels, levels
        Options of the sobol, morris and grid designs.
    replications : int
        Runs per point (>= 1), each with its own seed.
    seed : int
        Root seed of the runs (>= 0).
    common_seeds : bool
        Give every point of a replication the same seed (common random numbers).
    model : ModelSettings
        Base model and run settings.
    name, description : str
        For people; not part of the sweep's identity.
    batch_size : int, optional
        Points per task (not part of the identity; default chosen from the size).

    Examples
    --------
    A YAML spec::

        name: quick_grid
        parameters:
          metric.rate: {bounds: [0.0, 0.5]}
          audit_prob: {bounds: [0.0, 0.4]}
        design: {method: grid, levels: 5}
        model: {metric: clearance_rate, periods: 24, params: {n_bureaus: 20}}
        replications: 2
        seed: 7
    """

    space: ParameterSpace
    method: str = "sobol"
    n: int | None = None
    design_seed: int = 0
    second_order: bool = False
    num_levels: int = 4
    levels: int = 5
    replications: int = 1
    seed: int = 0
    common_seeds: bool = False
    model: ModelSettings = field(default_factory=ModelSettings)
    name: str = "sweep"
    description: str = ""
    batch_size: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.space, ParameterSpace):
            raise ParameterError("parameters", self.space, "a ParameterSpace")
        _whole("replications", self.replications, 1)
        _whole("seed", self.seed, 0)
        if not isinstance(self.common_seeds, bool):
            raise ParameterError("common_seeds", self.common_seeds, "true or false")
        if self.batch_size is not None:
            _whole("batch_size", self.batch_size, 1)
        if not isinstance(self.model, ModelSettings):
            raise ParameterError("model", self.model, "a ModelSettings")
        if not isinstance(self.name, str) or not self.name:
            raise ParameterError("name", self.name, "a non-empty string")
        self.design()  # checks the design options

    def design(self) -> Design:
        """Draw the design (the same for the same spec)."""
        return _cached_design(self)

    def design_options(self) -> dict[str, Any]:
        """The ``design`` entry: method and the options that method uses."""
        out: dict[str, Any] = {"method": self.method}
        if self.method == "grid":
            out["levels"] = self.levels
        else:
            out.update(n=self.n, seed=self.design_seed)
        if self.method == "sobol":
            out["second_order"] = self.second_order
        if self.method == "morris":
            out["num_levels"] = self.num_levels
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as in a YAML spec."""
        out: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "parameters": self.space.to_dict(),
            "design": self.design_options(),
            "model": self.model.to_dict(),
            "replications": self.replications,
            "seed": self.seed,
            "common_seeds": self.common_seeds,
        }
        if self.batch_size is not None:
            out["batch_size"] = self.batch_size
        return out

    def identity(self) -> dict[str, Any]:
        """What makes two sweeps the same: everything but name, description, batch size."""
        d = self.to_dict()
        for key in ("name", "description", "batch_size"):
            d.pop(key, None)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SweepSpec:
        """Build from plain data; unknown keys at any level are refused by name."""
        top = (
            "name",
            "description",
            "parameters",
            "design",
            "model",
            "replications",
            "seed",
            "common_seeds",
            "batch_size",
        )
        check_keys("spec", data, top)
        if "parameters" not in data:
            raise ParameterError("parameters", None, "a mapping of the parameters that vary")
        design = dict(data.get("design") or {})
        check_keys(
            "design", design, ("method", "n", "seed", "second_order", "num_levels", "levels")
        )
        kw: dict[str, Any] = {
            "space": ParameterSpace.from_dict(data["parameters"]),
            "model": ModelSettings.from_dict(data.get("model")),
        }
        renames = {"seed": "design_seed"}
        for key, value in design.items():
            kw[renames.get(key, key)] = value
        for key in ("name", "description", "replications", "seed", "common_seeds", "batch_size"):
            if key in data:
                kw[key] = data[key]
        return cls(**kw)


_DESIGNS: dict[str, Design] = {}


def _cached_design(spec: SweepSpec) -> Design:
    key = json.dumps({"p": spec.space.to_dict(), "d": spec.design_options()}, sort_keys=True)
    if key not in _DESIGNS:
        opts = spec.design_options()
        method = opts.pop("method")
        seed = opts.pop("seed", 0)
        n = opts.pop("n", None)
        if len(_DESIGNS) > 8:
            _DESIGNS.clear()
        _DESIGNS[key] = sample(spec.space, method, n, seed=seed, **opts)
    return _DESIGNS[key]


def load_spec(path: str | os.PathLike) -> SweepSpec:
    """Read a sweep spec from YAML (safe loader); a missing ``name`` is the file's stem."""
    data = read_yaml(path, "spec")
    data.setdefault("name", Path(path).stem)
    return SweepSpec.from_dict(data)


# --------------------------------------------------------------------------- identity


def _identity(spec: SweepSpec, evaluate: Callable, settings: Any) -> dict[str, Any]:
    ident = spec.identity()
    ident["evaluate"] = f"{evaluate.__module__}:{evaluate.__qualname__}"
    if evaluate is not model_point:
        ident["settings"] = json.loads(json.dumps(settings, default=repr))
        ident.pop("model", None)
    return ident


# --------------------------------------------------------------------------- running


@dataclass(frozen=True)
class SweepSummary:
    """What one call of :func:`run_sweep` did."""

    out: str
    points: int
    replications: int
    skipped: int
    evaluated: int
    failed_runs: int
    seconds: float
    executor: str
    workers: int

    def line(self) -> str:
        """One line for people."""
        rate = self.evaluated / self.seconds if self.seconds > 0 else math.nan
        return (
            f"{self.points} points x {self.replications} replication(s): "
            f"{self.evaluated} run now ({rate:.0f}/s), {self.skipped} already done, "
            f"{self.failed_runs} failed run(s); {self.seconds:.1f} s on {self.workers} "
            f"{self.executor} worker(s); results in {self.out}"
        )


def _auto_batch(points: int, workers: int) -> int:
    """Points per task: about four tasks per worker, between 1 and 100 points."""
    return max(1, min(100, math.ceil(points / (4 * workers))))


def _tasks(
    design: Design,
    todo: np.ndarray,
    batch: int,
    spec: SweepSpec,
    evaluate: Callable,
    settings: Any,
) -> Iterator[Task]:
    """Tasks over the points still to do: runs of consecutive points, cut into batches."""
    idx = np.flatnonzero(todo)
    if idx.size == 0:
        return
    breaks = np.flatnonzero(np.diff(idx) != 1) + 1
    for run in np.split(idx, breaks):
        for lo in range(int(run[0]), int(run[-1]) + 1, batch):
            hi = min(lo + batch, int(run[-1]) + 1)
            yield Task(
                lo,
                hi,
                tuple(design.values.iloc[lo:hi].to_dict("records")),
                spec.replications,
                spec.seed,
                spec.common_seeds,
                evaluate,
                settings,
            )


def run_sweep(
    spec: SweepSpec | str | os.PathLike,
    out: str | os.PathLike,
    *,
    executor: str = "auto",
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    batch_size: int | None = None,
    progress: bool = True,
    evaluate: Callable[[Mapping[str, Any], int, Any], Mapping[str, float]] | None = None,
    settings: Any = None,
    retries: int = 3,
) -> SweepSummary:
    """Evaluate a sweep, writing its results to ``out`` as they come.

    Parameters
    ----------
    spec : SweepSpec or path-like
        The sweep, or a YAML file holding it.
    out : path-like
        Results folder: ``manifest.json``, ``design.parquet`` and ``parts/``.
    executor : {"auto", "inprocess", "processes", "dask"}
        Where the tasks run (see :func:`resolve_executor`).
    workers : int, optional
        Worker processes (default: the number of CPUs); for ``dask`` without a
        scheduler, the workers of the ``LocalCluster``.
    scheduler : str, optional
        Address of a running Dask scheduler (default: ``DASK_SCHEDULER_ADDRESS``).
    resume : bool
        Continue the sweep already in ``out``: points with results are skipped.
        Without it, a folder that already holds a sweep is refused.
    batch_size : int, optional
        Points per task (default: the spec's, else about four tasks per worker, at
        most 100 points).
    progress : bool
        Show a progress bar on standard error.
    evaluate : callable, optional
        ``evaluate(values, seed, settings) -> {output: float}``, a module-level
        function (so that worker processes can import it); default
        :func:`model_point` with ``settings = spec.model``.
    settings : any
        Passed to ``evaluate`` (must pickle); part of the sweep's identity.
    retries : int
        Times a task whose worker died is tried again (``processes`` and ``dask``).

    Returns
    -------
    SweepSummary

    Raises
    ------
    ParameterError
        Before anything runs: for a bad spec or option, a parameter the model does
        not know, a folder holding another sweep (or the same one without
        ``resume``).
    """
    if not isinstance(spec, SweepSpec):
        spec = load_spec(spec)
    if evaluate is None:
        evaluate, settings = model_point, spec.model
        check_levers(spec.space, spec.model)
    if not callable(evaluate):
        raise ParameterError("evaluate", evaluate, "a function evaluate(values, seed, settings)")
    executor, workers, scheduler = resolve_executor(executor, workers, scheduler)
    retries = _whole("retries", retries, 0)
    if batch_size is not None:
        batch_size = _whole("batch_size", batch_size, 1)

    root = Path(out)
    manifest_path, design_path, parts = root / MANIFEST, root / DESIGN, root / PARTS
    identity = _identity(spec, evaluate, settings)
    digest = _digest(identity)
    lock = _lock(root)
    try:
        if manifest_path.exists():
            manifest = _read_manifest(root)
            if manifest.get("digest") != digest:
                diff = _differences(manifest.get("identity", {}), identity)
                raise ParameterError(
                    "spec",
                    spec.name,
                    f"the spec of the sweep already in {root} to resume it (it differs in: "
                    f"{'; '.join(diff[:6]) or 'its digest'}); choose another --out for this spec",
                )
            if not resume:
                done = sum(b - a for a, b, _ in _finished(parts))
                raise ParameterError(
                    "out",
                    str(root),
                    f"a folder without a sweep: it holds this sweep with {done} of "
                    f"{manifest.get('points')} points done; add --resume to finish it",
                )
            design = _read_design(design_path, spec)
        else:
            if _finished(parts):
                raise ParameterError(
                    "out",
                    str(root),
                    "a new folder or one holding a whole sweep (it has part files but no "
                    "manifest.json)",
                )
            design = spec.design()
            _write_design(design_path, design)
            manifest = {
                "format": _FORMAT,
                "digest": digest,
                "identity": identity,
                "spec": spec.to_dict(),
                "points": len(design),
                "replications": spec.replications,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "code": _code_version(),
            }
            write_text(manifest_path, json.dumps(manifest, indent=2, default=repr) + "\n")

        parts.mkdir(parents=True, exist_ok=True)
        for stale in parts.glob(".points-*.tmp"):  # left by a run killed mid-write
            stale.unlink(missing_ok=True)
        n_points = len(design)
        todo = np.ones(n_points, dtype=bool)
        for a, b, _ in _finished(parts):
            todo[a:b] = False
        remaining = int(todo.sum())
        batch = batch_size or spec.batch_size or _auto_batch(remaining, workers)
        tasks = _tasks(design, todo, batch, spec, evaluate, settings)

        from tqdm import tqdm

        start = time.perf_counter()
        failed = 0
        evaluated = 0
        bar = tqdm(
            total=n_points,
            initial=n_points - remaining,
            unit="pt",
            desc=spec.name,
            disable=not progress,
            file=sys.stderr,
            mininterval=0.5,
            dynamic_ncols=True,
        )
        try:
            if remaining:
                for task, frame in _DRIVERS[executor](tasks, workers, scheduler, retries):
                    path = parts / _part_name(task.start, task.stop)
                    atomic_write(path, lambda p, f=frame: f.to_parquet(p, index=False))
                    failed += int(frame["error"].notna().sum())
                    evaluated += task.stop - task.start
                    bar.update(task.stop - task.start)
                    if failed:
                        bar.set_postfix(failed=failed, refresh=False)
        finally:
            bar.close()
        return SweepSummary(
            str(root),
            n_points,
            spec.replications,
            n_points - remaining,
            evaluated,
            failed,
            time.perf_counter() - start,
            executor,
            workers,
        )
    finally:
        lock.close()


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Sweep:
    """A sweep's folder, opened for reading (see :func:`open_sweep`)."""

    out: Path
    spec: SweepSpec
    design: Design
    manifest: dict[str, Any]

    @property
    def points(self) -> int:
        """Points in the design."""
        return len(self.design)

    def parts(self) -> list[Path]:
        """Part files, in point order."""
        return [p for _, _, p in _finished(self.out / PARTS)]

    def done(self) -> np.ndarray:
        """Boolean mask over points: True where results exist."""
        mask = np.zeros(self.points, dtype=bool)
        for a, b, _ in _finished(self.out / PARTS):
            mask[a:b] = True
        return mask

    @property
    def complete(self) -> bool:
        """True when every point has results."""
        return bool(self.done().all())

    def results(self) -> pd.DataFrame:
        """Every run: one row per (point, replication), sorted.

        Raises
        ------
        DataFileError
            When two part files hold the same point (the folder was altered by hand).
        """
        frames = [pd.read_parquet(p) for p in self.parts()]
        if not frames:
            cols = [*KEY_COLUMNS, *self.spec.space.names, *TAIL_COLUMNS]
            return pd.DataFrame(columns=cols)
        frame = pd.concat(frames, ignore_index=True)
        dup = frame.duplicated(["point", "replication"])
        if dup.any():
            first = frame.loc[dup, "point"].iloc[0]
            raise DataFileError(
                str(self.out / PARTS), None, "point", f"point {first} appears in two part files"
            )
        frame = frame.sort_values(["point", "replication"], ignore_index=True)
        tail = [c for c in TAIL_COLUMNS if c in frame]
        return frame[[c for c in frame if c not in tail] + tail]

    @property
    def outputs(self) -> list[str]:
        """Output columns found in the results."""
        import pyarrow.parquet as pq

        names = set(KEY_COLUMNS) | set(self.spec.space.names) | set(TAIL_COLUMNS)
        found: dict[str, None] = {}
        for part in self.parts():
            found.update(dict.fromkeys(c for c in pq.read_schema(part).names if c not in names))
        return list(found)

    def point_means(self, outputs: Iterable[str] | None = None) -> pd.DataFrame:
        """Outputs averaged over replications, one row per design point (index ``point``).

        A point without results, or with a failed replication, has missing outputs.
        """
        res = self.results()
        outs = list(outputs) if outputs is not None else self.outputs
        missing = [o for o in outs if o not in res]
        if missing:
            raise ParameterError("output", missing, f"outputs of this sweep: {self.outputs}")
        if res.empty:
            return pd.DataFrame(index=pd.RangeIndex(self.points, name="point"), columns=outs)
        values = res[outs].astype(float)
        means = values.groupby(res["point"]).mean()
        means = means.mask(values.isna().groupby(res["point"]).any())
        return means.reindex(pd.RangeIndex(self.points, name="point"))

    def failures(self) -> pd.DataFrame:
        """Rows of runs that raised: point, replication, seed, parameters and error."""
        res = self.results()
        if "error" not in res:
            return res.iloc[:0]
        bad = res[res["error"].notna()]
        keep = [*KEY_COLUMNS, *self.spec.space.names, "error"]
        return bad[keep].reset_index(drop=True)


def open_sweep(out: str | os.PathLike) -> Sweep:
    """Open a sweep's results folder.

    Raises
    ------
    FileNotFoundError
        When ``out`` holds no ``manifest.json``.
    """
    root = Path(out)
    if not (root / MANIFEST).is_file():
        raise FileNotFoundError(f"{root}: no sweep here ({MANIFEST} is missing)")
    manifest = _read_manifest(root)
    spec = SweepSpec.from_dict(manifest["spec"])
    return Sweep(root, spec, _read_design(root / DESIGN, spec), manifest)


# --------------------------------------------------------------------------- notebooks


def scaled_spec(
    spec: SweepSpec | str | os.PathLike,
    *,
    n: int | None = None,
    levels: int | None = None,
    periods: int | None = None,
    n_bureaus: int | None = None,
    replications: int | None = None,
) -> SweepSpec:
    """A smaller (or larger) version of a sweep: same parameters, other sizes.

    Parameters
    ----------
    spec : SweepSpec or path-like
    n : int, optional
        Points, base samples or trajectories of the design.
    levels : int, optional
        Grid values per parameter (replaces the parameters' own ``levels``).
    periods, n_bureaus : int, optional
        Run length and number of bureaus of the model.
    replications : int, optional
        Runs per point.
    """
    if not isinstance(spec, SweepSpec):
        spec = load_spec(spec)
    changes: dict[str, Any] = {}
    if n is not None:
        changes["n"] = n
    if levels is not None:
        levels = _whole("levels", levels, 2)
        params = tuple(
            dataclasses.replace(p, levels=levels) if p.levels is not None else p
            for p in spec.space.parameters
        )
        changes.update(levels=levels, space=ParameterSpace(params))
    if replications is not None:
        changes["replications"] = replications
    model = spec.model
    if periods is not None:
        model = dataclasses.replace(model, periods=periods)
    if n_bureaus is not None:
        model = dataclasses.replace(model, params={**model.params, "n_bureaus": n_bureaus})
    return dataclasses.replace(spec, model=model, **changes)


def saved_or_run(
    saved: str | os.PathLike | None,
    spec: SweepSpec,
    cache: str | os.PathLike,
    **run: Any,
) -> tuple[Sweep, str]:
    """Open a finished sweep, or run a (small) one in its place: what notebooks call.

    Parameters
    ----------
    saved : path-like or None
        Results of a heavy sweep run from the command line. Used when it exists, is
        complete and has the same design method and parameters as ``spec``.
    spec : SweepSpec
        The sweep to run otherwise.
    cache : path-like
        Folder for it: the run goes to ``cache/NAME-DIGEST`` (the digest of the spec
        and of the code's version and commit), so a rerun with the same spec and code
        reuses (or finishes) it.
    **run
        Passed to :func:`run_sweep` (``executor``, ``workers``, ``progress``, ...).

    Returns
    -------
    sweep : Sweep
    source : str
        ``"saved"`` or ``"run"``.
    """
    if saved is not None and (Path(saved) / MANIFEST).is_file():
        sw = open_sweep(saved)
        same = sw.spec.method == spec.method and sw.spec.space.names == spec.space.names
        if same and sw.complete:
            return sw, "saved"
    evaluate = run.get("evaluate") or model_point
    ident = _identity(spec, evaluate, run.get("settings") or spec.model)
    digest = _digest({**ident, "code": _code_version()})
    out = Path(cache) / f"{spec.name}-{digest[:10]}"
    run_sweep(spec, out, resume=True, **run)
    return open_sweep(out), "run"
