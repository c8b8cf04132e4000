"""Declarative schemas for the project's CSV data files.

A :class:`Schema` is a tuple of :class:`Column` descriptions (name, kind,
required or not, allowed values, range). :meth:`Schema.read` reads a CSV file,
checks every cell against its column and returns a frame with proper dtypes; the
first problem found raises :class:`tipresearch.errors.DataFileError` naming the
file, the 1-based data row (header excluded) and the column.

Column kinds and the dtype each one gives:

========== ====================================================== ======================
kind       accepted text                                          dtype
========== ====================================================== ======================
id         snake_case (``[a-z][a-z0-9]*(_[a-z0-9]+)*``), unique   ``str``
text       any non-blank text                                     ``str``
float      a decimal number                                       ``float64``
int        an integer (``minimum``/``maximum`` inclusive)         ``Int64``
category   one of ``allowed``                                     ``category``
date_start ISO date; a month or year becomes its first day        ``datetime64[ns]``
date_end   ISO date; a month or year becomes its last day         ``datetime64[ns]``
date_span  ISO date or ``start/end`` interval; kept as text and   ``str`` + 2 datetimes
           expanded into ``<name>_start``, ``<name>_end`` and       + ``category``
           ``<name>_precision`` (year, month or day)
========== ====================================================== ======================

Dates keep the precision the source gives: a month-precision period
``2009-04``..``2009-08`` loads as 2009-04-01..2009-08-31, an interval that
contains the period the source states and no more than the whole months it names.
Empty cells of optional columns load as missing (NaN, ``<NA>`` or ``NaT``).
"""

from __future__ import annotations

import calendar
import csv
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from tipresearch.errors import DataFileError

Kind = Literal["id", "text", "float", "int", "category", "date_start", "date_end", "date_span"]
KINDS: tuple[str, ...] = (
    "id",
    "text",
    "float",
    "int",
    "category",
    "date_start",
    "date_end",
    "date_span",
)
#: Date precisions, coarsest first.
PRECISIONS: tuple[str, ...] = ("year", "month", "day")

_ID_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_DATE_PATTERNS = {
    "year": re.compile(r"^(\d{4})$"),
    "month": re.compile(r"^(\d{4})-(\d{2})$"),
    "day": re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"),
}
_DATE_FORMS = {"year": "YYYY", "month": "YYYY-MM", "day": "YYYY-MM-DD"}


def parse_iso_date(
    text: str, precisions: Sequence[str] = PRECISIONS
) -> tuple[pd.Timestamp, pd.Timestamp, str]:
    """Parse an ISO date of year, month or day precision into the days it covers.

    Parameters
    ----------
    text : str
        ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``.
    precisions : sequence of str
        The precisions accepted (a subset of :data:`PRECISIONS`).

    Returns
    -------
    first, last : pandas.Timestamp
        The first and the last day the date covers (equal for a day).
    precision : str
        ``"year"``, ``"month"`` or ``"day"``.

    Raises
    ------
    ValueError
        If the text is not one of the accepted forms or not a calendar date.
    """
    for precision in precisions:
        match = _DATE_PATTERNS[precision].match(text)
        if match is None:
            continue
        parts = [int(p) for p in match.groups()]
        year = parts[0]
        if precision == "year":
            return pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31), precision
        month = parts[1]
        if not 1 <= month <= 12:
            raise ValueError(f"month {month:02d} is not in 01-12")
        last_day = calendar.monthrange(year, month)[1]
        if precision == "month":
            return pd.Timestamp(year, month, 1), pd.Timestamp(year, month, last_day), precision
        day = parts[2]
        if not 1 <= day <= last_day:
            raise ValueError(f"day {day:02d} does not exist in {year}-{month:02d}")
        stamp = pd.Timestamp(year, month, day)
        return stamp, stamp, precision
    forms = " or ".join(_DATE_FORMS[p] for p in precisions)
    raise ValueError(f"not an ISO date ({forms})")


def parse_iso_span(
    text: str, precisions: Sequence[str] = PRECISIONS
) -> tuple[pd.Timestamp, pd.Timestamp, str]:
    """Parse an ISO date or an ISO interval ``start/end`` into the days it covers.

    Parameters
    ----------
    text : str
        A date accepted by :func:`parse_iso_date`, or two of them joined by ``/``.
    precisions : sequence of str
        The precisions accepted for each date.

    Returns
    -------
    first, last : pandas.Timestamp
        The first day of the start and the last day of the end.
    precision : str
        The coarser of the two dates' precisions.

    Raises
    ------
    ValueError
        If a date is malformed or the interval ends before it starts.
    """
    if "/" not in text:
        return parse_iso_date(text, precisions)
    start_text, _, end_text = text.partition("/")
    first, _, p_start = parse_iso_date(start_text, precisions)
    _, last, p_end = parse_iso_date(end_text, precisions)
    if last < first:
        raise ValueError("the interval ends before it starts")
    precision = min(p_start, p_end, key=PRECISIONS.index)
    return first, last, precision


@dataclass(frozen=True)
class Column:
    """One column of a data file.

    Parameters
    ----------
    name : str
        The header.
    kind : str
        One of :data:`KINDS` (see the module docstring).
    required : bool
        Whether every row must have a value.
    allowed : tuple of str
        The allowed values of a ``category`` column, in display order.
    minimum, maximum : float or None
        Inclusive bounds for ``int`` and ``float`` columns.
    precisions : tuple of str
        Date precisions accepted by the date kinds.
    description : str
        What the column holds, for documentation.
    """

    name: str
    kind: Kind
    required: bool = True
    allowed: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    precisions: tuple[str, ...] = PRECISIONS
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column '{self.name}': unknown kind {self.kind!r}")
        if self.kind == "category" and not self.allowed:
            raise ValueError(f"column '{self.name}': a category column needs allowed values")
        if not set(self.precisions) <= set(PRECISIONS):
            raise ValueError(f"column '{self.name}': precisions must be among {PRECISIONS}")

    def _range_text(self) -> str:
        low = "-inf" if self.minimum is None else f"{self.minimum:g}"
        high = "inf" if self.maximum is None else f"{self.maximum:g}"
        return f"[{low}, {high}]"

    def _in_range(self, number: float) -> bool:
        return (self.minimum is None or number >= self.minimum) and (
            self.maximum is None or number <= self.maximum
        )


@dataclass(frozen=True)
class Schema:
    """The columns of one data file and the checks that span columns.

    Parameters
    ----------
    name : str
        The kind of file, for documentation (``"cable figures"``).
    columns : tuple of Column
        The columns, in the order the loaded frame has them.
    ordered : tuple of (str, str)
        Pairs of date columns whose values, where both are present, must not
        decrease from the first to the second (``("period_start", "period_end")``).
    """

    name: str
    columns: tuple[Column, ...]
    ordered: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"schema '{self.name}': duplicate column names")
        for pair in self.ordered:
            if not set(pair) <= set(names):
                raise ValueError(f"schema '{self.name}': ordered pair {pair} names unknown columns")

    @property
    def names(self) -> tuple[str, ...]:
        """The column names in file order."""
        return tuple(c.name for c in self.columns)

    def read(self, path: str | os.PathLike) -> pd.DataFrame:
        """Read and check a CSV file.

        Parameters
        ----------
        path : path-like
            A UTF-8 CSV file with a header row.

        Returns
        -------
        pandas.DataFrame
            One row per data row, columns and dtypes as the schema says.

        Raises
        ------
        DataFileError
            Naming the file, the 1-based data row and the column of the first
            problem: a missing or unexpected column, a row with the wrong number of
            fields, an empty required cell, a value of the wrong kind or outside
            its range, a duplicate id, or dates out of order.
        """
        path = Path(path)
        header, rows = _read_csv(path)
        return self.validate(path, header, rows)

    def validate(
        self, path: str | os.PathLike, header: Sequence[str], rows: Sequence[tuple[int, list[str]]]
    ) -> pd.DataFrame:
        """Check already-split rows against the schema and build the frame.

        Parameters
        ----------
        path : path-like
            The file the rows came from (named in errors).
        header : sequence of str
            The header, which must hold exactly the schema's columns.
        rows : sequence of (int, list of str)
            The 1-based data row number and the raw cells of each row.

        Returns
        -------
        pandas.DataFrame
            As :meth:`read`.
        """
        self._check_header(path, header)
        position = {name: i for i, name in enumerate(header)}
        data: dict[str, object] = {}
        parsed: dict[str, list] = {}
        for column in self.columns:
            cells = [(row, fields[position[column.name]].strip()) for row, fields in rows]
            values = _parse_column(path, column, cells)
            parsed[column.name] = values
            data.update(_to_series(column, values))
        for earlier, later in self.ordered:
            for (row, _), a, b in zip(rows, parsed[earlier], parsed[later], strict=True):
                if a is not None and b is not None and _start_of(a) > _end_of(b):
                    raise DataFileError(
                        str(path), row, later, f"ends before '{earlier}' starts ({a} > {b})"
                    )
        return pd.DataFrame(data, index=pd.RangeIndex(len(rows)))

    def _check_header(self, path: str | os.PathLike, header: Sequence[str]) -> None:
        seen: set[str] = set()
        for name in header:
            if name in seen:
                raise DataFileError(str(path), None, name, "column appears twice in the header")
            seen.add(name)
        for name in self.names:
            if name not in seen:
                raise DataFileError(str(path), None, name, "missing column")
        for name in header:
            if name not in self.names:
                raise DataFileError(
                    str(path),
                    None,
                    name,
                    f"unexpected column; the columns are {', '.join(self.names)}",
                )


def _start_of(value: object) -> pd.Timestamp:
    return value[0] if isinstance(value, tuple) else value  # type: ignore[return-value]


def _end_of(value: object) -> pd.Timestamp:
    return value[1] if isinstance(value, tuple) else value  # type: ignore[return-value]


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Return the header and the non-blank data rows with their 1-based numbers."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            records = list(csv.reader(handle))
    except FileNotFoundError:
        raise DataFileError(str(path), None, None, "no such file") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataFileError(str(path), None, None, f"not a UTF-8 CSV file ({exc})") from None
    if not records or not any(cell.strip() for cell in records[0]):
        raise DataFileError(str(path), None, None, "empty file: no header row")
    header = [cell.strip() for cell in records[0]]
    rows: list[tuple[int, list[str]]] = []
    for number, fields in enumerate(records[1:], start=1):
        if not any(cell.strip() for cell in fields):
            continue
        if len(fields) != len(header):
            raise DataFileError(
                str(path), number, None, f"{len(fields)} fields, the header has {len(header)}"
            )
        rows.append((number, fields))
    return header, rows


def _parse_column(path: Path | str, column: Column, cells: list[tuple[int, str]]) -> list:
    """Parse the cells of one column; None stands for an empty optional cell."""
    values: list = []
    first_row: dict[str, int] = {}
    for row, text in cells:
        if text == "":
            if column.required:
                raise DataFileError(str(path), row, column.name, "empty required field")
            values.append(None)
            continue
        try:
            value = _parse_cell(column, text)
        except ValueError as exc:
            raise DataFileError(str(path), row, column.name, f"{exc}: {text!r}") from None
        if column.kind == "id":
            if text in first_row:
                raise DataFileError(
                    str(path),
                    row,
                    column.name,
                    f"duplicate id {text!r} (first in row {first_row[text]})",
                )
            first_row[text] = row
        values.append(value)
    return values


def _parse_cell(column: Column, text: str) -> object:
    kind = column.kind
    if kind == "id":
        if not _ID_PATTERN.match(text):
            raise ValueError("not a snake_case id")
        return text
    if kind == "text":
        return text
    if kind == "category":
        if text not in column.allowed:
            raise ValueError(f"not one of {', '.join(column.allowed)}")
        return text
    if kind == "float":
        try:
            number = float(text)
        except ValueError:
            raise ValueError("not a number") from None
        if not np.isfinite(number):
            raise ValueError("not a finite number")
        if not column._in_range(number):
            raise ValueError(f"outside {column._range_text()}")
        return number
    if kind == "int":
        if not re.fullmatch(r"[+-]?\d+", text):
            raise ValueError("not an integer")
        number = int(text)
        if not column._in_range(number):
            raise ValueError(f"outside {column._range_text()}")
        return number
    first, last, precision = parse_iso_span(text, column.precisions)
    if kind == "date_start":
        if "/" in text:
            raise ValueError("an interval where one date is expected")
        return first
    if kind == "date_end":
        if "/" in text:
            raise ValueError("an interval where one date is expected")
        return last
    return (first, last, precision, text)


def _to_series(column: Column, values: list) -> dict[str, object]:
    """Turn parsed values into the column's dtype (a span gives four columns)."""
    name = column.name
    kind = column.kind
    if kind in ("id", "text"):
        return {name: pd.Series(values, dtype="str")}
    if kind == "category":
        return {name: pd.Categorical(values, categories=list(column.allowed))}
    if kind == "float":
        return {name: np.array([np.nan if v is None else v for v in values], dtype="float64")}
    if kind == "int":
        return {name: pd.array(values, dtype="Int64")}
    if kind in ("date_start", "date_end"):
        return {name: pd.Series(values, dtype="datetime64[ns]")}
    spans = [(None, None, None, None) if v is None else v for v in values]
    return {
        name: pd.Series([s[3] for s in spans], dtype="str"),
        f"{name}_start": pd.Series([s[0] for s in spans], dtype="datetime64[ns]"),
        f"{name}_end": pd.Series([s[1] for s in spans], dtype="datetime64[ns]"),
        f"{name}_precision": pd.Categorical([s[2] for s in spans], categories=list(PRECISIONS)),
    }
