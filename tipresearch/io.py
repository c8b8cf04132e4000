"""Atomic file output: a file is either the old one or the complete new one."""

from __future__ import annotations

import os
import secrets
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
        The final file. Its folder is created if missing. The temporary file is
        flushed to disk (``fsync``) before it is renamed into place, and the folder
        after, so that a crash leaves the old file or the whole new one. It gets the
        mode a file created with ``open`` would (``0o666`` less the umask, usually
        ``0o644``), not the private mode of a temporary file.
    write : callable
        Called with a temporary path in the same folder; it must create that file.

    Returns
    -------
    pathlib.Path
        The final path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = _new_file(path)
    try:
        write(tmp_path)
        _fsync(tmp_path)  # on disk before it takes the final name
        os.replace(tmp_path, path)
        _fsync(path.parent)  # and the rename itself
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
    return path


def _fsync(path: Path) -> None:
    """Flush a file, or a folder's entries, to disk (folders: where the system allows)."""
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() and hasattr(os, "O_DIRECTORY") else 0)
    try:
        fd = os.open(path, flags)
    except OSError:  # a folder that cannot be opened (not POSIX): nothing to flush
        if path.is_dir():
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not path.is_dir():  # some systems cannot flush a folder; a file must flush
            raise
    finally:
        os.close(fd)


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


def _new_file(path: Path) -> Path:
    """A new empty file beside ``path``, named ``.NAME.RANDOM.tmp``, created as ``open``
    creates files (mode ``0o666`` less the umask, applied by the system) rather than
    with a temporary file's private mode, so that it needs no change of mode."""
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"no free temporary name beside {path}")
