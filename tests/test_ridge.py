"""The ridge trace of the China fit and the conclusions read along it (tipresearch.fit.ridge)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tipresearch.errors import ParameterError
from tipresearch.fit import (
    FLAT_PROFILE,
    RIDGE_OUTCOMES,
    FitParameter,
    china_figures,
    china_targets,
    fit,
    identification_table,
    load_traces,
    near_best,
    profiles,
    ridge_outcomes,
    trace_ridge,
)
from tipresearch.fit.identification import AT
from tipresearch.reforms import ChinaModel, annual_counts, implied_world

BASE = ChinaModel().updated({"settings.n_bureaus": 20, "settings.reports_per_bureau": 1.5})
SOLV = "settings.women_solvability+settings.children_solvability"
PARAMETERS = (
    FitParameter(SOLV, 0.3, 0.95),
    FitParameter("metric.rate", 0.3, 20.0, log=True),
)


@pytest.fixture(scope="module")
def small_fit():
    return fit(BASE, china_targets(), PARAMETERS, seeds=(0,), max_evaluations=12)


def _refit_from(small_fit, near, held_value, max_evaluations):
    """The clearance rate's weight refitted with the solvability held, from ``near``'s values."""
    held = dict.fromkeys(SOLV.split("+"), held_value)
    return fit(
        ChinaModel().updated({**small_fit.fixed_changes(), **held}),
        small_fit.targets,
        PARAMETERS[1:],
        start={"metric.rate": near[f"{AT}metric.rate"]},
        seeds=small_fit.seeds,
        max_evaluations=max_evaluations,
        diff_step=small_fit.notes.get("diff_step", 0.03),
        jacobian=False,
    )


@pytest.fixture(scope="module")
def small_trace(small_fit):
    est = small_fit.estimates[SOLV]
    values = [est - 0.12, est - 0.06, est + 0.06]
    return trace_ridge(small_fit, SOLV, values, max_evaluations=8, executor="inprocess")


def test_trace_walks_away_from_the_estimate_in_both_directions(small_fit, small_trace):
    est = small_fit.estimates[SOLV]
    t = small_trace
    assert list(t["value"]) == sorted(t["value"])
    assert list(t["direction"]) == ["below", "below", "estimate", "above"]
    # the held parameter is at its value at every point; the other one was refitted
    assert np.allclose(t[f"{AT}{SOLV}"], t["value"])
    assert t.loc[t.direction == "estimate", "objective"].item() == small_fit.objective
    moved = t.loc[t.direction != "estimate", f"{AT}metric.rate"]
    assert (moved != small_fit.estimates["metric.rate"]).any()
    assert (t["evaluations"][t.direction != "estimate"] > 0).all()
    # continuation: the farther step below is the refit started from the nearer one's
    near = t[t.direction == "below"].iloc[-1]
    far = t[t.direction == "below"].iloc[0]
    assert (far["value"], near["value"]) == pytest.approx((est - 0.12, est - 0.06))
    again = _refit_from(small_fit, near, far["value"], max_evaluations=8)
    assert again.estimates["metric.rate"] == pytest.approx(far[f"{AT}metric.rate"], rel=1e-12)
    assert again.objective == pytest.approx(far["objective"], rel=1e-12)


def test_trace_is_the_same_on_one_worker_or_two(small_fit, small_trace):
    est = small_fit.estimates[SOLV]
    values = [est - 0.12, est - 0.06, est + 0.06]
    again = trace_ridge(small_fit, SOLV, values, max_evaluations=8, executor="processes", workers=2)
    pd.testing.assert_frame_equal(again, small_trace)


def test_near_best_uses_the_profile_rule():
    trace = pd.DataFrame({"objective": [0.02, 0.024, 0.0251, 0.05]})
    # within max(0.1 * 0.02, 0.005) = 0.005 of the lowest
    assert near_best(trace).tolist() == [True, True, False, False]
    high = pd.DataFrame({"objective": [0.1, 0.109, 0.111]})
    assert near_best(high).tolist() == [True, True, False]
    assert FLAT_PROFILE == 0.1
    with pytest.raises(ParameterError, match="trace"):
        near_best(pd.DataFrame({"value": [1.0]}))


def test_outcomes_are_the_simulated_figures_and_conclusions(small_fit, small_trace):
    seed = 1000
    table = ridge_outcomes(small_fit, small_trace, seeds=[seed], executor="inprocess")
    assert len(table) == len(small_trace)
    assert set(RIDGE_OUTCOMES) <= set(table.columns)
    assert table["near_best"].tolist() == near_best(small_trace).tolist()
    # recompute one point by hand: the estimate's row
    row = table[table.direction == "estimate"].iloc[0]
    model = small_fit.model()
    frame = model.simulate(seed=seed)
    world = implied_world(frame).set_index(["year", "case_type"])
    assert row["recorded_share_2008"] == pytest.approx(world.loc[(2008, "all"), "recorded_share"])
    reports = world["reports"]
    assert row["incidence_change_2008_2020"] == pytest.approx(
        reports.loc[(2020, "all")] / reports.loc[(2008, "all")] - 1
    )
    counts = annual_counts(frame).set_index(["year", "case_type"])["registered"]
    assert row["registered_2011"] == pytest.approx(counts.loc[(2011, "all")])
    solved_only = annual_counts(model.updated({"metric.rate": 0.0}).simulate(seed=seed))
    solved_only = solved_only.set_index(["year", "case_type"])["registered"]
    assert row["growth_2009_solved_only"] == pytest.approx(
        solved_only.loc[(2009, "all")] / solved_only.loc[(2008, "all")]
    )
    # each error is against the published figure; the held-out median uses only the
    # figures the fit was not fitted to (and not the ratio implied by two of them)
    figures = {f.id: f for f in china_figures()}
    assert row["error.registered_2011"] == pytest.approx(
        row["registered_2011"] / figures["registered_2011"].value - 1
    )
    fitted = {t.id for t in small_fit.targets}
    held = [i for i, f in figures.items() if i not in fitted and f.kind != "growth"]
    assert len(held) == 6
    assert row["held_out_median_abs_error"] == pytest.approx(
        np.median(np.abs([row[f"error.{i}"] for i in held]))
    )


def test_bad_input_is_named(small_fit, small_trace):
    with pytest.raises(ParameterError, match="key"):
        trace_ridge(small_fit, "dynamics.deterrence", [1.0])
    with pytest.raises(ParameterError, match="values"):
        trace_ridge(small_fit, SOLV, [0.99])
    with pytest.raises(ParameterError, match="values"):
        trace_ridge(small_fit, SOLV, [])
    with pytest.raises(ParameterError, match="max_evaluations"):
        trace_ridge(small_fit, SOLV, [0.5], max_evaluations=0)
    with pytest.raises(ParameterError, match="seeds"):
        ridge_outcomes(small_fit, small_trace, seeds=list(small_fit.seeds))
    with pytest.raises(ParameterError, match="trace"):
        ridge_outcomes(small_fit, small_trace.drop(columns=f"{AT}metric.rate"), seeds=[1000])


def test_profiles_go_outward_from_the_estimate_by_continuation(small_fit):
    profile = profiles(small_fit, 3, max_evaluations=6, executor="inprocess")
    assert len(profile) == 2 * 3 + 2
    for p in PARAMETERS:
        curve = profile[profile["parameter"] == p.key]
        assert list(curve["unit"]) == sorted(curve["unit"])
        ends = curve[~curve["at_estimate"]]
        assert ends["unit"].round(12).tolist() == [0.0, 0.5, 1.0]
        assert np.allclose(ends[f"{AT}{p.key}"], ends["value"])
    # the solvability's points on the same side of the estimate form one chain: the
    # farther one is the refit started from the nearer one's values
    est = small_fit.estimates[SOLV]
    curve = profile[(profile["parameter"] == SOLV) & ~profile["at_estimate"]]
    side = curve[curve["value"] > est] if (curve["value"] > est).sum() == 2 else None
    if side is None:
        side = curve[curve["value"] < est].iloc[::-1]
    near, far = side.iloc[0], side.iloc[1]
    again = _refit_from(small_fit, near, far["value"], max_evaluations=6)
    assert again.objective == pytest.approx(far["objective"], rel=1e-12)
    table = identification_table(small_fit, profile)
    assert list(table["parameter"]) == [p.key for p in PARAMETERS]


def test_ridge_figure_draws_six_panels_and_refuses_a_bad_table():
    import matplotlib.pyplot as plt

    from tipresearch.figures import plot_ridge

    value = np.array([0.4, 0.5, 0.6, 0.7])
    table = pd.DataFrame(
        {
            "parameter": SOLV,
            "value": value,
            "direction": ["below", "estimate", "above", "above"],
            "objective": [0.05, 0.02, 0.022, 0.04],
            "near_best": [False, True, True, False],
            "at.metric.rate": [2.0, 2.4, 2.9, 3.3],
            "at.dynamics.deterrence": [2.2, 2.25, 2.3, 2.3],
            "growth_2009": [2.4, 2.6, 2.5, 2.5],
            "growth_2009_solved_only": [1.2, 1.15, 1.1, 1.05],
            "recorded_share_2008": [0.04, 0.041, 0.05, 0.06],
            "held_out_median_abs_error": [0.25, 0.22, 0.2, 0.21],
        }
    )
    fig = plot_ridge(table, published_growth=2.54)
    axes = fig.axes
    assert len(axes) == 6
    assert axes[1].get_title() == "Weight of the clearance rate, refitted"
    # the grey span runs over the values that fit about as well as the best
    span = axes[0].patches[0]
    assert (span.get_x(), span.get_x() + span.get_width()) == pytest.approx((0.5, 0.6))
    plt.close(fig)
    rate = table.assign(parameter="metric.rate")
    rate["at." + SOLV] = [0.45, 0.5, 0.6, 0.7]
    fig = plot_ridge(rate)
    assert fig.axes[1].get_title() == "Mean solvability of reports, refitted"
    assert fig.axes[0].get_xscale() == "log"
    plt.close(fig)
    with pytest.raises(ParameterError, match="table"):
        plot_ridge(table.drop(columns="near_best"))


def test_traces_beside_a_fit_are_loaded_if_they_hold_a_fitted_parameter(
    small_fit, small_trace, tmp_path
):
    assert set(small_fit.fixed_changes()) == set(small_fit.changes) - {
        "settings.women_solvability",
        "settings.children_solvability",
        "metric.rate",
    }
    small_trace.to_csv(tmp_path / "ridge_trace.csv", index=False)
    small_trace.assign(parameter="dynamics.deterrence").to_csv(
        tmp_path / "other_trace.csv", index=False
    )
    (tmp_path / "ridge.csv").write_text("parameter\nx\n", encoding="utf-8")
    loaded = load_traces(tmp_path, small_fit)
    assert len(loaded) == 1
    assert loaded[0]["value"].tolist() == pytest.approx(small_trace["value"].tolist())
