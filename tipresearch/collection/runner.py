"""Run the notebook collection: check parameters, execute, render HTML, write an index.

Each notebook is executed with papermill in its own kernel (working directory: the
notebook's folder), from its own fresh Python process, several at once, so that no two
kernels share an event loop and callers need no ``if __name__ == "__main__"`` guard.
Every executed notebook is saved, rendered to HTML and summarised in a small JSON
record, also when it fails; an index page links them all. Parameters are checked
against each notebook's ``parameters`` cell before anything runs.

Output layout under ``out``::

    notebooks/NAME.ipynb    executed notebook (partial when a cell failed)
    html/NAME.html          rendered notebook
    html/index.html         title, summary, status and run time of every notebook
    results/NAME.json       machine-readable record of the run
    results/NAME/           the notebook's ``results_dir``, when it declares one
    figures/                the notebooks' ``figures_dir``, when they declare one
    run.json                the current run: its id, notebooks, start and finish, and each
                            notebook's time (the next run starts the longest first)

A run into a folder that holds an earlier one starts by making the folder consistent
(:func:`_start_run`): temporary files a killed run left are removed, the old index
is taken down, ``run.json`` names the new run (``finished`` empty until it ends),
and each notebook's ``results_dir/record.json`` is removed before it runs, so that
a record never carries an earlier run's results. Every record names its run;
:func:`tipresearch.collection.gather_records` marks records of earlier runs.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from tipresearch.checks import check_output_folder
from tipresearch.errors import ParameterError
from tipresearch.io import atomic_write, write_text

from .index_page import write_index
from .params import (
    FIGURES_DIR,
    RESULTS_DIR,
    check_notebooks,
    inspect_parameters,
    resolve_parameters,
)
from .provenance import environment
from .site import build_site

__all__ = [
    "KERNEL_NAME",
    "KERNEL_START_ATTEMPTS",
    "RESULT_COLUMNS",
    "RESULT_RECORD",
    "default_notebooks",
    "find_project_root",
    "kernel_start_failed",
    "run_notebooks",
]

#: Kernel every notebook runs in.
KERNEL_NAME = "python3"

#: File a notebook may write into its ``results_dir``; copied into the run record.
RESULT_RECORD = "record.json"

#: Columns of the frame returned by :func:`run_notebooks`.
RESULT_COLUMNS = (
    "notebook",
    "status",
    "seconds",
    "error",
    "html",
    "executed",
    "record",
    "path",
)


# --------------------------------------------------------------------------- notebooks


def find_project_root(start: str | os.PathLike | None = None) -> Path:
    """Return the project folder: the nearest folder holding ``notebooks/``.

    Parameters
    ----------
    start : path-like, optional
        Where to start looking (default: the current directory); its parents are
        searched in turn.

    Returns
    -------
    pathlib.Path
        The first of ``start`` and its parents that holds a ``notebooks`` folder, or
        else the folder that holds the ``tipresearch`` package.
    """
    here = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "notebooks").is_dir():
            return folder
    return Path(__file__).resolve().parents[2]


def default_notebooks(root: str | os.PathLike | None = None) -> list[Path]:
    """Return every ``notebooks/*.ipynb`` of the project, sorted by name.

    Parameters
    ----------
    root : path-like, optional
        The project folder (default: :func:`find_project_root`).

    Returns
    -------
    list of pathlib.Path
        Absolute paths; empty when the folder has no notebooks.
    """
    folder = Path(root if root is not None else find_project_root()) / "notebooks"
    return sorted(p.resolve() for p in folder.glob("*.ipynb"))


# --------------------------------------------------------------------------- execution


def _error_line(exc: BaseException, nb: Any = None) -> str:
    """One line describing a notebook failure: ``cell N: Name: message``.

    ``N`` is the execution count shown as ``In [N]`` in the executed notebook: the
    failing cell's for an error raised in a cell, otherwise (a timeout, a dead kernel)
    the last cell that ran in ``nb``, when there is one.
    """
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        value = (str(exc.evalue).strip().splitlines() or [""])[0]
        return f"cell {exc.exec_count}: {exc.ename}: {value}".rstrip(": ")
    message = (str(exc).strip().splitlines() or [""])[0]
    line = f"{type(exc).__name__}: {message}".rstrip(": ")
    counts = [
        c.get("execution_count")
        for c in (nb.cells if nb is not None else [])
        if c.get("cell_type") == "code" and c.get("execution_count") is not None
    ]
    return f"cell {max(counts)}: {line}" if counts else line


#: Times a notebook's kernel is started before a start failure counts as the
#: notebook's failure. Kernels started at the same moment by separate processes can
#: pick the same free port (a known race in Jupyter's TCP transport), and one of them
#: then never answers; no cell has run at that point, so starting again is safe.
KERNEL_START_ATTEMPTS = 3
_START_FAILURES = ("Kernel didn't respond", "Kernel died before replying to kernel_info")


def kernel_start_failed(exc: BaseException) -> bool:
    """Whether ``exc`` is a kernel that never became ready (before any cell ran)."""
    return isinstance(exc, RuntimeError) and str(exc).startswith(_START_FAILURES)


#: Exceptions of a cell that never finished: it ran past the run's ``timeout``, or its
#: kernel died while running it.
_STALLS = ("CellTimeoutError", "DeadKernelError")


def stalled(exc: BaseException) -> bool:
    """Whether ``exc``, or an exception it was raised from, is a cell that never finished.

    A kernel that lost its messages (for instance to the port race above, after
    starting) leaves a cell waiting for a reply that never comes; with a ``timeout``
    the wait ends in a timeout, and the notebook is run once more with a new kernel.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if type(exc).__name__ in _STALLS:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _execute_one(job: dict[str, Any]) -> dict[str, Any]:
    """Execute, render and record one notebook (runs in a worker process).

    The steps, in order: make the folders the notebook writes to, execute it with
    papermill (:func:`_execute`), render the executed notebook to HTML
    (:func:`_render`), read the key results the notebook wrote (:func:`_own_results`)
    and write the run's record of it (:func:`_write_record`).
    """
    path = Path(job["path"])
    stem = path.stem
    out = Path(job["out"])
    parameters: dict[str, Any] = job["parameters"]
    executed = out / "notebooks" / f"{stem}.ipynb"
    page = out / "html" / f"{stem}.html"

    for key in (FIGURES_DIR, RESULTS_DIR):
        if key in parameters and isinstance(parameters[key], str):
            (path.parent / parameters[key]).mkdir(parents=True, exist_ok=True)
    if isinstance(parameters.get(RESULTS_DIR), str):  # an earlier run's key results
        (path.parent / parameters[RESULTS_DIR] / RESULT_RECORD).unlink(missing_ok=True)

    failure, starts, seconds = _execute(path, executed, parameters, job["timeout"])
    if job.get("environment"):
        _stamp(executed, job["environment"])
    error = _render(executed, page, failure, starts)
    row = {
        "notebook": stem,
        "status": "failed" if error else "ok",
        "seconds": round(seconds, 3),
        "error": error,
        "html": str(page) if page.exists() else None,
        "executed": str(executed),
        "record": str(out / "results" / f"{stem}.json"),
        "path": str(path),
    }
    results = _own_results(path, parameters)
    _write_record(row, job["declared"], parameters, results, job.get("run"), job.get("environment"))
    return row


def _execute(
    path: Path, executed: Path, parameters: Mapping[str, Any], timeout: int | None
) -> tuple[list[BaseException], int, float]:
    """Execute ``path`` with papermill into ``executed`` (atomically).

    A kernel that never becomes ready is started again, up to
    :data:`KERNEL_START_ATTEMPTS` times; a notebook whose cell never finished
    (:func:`stalled`) is run once more from the start, within the same count.
    Returns the failure (empty when the notebook ran), the number of kernel starts
    and the wall time in seconds. A notebook that failed before anything was written
    is copied unexecuted, so there is always a notebook to render.
    """
    import nbformat  # heavy imports here, so that importing the package stays fast
    import papermill

    failure: list[BaseException] = []
    starts = 0
    rerun = False
    from .kernels import kernel_manager_class

    manager = kernel_manager_class()
    engine = {} if manager is None else {"kernel_manager_class": manager}

    def execute(tmp: Path) -> None:
        nonlocal starts, rerun
        while starts < KERNEL_START_ATTEMPTS:
            starts += 1
            failure.clear()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # the temporary name does not end in .ipynb
                    papermill.execute_notebook(
                        str(path),
                        str(tmp),
                        parameters=dict(parameters),
                        kernel_name=KERNEL_NAME,
                        cwd=str(path.parent),
                        execution_timeout=timeout,
                        progress_bar=False,
                        log_output=False,
                        **engine,
                    )
            except Exception as exc:  # recorded as the notebook's failure
                failure.append(exc)
                if kernel_start_failed(exc):
                    continue
                if stalled(exc) and not rerun:  # once: a cell that never finished
                    rerun = True
                    continue
            break
        if tmp.stat().st_size == 0:  # failed before anything was written
            nbformat.write(nbformat.read(path, as_version=4), tmp)

    start = time.perf_counter()
    atomic_write(executed, execute)
    return failure, starts, time.perf_counter() - start


def _stamp(executed: Path, environment: Mapping[str, Any]) -> None:
    """Write the commit and package versions into the executed notebook's metadata."""
    import nbformat

    try:
        nb = nbformat.read(executed, as_version=4)
    except Exception:  # an unreadable notebook is reported by _render
        return
    nb.metadata.setdefault("tipresearch", {})["environment"] = dict(environment)
    write_text(executed, nbformat.writes(nb))


def _render(executed: Path, page: Path, failure: list[BaseException], starts: int) -> str | None:
    """Render the executed notebook to ``page``; return the notebook's error line, if any."""
    import nbformat
    from nbconvert import HTMLExporter

    error = None
    try:
        nb = nbformat.read(executed, as_version=4)
        if failure:
            error = _error_line(failure[0], nb)
            if kernel_start_failed(failure[0]):
                error += f" (kernel started {starts} times)"
        body, _ = HTMLExporter().from_notebook_node(nb)
        write_text(page, body)
    except Exception as exc:  # a notebook that cannot be read or rendered counts as failed
        error = error or (_error_line(failure[0]) if failure else f"HTML: {_error_line(exc)}")
    return error


def _own_results(path: Path, parameters: Mapping[str, Any]) -> Any:
    """The key results the notebook wrote to its ``results_dir`` (None if it wrote none)."""
    if RESULTS_DIR not in parameters:
        return None
    own = path.parent / str(parameters[RESULTS_DIR]) / RESULT_RECORD
    if not own.is_file():
        return None
    try:
        return json.loads(own.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {"error": f"{own}: {exc}"}


def _write_record(
    row: Mapping[str, Any],
    declared: Mapping[str, tuple[Any, Any]],
    parameters: Mapping[str, Any],
    results: Any,
    run: str | None = None,
    environment: Mapping[str, Any] | None = None,
) -> None:
    """Write the run's record of one notebook: its run, status, parameters, results.

    Paths in the record (the notebook, its executed copy and page, and path-valued
    parameters such as ``figures_dir``) are relative to the build folder the record is
    in, so that a build moved or copied elsewhere still reads right.
    """
    base = Path(row["record"]).resolve().parent.parent

    def rel(value: Any) -> Any:
        if isinstance(value, str) and os.path.isabs(value):
            return os.path.relpath(value, base).replace(os.sep, "/")
        return value

    defaults = {name: default for name, (default, _) in declared.items()}
    record = {
        "run_id": run,
        **{k: row[k] for k in ("notebook", "status", "seconds", "error")},
        "source": rel(row["path"]),
        "executed": rel(row["executed"]),
        "html": rel(row["html"]),
        "parameters": {k: rel(v) for k, v in {**defaults, **parameters}.items()},
        "overrides": {k: rel(v) for k, v in parameters.items()},
        "results": results,
        "environment": environment,
    }
    write_text(Path(row["record"]), json.dumps(record, indent=2, default=str) + "\n")


#: The current run of an output folder (:func:`_start_run`).
RUN_FILE = "run.json"


def _start_run(out: Path, run: str, notebooks: Sequence[str]) -> dict[str, Any]:
    """Make ``out`` consistent for a new run, before any notebook runs.

    Removes temporary files a killed run left (``.NAME.*.tmp`` in ``notebooks/``,
    ``html/`` and ``results/``), takes down the index of the run before (written again
    when this one ends), and writes ``run.json`` naming this run, unfinished; returns
    what it wrote.
    """
    for sub in ("notebooks", "html", "results"):
        folder = out / sub
        if folder.is_dir():
            for stale in folder.glob(".*.tmp"):
                stale.unlink(missing_ok=True)
    (out / "html" / "index.html").unlink(missing_ok=True)
    started = {"run_id": run, "started": _now(), "finished": None, "notebooks": list(notebooks)}
    _write_run(out, started)
    return started


def _previous_seconds(out: Path) -> dict[str, float]:
    """Each notebook's run time in the last finished run into ``out`` (empty if none)."""
    try:
        data = json.loads((out / RUN_FILE).read_text(encoding="utf-8"))
        return {str(k): float(v) for k, v in (data.get("seconds") or {}).items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def _write_run(out: Path, data: Mapping[str, Any]) -> None:
    write_text(out / RUN_FILE, json.dumps(dict(data), indent=2, default=str) + "\n")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _failed_row(path: Path, error: str, seconds: float = float("nan")) -> dict[str, Any]:
    """The row of a notebook whose worker process itself failed."""
    return {
        "notebook": path.stem,
        "status": "failed",
        "seconds": seconds,
        "error": error,
        "html": None,
        "executed": None,
        "record": None,
        "path": str(path),
    }


def _run_worker(job: dict[str, Any]) -> dict[str, Any]:
    """Run :func:`_execute_one` in a fresh Python process and return its row.

    A separate interpreter per notebook keeps kernels apart (no shared event loop)
    and needs no ``if __name__ == "__main__"`` guard in the caller's script.
    """
    path = Path(job["path"])
    env = dict(os.environ)
    package_parent = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tipresearch-run-") as tmp:
        result = Path(tmp) / "row.pickle"
        proc = subprocess.run(
            [sys.executable, "-m", "tipresearch.collection.runner", str(result)],
            input=pickle.dumps(job),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            check=False,
        )
        if proc.returncode == 0 and result.is_file():
            return pickle.loads(result.read_bytes())
    lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    last = lines[-1] if lines else "no message"
    error = f"worker exited with status {proc.returncode}: {last}"
    return _failed_row(path, error, time.perf_counter() - start)


def _worker_main(argv: Sequence[str]) -> int:
    """Entry point of a worker process: job on stdin (pickle), row to ``argv[0]``."""
    job = pickle.loads(sys.stdin.buffer.read())
    row = _execute_one(job)
    atomic_write(argv[0], lambda p: p.write_bytes(pickle.dumps(row)))
    return 0


def _say(stream: TextIO | None, line: str) -> None:
    if stream is not None:
        print(line, file=stream, flush=True)


def _status_line(row: Mapping[str, Any]) -> str:
    seconds = row["seconds"]
    took = f"{seconds:.1f} s" if seconds == seconds else "? s"
    if row["status"] == "ok":
        return f"[done ] {row['notebook']}  {took}"
    return f"[FAIL ] {row['notebook']}  {took}: {row['error']}"


def run_notebooks(
    notebooks: Sequence[str | os.PathLike] | None = None,
    parameters: Mapping[str, Any] | None = None,
    parameter_files: Iterable[str | os.PathLike] = (),
    out: str | os.PathLike = "build",
    workers: int | None = None,
    timeout: float | None = None,
    progress: bool = True,
    site: bool = False,
) -> pd.DataFrame:
    """Execute notebooks in parallel, render them to HTML and write an index.

    Parameters
    ----------
    notebooks : sequence of path-like, optional
        The notebooks to run; empty or None means every ``notebooks/*.ipynb`` of the
        project (:func:`default_notebooks`).
    parameters : mapping, optional
        ``{name: value}`` applied to every notebook that declares ``name``.
    parameter_files : iterable of path-like
        YAML parameter files (see :func:`resolve_parameters`); ``parameters`` wins
        over them.
    out : path-like
        Output folder (see the module docstring for its layout).
    workers : int, optional
        Notebooks run at once, one kernel each (default: the smaller of the number
        of notebooks and the number of CPUs).
    timeout : float, optional
        Longest time in seconds any one cell may run (default: no limit).
    progress : bool
        Write ``[start]``, ``[done ]`` and ``[FAIL ]`` lines to standard error.
    site : bool
        Also build the book over the executed notebooks
        (:func:`tipresearch.collection.site.build_site`); its folder is
        ``frame.attrs["site"]``.

    Returns
    -------
    pandas.DataFrame
        One row per notebook, in the order given: ``notebook``, ``status`` (``ok`` or
        ``failed``), ``seconds``, ``error`` (``cell N: Name: message``; missing when
        ok), ``html``, ``executed``, ``record`` (paths) and ``path`` (the source).

    Raises
    ------
    ParameterError
        Before anything runs, for an unknown notebook or parameter, a value of the
        wrong type, a bad parameter file, ``workers < 1`` or ``timeout <= 0``.
        A notebook that fails while running is reported in the frame instead.
    """
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise ParameterError("workers", workers, "a whole number of at least 1")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0
    ):
        raise ParameterError("timeout", timeout, "a number of seconds greater than 0")
    if notebooks:
        paths = check_notebooks(notebooks)
    else:
        root = find_project_root()
        paths = default_notebooks(root)
        if not paths:
            raise ParameterError(
                "notebook", str(root / "notebooks"), "a folder holding at least one .ipynb"
            )
    declared = {p.stem: inspect_parameters(p) for p in paths}
    out_dir = check_output_folder("out", out).resolve()
    resolved = resolve_parameters(paths, parameters, parameter_files, out_dir, declared)
    n_workers = workers if workers is not None else min(len(paths), os.cpu_count() or 1)
    stream = sys.stderr if progress else None

    run_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    before = _previous_seconds(out_dir)
    run = _start_run(out_dir, run_id, [p.stem for p in paths])
    env = environment(find_project_root(paths[0].parent))
    run["environment"] = env
    jobs = [
        {
            "environment": env,
            "path": str(p),
            "out": str(out_dir),
            "parameters": resolved[p.stem],
            "declared": declared[p.stem],
            "timeout": timeout,
            "run": run_id,
        }
        for p in paths
    ]
    lock = threading.Lock()

    def run_one(job: dict[str, Any]) -> dict[str, Any]:
        with lock:
            _say(stream, f"[start] {Path(job['path']).stem}")
        row = _run_worker(job)
        with lock:
            _say(stream, _status_line(row))
        return row

    # the longest first, by the last run's times (new notebooks before them): the run
    # ends sooner when no long notebook starts last; the results keep the given order
    order = sorted(jobs, key=lambda j: -before.get(Path(j["path"]).stem, float("inf")))
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        done = list(pool.map(run_one, order))
    rows = {row["notebook"]: row for row in done}

    frame = pd.DataFrame([rows[p.stem] for p in paths], columns=list(RESULT_COLUMNS))
    write_index(frame, out_dir / "html" / "index.html", resolved)
    if site:
        with lock:
            _say(stream, "[start] the book")
        started = time.perf_counter()
        frame.attrs["site"] = str(build_site(frame, out_dir, resolved, env=env))
        _say(stream, f"[done ] the book  {time.perf_counter() - started:.1f} s")
    status = dict(zip(frame["notebook"], frame["status"], strict=True))
    took = dict(zip(frame["notebook"], frame["seconds"].round(2), strict=True))
    seconds = {**before, **{k: float(v) for k, v in took.items() if v == v}}  # not NaN
    _write_run(out_dir, {**run, "finished": _now(), "status": status, "seconds": seconds})
    return frame


if __name__ == "__main__":  # a worker process started by _run_worker
    sys.exit(_worker_main(sys.argv[1:]))
