"""Sweeps: specs, seeds, executors that agree, resume, failures and dying workers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tipresearch import cli
from tipresearch.errors import ParameterError
from tipresearch.experiments import (
    ModelSettings,
    ParameterSpace,
    SweepSpec,
    build_point,
    check_levers,
    load_spec,
    model_point,
    open_sweep,
    point_outputs,
    point_seed,
    run_sweep,
)
from tipresearch.model import simulate, summarise

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = sorted((ROOT / "experiments").glob("*.yaml"))

TINY = {
    "name": "tiny",
    "parameters": {
        "metric.rate": {"bounds": [0.0, 0.5]},
        "audit_prob": {"bounds": [0.0, 0.4]},
        "children.dna_effect": {"bounds": [0.0, 0.5]},
    },
    "design": {"method": "sobol", "n": 8, "seed": 1},
    "model": {"metric": "clearance_rate", "periods": 6, "params": {"n_bureaus": 5}},
    "replications": 2,
    "seed": 11,
}


def tiny(**changes) -> SweepSpec:
    data = json.loads(json.dumps(TINY))
    data.update(changes)
    return SweepSpec.from_dict(data)


def results(out: Path) -> pd.DataFrame:
    """A sweep's results without the run times (the only part that may differ)."""
    return open_sweep(out).results().drop(columns="seconds")


def _write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# --------------------------------------------------------------------------- seeds, outputs


def test_point_seed_depends_only_on_the_run():
    seeds = {(p, r): point_seed(5, p, r) for p in range(50) for r in range(3)}
    assert len(set(seeds.values())) == len(seeds)  # all distinct
    for (p, r), s in reversed(list(seeds.items())):  # any order, same seeds
        assert point_seed(5, p, r) == s
    assert point_seed(6, 0, 0) != point_seed(5, 0, 0)
    expected = np.random.SeedSequence(5, spawn_key=(3, 1)).generate_state(1)[0]
    assert point_seed(5, 3, 1) == expected
    # common random numbers: one seed per replication for every point
    assert point_seed(5, 0, 1, common=True) == point_seed(5, 49, 1, common=True)
    assert point_seed(5, 0, 1, common=True) != point_seed(5, 0, 0, common=True)
    common = np.random.SeedSequence(5, spawn_key=(1,)).generate_state(1)[0]
    assert point_seed(5, 7, 1, common=True) == common


def test_point_outputs_are_the_means_of_summarise():
    frame = simulate(None, "clearance_rate", 8, seed=3)
    out = point_outputs(frame)
    overall = summarise(frame, by_type=False).mean(numeric_only=True)
    for name, col in (
        ("intake_rate", "intake_rate"),
        ("clearance_rate", "clearance_rate"),
        ("unrecorded_share", "unrecorded_share"),
        ("rescued", "victims_rescued"),
        ("opened", "opened"),
        ("solved", "solved"),
        ("reports", "reports"),
    ):
        assert out[name] == pytest.approx(overall[col], rel=1e-12)
    by = summarise(frame, by_type=True)
    for k in ("women", "children"):
        part = by[by["case_type"] == k].mean(numeric_only=True)
        assert out[f"intake_rate_{k}"] == pytest.approx(part["intake_rate"], rel=1e-12)
        assert out[f"clearance_rate_{k}"] == pytest.approx(part["clearance_rate"], rel=1e-12)
        assert out[f"rescued_{k}"] == pytest.approx(part["victims_rescued"], rel=1e-12)


def test_build_point_applies_levers():
    s = ModelSettings(params={"n_bureaus": 7}, metric="clearance_rate", periods=9)
    params, metric, run = build_point(
        s,
        {
            "metric.rate": 0.4,
            "audit_prob": 0.3,
            "children.dna_effect": 0.2,
            "periods": np.int64(12),
            "dynamics.adjust_rate": 0.5,
        },
    )
    assert params.n_bureaus == 7 and params.audit_prob == 0.3
    assert params.case_type("children").dna_effect == 0.2
    assert metric.name == "clearance_rate" and metric.rate == 0.4 and metric.quota == 0.05
    assert run["periods"] == 12 and run["dynamics"].adjust_rate == 0.5
    _, chosen, _ = build_point(s, {"metric": "solved_count", "metric.opened": 0.1})
    assert chosen.name == "solved_count" and chosen.opened == 0.1
    with pytest.raises(ParameterError, match="audit_prob"):
        build_point(s, {"audit_prob": 1.5})
    with pytest.raises(ParameterError, match="periods"):
        build_point(s, {"periods": 12.5})


def test_model_point_is_simulate_summarised():
    s = ModelSettings(params={"n_bureaus": 6}, periods=5)
    out = model_point({"metric.rate": 0.3}, 42, s)
    metric = build_point(s, {"metric.rate": 0.3})[1]
    frame = simulate(s.base_params, metric, 5, 42)
    assert out == point_outputs(frame)


# --------------------------------------------------------------------------- specs


def test_unknown_keys_are_named_at_every_level():
    with pytest.raises(ParameterError, match="unknown: repliations"):
        SweepSpec.from_dict({**TINY, "repliations": 3})
    with pytest.raises(ParameterError, match="unknown: sed"):
        SweepSpec.from_dict({**TINY, "design": {"method": "lhs", "n": 4, "sed": 1}})
    with pytest.raises(ParameterError, match="unknown: period"):
        SweepSpec.from_dict({**TINY, "model": {"period": 6}})
    with pytest.raises(ParameterError, match="unknown: adjust"):
        SweepSpec.from_dict({**TINY, "model": {"dynamics": {"adjust": 0.5}}})


def test_levers_are_checked_against_the_model():
    space = ParameterSpace.from_dict({"audit_prb": [0, 1]})
    with pytest.raises(ParameterError, match="audit_prb.*a model parameter"):
        check_levers(space, ModelSettings())
    space = ParameterSpace.from_dict({"audit_prob": [0, 1.5]})
    with pytest.raises(ParameterError, match=r"parameters\.audit_prob' = 1\.5"):
        check_levers(space, ModelSettings())
    space = ParameterSpace.from_dict({"metric": {"choices": ["solved_count", "ranking"]}})
    with pytest.raises(ParameterError, match="ranking"):
        check_levers(space, ModelSettings())
    space = ParameterSpace.from_dict({"women.dna_effect": [0, 0.5], "metric.bonus": [0, 1]})
    check_levers(space, ModelSettings(metric="clearance_target"))


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[p.stem for p in EXPERIMENTS])
def test_example_specs_are_valid(path):
    spec = load_spec(path)
    check_levers(spec.space, spec.model)
    assert spec.name == path.stem
    assert len(spec.design()) > 0


def test_levers_sobol_is_the_benchmark_workload():
    spec = load_spec(ROOT / "experiments" / "levers_sobol.yaml")
    assert spec.method == "sobol" and len(spec.design()) >= 10_000
    assert spec.model.periods == 60 and spec.model.base_params.n_bureaus == 100
    assert spec.model.engine == "expected" and len(spec.model.base_params.case_types) == 2
    assert spec.common_seeds  # one set of bureaus: the outputs are functions of the levers


# --------------------------------------------------------------------------- executors


def test_results_do_not_depend_on_batching_or_workers(tmp_path):
    spec = tiny()
    run_sweep(spec, tmp_path / "a", executor="inprocess", progress=False, batch_size=40)
    run_sweep(spec, tmp_path / "b", executor="processes", workers=2, progress=False, batch_size=3)
    a, b = results(tmp_path / "a"), results(tmp_path / "b")
    assert len(a) == len(spec.design()) * 2
    pd.testing.assert_frame_equal(a, b)
    assert a["error"].isna().all()
    # each run is the model at that point with that run's seed
    row = a.iloc[7]
    values = {n: row[n] for n in spec.space.names}
    expected = model_point(values, int(row["seed"]), spec.model)
    assert row["intake_rate"] == expected["intake_rate"]
    assert row["seed"] == point_seed(11, int(row["point"]), int(row["replication"]))


def test_dask_local_cluster_matches_in_process(tmp_path):
    pytest.importorskip("distributed")
    spec = tiny()
    run_sweep(spec, tmp_path / "ref", executor="inprocess", progress=False)
    summary = run_sweep(
        spec, tmp_path / "dask", executor="dask", workers=2, progress=False, batch_size=5
    )
    assert summary.executor == "dask" and summary.workers == 2
    pd.testing.assert_frame_equal(results(tmp_path / "ref"), results(tmp_path / "dask"))


def test_scheduler_address_selects_dask(monkeypatch):
    from tipresearch.experiments import resolve_executor

    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://10.0.0.1:8786")
    assert resolve_executor("auto", 2) == ("dask", 2, "tcp://10.0.0.1:8786")
    with pytest.raises(ParameterError, match="dask"):
        resolve_executor("processes", 2)
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS")
    assert resolve_executor("auto", 1) == ("inprocess", 1, None)
    assert resolve_executor("auto", 3, None)[0] == "processes"
    with pytest.raises(ParameterError, match="workers"):
        resolve_executor("auto", 0)


# --------------------------------------------------------------------------- resume

_STOP = {"after": None, "calls": 0}


def interrupting(values, seed, settings):
    """Raise KeyboardInterrupt on the n-th call while _STOP['after'] is set."""
    _STOP["calls"] += 1
    if _STOP["after"] is not None and _STOP["calls"] > _STOP["after"]:
        raise KeyboardInterrupt
    return {"y": values["x"] * 2 + seed % 7, "z": values["w"]}


XY = ParameterSpace.from_dict({"x": [0.0, 1.0], "w": [-1.0, 1.0]})


def test_resume_after_interruption_runs_every_point_once(tmp_path):
    spec = SweepSpec(XY, method="lhs", n=60, replications=2, seed=4)
    ref = tmp_path / "ref"
    run_sweep(spec, ref, executor="inprocess", evaluate=interrupting, progress=False)
    _STOP.update(after=45, calls=0)
    out = tmp_path / "cut"
    try:
        with pytest.raises(KeyboardInterrupt):
            run_sweep(
                spec, out, executor="inprocess", evaluate=interrupting, progress=False, batch_size=7
            )
    finally:
        _STOP["after"] = None
    sw = open_sweep(out)
    done = int(sw.done().sum())
    assert 0 < done < 60 and done % 7 == 0  # whole tasks only: 45 runs -> 3 tasks of 7 points
    with pytest.raises(ParameterError, match="add --resume"):
        run_sweep(spec, out, executor="inprocess", evaluate=interrupting, progress=False)
    _STOP["calls"] = 0
    summary = run_sweep(
        spec, out, executor="inprocess", evaluate=interrupting, progress=False, resume=True
    )
    assert summary.skipped == done and summary.evaluated == 60 - done
    assert _STOP["calls"] == (60 - done) * 2  # finished points were not run again
    got = results(out)
    assert not got.duplicated(["point", "replication"]).any() and len(got) == 120
    pd.testing.assert_frame_equal(got, results(ref))
    # resuming a finished sweep does nothing
    again = run_sweep(
        spec, out, executor="inprocess", evaluate=interrupting, progress=False, resume=True
    )
    assert again.evaluated == 0 and again.skipped == 60


def test_resume_with_another_spec_is_refused(tmp_path):
    spec = SweepSpec(XY, method="lhs", n=10, seed=4)
    run_sweep(spec, tmp_path, executor="inprocess", evaluate=interrupting, progress=False)
    other = SweepSpec(XY, method="lhs", n=12, seed=4)
    with pytest.raises(ParameterError, match=r"differs in: design\.n \(10 there, 12 here\)"):
        run_sweep(
            other,
            tmp_path,
            evaluate=interrupting,
            executor="inprocess",
            resume=True,
            progress=False,
        )
    # a name, description or batch size is not part of the sweep's identity
    renamed = SweepSpec(XY, method="lhs", n=10, seed=4, name="other", batch_size=3)
    run_sweep(
        renamed, tmp_path, evaluate=interrupting, executor="inprocess", resume=True, progress=False
    )


def test_one_sweep_at_a_time_per_folder(tmp_path):
    from tipresearch.experiments.store import _lock

    spec = SweepSpec(XY, method="lhs", n=4, seed=4)
    held = _lock(tmp_path)
    try:
        with pytest.raises(ParameterError, match=rf"process {os.getpid()} holds its .lock"):
            run_sweep(spec, tmp_path, executor="inprocess", evaluate=interrupting, progress=False)
    finally:
        held.close()
    run_sweep(spec, tmp_path, executor="inprocess", evaluate=interrupting, progress=False)
    assert open_sweep(tmp_path).complete


def test_killed_command_resumes_without_loss_or_duplicates(tmp_path):
    spec = {
        **TINY,
        "design": {"method": "sobol", "n": 48, "seed": 2},
        "model": {"metric": "clearance_rate", "periods": 60, "params": {"n_bureaus": 100}},
        "replications": 1,
    }
    path = _write(tmp_path / "spec.yaml", spec)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "tipresearch", "sweep", str(path), "--out", str(out)]
    proc = subprocess.Popen(
        [*cmd, "--executor", "inprocess", "--batch-size", "4", "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    parts = out / "parts"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if parts.is_dir() and len(list(parts.glob("points-*.parquet"))) >= 3:
            break
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    sw = open_sweep(out)
    done = int(sw.done().sum())
    assert 0 < done < sw.points, "the command was not stopped part-way"
    summary = run_sweep(
        load_spec(path), out, executor="processes", workers=2, resume=True, progress=False
    )
    assert summary.skipped == done and summary.evaluated == sw.points - done
    assert not list(parts.glob(".points-*.tmp"))
    run_sweep(load_spec(path), tmp_path / "whole", executor="inprocess", progress=False)
    got = results(out)
    assert len(got) == sw.points and not got["point"].duplicated().any()
    pd.testing.assert_frame_equal(got, results(tmp_path / "whole"))


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (from /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_workers_end_with_a_killed_parent_and_leave_the_folder_free(tmp_path):
    spec = {**TINY, "design": {"method": "sobol", "n": 256, "seed": 2}}
    path = _write(tmp_path / "spec.yaml", spec)
    out = tmp_path / "orphans"
    cmd = [sys.executable, "-m", "tipresearch", "sweep", str(path), "--out", str(out)]
    proc = subprocess.Popen(
        [*cmd, "--executor", "processes", "--workers", "2", "--batch-size", "4", "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    parts = out / "parts"
    deadline = time.monotonic() + 120
    workers: list[int] = []
    while time.monotonic() < deadline and proc.poll() is None:
        workers = _children(proc.pid)
        if len(workers) >= 2 and parts.is_dir() and len(list(parts.glob("*.parquet"))) >= 2:
            break
        time.sleep(0.02)
    assert proc.poll() is None and len(workers) >= 2, "the sweep ended before it was killed"
    os.kill(proc.pid, signal.SIGKILL)  # the parent only: SIGKILL is not passed on
    proc.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.1)
    left = [w for w in workers if _alive(w)]
    for w in left:  # do not leave them running if the check fails
        os.kill(w, signal.SIGKILL)
    assert not left, "workers outlived their killed parent"
    # the folder's lock ended with the parent: the sweep resumes at once
    summary = run_sweep(load_spec(path), out, executor="inprocess", resume=True, progress=False)
    assert summary.skipped > 0 and open_sweep(out).complete


# --------------------------------------------------------------------------- failures


def sometimes_failing(values, seed, settings):
    if values["x"] > 0.8:
        raise ValueError(f"x too large: {values['x']:.3f}")
    return {"y": values["x"]}


def test_failing_point_is_recorded_and_the_sweep_goes_on(tmp_path):
    spec = SweepSpec(XY, method="lhs", n=40, seed=1)
    summary = run_sweep(
        spec,
        tmp_path,
        executor="processes",
        workers=2,
        evaluate=sometimes_failing,
        progress=False,
        batch_size=6,
    )
    got = open_sweep(tmp_path).results()
    bad = got["x"] > 0.8
    assert bad.sum() == 8  # one Latin hypercube stratum in five
    assert summary.failed_runs == 8 and len(got) == 40
    assert got.loc[bad, "error"].str.match(r"ValueError: x too large: 0\.\d{3}$").all()
    assert got.loc[bad, "y"].isna().all()
    assert got.loc[~bad, "error"].isna().all() and (got.loc[~bad, "y"] == got.loc[~bad, "x"]).all()
    failures = open_sweep(tmp_path).failures()
    assert len(failures) == 8 and set(failures.columns) >= {"point", "x", "error"}
    means = open_sweep(tmp_path).point_means(["y"])
    assert means["y"].isna().sum() == 8


def dies_once(values, seed, settings):
    """Kill the worker process the first time x passes 0.5 (a marker file remembers)."""
    marker = Path(settings)
    if values["x"] > 0.5 and not marker.exists():
        marker.write_text("died")
        os._exit(3)
    return {"y": values["x"] + values["w"]}


def always_dies(values, seed, settings):
    os._exit(4)


def test_a_task_that_always_kills_its_worker_is_recorded(tmp_path):
    spec = SweepSpec(XY, method="lhs", n=4, seed=2)
    summary = run_sweep(
        spec,
        tmp_path,
        executor="processes",
        workers=1,
        evaluate=always_dies,
        progress=False,
        retries=1,
        batch_size=4,
    )
    got = open_sweep(tmp_path).results()
    assert summary.failed_runs == 4
    assert got["error"].str.startswith("WorkerDied").all()


# --------------------------------------------------------------------------- reading parts


def concatenated(out: Path) -> pd.DataFrame:
    """The results as reading each part with pandas and concatenating them gave them."""
    sw = open_sweep(out)
    frame = pd.concat([pd.read_parquet(p) for p in sw.parts()], ignore_index=True)
    frame = frame.sort_values(["point", "replication"], ignore_index=True)
    tail = ["error", "seconds"]
    return frame[[c for c in frame if c not in tail] + tail]


def fails_in_blocks(values, seed, settings):
    """Every run with x in [0.2, 0.5) fails: whole part files without outputs."""
    if 0.2 <= values["x"] < 0.5:
        raise RuntimeError("block")
    return {"y": values["x"], "z": values["w"]}


def test_parts_with_and_without_outputs_read_as_one(tmp_path):
    spec = SweepSpec(XY, method="grid", levels=10)  # x is constant within each run of 10 points
    run_sweep(
        spec,
        tmp_path,
        executor="inprocess",
        evaluate=fails_in_blocks,
        progress=False,
        batch_size=10,
    )
    sw = open_sweep(tmp_path)
    without = [p for p in sw.parts() if "y" not in pd.read_parquet(p)]
    assert len(without) == 3  # x = 2/9, 3/9 and 4/9
    got = sw.results()
    pd.testing.assert_frame_equal(got, concatenated(tmp_path), check_exact=True)
    assert list(got.columns) == [
        "point",
        "replication",
        "seed",
        "x",
        "w",
        "y",
        "z",
        "error",
        "seconds",
    ]
    assert sw.outputs == ["y", "z"]
    failed = got["error"].notna()
    assert failed.sum() == 30 and got.loc[failed, ["y", "z"]].isna().all().all()
    assert got.loc[~failed, "error"].map(lambda e: e is None).all()  # as concatenating gave
    assert got["error"].dtype == object


def dies_or_fails(values, seed, settings):
    """Kill the worker for x > 0.85, raise for x < 0.1: three kinds of error column."""
    if values["x"] > 0.85:
        os._exit(3)
    if values["x"] < 0.1:
        raise ValueError("low")
    return {"y": values["x"] + values["w"]}


def test_parts_whose_errors_were_written_differently_read_as_one(tmp_path):
    import pyarrow.parquet as pq

    spec = SweepSpec(XY, method="lhs", n=24, seed=3)
    run_sweep(
        spec,
        tmp_path,
        executor="processes",
        workers=1,
        evaluate=dies_or_fails,
        retries=0,
        progress=False,
        batch_size=3,
    )
    sw = open_sweep(tmp_path)
    kinds = {str(pq.read_schema(p).field("error").type) for p in sw.parts()}
    assert kinds == {"null", "string", "large_string"}  # none failed, raised, worker died
    got = sw.results()
    pd.testing.assert_frame_equal(got, concatenated(tmp_path), check_exact=True)
    died = got["error"].str.startswith("WorkerDied", na=False)
    low = got["error"] == "ValueError: low"
    assert died[got["x"] > 0.85].all() and died.sum() >= 3
    assert low.any() and (got.loc[low, "x"] < 0.1).all()
    ok = got["error"].isna()
    assert np.allclose(got.loc[ok, "y"], got.loc[ok, "x"] + got.loc[ok, "w"])
    assert got.loc[~ok, "y"].isna().all()


def test_a_point_in_two_part_files_is_refused(tmp_path):
    import shutil

    from tipresearch.errors import DataFileError

    spec = SweepSpec(XY, method="lhs", n=12, seed=1)
    run_sweep(
        spec, tmp_path, executor="inprocess", evaluate=interrupting, progress=False, batch_size=4
    )
    parts = tmp_path / "parts"
    shutil.copy(
        parts / "points-00000004-00000008.parquet", parts / "points-00000100-00000104.parquet"
    )
    # a copy under another point range is not a whole part of those points: left out
    sw = open_sweep(tmp_path)
    assert len(sw.parts()) == 3 and sw.results()["point"].is_unique
    assert any("points-00000100-00000104.parquet" in line for line in sw.problems())
    # the same points under a range of the design's, written whole, are read twice: refused
    shutil.copy(
        parts / "points-00000004-00000008.parquet", parts / "points-00000004-00000006.parquet"
    )
    import pyarrow.parquet as pq

    table = pq.read_table(parts / "points-00000004-00000008.parquet")
    pq.write_table(table.slice(0, 2), parts / "points-00000004-00000006.parquet")
    with pytest.raises(DataFileError, match="point 4 appears in two part files"):
        open_sweep(tmp_path).results()


# --------------------------------------------------------------------------- identity

#: The digest of TINY's sweep as folders written before the package was split record it.
TINY_DIGEST = "afc6d902d45549a1ede36c219fad5db27913589458afc97a5df3645eb3a4cbb6"


def test_sweep_folders_keep_their_digest(tmp_path):
    from tipresearch.experiments.sweep import _MODEL_POINT

    assert _MODEL_POINT == "tipresearch.sweep:model_point"
    spec = tiny(design={"method": "sobol", "n": 2, "seed": 1})
    run_sweep(spec, tmp_path / "small", executor="inprocess", progress=False)
    small = json.loads((tmp_path / "small" / "manifest.json").read_text())
    assert small["identity"]["evaluate"] == "tipresearch.sweep:model_point"
    assert small["digest"] != TINY_DIGEST  # another design, another sweep
    # a folder of TINY's sweep resumes: its manifest's digest is the one recorded
    spec = tiny()
    out = tmp_path / "tiny"
    run_sweep(spec, out, executor="inprocess", progress=False, batch_size=40)
    assert json.loads((out / "manifest.json").read_text())["digest"] == TINY_DIGEST
    again = run_sweep(spec, out, executor="inprocess", progress=False, resume=True)
    assert again.skipped == len(spec.design()) and again.evaluated == 0


def test_part_files_without_a_manifest_are_refused(tmp_path):
    spec = SweepSpec(XY, method="lhs", n=4, seed=4)
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "points-00000000-00000002.parquet").write_bytes(b"")
    with pytest.raises(ParameterError, match="part files but no manifest.json"):
        run_sweep(spec, tmp_path, executor="inprocess", evaluate=interrupting, progress=False)
    assert not (tmp_path / "manifest.json").exists()


# --------------------------------------------------------------------------- command line


def test_sweep_and_sensitivity_commands(tmp_path, capsys):
    spec = {**TINY, "design": {"method": "grid", "levels": 3}, "replications": 1}
    path = _write(tmp_path / "grid.yaml", spec)
    out = tmp_path / "out"
    assert cli.main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    assert open_sweep(out).complete and open_sweep(out).points == 27
    assert cli.main(["sweep", str(path), "--out", str(out), "--quiet"]) == 2
    assert "add --resume" in capsys.readouterr().err
    assert (
        cli.main(["sensitivity", str(out), "--output", "intake_rate", "--prim", "intake_rate>=0.8"])
        == 0
    )
    printed = capsys.readouterr().out
    assert "metric.rate" in printed and "PRIM box for intake_rate >= 0.8" in printed
    table = pd.read_csv(out / "sensitivity.csv")
    assert set(table["parameter"]) == set(TINY["parameters"])
    assert cli.main(["sensitivity", str(out), "--output", "nope"]) == 2
    assert "nope" in capsys.readouterr().err
    bad = _write(tmp_path / "bad.yaml", {**TINY, "parameters": {"audit_prob": [0, 2]}})
    assert cli.main(["sweep", str(bad), "--out", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err
    assert "parameters.audit_prob' = 2" in err and "[0, 1]" in err
    assert not (tmp_path / "bad").exists()  # refused before anything was written


@pytest.mark.parametrize(("executor", "n", "batch_size"), [("processes", 30, 3), ("dask", 12, 2)])
def test_dying_worker_tasks_are_retried(tmp_path, executor, n, batch_size):
    if executor == "dask":
        pytest.importorskip("distributed")
    spec = SweepSpec(XY, method="lhs", n=n, seed=2)
    marker = tmp_path / "marker"
    summary = run_sweep(
        spec,
        tmp_path / "out",
        executor=executor,
        workers=2,
        evaluate=dies_once,
        settings=str(marker),
        progress=False,
        batch_size=batch_size,
    )
    assert marker.exists()  # a worker did die
    got = open_sweep(tmp_path / "out").results()
    assert summary.failed_runs == 0 and got["error"].isna().all()
    assert len(got) == n and not got["point"].duplicated().any()
    assert np.allclose(got["y"], got["x"] + got["w"])


def test_tasks_cut_automatically_shrink_towards_the_end_of_a_sweep():
    from functools import partial

    from tipresearch.experiments import load_spec
    from tipresearch.experiments.executors import _auto_batch, _tasks

    assert _auto_batch(1_000_000, 2, "processes") == 1000
    assert _auto_batch(1_000_000, 2, "dask") == 1000
    assert _auto_batch(80, 2, "processes") == 25  # a quarter of a share, at least 25
    assert _auto_batch(3, 4, "dask") == 3
    spec = load_spec(ROOT / "experiments" / "levers_sobol.yaml")
    design = spec.design()
    todo = np.ones(len(design), dtype=bool)
    todo[1000:1100] = False  # points already done: tasks never straddle them
    sizes, covered = [], np.zeros(len(design), dtype=int)
    batch = partial(_auto_batch, workers=2, executor="processes")
    for task in _tasks(design, todo, batch, spec, None, None):
        sizes.append(task.stop - task.start)
        covered[task.start : task.stop] += 1
        assert len(task.point_values()) == task.stop - task.start
    assert np.array_equal(covered, todo.astype(int))  # every point to do, once
    assert sizes[0] == 1000 and min(sizes[:-1]) >= 25  # the last: what is left
    assert max(sizes[-5:]) <= 25  # the last tasks are the smallest
    assert len(sizes) < len(design) / 100  # fewer tasks than with 100 points each


@pytest.mark.parametrize("executor", ["processes", "dask"])
def test_workers_get_their_next_task_before_a_result_is_handed_back(executor):
    # the caller stores each result (a part file, fsynced): the workers must not wait
    # for that, so the next task is submitted before the result is handed back
    from tipresearch.experiments.executors import _DRIVERS, _tasks
    from tipresearch.experiments.point import model_point

    spec = tiny(replications=1)
    design = spec.design()
    tasks = list(_tasks(design, np.ones(len(design), bool), 4, spec, model_point, spec.model))
    taken: list[int] = []

    def source():
        for task in tasks:
            taken.append(task.start)
            yield task

    runs = _DRIVERS[executor](source(), 1, None, 0)
    task, frame = next(runs)
    in_flight = {"processes": 2, "dask": 4}[executor]  # before the first result
    assert len(taken) == in_flight + 1, taken
    assert frame["error"].isna().all() and len(frame) == task.stop - task.start
    runs.close()


def test_a_task_that_carries_the_design_runs_as_one_that_carries_its_values():
    import dataclasses

    from tipresearch.experiments.executors import _failed_frame, _tasks, run_task
    from tipresearch.experiments.point import model_point

    spec = tiny()
    design = spec.design()
    todo = np.ones(len(design), bool)
    lazy = list(_tasks(design, todo, 7, spec, model_point, spec.model))
    eager = [
        dataclasses.replace(
            t, values=tuple(design.rows(t.start, t.stop).to_dict("records")), design=None
        )
        for t in lazy
    ]
    assert [(t.start, t.stop) for t in lazy] == [(t.start, t.stop) for t in eager]
    for a, b in zip(eager, lazy, strict=True):
        assert b.values == () and b.design is design and a.design is None
        assert b.point_values() == a.values
        pd.testing.assert_frame_equal(
            run_task(a).drop(columns="seconds"), run_task(b).drop(columns="seconds")
        )
        pd.testing.assert_frame_equal(_failed_frame(a, "x"), _failed_frame(b, "x"))
