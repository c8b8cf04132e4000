"""Storage of a sweep's results folder: part files, design, manifest and lock.

A sweep's folder holds ``manifest.json`` (:data:`MANIFEST`: the spec, its digest
and provenance), ``design.parquet`` (:data:`DESIGN`: every point, in values and
unit coordinates) and ``parts/`` (:data:`PARTS`: one Parquet file per finished
task, ``points-START-STOP.parquet``), plus a ``.lock`` file while a sweep writes
to it. The helpers here name, list, read and write those files; files are written
atomically (:func:`tipresearch.io.atomic_write`).

References
----------
:mod:`tipresearch.experiments.sweep` for how a sweep uses its folder (resume, refusal of a
different spec).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tipresearch import __version__
from tipresearch.errors import DataFileError, ParameterError
from tipresearch.io import atomic_write

from .design import Design
from .spec import SweepSpec

MANIFEST = "manifest.json"
DESIGN = "design.parquet"
PARTS = "parts"
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


def _write_design(path: Path, design: Design) -> None:
    frame = design.values.copy()
    frame.insert(0, "point", np.arange(len(design)))
    for j, name in enumerate(design.space.names):
        frame[_UNIT + name] = design.unit[:, j]
    atomic_write(path, lambda p: frame.to_parquet(p, index=False))


def _read_design(path: Path, spec: SweepSpec) -> Design:
    frame = pd.read_parquet(path)
    names = spec.space.names
    unit = frame[[_UNIT + n for n in names]].to_numpy(dtype=float)
    values = frame[list(names)].reset_index(drop=True)
    opts = spec.design_options()
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


def _lock(root: Path) -> Any:
    """Hold ``root/.lock`` so that no second sweep writes to the same folder at once.

    Returns the open lock file (closing it releases the lock). Where ``fcntl`` is
    missing (Windows) the file is opened but not locked.

    Raises
    ------
    ParameterError
        When another process holds the lock.
    """
    root.mkdir(parents=True, exist_ok=True)
    handle = open(root / ".lock", "a+")  # noqa: SIM115 - closed by the caller
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return handle
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        handle.close()
        raise ParameterError(
            "out", str(root), "a folder no other sweep is writing to (another one holds its .lock)"
        ) from exc
    return handle


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
