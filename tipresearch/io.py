"""Atomic file output: a file is either the old one or the complete new one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from tipresearch.errors import ParameterError

TABLE_SUFFIXES = (".csv", ".parquet")


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Write a file through ``write(tmp_path)`` and move it into place atomically.

    Parameters
    ----------
    path : path-like
        The final file. Its folder is created if missing.
    write : callable
        Called with a temporary path in the same folder; it must create that file.

    Returns
    -------
    pathlib.Path
        The final path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
    return path


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write text atomically (UTF-8)."""
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_table(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a frame to ``.csv`` or ``.parquet`` atomically, chosen by the suffix.

    Raises
    ------
    ParameterError
        If the suffix is neither ``.csv`` nor ``.parquet``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise ParameterError("out", str(path), "a file name ending in .csv or .parquet")
    if suffix == ".csv":
        return atomic_write(path, lambda p: frame.to_csv(p, index=False))
    return atomic_write(path, lambda p: frame.to_parquet(p, index=False))


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a ``.csv`` or ``.parquet`` table written by :func:`write_table`."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path)
