"""The estimation room: panels, the estimators, their truth, and the Monte Carlo."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tipresearch.errors import ParameterError
from tipresearch.estimation import (
    ESTIMATE_COLUMNS,
    ESTIMATORS,
    MC_COLUMNS,
    PANEL_COLUMNS,
    PanelDesign,
    check_panel,
    cross_sectional_ols,
    dark_figure,
    estimate_all,
    event_study,
    fe_poisson,
    monte_carlo,
    naive_before_after,
    not_yet_treated,
    segmented_regression,
    simulate_panel,
    summarise_monte_carlo,
    true_effects,
    twfe_poisson,
)

SMALL = PanelDesign(n_bureaus=40, months=24, first_adoption=6, last_adoption=15, waves=3)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return simulate_panel(SMALL, 3)


# --- panels ----------------------------------------------------------------------------------


def test_a_panel_is_tidy_seeded_and_its_reform_staggered(panel):
    assert list(panel.columns) == list(PANEL_COLUMNS)
    assert len(panel) == 40 * 24
    assert simulate_panel(SMALL, 3).equals(panel)
    assert not simulate_panel(SMALL, 4)["recorded"].equals(panel["recorded"])
    adopt = panel.groupby("bureau")["adopt_period"].first()
    # three waves from period 6 to 15, and 30% never adopting (12 of 40)
    assert sorted(adopt.unique()) == [-1, 6, 10, 15]  # rounded from 6, 10.5, 15
    assert (adopt == -1).sum() == 12
    first = panel[panel["reform"] == 1].groupby("bureau")["period"].min()
    assert (first == adopt[adopt >= 0]).all()
    # recorded cases are never above the reports received; the survey is a subset's
    assert (panel["recorded"] <= panel["incidence"]).all()
    assert panel.loc[~panel["surveyed"], "survey"].isna().all()
    assert (
        panel.loc[panel["surveyed"], "survey"] <= panel.loc[panel["surveyed"], "incidence"]
    ).all()
    assert panel.groupby("bureau")["surveyed"].nunique().eq(1).all()
    assert panel["surveyed"].mean() == pytest.approx(0.25)


def test_the_reform_raises_expected_intake_and_leaves_incidence(panel):
    treated = panel[panel["reform"] == 1]
    assert (treated["mu_recorded"] >= treated["mu_recorded_untreated"] - 1e-9).all()
    assert treated["mu_recorded"].sum() > 1.2 * treated["mu_recorded_untreated"].sum()
    untreated = panel[panel["reform"] == 0]
    assert np.allclose(untreated["mu_recorded"], untreated["mu_recorded_untreated"])
    assert np.allclose(panel["mu_incidence"], panel["mu_incidence_untreated"])


def test_endogenous_adoption_puts_high_incidence_bureaus_first():
    design = PanelDesign(n_bureaus=200, months=24, first_adoption=6, last_adoption=15, waves=3)
    random = simulate_panel(design, 1)
    endogenous = simulate_panel(PanelDesign(**{**design.to_dict(), "endogeneity": 3.0}), 1)

    def correlation(p: pd.DataFrame) -> float:
        b = p.groupby("bureau").agg(adopt=("adopt_period", "first"), mu=("mu_incidence", "mean"))
        b = b[b["adopt"] >= 0]
        return float(np.corrcoef(b["adopt"], np.log(b["mu"]))[0, 1])

    assert correlation(endogenous) < -0.5  # more reports, earlier adoption
    assert abs(correlation(random)) < 0.3


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n_bureaus", 5),
        ("months", 3),
        ("first_adoption", 0),
        ("last_adoption", 48),
        ("waves", 0),
        ("never_share", 1.0),
        ("endogeneity", "high"),
        ("adjust_rate", 0.0),
        ("survey_rate", 0.0),
        ("start", "2009-13"),
        ("reports_mean", -1.0),
    ],
)
def test_a_bad_design_names_its_parameter(field, value):
    with pytest.raises(ParameterError, match=field):
        PanelDesign(**{field: value})


def test_check_panel_names_what_is_wrong(panel):
    observed = panel[["bureau", "period", "reform", "recorded"]]
    with pytest.raises(ParameterError, match="recorded"):
        check_panel(observed.drop(columns="recorded"))
    for bad, match in (
        (-1, "whole counts"),
        (2.5, "whole counts"),
        (np.nan, "whole counts"),
    ):
        broken = observed.copy()
        broken["recorded"] = broken["recorded"].astype(float)
        broken.loc[7, "recorded"] = bad
        with pytest.raises(ParameterError, match=match):
            twfe_poisson(broken)
    broken = observed.copy()
    broken.loc[3, "reform"] = 2
    with pytest.raises(ParameterError, match="reform"):
        twfe_poisson(broken)
    switching = observed.copy()
    adopter = switching.loc[switching["reform"] == 1, "bureau"].iloc[0]
    last = switching.index[switching["bureau"] == adopter][-1]
    switching.loc[last, "reform"] = 0
    with pytest.raises(ParameterError, match="stays once adopted"):
        twfe_poisson(switching)
    with pytest.raises(ParameterError, match="one row per bureau and period"):
        twfe_poisson(pd.concat([observed, observed.iloc[:1]]))
    with pytest.raises(ParameterError, match="DataFrame"):
        twfe_poisson(observed.to_numpy())


# --- the fixed-effects Poisson ------------------------------------------------------------------


def test_fe_poisson_equals_statsmodels_with_bureau_dummies(panel):
    import statsmodels.api as sm

    from tipresearch.estimation import event_times

    rel = event_times(panel, 3, 4)
    x = pd.DataFrame({f"e{k}": (rel == k).astype(float) for k in (-3, -2, 0, 1, 2, 3, 4)})
    ours = fe_poisson(panel, "recorded", x)
    dummies = np.column_stack(
        [
            x.to_numpy(),
            pd.get_dummies(panel["period"], drop_first=True, dtype=float),
            pd.get_dummies(panel["bureau"], dtype=float),
        ]
    )
    theirs = sm.GLM(panel["recorded"].to_numpy(float), dummies, family=sm.families.Poisson()).fit(
        cov_type="cluster", cov_kwds={"groups": panel["bureau"].to_numpy(), "use_correction": False}
    )
    g = panel["bureau"].nunique()
    assert np.allclose(ours.params.to_numpy(), theirs.params[:7], atol=1e-8)
    # the same sandwich, with the G / (G - 1) small-sample factor
    assert np.allclose(ours.std_errors.to_numpy(), theirs.bse[:7] * np.sqrt(g / (g - 1)), rtol=1e-6)


def test_fe_poisson_refuses_a_regressor_that_varies_within_a_cohort(panel):
    x = pd.DataFrame({"noise": np.arange(len(panel), dtype=float)})
    with pytest.raises(ParameterError, match="noise"):
        fe_poisson(panel, "recorded", x)


# --- the estimators ---------------------------------------------------------------------------


def test_every_estimator_returns_the_tidy_frame(panel):
    out = estimate_all(panel, SMALL.survey_rate)
    assert list(out.columns) == list(ESTIMATE_COLUMNS)
    assert list(dict.fromkeys(out["estimator"])) == list(ESTIMATORS)
    assert np.allclose(out["ci_high"] - out["estimate"], 1.96 * out["std_error"], rtol=1e-3)
    assert (out["std_error"] > 0).all() and (out["n"] > 0).all()
    only = estimate_all(panel, SMALL.survey_rate, estimators=("two-way FE Poisson",))
    assert list(only["estimator"]) == ["two-way FE Poisson"]
    with pytest.raises(ParameterError, match="estimators"):
        estimate_all(panel, SMALL.survey_rate, estimators=("tea leaves",))


def test_estimators_need_what_they_compare(panel):
    never = panel.assign(reform=0)
    for estimator in (naive_before_after, cross_sectional_ols, not_yet_treated):
        with pytest.raises(ParameterError, match="panel"):
            estimator(never)
    with pytest.raises(ParameterError, match="leads"):
        event_study(panel, leads=0)
    with pytest.raises(ParameterError, match="survey_rate"):
        dark_figure(panel, 0.0)
    with pytest.raises(ParameterError, match="surveyed"):
        dark_figure(panel.drop(columns="surveyed"), 0.5)


def test_segmented_regression_recovers_a_known_break_exactly():
    t = np.arange(30)
    log_y = 3.0 + 0.01 * t + 0.4 * (t >= 12) + 0.02 * (t >= 12) * (t - 12)
    series = pd.DataFrame({"period": t, "count": np.exp(log_y)})
    out = segmented_regression(series, 12).set_index("term")
    assert out.loc["level change", "estimate"] == pytest.approx(0.4, abs=1e-9)
    assert out.loc["slope change", "estimate"] == pytest.approx(0.02, abs=1e-9)
    # post average: 0.4 + 0.02 * mean(0 .. 17) = 0.4 + 0.17
    assert out.loc["post average", "estimate"] == pytest.approx(0.57, abs=1e-9)
    assert out.loc["post average", "estimand"] == "national"


def test_segmented_regression_refuses_a_series_too_short_to_show_a_trend():
    # China's registered trafficking cases: one year before the 2009 rule
    series = pd.DataFrame({"year": [2008, 2009, 2011, 2020], "count": [2566, 6513, 13964, 3055]})
    with pytest.raises(ParameterError, match="1 before and 3 from 2009 on"):
        segmented_regression(series, 2009, time="year")
    with pytest.raises(ParameterError, match="counts > 0"):
        segmented_regression(pd.DataFrame({"period": range(6), "count": [0, 1, 2, 3, 4, 5]}), 3)


def test_truth_of_each_estimand(panel):
    truth = true_effects(panel).set_index(["estimand", "outcome"])["truth"]
    treated = panel[panel["reform"] == 1]
    cells = treated.groupby(["adopt_period", "period"])[["mu_recorded", "mu_recorded_untreated"]]
    sums = cells.sum()
    by_hand = np.average(
        np.log(sums["mu_recorded"] / sums["mu_recorded_untreated"]),
        weights=sums["mu_recorded_untreated"],
    )
    assert truth["att", "recorded"] == pytest.approx(by_hand)
    assert truth["event -2", "recorded"] == 0.0
    assert truth["event 0", "recorded"] < truth["event 6", "recorded"]  # effects grow
    for estimand in ("att", "event 3", "national", "att_final_year"):
        assert truth[estimand, "incidence"] == pytest.approx(0.0, abs=1e-12)


# --- the Monte Carlo ---------------------------------------------------------------------------


def test_the_monte_carlo_gives_the_same_numbers_on_one_worker_or_two():
    kwargs = {"estimators": ("two-way FE Poisson", "not-yet-treated"), "seed": 5}
    one = monte_carlo(SMALL, 3, executor="inprocess", **kwargs)
    two = monte_carlo(SMALL, 3, executor="processes", workers=2, **kwargs)
    assert list(one.columns) == list(MC_COLUMNS)
    pd.testing.assert_frame_equal(one, two)
    assert one["replication"].nunique() == 3 and one["seed"].nunique() == 3
    with pytest.raises(ParameterError, match="replications"):
        monte_carlo(SMALL, 0)


# A design where the two-way FE Poisson's estimand is the truth: one adoption wave,
# effects in full at once, adoption at random.
STATIC = PanelDesign(
    n_bureaus=40, months=24, first_adoption=12, last_adoption=12, waves=1, adjust_rate=1.0
)
REPLICATIONS = 200


@pytest.fixture(scope="module")
def static_mc() -> pd.DataFrame:
    mc = monte_carlo(
        STATIC,
        REPLICATIONS,
        seed=11,
        workers=2,
        estimators=("naive before/after", "two-way FE Poisson", "event study"),
    )
    return summarise_monte_carlo(mc)


def test_fe_poisson_intervals_cover_the_truth_at_their_nominal_rate(static_mc):
    row = static_mc[static_mc["estimator"] == "two-way FE Poisson"].iloc[0]
    # tolerance: three Monte Carlo standard errors of a 95% coverage over 200 runs (0.046)
    tolerance = 3 * np.sqrt(0.95 * 0.05 / REPLICATIONS)
    assert abs(row["coverage"] - 0.95) <= tolerance, row["coverage"]
    assert abs(row["bias"]) <= 3 * row["bias_mc_se"] + 1e-3


def test_event_study_leads_are_centred_on_zero_when_adoption_is_random(static_mc):
    leads = static_mc[
        (static_mc["estimator"] == "event study")
        & (static_mc["estimand"].isin(["event -6", "event -2"]))
    ]
    assert len(leads) == 2
    assert (leads["truth"] == 0).all()
    assert (leads["bias"].abs() <= 3 * leads["bias_mc_se"]).all(), leads[["bias", "bias_mc_se"]]


def test_the_naive_reading_calls_the_reform_a_crime_wave(static_mc):
    naive = static_mc[static_mc["estimator"] == "naive before/after"].iloc[0]
    # recorded cases rise, incidence does not: read as crime, the estimate is biased up
    assert naive["bias_incidence"] > 3 * naive["bias_mc_se"] + 0.1
    assert naive["coverage_incidence"] < 0.05


def test_the_naive_estimator_is_biased_up_when_busy_bureaus_adopt_first():
    design = PanelDesign(
        n_bureaus=60, months=24, first_adoption=6, last_adoption=15, waves=3, endogeneity=2.0
    )
    mc = monte_carlo(design, 30, seed=2, workers=2, estimators=("naive before/after",))
    row = summarise_monte_carlo(mc).iloc[0]
    # the early adopters report more, so "after" is weighted to busier bureaus
    assert row["bias"] > 3 * row["bias_mc_se"]


# --- figures ---------------------------------------------------------------------------------


def test_the_figures_draw_what_they_say(panel):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tipresearch.figures import (
        plot_event_study,
        plot_monte_carlo,
        plot_recorded_and_incidence,
    )

    fig = plot_recorded_and_incidence(panel)
    recorded = fig.axes[0].get_lines()[0].get_ydata()
    first = int(panel.loc[panel["reform"] == 1, "period"].min())
    assert np.mean(recorded[:first]) == pytest.approx(100)  # indexed to before adoption
    plt.close(fig)
    es = event_study(panel, leads=3, lags=4)
    fig = plot_event_study(es, true_effects(panel, leads=3, lags=4))
    (truth_line,) = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "true effect"]
    assert list(truth_line.get_xdata()) == [-3, -2, -1, 0, 1, 2, 3, 4]
    plt.close(fig)
    mc = monte_carlo(SMALL, 2, estimators=("two-way FE Poisson", "not-yet-treated"))
    fig = plot_monte_carlo(mc.assign(scenario="s"), {"s": "one scenario"})
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["not-yet-treated", "two-way FE Poisson"]  # bottom to top
    plt.close(fig)
    with pytest.raises(ParameterError, match="mc"):
        plot_monte_carlo(mc)  # no scenario column
    with pytest.raises(ParameterError, match="estimates"):
        plot_event_study(twfe_poisson(panel))


def test_a_yearly_panel_sums_months_and_treats_only_whole_years(panel):
    from tipresearch.estimation import yearly_panel

    years = yearly_panel(panel)
    assert len(years) == 40 * 2  # 24 months from January 2009
    assert years["recorded"].sum() == panel["recorded"].sum()
    by_hand = panel[(panel["bureau"] == 0) & (panel["year"] == 2010)]["incidence"].sum()
    assert years.set_index(["bureau", "year"]).loc[(0, 2010), "incidence"] == by_hand
    # a bureau adopting in period 6 (July 2009) is partly treated in 2009, treated in 2010
    adopter = panel.loc[panel["adopt_period"] == 6, "bureau"].iloc[0]
    rows = years[years["bureau"] == adopter].set_index("year")
    assert rows.loc[2009, ["reform", "partly_treated"]].tolist() == [0, True]
    assert rows.loc[2010, ["reform", "partly_treated"]].tolist() == [1, False]
    assert twfe_poisson(years)["n"].iloc[0] > 0  # the estimators take it as it is


def test_the_monte_carlo_runs_on_dask_with_the_same_numbers():
    pytest.importorskip("distributed")
    kwargs = {"estimators": ("two-way FE Poisson",), "seed": 8}
    local = monte_carlo(SMALL, 2, executor="inprocess", **kwargs)
    dask = monte_carlo(SMALL, 2, executor="dask", workers=2, **kwargs)
    pd.testing.assert_frame_equal(local, dask)


# --- a Monte Carlo in a folder, and its command ------------------------------------------------


def test_a_monte_carlo_in_pieces_resumes_to_the_numbers_of_one_run(tmp_path):
    from tipresearch.estimation import run_monte_carlo

    kwargs = {"chunk": 2, "executor": "inprocess", "estimators": ("not-yet-treated",)}
    whole = run_monte_carlo(tmp_path / "a", SMALL, 5, 4, **kwargs)
    parts = sorted((tmp_path / "a" / "parts").glob("*.parquet"))
    assert [p.name for p in parts] == [
        "replications-000000.parquet",
        "replications-000002.parquet",
        "replications-000004.parquet",
    ]
    assert all(p.stat().st_mode & 0o777 == 0o644 for p in parts)
    # an interrupted run: one piece missing, then resumed
    first = run_monte_carlo(tmp_path / "b", SMALL, 5, 4, **kwargs)
    (tmp_path / "b" / "parts" / "replications-000002.parquet").unlink()
    resumed = run_monte_carlo(tmp_path / "b", SMALL, 5, 4, resume=True, **kwargs)
    pd.testing.assert_frame_equal(whole, resumed)
    pd.testing.assert_frame_equal(whole, first)
    one = monte_carlo(SMALL, 5, 4, executor="inprocess", estimators=("not-yet-treated",))
    pd.testing.assert_frame_equal(summarise_monte_carlo(one), whole)
    with pytest.raises(ParameterError, match="resume"):
        run_monte_carlo(tmp_path / "b", SMALL, 5, 4, **kwargs)
    with pytest.raises(ParameterError, match="replications"):
        run_monte_carlo(tmp_path / "b", SMALL, 6, 4, resume=True, **kwargs)
    with pytest.raises(ParameterError, match="resume"):
        run_monte_carlo(tmp_path / "c", SMALL, 5, 4, resume=True, **kwargs)


def test_the_monte_carlo_command(tmp_path, capsys):
    from tipresearch import cli

    small = ["--set", "n_bureaus=20", "--set", "months=24", "--set", "first_adoption=6"]
    small += ["--set", "last_adoption=12", "--set", "waves=2"]
    args = ["monte-carlo", "--out", str(tmp_path / "mc"), "--replications", "2", "--quiet"]
    args += ["--executor", "inprocess", "--estimator", "two-way FE Poisson", *small]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "two-way FE Poisson" in out and "coverage" in out
    summary = pd.read_csv(tmp_path / "mc" / "summary.csv")
    assert summary["replications"].tolist() == [2]
    head = ["monte-carlo", "--quiet", "--out"]
    assert cli.main([*head, str(tmp_path / "other"), "--set", "waves=x"]) == 2
    assert "waves" in capsys.readouterr().err
    assert cli.main([*head, str(tmp_path / "x"), "--set", "colour=red"]) == 2
    assert "colour=red" in capsys.readouterr().err


def test_fe_negative_binomial_equals_statsmodels_with_bureau_dummies(panel):
    import warnings

    import statsmodels.api as sm

    from tipresearch.estimation import fe_negative_binomial

    ours = fe_negative_binomial(panel, "recorded", panel[["reform"]], 0.05)
    dummies = np.column_stack(
        [
            panel[["reform"]].to_numpy(float),
            pd.get_dummies(panel["period"], drop_first=True, dtype=float),
            pd.get_dummies(panel["bureau"], dtype=float),
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' note on a fixed dispersion
        theirs = sm.GLM(
            panel["recorded"].to_numpy(float),
            dummies,
            family=sm.families.NegativeBinomial(alpha=0.05),
        ).fit(
            tol=1e-12,
            cov_type="cluster",
            cov_kwds={"groups": panel["bureau"].to_numpy(), "use_correction": False},
        )
    g = panel["bureau"].nunique()
    assert ours.params["reform"] == pytest.approx(theirs.params[0], abs=1e-8)
    assert ours.std_errors["reform"] == pytest.approx(
        theirs.bse[0] * np.sqrt(g / (g - 1)), rel=1e-6
    )
    # a dispersion near nil gives the Poisson estimate
    near = fe_negative_binomial(panel, "recorded", panel[["reform"]], 1e-9)
    assert near.params["reform"] == pytest.approx(
        fe_poisson(panel, "recorded", panel[["reform"]]).params["reform"], abs=1e-6
    )
    with pytest.raises(ParameterError, match="alpha"):
        fe_negative_binomial(panel, "recorded", panel[["reform"]], 0.0)


def test_the_monte_carlo_table_prints_each_estimator_once_with_its_errors():
    from tipresearch.estimation import monte_carlo_table, without_event_terms

    mc = monte_carlo(
        SMALL, 3, seed=1, executor="inprocess", estimators=("event study", "not-yet-treated")
    )
    summary = summarise_monte_carlo(mc)
    assert (summary["term"].str.startswith("event ")).sum() > 5
    headline = without_event_terms(summary)
    assert headline["term"].tolist() == ["post average", "reform"]
    table = monte_carlo_table(summary)
    assert table["estimator"].tolist() == ["event study", "not-yet-treated"]
    row = summary.set_index("term").loc["reform"]
    assert (
        table.loc[1, "bias (Monte Carlo error)"] == f"{row['bias']:+.3f} ({row['bias_mc_se']:.3f})"
    )
    assert table.loc[1, "95% coverage (Monte Carlo error)"].endswith(
        f"({row['coverage_mc_se']:.0%})"
    )
    with pytest.raises(ParameterError, match="summary"):
        monte_carlo_table(mc)


def test_the_negative_binomial_from_a_given_poisson_start_is_the_same(panel):
    from tipresearch.estimation import fe_negative_binomial

    start = fe_poisson(panel, "recorded", panel[["reform"]])
    a = fe_negative_binomial(panel, "recorded", panel[["reform"]], 0.05)
    b = fe_negative_binomial(panel, "recorded", panel[["reform"]], 0.05, start=start)
    assert a.params["reform"] == pytest.approx(b.params["reform"], abs=1e-12)
