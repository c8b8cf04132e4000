"""The world a simulated China calendar implies, the recording studies, and their figures
(tipresearch.reforms.world, tipresearch.figures.world)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from pathlib import Path  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from tipresearch.data.published import load_recording_shares  # noqa: E402
from tipresearch.errors import ParameterError  # noqa: E402
from tipresearch.figures import (  # noqa: E402
    plot_implied_world,
    plot_recording_comparison,
    save_figure,
)
from tipresearch.fit import load_fit  # noqa: E402
from tipresearch.reforms import (  # noqa: E402
    WORLD_MEASURES,
    WORLD_SHARES,
    annual_counts,
    implied_world,
    incidence_change,
    recording_comparison,
    recording_studies,
    replicate_world,
    world_bands,
)

ROOT = Path(__file__).resolve().parents[1]
END = "2011-12"  # enough years for the tests, shorter than the model's calendar
SEEDS = (7, 8, 9)


@pytest.fixture(scope="module")
def model():
    return load_fit(ROOT / "data" / "fit").model()


@pytest.fixture(scope="module")
def frame(model):
    return model.simulate(seed=7, end=END)


@pytest.fixture(scope="module")
def world(frame):
    return implied_world(frame)


@pytest.fixture(scope="module")
def replicated(model):
    return replicate_world(model, SEEDS, end=END)


def _tiny_frame() -> pd.DataFrame:
    """Two months, one bureau, both types: counts chosen by hand."""
    rows = [
        # month, type, reports, opened, solved, solved_backlog, declined_solvable
        ("2008-01-01", "women", 10, 2, 1, 0, 6),
        ("2008-01-01", "children", 8, 4, 3, 1, 2),
        ("2008-02-01", "women", 10, 3, 3, 1, 5),
        ("2009-01-01", "women", 5, 5, 4, 0, 0),
        ("2009-01-01", "children", 4, 1, 1, 0, 3),
    ]
    f = pd.DataFrame(
        rows,
        columns=[
            "month",
            "case_type",
            "reports",
            "opened",
            "solved",
            "solved_backlog",
            "declined_solvable",
        ],
    )
    f["month"] = pd.to_datetime(f["month"])
    f["case_type"] = pd.Categorical(f["case_type"], categories=["women", "children"])
    f["declined"] = f["reports"] - f["opened"]
    return f


# --------------------------------------------------------------------------- implied_world


def test_hand_counts_give_the_documented_formulas():
    w = implied_world(_tiny_frame()).set_index(["year", "case_type"])
    women = w.loc[(2008, "women")]
    assert women["reports"] == 20 and women["recorded"] == 5 and women["unrecorded"] == 15
    assert women["recorded_share"] == pytest.approx(5 / 20)
    assert women["unrecorded_share"] == pytest.approx(15 / 20)
    assert women["declined_solvable"] == 11
    assert women["declined_solvable_share"] == pytest.approx(11 / 15)
    assert women["solved"] == 5  # new and cold cases
    assert women["clearance"] == pytest.approx(5 / 5)
    both = w.loc[(2008, "all")]
    assert both["reports"] == 28 and both["recorded"] == 9
    assert both["declined_solvable_share"] == pytest.approx(13 / 19)
    # no report declined: the solvable share of declined reports is undefined, not 0
    assert np.isnan(w.loc[(2009, "women"), "declined_solvable_share"])


def test_shares_are_shares_and_counts_add_up(world):
    for share in WORLD_SHARES:
        values = world[share].dropna()
        assert values.between(0, 1).all(), share
    assert np.allclose(world["recorded"] + world["unrecorded"], world["reports"])
    assert np.allclose(world["recorded_share"] + world["unrecorded_share"], 1.0)
    assert (world["declined_solvable"] <= world["unrecorded"]).all()
    assert list(world.columns) == ["year", "case_type", *WORLD_MEASURES]


def test_all_is_the_sum_of_the_types(world):
    w = world.set_index(["year", "case_type"])
    for year in world["year"].unique():
        for count in ("reports", "recorded", "unrecorded", "declined_solvable", "solved"):
            parts = w.loc[(year, "women"), count] + w.loc[(year, "children"), count]
            assert w.loc[(year, "all"), count] == pytest.approx(parts)


def test_totals_match_annual_counts(frame, world):
    counts = annual_counts(frame).set_index(["year", "case_type"])
    w = world.set_index(["year", "case_type"])
    assert w.index.equals(counts.index)
    assert np.allclose(w["reports"], counts["reports"])
    assert np.allclose(w["recorded"], counts["registered"])
    assert np.allclose(w["solved"], counts["solved"])
    assert np.allclose(w["clearance"], counts["clearance"], equal_nan=True)


def test_scale_multiplies_counts_and_keeps_shares(frame, world):
    scaled = implied_world(frame, scale=2.5)
    assert np.allclose(scaled["reports"], 2.5 * world["reports"])
    assert np.allclose(scaled["declined_solvable"], 2.5 * world["declined_solvable"])
    for share in WORLD_SHARES:
        assert np.allclose(scaled[share], world[share], equal_nan=True)


@pytest.mark.parametrize(
    ("bad", "name"),
    [
        (lambda f: f.to_numpy(), "frame"),
        (lambda f: f.drop(columns="declined_solvable"), "frame"),
        (lambda f: f.iloc[:0], "frame"),
        (lambda f: f.assign(month=f["month"].astype(str)), "frame['month']"),
        (lambda f: f.assign(case_type="men"), "frame['case_type']"),
        (lambda f: f.assign(reports=-f["reports"]), "frame"),
        (lambda f: f.assign(opened=f["reports"] + 1), "frame"),
        (lambda f: f.assign(declined_solvable=f["declined"] + 1), "frame"),
    ],
)
def test_malformed_frame_is_refused_by_name(bad, name):
    with pytest.raises(ParameterError) as info:
        implied_world(bad(_tiny_frame()))
    assert info.value.name == name
    assert "allowed" in str(info.value)


@pytest.mark.parametrize("scale", [0, -1.0, float("nan"), "2", True])
def test_bad_scale(scale):
    with pytest.raises(ParameterError, match="'scale'"):
        implied_world(_tiny_frame(), scale=scale)


# --------------------------------------------------------------------------- replications


def test_replications_are_the_single_runs(model, replicated):
    assert sorted(replicated["seed"].unique()) == list(SEEDS)
    one = implied_world(model.simulate(seed=8, end=END))
    again = replicated[replicated["seed"] == 8].drop(columns="seed").reset_index(drop=True)
    pd.testing.assert_frame_equal(again, one)


@pytest.mark.parametrize("seeds", [[], [1, 1], [-1], [1.5], "12", None])
def test_bad_seeds(model, seeds):
    with pytest.raises(ParameterError, match="'seeds'"):
        replicate_world(model, seeds, end="2007-02")


def test_bad_model_and_timeline(model):
    with pytest.raises(ParameterError, match="'model'"):
        replicate_world("china", [1])
    with pytest.raises(ParameterError, match="'timeline'"):
        replicate_world(model, [1], timeline="as fitted")


def test_bands_bracket_the_mean(replicated):
    bands = world_bands(replicated, level=0.9)
    assert bands.attrs["level"] == 0.9
    assert (bands["low"] <= bands["mean"] + 1e-12).all()
    assert (bands["mean"] <= bands["high"] + 1e-12).all()
    shares = bands[bands["measure"].isin(WORLD_SHARES)]
    assert shares[["low", "mean", "high"]].stack().between(0, 1).all()
    row = bands[
        (bands.year == 2009) & (bands.case_type == "all") & (bands.measure == "recorded_share")
    ].iloc[0]
    per_seed = replicated[(replicated.year == 2009) & (replicated.case_type == "all")]
    assert row["mean"] == pytest.approx(per_seed["recorded_share"].mean())
    assert row["seeds"] == len(SEEDS)


@pytest.mark.parametrize("level", [0, 1, 1.5, "0.9"])
def test_bad_level(replicated, level):
    with pytest.raises(ParameterError, match="'level'"):
        world_bands(replicated, level=level)


def test_incidence_change_by_hand(world):
    change = incidence_change(world, 2008, 2011).set_index("case_type")
    w = world.set_index(["year", "case_type"])["reports"]
    for ct in ("women", "children", "all"):
        expected = w[(2011, ct)] / w[(2008, ct)] - 1
        assert change.loc[ct, "change"] == pytest.approx(expected)
        assert change.loc[ct, "low"] == pytest.approx(expected)  # one seed: no spread


def test_incidence_change_refuses_bad_years(world):
    with pytest.raises(ParameterError, match="'first'"):
        incidence_change(world, 1990, 2011)
    with pytest.raises(ParameterError, match="'last'"):
        incidence_change(world, 2011, 2008)
    with pytest.raises(ParameterError, match="'world'"):
        incidence_change(world.drop(columns="reports"), 2008, 2011)


# --------------------------------------------------------------------------- recording studies


def test_recording_studies_derive_shares_from_the_table():
    table = load_recording_shares().set_index("id")
    studies = recording_studies().set_index("id")
    assert studies["share"].between(0, 1).all()
    unrecorded = table.loc["ew_unrecorded_share_2014", "value"]
    assert studies.loc["ew_unrecorded_share_2014", "share"] == pytest.approx(1 - unrecorded)
    pair = "cn_recorded_crimes_2004 / cn_actual_crimes_2004"
    expected = (
        table.loc["cn_recorded_crimes_2004", "value"] / table.loc["cn_actual_crimes_2004", "value"]
    )
    assert studies.loc[pair, "share"] == pytest.approx(expected)
    assert studies.loc[pair, "stage"] == "both_stages"
    assert (
        studies.loc["cn_recorded_share_1987", "share"]
        == table.loc["cn_recorded_share_1987", "value"]
    )
    assert studies.loc["us_reported_violent_2017", "stage"] == "victim_reporting"
    # each label names the place and the years
    for row in studies.itertuples():
        assert row.place in row.label and row.years in row.label
    assert studies.loc["ew_recorded_all_2002", "years"] == "2002/03"
    assert studies.loc["ew_unrecorded_share_2014", "years"] == "2012-13"


def test_recorded_count_without_its_estimate_is_refused():
    table = load_recording_shares()
    table = table[table["id"] != "cn_actual_crimes_2004"]
    with pytest.raises(ParameterError, match="cn_recorded_crimes_2004"):
        recording_studies(table)


def test_comparison_sets_the_model_beside_the_studies(replicated):
    bands = world_bands(replicated)
    comparison = recording_comparison(bands, year=2008)
    model_rows = comparison[comparison["kind"] == "model"]
    assert sorted(model_rows["case_type"]) == ["all", "children", "women"]
    assert (model_rows["stage"] == "police_recording").all()
    assert (model_rows["low"] <= model_rows["share"]).all()
    assert (comparison["kind"] == "study").sum() == len(recording_studies())
    with pytest.raises(ParameterError, match="'year'"):
        recording_comparison(bands, year=1999)
    with pytest.raises(ParameterError, match="'bands'"):
        recording_comparison("bands")


# --------------------------------------------------------------------------- figures


def test_figures_draw_and_save(replicated, tmp_path):
    bands = world_bands(replicated)
    fig = plot_implied_world(bands, years=(2008, 2011))
    assert isinstance(fig, Figure) and len(fig.axes) >= 2
    path = save_figure(fig, "world", tmp_path, dpi=60)
    assert path.read_bytes()[:4] == b"\x89PNG"
    plt.close(fig)
    fig = plot_recording_comparison(recording_comparison(bands))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "one city in China, 1987 (all crimes)" in labels
    assert any(label.startswith("studies: police record") for label in labels)
    plt.close(fig)


def test_figures_refuse_bad_input(replicated):
    bands = world_bands(replicated)
    with pytest.raises(ParameterError, match="'bands'"):
        plot_implied_world(bands.drop(columns="low"))
    with pytest.raises(ParameterError, match="'years'"):
        plot_implied_world(bands, years=(2011, 2008))
    with pytest.raises(ParameterError, match="'years'"):
        plot_implied_world(bands, years=(1990, 1991))
    with pytest.raises(ParameterError, match="'comparison'"):
        plot_recording_comparison(bands)
