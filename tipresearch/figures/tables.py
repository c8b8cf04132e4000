"""Tables as a paper prints them: plain-word headers, whole-number years, counts with
thousands separators and no scientific notation, no index, no empty columns.

:func:`paper_table` turns a frame into a :class:`pandas.io.formats.style.Styler` that
Jupyter and the book render as HTML; the frame's values are not changed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from tipresearch.errors import ParameterError

__all__ = ["YEAR_RANGE", "column_formats", "paper_table", "plain_header"]

#: Whole numbers in this range, in a column whose name speaks of a date, print as years.
YEAR_RANGE = (1800, 2200)

_DATE_WORDS = re.compile(r"year|period|date|start|end|since|until", re.IGNORECASE)
_MISSING = "–"


def plain_header(label: Any) -> str:
    """A column or index label in plain words: ``solved_count`` → ``solved count``;
    a whole-number float label (a year read as 2009.0) → ``2009``."""
    if isinstance(label, tuple):
        return " · ".join(plain_header(part) for part in label if str(part) != "")
    if isinstance(label, float | np.floating) and float(label).is_integer():
        return str(int(label))
    return str(label).replace("_", " ")


def _whole(values: pd.Series) -> bool:
    finite = values[np.isfinite(values)]
    return bool(len(finite)) and bool(np.all(np.equal(np.mod(finite, 1), 0)))


def column_formats(frame: pd.DataFrame, digits: int = 3) -> dict[Any, str]:
    """The format of each numeric column: ``{:d}``-like for years, ``{:,.0f}`` for
    whole numbers, ``{:,.Nf}`` with ``N = digits`` for the rest.

    Parameters
    ----------
    frame : pandas.DataFrame
    digits : int
        Decimals of numbers that are not whole (0-10).

    Returns
    -------
    dict
        ``{column: format string}`` for the numeric columns.
    """
    if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= 10:
        raise ParameterError("digits", digits, "a whole number from 0 to 10")
    formats = {}
    for column in frame.columns:
        values = frame[column]
        if values.dtype == bool or not pd.api.types.is_numeric_dtype(values):
            continue
        numbers = values.astype(float)
        finite = numbers[np.isfinite(numbers)]
        if _whole(numbers):
            lo, hi = YEAR_RANGE
            dated = _DATE_WORDS.search(plain_header(column)) is not None
            years = dated and bool(finite.between(lo, hi).all())
            formats[column] = "{:.0f}" if years else "{:,.0f}"
        else:
            formats[column] = f"{{:,.{digits}f}}"
    return formats


def paper_table(
    frame: pd.DataFrame | pd.Series,
    *,
    labels: Mapping[Any, str] | None = None,
    digits: int = 3,
    caption: str | None = None,
    keep_index: bool | None = None,
) -> Any:
    """A frame styled as a published table.

    Parameters
    ----------
    frame : pandas.DataFrame or Series
        The table. A meaningful index (not 0, 1, 2, ...) becomes its first columns.
    labels : mapping, optional
        Headers to use instead of the column names (others: :func:`plain_header`).
    digits : int
        Decimals of numbers that are not whole numbers.
    caption : str, optional
        Printed above the table (with its source, where the rows have one).
    keep_index : bool, optional
        Keep the index as columns (default: when it is not a plain 0, 1, 2, ... range).

    Returns
    -------
    pandas.io.formats.style.Styler
        Headers in plain words; years as whole numbers; whole numbers with thousands
        separators; other numbers to ``digits`` decimals, never in scientific
        notation; missing values as an en dash; all-empty columns and the index left
        out.
    """
    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError("frame", type(frame).__name__, "a pandas DataFrame or Series")
    table = frame.copy()
    plain_range = isinstance(table.index, pd.RangeIndex) and table.index.start == 0
    if keep_index if keep_index is not None else not plain_range:
        table = table.reset_index()
    empty = [
        c
        for c in table.columns
        if table[c].isna().all() or (table[c].astype(str).str.strip() == "").all()
    ]
    table = table.drop(columns=empty)
    formats = column_formats(table, digits)
    if "unit" in table.columns:
        # a column of values in mixed units (the cable's table): years by their row's unit
        year_rows = table["unit"].astype(str).str.contains("year", case=False)
        for column, fmt in list(formats.items()):
            if fmt == "{:,.0f}" and year_rows.any():
                table[column] = [
                    _MISSING if pd.isna(v) else ("{:.0f}" if is_year else fmt).format(v)
                    for v, is_year in zip(table[column], year_rows, strict=True)
                ]
                del formats[column]
    names = {c: (labels or {}).get(c, plain_header(c)) for c in table.columns}
    table = table.rename(columns=names)
    formats = {names[c]: f for c, f in formats.items()}
    numeric = [c for c in table.columns if c in formats or _numeric_text(table[c])]
    text = [c for c in table.columns if c not in numeric]
    styler = table.style.format(formats, na_rep=_MISSING).hide(axis="index")
    styler = styler.format_index(plain_header, axis="columns")
    if numeric:
        styler = styler.set_properties(subset=numeric, **{"text-align": "right"})
    if text:
        styler = styler.set_properties(
            subset=text, **{"text-align": "left", "min-width": "8em", "max-width": "28em"}
        )
    if caption:
        styler = styler.set_caption(caption)
    # the rules of a published table: above and below it, and under its header
    return styler.set_table_styles(
        [
            {
                "selector": "",
                "props": "border-collapse: collapse; border-top: 2px solid #333;"
                " border-bottom: 2px solid #333;",
            },
            {"selector": "caption", "props": "caption-side: top; text-align: left;"},
            {
                "selector": "thead th",
                "props": "border-bottom: 1px solid #333; padding: 0.3em 0.6em;"
                " vertical-align: bottom;",
            },
            {"selector": "td", "props": "padding: 0.25em 0.6em; vertical-align: top;"},
        ]
    )


def _numeric_text(values: pd.Series) -> bool:
    """A column already written as numbers (the year-aware column above)."""
    if pd.api.types.is_numeric_dtype(values):
        return True
    text = values.astype(str).str.replace(",", "", regex=False).str.strip()
    return bool(text.str.fullmatch(r"-?[0-9.]+|–").all())
