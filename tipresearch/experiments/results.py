"""A sweep's results folder, opened for reading.

:func:`open_sweep` opens the folder a sweep writes
(:func:`tipresearch.experiments.sweep.run_sweep`; the files are described in
:mod:`tipresearch.experiments.store`) and returns a :class:`Sweep`: its spec, its design
and its results. The part files are read together as one :mod:`pyarrow.dataset`, whose
schema is the union of the parts' schemas: a part whose runs all failed has no output
columns, and its rows get missing outputs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tipresearch.errors import DataFileError, ParameterError

from .design import Design
from .executors import KEY_COLUMNS, TAIL_COLUMNS
from .spec import SweepSpec
from .store import DESIGN, MANIFEST, PARTS, _check_parts, _read_design, _read_manifest

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["Sweep", "open_sweep"]


# --------------------------------------------------------------------------- part files


def _footers(parts: Sequence[Path]) -> list[tuple[pa.Schema, int]]:
    """The schema and the number of rows of each part file, from its footer."""
    import pyarrow.parquet as pq

    out = []
    for p in parts:
        meta = pq.read_metadata(p)
        out.append((meta.schema.to_arrow_schema(), meta.num_rows))
    return out


def _unified(schemas: Sequence[pa.Schema]) -> pa.Schema:
    """The union of the parts' schemas, columns in order of first appearance.

    ``permissive`` lets a column with no value at all in one part (type ``null``: an
    ``error`` column where no run failed) take its type from the other parts, and text
    written as ``string`` in one part and ``large_string`` in another be one column.
    """
    import pyarrow as pa

    return pa.unify_schemas(list(schemas), promote_options="permissive")


def _read_parts(parts: Sequence[Path]) -> pd.DataFrame:
    """Every row of the part files, in file order, as one frame.

    The files are read as one :func:`pyarrow.dataset.dataset` with the unified schema
    (:func:`_unified`). A text column that is empty (type ``null``) in some parts
    comes out as concatenating the parts' frames with :func:`pandas.concat` gave it:
    an ``object`` column, missing values ``None`` in the rows of those parts and
    ``nan`` in the others.
    """
    import pyarrow as pa
    import pyarrow.dataset as ds

    footers = _footers(parts)
    schemas = [schema for schema, _ in footers]
    unified = _unified(schemas)
    table = ds.dataset([str(p) for p in parts], schema=unified, format="parquet").to_table()
    frame = table.to_pandas()
    part_of_row = np.repeat(np.arange(len(parts)), [rows for _, rows in footers])
    for field in unified:
        if not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)):
            continue
        empty = [
            i
            for i, schema in enumerate(schemas)
            if field.name in schema.names and pa.types.is_null(schema.field(field.name).type)
        ]
        if empty:
            column = frame[field.name].astype(object)
            frame[field.name] = column.mask(np.isin(part_of_row, empty), None)
    return frame


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

    def _checked(self) -> tuple[list[tuple[int, int, Path]], list[str]]:
        """Whole part files, and one line for each damaged one."""
        whole, damaged = [], []
        for a, b, path, problem in _check_parts(
            self.out / PARTS, self.points, self.spec.replications
        ):
            if problem is None:
                whole.append((a, b, path))
            else:
                damaged.append(f"{path.name}: {problem}")
        return whole, damaged

    def parts(self) -> list[Path]:
        """Whole part files, in point order (a damaged one is left out: :meth:`problems`)."""
        return [p for _, _, p in self._checked()[0]]

    def done(self) -> np.ndarray:
        """Boolean mask over points: True where a whole part file holds results."""
        mask = np.zeros(self.points, dtype=bool)
        for a, b, _ in self._checked()[0]:
            mask[a:b] = True
        return mask

    def problems(self) -> list[str]:
        """What keeps the results from being whole, one line each (empty: none).

        Damaged part files (unreadable, a checksum other than their record's, or
        other rows than every run of their points once; ``tipresearch sweep
        --resume`` sets them aside and runs their points again), and points without
        results.
        """
        whole, damaged = self._checked()
        mask = np.zeros(self.points, dtype=bool)
        for a, b, _ in whole:
            mask[a:b] = True
        missing = int((~mask).sum())
        out = [f"damaged part {line}" for line in damaged]
        if missing:
            out.append(f"{missing} of {self.points} points have no results")
        return out

    @property
    def complete(self) -> bool:
        """True when every point has results in a whole part file."""
        return not self.problems()

    def results(self) -> pd.DataFrame:
        """Every run: one row per (point, replication), sorted.

        Returns
        -------
        pandas.DataFrame
            ``point``, ``replication``, ``seed``, the parameters, the outputs (missing
            for a run that failed), ``error`` and ``seconds``.

        Raises
        ------
        DataFileError
            When two part files hold the same point (the folder was altered by hand).
        """
        parts = self.parts()
        if not parts:
            cols = [*KEY_COLUMNS, *self.spec.space.names, *TAIL_COLUMNS]
            return pd.DataFrame(columns=cols)
        frame = _read_parts(parts)
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
        """Output columns found in the results, in order of first appearance."""
        parts = self.parts()
        if not parts:
            return []
        names = set(KEY_COLUMNS) | set(self.spec.space.names) | set(TAIL_COLUMNS)
        return [c for c in _unified([s for s, _ in _footers(parts)]).names if c not in names]

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

    Parameters
    ----------
    out : path-like
        The folder given to :func:`tipresearch.experiments.sweep.run_sweep`.

    Returns
    -------
    Sweep

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


# --------------------------------------------------------------------------- for analyses


def _open(sweep: Sweep | str | os.PathLike) -> Sweep:
    """The sweep itself, or the one in a folder (for analyses that take either)."""
    return sweep if isinstance(sweep, Sweep) else open_sweep(sweep)


def _outputs(sw: Sweep, outputs: Iterable[str] | str | None) -> list[str]:
    """The outputs an analysis asks for (default: all), checked against the sweep's.

    Raises
    ------
    ParameterError
        For an output the sweep does not have, or a sweep without results.
    """
    if isinstance(outputs, str):
        outputs = [outputs]
    known = sw.outputs
    outs = list(outputs) if outputs is not None else known
    bad = [o for o in outs if o not in known]
    if bad:
        raise ParameterError("output", bad, f"outputs of the sweep in {sw.out}: {known}")
    if not outs:
        raise ParameterError("output", outs, f"a sweep with results ({sw.out} has none yet)")
    return outs
