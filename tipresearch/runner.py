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
"""

from __future__ import annotations

import ast
import html
import json
import os
import pickle
import re
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
import yaml

from .errors import ParameterError
from .io import atomic_write, write_text

#: Kernel every notebook runs in.
KERNEL_NAME = "python3"

#: Parameters the runner fills in itself when a notebook declares them.
FIGURES_DIR = "figures_dir"
RESULTS_DIR = "results_dir"

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

# Types a parameter's default can have, by the name used in messages.
_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "str": (str,),
    "list": (list,),
    "dict": (dict,),
    "tuple": (list, tuple),
}


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
    return Path(__file__).resolve().parent.parent


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


def check_notebooks(notebooks: Iterable[str | os.PathLike]) -> list[Path]:
    """Return the notebooks as absolute paths, checking that each can be run.

    Raises
    ------
    ParameterError
        For a path that is not an existing ``.ipynb`` file, or two notebooks with the
        same name (their outputs would overwrite each other).
    """
    paths: list[Path] = []
    seen: dict[str, Path] = {}
    for item in notebooks:
        path = Path(item)
        if path.suffix != ".ipynb" or not path.is_file():
            raise ParameterError("notebook", str(item), "an existing .ipynb file")
        path = path.resolve()
        if path.stem in seen and seen[path.stem] != path:
            raise ParameterError(
                "notebook",
                str(item),
                f"notebooks with distinct names (already selected: {seen[path.stem]})",
            )
        if path.stem not in seen:
            seen[path.stem] = path
            paths.append(path)
    return paths


def inspect_parameters(path: str | os.PathLike) -> dict[str, tuple[Any, str]]:
    """Return the parameters a notebook's ``parameters`` cell declares.

    Parameters
    ----------
    path : path-like
        The notebook.

    Returns
    -------
    dict
        ``{name: (default, type_name)}`` in the order of the cell. ``default`` is the
        literal value (its source text when it is not a literal); ``type_name`` is one
        of ``int``, ``float``, ``bool``, ``str``, ``list``, ``dict``, ``tuple``,
        ``None`` (a None default, which accepts anything) or ``unknown`` (not a
        literal, not checked). An annotation such as ``x: float = 1`` takes precedence
        over the default's own type.

    References
    ----------
    papermill's ``inspect_notebook``, which parses the cell tagged ``parameters``.
    """
    import papermill

    try:
        found = papermill.inspect_notebook(str(path))
    except Exception as exc:  # a corrupt file: name it, whatever the parser says
        raise ParameterError("notebook", str(path), f"a readable notebook ({exc})") from exc
    declared: dict[str, tuple[Any, str]] = {}
    for name, info in found.items():
        source = info.get("default", "")
        try:
            default = ast.literal_eval(source)
            type_name = "None" if default is None else type(default).__name__
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            default, type_name = source, "unknown"
        annotated = str(info.get("inferred_type_name") or "None").split("[")[0].strip()
        if annotated in _TYPES:
            type_name = annotated
        if type_name not in _TYPES and type_name != "None":
            type_name = "unknown"
        declared[name] = (default, type_name)
    return declared


def check_type(name: str, value: Any, default: Any, type_name: str, notebook: str) -> None:
    """Check that ``value`` may replace a parameter whose default has ``type_name``.

    An int is accepted where a float is expected; a bool is not an int; a None default
    or a default that is not a literal accepts anything; other types must match.

    Raises
    ------
    ParameterError
        Naming the parameter, the value, the notebook and the expected type.
    """
    if type_name in ("None", "unknown"):
        return
    allowed = _TYPES[type_name]
    if isinstance(value, bool) and bool not in allowed:
        ok = False
    else:
        ok = isinstance(value, allowed)
    if not ok:
        raise ParameterError(
            name,
            value,
            f"{_article(type_name)} {type_name} (the type of its default {default!r} in "
            f"notebook {notebook}), not {_article(type(value).__name__)} {type(value).__name__}",
        )


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


# --------------------------------------------------------------------------- parameters


def parse_value(text: str) -> Any:
    """Read a command-line parameter value as YAML: ``3`` → 3, ``0.5`` → 0.5,
    ``true`` → True, ``[1, 2]`` → [1, 2], anything else → the string itself."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def load_parameter_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read a YAML parameter file (safe loader only).

    Parameters
    ----------
    path : path-like
        A YAML mapping: either ``{name: value}`` for every notebook, or keyed by
        notebook name, ``{01_the_cable_in_numbers: {name: value}}``, or both mixed.

    Returns
    -------
    dict
        The mapping as read (an empty file gives ``{}``).

    Raises
    ------
    ParameterError
        When the file is missing, is not valid YAML or is not a mapping.
    """
    path = Path(path)
    allowed = "a YAML file holding a mapping of parameter names (or notebook names) to values"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParameterError("parameter file", str(path), f"{allowed}; {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise ParameterError(
            "parameter file", str(path), f"{allowed}; YAML error{where}: {problem}"
        ) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParameterError(
            "parameter file", str(path), f"{allowed}; it holds a {type(data).__name__}"
        )
    for key in data:
        if not isinstance(key, str):
            raise ParameterError(
                "parameter file", str(path), f"{allowed}; key {key!r} is not a name"
            )
    return data


def resolve_parameters(
    notebooks: Sequence[str | os.PathLike],
    parameters: Mapping[str, Any] | None = None,
    parameter_files: Iterable[str | os.PathLike] = (),
    out: str | os.PathLike | None = None,
    declared: Mapping[str, dict[str, tuple[Any, str]]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Work out and check the parameters each notebook will receive.

    Sources, later ones winning: each file of ``parameter_files`` in turn (its flat
    entries, then its entries for the notebook), then ``parameters``. A flat entry
    goes to every notebook that declares the name. When ``out`` is given, a notebook
    that declares ``figures_dir`` gets ``<out>/figures`` and one that declares
    ``results_dir`` gets ``<out>/results/<notebook name>`` (absolute), unless set above.

    Parameters
    ----------
    notebooks : sequence of path-like
        The selected notebooks (checked with :func:`check_notebooks`).
    parameters : mapping, optional
        ``{name: value}`` for every notebook that declares ``name``.
    parameter_files : iterable of path-like
        YAML files read with :func:`load_parameter_file`. A top-level key equal to the
        name (stem) of a selected notebook, with a mapping as value, holds that
        notebook's own parameters; such a key naming another notebook next to a
        selected one is skipped; every other key is a flat parameter.
    out : path-like, optional
        The output folder of the run.
    declared : mapping, optional
        ``{stem: inspect_parameters(path)}`` when already known.

    Returns
    -------
    dict
        ``{notebook stem: {name: value}}`` in the order of ``notebooks``.

    Raises
    ------
    ParameterError
        For a name no selected notebook declares (the message lists those declared),
        a value whose type does not match the default's, or a bad file or notebook.
    """
    paths = check_notebooks(notebooks)
    if declared is None:
        declared = {p.stem: inspect_parameters(p) for p in paths}
    stems = [p.stem for p in paths]
    siblings = {q.stem for p in paths for q in p.parent.glob("*.ipynb")}

    # (source label, notebook stem or None for all, {name: value}) in order of precedence
    layers: list[tuple[str, str | None, dict[str, Any]]] = []
    for file in parameter_files:
        data = load_parameter_file(file)
        flat: dict[str, Any] = {}
        own: list[tuple[str | None, dict[str, Any]]] = []
        for key, value in data.items():
            if key in stems and isinstance(value, dict):
                own.append((key, value))
            elif key in siblings and isinstance(value, dict):
                continue  # parameters for a notebook not selected in this run
            else:
                flat[key] = value
        layers.append((f"file {file}", None, flat))
        layers.extend((f"file {file}", stem, values) for stem, values in own)
    if parameters:
        layers.append(("command line", None, dict(parameters)))

    all_names = sorted({n for stem in stems for n in declared[stem]})
    resolved: dict[str, dict[str, Any]] = {stem: {} for stem in stems}
    for source, target, values in layers:
        for name, value in values.items():
            if target is None:
                takers = [stem for stem in stems if name in declared[stem]]
                if not takers:
                    raise ParameterError(
                        name,
                        value,
                        "a parameter declared by the selected notebooks: "
                        + (", ".join(all_names) or "(none declare any)")
                        + f" (set by {source})",
                    )
            else:
                if name not in declared[target]:
                    raise ParameterError(
                        name,
                        value,
                        f"a parameter declared by notebook {target}: "
                        + (", ".join(declared[target]) or "(none)")
                        + f" (set by {source})",
                    )
                takers = [target]
            for stem in takers:
                default, type_name = declared[stem][name]
                check_type(name, value, default, type_name, stem)
                resolved[stem][name] = value

    if out is not None:
        base = Path(out).resolve()
        for stem in stems:
            if FIGURES_DIR in declared[stem] and FIGURES_DIR not in resolved[stem]:
                resolved[stem][FIGURES_DIR] = str(base / "figures")
            if RESULTS_DIR in declared[stem] and RESULTS_DIR not in resolved[stem]:
                resolved[stem][RESULTS_DIR] = str(base / "results" / stem)
    return resolved


# --------------------------------------------------------------------------- describing


def _plain(markdown: str) -> str:
    """One line of text from a Markdown paragraph (links → their text, no markup)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = text.replace("**", "").replace("`", "")
    return " ".join(text.split())


def describe_notebook(nb: Any, fallback: str) -> tuple[str, str]:
    """Return a notebook's title and one-line summary.

    The title is the first Markdown ``# `` heading (``fallback`` when there is none);
    the summary is the notebook metadata ``tipresearch.summary`` when present, else the
    first Markdown paragraph after the title.
    """
    title, summary = None, ""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        if title is None:
            for i, line in enumerate(lines):
                if line.startswith("# "):
                    title = line[2:].strip()
                    lines = lines[i + 1 :]
                    break
            else:
                continue
        paragraphs = re.split(r"\n\s*\n", "\n".join(lines))
        for para in paragraphs:
            para = para.strip()
            if para and not para.startswith("#"):
                summary = _plain(para)
                break
        if summary:
            break
    meta = nb.metadata.get("tipresearch", {})
    if isinstance(meta, dict) and meta.get("summary"):
        summary = _plain(str(meta["summary"]))
    return (title or fallback), summary


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


def _execute_one(job: dict[str, Any]) -> dict[str, Any]:
    """Execute, render and record one notebook (runs in a worker process)."""
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    path = Path(job["path"])
    stem = path.stem
    out = Path(job["out"])
    parameters: dict[str, Any] = job["parameters"]
    executed = out / "notebooks" / f"{stem}.ipynb"
    page = out / "html" / f"{stem}.html"
    record_path = out / "results" / f"{stem}.json"

    for key in (FIGURES_DIR, RESULTS_DIR):
        if key in parameters and isinstance(parameters[key], str):
            (path.parent / parameters[key]).mkdir(parents=True, exist_ok=True)

    failure: list[BaseException] = []

    def execute(tmp: Path) -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the temporary name does not end in .ipynb
                papermill.execute_notebook(
                    str(path),
                    str(tmp),
                    parameters=parameters,
                    kernel_name=KERNEL_NAME,
                    cwd=str(path.parent),
                    execution_timeout=job["timeout"],
                    progress_bar=False,
                    log_output=False,
                )
        except Exception as exc:  # recorded as the notebook's failure
            failure.append(exc)
        if tmp.stat().st_size == 0:  # failed before anything was written
            nbformat.write(nbformat.read(path, as_version=4), tmp)

    start = time.perf_counter()
    atomic_write(executed, execute)
    seconds = time.perf_counter() - start
    error = None

    try:
        nb = nbformat.read(executed, as_version=4)
        if failure:
            error = _error_line(failure[0], nb)
        body, _ = HTMLExporter().from_notebook_node(nb)
        write_text(page, body)
    except Exception as exc:  # a notebook that cannot be read or rendered counts as failed
        error = error or (_error_line(failure[0]) if failure else f"HTML: {_error_line(exc)}")

    results: Any = None
    if RESULTS_DIR in parameters:
        own = path.parent / str(parameters[RESULTS_DIR]) / RESULT_RECORD
        if own.is_file():
            try:
                results = json.loads(own.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                results = {"error": f"{own}: {exc}"}

    defaults = {name: default for name, (default, _) in job["declared"].items()}
    row = {
        "notebook": stem,
        "status": "failed" if error else "ok",
        "seconds": round(seconds, 3),
        "error": error,
        "html": str(page) if page.exists() else None,
        "executed": str(executed),
        "record": str(record_path),
        "path": str(path),
    }
    record = {
        **{k: row[k] for k in ("notebook", "status", "seconds", "error")},
        "source": str(path),
        "executed": row["executed"],
        "html": row["html"],
        "parameters": {**defaults, **parameters},
        "overrides": parameters,
        "results": results,
    }
    write_text(record_path, json.dumps(record, indent=2, default=str) + "\n")
    return row


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
    package_parent = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tipresearch-run-") as tmp:
        result = Path(tmp) / "row.pickle"
        proc = subprocess.run(
            [sys.executable, "-m", "tipresearch.runner", str(result)],
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


def summary_line(frame: pd.DataFrame) -> str:
    """``3 notebooks: 2 ok, 1 failed (01_x)`` for a frame from :func:`run_notebooks`."""
    failed = frame.loc[frame["status"] != "ok", "notebook"].tolist()
    n = len(frame)
    line = f"{n} notebook{'s' if n != 1 else ''}: {n - len(failed)} ok, {len(failed)} failed"
    if failed:
        line += f" ({', '.join(failed)})"
    return line


def run_notebooks(
    notebooks: Sequence[str | os.PathLike] | None = None,
    parameters: Mapping[str, Any] | None = None,
    parameter_files: Iterable[str | os.PathLike] = (),
    out: str | os.PathLike = "build",
    workers: int | None = None,
    timeout: float | None = None,
    progress: bool = True,
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
    out_dir = Path(out).resolve()
    resolved = resolve_parameters(paths, parameters, parameter_files, out_dir, declared)
    n_workers = workers if workers is not None else min(len(paths), os.cpu_count() or 1)
    stream = sys.stderr if progress else None

    jobs = [
        {
            "path": str(p),
            "out": str(out_dir),
            "parameters": resolved[p.stem],
            "declared": declared[p.stem],
            "timeout": timeout,
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

    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        done = list(pool.map(run_one, jobs))
    rows = {row["notebook"]: row for row in done}

    frame = pd.DataFrame([rows[p.stem] for p in paths], columns=list(RESULT_COLUMNS))
    write_index(frame, out_dir / "html" / "index.html", resolved)
    return frame


# --------------------------------------------------------------------------- index

_INDEX_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 0.5rem; border-bottom: 1px solid #ddd; }
td.seconds { text-align: right; white-space: nowrap; }
.ok { color: #1a7f37; } .failed { color: #cf222e; font-weight: bold; }
.error { color: #cf222e; font-family: monospace; font-size: 0.9em; }
.summary { color: #444; } code { font-size: 0.85em; }
"""


def write_index(
    frame: pd.DataFrame,
    path: str | os.PathLike,
    parameters: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """Write the HTML index of a run (atomically).

    Parameters
    ----------
    frame : pandas.DataFrame
        The frame returned by :func:`run_notebooks`.
    path : path-like
        The index file, normally ``<out>/html/index.html``; links are relative to it.
    parameters : mapping, optional
        ``{notebook stem: {name: value}}`` passed to each notebook, listed under it.

    Returns
    -------
    pathlib.Path
        The index file.
    """
    import nbformat

    path = Path(path)
    rows = []
    for row in frame.itertuples(index=False):
        try:
            nb = nbformat.read(row.path, as_version=4)
            title, summary = describe_notebook(nb, row.notebook)
        except Exception:  # the source vanished or is unreadable: still list the run
            title, summary = row.notebook, ""
        name = html.escape(title)
        if isinstance(row.html, str):
            link = os.path.relpath(row.html, path.parent).replace(os.sep, "/")
            name = f'<a href="{html.escape(link)}">{name}</a>'
        status = html.escape(row.status)
        cell = f'<span class="{status}">{status}</span>'
        if isinstance(row.error, str):
            cell += f'<div class="error">{html.escape(str(row.error))}</div>'
        used = (parameters or {}).get(row.notebook, {})
        shown = ", ".join(f"{k} = {v!r}" for k, v in used.items() if k not in _DIRS)
        extra = f"<div><code>{html.escape(shown)}</code></div>" if shown else ""
        seconds = f"{row.seconds:.1f}" if row.seconds == row.seconds else "?"
        rows.append(
            "<tr>"
            f"<td>{name}<div><code>{html.escape(row.notebook)}</code></div></td>"
            f'<td class="summary">{html.escape(summary)}{extra}</td>'
            f"<td>{cell}</td>"
            f'<td class="seconds">{seconds}</td>'
            "</tr>"
        )
    page = "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            '<head><meta charset="utf-8"><title>tipresearch notebooks</title>',
            f"<style>{_INDEX_STYLE}</style></head>",
            "<body>",
            "<h1>tipresearch notebooks</h1>",
            f"<p>{html.escape(summary_line(frame))}</p>",
            "<table>",
            "<thead><tr><th>Notebook</th><th>Summary</th><th>Status</th>"
            "<th>Time (s)</th></tr></thead>",
            "<tbody>",
            *rows,
            "</tbody>",
            "</table>",
            "</body>",
            "</html>",
            "",
        ]
    )
    return write_text(path, page)


_DIRS = (FIGURES_DIR, RESULTS_DIR)


if __name__ == "__main__":  # a worker process started by _run_worker
    sys.exit(_worker_main(sys.argv[1:]))
