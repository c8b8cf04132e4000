"""Victims' reporting to the police in England and Wales: ONS Table D10, tidy and checked.

The Office for National Statistics publishes, from the Crime Survey for England and
Wales (CSEW), the share of incidents that victims say the police came to know about, by
offence group and survey year (Table D10 of "Crime in England and Wales: Annual Trend
and Demographic Tables", year ending March 2019; Open Government Licence v3.0). The
project keeps that table as it came, in long form (``data/sources/
ons_csew_table_d10_reported_to_police.csv``: offence group, survey year ending, share),
and :func:`build_reporting_table` derives ``data/published/reported_to_police_ew.csv``
from it: the same values, never rounded or filled, with a row id, the offence group the
ONS nests each line under (``parent``; the burglary lines "with entry", "with loss", "no
loss" and "attempts" appear under three groups and are told apart by it), the unit, the
source, the locator, the licence and the confidence level. :func:`load_reporting` reads
the tidy table, checked against :data:`REPORTING_SCHEMA`.

This is the first stage of the funnel from incidents to recorded crimes: the victim's
choice to report, not the police's choice to record.

References
----------
Office for National Statistics (2019). Crime in England and Wales: Annual Trend and
Demographic Tables, year ending March 2019, Table D10.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

import pandas as pd

from tipresearch.errors import DataFileError
from tipresearch.io import write_text

from .loaders import CONFIDENCE_LEVELS, DATA_DIR
from .schema import Column, Schema

__all__ = [
    "MAIN_OFFENCES",
    "REPORTING_FILE",
    "REPORTING_SCHEMA",
    "REPORTING_SOURCE",
    "build_reporting_table",
    "load_reporting",
]

#: Table D10 as it came (long form: offence group, survey year ending, share).
REPORTING_SOURCE: Path = DATA_DIR / "sources" / "ons_csew_table_d10_reported_to_police.csv"
#: The tidy table the package loads.
REPORTING_FILE: Path = DATA_DIR / "published" / "reported_to_police_ew.csv"

#: The main offence groups, in the order the ONS lists them.
MAIN_OFFENCES: tuple[str, ...] = (
    "violence",
    "robbery",
    "domestic burglary",
    "vehicle-related theft",
    "criminal damage",
    "all CSEW crime (excluding fraud and computer misuse)",
)

SOURCE = (
    "Office for National Statistics, Crime in England and Wales: Annual Trend and "
    "Demographic Tables, year ending March 2019"
)
LICENCE = "Open Government Licence v3.0"
#: Lines that name a kind of a burglary group; their group is the line before them.
_SUBLINES = ("with entry", "with loss", "no loss", "attempts")
#: Lines nested under another in the published table (child -> parent).
_PARENTS = {
    "wounding": "violence",
    "assault with minor injury or without injury": "violence",
    "without injury": "violence",
    "domestic violence": "violence",
    "acquaintance": "violence",
    "stranger": "violence",
    "theft from the person": "theft offences",
    "snatch theft from person": "theft from the person",
    "stealth theft from person": "theft from the person",
    "attempted snatch or stealth theft from the person": "theft from the person",
    "other theft of personal property": "theft offences",
    "domestic burglary": "theft offences",
    "domestic burglary in a dwelling": "domestic burglary",
    "domestic burglary in a non-connected building to a dwelling": "domestic burglary",
    "other household theft": "theft offences",
    "theft from a dwelling": "other household theft",
    "theft from outside a dwelling": "other household theft",
    "vehicle-related theft": "theft offences",
    "theft from vehicles": "vehicle-related theft",
    "theft of vehicles": "vehicle-related theft",
    "attempts of and from": "vehicle-related theft",
    "bicycle theft": "theft offences",
    "criminal damage to a vehicle": "criminal damage",
    "arson and other criminal damage": "criminal damage",
    "fraud": "fraud and computer misuse",
    "bank and credit account fraud": "fraud",
    "consumer and retail fraud": "fraud",
    "all other fraud": "fraud",
    "cyber": "fraud",
    "non-cyber": "fraud",
    "computer misuse": "fraud and computer misuse",
    "computer virus": "computer misuse",
    "unauthorised access to personal information (including hacking)": "computer misuse",
}

REPORTING_SCHEMA = Schema(
    name="share of CSEW incidents reported to the police",
    columns=(
        Column("id", "id", description="row id: offence group and survey year"),
        Column("offence", "text", description="offence group, as the ONS names it"),
        Column("parent", "text", required=False, description="the group it is nested under"),
        Column(
            "survey_year_ending",
            "date_end",
            precisions=("month",),
            description="last month of the survey year (YYYY-MM)",
        ),
        Column(
            "value",
            "float",
            required=False,
            minimum=0.0,
            maximum=1.0,
            description="share of incidents reported; empty where the ONS gives none",
        ),
        Column("unit", "text", description="what the value is"),
        Column("source", "text", description="publication"),
        Column("locator", "text", description="where in the publication"),
        Column("licence", "text", description="the source's licence"),
        Column("confidence", "category", allowed=CONFIDENCE_LEVELS, description="source level"),
    ),
)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _source_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(str(path), None, None, f"cannot read: {exc}") from exc
    reader = csv.DictReader(io.StringIO(text))
    expected = ["category", "year_ending", "proportion"]
    if reader.fieldnames != expected:
        raise DataFileError(str(path), None, None, f"the columns must be {', '.join(expected)}")
    return list(enumerate(reader, start=1))


def build_reporting_table(
    source: str | os.PathLike | None = None, out: str | os.PathLike | None = None
) -> Path:
    """Derive the tidy table from Table D10 as it came; return the file written.

    The values are copied as text, so the tidy table holds exactly the source's
    numbers; a cell the ONS leaves empty (``NA``) stays empty.

    Raises
    ------
    DataFileError
        For a source with other columns, a ``year_ending`` that is not the first day
        of a month, or a sub-line (``with entry`` ...) with no burglary group before it.
    """
    source = Path(REPORTING_SOURCE if source is None else source)
    out = Path(REPORTING_FILE if out is None else out)
    rows = _source_rows(source)
    lines = io.StringIO()
    writer = csv.writer(lines, lineterminator="\n")
    writer.writerow(REPORTING_SCHEMA.names)
    group = None
    for number, row in rows:
        offence, ending, value = row["category"], row["year_ending"], row["proportion"]
        if not re.fullmatch(r"\d{4}-\d{2}-01", ending):
            raise DataFileError(str(source), number, "year_ending", "the first day of a month")
        if offence in _SUBLINES:
            if group is None:
                raise DataFileError(str(source), number, "category", "no burglary group before")
            parent = group
        else:
            parent = _PARENTS.get(offence, "")
            if offence.startswith("domestic burglary"):
                group = offence
        month = ending[:7]
        row_id = "_".join(
            part
            for part in (
                "ew_reported",
                _slug(parent) if offence in _SUBLINES else "",
                _slug(offence),
                month.replace("-", "_"),
            )
            if part
        )
        writer.writerow(
            [
                row_id,
                offence,
                parent,
                month,
                "" if value.strip() in ("", "NA") else value.strip(),
                "share of incidents reported to the police",
                SOURCE,
                "Table D10",
                LICENCE,
                "primary",
            ]
        )
    return write_text(out, lines.getvalue())


def load_reporting(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Load the tidy table of shares reported to the police (``data/published/``).

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`REPORTING_SCHEMA` (``survey_year_ending`` the last day of
        the survey year's last month) and ``survey_year``: the year the survey year
        ends in.

    Raises
    ------
    DataFileError
        If the file does not match the schema (naming the file, row and column), or an
        offence and survey year appear twice.
    """
    path = Path(REPORTING_FILE if path is None else path)
    frame = REPORTING_SCHEMA.read(path)
    key = frame["offence"] + "|" + frame["parent"].fillna("") + "|"
    key = key + frame["survey_year_ending"].astype(str)
    dup = key.duplicated()
    if dup.any():
        row = int(dup.to_numpy().nonzero()[0][0]) + 1
        raise DataFileError(str(path), row, "offence", "this offence and survey year appear twice")
    frame["survey_year"] = frame["survey_year_ending"].dt.year
    frame["confidence"] = pd.Categorical(
        frame["confidence"].astype(str), categories=list(CONFIDENCE_LEVELS)
    )
    return frame
