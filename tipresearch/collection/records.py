"""Key results of executed notebooks: written by each notebook, gathered into one table.

A notebook that declares ``results_dir`` writes its key numbers with
:func:`write_record` (``results_dir/record.json``); ``tipresearch run`` copies them
into the run's record ``OUT/results/NAME.json`` next to the parameters the notebook
ran with. :func:`gather_records` reads the records of one or more runs (for example
variants of the same notebooks run with different ``-f`` parameter files) into one
table, one row per notebook and run, parameters and results side by side.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tipresearch.errors import DataFileError, ParameterError
from tipresearch.io import write_text

from .runner import RESULT_RECORD, RUN_FILE

__all__ = [
    "RECORD_FILE",
    "gather_records",
    "plain",
    "read_record",
    "results_by_run",
    "write_record",
]

#: File a notebook writes into its ``results_dir`` (what the runner copies).
RECORD_FILE = RESULT_RECORD
#: Parameters the runner fills in itself, left out of the gathered table.
_RUNNER_PARAMETERS = ("figures_dir", "results_dir")
_FIXED = ("run", "run_id", "current", "notebook", "status", "seconds", "error")


def plain(value: Any) -> Any:
    """A JSON-ready copy: numpy and pandas scalars and arrays to Python values,
    non-finite floats to None, mappings and sequences recursively."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, pd.Series):
        return plain(value.to_dict())
    if isinstance(value, pd.DataFrame):
        return plain(value.to_dict(orient="records"))
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def write_record(results_dir: str | os.PathLike, values: Mapping[str, Any]) -> Path:
    """Write a notebook's key results to ``results_dir/record.json`` (atomically).

    Parameters
    ----------
    results_dir : path-like
        The notebook's ``results_dir`` parameter (created if missing).
    values : mapping
        ``{name: value}``; values are made JSON-ready with :func:`plain`.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    if not isinstance(values, Mapping):
        raise ParameterError("values", type(values).__name__, "a mapping {name: value}")
    text = json.dumps(plain(values), indent=2, sort_keys=False) + "\n"
    return write_text(Path(results_dir) / RECORD_FILE, text)


def _flat(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _flat(f"{prefix}.{k}", v, out)
    elif isinstance(value, list):
        out[prefix] = json.dumps(value)
    else:
        out[prefix] = value


def _results_folder(folder: Path) -> Path:
    """Where the run records are: ``folder/results``, or ``folder`` itself if it is that."""
    results = folder / "results"
    return results if results.is_dir() else folder


def _record_files(folder: Path) -> list[Path]:
    """Run records: ``folder/results/*.json``, or ``folder/*.json`` for a results folder."""
    return sorted(p for p in _results_folder(folder).glob("*.json") if p.is_file())


def _current_run(folder: Path) -> str | None:
    """The id of the run ``run.json`` names as current (None for a folder without one)."""
    path = _results_folder(folder).parent / RUN_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("run_id")
    except (OSError, ValueError, AttributeError) as exc:
        raise DataFileError(str(path), None, None, f"not a readable run file ({exc})") from None


def read_record(path: str | os.PathLike) -> dict[str, Any]:
    """One run record (``OUT/results/NAME.json``), checked to be one.

    Raises
    ------
    DataFileError
        For a file that cannot be read, is not valid JSON or is not a notebook's run
        record.
    """
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataFileError(str(path), None, None, f"not valid JSON ({exc})") from exc
    if not isinstance(record, dict) or "notebook" not in record:
        raise DataFileError(str(path), None, "notebook", "not a notebook run record")
    return record


def gather_records(runs: Iterable[str | os.PathLike]) -> pd.DataFrame:
    """One table of the run records of one or more ``tipresearch run`` output folders.

    Parameters
    ----------
    runs : iterable of path-like
        Output folders of ``tipresearch run`` (``OUT``, holding ``results/NAME.json``)
        or their ``results`` folders.

    Returns
    -------
    pandas.DataFrame
        One row per notebook and run: ``run`` (the folder), ``run_id`` (the run that
        wrote the record), ``current`` (False for a record an earlier run left in the
        folder: its ``run.json`` names another run), ``notebook``, ``status``,
        ``seconds``, ``error``, then ``param.NAME`` for each parameter the notebook
        ran with (the runner's own folders left out) and ``result.NAME`` for each
        key result (nested ones as ``result.A.B``; lists as JSON text).

    Raises
    ------
    ParameterError
        For a folder that does not exist, holds no records, or is given twice (as
        ``OUT`` or as ``OUT/results``).
    DataFileError
        For a record that is not valid JSON or not a run record.
    """
    rows: list[dict[str, Any]] = []
    seen: dict[Path, str] = {}
    for run in runs:
        folder = Path(run)
        if not folder.is_dir():
            raise ParameterError("run folder", str(run), "an existing folder")
        key = _results_folder(folder).resolve()
        if key in seen:
            raise ParameterError(
                "run folder", str(run), f"each folder once (it holds the records of {seen[key]})"
            )
        seen[key] = str(run)
        current = _current_run(folder)
        files = _record_files(folder)
        if not files:
            raise ParameterError(
                "run folder", str(run), "a folder holding results/NAME.json run records"
            )
        for path in files:
            record = read_record(path)
            row: dict[str, Any] = {
                "run": str(run),
                "run_id": record.get("run_id"),
                # a record of an earlier run into the same folder is not current
                "current": current is None or record.get("run_id") == current,
                **{k: record.get(k) for k in _FIXED[3:]},
            }
            params = record.get("parameters") or {}
            for name, value in params.items():
                if name not in _RUNNER_PARAMETERS:
                    _flat(f"param.{name}", value, row)
            results = record.get("results")
            if isinstance(results, Mapping):
                _flat("result", results, row)
            elif results is not None:
                row["result"] = json.dumps(results)
            rows.append(row)
    frame = pd.DataFrame(rows)
    rest = sorted(c for c in frame if c not in _FIXED)
    params = [c for c in rest if c.startswith("param.")]
    results = [c for c in rest if not c.startswith("param.")]
    return frame[[*_FIXED, *params, *results]]


def _whole_float(value: Any) -> Any:
    """A whole number that a table column made a float (100.0) as the integer it was."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def results_by_run(table: pd.DataFrame) -> pd.DataFrame:
    """Key results as a person reads them: a row per notebook and result, a column per run.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`gather_records`' table.

    Returns
    -------
    pandas.DataFrame
        Columns ``notebook``, ``kind`` (``result``, ``parameter`` or ``status``),
        ``name`` and one column per run folder, in the order given, holding the value
        in that run. Only current records are used; a parameter is listed only where
        its value differs between the runs (so with one run, none is), and a status
        only where a run did not end ``ok``.
    """
    current = table[table["current"].astype(bool)]
    runs = list(dict.fromkeys(current["run"]))
    rows: list[dict[str, Any]] = []
    for notebook, group in current.groupby("notebook", sort=True):
        by_run = group.drop_duplicates("run").set_index("run")
        for column in by_run.columns:
            if column.startswith("param."):
                kind, name = "parameter", column[len("param.") :]
            elif column == "result" or column.startswith("result."):
                kind, name = "result", column[len("result.") :] or "result"
            else:
                continue
            values = by_run[column]
            if values.isna().all():
                continue
            if kind == "parameter" and values.astype(str).nunique(dropna=False) <= 1:
                continue  # the same in every run: not what tells the runs apart
            rows.append(
                {"notebook": notebook, "kind": kind, "name": name}
                | {run: _whole_float(values.get(run)) for run in runs}
            )
        if (by_run["status"] != "ok").any():
            rows.append(
                {"notebook": notebook, "kind": "status", "name": "status"}
                | {run: by_run["status"].get(run) for run in runs}
            )
    order = {"status": 0, "parameter": 1, "result": 2}
    frame = pd.DataFrame(rows, columns=["notebook", "kind", "name", *runs])
    rank = frame["kind"].map(order)
    return (
        frame.assign(_rank=rank)
        .sort_values(["notebook", "_rank"], kind="stable")
        .drop(columns="_rank")
        .reset_index(drop=True)
    )
