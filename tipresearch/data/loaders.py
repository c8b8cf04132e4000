"""The project's data files: schemas, loaders and figures derived from them.

Files live in the project's ``data/`` folder (``data/README.md`` gives every
file's provenance):

- ``cable_09beijing2594.csv``: every number and date in the 2009 US Embassy
  Beijing cable 09BEIJING2594, one row each, with the paragraph it comes from
  (:func:`load_cable`).
- ``reform_timeline.csv``: dated reforms of police case intake and rating, each
  with its source (:func:`load_reform_timeline`).

Dates load as ``datetime64[ns]``: a month-precision period start becomes the
month's first day, a period end the month's last day (see
:mod:`tipresearch.data.schema`), so ``period_start``..``period_end`` is the smallest
run of whole days that contains the period the cable states.

References
----------
US Embassy Beijing, "MPS discusses China's anti-trafficking strategy", cable
09BEIJING2594, 10 September 2009 (cited by paragraph, ¶N).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tipresearch.errors import ParameterError

from .schema import Column, Schema

#: The project's data folder.
DATA_DIR: Path = Path(__file__).resolve().parents[2] / "data"
CABLE_FILE = "cable_09beijing2594.csv"
TIMELINE_FILE = "reform_timeline.csv"

#: Case types, in display order. ``all`` marks a figure not split by type.
CASE_TYPES: tuple[str, ...] = ("women", "children", "all")
#: Confidence levels: ``primary`` read in the publisher's own table or statement,
#: ``secondary`` a paper or report citing it, ``seed`` the 2009 cable.
CONFIDENCE_LEVELS: tuple[str, ...] = ("primary", "secondary", "seed")
#: How the cable states a number.
QUALIFIERS: tuple[str, ...] = (
    "exact",
    "about",
    "more than",
    "at least",
    "minimum",
    "maximum",
    "typical",
    "expected",
)
#: Paragraphs of the cable.
CABLE_PARAGRAPHS: tuple[int, int] = (1, 14)

CABLE_SCHEMA = Schema(
    name="cable figures",
    columns=(
        Column("id", "id", description="unique snake_case name of the figure"),
        Column("quantity", "text", description="what the figure counts, in the project's words"),
        Column("value", "float", description="the number as the cable gives it"),
        Column("unit", "text", description="unit of value (cases, persons, calendar year, ...)"),
        Column(
            "period_start",
            "date_start",
            required=False,
            precisions=("month", "day"),
            description="first day of the period the figure covers (YYYY-MM or YYYY-MM-DD)",
        ),
        Column(
            "period_end",
            "date_end",
            required=False,
            precisions=("month", "day"),
            description="last day of the period the figure covers (YYYY-MM or YYYY-MM-DD)",
        ),
        Column(
            "case_type",
            "category",
            required=False,
            allowed=CASE_TYPES,
            description="women, children, all (not split by type) or empty (not a case count)",
        ),
        Column(
            "paragraph",
            "int",
            minimum=CABLE_PARAGRAPHS[0],
            maximum=CABLE_PARAGRAPHS[1],
            description="the cable paragraph the figure comes from",
        ),
        Column("qualifier", "category", allowed=QUALIFIERS, description="how the cable states it"),
        Column("confidence", "category", allowed=CONFIDENCE_LEVELS, description="source level"),
    ),
    ordered=(("period_start", "period_end"),),
)

TIMELINE_SCHEMA = Schema(
    name="reform timeline",
    columns=(
        Column("id", "id", description="unique snake_case name of the event"),
        Column("event", "text", description="what changed, in the project's words"),
        Column(
            "date",
            "date_span",
            description="YYYY, YYYY-MM, YYYY-MM-DD or start/end, at the source's precision",
        ),
        Column("source", "text", description="publication the date comes from"),
        Column("locator", "text", description="where in the source"),
        Column("confidence", "category", allowed=CONFIDENCE_LEVELS, description="source level"),
    ),
)


def _resolve(path: str | os.PathLike | None, default: str) -> Path:
    return DATA_DIR / default if path is None else Path(path)


def load_cable(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Load the figures of cable 09BEIJING2594.

    Parameters
    ----------
    path : path-like, optional
        The CSV file; by default ``data/cable_09beijing2594.csv``.

    Returns
    -------
    pandas.DataFrame
        One row per figure: ``id``, ``quantity``, ``unit`` (str); ``value``
        (float64); ``period_start``, ``period_end`` (datetime64[ns], NaT where the
        cable gives no period); ``case_type``, ``qualifier``, ``confidence``
        (category); ``paragraph`` (Int64, 1-14).

    Raises
    ------
    DataFileError
        If the file does not match :data:`CABLE_SCHEMA`.

    References
    ----------
    09BEIJING2594, paragraphs 1-14.
    """
    return CABLE_SCHEMA.read(_resolve(path, CABLE_FILE))


def load_reform_timeline(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Load the dated reforms of case intake and police rating.

    Parameters
    ----------
    path : path-like, optional
        The CSV file; by default ``data/reform_timeline.csv``.

    Returns
    -------
    pandas.DataFrame
        One row per event, sorted by start date: ``id``, ``event``, ``date`` (the
        date as the source gives it), ``source``, ``locator`` (str);
        ``date_start``, ``date_end`` (datetime64[ns], the first and last day the
        date covers); ``date_precision`` (category: year, month, day);
        ``confidence`` (category).

    Raises
    ------
    DataFileError
        If the file does not match :data:`TIMELINE_SCHEMA`.
    """
    frame = TIMELINE_SCHEMA.read(_resolve(path, TIMELINE_FILE))
    return frame.sort_values(["date_start", "date_end"], kind="stable").reset_index(drop=True)


def cable_value(cable: pd.DataFrame, row_id: str) -> float:
    """Return the value of one row of the cable table.

    Parameters
    ----------
    cable : pandas.DataFrame
        A table from :func:`load_cable`.
    row_id : str
        The row's ``id``.

    Raises
    ------
    ParameterError
        If no row has that id.
    """
    match = cable.loc[cable["id"] == row_id, "value"]
    if len(match) != 1:
        raise ParameterError("row_id", row_id, "the id of one row of the cable table")
    return float(match.iloc[0])


@dataclass(frozen=True)
class RatioSpec:
    """A ratio of sums of cable rows.

    Parameters
    ----------
    id : str
        Name of the ratio.
    ratio : str
        What it measures, in words.
    numerator, denominator : tuple of str
        Ids of the cable rows summed above and below the line.
    unit : str
        Unit of the ratio.
    bound : str
        ``exact`` when the cable's figures give the ratio itself, ``upper bound``
        when they only bound it from above.
    case_type : str or None
        The case type the ratio describes.
    note : str
        What the cable does and does not support.
    """

    id: str
    ratio: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    unit: str
    bound: str
    case_type: str | None
    note: str = ""


#: Ratios derived from the cable's figures (09BEIJING2594 ¶7, ¶8).
CABLE_RATIOS: tuple[RatioSpec, ...] = (
    RatioSpec(
        "rescued_per_solved_women",
        "women rescued per women's case solved",
        ("rescued_women",),
        ("solved_women",),
        "persons per solved case",
        "exact",
        "women",
    ),
    RatioSpec(
        "rescued_per_solved_children",
        "children rescued per children's case solved",
        ("rescued_children",),
        ("solved_children",),
        "persons per solved case",
        "exact",
        "children",
    ),
    RatioSpec(
        "rescued_per_solved_all",
        "victims rescued per case solved, both types",
        ("rescued_women", "rescued_children"),
        ("solved_women", "solved_children"),
        "persons per solved case",
        "exact",
        "all",
    ),
    RatioSpec(
        "dna_share_of_children_solved",
        "share of solved children's cases in which the DNA bank was used",
        ("dna_cases",),
        ("solved_children",),
        "share",
        "upper bound",
        "children",
        "the 64 cases are the period's uses of the bank, split neither by case type nor by "
        "outcome, so at most 64 of the 1,174 solved children's cases used it",
    ),
    RatioSpec(
        "dna_share_of_all_solved",
        "share of all solved cases in which the DNA bank was used",
        ("dna_cases",),
        ("solved_women", "solved_children"),
        "share",
        "upper bound",
        "all",
        "the 64 cases are not said to be solved cases, so at most 64 solved cases used the bank",
    ),
    RatioSpec(
        "most_wanted_caught_share",
        "share of the Most Wanted list caught by August 2009",
        ("most_wanted_caught",),
        ("most_wanted_listed",),
        "share",
        "exact",
        None,
        "the list was refilled as traffickers were caught",
    ),
)

RATIO_COLUMNS: tuple[str, ...] = (
    "id",
    "ratio",
    "value",
    "numerator",
    "denominator",
    "unit",
    "bound",
    "case_type",
    "uses",
    "paragraphs",
    "note",
)


def cable_ratios(cable: pd.DataFrame, specs: tuple[RatioSpec, ...] = CABLE_RATIOS) -> pd.DataFrame:
    """Compute ratios of the cable's figures from the loaded table.

    Each ratio is ``sum(numerator rows) / sum(denominator rows)``.

    Parameters
    ----------
    cable : pandas.DataFrame
        A table from :func:`load_cable`.
    specs : tuple of RatioSpec
        The ratios; :data:`CABLE_RATIOS` by default.

    Returns
    -------
    pandas.DataFrame
        One row per ratio: ``id``, ``ratio`` (description), ``value``,
        ``numerator`` and ``denominator`` (the sums), ``unit``, ``bound``
        (``exact`` or ``upper bound``), ``case_type`` (category), ``uses`` (the
        row ids, ``(a + b) / c``), ``paragraphs`` (``¶N``), ``note``.

    Raises
    ------
    ParameterError
        If a row a ratio needs is missing or a denominator is not positive.

    References
    ----------
    09BEIJING2594 ¶7 (Most Wanted list), ¶8 (campaign results, DNA bank use).
    """
    by_id = cable.set_index("id")
    records = []
    for spec in specs:
        needed = spec.numerator + spec.denominator
        missing = [row for row in needed if row not in by_id.index]
        if missing:
            raise ParameterError(
                "cable", f"a table without row(s) {', '.join(missing)}", f"rows {', '.join(needed)}"
            )
        top = float(by_id.loc[list(spec.numerator), "value"].sum())
        bottom = float(by_id.loc[list(spec.denominator), "value"].sum())
        if not bottom > 0:
            raise ParameterError(
                f"cable[{' + '.join(spec.denominator)}]", bottom, "a positive denominator"
            )
        paragraphs = sorted({int(p) for p in by_id.loc[list(needed), "paragraph"]})
        records.append(
            {
                "id": spec.id,
                "ratio": spec.ratio,
                "value": top / bottom,
                "numerator": top,
                "denominator": bottom,
                "unit": spec.unit,
                "bound": spec.bound,
                "case_type": spec.case_type,
                "uses": f"{_sum_text(spec.numerator)} / {_sum_text(spec.denominator)}",
                "paragraphs": ", ".join(f"¶{p}" for p in paragraphs),
                "note": spec.note,
            }
        )
    frame = pd.DataFrame.from_records(records, columns=list(RATIO_COLUMNS))
    frame["case_type"] = pd.Categorical(frame["case_type"], categories=list(CASE_TYPES))
    frame["bound"] = pd.Categorical(frame["bound"], categories=["exact", "upper bound"])
    return frame


def _sum_text(ids: tuple[str, ...]) -> str:
    return ids[0] if len(ids) == 1 else f"({' + '.join(ids)})"


_PARAGRAPH_START = re.compile(r"^(\d{1,2})\.\s+\(SBU\)\s*", re.MULTILINE)
_PAGE_MARK = re.compile(r"^BEIJING \d+ \d+ OF \d+\s*$", re.MULTILINE)


def read_cable_paragraphs(path: str | os.PathLike) -> dict[int, str]:
    """Split the cable's text into its numbered paragraphs.

    Parameters
    ----------
    path : path-like
        The cable as plain text (numbered paragraphs ``N. (SBU) ...``). The text is
        not in the repository; the tests take its path from the environment
        variable ``TIPRESEARCH_CABLE`` (``data/README.md``).

    Returns
    -------
    dict of int to str
        Paragraph number to its text, whitespace collapsed, page marks and
        section headings between paragraphs removed.
    """
    text = Path(path).read_text(encoding="utf-8")
    text = _PAGE_MARK.sub("", text)
    starts = list(_PARAGRAPH_START.finditer(text))
    paragraphs: dict[int, str] = {}
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        body = text[match.end() : end].split("\u00a9")[0]
        blocks = [b for b in re.split(r"\n\s*\n", body.strip()) if b.strip()]
        while len(blocks) > 1 and _is_heading(blocks[-1]):
            blocks.pop()
        if i + 1 == len(starts):
            blocks = blocks[:1]
        paragraphs[int(match.group(1))] = " ".join(" ".join(blocks).split())
    return paragraphs


def _is_heading(block: str) -> bool:
    """A section title between paragraphs: one line without a full stop, or underlined."""
    lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
    if re.fullmatch(r"-[- ]*", lines[-1]):
        return True
    return len(lines) == 1 and not lines[0].endswith((".", '"', ")"))
