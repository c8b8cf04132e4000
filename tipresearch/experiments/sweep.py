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
and unit coordinates; for a grid, its axes, its points made from them one task at a
time) are written first; resuming with a different spec is refused, and a lock file
(``.lock``) keeps a second sweep from writing to the same folder.

A point whose evaluation raises is recorded with its error (its outputs missing)
and the sweep goes on. Executors: ``inprocess``; ``processes`` (a local process
pool; the tasks of a worker that dies are retried); ``dask`` (``distributed``:
a ``LocalCluster`` by default, or an existing scheduler, whose own retry of a dead
worker's tasks applies).

:func:`run_sweep` goes through five steps, each a function of this module: parse
the call into plain data (:func:`_plan`), open or create the folder
(:func:`_open_folder`), work out the points left to do (:func:`_left_to_do`), run
them in tasks (:func:`tipresearch.experiments.executors._tasks`) and store their parts
(:func:`_run_parts`), and summarise (:class:`SweepSummary`).

A sweep's spec (:class:`SweepSpec`, :func:`load_spec`) is in
:mod:`tipresearch.experiments.spec`, the model at one point (:class:`ModelSettings`,
:func:`model_point`, :func:`point_outputs`, :func:`point_seed`) in
:mod:`tipresearch.experiments.point`, the folder's files in
:mod:`tipresearch.experiments.store` and the reading of a finished or partial sweep
(:class:`Sweep`, :func:`open_sweep`) in :mod:`tipresearch.experiments.results`; the
spec, a smaller version of it (:func:`scaled_spec`) and the reading are importable from
this module as well.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tipresearch.checks import check_output_folder, check_size, nearest_existing
from tipresearch.errors import DataFileError, ParameterError
from tipresearch.io import write_text
from tipresearch.model import ModelParams, frame_bytes

from .design import Design, check_design_size
from .executors import _DRIVERS, Task, _auto_batch, _tasks, check_scheduler, resolve_executor
from .point import _whole, check_levers, model_point
from .results import Sweep, open_sweep
from .spec import SweepSpec, load_spec, scaled_spec
from .store import (
    DESIGN,
    MANIFEST,
    PARTS,
    _check_parts,
    _code_version,
    _differences,
    _digest,
    _finished,
    _lock,
    _read_design,
    _read_manifest,
    _set_aside,
    _write_design,
    _write_part,
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

#: The signature of an ``evaluate`` function: ``evaluate(values, seed, settings)``.
Evaluate = Callable[[Mapping[str, Any], int, Any], Mapping[str, float]]


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


# --------------------------------------------------------------------------- summary


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
    damaged_parts: int = 0

    def line(self) -> str:
        """One line for people."""
        rate = self.evaluated / self.seconds if self.seconds > 0 else math.nan
        damaged = (
            f" ({self.damaged_parts} damaged part(s) set aside and run again)"
            if self.damaged_parts
            else ""
        )
        return (
            f"{self.points} points x {self.replications} replication(s): "
            f"{self.evaluated} run now ({rate:.0f}/s){damaged}, {self.skipped} already done, "
            f"{self.failed_runs} failed run(s); {self.seconds:.1f} s on {self.workers} "
            f"{self.executor} worker(s); results in {self.out}"
        )


# --------------------------------------------------------------------------- step 1: the plan


@dataclass(frozen=True)
class _Plan:
    """One call of :func:`run_sweep`, parsed and checked: plain data for the steps after."""

    spec: SweepSpec
    root: Path
    evaluate: Evaluate
    settings: Any
    identity: dict[str, Any]
    digest: str
    executor: str
    workers: int
    scheduler: str | None
    retries: int
    batch_size: int | None

    @property
    def parts(self) -> Path:
        """The folder of part files."""
        return self.root / PARTS


#: Bytes one run holds in memory until its task's part is written (its row as a dict,
#: then in the task's frame), with a margin.
RUN_BYTES = 2048
#: Bytes one run takes in a part file, at least (its key columns alone, compressed).
RUN_DISK_BYTES = 24


def _check_sizes(spec: SweepSpec, out: Path, batch_size: int | None) -> None:
    """Refuse a sweep whose design, tasks or results cannot fit, before any is made.

    Raises
    ------
    ParameterError
        Naming the option, the estimate and the limit: the design's memory
        (:func:`tipresearch.experiments.design.design_points`), one task's runs in
        memory (a task holds every replication of its points), and the results on
        the disk that holds ``out``.
    """
    import shutil

    points = check_design_size(
        spec.space, spec.method, spec.n, second_order=spec.second_order, levels=spec.levels
    )
    periods = _whole("model.periods", spec.model.periods, 1)
    try:
        params = ModelParams().updated(dict(spec.model.params))
        bureaus, types = params.n_bureaus, len(params.case_types)
    except ParameterError:  # named when the sweep checks its levers
        bureaus, types = 1, 1
    for par in spec.space.parameters:  # a swept number of bureaus: its largest value
        if par.name == "n_bureaus" and par.bounds is not None:
            bureaus = max(bureaus, int(max(par.bounds)))
    rows = bureaus * types * periods
    check_size(
        "model.periods", periods, frame_bytes(bureaus, types, periods), f"one run's {rows:,} rows"
    )
    batch = min(batch_size or spec.batch_size or 100, points)
    runs = batch * spec.replications
    check_size("replications", spec.replications, runs * RUN_BYTES, f"one task's {runs:,} runs")
    here = nearest_existing(out)
    try:
        free = shutil.disk_usage(here).free
    except OSError:
        return
    needed = points * spec.replications * RUN_DISK_BYTES
    if needed > free:
        raise ParameterError(
            "replications",
            spec.replications,
            f"a sweep whose results fit on disk: {points * spec.replications:,} runs need at "
            f"least {needed / 2**30:,.1f} GiB, and {here} has {free / 2**30:,.1f} GiB free",
        )


def _plan(
    spec: SweepSpec | str | os.PathLike,
    out: str | os.PathLike,
    *,
    executor: str,
    workers: int | None,
    scheduler: str | None,
    retries: int,
    batch_size: int | None,
    evaluate: Evaluate | None,
    settings: Any,
) -> _Plan:
    """Read the spec once and check every option, before anything is written.

    Raises
    ------
    ParameterError
        For a bad spec or option, or a parameter the model does not know.
    """
    if not isinstance(spec, SweepSpec):
        spec = load_spec(spec)
    if evaluate is None:
        evaluate, settings = model_point, spec.model
        check_levers(spec.space, spec.model)
    if not callable(evaluate):
        raise ParameterError("evaluate", evaluate, "a function evaluate(values, seed, settings)")
    executor, workers, scheduler = resolve_executor(executor, workers, scheduler)
    if executor == "dask" and scheduler:
        check_scheduler(scheduler)
    retries = _whole("retries", retries, 0)
    if batch_size is not None:
        batch_size = _whole("batch_size", batch_size, 1)
    check_output_folder("out", out)
    _check_sizes(spec, Path(out), batch_size)
    identity = _identity(spec, evaluate, settings)
    return _Plan(
        spec=spec,
        root=Path(out),
        evaluate=evaluate,
        settings=settings,
        identity=identity,
        digest=_digest(identity),
        executor=executor,
        workers=workers,
        scheduler=scheduler,
        retries=retries,
        batch_size=batch_size,
    )


# --------------------------------------------------------------------------- step 2: the folder


def _open_folder(plan: _Plan, resume: bool) -> Design:
    """The sweep's design, from its folder, which is checked or created.

    A folder with a manifest must hold this sweep (same digest), and is continued only
    with ``resume``; its design is read back. A folder without one must have no part
    files; the design is drawn and written there with a new manifest. Temporary files
    left by a run killed while writing a part are removed.

    Raises
    ------
    ParameterError
        For a folder holding another sweep, the same one without ``resume``, or part
        files without a manifest.
    """
    root, spec = plan.root, plan.spec
    if (root / MANIFEST).exists():
        manifest = _read_manifest(root)
        if manifest.get("digest") != plan.digest:
            diff = _differences(manifest.get("identity", {}), plan.identity)
            raise ParameterError(
                "spec",
                spec.name,
                f"the spec of the sweep already in {root} to resume it (it differs in: "
                f"{'; '.join(diff[:6]) or 'its digest'}); choose another --out for this spec",
            )
        if not resume:
            done = sum(b - a for a, b, _ in _finished(plan.parts))
            raise ParameterError(
                "out",
                str(root),
                f"a folder without a sweep: it holds this sweep with {done} of "
                f"{manifest.get('points')} points done; add --resume to finish it",
            )
        design = _read_design(root / DESIGN, spec)
        if len(design) != manifest.get("points"):
            raise DataFileError(
                str(root / DESIGN),
                None,
                None,
                f"{len(design)} points, where the manifest has {manifest.get('points')}",
            )
    else:
        if _finished(plan.parts):
            raise ParameterError(
                "out",
                str(root),
                "a new folder or one holding a whole sweep (it has part files but no "
                "manifest.json)",
            )
        design = spec.design()
        _write_design(root / DESIGN, design)
        _write_manifest(plan, len(design))
    plan.parts.mkdir(parents=True, exist_ok=True)
    for stale in plan.parts.glob(".points-*.tmp"):  # left by a run killed mid-write
        stale.unlink(missing_ok=True)
    return design


def _write_manifest(plan: _Plan, points: int) -> None:
    """Write ``manifest.json``: the spec, its identity and digest, sizes and provenance."""
    manifest = {
        "format": _FORMAT,
        "digest": plan.digest,
        "identity": plan.identity,
        "spec": plan.spec.to_dict(),
        "points": points,
        "replications": plan.spec.replications,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "code": _code_version(),
    }
    write_text(plan.root / MANIFEST, json.dumps(manifest, indent=2, default=repr) + "\n")


# --------------------------------------------------------------------------- step 3: what is left


def _left_to_do(plan: _Plan, points: int) -> tuple[np.ndarray, list[str]]:
    """Points left to do, and what was found wrong with the part files.

    Every part file is checked (:func:`tipresearch.experiments.store._check_parts`); a
    damaged one is set aside in ``parts/damaged/`` and its points are left to do.

    Returns
    -------
    todo : ndarray of bool
        Over the design's points: True where no whole part file holds results.
    damaged : list of str
        One line per part set aside: its name, what was wrong and where it went.
    """
    todo = np.ones(points, dtype=bool)
    damaged = []
    for a, b, path, problem in _check_parts(plan.parts, points, plan.spec.replications):
        if problem is None:
            todo[a:b] = False
            continue
        moved = _set_aside(path)
        damaged.append(f"{path.name}: {problem}; set aside as {moved.relative_to(plan.root)}")
    return todo, damaged


# --------------------------------------------------------------------------- step 4: run, store


def _store_part(parts: Path, task: Task, frame: pd.DataFrame) -> None:
    """Write one finished task's rows to its part file and record, atomically."""
    _write_part(parts, task.start, task.stop, frame, task.replications)


def _run_parts(plan: _Plan, design: Design, todo: np.ndarray, progress: bool) -> tuple[int, int]:
    """Run the points left to do, task by task, storing each task's part as it finishes.

    Returns
    -------
    evaluated : int
        Points run now.
    failed : int
        Runs among them that raised.
    """
    from tqdm import tqdm

    n_points, remaining = len(design), int(todo.sum())
    spec = plan.spec
    batch = (
        plan.batch_size
        or spec.batch_size
        or partial(_auto_batch, workers=plan.workers, executor=plan.executor)
    )
    tasks = _tasks(design, todo, batch, spec, plan.evaluate, plan.settings)
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
            driver = _DRIVERS[plan.executor]
            for task, frame in driver(tasks, plan.workers, plan.scheduler, plan.retries):
                _store_part(plan.parts, task, frame)
                failed += int(frame["error"].notna().sum())
                evaluated += task.stop - task.start
                bar.update(task.stop - task.start)
                if failed:
                    bar.set_postfix(failed=failed, refresh=False)
    finally:
        bar.close()
    return evaluated, failed


# --------------------------------------------------------------------------- the sweep


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
    evaluate: Evaluate | None = None,
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
        Points per task (default: the spec's, else a quarter of each worker's share of
        the points left, between 25 and 400 points, 100 on Dask).
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
    plan = _plan(
        spec,
        out,
        executor=executor,
        workers=workers,
        scheduler=scheduler,
        retries=retries,
        batch_size=batch_size,
        evaluate=evaluate,
        settings=settings,
    )
    lock = _lock(plan.root)
    try:
        design = _open_folder(plan, resume)
        todo, damaged = _left_to_do(plan, len(design))
        for line in damaged:
            print(f"sweep: damaged part {line}; its points run again", file=sys.stderr)
        start = time.perf_counter()
        evaluated, failed = _run_parts(plan, design, todo, progress)
        return SweepSummary(
            str(plan.root),
            len(design),
            plan.spec.replications,
            len(design) - int(todo.sum()),
            evaluated,
            failed,
            time.perf_counter() - start,
            plan.executor,
            plan.workers,
            len(damaged),
        )
    finally:
        lock.close()


# --------------------------------------------------------------------------- notebooks


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
