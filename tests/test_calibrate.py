"""The China calibration: targets from the published tables, moments, recovery, files, CLI."""

from __future__ import annotations

import argparse
import dataclasses
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from tipresearch.cli import main as cli_main
from tipresearch.cli.calibrate import _start_values
from tipresearch.data import load_published, published_value
from tipresearch.errors import ParameterError
from tipresearch.fit import (
    CONFIDENCE_WEIGHTS,
    FITTED,
    FitParameter,
    FitResult,
    Target,
    best_profile_point,
    bootstrap,
    campaign_solved,
    china_figures,
    china_targets,
    fit,
    fit_checks,
    fit_table,
    load_fit,
    model_moments,
    replication_means,
    synthetic_targets,
    trade_off_table,
)
from tipresearch.model import Dynamics
from tipresearch.reforms import ChinaModel, annual_counts, to_annual, window_counts

#: A small, fast version of the China calendar: 40 units, to the end of 2011,
#: thresholds adjusting at 0.15 a month, no learning or deterrence; the values the
#: recovery tests do not fit are pinned here, not taken from the model's defaults.
SMALL = dataclasses.replace(
    ChinaModel(), end="2011-12", dynamics=Dynamics(adjust_rate=0.15)
).updated(
    {
        "settings.n_bureaus": 40,
        "settings.reports_per_bureau": 1.3,
        "settings.capacity_sigma": 0.15,
        "reforms.mandatory_audit_prob": 0.11,
        "metric.rate": 6.0,
    }
)


def small_targets() -> tuple[Target, ...]:
    return tuple(t for t in china_targets() if t.year != 2020)


def test_targets_come_from_the_published_tables():
    pub = load_published()
    targets = {t.id: t for t in china_targets(pub)}
    assert targets["registered_2008"].value == published_value(pub, "cn_reg_traf_2008")
    assert targets["registered_2009"].value == published_value(pub, "cn_reg_traf_2009")
    assert targets["registered_2011"].value == published_value(pub, "cn_reg_traf_2011")
    assert targets["solved_children_2011"].value == published_value(pub, "cn_solved_children_2011")
    vps = targets["campaign_victims_per_solved_women"]
    assert vps.value == pytest.approx(2291 / 1214)
    assert vps.first_day == "2009-04-01" and vps.last_day == "2009-08-15"
    # primary sources weigh more than secondary ones, the cable and an assumption
    assert targets["registered_2009"].weight > targets["registered_2011"].weight
    assert targets["registered_2011"].weight == CONFIDENCE_WEIGHTS["secondary"]
    assert targets["campaign_solved_women"].confidence == "seed"
    assert targets["clearance_2008"].value == 1.0
    for t in targets.values():
        assert t.confidence in CONFIDENCE_WEIGHTS
        assert t.sources, t.id


def test_moments_match_hand_counts_from_the_frame():
    model = SMALL
    frame = model.simulate(seed=3)
    targets = small_targets()
    moments = dict(zip([t.id for t in targets], model_moments(model, targets, (3,)), strict=True))
    y2008 = frame[frame.month.dt.year == 2008]
    assert moments["registered_2008"] == y2008.opened.sum()
    assert moments["clearance_2008"] == pytest.approx(
        (y2008.solved.sum() + y2008.solved_backlog.sum()) / y2008.opened.sum()
    )
    kids = frame[(frame.month.dt.year == 2011) & (frame.case_type == "children")]
    assert moments["solved_children_2011"] == kids.solved.sum() + kids.solved_backlog.sum()
    # the campaign window: April to July whole, 15 of August's 31 days
    women = frame[frame.case_type == "women"]
    solved = women.solved + women.solved_backlog
    months = women.month
    whole = solved[(months >= "2009-04-01") & (months <= "2009-07-01")].sum()
    august = solved[months == "2009-08-01"].sum()
    assert moments["campaign_solved_women"] == pytest.approx(whole + august * 15 / 31)
    annual = annual_counts(frame)
    assert set(annual.case_type) == {"women", "children", "all"}
    window = window_counts(frame, "2009-04-01", "2009-08-15").set_index("case_type")
    assert window.loc["all", "solved"] == pytest.approx(
        window.loc["women", "solved"] + window.loc["children", "solved"]
    )


def test_fit_table_relative_errors():
    targets = small_targets()[:2]
    table = fit_table(targets, np.array([t.value * 1.1 for t in targets]))
    assert list(table.columns[:6]) == [
        "target",
        "description",
        "case_type",
        "published",
        "model",
        "relative_error",
    ]
    np.testing.assert_allclose(table.relative_error, 0.1)


#: Recovery: three parameters the small model's moments identify well (women's and
#: children's solvability, and the share of the campaign kept after 2009), their
#: true values and a start far from them.
TRUTH = {
    "settings.women_solvability": 0.75,
    "settings.children_solvability": 0.65,
    "reforms.campaign_persist": 0.6,
}
START = {
    "settings.women_solvability": 0.55,
    "settings.children_solvability": 0.85,
    "reforms.campaign_persist": 0.3,
}
RECOVERY_TOLERANCE = 0.05  # relative error allowed on each parameter
#: Sobol' points screened before the local search. At the start no women's report
#: is opened in any year (low solvability, high clearance-rate weight), so the
#: objective is flat there and a local search can stall: as in the China fit, a
#: screen of the bounds finds a start where the moments respond.
SCREEN = 8
PARAMETERS = (
    FitParameter("settings.women_solvability", 0.3, 0.95),
    FitParameter("settings.children_solvability", 0.3, 0.95),
    FitParameter("reforms.campaign_persist", 0.0, 1.0),
)


def test_calibration_recovers_known_parameters_from_simulated_data():
    data = synthetic_targets(SMALL.updated(TRUTH), small_targets(), seeds=(11,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = fit(
            SMALL, data, PARAMETERS, start=START, seeds=(11,), max_evaluations=80, screen=SCREEN
        )
    for key, true in TRUTH.items():
        assert result.estimates[key] == pytest.approx(true, rel=RECOVERY_TOLERANCE), key
    # the data are the model's own on the same draws: the fit comes close to zero
    assert result.objective < 1e-2
    # the start was far: the search moved every parameter
    for key in TRUTH:
        assert abs(result.estimates[key] - START[key]) > 0.1
    # bootstrap replications around the estimate, with spread, within the bounds
    boot = bootstrap(result, SMALL, replications=4, seed=1)
    assert boot.draws.shape == (4, len(PARAMETERS))
    assert (boot.draws.std(axis=0) > 0).all()
    for j, p in enumerate(PARAMETERS):
        assert ((boot.draws[:, j] >= p.lower) & (boot.draws[:, j] <= p.upper)).all()
    table = boot.estimates_table()
    assert table.std_error.notna().all()


NOISY_TOLERANCE = 0.15  # relative error allowed when data and fit use different draws


def test_calibration_recovers_parameters_through_simulation_noise():
    # data from seeds 21 and 22, fitted on seeds 11 and 12: no common draws
    data = synthetic_targets(SMALL.updated(TRUTH), small_targets(), seeds=(21, 22))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = fit(
            SMALL,
            data,
            PARAMETERS,
            start=START,
            seeds=(11, 12),
            max_evaluations=80,
            screen=SCREEN,
        )
    for key, true in TRUTH.items():
        assert result.estimates[key] == pytest.approx(true, rel=NOISY_TOLERANCE), key


def test_several_starts_keep_the_lowest_local_search():
    data = synthetic_targets(SMALL.updated(TRUTH), small_targets(), seeds=(11,))
    runs = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for starts in (1, 3):
            runs[starts] = fit(
                SMALL,
                data,
                PARAMETERS,
                start=START,
                seeds=(11,),
                max_evaluations=8,
                screen=4,
                starts=starts,
                jacobian=False,
            )
    one, three = runs[1], runs[3]
    assert len(one.notes["start_objectives"]) == 1
    assert len(three.notes["start_objectives"]) == 3 and three.notes["starts"] == 3
    # the estimate is the lowest point any search reached, and the first search is the same
    assert three.objective <= min(three.notes["start_objectives"]) + 1e-12
    assert three.notes["start_objectives"][0] == pytest.approx(one.notes["start_objectives"][0])
    assert three.objective <= one.objective + 1e-12
    assert three.evaluations > one.evaluations
    for bad in (0, 6, True, 1.5):
        with pytest.raises(ParameterError, match="starts"):
            fit(SMALL, data, PARAMETERS, screen=4, starts=bad, max_evaluations=1)


def test_parallel_seeds_give_the_same_fit_and_bootstrap():
    data = synthetic_targets(SMALL.updated(TRUTH), small_targets(), seeds=(11,))
    runs = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for workers in (1, 2):
            result = fit(
                SMALL,
                data,
                PARAMETERS,
                start=START,
                seeds=(3, 4),
                max_evaluations=4,
                workers=workers,
            )
            runs[workers] = bootstrap(result, SMALL, replications=2, workers=workers)
    one, two = runs[1], runs[2]
    assert one.evaluations == two.evaluations
    assert one.estimates == two.estimates
    np.testing.assert_array_equal(one.moments, two.moments)
    np.testing.assert_array_equal(one.jacobian, two.jacobian)
    np.testing.assert_array_equal(one.draws, two.draws)
    for bad in (0, True, 1.5):
        with pytest.raises(ParameterError, match="workers"):
            fit(SMALL, data, PARAMETERS, max_evaluations=1, workers=bad)
        with pytest.raises(ParameterError, match="workers"):
            bootstrap(one, SMALL, replications=1, workers=bad)


def test_fit_result_round_trips_through_files(tmp_path):
    targets = small_targets()
    result = FitResult(
        parameters=FITTED,
        estimates={p.key: p.to_value(0.5) for p in FITTED},
        changes={"settings.n_bureaus": 40, **{k: p.to_value(0.5) for p in FITTED for k in p.keys}},
        targets=targets,
        moments=np.array([t.value for t in targets]),
        seeds=(0, 1),
        objective=0.0,
        jacobian=np.ones((len(targets), len(FITTED))),
        draws=np.ones((3, len(FITTED))),
    )
    paths = result.save(tmp_path / "fit")
    assert sorted(p.name for p in paths.values()) == ["estimates.csv", "fit.json", "fit_table.csv"]
    back = load_fit(tmp_path / "fit")
    assert back.estimates == result.estimates and back.targets == result.targets
    assert back.model() == ChinaModel().updated(result.changes)
    # a tied parameter sets both solvability means
    settings = back.model().settings
    assert settings["women_solvability"] == settings["children_solvability"]
    table = pd.read_csv(paths["fit_table"])
    assert list(table.target) == [t.id for t in targets]
    with pytest.raises(FileNotFoundError, match="tipresearch calibrate"):
        load_fit(tmp_path / "nowhere")
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(ParameterError, match="fit file"):
        load_fit(tmp_path / "bad.json")


def test_bad_fit_inputs_are_named():
    with pytest.raises(ParameterError, match="bounds"):
        FitParameter("settings.reports_per_bureau", 2.0, 1.0)
    with pytest.raises(ParameterError, match="start.metric.bonus"):
        fit(SMALL, small_targets(), PARAMETERS, start={"metric.bonus": 1.0}, max_evaluations=1)
    with pytest.raises(ParameterError, match="kind"):
        Target("x", "arrests", "all", 1.0, "primary", year=2008)
    with pytest.raises(ParameterError, match="settings.nope|nope"):
        model_moments(SMALL.updated({"settings.nope": 1}), small_targets())
    with pytest.raises(ParameterError, match="year"):
        model_moments(SMALL, china_targets())  # 2020 lies after the small model's end


def test_calibrate_command_writes_its_files(tmp_path, capsys):
    out = tmp_path / "fit"
    status = cli_main(
        [
            "calibrate",
            "--out",
            str(out),
            "--seeds",
            "0",
            "--screen",
            "0",
            "--max-evaluations",
            "2",
            "--bootstrap",
            "2",
            "--bureaus",
            "30",
            "--set",
            "dynamics.learning_rate=0",
            # two parameters left to fit keep the refits of the hold-outs and profiles short
            "--fix",
            "reforms.campaign_persist=0.5",
            "--fix",
            "dynamics.deterrence=0",
            "--fix",
            "dynamics.deterrence_floor=0.05",
            "--fix",
            "reforms.mandatory_audit_prob=0.1",
            "--fix",
            "settings.reports_per_bureau=2",
            "--fix",
            "settings.women_solvability+settings.children_solvability=0.75",
            "--fix-reason",
            "flat profile",
            "--holdouts",
            "full,without_2020",
            "--profile-points",
            "3",
            "--profile-evaluations",
            "1",
            "--prediction-seeds",
            "2",
            "--workers",
            "1",
            "--recovery",
            "1",
            "--recovery-bureaus",
            "20",
        ]
    )
    assert status == 0
    data = json.loads((out / "fit.json").read_text(encoding="utf-8"))
    assert data["changes"]["settings.n_bureaus"] == 30
    assert data["changes"]["reforms.campaign_persist"] == 0.5
    assert len(data["draws"]) == 2
    table = pd.read_csv(out / "fit_table.csv")
    assert "registered_2009" in set(table.target)
    estimates = pd.read_csv(out / "estimates.csv").set_index("parameter")
    assert estimates.loc["reforms.campaign_persist", "status"] == "fixed"
    assert estimates.loc["reforms.campaign_persist", "estimate"] == 0.5
    assert (estimates["status"] == "fitted").sum() == 2
    assert (estimates["status"] == "fixed").sum() == 6
    assert estimates.loc[estimates["status"] == "fitted", "robust_std_error"].notna().any()
    # every published figure, for each design: fitted figures are the design's targets
    oos = pd.read_csv(out / "out_of_sample.csv")
    assert set(oos["design"]) == {"full", "without_2020"}
    held = oos[(oos["design"] == "without_2020") & (oos["role"] == "held out")]
    assert "registered_2020" in set(held["figure"])
    assert not set(oos.loc[oos["design"] == "full", "figure"]) - {f.id for f in china_figures()}
    assert (oos["seeds"] == 2).all()
    assert (oos["low_5"] <= oos["model"]).all() and (oos["model"] <= oos["high_95"]).all()
    designs = json.loads((out / "holdout_fits.json").read_text(encoding="utf-8"))
    assert designs["without_2020"]["settings.n_bureaus"] == 30
    assert designs["without_2020"]["reforms.campaign_persist"] == 0.5
    profile = pd.read_csv(out / "profiles.csv")
    assert profile.groupby("parameter").size().eq(4).all()  # 3 grid points + the estimate
    # every point carries the whole parameter vector: the held value and the refitted others
    for row in profile.itertuples():
        assert profile.loc[row.Index, f"at.{row.parameter}"] == pytest.approx(row.value)
    lowest, values = best_profile_point(profile)
    assert lowest == profile["objective"].min()
    best_row = profile.loc[profile["objective"].idxmin()]
    assert values == {k: best_row[f"at.{k}"] for k in values}
    assert set(values) == set(estimates.index[estimates["status"] == "fitted"])
    args = argparse.Namespace(start_from=str(out), start_from_profile=str(out), start=[])
    fitted = [p for p in FITTED if p.key in values]
    assert _start_values(args, fitted) == values
    ident = pd.read_csv(out / "identification.csv")
    assert len(ident) == 2 and ident["profile_rise"].ge(0).all()
    rec = pd.read_csv(out / "recovery.csv")
    assert len(rec) == 2 and set(rec.replication) == {0}
    assert set(rec.parameter) == set(ident.parameter)
    coverage = pd.read_csv(out / "recovery_coverage.csv")
    assert coverage["replications"].eq(1).all()
    assert "published" in capsys.readouterr().err
    assert cli_main(["calibrate", "--out", str(out), "--start", "metric.nope=1"]) == 2
    assert "--start" in capsys.readouterr().err
    profile.drop(columns=[c for c in profile if c.startswith("at.")]).to_csv(
        tmp_path / "profiles.csv", index=False
    )
    for folder in (tmp_path / "nowhere", tmp_path):
        assert cli_main(["calibrate", "--out", str(out), "--start-from-profile", str(folder)]) == 2
        err = capsys.readouterr().err
        assert "--start-from-profile" in err and len(err.strip().splitlines()) == 1
    # an output folder that cannot be made is refused before any fitting
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    for bad in (blocker, blocker / "fit"):
        assert cli_main(["calibrate", "--out", str(bad)]) == 2
        err = capsys.readouterr().err
        assert "--out" in err and "fitting on seeds" not in err
        assert len(err.strip().splitlines()) == 1
    assert cli_main(["calibrate", "--out", str(out), "--screen", "2", "--starts", "4"]) == 2
    assert "--starts" in capsys.readouterr().err
    assert cli_main(["calibrate", "--out", str(out), "--recovery", "-1"]) == 2
    assert "--recovery" in capsys.readouterr().err
    assert cli_main(["calibrate", "--out", str(out), "--bootstrap", "-1"]) == 2
    assert "--bootstrap" in capsys.readouterr().err
    assert cli_main(["calibrate", "--out", str(out), "--holdouts", "nope"]) == 2
    assert "--holdouts" in capsys.readouterr().err
    assert cli_main(["calibrate", "--out", str(out), "--fix", "metric.solved=1"]) == 2
    assert "--fix" in capsys.readouterr().err
    for bad, needle in (
        ("reforms.nope=0:1", "reforms.nope"),
        ("reforms.abolition_solved_times=1", "--also-fit"),
        ("reforms.abolition_solved_times=1:0", "bounds"),
        ("dynamics.deterrence=0:1", "already"),
    ):
        assert cli_main(["calibrate", "--out", str(out), "--also-fit", bad]) == 2
        err = capsys.readouterr().err
        assert needle in err and len(err.strip().splitlines()) == 1


def _synthetic_monthly(scale: float = 1.0) -> pd.DataFrame:
    """Two seeds (x1 and x3) of constant monthly counts that grow with the year."""
    months = pd.date_range("2008-01-01", "2020-12-01", freq="MS")
    rows = []
    for seed, factor in ((1, 1.0), (2, 3.0)):
        for month in months:
            for case_type, solved in (("all", 7.0), ("women", 5.0), ("children", 2.0)):
                registered = (month.year - 2000) * (3.0 if case_type == "all" else 1.0)
                rows.append(
                    {
                        "seed": seed,
                        "month": month,
                        "case_type": case_type,
                        "reports": 2 * registered * factor * scale,
                        "registered": registered * factor * scale,
                        "solved": solved * factor * scale,
                        "rescued": solved * factor * scale,
                    }
                )
    return pd.DataFrame(rows)


def test_replication_means_average_over_seeds():
    means = replication_means(to_annual(_synthetic_monthly()))
    # mean factor over the seeds is 2; 12 months a year
    assert means.loc[(2009, "all"), "registered"] == pytest.approx(12 * 9 * 3 * 2)
    assert means.loc[(2011, "women"), "solved"] == pytest.approx(12 * 5 * 2)
    with pytest.raises(ParameterError, match="annual"):
        replication_means(pd.DataFrame({"year": [2009]}))


def test_fit_checks_ratio_years_and_relative_error():
    published = load_published()
    means = replication_means(to_annual(_synthetic_monthly()))
    checks = fit_checks(means, published)
    assert list(checks.index) == [
        "registered 2009 / 2008",
        "registered 2011",
        "solved 2011, women",
        "solved 2011, children",
        "registered 2020",
    ]
    # the ratio is 2009 over 2008, in the model and in the published counts
    assert checks.loc["registered 2009 / 2008", "model"] == pytest.approx(9 / 8)
    assert checks.loc["registered 2009 / 2008", "published"] == pytest.approx(
        published_value(published, "cn_reg_traf_2009")
        / published_value(published, "cn_reg_traf_2008")
    )
    assert checks.loc["registered 2020", "model"] == pytest.approx(12 * 20 * 3 * 2)
    assert checks.loc["solved 2011, children", "published"] == published_value(
        published, "cn_solved_children_2011"
    )
    assert checks["relative_error"].to_numpy() == pytest.approx(
        (checks["model"] / checks["published"] - 1).to_numpy()
    )
    assert checks.loc["registered 2011", "allowed"] == 0.15
    assert pd.isna(checks.loc["registered 2020", "allowed"])
    with pytest.raises(ParameterError, match="means"):
        fit_checks(means.drop(index=2020, level="year"), published)


def test_campaign_solved_weights_the_cable_window_by_days():
    solved = campaign_solved(_synthetic_monthly(), load_published())
    # April to July whole, 15 of August's 31 days; mean factor 2
    assert solved["women"] == pytest.approx(5 * 2 * (4 + 15 / 31))
    assert solved["children"] == pytest.approx(2 * 2 * (4 + 15 / 31))


def test_trade_off_table_columns_and_errors():
    published = load_published()
    table = trade_off_table(
        {"fitted": _synthetic_monthly(), "half": _synthetic_monthly(0.5)}, published
    )
    assert list(table.columns) == ["fitted", "half", "published", "error, fitted", "error, half"]
    assert table.loc["registered 2009 / 2008", "fitted"] == pytest.approx(9 / 8)
    # a ratio does not change with the scale; counts halve
    assert table.loc["registered 2009 / 2008", "half"] == pytest.approx(9 / 8)
    assert table.loc["registered 2011", "half"] == pytest.approx(12 * 11 * 3)
    assert table.loc["campaign solved, women", "fitted"] == pytest.approx(10 * (4 + 15 / 31))
    cable = published.set_index("id")["value"]
    assert (
        table.loc["campaign solved, children", "published"] == cable["cable_solved_children_2009"]
    )
    for name in ("fitted", "half"):
        assert table[f"error, {name}"].to_numpy() == pytest.approx(
            (table[name] / table["published"] - 1).to_numpy()
        )
    with pytest.raises(ParameterError, match="runs"):
        trade_off_table({}, published)
    with pytest.raises(ParameterError, match="published"):
        trade_off_table({"fitted": _synthetic_monthly()}, published.iloc[:0])


def test_evolution_searches_from_the_screen_and_never_ends_higher():
    data = synthetic_targets(SMALL.updated(TRUTH), small_targets(), seeds=(11,))
    kw = {"start": START, "seeds": (11,), "max_evaluations": 6, "screen": 7, "jacobian": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # RuntimeWarning of the search; 7 Sobol' points
        plain = fit(SMALL, data, PARAMETERS, starts=2, **kw)
        evolved = fit(SMALL, data, PARAMETERS, starts=2, generations=3, **kw)
        again = fit(SMALL, data, PARAMETERS, starts=2, generations=3, **kw)
    assert evolved.notes["generations"] == 3 and plain.notes["generations"] == 0
    # three generations of eight members (the start and seven screened points): at least
    # 24 evaluations besides the first population, and the same seed, the same search
    assert evolved.evaluations >= 8 + 24
    assert evolved.estimates == again.estimates
    # evolution keeps a member only if it is no worse, so the local searches start from
    # points at least as low as the screen's, and each search ends no higher than it began
    first, plain_first = (
        evolved.notes["local_start_objectives"],
        plain.notes["local_start_objectives"],
    )
    assert first[0] <= plain_first[0] + 1e-12
    assert first[1] <= plain_first[1] + 1e-12
    for began, ended in zip(first, evolved.notes["start_objectives"], strict=True):
        assert ended <= began + 1e-12
    for bad in (-1, 1.5, True):
        with pytest.raises(ParameterError, match="generations"):
            fit(SMALL, data, PARAMETERS, screen=7, generations=bad, max_evaluations=1)
    with pytest.raises(ParameterError, match="generations"):
        fit(SMALL, data, PARAMETERS, screen=2, generations=2, max_evaluations=1)
