"""Damaged sweep folders: detected, set aside, and restored bit-identically on resume.

A part file is damaged here in each way a disk, a killed run or a hand can damage it:
truncated, replaced by garbage, rewritten as valid Parquet without one point's rows
(with and without its record), and changed in one value. ``--resume`` must set each
aside (never delete it), run its points again and leave results identical to an
undamaged sweep; ``sensitivity`` must refuse the damaged or unfinished sweep unless
``--allow-partial`` is given, and then say so.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from tipresearch.cli import main as cli_main
from tipresearch.errors import DataFileError
from tipresearch.experiments import ParameterSpace, SweepSpec, open_sweep, run_sweep

XY = ParameterSpace.from_dict({"x": [0.0, 1.0], "w": [-1.0, 1.0]})
SPEC = SweepSpec(XY, method="lhs", n=12, replications=2, seed=4)


def evaluate(values, seed, settings):
    """Cheap and deterministic in the run's seed."""
    return {"y": values["x"] * 2 + seed % 7, "z": values["w"]}


def sweep(out: Path, resume: bool = False):
    return run_sweep(
        SPEC,
        out,
        executor="inprocess",
        evaluate=evaluate,
        progress=False,
        batch_size=4,
        resume=resume,
    )


def results(out: Path) -> pd.DataFrame:
    return open_sweep(out).results().drop(columns="seconds")


def truncate(part: Path) -> None:
    data = part.read_bytes()
    part.write_bytes(data[: len(data) // 2])


def garbage(part: Path) -> None:
    part.write_bytes(b"not parquet at all" * 20)


def drop_point(part: Path) -> None:
    table = pq.read_table(part)
    keep = table.filter(pq.read_table(part).column("point").to_numpy() != 5)
    pq.write_table(keep, part)


def drop_point_and_record(part: Path) -> None:
    drop_point(part)
    part.with_suffix(".json").unlink()


def change_value(part: Path) -> None:
    frame = pd.read_parquet(part)
    frame.loc[0, "y"] = frame.loc[0, "y"] + 1.0
    frame.to_parquet(part, index=False)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("ref")
    sweep(out)
    return results(out)


@pytest.mark.parametrize(
    "damage", [truncate, garbage, drop_point, drop_point_and_record, change_value]
)
def test_resume_sets_a_damaged_part_aside_and_restores_it(tmp_path, reference, damage, capsys):
    sweep(tmp_path)
    part = tmp_path / "parts" / "points-00000004-00000008.parquet"
    assert json.loads(part.with_suffix(".json").read_text())["rows"] == 8
    damage(part)
    sw = open_sweep(tmp_path)
    assert not sw.complete and any(part.name in line for line in sw.problems())
    assert not sw.done()[4:8].any() and sw.done()[:4].all()
    summary = sweep(tmp_path, resume=True)
    assert summary.damaged_parts == 1 and summary.evaluated == 4 and summary.skipped == 8
    assert "damaged part points-00000004-00000008.parquet" in capsys.readouterr().err
    set_aside = list((tmp_path / "parts" / "damaged").glob("points-00000004-00000008.*.parquet"))
    assert len(set_aside) == 1  # kept, not deleted
    assert open_sweep(tmp_path).complete
    pd.testing.assert_frame_equal(results(tmp_path), reference, check_exact=True)
    # and a second resume finds nothing to do
    again = sweep(tmp_path, resume=True)
    assert again.evaluated == 0 and again.damaged_parts == 0


def test_a_part_written_without_its_record_is_checked_by_its_rows(tmp_path, reference):
    sweep(tmp_path)
    for record in (tmp_path / "parts").glob("*.json"):
        record.unlink()  # as a run killed between the part and its record leaves it
    sw = open_sweep(tmp_path)
    assert sw.complete
    pd.testing.assert_frame_equal(results(tmp_path), reference, check_exact=True)


def test_a_damaged_design_is_a_clear_error(tmp_path):
    sweep(tmp_path)
    (tmp_path / "design.parquet").write_bytes(b"garbage")
    with pytest.raises(DataFileError, match="design.parquet: not a readable design"):
        sweep(tmp_path, resume=True)
    with pytest.raises(DataFileError, match="design.parquet"):
        open_sweep(tmp_path)


def test_sensitivity_refuses_a_sweep_that_is_not_whole(tmp_path, capsys):
    sweep(tmp_path)
    garbage(tmp_path / "parts" / "points-00000000-00000004.parquet")
    rc = cli_main(["sensitivity", str(tmp_path), "--output", "y"])
    err = capsys.readouterr().err
    assert rc == 2 and "a whole sweep" in err and "points-00000000-00000004" in err
    assert "--allow-partial" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "sensitivity.csv").exists()
    rc = cli_main(["sensitivity", str(tmp_path), "--output", "y", "--allow-partial"])
    printed = capsys.readouterr().out
    assert rc == 0 and "PARTIAL ANALYSIS" in printed and "4 of 12 points" in printed
    table = pd.read_csv(tmp_path / "sensitivity.csv")
    assert (table["points_used"] == 8).all() and (table["points_in_design"] == 12).all()


def test_a_grid_sweep_keeps_its_axes_and_makes_points_from_them(tmp_path):
    import itertools

    spec = SweepSpec(XY, method="grid", levels=4, replications=2, seed=4)
    kw = {"executor": "inprocess", "evaluate": evaluate, "progress": False, "batch_size": 3}
    run_sweep(spec, tmp_path, **kw)
    axes = pd.read_parquet(tmp_path / "design.parquet")
    assert axes["parameter"].tolist() == ["x"] * 4 + ["w"] * 4  # 8 rows, not 16 points
    got = open_sweep(tmp_path).results()
    pairs = list(itertools.product([0.0, 1 / 3, 2 / 3, 1.0], [-1.0, -1 / 3, 1 / 3, 1.0]))
    expected = [p for p in pairs for _ in range(2)]
    assert np.allclose(got[["x", "w"]].to_numpy(), expected, rtol=0, atol=1e-15)
    # a design file whose axes are not the spec's is refused, not trusted
    axes.loc[1, "value"] = "0.5"
    axes.to_parquet(tmp_path / "design.parquet", index=False)
    with pytest.raises(DataFileError, match="the grid's axes as its spec draws them"):
        run_sweep(spec, tmp_path, resume=True, **kw)


def test_a_sobol_sweep_keeps_its_first_points_and_checks_them(tmp_path):
    spec = SweepSpec(XY, method="sobol", n=8, replications=1, seed=4)
    kw = {"executor": "inprocess", "evaluate": evaluate, "progress": False, "batch_size": 5}
    run_sweep(spec, tmp_path, **kw)
    head = pd.read_parquet(tmp_path / "design.parquet")
    assert len(head) == len(spec.design()) == 8 * 4  # all of them: fewer than 1,024
    got = open_sweep(tmp_path).results()
    assert np.array_equal(got[["x", "w"]].to_numpy(), spec.design().values.to_numpy())
    head.loc[3, "unit:x"] = 0.5
    head.to_parquet(tmp_path / "design.parquet", index=False)
    with pytest.raises(DataFileError, match="the Sobol' points its spec draws"):
        run_sweep(spec, tmp_path, resume=True, **kw)
