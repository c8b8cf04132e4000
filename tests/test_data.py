"""Tests of the data files and their loaders (tipresearch.data.loaders, tipresearch.data.schema)."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tipresearch.data import (
    CABLE_SCHEMA,
    CASE_TYPES,
    DATA_DIR,
    SOURCE_FILE,
    cable_ratios,
    cable_value,
    load_cable,
    load_reform_timeline,
    parse_iso_span,
    read_cable_paragraphs,
)
from tipresearch.errors import DataFileError, ParameterError

ROOT = Path(__file__).resolve().parent.parent
CABLE_CSV = ROOT / "data" / "cable_09beijing2594.csv"
TIMELINE_CSV = ROOT / "data" / "reform_timeline.csv"
#: Environment variable naming the cable's text file (kept outside the repository).
CABLE_ENV = "TIPRESEARCH_CABLE"


@pytest.fixture(scope="module")
def paragraphs() -> dict[int, str]:
    """The cable's paragraphs, read from the file that $TIPRESEARCH_CABLE names."""
    value = os.environ.get(CABLE_ENV, "").strip()
    if not value:
        pytest.skip(f"{CABLE_ENV} is not set (point it at the cable's text file, 09BEIJING2594)")
    path = Path(value).expanduser()
    if not path.is_file():
        pytest.skip(f"{CABLE_ENV}={value} is not a file (point it at the cable's text file)")
    return read_cable_paragraphs(path)


@pytest.fixture(scope="module")
def cable() -> pd.DataFrame:
    return load_cable()


@pytest.fixture(scope="module")
def raw_rows() -> list[dict[str, str]]:
    with CABLE_CSV.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# --- the cable table -------------------------------------------------------------------------


def test_default_path_is_the_projects_data_folder():
    assert DATA_DIR == ROOT / "data"


def test_load_cable_dtypes_and_rows(cable, raw_rows):
    assert len(cable) == len(raw_rows) == 26
    assert list(cable.columns) == list(CABLE_SCHEMA.names)
    assert cable["value"].dtype == np.float64
    assert str(cable["paragraph"].dtype) == "Int64"
    assert cable["period_start"].dtype == "datetime64[ns]"
    assert cable["period_end"].dtype == "datetime64[ns]"
    assert isinstance(cable["case_type"].dtype, pd.CategoricalDtype)
    assert list(cable["case_type"].cat.categories) == list(CASE_TYPES)
    assert set(cable["confidence"]) == {"seed"}
    assert cable["id"].is_unique
    assert cable["paragraph"].between(1, 14).all()


def test_month_periods_cover_whole_months(cable):
    row = cable.set_index("id").loc["solved_women"]
    assert row["period_start"] == pd.Timestamp("2009-04-01")
    assert row["period_end"] == pd.Timestamp("2009-08-31")
    meeting = cable.set_index("id").loc["meeting_day"]
    assert meeting["period_start"] == meeting["period_end"] == pd.Timestamp("2009-08-28")


@pytest.mark.parametrize(
    ("row_id", "value", "paragraph", "case_type"),
    [
        ("solved_women", 1214, 8, "women"),
        ("solved_children", 1174, 8, "children"),
        ("rescued_women", 2291, 8, "women"),
        ("rescued_children", 1460, 8, "children"),
        ("rings_targeted", 574, 8, "all"),
        ("dna_cases", 64, 8, "all"),
        ("train_campaign_rescued", 800, 8, "all"),
        ("most_wanted_caught", 15, 7, None),
        ("most_wanted_listed", 20, 7, None),
        ("missing_wait_hours", 24, 7, None),
        ("office_staff", 4, 3, None),
        ("coordinated_bodies", 29, 3, None),
        ("sentence_min_years", 5, 10, None),
        ("indicator_year", 2008, 9, None),
    ],
)
def test_key_figures(cable, row_id, value, paragraph, case_type):
    row = cable.set_index("id").loc[row_id]
    assert row["value"] == value
    assert row["paragraph"] == paragraph
    if case_type is None:
        assert pd.isna(row["case_type"])
    else:
        assert row["case_type"] == case_type


def test_train_campaign_is_a_lower_bound(cable):
    assert cable.set_index("id").loc["train_campaign_rescued", "qualifier"] == "more than"


# --- every figure is written in the paragraph it cites ---------------------------------------

_WORDS = "zero one two three four five six seven eight nine ten eleven twelve".split()
_ORDINALS = "zeroth first second third fourth fifth sixth seventh eighth ninth tenth".split()
_MONTHS = [None, *(pd.Timestamp(2000, m, 1).strftime("%B") for m in range(1, 13))]


def _value_forms(value: float, unit: str) -> list[str]:
    """The ways a figure can be written in the cable's text."""
    if unit == "calendar month":
        return [_MONTHS[int(value)]]
    assert float(value).is_integer(), "the cable gives whole numbers only"
    n = int(value)
    forms = [str(n), f"{n:,}"]
    if n < len(_WORDS):
        forms.append(_WORDS[n])
    if n < len(_ORDINALS):
        forms.append(_ORDINALS[n])
    if n == 1 and unit in ("hours", "months", "years"):
        forms.append(f"{unit[:-1]}-long")
    return forms


def _written_in(form: str, text: str) -> bool:
    pattern = rf"(?<![\w,.]){re.escape(form)}(?!\w|,\d)"
    return re.search(pattern, text, flags=re.IGNORECASE) is not None


_QUALIFIER_CUES = {
    "more than": r"more than {v}",
    "about": r"(?:about|around|some|approximately) {v}",
    "typical": r"typically",
    "minimum": r"from {v}",
}


def test_cable_has_fourteen_paragraphs(paragraphs):
    assert sorted(paragraphs) == list(range(1, 15))
    assert "instances of human trafficking" in paragraphs[5]  # across a page mark
    assert "Problems Persist" not in paragraphs[8]  # section heading dropped


def test_every_value_is_written_in_its_paragraph(raw_rows, paragraphs):
    missing = []
    for row in raw_rows:
        text = paragraphs[int(row["paragraph"])]
        forms = _value_forms(float(row["value"]), row["unit"])
        if not any(_written_in(form, text) for form in forms):
            missing.append((row["id"], row["value"], row["paragraph"]))
    assert missing == []


def test_qualifiers_match_the_cable_wording(raw_rows, paragraphs):
    for row in raw_rows:
        cue = _QUALIFIER_CUES.get(row["qualifier"])
        if cue is None:
            continue
        text = paragraphs[int(row["paragraph"])]
        value = f"{int(float(row['value'])):,}"
        assert re.search(cue.format(v=re.escape(value)), text), row["id"]


def test_every_period_is_named_in_its_paragraph(raw_rows, paragraphs):
    for row in raw_rows:
        text = paragraphs[int(row["paragraph"])]
        start, end = row["period_start"], row["period_end"]
        whole_year = start[:4] == end[:4] and start[4:] == "-01" and end[4:] == "-12"
        for date in (start, end):
            if not date:
                continue
            if whole_year:
                assert _written_in(date[:4], text), (row["id"], date)
            else:
                month = _MONTHS[int(date[5:7])]
                assert _written_in(month, text), (row["id"], date)
                if len(date) == 10:
                    assert _written_in(str(int(date[8:])), text), (row["id"], date)


def test_value_check_catches_a_typo(paragraphs):
    text = paragraphs[8]
    assert _written_in("1,214", text)
    assert not _written_in("1,241", text)
    assert not _written_in("1,124", text)
    assert not _written_in("21", text)  # not inside 1,214 or 2,291


def test_paragraph_7_wait_concerns_missing_persons_not_children(cable, paragraphs):
    """¶7's 24-hour wait was for anyone reported missing, and the cable gives its end no date."""
    text = paragraphs[7].lower()
    wait = text.index("24")
    sentence = text[text.rfind(".", 0, wait) : text.find(".", wait)]
    assert "missing" in sentence and "child" not in sentence
    assert "april" not in text  # the 9 April 2009 date is the Ministry's, not the cable's
    row = cable.set_index("id").loc["missing_wait_hours"]
    assert pd.isna(row["case_type"])  # a wait, not a count of cases of one type
    assert "child" not in row["quantity"].replace("not limited to children", "")


def test_paragraph_8_rings_are_not_said_to_be_dismantled(cable, paragraphs):
    text = paragraphs[8].lower()
    assert "574" in text
    for word in ("broken up", "broke up", "dismantled", "destroyed"):
        assert word not in text
        assert word not in cable.set_index("id").loc["rings_targeted", "quantity"].replace(
            "does not say they were dismantled", ""
        )


# --- malformed files -------------------------------------------------------------------------


def _write_variant(tmp_path: Path, edit) -> Path:
    with CABLE_CSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    edit(rows)
    path = tmp_path / "bad_cable.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _set(row: int, column: str, value: str):
    def edit(rows):
        rows[row][rows[0].index(column)] = value

    return edit


@pytest.mark.parametrize(
    ("edit", "row", "column", "problem"),
    [
        (_set(3, "value", "four"), 3, "value", "not a number"),
        (_set(2, "value", ""), 2, "value", "empty required field"),
        (_set(5, "quantity", "  "), 5, "quantity", "empty required field"),
        (_set(16, "period_start", "2009-13"), 16, "period_start", "month 13"),
        (_set(16, "period_end", "mid-August"), 16, "period_end", "not an ISO date"),
        (_set(1, "period_end", "2009-02-30"), 1, "period_end", "does not exist"),
        (_set(16, "period_end", "2009-03"), 16, "period_end", "ends before"),
        (_set(7, "paragraph", "15"), 7, "paragraph", "outside [1, 14]"),
        (_set(7, "paragraph", "0"), 7, "paragraph", "outside [1, 14]"),
        (_set(7, "paragraph", "8.5"), 7, "paragraph", "not an integer"),
        (_set(9, "id", "npa_year"), 9, "id", "duplicate id"),
        (_set(9, "id", "Bad-Id"), 9, "id", "snake_case"),
        (_set(12, "case_type", "men"), 12, "case_type", "not one of"),
        (_set(12, "confidence", "rumour"), 12, "confidence", "not one of"),
        (_set(12, "qualifier", "roughly"), 12, "qualifier", "not one of"),
    ],
)
def test_malformed_cell_names_file_row_and_column(tmp_path, edit, row, column, problem):
    path = _write_variant(tmp_path, edit)
    with pytest.raises(DataFileError, match=re.escape(problem)) as info:
        load_cable(path)
    err = info.value
    assert err.path == str(path)
    assert err.row == row
    assert err.column == column
    assert str(path) in str(err) and f"row {row}" in str(err) and f"'{column}'" in str(err)


def test_missing_column(tmp_path):
    def drop_unit(rows):
        i = rows[0].index("unit")
        for r in rows:
            del r[i]

    path = _write_variant(tmp_path, drop_unit)
    with pytest.raises(DataFileError, match="missing column") as info:
        load_cable(path)
    assert info.value.column == "unit" and info.value.row is None
    assert str(path) in str(info.value)


def test_unexpected_column(tmp_path):
    def add_column(rows):
        rows[0].append("notes")
        for r in rows[1:]:
            r.append("")

    with pytest.raises(DataFileError, match="unexpected column") as info:
        load_cable(_write_variant(tmp_path, add_column))
    assert info.value.column == "notes"


def test_ragged_row(tmp_path):
    path = _write_variant(tmp_path, lambda rows: rows[4].append("extra"))
    with pytest.raises(DataFileError, match="11 fields") as info:
        load_cable(path)
    assert info.value.row == 4


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(DataFileError, match="no such file"):
        load_cable(tmp_path / "absent.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DataFileError, match="no header"):
        load_cable(empty)


def test_blank_lines_keep_row_numbers(tmp_path):
    def blank_then_bad(rows):
        rows.insert(2, [])
        rows[4][rows[0].index("value")] = "x"

    with pytest.raises(DataFileError) as info:
        load_cable(_write_variant(tmp_path, blank_then_bad))
    assert info.value.row == 4 and info.value.column == "value"


# --- reform timeline -------------------------------------------------------------------------


def test_reform_timeline():
    events = load_reform_timeline().set_index("id")
    assert set(events.index) == {
        "indicator_2008",
        "missing_child_filing_rule",
        "dna_database",
        "special_campaign_2009",
        "indicator_abolished",
    }
    assert events.loc["indicator_2008", "date_precision"] == "year"
    assert events.loc["indicator_2008", "date_start"] == pd.Timestamp("2008-01-01")
    assert events.loc["indicator_2008", "date_end"] == pd.Timestamp("2008-12-31")
    assert events.loc["missing_child_filing_rule", "date_start"] == pd.Timestamp("2009-04-09")
    assert events.loc["dna_database", "date_end"] == pd.Timestamp("2009-04-30")
    campaign = events.loc["special_campaign_2009"]
    assert (campaign["date_start"], campaign["date_end"]) == (
        pd.Timestamp("2009-04-01"),
        pd.Timestamp("2009-12-31"),
    )
    assert events.loc["indicator_abolished", "date_start"] == pd.Timestamp("2015-11-06")
    assert events["source"].str.len().gt(0).all() and events["locator"].str.len().gt(0).all()
    assert events["date_start"].is_monotonic_increasing


def test_timeline_matches_the_cable(cable):
    """The cable-sourced events agree with the cable table."""
    events = load_reform_timeline().set_index("id")
    by_id = cable.set_index("id")
    assert events.loc["indicator_2008", "date_start"].year == by_id.loc["indicator_year", "value"]
    campaign = events.loc["special_campaign_2009"]
    assert campaign["date_start"] == by_id.loc["solved_women", "period_start"]
    assert campaign["date_end"].month == by_id.loc["campaign_end_month", "value"]


def test_timeline_rows_from_the_collection_agree_with_it():
    """Events cited to a row of data/sources/published_figures.csv start on that row's date."""
    events = load_reform_timeline().set_index("id")
    with SOURCE_FILE.open(encoding="utf-8", newline="") as handle:
        source = {row["id"]: row for row in csv.DictReader(handle)}
    cited = {
        event_id: match.group(1)
        for event_id, locator in events["locator"].items()
        if (match := re.search(r"published_figures\.csv row (\w+)", locator))
    }
    assert cited == {
        "missing_child_filing_rule": "cn_missing_child_filing_rule",
        "dna_database": "cn_dna_matched_2009_2012",
        "indicator_abolished": "cn_indicator_abolished",
    }
    for event_id, row_id in cited.items():
        row = source[row_id]
        assert events.loc[event_id, "source"].startswith(row["source"].split(" (")[0])
        assert events.loc[event_id, "confidence"] == row["confidence"]
        first, _, _ = parse_iso_span(row["period"])
        assert events.loc[event_id, "date_start"] == first, event_id


def test_bad_timeline_interval(tmp_path):
    text = TIMELINE_CSV.read_text(encoding="utf-8").replace("2009-04/2009-12", "2009-12/2009-04")
    path = tmp_path / "timeline.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFileError, match="ends before it starts") as info:
        load_reform_timeline(path)
    assert info.value.column == "date" and info.value.row == 4


@pytest.mark.parametrize(
    ("text", "first", "last", "precision"),
    [
        ("2008", "2008-01-01", "2008-12-31", "year"),
        ("2008-02", "2008-02-01", "2008-02-29", "month"),
        ("2009-04-09", "2009-04-09", "2009-04-09", "day"),
        ("2009-04-09/2009-12", "2009-04-09", "2009-12-31", "month"),
    ],
)
def test_parse_iso_span(text, first, last, precision):
    assert parse_iso_span(text) == (pd.Timestamp(first), pd.Timestamp(last), precision)


@pytest.mark.parametrize("text", ["09-04", "2009/", "2009-4", "April 2009", "2009-00"])
def test_parse_iso_span_rejects(text):
    with pytest.raises(ValueError):
        parse_iso_span(text)


# --- derived ratios --------------------------------------------------------------------------


def test_cable_ratios_values(cable):
    ratios = cable_ratios(cable).set_index("id")
    np.testing.assert_allclose(ratios.loc["rescued_per_solved_women", "value"], 2291 / 1214)
    np.testing.assert_allclose(ratios.loc["rescued_per_solved_children", "value"], 1460 / 1174)
    np.testing.assert_allclose(
        ratios.loc["rescued_per_solved_all", "value"], (2291 + 1460) / (1214 + 1174)
    )
    np.testing.assert_allclose(ratios.loc["dna_share_of_children_solved", "value"], 64 / 1174)
    np.testing.assert_allclose(ratios.loc["dna_share_of_all_solved", "value"], 64 / 2388)
    np.testing.assert_allclose(ratios.loc["most_wanted_caught_share", "value"], 0.75)
    assert ratios.loc["dna_share_of_children_solved", "bound"] == "upper bound"
    assert ratios.loc["rescued_per_solved_women", "bound"] == "exact"
    assert ratios.loc["rescued_per_solved_women", "uses"] == "rescued_women / solved_women"
    assert ratios.loc["rescued_per_solved_all", "uses"] == (
        "(rescued_women + rescued_children) / (solved_women + solved_children)"
    )
    assert ratios.loc["most_wanted_caught_share", "paragraphs"] == "¶7"


def test_cable_ratios_follow_the_table(cable):
    """Ratios are computed from the table, so changing a row changes them."""
    edited = cable.copy()
    edited.loc[edited["id"] == "rescued_women", "value"] = 1214.0
    ratios = cable_ratios(edited).set_index("id")
    assert ratios.loc["rescued_per_solved_women", "value"] == 1.0
    for _, row in cable_ratios(cable).iterrows():
        top, bottom = row["uses"].replace("(", "").replace(")", "").split(" / ")
        assert row["numerator"] == sum(cable_value(cable, i) for i in top.split(" + "))
        assert row["denominator"] == sum(cable_value(cable, i) for i in bottom.split(" + "))


def test_cable_ratios_missing_row(cable):
    with pytest.raises(ParameterError, match="dna_cases"):
        cable_ratios(cable[cable["id"] != "dna_cases"])


def test_cable_value_unknown_id(cable):
    with pytest.raises(ParameterError, match="row_id"):
        cable_value(cable, "no_such_row")
