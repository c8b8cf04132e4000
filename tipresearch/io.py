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
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        os.chmod(tmp_path, 0o666 & ~_umask())  # as open() would: readable by others
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


def _umask() -> int:
    """The process's umask: from ``/proc/self/status`` where there is one (no change of
    state, safe across threads), else by setting it and putting it back."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
