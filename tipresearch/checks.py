"""Checks for user-given parameters (notebook parameters, function arguments).

Each check returns the value when it is allowed and raises
:class:`tipresearch.errors.ParameterError` naming the parameter, its value and
what is allowed otherwise. Notebooks call them in the cell after their
``parameters`` cell, so that a bad papermill parameter fails at once with a
clear message.
"""

from __future__ import annotations

import numbers
import os
from pathlib import Path
from typing import Any

from tipresearch.errors import ParameterError


def check_int(name: str, value: Any, low: int, high: int) -> int:
    """Return ``value`` if it is an integer in ``[low, high]``.

    Parameters
    ----------
    name : str
        The parameter's name, for the error message.
    value : Any
        The value given. Booleans are not integers here.
    low, high : int
        Inclusive bounds.

    Returns
    -------
    int

    Raises
    ------
    ParameterError
        If ``value`` is not an integer or lies outside ``[low, high]``.
    """
    allowed = f"an integer in [{low}, {high}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ParameterError(name, value, allowed)
    if not low <= value <= high:
        raise ParameterError(name, value, allowed)
    return int(value)


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is ``True`` or ``False``.

    Raises
    ------
    ParameterError
        For anything else (including 0, 1 and strings).
    """
    if not isinstance(value, bool):
        raise ParameterError(name, value, "True or False")
    return value


def check_text(name: str, value: Any) -> str:
    """Return ``value`` if it is a non-blank string.

    Raises
    ------
    ParameterError
        If ``value`` is not a string or is blank.
    """
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(name, value, "a non-empty string")
    return value


def check_output_folder(name: str, value: Any) -> Path:
    """Return ``value`` as a path if a folder there exists or can be made and written.

    Checked before long work starts, so that a run does not fail on its output
    folder after the work is done.

    Raises
    ------
    ParameterError
        If a file is in the way, or the folder (or the nearest existing folder
        above it) cannot be written.
    """
    path = Path(check_text(name, str(value) if isinstance(value, os.PathLike) else value))
    if path.exists() and not path.is_dir():
        raise ParameterError(name, str(path), "a folder (a file of that name is in the way)")
    here = nearest_existing(path)
    if here.exists() and not here.is_dir():
        raise ParameterError(name, str(path), f"a folder ({here} is a file, not a folder)")
    if not os.access(here, os.W_OK | os.X_OK):
        raise ParameterError(name, str(path), f"a folder that can be written ({here} cannot)")
    return path


def check_output_file(name: str, value: Any, suffixes: tuple[str, ...] | None = None) -> Path:
    """Return ``value`` as a path if a file can be written there.

    Checked before the work starts: the name must end in one of ``suffixes`` (when
    given, for example :data:`tipresearch.io.TABLE_SUFFIXES`), the path must not be a
    folder, and its folder must exist (or be creatable) and be writable.

    Raises
    ------
    ParameterError
        For another suffix, if a folder is in the way, a file stands where a folder
        is needed, or the place cannot be written.
    """
    path = Path(check_text(name, str(value) if isinstance(value, os.PathLike) else value))
    if suffixes and not str(path).lower().endswith(tuple(suffixes)):
        allowed = " or ".join(suffixes)
        raise ParameterError(name, str(path), f"a file name ending in {allowed}")
    if path.is_dir():
        raise ParameterError(name, str(path), "a file name (a folder of that name is in the way)")
    if path.exists() and not os.access(path, os.W_OK):
        raise ParameterError(name, str(path), "a file that can be written (this one cannot)")
    here = nearest_existing(path.parent)
    if here.exists() and not here.is_dir():
        raise ParameterError(name, str(path), f"a file in a folder ({here} is a file)")
    try:
        check_output_folder(name, path.parent)
    except ParameterError as err:
        raise ParameterError(name, str(path), f"a file in {err.allowed}") from None
    return path


def nearest_existing(path: Path) -> Path:
    """``path`` itself if it exists, else the nearest folder above it that does."""
    here = Path(path)
    while not here.exists() and here.parent != here:
        here = here.parent
    return here


def memory_limit() -> int:
    """Bytes a single run may plan to hold: half of the machine's physical memory."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not reported: assume 8 GiB
        total = 8 << 30
    return int(total) // 2


def check_size(name: str, value: Any, needed: float, what: str, limit: int | None = None) -> None:
    """Refuse, before allocating, a run whose estimated memory exceeds the limit.

    Parameters
    ----------
    name, value : str, Any
        The option that sets the size, and its value, for the message.
    needed : float
        Estimated bytes.
    what : str
        What would be held, in a few words (for example ``"2,400,000 rows"``).
    limit : int, optional
        Bytes allowed (default :func:`memory_limit`).

    Raises
    ------
    ParameterError
        Naming the estimate and the limit.
    """
    limit = memory_limit() if limit is None else int(limit)
    if needed > limit:
        raise ParameterError(
            name,
            value,
            f"a size that fits in memory: {what} need about {_gib(needed)}, "
            f"more than the limit of {_gib(limit)} (half the machine's memory)",
        )


def _gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB" if n >= 2**30 else f"{n / 2**20:,.0f} MiB"


def check_seed(seed: object) -> int:
    """A random seed: a whole number >= 0 (numpy's ``SeedSequence`` entropy).

    Raises
    ------
    ParameterError
        For a negative, fractional or non-numeric seed, or a bool.
    """
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ParameterError("seed", seed, "a whole number >= 0")
    return int(seed)
