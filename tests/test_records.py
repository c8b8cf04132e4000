"""Notebook result records and the table that gathers them across runs."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from tipresearch import cli
from tipresearch.collection import RECORD_FILE, RESULT_RECORD, gather_records, plain, write_record
from tipresearch.errors import DataFileError, ParameterError


def test_plain_makes_values_json_ready():
    value = {
        "a": np.float64(0.5),
        "b": np.int64(3),
        "c": np.array([1, 2]),
        "d": math.nan,
        "e": pd.Series({"x": np.float32(1.5)}),
        "f": (np.bool_(True), None),
    }
    out = plain(value)
    assert out == {"a": 0.5, "b": 3, "c": [1, 2], "d": None, "e": {"x": 1.5}, "f": [True, None]}
    json.dumps(out)  # no error


def test_write_record_is_what_the_runner_copies(tmp_path):
    assert RECORD_FILE == RESULT_RECORD
    path = write_record(tmp_path / "r", {"top_lever": "audit_prob", "share": np.float64(0.25)})
    assert path == tmp_path / "r" / RESULT_RECORD
    assert json.loads(path.read_text()) == {"top_lever": "audit_prob", "share": 0.25}
    with pytest.raises(ParameterError, match="mapping"):
        write_record(tmp_path, [1, 2])


def _run_record(out, stem, parameters, results, status="ok", run_id=None):
    record = {
        "run_id": run_id,
        "notebook": stem,
        "status": status,
        "seconds": 1.5,
        "error": None if status == "ok" else "cell 3: ValueError: x",
        "source": f"notebooks/{stem}.ipynb",
        "parameters": {"figures_dir": "/x/figures", "results_dir": "/x/r", **parameters},
        "overrides": parameters,
        "results": results,
    }
    (out / "results").mkdir(parents=True, exist_ok=True)
    (out / "results" / f"{stem}.json").write_text(json.dumps(record))


def test_gather_records_of_two_variants(tmp_path, capsys):
    a, b = tmp_path / "base", tmp_path / "audit"
    _run_record(a, "04_sweeps", {"audit_prob": 0.05, "levels": [1, 2]}, {"top": {"intake": 0.4}})
    _run_record(b, "04_sweeps", {"audit_prob": 0.3, "levels": [1, 2]}, {"top": {"intake": 0.9}})
    _run_record(b, "01_cable", {}, None, status="failed")
    table = gather_records([a, b])
    assert list(table.columns[:7]) == [
        "run",
        "run_id",
        "current",
        "notebook",
        "status",
        "seconds",
        "error",
    ]
    assert table["current"].all()  # folders without run.json: every record is current
    assert "param.figures_dir" not in table and "param.results_dir" not in table
    assert len(table) == 3
    sweeps = table[table["notebook"] == "04_sweeps"].set_index("run")
    assert sweeps.loc[str(a), "param.audit_prob"] == 0.05
    assert sweeps.loc[str(b), "result.top.intake"] == 0.9
    assert sweeps.loc[str(a), "param.levels"] == "[1, 2]"
    failed = table[table["notebook"] == "01_cable"].iloc[0]
    assert failed["status"] == "failed" and failed["error"].startswith("cell 3")
    wide = ["results", str(a), str(b), "--out", str(tmp_path / "all.csv"), "--wide"]
    assert cli.main(wide) == 0
    assert "04_sweeps" in capsys.readouterr().out
    again = pd.read_csv(tmp_path / "all.csv")
    assert again["result.top.intake"].dropna().tolist() == [0.4, 0.9]
    # the table a person reads: a row per result, a column per folder, with the parameter
    # that differs (audit_prob) and not the one that does not (levels), and the failure
    assert cli.main(["results", str(a), str(b), "--out", str(tmp_path / "read.csv")]) == 0
    printed = capsys.readouterr().out
    assert "top.intake" in printed and "levels" not in printed
    read = pd.read_csv(tmp_path / "read.csv")
    assert list(read.columns) == ["notebook", "kind", "name", str(a), str(b)]
    rows = read.set_index(["notebook", "name"])
    intake = rows.loc[("04_sweeps", "top.intake"), [str(a), str(b)]]
    assert [float(x) for x in intake] == [0.4, 0.9]  # a column mixes numbers and statuses
    assert rows.loc[("04_sweeps", "audit_prob"), "kind"] == "parameter"
    assert rows.loc[("01_cable", "status"), str(b)] == "failed"


def test_gather_records_errors(tmp_path):
    with pytest.raises(ParameterError, match="an existing folder"):
        gather_records([tmp_path / "missing"])
    with pytest.raises(ParameterError, match="run records"):
        gather_records([tmp_path])
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "x.json").write_text("{not json")
    with pytest.raises(DataFileError, match="not valid JSON"):
        gather_records([tmp_path])
    (tmp_path / "results" / "x.json").write_text("[1, 2]")
    with pytest.raises(DataFileError, match="not a notebook run record"):
        gather_records([tmp_path])


def test_records_of_an_earlier_run_are_marked(tmp_path, capsys):
    out = tmp_path / "build"
    _run_record(out, "01_cable", {"seed": 1}, {"x": 1}, run_id="old")
    _run_record(out, "02_intake", {"seed": 2}, {"x": 2}, run_id="new")
    (out / "run.json").write_text(json.dumps({"run_id": "new", "finished": None}))
    table = gather_records([out]).set_index("notebook")
    assert not table.loc["01_cable", "current"] and table.loc["02_intake", "current"]
    assert table.loc["01_cable", "run_id"] == "old"
    # the results folder given instead of the run's folder reads the same run file
    again = gather_records([out / "results"]).set_index("notebook")
    assert list(again["current"]) == list(table["current"])
    (out / "run.json").write_text("{")
    with pytest.raises(DataFileError, match="run.json"):
        gather_records([out])
