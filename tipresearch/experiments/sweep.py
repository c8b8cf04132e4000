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

A sweep's spec (:class:`SweepSpec`, :func:`load_spec`) is in
:mod:`tipresearch.experiments.spec`, the model at one point (:class:`ModelSettings`,
:func:`model_point`, :func:`point_outputs`, :func:`point_seed`) in
:mod:`tipresearch.experiments.point`; both are importable from this module as well.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tipresearch.errors import DataFileError, ParameterError
from tipresearch.io import atomic_write, write_text

from .executors import _DRIVERS, KEY_COLUMNS, TAIL_COLUMNS, Task, resolve_executor
from .point import (
    _whole,
    check_levers,
    model_point,
)
from .space import Design, ParameterSpace
from .spec import SweepSpec, load_spec
from .store import (
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
    "Sweep",
    "SweepSummary",
    "open_sweep",
    "run_sweep",
    "saved_or_run",
    "scaled_spec",
]


_FORMAT = 1


# --------------------------------------------------------------------------- identity

#: How the default ``evaluate`` is named in a sweep's identity. The name is the module path
#: the function had when sweep folders were first written; it is kept as it is so that the
#: digests of existing sweep folders stay the same and they still resume.
_MODEL_POINT = "tipresearch.sweep:model_point"


def _identity(spec: SweepSpec, evaluate: Callable, settings: Any) -> dict[str, Any]:
    ident = spec.identity()
    if evaluate is model_point:
        ident["evaluate"] = _MODEL_POINT
    else:
        ident["evaluate"] = f"{evaluate.__module__}:{evaluate.__qualname__}"
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
