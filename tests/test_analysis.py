"""Analyses of the intake model: metric table, frontier, threshold curves, per-report samples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import special

from tipresearch.errors import ParameterError
from tipresearch.model import (
    ALL_TYPES,
    OUTCOME_COLUMNS,
    PLANNER,
    PRESETS,
    Metric,
    ModelParams,
    best_response,
    declined_summary,
    expected_outcomes,
    frontier,
    intake_moments,
    metric_table,
    report_sample,
    simulate,
    threshold_curve,
)


@pytest.fixture(scope="module")
def params() -> ModelParams:
    return ModelParams()


@pytest.fixture(scope="module")
def table(params) -> pd.DataFrame:
    return metric_table(params)


def _z(x1: float, n1: int, x2: float, n2: int) -> float:
    """Two-sample z statistic for proportions x1 / n1 and x2 / n2."""
    pooled = (x1 + x2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return (x1 / n1 - x2 / n2) / se


# --------------------------------------------------------------------------- metric_table


def test_metric_table_has_one_row_per_metric_and_type(params, table):
    names = [*PRESETS, PLANNER.name]
    assert list(table["metric"].cat.categories) == names
    assert len(table) == len(names) * (len(params.case_types) + 1)
    assert set(OUTCOME_COLUMNS) <= set(table.columns)
    assert table.groupby("metric", observed=True).size().eq(3).all()


def test_metric_table_all_row_sums_the_types(table):
    for _, group in table.groupby("metric", observed=True):
        types = group[group["case_type"] != ALL_TYPES]
        total = group[group["case_type"] == ALL_TYPES].iloc[0]
        for col in ("reports", "opened", "solved", "victims_total", "declined_solvable"):
            assert total[col] == pytest.approx(types[col].sum())
        assert total["intake_rate"] == pytest.approx(total["opened"] / total["reports"])
        assert total["unrecorded_share"] == pytest.approx(1 - total["intake_rate"])


def test_metric_table_matches_best_response(params, table):
    r = best_response(params, "solved_count")
    rows = table[(table["metric"] == "solved_count") & (table["case_type"] != ALL_TYPES)]
    assert_allclose(rows["threshold"], r.threshold[0])
    assert_allclose(rows["opened"], r.outcomes["opened"][0])
    assert_allclose(rows["victims_later"], r.outcomes["victims_later"][0])


@pytest.mark.parametrize(
    "changes",
    [{}, {"capacity_ratio": 0.05}, {"audit_prob": 0.3}, {"children.backlog_hazard": 0.0}],
)
def test_planner_rescues_at_least_as_many_as_any_metric(params, changes):
    # the planner's score is the total of victims rescued (its weight on opened
    # cases equals the handling cost), so no metric can rescue more in expectation
    t = metric_table(params.updated(changes))
    total = t[t["case_type"] == ALL_TYPES].set_index("metric")
    assert (total["rescues_lost"] >= -1e-6 * total["victims_total"].max()).all()
    assert total.loc[PLANNER.name, "rescues_lost"] == 0


def test_metric_table_sums_over_bureaus(params):
    reports, capacity = np.array([20.0, 80.0]), np.array([3.0, 30.0])
    both = metric_table(params, ["solved_count"], reports, capacity)
    parts = [
        metric_table(params, ["solved_count"], [r], [c])
        for r, c in zip(reports, capacity, strict=True)
    ]
    for col in ("opened", "solved", "victims_total", "rescues_lost"):
        assert_allclose(both[col], parts[0][col] + parts[1][col])


def test_metric_table_accepts_custom_metrics(params):
    custom = Metric("custom_solved", solved=1.0)
    t = metric_table(params, [custom, "opened_count"])
    assert list(t["metric"].cat.categories) == ["custom_solved", "opened_count", "planner"]
    row = t[(t["metric"] == "opened_count") & (t["case_type"] == ALL_TYPES)].iloc[0]
    assert row["intake_rate"] > 0.999  # rated by cases opened, the bureau opens everything


def test_metric_table_rejects_bad_input(params):
    with pytest.raises(ParameterError, match="metrics"):
        metric_table(params, ["solved_count", PRESETS["solved_count"]])
    with pytest.raises(ParameterError, match="reports"):
        metric_table(params, reports=[10.0, -1.0])
    with pytest.raises(ParameterError, match="capacity"):
        metric_table(params, reports=[10.0, 20.0], capacity=[1.0, 2.0, 3.0])
    with pytest.raises(ParameterError, match="metric"):
        metric_table(params, ["no_such_metric"])


# --------------------------------------------------------------------------- frontier


def test_frontier_moves_monotonically(params):
    f = frontier(params)
    for _, g in f.groupby("case_type", observed=True):
        g = g.sort_values("threshold")
        assert (np.diff(g["intake_rate"]) <= 1e-12).all()
        rate = g["clearance_rate"].dropna().to_numpy()
        assert (np.diff(rate) >= -1e-9).all()  # fewer, surer cases and less dilution
        assert g["intake_rate"].iloc[0] > 0.999 and g["intake_rate"].iloc[-1] < 1e-3


def test_frontier_matches_closed_form_without_noise(params):
    p = params.updated(screening_noise=0.0)
    tau = np.linspace(0.05, 0.95, 19)
    f = frontier(p, tau)
    for ct in p.case_types:
        rows = f[f["case_type"] == ct.name]
        assert_allclose(rows["intake_rate"], special.betaincc(ct.beta_a, ct.beta_b, tau))


def test_frontier_agrees_with_expected_outcomes_at_a_metric_threshold(params):
    r = best_response(params, "clearance_rate")
    for k, name in enumerate(params.type_names):
        f = frontier(params, [r.threshold[0, k]])
        row = f[f["case_type"] == name].iloc[0]
        exact = expected_outcomes(params, "clearance_rate", r.threshold)
        assert row["opened"] == pytest.approx(exact["opened"][0, k])
        assert row["solved"] == pytest.approx(exact["solved"][0, k])


def test_frontier_rejects_bad_input(params):
    with pytest.raises(ParameterError, match="thresholds"):
        frontier(params, [0.1, np.nan])
    with pytest.raises(ParameterError, match="reports"):
        frontier(params, reports=0.0)
    with pytest.raises(ParameterError, match="capacity"):
        frontier(params, capacity=5.0)


# --------------------------------------------------------------------------- threshold_curve


def test_audits_act_through_the_expected_penalty_only(params):
    # the score has q P (N - O): the threshold depends on q and P through q P alone
    a = threshold_curve(params, "solved_count", "audit_prob", [0.1, 0.2, 0.4])
    b = threshold_curve(
        params.updated(audit_prob=0.2), "solved_count", "audit_penalty", [0.25, 0.5, 1.0]
    )
    assert_allclose(a["threshold"], b["threshold"], atol=1e-9)
    assert_allclose(a["intake_rate"], b["intake_rate"], atol=1e-9)


@pytest.mark.parametrize(
    ("name", "values"),
    [("audit_prob", [0.0, 0.02, 0.05, 0.1, 0.2]), ("capacity_ratio", [0.05, 0.1, 0.2, 0.4, 0.8])],
)
def test_solved_count_intake_rises_with_audits_and_capacity(params, name, values):
    c = threshold_curve(params, "solved_count", name, values)
    assert list(c["parameter"].unique()) == [name]
    for _, g in c.groupby("case_type", observed=True):
        intake = g.sort_values("value")["intake_rate"].to_numpy()
        assert (np.diff(intake) >= -1e-9).all()
        assert intake[-1] > intake[0] + 0.05


def test_threshold_curve_rejects_bad_input(params):
    with pytest.raises(ParameterError, match="no_such"):
        threshold_curve(params, "solved_count", "no_such", [1.0])
    with pytest.raises(ParameterError, match="audit_prob"):
        threshold_curve(params, "solved_count", "audit_prob", [1.5])
    with pytest.raises(ParameterError, match="values"):
        threshold_curve(params, "solved_count", "audit_prob", [])


# --------------------------------------------------------------------------- report_sample


def test_report_sample_is_reproducible(params):
    a = report_sample(params, "solved_count", 500, seed=3)
    b = report_sample(params, "solved_count", 500, seed=3)
    c = report_sample(params, "solved_count", 500, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert not np.array_equal(a["s"].to_numpy()[:100], c["s"].to_numpy()[:100])


def test_report_sample_shape_and_periods(params):
    sample = report_sample(params, "solved_count", 2000, seed=1)
    for ct in params.case_types:
        rows = sample[sample["case_type"] == ct.name]
        per_period = rows.groupby("period").size()
        assert len(rows) >= 2000
        assert len(rows) - per_period.iloc[-1] < 2000  # stops after the period that reaches it
        assert per_period.index.min() == 1
        assert per_period.mean() == pytest.approx(params.reports_mean * ct.share, rel=0.15)
    assert not (sample["solved"] & ~sample["opened"]).any()
    assert not (sample["solved"] & ~sample["solvable"]).any()


def test_report_sample_hard_threshold_is_exact(params):
    p = params.updated(screening_noise=0.0)
    sample = report_sample(p, "clearance_rate", 3000, seed=2)
    assert (sample["signal"] == sample["s"]).all()
    assert (sample["opened"] == (sample["s"] >= sample["threshold"])).all()


@pytest.mark.parametrize(
    "changes",
    [{}, {"screening_noise": 0.2}, {"children.dna_effect": 0.3, "screening_noise": 0.0}],
)
def test_report_sample_matches_intake_moments(params, changes):
    p = params.updated(changes)
    sample = report_sample(p, "solved_count", 100_000, seed=11)
    for ct in p.case_types:
        rows = sample[sample["case_type"] == ct.name]
        tau = rows["threshold"].iloc[0]
        p_open, mass = intake_moments(tau, ct, p.screening_noise)
        is_open = rows["opened"].to_numpy(dtype=float)
        s = rows["s"].to_numpy()
        for exact, draws in ((p_open, is_open), (mass, s * is_open), (ct.mean_solvability, s)):
            se = draws.std(ddof=1) / np.sqrt(draws.size)
            assert abs(draws.mean() - exact) < 4.5 * se


def test_report_sample_declined_solvable_matches_expectation(params):
    sample = report_sample(params, "clearance_rate", 100_000, seed=5)
    r = best_response(params, "clearance_rate")
    for k, ct in enumerate(params.case_types):
        rows = sample[(sample["case_type"] == ct.name) & ~sample["opened"]]
        expected = r.outcomes["declined_solvable"][0, k] / r.outcomes["declined"][0, k]
        se = np.sqrt(expected * (1 - expected) / len(rows))
        assert abs(rows["solvable"].mean() - expected) < 4.5 * se


def test_report_sample_agrees_with_the_micro_engine(params):
    # one mean bureau, many periods: same intake and same solve share among opened
    p = params.updated(n_bureaus=1, reports_sigma=0.0, capacity_sigma=0.0)
    periods = 400
    micro = simulate(p, "solved_count", periods=periods, seed=8, engine="micro")
    sample = report_sample(p, "solved_count", int(micro["reports"].sum() / 2), seed=9)
    by_type = micro.groupby("case_type", observed=True)[["reports", "opened", "solved"]].sum()
    for name, row in by_type.iterrows():
        rows = sample[sample["case_type"] == name]
        z_open = _z(row["opened"], row["reports"], rows["opened"].sum(), len(rows))
        z_solved = _z(row["solved"], row["opened"], rows["solved"].sum(), rows["opened"].sum())
        assert abs(z_open) < 4 and abs(z_solved) < 4


def test_report_sample_rejects_bad_input(params):
    with pytest.raises(ParameterError, match="n_reports"):
        report_sample(params, "solved_count", 0, seed=1)
    with pytest.raises(ParameterError, match="seed"):
        report_sample(params, "solved_count", 10, seed=-1)
    with pytest.raises(ParameterError, match="seed"):
        report_sample(params, "solved_count", 10, seed=1.5)
    with pytest.raises(ParameterError, match="capacity"):
        report_sample(params, "solved_count", 10, seed=1, capacity=3.0)


# --------------------------------------------------------------------------- declined_summary


def test_declined_summary(params):
    sample = report_sample(params.updated(screening_noise=0.0), "solved_count", 5000, seed=6)
    summary = declined_summary(sample)
    assert len(summary) == 2 * len(params.case_types)
    assert_allclose(summary.groupby("case_type", observed=True)["share"].sum(), 1.0)
    wide = summary.pivot(index="case_type", columns="status", values="mean_solvability")
    assert (wide["declined"] < wide["opened"]).all()  # a hard threshold splits by solvability
    with pytest.raises(ParameterError, match="sample"):
        declined_summary(sample.drop(columns="solvable"))
