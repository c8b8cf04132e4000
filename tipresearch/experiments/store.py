"""Storage of a sweep's results folder: part files, design, manifest and lock.

A sweep's folder holds ``manifest.json`` (:data:`MANIFEST`: the spec, its digest
and provenance), ``design.parquet`` (:data:`DESIGN`: every point, in values and
unit coordinates; for a grid, its axes, and for a Sobol' design, its first points,
from which the rest are made) and
``parts/`` (:data:`PARTS`: one Parquet file per finished task,
``points-START-STOP.parquet``), plus a ``.lock`` file while a sweep writes to it.
The helpers here name, list, read and write those files; files are written
atomically (:func:`tipresearch.io.atomic_write`).

References
----------
:mod:`tipresearch.experiments.sweep` for how a sweep uses its folder (resume, refusal of a
different spec).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tipresearch import __version__
from tipresearch.errors import DataFileError, ParameterError
from tipresearch.io import atomic_write, write_text

from .design import Design, GridDesign, SaltelliDesign
from .spec import SweepSpec

MANIFEST = "manifest.json"
DESIGN = "design.parquet"
PARTS = "parts"
DAMAGED = "damaged"
_PART = re.compile(r"^points-(\d{8})-(\d{8})\.parquet$")
_UNIT = "unit:"


# --------------------------------------------------------------------------- storage


def _digest(identity: Mapping[str, Any]) -> str:
    text = json.dumps(identity, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, Mapping):
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out or {prefix.rstrip("."): {}}
    return {prefix.rstrip("."): d}


def _differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    a, b = (
        _flatten(json.loads(json.dumps(old, default=repr))),
        _flatten(json.loads(json.dumps(new, default=repr))),
    )
    return [
        f"{k} ({a.get(k, 'missing')!r} there, {b.get(k, 'missing')!r} here)"
        for k in sorted(set(a) | set(b))
        if a.get(k, "missing") != b.get(k, "missing")
    ]


def _part_name(start: int, stop: int) -> str:
    return f"points-{start:08d}-{stop:08d}.parquet"


def _finished(parts: Path) -> list[tuple[int, int, Path]]:
    if not parts.is_dir():
        return []
    out = []
    for p in parts.iterdir():
        m = _PART.match(p.name)
        if m:
            out.append((int(m.group(1)), int(m.group(2)), p))
    return sorted(out)


def _record_path(part: Path) -> Path:
    """The record of a part file: ``points-START-STOP.json`` beside it."""
    return part.with_suffix(".json")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_part(parts: Path, start: int, stop: int, frame: pd.DataFrame, replications: int) -> Path:
    """Write a task's rows to its part file, then the part's record; both atomically.

    A part without its record (the run was killed between the two) is checked by its
    rows alone on resume (:func:`_check_part`).
    """
    path = parts / _part_name(start, stop)
    atomic_write(path, lambda p: frame.to_parquet(p, index=False))
    record = {
        "sha256": _sha256(path),
        "rows": len(frame),
        "points": [start, stop],
        "replications": replications,
    }
    write_text(_record_path(path), json.dumps(record) + "\n")
    return path


def _check_parts(
    parts: Path, points: int, replications: int
) -> list[tuple[int, int, Path, str | None]]:
    """Every part file of ``parts`` with what is wrong with it (None: whole), in point order.

    A part is whole when :func:`_check_part` finds nothing and its points lie inside
    the design's ``points``.
    """
    out = []
    for a, b, path in _finished(parts):
        problem = _check_part(path, a, b, replications)
        if problem is None and b > points:
            problem = f"its points run past the design's {points}"
        out.append((a, b, path, problem))
    return out


def _check_part(path: Path, start: int, stop: int, replications: int) -> str | None:
    """None if a part file holds every run of its points once, else what is wrong.

    Checks, in order: the record's checksum (if the record exists), that the file
    reads as Parquet, and that its ``(point, replication)`` pairs are exactly those
    of points ``start .. stop - 1`` and replications ``0 .. replications - 1``. The
    answer is kept for the file as it is (its size and modification time, and its
    record's), so a sweep read several times is checked once.
    """
    record = _record_path(path)
    try:
        stamp = tuple(
            (f.stat().st_size, f.stat().st_mtime_ns) if f.exists() else None for f in (path, record)
        )
    except OSError as exc:
        return f"it cannot be read ({exc.strerror})"
    return _checked_part(str(path), stamp, start, stop, replications)


@functools.lru_cache(maxsize=4096)
def _checked_part(name: str, stamp: tuple, start: int, stop: int, replications: int) -> str | None:
    """:func:`_check_part` for one state of the file (``stamp``: size and time of both)."""
    import pyarrow.parquet as pq

    path = Path(name)
    record = _record_path(path)
    if record.exists():
        try:
            recorded = json.loads(record.read_text(encoding="utf-8"))["sha256"]
        except (OSError, ValueError, KeyError, TypeError):
            return "its record cannot be read"
        if recorded != _sha256(path):
            return "its checksum differs from the one recorded when it was written"
    try:
        table = pq.read_table(path, columns=["point", "replication"])
    except Exception as exc:  # noqa: BLE001 - any failure to read means damaged
        return f"it cannot be read as Parquet ({type(exc).__name__})"
    expected = (stop - start) * replications
    if table.num_rows != expected:
        return f"it holds {table.num_rows} rows, not {expected}"
    point = table.column("point").to_numpy(zero_copy_only=False).astype(np.int64)
    rep = table.column("replication").to_numpy(zero_copy_only=False).astype(np.int64)
    keys = np.sort((point - start) * replications + rep)
    if not np.array_equal(keys, np.arange(expected)) or (rep >= replications).any():
        return "its rows are not each run of its points once"
    return None


def _set_aside(path: Path) -> Path:
    """Move a damaged part file (and its record) into ``parts/damaged/``; return the new path."""
    folder = path.parent / DAMAGED
    folder.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = folder / f"{path.stem}.{stamp}{path.suffix}"
    n = 1
    while target.exists():
        target = folder / f"{path.stem}.{stamp}-{n}{path.suffix}"
        n += 1
    os.replace(path, target)
    record = _record_path(path)
    if record.exists():
        os.replace(record, target.with_suffix(".json"))
    return target


def _grid_axes(design: GridDesign) -> pd.DataFrame:
    """A grid's axes as a table: one row per parameter and level (value as JSON)."""
    rows = [
        (name, k, json.dumps(v.item() if isinstance(v, np.generic) else v), float(u))
        for name, (values, unit) in zip(design.space.names, design.axes, strict=True)
        for k, (v, u) in enumerate(zip(values, unit, strict=True))
    ]
    return pd.DataFrame(rows, columns=["parameter", "level", "value", "unit"])


#: Points of a Sobol' design written to ``design.parquet``: enough to check, on resume,
#: that the spec still draws the same design (a change in the sampler would show).
SOBOL_HEAD = 1024


def _write_design(path: Path, design: Design) -> None:
    """Write a design: a grid's axes, a Sobol' design's first points, or every point.

    A grid's and a Sobol' design's points are made from the spec when needed
    (:class:`~tipresearch.experiments.design.GridDesign`,
    :class:`~tipresearch.experiments.design.SaltelliDesign`); the file holds what checks
    them. Other designs are written whole.
    """
    if isinstance(design, GridDesign):
        frame = _grid_axes(design)
    else:
        stop = min(len(design), SOBOL_HEAD) if isinstance(design, SaltelliDesign) else len(design)
        frame = design.rows(0, stop)
        frame.insert(0, "point", np.arange(stop))
        unit = design.unit_rows(0, stop)
        for j, name in enumerate(design.space.names):
            frame[_UNIT + name] = unit[:, j]
    atomic_write(path, lambda p: frame.to_parquet(p, index=False))


def _read_design(path: Path, spec: SweepSpec) -> Design:
    """The design a sweep wrote, checked against its spec.

    A grid's file holds its axes, which must be the spec's: the grid is made from the
    spec again (:class:`~tipresearch.experiments.design.GridDesign`), lazily. Any other
    design's file holds every point.

    Raises
    ------
    DataFileError
        When the file cannot be read, or its columns, axes or number of points do not
        match the spec.
    """
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - unreadable for any reason: damaged
        raise DataFileError(
            str(path), None, None, f"not a readable design ({type(exc).__name__}: {exc})"
        ) from None
    opts = spec.design_options()
    if spec.method == "grid" and "parameter" in frame and "level" in frame:
        design = spec.design()
        expected = _grid_axes(design)
        same = list(frame.columns) == list(expected.columns) and len(frame) == len(expected)
        if not same or not frame.reset_index(drop=True).equals(expected):
            raise DataFileError(str(path), None, None, "the grid's axes as its spec draws them")
        return design
    names = spec.space.names
    need = [*names, *(_UNIT + n for n in names)]
    missing = [c for c in need if c not in frame]
    if missing:
        raise DataFileError(str(path), None, missing[0], "missing (a design column)")
    unit = frame[[_UNIT + n for n in names]].to_numpy(dtype=float)
    if not np.isfinite(unit).all() or (unit < 0).any() or (unit > 1).any():
        raise DataFileError(str(path), None, None, "unit coordinates in [0, 1]")
    if spec.method == "sobol":
        design = spec.design()
        if len(unit) > len(design) or not np.array_equal(unit, design.unit_rows(0, len(unit))):
            raise DataFileError(str(path), None, None, "the Sobol' points its spec draws")
        return design
    values = frame[list(names)].reset_index(drop=True)
    return Design(spec.space, opts.pop("method"), unit, values, opts)


def _code_version() -> dict[str, str | None]:
    """The package version and, in a git checkout, the commit: provenance of the results."""
    import subprocess

    commit = None
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        commit = done.stdout.strip() or None if done.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        pass
    return {"tipresearch": __version__, "commit": commit}


#: File descriptors of the folder locks this process holds. A worker forked from this
#: process closes its copies (:func:`close_inherited_locks`), so that only this process
#: holds a lock, and the lock ends with it.
_HELD: set[int] = set()


class FolderLock:
    """An exclusive lock on a sweep folder's ``.lock`` file, held until :meth:`close`.

    The lock is an ``flock`` on the open file: the system releases it when the
    process that holds it ends, however it ends, so a lock left by a killed run is
    never stale. The file holds the holder's process id, for the message a second
    sweep gets.
    """

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.fd = handle.fileno()
        _HELD.add(self.fd)

    def close(self) -> None:
        """Release the lock."""
        _HELD.discard(self.fd)
        self.handle.close()


def close_inherited_locks() -> None:
    """In a forked worker: close the copies of the parent's folder locks.

    A lock held through an open file stays held while any process has that file
    open; a worker that kept its copy would hold the folder after its parent was
    killed.
    """
    for fd in list(_HELD):
        try:
            os.close(fd)
        except OSError:
            pass
    _HELD.clear()


def _lock(root: Path) -> FolderLock:
    """Hold ``root/.lock`` so that no second sweep writes to the same folder at once.

    Returns the lock (its ``close`` releases it). Where ``fcntl`` is missing
    (Windows) the file is opened but not locked.

    Raises
    ------
    ParameterError
        When another running process holds the lock (named by its process id).
    """
    root.mkdir(parents=True, exist_ok=True)
    handle = open(root / ".lock", "a+")  # noqa: SIM115 - closed by the caller
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return FolderLock(handle)
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        handle.seek(0)
        holder = handle.read().strip()
        handle.close()
        who = f"process {holder}" if holder.isdigit() else "another process"
        raise ParameterError(
            "out",
            str(root),
            f"a folder no other sweep is writing to ({who} holds its .lock)",
        ) from exc
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return FolderLock(handle)


def _read_manifest(root: Path) -> dict[str, Any]:
    path = root / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataFileError(
            str(path), None, None, f"not a readable sweep manifest ({exc})"
        ) from exc
    if not isinstance(data, dict) or "spec" not in data or "digest" not in data:
        raise DataFileError(str(path), None, None, "not a sweep manifest (no spec or digest)")
    return data
