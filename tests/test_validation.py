"""Tests of the fit's out-of-sample validation and identification (tipresearch.fit)."""

from __future__ import annotations

import csv
import math

import numpy as np
import pandas as pd
import pytest

from tipresearch.data import DATA_DIR, load_published, load_reform_timeline, published_value
from tipresearch.errors import ParameterError
from tipresearch.experiments import run_points
from tipresearch.fit import (
    FLAT_PROFILE,
    HOLDOUTS,
    NOT_PRODUCED,
    PREDICTION_SEEDS,
    FitParameter,
    FitResult,
    HoldOut,
    Target,
    china_figures,
    china_targets,
    fit_holdouts,
    identification_table,
    model_moments,
    on_bounds,
    out_of_sample_table,
    sandwich_errors,
    traces_as_profile,
)
from tipresearch.reforms import ChinaModel, annual_counts, window_counts


@pytest.fixture(scope="module")
def figures() -> tuple[Target, ...]:
    return china_figures()


# --------------------------------------------------------------------------- figures


def test_every_target_is_a_figure_and_the_others_come_from_the_tables(figures):
    pub = load_published()
    ids = [f.id for f in figures]
    assert len(ids) == len(set(ids))
    targets = china_targets(pub)
    assert [f.id for f in figures[: len(targets)]] == [t.id for t in targets]
    by_id = {f.id: f for f in figures}
    assert by_id["growth_2009"].value == pytest.approx(
        published_value(pub, "cn_reg_traf_2009") / published_value(pub, "cn_reg_traf_2008")
    )
    assert by_id["registered_children_2012"].value == published_value(pub, "cn_child_traf_reg_2012")
    assert by_id["registered_children_2020"].value == published_value(pub, "cn_child_traf_reg_2020")
    assert by_id["rescued_women_2011"].value == published_value(pub, "cn_rescued_women_2011")
    assert by_id["rescued_children_2011"].value == published_value(pub, "cn_rescued_children_2011")
    low = by_id["registered_2007"]
    assert (low.value, low.value_high) == (2500.0, 3000.0)
    window = by_id["solved_2009_to_may25"]
    assert (window.first_day, window.last_day) == ("2009-04-09", "2009-05-25")


def test_every_china_row_of_the_sources_is_produced_or_said_not_to_be(figures):
    """No published figure on China is dropped silently."""
    with open(DATA_DIR / "sources" / "published_figures.csv", encoding="utf-8") as fh:
        china = {row["id"] for row in csv.DictReader(fh) if row["jurisdiction"] == "China"}
    used = {s for f in figures for s in f.sources}
    dated = set()
    timeline = load_reform_timeline()
    for text in timeline["source"].astype(str) + " " + timeline["locator"].astype(str):
        dated |= {rid for rid in china if rid in text}
    left = china - used - set(NOT_PRODUCED) - dated
    assert not left, f"China rows neither produced nor explained: {sorted(left)}"
    assert not set(NOT_PRODUCED) & used
    assert set(NOT_PRODUCED) <= china


def test_new_kinds_are_computed_from_the_annual_counts():
    model = ChinaModel().updated({"settings.n_bureaus": 20})
    frame = model.simulate(seed=4)
    annual = annual_counts(frame).set_index(["year", "case_type"])
    targets = (
        Target("g", "growth", "all", 1.0, "primary", year=2009),
        Target("r", "rescued", "children", 1.0, "primary", year=2011),
        Target("c", "registered", "children", 1.0, "primary", year=2012),
        Target(
            "w",
            "window_solved",
            "all",
            1.0,
            "primary",
            first_day="2009-04-09",
            last_day="2009-05-25",
        ),
    )
    m = model_moments(model, targets, (4,))
    reg = annual["registered"]
    assert m[0] == pytest.approx(reg[(2009, "all")] / reg[(2008, "all")])
    assert m[1] == pytest.approx(annual.loc[(2011, "children"), "rescued"])
    assert m[2] == pytest.approx(reg[(2012, "children")])
    solved = window_counts(frame, "2009-04-09", "2009-05-25").set_index("case_type")["solved"]
    assert m[3] == pytest.approx(solved["all"])
    with pytest.raises(ParameterError, match="growth_2007.year"):
        model_moments(model, (Target("growth_2007", "growth", "all", 1.0, "primary", year=2007),))


def test_a_range_needs_its_upper_end_above_its_lower():
    with pytest.raises(ParameterError, match="value_high"):
        Target("x", "registered", "all", 3000.0, "primary", year=2007, value_high=2500.0)


# --------------------------------------------------------------------------- designs


def test_hold_out_designs_fit_subsets_of_the_targets(figures):
    targets = {t.id for t in china_targets()}
    assert set(HOLDOUTS["full"].fitted) == targets
    for name, design in HOLDOUTS.items():
        fitted = {f.id for f in design.targets(figures)}
        assert fitted == set(design.fitted) and fitted <= targets
        if name != "full":
            assert targets - fitted, f"{name} holds nothing out"
        kept = {p.key for p in design.parameters()}
        assert not kept & set(design.fixed)
    assert "registered_2020" not in HOLDOUTS["through_2009"].fitted
    assert HOLDOUTS["through_2009"].fixed["dynamics.deterrence"] == 0.0


def test_bad_designs_are_named(figures):
    with pytest.raises(ParameterError, match="odd.fixed"):
        HoldOut("odd", "", ("registered_2008",), {"metric.solved": 1.0}).parameters()
    with pytest.raises(ParameterError, match="odd.fitted"):
        HoldOut("odd", "", ("registered_1999",)).targets(figures)
    with pytest.raises(ParameterError, match="design"):
        fit_holdouts({}, ["nope"])


def test_prediction_seeds_are_not_fit_seeds():
    assert not set(PREDICTION_SEEDS) & {0, 1}
    assert len(set(PREDICTION_SEEDS)) == len(PREDICTION_SEEDS)


# --------------------------------------------------------------------------- the table


def _predictions(values: dict[str, list[float]], design: str = "full") -> pd.DataFrame:
    rows = [
        {"design": design, "seed": s, "figure": fid, "model": v}
        for fid, vs in values.items()
        for s, v in enumerate(vs)
    ]
    return pd.DataFrame(rows)


def test_out_of_sample_table_marks_roles_bands_and_ranges(figures):
    preds = _predictions(
        {
            "registered_2008": [2500.0, 2600.0, 2700.0],  # fitted, band holds 2,566
            "registered_children_2020": [1500.0, 1600.0, 1700.0],  # held out, 666 below
            "registered_2007": [2600.0, 2700.0, 2800.0],  # inside the 2,500-3,000 range
            "growth_2009": [2.0, 2.1, 2.2],
        }
    )
    table = out_of_sample_table(preds, figures).set_index("figure")
    assert table.loc["registered_2008", "role"] == "fitted"
    assert table.loc["registered_children_2020", "role"] == "held out"
    assert bool(table.loc["registered_2008", "in_band"])
    assert not bool(table.loc["registered_children_2020", "in_band"])
    assert table.loc["registered_children_2020", "relative_error"] == pytest.approx(1600 / 666 - 1)
    assert table.loc["registered_2007", "relative_error"] == 0.0
    assert bool(table.loc["registered_2007", "in_band"])
    assert table.loc["growth_2009", "relative_error"] == pytest.approx(2.1 / (6513 / 2566) - 1)
    # the ratio of two fitted counts is not a figure held out; a figure an assumption
    # target only rests on (the 2,500-3,000 range behind clearance near 1 in 2008) is
    assert table.loc["growth_2009", "role"] == "implied"
    assert table.loc["registered_2007", "role"] == "held out"
    assert (table["seeds"] == 3).all()
    # it is held out where one of its counts is
    designs = {"no_2009": HoldOut("no_2009", "", ("registered_2008", "registered_2011"))}
    other = out_of_sample_table(
        _predictions({"growth_2009": [2.0, 2.1], "registered_2009": [6000.0, 6100.0]}, "no_2009"),
        figures,
        designs,
    ).set_index("figure")
    assert other.loc["growth_2009", "role"] == "held out"
    assert other.loc["registered_2009", "role"] == "held out"
    assert (table["low_5"] <= table["model"]).all()


def test_a_model_below_a_range_misses_it_by_its_distance_to_the_lower_end(figures):
    table = out_of_sample_table(_predictions({"registered_2007": [2000.0, 2000.0]}), figures)
    assert table.iloc[0]["relative_error"] == pytest.approx(2000 / 2500 - 1)
    assert not table.iloc[0]["in_band"]


def test_bad_predictions_are_named(figures):
    with pytest.raises(ParameterError, match="predictions"):
        out_of_sample_table(pd.DataFrame({"design": ["full"]}), figures)
    with pytest.raises(ParameterError, match="predictions"):
        out_of_sample_table(_predictions({"registered_1999": [1.0]}), figures)


# --------------------------------------------------------------------------- identification


def _result(jac: np.ndarray, log_ratios: np.ndarray, estimates=(0.5, 0.25)) -> FitResult:
    params = (FitParameter("metric.rate", 0.0, 2.0), FitParameter("dynamics.deterrence", 0.0, 1.0))
    targets = tuple(
        Target(f"t{i}", "registered", "all", 100.0, "primary", year=2008)
        for i in range(len(log_ratios))
    )
    return FitResult(
        parameters=params,
        estimates=dict(zip([p.key for p in params], estimates, strict=True)),
        changes={},
        targets=targets,
        moments=100.0 * np.exp(log_ratios),
        seeds=(0,),
        objective=float(log_ratios @ log_ratios),
        jacobian=jac,
    )


def test_sandwich_errors_follow_the_formula():
    rng = np.random.default_rng(2)
    jac = rng.normal(size=(6, 2))
    r = rng.normal(scale=0.1, size=6)
    table = sandwich_errors(_result(jac, r)).set_index("parameter")
    bread = np.linalg.inv(jac.T @ jac)
    meat = sum(r[i] ** 2 * np.outer(jac[i], jac[i]) for i in range(6))
    cov = bread @ meat @ bread
    assert table.loc["metric.rate", "robust_std_error"] == pytest.approx(math.sqrt(cov[0, 0]) * 2)
    assert table.loc["dynamics.deterrence", "robust_std_error"] == pytest.approx(
        math.sqrt(cov[1, 1])
    )
    # a perfect fit has no misfit to carry: errors vanish
    exact = sandwich_errors(_result(jac, np.zeros(6)))
    assert np.allclose(exact["robust_std_error"].fillna(0.0), 0.0)
    with pytest.raises(ParameterError, match="jacobian"):
        sandwich_errors(_result(None, r))  # type: ignore[arg-type]


def test_an_estimate_on_a_bound_is_reported():
    table = on_bounds(_result(np.eye(2), np.zeros(2), estimates=(0.0, 0.999))).set_index(
        "parameter"
    )
    assert table.loc["metric.rate", "on_bound"] == "lower"
    assert table.loc["dynamics.deterrence", "on_bound"] == "upper"
    inside = on_bounds(_result(np.eye(2), np.zeros(2)))
    assert (inside["on_bound"] == "").all()


def test_a_flat_profile_is_not_identified():
    result = _result(np.eye(2), np.array([0.1, 0.1]))  # objective 0.02
    rising = [0.02, 0.05, 0.3]
    flat = [0.0201, 0.0200, 0.0202]
    profile = pd.DataFrame(
        {
            "parameter": ["metric.rate"] * 3 + ["dynamics.deterrence"] * 3,
            "unit": [0.0, 0.5, 1.0] * 2,
            "value": [0.0, 1.0, 2.0, 0.0, 0.5, 1.0],
            "objective": rising + flat,
        }
    )
    table = identification_table(result, profile).set_index("parameter")
    assert bool(table.loc["metric.rate", "identified"])
    assert not bool(table.loc["dynamics.deterrence", "identified"])
    assert table.loc["metric.rate", "profile_minimum_at"] == 0.0
    assert table.loc["dynamics.deterrence", "profile_rise"] == pytest.approx(0.0002)
    assert (
        table.loc["dynamics.deterrence", "near_best_low"],
        table.loc["dynamics.deterrence", "near_best_high"],
    ) == (0.0, 1.0)
    assert FLAT_PROFILE * result.objective < 0.005  # the absolute floor applies here
    assert not table["below_estimate"].any()
    # a profile point well below the fit's own objective says the fit stopped short
    lower = profile.assign(objective=[0.02, 0.001, 0.3] + flat)
    assert bool(
        identification_table(result, lower)
        .set_index("parameter")
        .loc["metric.rate", "below_estimate"]
    )
    # rising towards one end only: pinned down near the other
    half = profile.assign(objective=rising + [0.5, 0.3, 0.0201])
    assert bool(
        identification_table(result, half)
        .set_index("parameter")
        .loc["dynamics.deterrence", "identified"]
    )
    with pytest.raises(ParameterError, match="profile"):
        identification_table(result, profile[profile["parameter"] == "metric.rate"])


def test_a_trace_that_follows_a_trade_off_widens_what_fits_about_as_well():
    """A coarse profile can step over a ridge; the trace's points join its curve."""
    result = _result(np.eye(2), np.array([0.1, 0.1]))  # objective 0.02
    profile = pd.DataFrame(
        {
            "parameter": ["metric.rate"] * 3 + ["dynamics.deterrence"] * 3,
            "unit": [0.0, 0.5, 1.0] * 2,
            "value": [0.0, 1.0, 2.0, 0.0, 0.5, 1.0],
            "objective": [0.3, 0.02, 0.4, 0.5, 0.02, 0.5],
        }
    )
    alone = identification_table(result, profile).set_index("parameter")
    assert (
        alone.loc["metric.rate", "near_best_low"],
        alone.loc["metric.rate", "near_best_high"],
    ) == (1.0, 1.0)
    assert not alone["traced"].any() and (alone["points"] == 3).all()
    trace = pd.DataFrame(
        {
            "parameter": "metric.rate",
            "value": [0.2, 0.6, 1.0, 1.5, 1.9],
            "objective": [0.08, 0.021, 0.02, 0.023, 0.024],
            "direction": ["below", "below", "estimate", "above", "above"],
        }
    )
    rows = traces_as_profile(result, [trace])
    assert rows["value"].tolist() == [0.2, 0.6, 1.5, 1.9]  # the estimate row is the profile's
    assert rows["unit"].tolist() == pytest.approx([0.1, 0.3, 0.75, 0.95])
    both = identification_table(result, profile, [trace]).set_index("parameter")
    assert (
        both.loc["metric.rate", "near_best_low"],
        both.loc["metric.rate", "near_best_high"],
    ) == (0.6, 1.9)
    assert not bool(both.loc["metric.rate", "identified"])  # 0.3 to 0.95 of the range
    assert bool(both.loc["metric.rate", "traced"]) and both.loc["metric.rate", "points"] == 7
    assert bool(both.loc["dynamics.deterrence", "identified"])
    with pytest.raises(ParameterError, match="traces"):
        traces_as_profile(result, [trace.assign(parameter="dynamics.floor")])
    with pytest.raises(ParameterError, match="traces"):
        traces_as_profile(result, [trace.drop(columns="direction")])


# --------------------------------------------------------------------------- executors


def _square(values, seed, settings):
    if values["x"] < 0:
        raise ValueError("negative")
    return {"y": values["x"] ** 2 + settings, "seed_used": float(seed % 7)}


def test_run_points_evaluates_each_point_the_same_on_one_worker_or_two():
    points = [{"x": float(x)} for x in (3, -1, 2, 0)]
    one = run_points(_square, points, 10.0, root_seed=5, executor="inprocess")
    two = run_points(_square, points, 10.0, root_seed=5, executor="processes", workers=2)
    assert list(one["point"]) == [0, 1, 2, 3]
    assert one.loc[one["x"] == 3, "y"].item() == 19.0
    assert "ValueError: negative" in one.loc[1, "error"]
    cols = ["point", "x", "y", "seed", "seed_used", "error"]
    pd.testing.assert_frame_equal(one[cols], two[cols])


# --------------------------------------------------------------------------- figures


def test_out_of_sample_figure_has_a_row_per_figure_and_a_legend_per_design(figures):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tipresearch.figures.validation import plot_out_of_sample

    preds = pd.concat(
        [
            _predictions({"registered_2008": [2500.0, 2600.0], "growth_2009": [2.0, 2.2]}, d)
            for d in ("full", "through_2009")
        ]
    )
    table = out_of_sample_table(preds, figures)
    fig = plot_out_of_sample(table)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["trafficking cases registered in 2008", "registered cases in 2009 over 2008"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"full", "through 2009", "held out"} <= set(legend)
    assert ax.get_xscale() == "log" and ax.get_xlabel()
    plt.close(fig)
    with pytest.raises(ParameterError, match="table"):
        plot_out_of_sample(table.drop(columns="role"))


def test_profile_figure_marks_flat_profiles():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tipresearch.figures.validation import plot_profiles

    profile = pd.DataFrame(
        {
            "parameter": ["metric.rate"] * 3 + ["reforms.campaign_persist"] * 3,
            "value": [1.0, 5.0, 20.0, 0.0, 0.5, 1.0],
            "objective": [0.5, 0.04, 0.9, 0.041, 0.04, 0.0405],
            "at_estimate": [False, True, False, False, True, False],
        }
    )
    ident = pd.DataFrame(
        {"parameter": ["metric.rate", "reforms.campaign_persist"], "identified": [True, False]}
    )
    fig = plot_profiles(profile, ident)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 2
    notes = [ax.get_xlabel() for ax in visible]
    assert ["flat: not pinned down" in n for n in notes] == [False, True]
    assert "clearance rate" in visible[0].get_title()
    plt.close(fig)
    # a ridge trace is drawn on the panel of the parameter it holds, and only there
    trace = pd.DataFrame(
        {"parameter": "metric.rate", "value": [1.0, 1.5, 2.0], "objective": [0.05, 0.04, 0.3]}
    )
    fig = plot_profiles(profile, ident, [trace])
    rate, persist = [ax for ax in fig.axes if ax.get_visible()]
    dashed = [line for line in rate.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 1 and list(dashed[0].get_xdata()) == [1.0, 1.5, 2.0]
    assert not [line for line in persist.get_lines() if line.get_linestyle() == "--"]
    plt.close(fig)
