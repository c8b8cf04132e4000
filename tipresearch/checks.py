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
    here = path
    while not here.exists():
        if here.parent == here:
            break
        here = here.parent
    if here.exists() and not here.is_dir():
        raise ParameterError(name, str(path), f"a folder ({here} is a file, not a folder)")
    if not os.access(here, os.W_OK | os.X_OK):
        raise ParameterError(name, str(path), f"a folder that can be written ({here} cannot)")
    return path


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
