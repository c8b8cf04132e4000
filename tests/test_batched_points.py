"""Points evaluated together: the same outputs as one point at a time, on any executor."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from tipresearch.errors import ParameterError
from tipresearch.experiments import (
    ModelSettings,
    SweepSpec,
    build_point,
    model_point,
    open_sweep,
    point_outputs,
    run_sweep,
)
from tipresearch.experiments.point import model_points
from tipresearch.model import (
    TOTALS,
    Bureaus,
    Dynamics,
    ModelParams,
    expected_totals,
    expected_totals_many,
    simulate,
)

SPEC = {
    "name": "expected",
    "parameters": {
        "metric.rate": {"bounds": [0.0, 0.5]},
        "audit_prob": {"bounds": [0.0, 0.4]},
        "screening_noise": {"bounds": [0.0, 0.2]},
        "children.dna_effect": {"bounds": [0.0, 0.5]},
    },
    "design": {"method": "sobol", "n": 8, "seed": 1},
    "model": {
        "metric": "clearance_rate",
        "engine": "expected",
        "periods": 12,
        "params": {"n_bureaus": 6, "children.recall_prob": 0.02},
    },
    "replications": 2,
    "seed": 5,
}


def test_expected_totals_are_the_engine_summed_over_bureaus():
    params = ModelParams().updated(
        {"n_bureaus": 30, "screening_noise": 0.05, "children.recall_prob": 0.03}
    )
    frame = simulate(params, "clearance_rate", 24, 5, "expected")
    sums = frame.groupby(["period", "case_type"], observed=True)[list(TOTALS)].sum()
    totals = expected_totals(params, "clearance_rate", 24, 5)
    for name in TOTALS:
        np.testing.assert_allclose(
            totals[name], sums[name].to_numpy().reshape(24, 2), rtol=1e-12, err_msg=name
        )
    with pytest.raises(ParameterError, match="dynamics"):
        expected_totals(params, "clearance_rate", 2, dynamics=Dynamics(learning_rate=0.1))


@pytest.mark.parametrize("engine", ["expected", "aggregate"])
def test_a_batch_gives_what_each_point_gives_alone(engine):
    settings = ModelSettings(params={"n_bureaus": 8}, periods=10, engine=engine)
    points = [{"metric.rate": r, "audit_prob": a} for r, a in [(0.0, 0.1), (0.3, 0.0), (0.5, 0.3)]]
    seeds = [3, 4, 5]
    batch = model_points(points, seeds, settings)
    for values, seed, got in zip(points, seeds, batch, strict=True):
        params, metric, run = build_point(settings, values)
        frame = simulate(params, metric, 10, seed, engine)
        want = point_outputs(frame)  # the frame path, computed independently
        assert got.keys() == want.keys()
        assert np.allclose(list(got.values()), list(want.values()), rtol=1e-12, atol=0)
        assert model_point(values, seed, settings) == got


def test_a_batch_with_feedback_runs_month_by_month():
    settings = ModelSettings(
        params={"n_bureaus": 5}, periods=8, engine="expected", dynamics={"learning_rate": 0.2}
    )
    (got,) = model_points([{"audit_prob": 0.1}], [9], settings)
    params, metric, run = build_point(settings, {"audit_prob": 0.1})
    frame = simulate(params, metric, 8, 9, "expected", dynamics=run["dynamics"])
    assert got == point_outputs(frame)


def test_a_bad_run_in_a_batch_is_its_own_error():
    settings = ModelSettings(params={"n_bureaus": 4}, periods=3, engine="expected")
    out = model_points([{"audit_prob": 0.1}, {"audit_prob": 7.0}], [1, 2], settings)
    assert isinstance(out[0], dict) and isinstance(out[1], ParameterError)
    with pytest.raises(ParameterError, match="seeds"):
        model_points([{"audit_prob": 0.1}], [1, 2], settings)


def test_sweeps_with_the_expected_engine_do_not_depend_on_batching_or_workers(tmp_path):
    spec = SweepSpec.from_dict(json.loads(json.dumps(SPEC)))
    run_sweep(spec, tmp_path / "a", executor="inprocess", progress=False, batch_size=1)
    run_sweep(spec, tmp_path / "b", executor="processes", workers=2, progress=False, batch_size=7)
    a = open_sweep(tmp_path / "a").results().drop(columns="seconds")
    b = open_sweep(tmp_path / "b").results().drop(columns="seconds")
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert a["error"].isna().all() and len(a) == 8 * 6 * 2
    # a replication differs only through its bureaus, drawn from its seed
    first = a[a["point"] == 0]
    assert first["intake_rate"].nunique() == 2


def test_an_expected_engine_sweep_on_dask_matches_in_process(tmp_path):
    pytest.importorskip("distributed")
    spec = SweepSpec.from_dict(json.loads(json.dumps(SPEC)))
    run_sweep(spec, tmp_path / "ref", executor="inprocess", progress=False)
    run_sweep(spec, tmp_path / "dask", executor="dask", workers=2, progress=False, batch_size=5)
    ref = open_sweep(tmp_path / "ref").results().drop(columns="seconds")
    got = open_sweep(tmp_path / "dask").results().drop(columns="seconds")
    pd.testing.assert_frame_equal(ref, got, check_exact=True)


def test_runs_of_different_sizes_and_dispersions_together_are_each_run_alone():
    runs = [
        (ModelParams().updated({"n_bureaus": 3}), "clearance_rate"),
        (ModelParams().updated({"n_bureaus": 11, "dispersion": 0.2}), "solved_count"),
        (ModelParams().updated({"n_bureaus": 7, "effort_half": 0.5}), "clearance_rate"),
    ]
    seeds = [4, 5, 6]
    together = expected_totals_many(runs, seeds, 9)
    for r, ((params, metric), seed) in enumerate(zip(runs, seeds, strict=True)):
        alone = expected_totals(params, metric, 9, seed)
        for name in TOTALS:
            assert together[name].shape == (3, 9, 2)
            np.testing.assert_array_equal(together[name][r], alone[name], err_msg=name)
    # the first run's totals do not change when the others are left out or reordered
    first = expected_totals_many(runs[::-1], seeds[::-1], 9)
    for name in TOTALS:
        np.testing.assert_array_equal(first[name][2], together[name][0])


def test_expected_totals_many_refuses_what_it_cannot_stack():
    params = ModelParams().updated({"n_bureaus": 3})
    with pytest.raises(ParameterError, match="seeds"):
        expected_totals_many([(params, "clearance_rate")], [1, 2], 4)
    with pytest.raises(ParameterError, match="periods"):
        expected_totals_many([(params, "clearance_rate")], [1], 0)
    one_type = ModelParams(
        case_types=(dataclasses.replace(params.case_types[0], share=1.0),), n_bureaus=3
    )
    with pytest.raises(ParameterError, match="bureau"):
        empty = Bureaus(np.empty(0), np.empty(0))
        expected_totals_many([(params, "clearance_rate")], [1], 4, bureaus=[empty])
    with pytest.raises(ParameterError, match="case types"):
        expected_totals_many([(params, "clearance_rate"), (one_type, "clearance_rate")], [1, 2], 4)


def test_a_run_that_fails_inside_a_batch_leaves_the_others_their_outputs(monkeypatch):
    from tipresearch.experiments import point as point_module

    settings = ModelSettings(params={"n_bureaus": 4}, periods=3, engine="expected")
    points = [{"audit_prob": 0.1}, {"audit_prob": 0.2}, {"audit_prob": 0.3}]
    want = model_points(points, [1, 2, 3], settings)
    real = point_module.expected_totals_many

    def fails_for_the_second(runs, seeds, periods, **kw):
        if any(params.audit_prob == 0.2 for params, _ in runs):
            raise FloatingPointError("the second run")
        return real(runs, seeds, periods, **kw)

    monkeypatch.setattr(point_module, "expected_totals_many", fails_for_the_second)
    got = model_points(points, [1, 2, 3], settings)
    assert got[0] == want[0] and got[2] == want[2]
    assert isinstance(got[1], FloatingPointError)
