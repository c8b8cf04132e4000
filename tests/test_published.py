"""Tidy tables of published figures: content, provenance, build and schema checks."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tipresearch.data.published import (
    LICENCE_NOT_RECORDED,
    PUBLISHED_COLUMNS,
    PUBLISHED_DIR,
    RECORDING_COLUMNS,
    RECORDING_ROWS,
    RECORDING_TABLE,
    SOURCE_FILE,
    TABLES,
    build_published_tables,
    load_published,
    load_recording_shares,
    published_row,
    published_value,
    recording_licence,
)
from tipresearch.errors import DataFileError, ParameterError

ROOT = Path(__file__).resolve().parent.parent


def test_source_collection_is_in_the_repository():
    assert SOURCE_FILE == ROOT / "data" / "sources" / "published_figures.csv"
    assert SOURCE_FILE.is_file()


def test_tables_load_with_provenance_on_every_row():
    frame = load_published()
    assert set(frame["table"]) == set(TABLES)
    assert frame["id"].is_unique
    assert sorted(frame["id"]) == sorted(i for spec in TABLES.values() for i in spec)
    for column in ("source", "locator"):
        assert frame[column].str.strip().ne("").all()
    assert frame["confidence"].notna().all()
    assert set(frame["confidence"]) <= {"primary", "secondary", "seed"}
    # the cable's rows are the seed, cited by paragraph
    cable = frame[frame["id"].str.startswith("cable_")]
    assert (cable["confidence"] == "seed").all()
    assert cable["locator"].str.contains("paragraph 8").all()


def test_key_figures_and_periods():
    frame = load_published()
    assert published_value(frame, "cn_reg_traf_2008") == 2566
    assert published_value(frame, "cn_reg_traf_2009") == 6513
    assert published_value(frame, "cn_reg_traf_2011") == 13964
    assert published_value(frame, "cn_reg_traf_2020") == 3055
    assert published_value(frame, "cn_solved_women_2011") == 5360
    assert published_value(frame, "cn_solved_children_2011") == 5320
    assert published_value(frame, "cable_solved_women_2009") == 1214
    assert published_value(frame, "cable_rescued_children_2009") == 1460
    assert published_row(frame, "cn_reg_traf_2009")["confidence"] == "primary"
    assert published_row(frame, "cn_reg_traf_2011")["confidence"] == "secondary"
    cable = published_row(frame, "cable_solved_children_2009")
    assert cable["period_start"] == pd.Timestamp("2009-04-01")
    assert cable["period_end"] == pd.Timestamp("2009-08-15")
    span = published_row(frame, "cn_reg_traf_pre2009")
    assert (span["value"], span["value_high"], span["qualifier"]) == (2500, 3000, "range")
    assert span["period_end"] == pd.Timestamp("2008-12-31")
    assert published_row(frame, "cn_solved_2009_to_may25")["qualifier"] == "about"
    assert published_row(frame, "cn_solved_2009_to_may25")["unit"] == "cases"
    with pytest.raises(ParameterError, match="row_id"):
        published_value(frame, "cn_reg_traf_2010")


def test_committed_tables_are_what_the_build_gives(tmp_path):
    """Rebuilding data/published/ from data/sources/published_figures.csv gives the same bytes."""
    written = build_published_tables(out_dir=tmp_path)
    assert set(written) == set(TABLES) | {RECORDING_TABLE}
    for name, path in written.items():
        committed = PUBLISHED_DIR / f"{name}.csv"
        assert path.read_bytes() == committed.read_bytes(), name


def test_values_are_copied_from_the_source():
    with SOURCE_FILE.open(encoding="utf-8") as handle:
        source = {row["id"]: row for row in csv.DictReader(handle)}
    frame = load_published()
    for _, row in frame.iterrows():
        src = source[row["id"]]
        assert src["source"] == row["source"] and src["locator"] == row["locator"]
        assert src["confidence"] == row["confidence"]
        text = src["value"]
        if row["qualifier"] == "range":
            assert text == f"{row['value']:g}-{row['value_high']:g}"
        else:
            assert float(text) == row["value"]


def test_build_reports_a_missing_row(tmp_path):
    source = tmp_path / "published_figures.csv"
    source.write_text(
        "id,jurisdiction,measure,period,value,unit,source,locator,confidence\n"
        "cn_reg_traf_2008,China,registered,2008,2566,cases,Yearbook,table,primary\n",
        encoding="utf-8",
    )
    with pytest.raises(DataFileError, match="no row 'cn_reg_traf_pre2009'"):
        build_published_tables(source, tmp_path / "out")
    with pytest.raises(DataFileError, match="no such file"):
        build_published_tables(tmp_path / "missing.csv", tmp_path / "out")


def _copy_tables(tmp_path: Path) -> Path:
    folder = tmp_path / "published"
    shutil.copytree(PUBLISHED_DIR, folder)
    return folder


def _rewrite(path: Path, edit) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    edit(rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


@pytest.mark.parametrize(
    ("edit", "column"),
    [
        (lambda rows: [r.pop(PUBLISHED_COLUMNS.index("locator")) for r in rows], "locator"),
        (lambda rows: rows[2].__setitem__(PUBLISHED_COLUMNS.index("value"), "many"), "value"),
        (lambda rows: rows[2].__setitem__(PUBLISHED_COLUMNS.index("source"), " "), "source"),
        (
            lambda rows: rows[2].__setitem__(PUBLISHED_COLUMNS.index("confidence"), "rumour"),
            "confidence",
        ),
        (lambda rows: rows[2].__setitem__(PUBLISHED_COLUMNS.index("period"), "2009-13"), "period"),
        (
            lambda rows: rows[2].__setitem__(PUBLISHED_COLUMNS.index("value_high"), "9000"),
            "value_high",
        ),
        (
            lambda rows: rows[1].__setitem__(PUBLISHED_COLUMNS.index("value_high"), ""),
            "value_high",
        ),
        (lambda rows: rows[3].__setitem__(0, rows[2][0]), "id"),
    ],
)
def test_malformed_table_names_the_column(tmp_path, edit, column):
    folder = _copy_tables(tmp_path)
    _rewrite(folder / "registered_cases.csv", edit)
    with pytest.raises(DataFileError, match=f"column '{column}'") as info:
        load_published("registered_cases", folder)
    assert "registered_cases.csv" in str(info.value)


def test_unknown_table_is_refused():
    with pytest.raises(ParameterError, match="registered_cases"):
        load_published("arrests")


# --- the recording studies -------------------------------------------------------------------


def _source_rows() -> dict[str, dict[str, str]]:
    with SOURCE_FILE.open(encoding="utf-8") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


def test_recording_table_rows_and_provenance():
    frame = load_recording_shares()
    assert list(frame["id"]) == list(RECORDING_ROWS)
    source = _source_rows()
    for _, row in frame.iterrows():
        src = source[row["id"]]
        for column in ("jurisdiction", "measure", "source", "locator", "confidence"):
            assert src[column] == row[column], (row["id"], column)
        assert float(src["value"]) == row["value"]
        # a qualifier written in the unit moves to its own column; nothing else changes
        restated = {"exact": "{}", "more than": "{} (more than)", "about": "{} (about)"}
        assert restated[row["qualifier"]].format(row["unit"]) == src["unit"], row["id"]
        assert row["licence"] == recording_licence(src["source"])
        assert (row["place"], row["crime"], row["stage"], row["quantity"]) == RECORDING_ROWS[
            row["id"]
        ]
    # its ids are not among the trafficking tables' ids
    assert not set(frame["id"]) & set(load_published()["id"])


def test_recording_table_stages_and_periods():
    frame = load_recording_shares().set_index("id")
    # the city study and the HMIC audit measure what police record of what is reported
    for row_id in ("cn_recorded_share_1985", "cn_recorded_share_1987", "ew_unrecorded_share_2014"):
        assert frame.loc[row_id, "stage"] == "police_recording"
    # the NCVS measures what victims report to the police
    assert frame.loc["us_reported_violent_2017", "stage"] == "victim_reporting"
    # estimated against recorded crimes spans both stages
    assert frame.loc["cn_actual_crimes_2004", "stage"] == "both_stages"
    assert frame.loc["cn_recorded_share_1987", "value"] == 0.194
    assert frame.loc["ew_unrecorded_share_2014", "quantity"] == "share_not_recorded"
    # a financial year 2002/03 is April 2002 to March 2003
    row = frame.loc["ew_recorded_all_2002"]
    assert (row["period_start"], row["period_end"]) == (
        pd.Timestamp("2002-04-01"),
        pd.Timestamp("2003-03-31"),
    )
    assert frame.loc["ew_unrecorded_share_2014", "period_end"] == pd.Timestamp("2013-10-31")
    shares = frame[frame["quantity"].astype(str).str.startswith("share_")]
    assert shares["value"].between(0, 1).all()


def _source_with(tmp_path: Path, row_id: str, column: str, value: str) -> Path:
    with SOURCE_FILE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    for row in rows[1:]:
        if row[0] == row_id:
            row[header.index(column)] = value
    path = tmp_path / "published_figures.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


@pytest.mark.parametrize(
    ("row_id", "column", "value", "message"),
    [
        ("ew_recorded_all_2002", "period", "2002/05", "not a financial year"),
        ("cn_recorded_share_1985", "value", "0.2-0.3", "a range"),
        ("cn_recorded_share_1985", "value", "1.3", "a share above 1"),
    ],
)
def test_recording_build_refuses_what_it_cannot_copy(tmp_path, row_id, column, value, message):
    source = _source_with(tmp_path, row_id, column, value)
    out = tmp_path / "out"
    with pytest.raises(DataFileError, match=message):
        build_published_tables(source, out)


def test_recording_table_schema_names_the_column(tmp_path):
    folder = _copy_tables(tmp_path)
    path = folder / f"{RECORDING_TABLE}.csv"
    _rewrite(path, lambda rows: rows[1].__setitem__(RECORDING_COLUMNS.index("stage"), "gossip"))
    with pytest.raises(DataFileError, match="column 'stage'"):
        load_recording_shares(folder)
    _rewrite(path, lambda rows: [r.pop(RECORDING_COLUMNS.index("locator")) for r in rows])
    with pytest.raises(DataFileError, match="column 'locator'"):
        load_recording_shares(folder)


def test_recording_licences_are_stated_or_said_to_be_unrecorded():
    frame = load_recording_shares().set_index("id")
    assert frame.loc["us_reported_violent_2017", "licence"].startswith("public domain")
    # no licence is assumed for a publication the collection has none for
    assert frame.loc["ew_recorded_all_2002", "licence"] == LICENCE_NOT_RECORDED
    assert recording_licence("Bureau of Justice Statistics, anything") != LICENCE_NOT_RECORDED
    assert recording_licence("Los Angeles Times, 1 January 2015") == LICENCE_NOT_RECORDED


def test_classification_rows_stay_beside_the_funnel():
    frame = load_recording_shares().set_index("id")
    row = frame.loc["la_serious_assault_undercount_2015"]
    assert (row["stage"], row["quantity"]) == ("police_classification", "share_above_official")
    # "2005-2012" is a span of years: 1 January 2005 to 31 December 2012
    assert (row["period_start"], row["period_end"]) == (
        pd.Timestamp("2005-01-01"),
        pd.Timestamp("2012-12-31"),
    )
    assert frame.loc["la_ig_audit_2015", "qualifier"] == "more than"
    assert frame.loc["la_ig_audit_2015", "value"] == 25000
