"""Tidy tables of published figures: content, provenance, build and schema checks."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tipresearch.data.published import (
    PUBLISHED_COLUMNS,
    PUBLISHED_DIR,
    SOURCE_FILE,
    TABLES,
    build_published_tables,
    load_published,
    published_row,
    published_value,
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
    assert set(written) == set(TABLES)
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
