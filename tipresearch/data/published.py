"""Published figures on trafficking cases in China: tidy tables, their build and their loader.

The tables in ``data/published/`` are copied from the project's collection of
published figures (``data/sources/published_figures.csv``, committed with the
repository; its provenance is in ``data/README.md``), one row per figure, each
with its source, locator and confidence level. :func:`build_published_tables` derives them from
that file by a fixed list of row ids (:data:`TABLES`): values, periods and
sources are copied, never computed; only the form changes (an interval
``2000-2008`` is written ``2000/2008``, a range ``2500-3000`` goes into
``value`` and ``value_high``, a unit ``cases (about)`` becomes unit ``cases``
with qualifier ``about``). The committed CSV files are what the package loads
(:func:`load_published`), checked against :data:`PUBLISHED_SCHEMA`.

A fourth table, ``recording_shares.csv`` (:data:`RECORDING_TABLE`), holds the
studies of how much crime gets recorded, in China and elsewhere: each row says
which stage it measures (:data:`RECORDING_STAGES`: victims reporting to the
police, the police recording what is reported, or both together; beside the funnel,
the police recording a crime as a lesser one) and what its value is
(:data:`RECORDING_QUANTITIES`), with the licence of its publication where the
collection records one (:func:`recording_licence`). It is built by the same function from
:data:`RECORDING_ROWS`, checked against :data:`RECORDING_SCHEMA` and loaded by
:func:`load_recording_shares`; shares derived from it (one minus a share not
recorded, recorded over estimated crimes) are computed by the package, never stored.

References
----------
National Bureau of Statistics, China Statistical Yearbook 2010, table 22-11;
Xinhua, 9 March 2012; China Daily, 2 June 2009; US Embassy Beijing cable
09BEIJING2594 ¶8; Yu & Zhang (1999); Hu & Hu (2006); HMIC (2014); Smith & Allen
(2004); Home Office (2003); Bureau of Justice Statistics (2018) (full list in
``data/README.md``).
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

import pandas as pd

from tipresearch.errors import DataFileError, ParameterError
from tipresearch.io import write_text

from .loaders import CASE_TYPES, CONFIDENCE_LEVELS, DATA_DIR
from .schema import Column, Schema

__all__ = [
    "PUBLISHED_DIR",
    "PUBLISHED_SCHEMA",
    "FUNNEL_STAGES",
    "LICENCE_NOT_RECORDED",
    "RECORDING_COLUMNS",
    "RECORDING_LICENCES",
    "RECORDING_QUANTITIES",
    "RECORDING_ROWS",
    "RECORDING_SCHEMA",
    "RECORDING_STAGES",
    "RECORDING_TABLE",
    "SOURCE_FILE",
    "TABLES",
    "build_published_tables",
    "load_published",
    "recording_licence",
    "load_recording_shares",
    "published_row",
    "published_value",
]

#: Folder of the tidy tables.
PUBLISHED_DIR: Path = DATA_DIR / "published"
#: The collection of published figures they are built from (committed in ``data/sources/``).
SOURCE_FILE: Path = DATA_DIR / "sources" / "published_figures.csv"

#: Crime a figure counts.
CRIMES: tuple[str, ...] = ("trafficking", "all_crimes")
#: How the source states a figure.
QUALIFIERS: tuple[str, ...] = ("exact", "about", "range")

#: Tables and the source rows they hold: id -> (crime, case type).
TABLES: dict[str, dict[str, tuple[str, str]]] = {
    "registered_cases": {
        "cn_reg_traf_pre2009": ("trafficking", "all"),
        "cn_reg_traf_2008": ("trafficking", "all"),
        "cn_reg_traf_2009": ("trafficking", "all"),
        "cn_reg_traf_2011": ("trafficking", "all"),
        "cn_child_traf_reg_2012": ("trafficking", "children"),
        "cn_reg_traf_2020": ("trafficking", "all"),
        "cn_child_traf_reg_2020": ("trafficking", "children"),
        "cn_reg_total_2008": ("all_crimes", "all"),
        "cn_reg_total_2009": ("all_crimes", "all"),
        "cn_reg_total_2011": ("all_crimes", "all"),
        "cn_reg_total_2020": ("all_crimes", "all"),
    },
    "solved_cases": {
        "cable_solved_women_2009": ("trafficking", "women"),
        "cable_solved_children_2009": ("trafficking", "children"),
        "cn_solved_2009_to_may25": ("trafficking", "all"),
        "cn_solved_women_2011": ("trafficking", "women"),
        "cn_solved_children_2011": ("trafficking", "children"),
        "cn_solved_total_2009": ("all_crimes", "all"),
    },
    "rescued_victims": {
        "cable_rescued_women_2009": ("trafficking", "women"),
        "cable_rescued_children_2009": ("trafficking", "children"),
        "cn_rescued_women_2011": ("trafficking", "women"),
        "cn_rescued_children_2011": ("trafficking", "children"),
    },
}

PUBLISHED_COLUMNS: tuple[str, ...] = (
    "id",
    "measure",
    "crime",
    "case_type",
    "period",
    "value",
    "value_high",
    "qualifier",
    "unit",
    "source",
    "locator",
    "confidence",
)

PUBLISHED_SCHEMA = Schema(
    name="published figures",
    columns=(
        Column("id", "id", description="the figure's row id in published_figures.csv"),
        Column("measure", "text", description="what was measured, in the project's words"),
        Column("crime", "category", allowed=CRIMES, description="trafficking or all crimes"),
        Column("case_type", "category", allowed=CASE_TYPES, description="women, children or all"),
        Column(
            "period",
            "date_span",
            description="YYYY, YYYY-MM, YYYY-MM-DD or start/end, at the source's precision",
        ),
        Column("value", "float", minimum=0, description="the figure (a range's lower end)"),
        Column(
            "value_high",
            "float",
            required=False,
            minimum=0,
            description="a range's upper end; empty for a single figure",
        ),
        Column("qualifier", "category", allowed=QUALIFIERS, description="exact, about or range"),
        Column("unit", "text", description="cases, persons, cases per year"),
        Column("source", "text", description="publication"),
        Column("locator", "text", description="where in the publication"),
        Column("confidence", "category", allowed=CONFIDENCE_LEVELS, description="source level"),
    ),
    ordered=(),
)

#: Name of the table of recording studies (``data/published/recording_shares.csv``).
RECORDING_TABLE = "recording_shares"
#: Stage of the path from a crime to a police record that a figure measures.
RECORDING_STAGES: tuple[str, ...] = (
    "victim_reporting",
    "police_recording",
    "both_stages",
    "police_classification",
)
#: The stages of the funnel from incidents to recorded crimes; ``police_classification``
#: (a crime recorded as a lesser one, or officers' knowledge of it) is beside the funnel.
FUNNEL_STAGES: tuple[str, ...] = RECORDING_STAGES[:3]
#: What a figure of the recording table is.
RECORDING_QUANTITIES: tuple[str, ...] = (
    "share_recorded",
    "share_not_recorded",
    "share_reported",
    "crimes_estimated",
    "crimes_recorded",
    "share_above_official",
    "crimes_misclassified",
    "share_officers_aware",
)
#: Crimes a recording figure covers.
RECORDING_CRIMES: tuple[str, ...] = (
    "all_crimes",
    "violence",
    "sexual_offences",
    "property",
    "aggravated_assault",
)
#: How a recording figure is stated.
RECORDING_QUALIFIERS: tuple[str, ...] = ("exact", "about", "more than")

#: Rows of the recording table: id -> (place, crime, stage, quantity). ``place`` says
#: where the figure was measured, in the project's words (the source's jurisdiction is
#: copied into its own column); the rest classify the row, as ``crime`` and
#: ``case_type`` do in :data:`TABLES`.
RECORDING_ROWS: dict[str, tuple[str, str, str, str]] = {
    "cn_recorded_share_1985": (
        "one city in China",
        "all_crimes",
        "police_recording",
        "share_recorded",
    ),
    "cn_recorded_share_1987": (
        "one city in China",
        "all_crimes",
        "police_recording",
        "share_recorded",
    ),
    "cn_recorded_share_1988": (
        "one city in China",
        "all_crimes",
        "police_recording",
        "share_recorded",
    ),
    "cn_actual_crimes_2004": ("China", "all_crimes", "both_stages", "crimes_estimated"),
    "cn_recorded_crimes_2004": ("China", "all_crimes", "both_stages", "crimes_recorded"),
    "ew_unrecorded_share_2014": (
        "England and Wales",
        "all_crimes",
        "police_recording",
        "share_not_recorded",
    ),
    "ew_unrecorded_violence_2014": (
        "England and Wales",
        "violence",
        "police_recording",
        "share_not_recorded",
    ),
    "ew_unrecorded_sexual_2014": (
        "England and Wales",
        "sexual_offences",
        "police_recording",
        "share_not_recorded",
    ),
    "ew_violent_recorded_1999": (
        "England and Wales",
        "violence",
        "police_recording",
        "share_recorded",
    ),
    "ew_violent_recorded_2002": (
        "England and Wales",
        "violence",
        "police_recording",
        "share_recorded",
    ),
    "ew_recorded_all_2002": (
        "England and Wales",
        "all_crimes",
        "police_recording",
        "share_recorded",
    ),
    "us_reported_violent_2017": ("United States", "violence", "victim_reporting", "share_reported"),
    "us_reported_property_2017": (
        "United States",
        "property",
        "victim_reporting",
        "share_reported",
    ),
    "la_serious_assault_undercount_2015": (
        "Los Angeles",
        "aggravated_assault",
        "police_classification",
        "share_above_official",
    ),
    "la_ig_audit_2015": (
        "Los Angeles",
        "aggravated_assault",
        "police_classification",
        "crimes_misclassified",
    ),
    "nyc_observed_manipulation_2012": (
        "New York City",
        "all_crimes",
        "police_classification",
        "share_officers_aware",
    ),
}

#: The licence of each recording figure's publication, where the collection records it.
#: A figure whose publication's licence is not recorded is cited as a fact, with its
#: source and locator; no licence is assumed for it.
RECORDING_LICENCES: dict[str, str] = {
    "Bureau of Justice Statistics": "public domain (a work of the US federal government)",
}
#: What the ``licence`` column says when :data:`RECORDING_LICENCES` has no entry.
LICENCE_NOT_RECORDED = "not recorded (a single figure cited with its source)"


def recording_licence(source: str) -> str:
    """The licence of a recording figure's publication (:data:`RECORDING_LICENCES`)."""
    for publisher, licence in RECORDING_LICENCES.items():
        if source.startswith(publisher):
            return licence
    return LICENCE_NOT_RECORDED


RECORDING_COLUMNS: tuple[str, ...] = (
    "id",
    "jurisdiction",
    "place",
    "measure",
    "crime",
    "stage",
    "quantity",
    "period",
    "value",
    "qualifier",
    "unit",
    "source",
    "locator",
    "licence",
    "confidence",
)

RECORDING_SCHEMA = Schema(
    name="recording studies",
    columns=(
        Column("id", "id", description="the figure's row id in published_figures.csv"),
        Column("jurisdiction", "text", description="the source row's jurisdiction, copied"),
        Column("place", "text", description="where the figure was measured, in plain words"),
        Column("measure", "text", description="what was measured, in the project's words"),
        Column("crime", "category", allowed=RECORDING_CRIMES, description="crimes covered"),
        Column("stage", "category", allowed=RECORDING_STAGES, description="stage measured"),
        Column(
            "quantity", "category", allowed=RECORDING_QUANTITIES, description="what the value is"
        ),
        Column(
            "period",
            "date_span",
            description="YYYY, YYYY-MM or start/end; a financial year 2002/03 as 2002-04/2003-03",
        ),
        Column("value", "float", minimum=0, description="the figure, as published"),
        Column(
            "qualifier",
            "category",
            allowed=RECORDING_QUALIFIERS,
            description="exact, about or more than",
        ),
        Column("unit", "text", description="share or crimes"),
        Column("source", "text", description="publication"),
        Column("locator", "text", description="where in the publication"),
        Column("licence", "text", description="the publication's licence, where recorded"),
        Column("confidence", "category", allowed=CONFIDENCE_LEVELS, description="source level"),
    ),
    ordered=(),
)

_SOURCE_COLUMNS = (
    "id",
    "jurisdiction",
    "measure",
    "period",
    "value",
    "unit",
    "source",
    "locator",
    "confidence",
)
_YEAR_RANGE = re.compile(r"^(\d{4})-(\d{4})$")
_NUMBER_RANGE = re.compile(r"^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$")
_ABOUT = re.compile(r"^(.*\S)\s*\(about\)$")
_MORE_THAN = re.compile(r"^(.*\S)\s*\(more than\)$")
_FINANCIAL_YEAR = re.compile(r"^(\d{4})/(\d{2})$")


def _tidy_row(path: Path, number: int, row: dict[str, str], crime: str, case_type: str) -> list:
    """One source row in the tidy form: copy, and only restate ranges and 'about'."""
    period = row["period"].strip()
    match = _YEAR_RANGE.match(period)
    if match:
        period = f"{match.group(1)}/{match.group(2)}"
    value, value_high, qualifier = row["value"].strip(), "", "exact"
    match = _NUMBER_RANGE.match(value)
    if match:
        value, value_high, qualifier = match.group(1), match.group(2), "range"
    unit = row["unit"].strip()
    match = _ABOUT.match(unit)
    if match:
        unit, qualifier = match.group(1), "about"
    if row["jurisdiction"].strip() != "China":
        raise DataFileError(str(path), number, "jurisdiction", "expected a figure for China")
    return [
        row["id"].strip(),
        row["measure"].strip(),
        crime,
        case_type,
        period,
        value,
        value_high,
        qualifier,
        unit,
        row["source"].strip(),
        row["locator"].strip(),
        row["confidence"].strip(),
    ]


def _recording_row(path: Path, number: int, row: dict[str, str], spec: tuple[str, ...]) -> list:
    """One source row of the recording table: copy, and only restate a financial year
    (``2002/03`` -> ``2002-04/2003-03``, April to March), a span of years (``2005-2012``
    -> ``2005/2012``) and ``(about)``/``(more than)``; add the licence."""
    place, crime, stage, quantity = spec
    period = row["period"].strip()
    match = _FINANCIAL_YEAR.match(period)
    if match:
        first = int(match.group(1))
        if (first + 1) % 100 != int(match.group(2)):
            raise DataFileError(str(path), number, "period", f"{period!r} is not a financial year")
        period = f"{first}-04/{first + 1}-03"
    match = _YEAR_RANGE.match(period)
    if match:
        period = f"{match.group(1)}/{match.group(2)}"
    value = row["value"].strip()
    if _NUMBER_RANGE.match(value):
        raise DataFileError(
            str(path), number, "value", "a range: the recording table takes one figure"
        )
    unit, qualifier = row["unit"].strip(), "exact"
    for pattern, name in ((_ABOUT, "about"), (_MORE_THAN, "more than")):
        match = pattern.match(unit)
        if match:
            unit, qualifier = match.group(1), name
    return [
        row["id"].strip(),
        row["jurisdiction"].strip(),
        place,
        row["measure"].strip(),
        crime,
        stage,
        quantity,
        period,
        value,
        qualifier,
        unit,
        row["source"].strip(),
        row["locator"].strip(),
        recording_licence(row["source"].strip()),
        row["confidence"].strip(),
    ]


def build_published_tables(
    source: str | os.PathLike | None = None, out_dir: str | os.PathLike | None = None
) -> dict[str, Path]:
    """Derive the tidy tables of ``data/published/`` from the collection of published figures.

    Parameters
    ----------
    source : path-like, optional
        ``published_figures.csv``; by default :data:`SOURCE_FILE`
        (``data/sources/published_figures.csv`` in the repository).
    out_dir : path-like, optional
        Where to write ``<table>.csv``; by default :data:`PUBLISHED_DIR`.

    Returns
    -------
    dict of str to pathlib.Path
        Table name to the file written (atomically): the tables of :data:`TABLES`,
        each checked against :data:`PUBLISHED_SCHEMA`, and :data:`RECORDING_TABLE`,
        checked by :func:`load_recording_shares`.

    Raises
    ------
    DataFileError
        If the source lacks a column or a row a table needs, a recording row is
        a range or a malformed financial year, or a built table fails its checks.
    """
    path = Path(SOURCE_FILE if source is None else source)
    out = Path(PUBLISHED_DIR if out_dir is None else out_dir)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            rows = {r["id"].strip(): (i, r) for i, r in enumerate(reader, start=1)}
    except FileNotFoundError:
        raise DataFileError(str(path), None, None, "no such file") from None
    for column in _SOURCE_COLUMNS:
        if column not in header:
            raise DataFileError(str(path), None, column, "missing column")
    written: dict[str, Path] = {}
    for table, spec in TABLES.items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(PUBLISHED_COLUMNS)
        for row_id, (crime, case_type) in spec.items():
            if row_id not in rows:
                raise DataFileError(str(path), None, "id", f"no row {row_id!r} (table {table})")
            number, row = rows[row_id]
            writer.writerow(_tidy_row(path, number, row, crime, case_type))
        target = out / f"{table}.csv"
        write_text(target, buffer.getvalue())
        PUBLISHED_SCHEMA.read(target)
        written[table] = target
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(RECORDING_COLUMNS)
    for row_id, spec in RECORDING_ROWS.items():
        if row_id not in rows:
            raise DataFileError(
                str(path), None, "id", f"no row {row_id!r} (table {RECORDING_TABLE})"
            )
        number, row = rows[row_id]
        writer.writerow(_recording_row(path, number, row, spec))
    target = out / f"{RECORDING_TABLE}.csv"
    write_text(target, buffer.getvalue())
    load_recording_shares(out)
    written[RECORDING_TABLE] = target
    return written


def load_published(
    table: str | None = None, folder: str | os.PathLike | None = None
) -> pd.DataFrame:
    """Load one tidy table of published figures, or all of them.

    Parameters
    ----------
    table : str, optional
        One of :data:`TABLES` (``registered_cases``, ``solved_cases``,
        ``rescued_victims``); all of them, one after the other, if None.
    folder : path-like, optional
        Where the tables are; by default ``data/published/``.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`PUBLISHED_SCHEMA` (``period`` expanded into
        ``period_start``, ``period_end`` and ``period_precision``) and ``table``.

    Raises
    ------
    ParameterError
        For an unknown table name.
    DataFileError
        If a file does not match the schema, a range lacks its upper end (or a
        single figure has one), or a range's ends are out of order.
    """
    folder = Path(PUBLISHED_DIR if folder is None else folder)
    if table is not None and table not in TABLES:
        raise ParameterError("table", table, f"one of {', '.join(TABLES)}")
    names = list(TABLES) if table is None else [table]
    frames = []
    for name in names:
        path = folder / f"{name}.csv"
        frame = PUBLISHED_SCHEMA.read(path)
        for i, row in frame.iterrows():
            is_range = row["qualifier"] == "range"
            has_high = pd.notna(row["value_high"])
            if is_range != has_high:
                problem = "a range needs its upper end" if is_range else "set only for a range"
                raise DataFileError(str(path), i + 1, "value_high", problem)
            if is_range and row["value_high"] < row["value"]:
                raise DataFileError(str(path), i + 1, "value_high", "below the range's lower end")
        frame.insert(0, "table", name)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    for column, allowed in (
        ("crime", CRIMES),
        ("case_type", CASE_TYPES),
        ("qualifier", QUALIFIERS),
        ("confidence", CONFIDENCE_LEVELS),
    ):
        out[column] = pd.Categorical(out[column].astype(str), categories=list(allowed))
    if out["id"].duplicated().any():
        dup = out.loc[out["id"].duplicated(), "id"].iloc[0]
        raise DataFileError(str(folder), None, "id", f"id {dup!r} in more than one table")
    return out


def load_recording_shares(folder: str | os.PathLike | None = None) -> pd.DataFrame:
    """Load the table of recording studies (``data/published/recording_shares.csv``).

    Parameters
    ----------
    folder : path-like, optional
        Where the table is; by default ``data/published/``.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`RECORDING_SCHEMA`, ``period`` expanded into
        ``period_start``, ``period_end`` and ``period_precision``; ``crime``,
        ``stage``, ``quantity``, ``qualifier`` and ``confidence`` as categoricals
        in the order of their allowed values.

    Raises
    ------
    DataFileError
        If the file does not match the schema, or a share (a value of a
        ``share_*`` quantity) is above 1.
    """
    folder = Path(PUBLISHED_DIR if folder is None else folder)
    path = folder / f"{RECORDING_TABLE}.csv"
    frame = RECORDING_SCHEMA.read(path)
    for i, row in frame.iterrows():
        if str(row["quantity"]).startswith("share_") and row["value"] > 1:
            raise DataFileError(str(path), i + 1, "value", "a share above 1")
    for column, allowed in (
        ("crime", RECORDING_CRIMES),
        ("stage", RECORDING_STAGES),
        ("quantity", RECORDING_QUANTITIES),
        ("qualifier", RECORDING_QUALIFIERS),
        ("confidence", CONFIDENCE_LEVELS),
    ):
        frame[column] = pd.Categorical(frame[column].astype(str), categories=list(allowed))
    return frame


def published_row(frame: pd.DataFrame, row_id: str) -> pd.Series:
    """The row with id ``row_id`` of a table from :func:`load_published`.

    Raises
    ------
    ParameterError
        If no row has that id.
    """
    match = frame.loc[frame["id"] == row_id]
    if len(match) != 1:
        raise ParameterError("row_id", row_id, "the id of one row of the published tables")
    return match.iloc[0]


def published_value(frame: pd.DataFrame, row_id: str) -> float:
    """The value of row ``row_id`` (a range's lower end)."""
    return float(published_row(frame, row_id)["value"])


if __name__ == "__main__":  # pragma: no cover
    for name, file in build_published_tables().items():
        print(f"{name}: {file}")
