"""Error types shared by the package.

Every error a user can cause names what was wrong, the value given and what is
allowed, so that the message alone is enough to fix the input.
"""

from __future__ import annotations

from typing import Any


class ParameterError(ValueError):
    """A parameter outside its allowed range or of the wrong kind.

    Parameters
    ----------
    name : str
        The parameter's name as the user wrote it (``audit_prob``,
        ``case_types.children.beta_a``, ``--periods``).
    value : Any
        The value that was given.
    allowed : str
        What would have been accepted, in words (``a number in [0, 1]``).
    """

    def __init__(self, name: str, value: Any, allowed: str) -> None:
        self.name = name
        self.value = value
        self.allowed = allowed
        super().__init__(f"parameter '{name}' = {value!r} is not allowed: {allowed}")


class DataFileError(ValueError):
    """A data file that does not match its schema.

    Parameters
    ----------
    path : str
        The file.
    row : int or None
        The 1-based data row (header excluded), or None for a file-level problem.
    column : str or None
        The column, or None when the problem is not tied to one column.
    problem : str
        What is wrong.
    """

    def __init__(self, path: str, row: int | None, column: str | None, problem: str) -> None:
        self.path = str(path)
        self.row = row
        self.column = column
        where = [self.path]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        super().__init__(f"{', '.join(where)}: {problem}")
