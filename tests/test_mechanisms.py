"""Mechanisms judged against the committed fit, on its targets and out of sample."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tipresearch.errors import ParameterError
from tipresearch.fit import mechanism_table


def _run(folder, objective, errors, extra=None):
    folder.mkdir()
    params = [{"key": "metric.rate"}] + ([{"key": extra[0]}] if extra else [])
    estimates = {"metric.rate": 5.0, **({extra[0]: extra[1]} if extra else {})}
    (folder / "fit.json").write_text(
        json.dumps({"objective": objective, "parameters": params, "estimates": estimates})
    )
    rows = [
        {
            "design": "full",
            "figure": f"f{i}",
            "role": "held out",
            "relative_error": e,
            "in_band": abs(e) < 0.1,
        }
        for i, e in enumerate(errors)
    ] + [
        {"design": "full", "figure": "t", "role": "fitted", "relative_error": 5.0, "in_band": False}
    ]
    pd.DataFrame(rows).to_csv(folder / "out_of_sample.csv", index=False)
    return folder


def test_a_mechanism_is_kept_only_if_it_fits_better_in_and_out_of_sample(tmp_path):
    runs = {
        "committed": _run(tmp_path / "a", 0.05, [0.3, -0.2, 0.05]),
        "helps both": _run(tmp_path / "b", 0.04, [0.1, -0.15, 0.05], ("reforms.recall_share", 0.2)),
        "fits only": _run(tmp_path / "c", 0.03, [0.5, -0.4, 0.3], ("reforms.recall_share", 0.9)),
    }
    table = mechanism_table(runs, "committed").set_index("run")
    assert table.loc["committed", "held_out_median_abs_error"] == pytest.approx(0.2)
    assert table.loc["helps both", "held_out_median_abs_error"] == pytest.approx(0.1)
    assert table.loc["helps both", "held_out_in_band"] == 1
    assert table.loc["helps both", "mechanism_estimates"] == "reforms.recall_share = 0.2"
    assert list(table["keep"]) == [False, True, False]
    assert bool(table.loc["fits only", "better_fit"])
    assert not bool(table.loc["fits only", "better_out_of_sample"])
    with pytest.raises(ParameterError, match="baseline"):
        mechanism_table(runs, "nope")
    with pytest.raises(ParameterError, match="folder"):
        mechanism_table({"x": tmp_path / "missing"}, "x")


def test_mechanisms_command_writes_the_comparison(tmp_path, capsys):
    from tipresearch.cli import main as cli_main
    from tipresearch.fit import SWITCHES

    base = _run(tmp_path / "fit", 0.05, [0.3, -0.2, 0.05])
    recall = _run(tmp_path / "recall", 0.04, [0.1, -0.15, 0.05], (SWITCHES["recall"][0], 0.01))
    assert cli_main(["mechanisms", str(base), f"recall={recall}"]) == 0
    table = pd.read_csv(base / "mechanisms.csv").set_index("run")
    assert list(table.index) == ["committed", "recall"]
    assert bool(table.loc["recall", "keep"]) and not bool(table.loc["committed", "keep"])
    assert table.loc["recall", "description"] == SWITCHES["recall"][2]
    for bad in (["nope=" + str(recall)], [str(recall)], [f"recall={recall}", f"recall={recall}"]):
        assert cli_main(["mechanisms", str(base), *bad]) == 2
        assert "NAME=DIR" in capsys.readouterr().err


def test_the_verdict_says_what_is_kept_and_whether_anything_changed(tmp_path):
    from tipresearch.fit import mechanism_verdict

    same = {
        "committed": _run(tmp_path / "a", 0.05, [0.3, -0.2, 0.05]),
        "recall": _run(tmp_path / "b", 0.05, [0.3, -0.2, 0.05], ("reforms.recall_prob", 0.0)),
    }
    text = mechanism_verdict(mechanism_table(same, "committed"))
    assert "reforms.recall_prob = 0" in text and "simulation noise" in text
    assert "stays off" in text and "Kept" not in text
    better = {
        "committed": same["committed"],
        "recall": _run(tmp_path / "c", 0.04, [0.1, -0.15, 0.05], ("reforms.recall_prob", 0.2)),
    }
    text = mechanism_verdict(mechanism_table(better, "committed"))
    assert "lowers the objective by 0.0100" in text and "Kept: recall." in text
    with pytest.raises(ParameterError, match="table"):
        mechanism_verdict(pd.DataFrame({"run": ["x"]}))
