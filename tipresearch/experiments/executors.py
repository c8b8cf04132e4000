"""Executors: how the tasks of a sweep are run.

A sweep's points are grouped into :class:`Task` objects (consecutive points, each
run's seed derived by :func:`tipresearch.experiments.point.point_seed`); :func:`run_task`
evaluates every run of one task. The tasks run in-process (``inprocess``), in a
local process pool (``processes``: the tasks of a worker that dies are retried up
to ``retries`` times, then recorded as failed) or on Dask (``dask``, through
``distributed``: a ``LocalCluster`` by default, or an existing scheduler, whose own
retry of a dead worker's tasks applies). :func:`resolve_executor` works out which,
with how many workers.

Every driver yields ``(task, frame)`` pairs as tasks finish, in any order; the
results do not depend on the executor, since the seeds do not.

:func:`_tasks` cuts the points a sweep still has to run into tasks of at most a batch
of consecutive points (:func:`_auto_batch`: about four tasks per worker).

References
----------
``docs/model.md`` for the model each run evaluates; :mod:`tipresearch.experiments.sweep`
for the sweep itself (spec, storage and resume).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tipresearch.errors import ParameterError

from .design import Design
from .point import _whole, point_seed
from .spec import SweepSpec

__all__ = [
    "EXECUTORS",
    "KEY_COLUMNS",
    "TAIL_COLUMNS",
    "Task",
    "check_scheduler",
    "resolve_executor",
    "run_points",
    "run_task",
]

#: Executors accepted by :func:`tipresearch.experiments.sweep.run_sweep` (``auto``:
#: ``dask`` when a scheduler is given, ``inprocess`` for one worker, else ``processes``).
EXECUTORS = ("auto", "inprocess", "processes", "dask")
#: Columns of every result row besides the parameters and outputs.
KEY_COLUMNS = ("point", "replication", "seed")
TAIL_COLUMNS = ("error", "seconds")

_MAX_ERROR = 500

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- tasks


@dataclass(frozen=True)
class Task:
    """Consecutive points ``[start, stop)`` with their values, run on one worker.

    ``values`` may be left empty with the sweep's ``design`` given instead: the values
    are then read from the design where the task runs (:meth:`point_values`), as for
    the tasks a sweep cuts (:func:`_tasks`). A task sent to a Dask scheduler is kept
    there in its pickled and unpickled forms; with its values (about 18 KiB and 3,300
    objects for 400 points) a million-run sweep's scheduler grew by 270 KiB a task,
    with the design (1.3 KiB) it does not.
    """

    start: int
    stop: int
    values: tuple[dict[str, Any], ...]
    replications: int
    root_seed: int
    common_seeds: bool
    evaluate: Callable[[Mapping[str, Any], int, Any], Mapping[str, float]]
    settings: Any
    design: Design | None = None

    def point_values(self) -> tuple[dict[str, Any], ...]:
        """Each point's values: :attr:`values`, or else the design's rows."""
        if self.values or self.design is None:
            return self.values
        return tuple(self.design.rows(self.start, self.stop).to_dict("records"))


def run_task(task: Task) -> pd.DataFrame:
    """Evaluate every run of a task; one row per (point, replication).

    Columns: ``point``, ``replication``, ``seed``, the parameters, the outputs,
    ``error`` (``Name: message`` when the run raised, its outputs then missing) and
    ``seconds`` (the run's wall time). An ``evaluate`` with a ``batch`` attribute
    (``batch(values_list, seeds, settings)``, one result or exception per run, as
    :func:`tipresearch.experiments.point.model_points`) gets all the task's runs in
    one call; each run's ``seconds`` is then the call's time shared equally.
    """
    point_values = task.point_values()
    runs = [
        (point, rep, point_seed(task.root_seed, point, rep, task.common_seeds), values)
        for point, values in zip(range(task.start, task.stop), point_values, strict=True)
        for rep in range(task.replications)
    ]
    batch = getattr(task.evaluate, "batch", None)
    if callable(batch) and runs:
        t0 = time.perf_counter()
        results = list(batch([r[3] for r in runs], [r[2] for r in runs], task.settings))
        seconds = [(time.perf_counter() - t0) / len(runs)] * len(runs)
        if len(results) != len(runs):
            raise ParameterError(
                "evaluate.batch", len(results), f"one result per run ({len(runs)})"
            )
    else:
        results, seconds = [], []
        for _, _, seed, values in runs:
            t0 = time.perf_counter()
            try:
                results.append(task.evaluate(values, seed, task.settings))
            except Exception as exc:  # recorded with the point; the sweep goes on
                results.append(exc)
            seconds.append(time.perf_counter() - t0)
    rows: list[dict[str, Any]] = []
    outputs: dict[str, None] = {}
    for (point, rep, seed, values), result, secs in zip(runs, results, seconds, strict=True):
        row: dict[str, Any] = {"point": point, "replication": rep, "seed": seed, **values}
        try:
            if isinstance(result, Exception):
                raise result
            clash = [k for k in result if k in row or k in TAIL_COLUMNS]
            if clash:
                raise ParameterError("output", clash, "output names unlike parameter names")
            row.update({k: float(v) for k, v in result.items()})
            outputs.update(dict.fromkeys(result))
            row["error"] = None
        except Exception as exc:  # recorded with the point; the sweep goes on
            row["error"] = f"{type(exc).__name__}: {exc}"[:_MAX_ERROR]
        row["seconds"] = secs
        rows.append(row)
    columns = [*KEY_COLUMNS, *(point_values[0] if point_values else {}), *outputs, *TAIL_COLUMNS]
    frame = pd.DataFrame(rows, columns=columns)
    frame["error"] = frame["error"].astype(object)
    return frame


def _failed_frame(task: Task, error: str) -> pd.DataFrame:
    """Rows for a task that could not run at all (its worker kept dying)."""
    rows = [
        {
            "point": p,
            "replication": r,
            "seed": point_seed(task.root_seed, p, r, task.common_seeds),
            **v,
            "error": error[:_MAX_ERROR],
            "seconds": math.nan,
        }
        for p, v in zip(range(task.start, task.stop), task.point_values(), strict=True)
        for r in range(task.replications)
    ]
    return pd.DataFrame(rows)


#: Most points in a task the sweep cuts by itself, per executor. Each task costs the
#: main process about 5 ms on processes (its values, its part file and record) and a
#: worker about 3 ms, a tenth of 100 runs of the expected engine: on processes, tasks of
#: 400 points ran 9-15% more runs per second than tasks of 100, and tasks of 1,000 another
#: 1-4%. On Dask a task costs the main process (its scheduler) about 17 ms: 81,920 runs
#: ran at 2,438 runs/s with 100 points a task, 3,106-3,137 with 400 and 3,388-3,439
#: with 1,000 (``benchmarks/README.md``). A task of 1,000 points takes a worker about
#: half a second and 30-140 MB more memory than one of 400.
MAX_AUTO_BATCH = {"processes": 1000, "dask": 1000, "inprocess": 1000}
#: Fewest points in a task the sweep cuts by itself, unless fewer are left: the last
#: tasks are small, so that no worker is left with a long one while the others wait.
MIN_AUTO_BATCH = 25


def _auto_batch(points: int, workers: int, executor: str = "processes") -> int:
    """Points in the next task when ``points`` are left to cut: about a quarter of each
    worker's share, between :data:`MIN_AUTO_BATCH` and :data:`MAX_AUTO_BATCH` for the
    executor (guided self-scheduling: tasks shrink as the sweep nears its end)."""
    size = math.ceil(points / (4 * workers))
    return max(1, min(points, MAX_AUTO_BATCH[executor], max(MIN_AUTO_BATCH, size)))


def _tasks(
    design: Design,
    todo: np.ndarray,
    batch: int | Callable[[int], int],
    spec: SweepSpec,
    evaluate: Callable,
    settings: Any,
) -> Iterator[Task]:
    """Tasks over the points still to do: runs of consecutive points, cut into batches.

    ``batch`` is the points per task, or a function of the points left to cut that
    gives the next task's size (:func:`_auto_batch`). Each task carries the design,
    not its values: they are read where it runs (:meth:`Task.point_values`).
    """
    # runs of points to do, from the mask's edges only: nothing per point is made
    # beyond the mask, and each task's values are made where it runs (a grid's lazily)
    pad = np.zeros(1, dtype=np.int8)
    mask = np.ascontiguousarray(todo, dtype=bool).view(np.int8)
    edges = np.flatnonzero(np.diff(np.concatenate((pad, mask, pad))))
    left = int(np.sum(edges[1::2] - edges[::2]))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        lo = int(start)
        while lo < int(stop):
            size = batch(left) if callable(batch) else int(batch)
            hi = min(lo + size, int(stop))
            left -= hi - lo
            yield Task(
                lo,
                hi,
                (),
                spec.replications,
                spec.seed,
                spec.common_seeds,
                evaluate,
                settings,
                design,
            )
            lo = hi


# --------------------------------------------------------------------------- executors


def _run_inprocess(tasks: Iterable[Task], workers: int, scheduler: str | None, retries: int):
    for task in tasks:
        yield task, run_task(task)


def _worker_start(parent: int) -> None:
    """Start a pool worker: drop the parent's folder locks, and end with the parent.

    A worker that outlived its parent (killed with SIGKILL, which it cannot pass on)
    would go on running tasks nobody collects; a thread checks once a second that the
    parent is still there and ends the worker when it is not. Each worker's linear
    algebra runs on one thread (threadpoolctl, where installed): the workers are the
    parallelism, and threads on top of them oversubscribe the cores (a Monte Carlo of
    regressions ran 16 times slower on two workers without this).
    """
    import gc
    import threading

    from .store import close_inherited_locks

    close_inherited_locks()
    # what the worker inherits (the libraries the parent loaded) is never garbage: out
    # of the collector's sight, the collections the runs trigger stay small
    gc.freeze()
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # the model's runs use no threaded linear algebra
        pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _run_processes(tasks: Iterable[Task], workers: int, scheduler: str | None, retries: int):
    import concurrent.futures as cf
    import multiprocessing as mp
    from concurrent.futures.process import BrokenProcessPool

    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    ctx = mp.get_context(method)
    source = iter(tasks)
    again: deque[Task] = deque()
    attempts: dict[int, int] = {}
    window = 2 * workers

    def take() -> Task | None:
        return again.popleft() if again else next(source, None)

    def fill() -> bool:
        """Submit tasks until the window is full; True if the pool turned out broken."""
        while len(running) < window:
            task = take()
            if task is None:
                return False
            try:
                running[pool.submit(run_task, task)] = task
            except BrokenProcessPool:  # a worker died since the last wait
                again.appendleft(task)  # not tried yet: no attempt counted
                return True
        return False

    while True:
        pool = cf.ProcessPoolExecutor(
            max_workers=workers,
            mp_context=ctx,
            initializer=_worker_start,
            initargs=(os.getpid(),),
        )
        running: dict[cf.Future, Task] = {}
        broken = False
        try:
            while not broken:
                broken = fill()
                if not running and not broken:
                    return
                lost: list[Task] = []
                if not broken:
                    done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                    finished: list[tuple[Task, pd.DataFrame]] = []
                    for fut in done:
                        task = running.pop(fut)
                        try:
                            frame = fut.result()
                        except BrokenProcessPool:
                            broken = True
                            lost.append(task)
                            continue
                        except Exception as exc:  # the task itself failed to run
                            frame = _failed_frame(task, f"{type(exc).__name__}: {exc}")
                        finished.append((task, frame))
                    if not broken:  # the workers get their next tasks before the
                        broken = fill()  # caller stores these
                    yield from finished
                if broken:
                    # every task in flight is lost with the pool (which one killed it is
                    # unknown); each is tried again up to `retries` times
                    lost.extend(running.values())
                    running.clear()
                    for task in lost:
                        attempts[task.start] = attempts.get(task.start, 0) + 1
                        if attempts[task.start] > retries:
                            error = f"WorkerDied: worker process died {attempts[task.start]} times"
                            yield task, _failed_frame(task, error)
                        else:
                            log.warning("worker died; retrying points %d-%d", task.start, task.stop)
                            again.append(task)
        finally:
            pool.shutdown(wait=not broken, cancel_futures=True)


#: Heap trim and mmap thresholds of the workers of a Dask LocalCluster (bytes).
_DASK_HEAP = 32 * 1024**2


def _freeze_worker() -> None:
    """Load the model's modules on a Dask worker and put what it holds then out of the
    garbage collector's sight, as pool workers do (:func:`_worker_start`)."""
    import gc

    from . import point  # noqa: F401 - loaded before the freeze

    gc.freeze()


def _run_dask(tasks: Iterable[Task], workers: int, scheduler: str | None, retries: int):
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        import dask

        # Dask sets the workers' heap trim threshold (64 KiB by default), which also
        # fixes glibc's mmap threshold at 128 KiB: every array above that is then
        # mapped afresh and faulted in page by page. The model allocates many such
        # arrays, so both are raised to 32 MiB, the most glibc's own adjustment reaches
        # (a task of 400 points ran 2,961 runs/s with the old setting, 3,106-3,137 so).
        env = "distributed.nanny.pre-spawn-environ."
        heap = {
            env + "MALLOC_TRIM_THRESHOLD_": _DASK_HEAP,
            env + "MALLOC_MMAP_THRESHOLD_": _DASK_HEAP,
        }
        with dask.config.set(heap):
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
        client = Client(cluster)
    try:
        client.run(_freeze_worker)
        slots = sum(client.nthreads().values()) or workers
        source = iter(tasks)
        pending: dict[str, Task] = {}
        queue = as_completed()

        def submit() -> bool:
            task = next(source, None)
            if task is None:
                return False
            fut = client.submit(run_task, task, pure=False, retries=retries)
            pending[fut.key] = task
            queue.add(fut)
            return True

        for _ in range(2 * slots + 2):
            if not submit():
                break
        for fut in queue:
            task = pending.pop(fut.key)
            try:
                frame = fut.result()
            except Exception as exc:  # KilledWorker after repeated deaths, or a task error
                frame = _failed_frame(task, f"{type(exc).__name__}: {exc}")
            fut.release()
            submit()  # the workers get their next task before the caller stores this one
            yield task, frame
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


_DRIVERS = {"inprocess": _run_inprocess, "processes": _run_processes, "dask": _run_dask}


def resolve_executor(
    executor: str = "auto", workers: int | None = None, scheduler: str | None = None
) -> tuple[str, int, str | None]:
    """Work out the executor, the number of workers and the scheduler address.

    ``scheduler`` defaults to the ``DASK_SCHEDULER_ADDRESS`` environment variable;
    ``workers`` to the number of CPUs. ``auto`` picks ``dask`` when there is a
    scheduler address, ``inprocess`` for one worker, else ``processes``.

    Raises
    ------
    ParameterError
        For an unknown executor, ``workers < 1``, or a scheduler with an executor
        other than ``dask`` or ``auto``.
    """
    if executor not in EXECUTORS:
        raise ParameterError("executor", executor, f"one of {', '.join(EXECUTORS)}")
    if workers is not None:
        workers = _whole("workers", workers, 1)
    scheduler = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    if scheduler and executor not in ("auto", "dask"):
        raise ParameterError(
            "executor", executor, "dask (or auto) when a scheduler address is given"
        )
    n = workers or os.cpu_count() or 1
    if executor == "auto":
        executor = "dask" if scheduler else ("inprocess" if n == 1 else "processes")
    if executor == "inprocess":
        n = 1
    return executor, n, scheduler


#: Seconds allowed to reach a Dask scheduler before a sweep is refused.
SCHEDULER_TIMEOUT = 3.0


def check_scheduler(address: str, timeout: float = SCHEDULER_TIMEOUT) -> str:
    """Return ``address`` if a Dask scheduler there accepts a connection within ``timeout``.

    Checked before a sweep writes anything, so that an unreachable scheduler is one
    line within seconds rather than a traceback after the client's own 30 s.

    Raises
    ------
    ParameterError
        For an address that is not ``[tcp://]HOST:PORT``, or a scheduler that cannot
        be reached.
    """
    import socket
    from urllib.parse import urlsplit

    text = address if "://" in address else f"tcp://{address}"
    try:
        parts = urlsplit(text)
        scheme, host, port = parts.scheme, parts.hostname, parts.port
    except ValueError:  # a port that is not a number
        scheme, host, port = "", None, None
    if scheme not in ("tcp", "tls") or not host or port is None:
        raise ParameterError("scheduler", address, "a Dask scheduler address, tcp://HOST:PORT")
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ParameterError(
            "scheduler",
            address,
            f"a Dask scheduler that can be reached (no connection within {timeout:g} s: {reason})",
        ) from None
    return address


def _progress_bar(total: int, label: str):  # noqa: ANN202 - a tqdm bar
    """A progress bar on standard error (tqdm, from the collection's packages)."""
    import sys

    from tqdm import tqdm

    return tqdm(
        total=total, unit="pt", desc=label, file=sys.stderr, mininterval=0.5, dynamic_ncols=True
    )


def run_points(
    evaluate: Callable[[Mapping[str, Any], int, Any], Mapping[str, float]],
    points: Iterable[Mapping[str, Any]],
    settings: Any = None,
    *,
    root_seed: int = 0,
    executor: str = "auto",
    workers: int | None = None,
    scheduler: str | None = None,
    retries: int = 1,
    progress: bool = False,
    label: str = "points",
) -> pd.DataFrame:
    """Evaluate a few expensive points on the sweep executors; no results folder.

    For work such as refitting a model at each point, where each evaluation takes
    seconds to minutes: one point per task, so the points spread over the workers.
    A point that raises is recorded with its error, as in a sweep.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(values, seed, settings) -> {output: float}``, a module-level
        function (so that worker processes can import it).
    points : iterable of mapping
        The points' values (the same keys at every point).
    settings : any
        Passed to ``evaluate`` (must pickle).
    root_seed : int
        Root of the points' seeds (:func:`~tipresearch.experiments.point.point_seed`).
    executor, workers, scheduler, retries
        As for :func:`tipresearch.experiments.sweep.run_sweep`.
    progress : bool
        Show a progress bar (on standard error) as points finish.
    label : str
        The progress bar's label.

    Returns
    -------
    pandas.DataFrame
        One row per point, in point order: ``point``, ``replication``, ``seed``,
        the values, the outputs, ``error`` and ``seconds``.
    """

    values = [dict(v) for v in points]
    executor, workers, scheduler = resolve_executor(executor, workers, scheduler)
    retries = _whole("retries", retries, 0)
    tasks = (
        Task(i, i + 1, (v,), 1, int(root_seed), False, evaluate, settings)
        for i, v in enumerate(values)
    )
    frames = []
    bar = _progress_bar(len(values), label) if progress else None
    try:
        for _, frame in _DRIVERS[executor](tasks, workers, scheduler, retries):
            frames.append(frame)
            if bar is not None:
                bar.update(len(frame))
    finally:
        if bar is not None:
            bar.close()
    if not frames:
        return pd.DataFrame(columns=[*KEY_COLUMNS, *TAIL_COLUMNS])
    out = pd.concat(frames, ignore_index=True).sort_values("point", ignore_index=True)
    tail = [c for c in TAIL_COLUMNS if c in out]
    return out[[c for c in out if c not in tail] + tail]
