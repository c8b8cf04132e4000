"""ONS Table D10 (shares of CSEW incidents reported to the police), tidy and checked."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

from tipresearch.data import (
    MAIN_OFFENCES,
    REPORTING_FILE,
    REPORTING_SOURCE,
    build_reporting_table,
    load_reporting,
)
from tipresearch.errors import DataFileError


def _source() -> list[dict[str, str]]:
    with REPORTING_SOURCE.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_committed_table_is_the_one_the_source_builds(tmp_path: Path) -> None:
    rebuilt = build_reporting_table(out=tmp_path / "t.csv")
    assert rebuilt.read_text(encoding="utf-8") == REPORTING_FILE.read_text(encoding="utf-8")


def test_every_value_is_the_source_cell_exactly() -> None:
    table = load_reporting()
    source = _source()
    assert len(table) == len(source) == 1166
    with REPORTING_FILE.open(encoding="utf-8") as handle:
        tidy = list(csv.DictReader(handle))
    for row, cell in zip(tidy, source, strict=True):
        assert row["offence"] == cell["category"]
        assert row["survey_year_ending"] == cell["year_ending"][:7]
        assert row["value"] == ("" if cell["proportion"] == "NA" else cell["proportion"])


def test_hand_picked_cells() -> None:
    table = load_reporting().set_index("id")
    assert table.loc["ew_reported_violence_1981_12", "value"] == 0.23867369792293375
    all_crime = "ew_reported_all_csew_crime_excluding_fraud_and_computer_misuse_2019_03"
    assert table.loc[all_crime, "value"] == 0.37853325016121336
    assert np.isnan(table.loc["ew_reported_snatch_theft_from_person_2019_03", "value"])
    # the burglary sub-lines are told apart by their group
    dwelling = "ew_reported_domestic_burglary_in_a_dwelling_with_loss_2019_03"
    assert table.loc[dwelling, "value"] == 0.8188321084407716
    assert table.loc[dwelling, "parent"] == "domestic burglary in a dwelling"
    assert table.loc[dwelling, "survey_year"] == 2019


def test_main_offences_cover_every_survey_year() -> None:
    table = load_reporting()
    main = table[table["offence"].isin(MAIN_OFFENCES)]
    assert set(main["offence"]) == set(MAIN_OFFENCES)
    assert main.groupby("offence").size().eq(22).all()  # every survey year has a row
    gaps = main[main["value"].isna()]
    # the source gives no robbery figure for the 1981 and 1991 surveys; nothing is filled
    assert sorted(zip(gaps["offence"], gaps["survey_year"], strict=True)) == [
        ("robbery", 1981),
        ("robbery", 1991),
    ]
    assert main["value"].dropna().between(0, 1).all()


@pytest.mark.parametrize(
    ("change", "column"),
    [
        (lambda rows: rows[3].__setitem__(4, "1.5"), "value"),
        (lambda rows: rows[3].__setitem__(3, "2019-13"), "survey_year_ending"),
        (lambda rows: rows[3].__setitem__(9, "rumour"), "confidence"),
        (lambda rows: rows.__setitem__(4, list(rows[3])), "id"),
    ],
    ids=["share above 1", "bad month", "unknown confidence", "duplicate row"],
)
def test_a_malformed_table_is_named_by_file_row_and_column(tmp_path, change, column) -> None:
    with REPORTING_FILE.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    change(rows)
    bad = tmp_path / "reported.csv"
    with bad.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    with pytest.raises(DataFileError) as info:
        load_reporting(bad)
    message = str(info.value)
    assert "reported.csv" in message and column in message and "3" in message


def test_a_source_with_other_columns_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "d10.csv"
    shutil.copy(REPORTING_SOURCE, bad)
    bad.write_text(bad.read_text().replace("proportion", "percent", 1))
    with pytest.raises(DataFileError, match="category, year_ending, proportion"):
        build_reporting_table(bad, tmp_path / "out.csv")


def test_the_redrawn_series_plots_the_published_values_and_no_others() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tipresearch.figures import plot_reporting_series

    table = load_reporting()
    fig = plot_reporting_series(table)
    lines = fig.axes[0].get_lines()
    drawn = {line.get_label(): line for line in lines if not line.get_label().startswith("_")}
    assert len(drawn) == len(MAIN_OFFENCES)
    violence = drawn["violence"].get_ydata()
    published = table[table["offence"] == "violence"].sort_values("survey_year_ending")
    points = [v for v in violence if v == v]  # the gaps between surveys are NaN
    assert points == published["value"].tolist()
    with pytest.raises(Exception, match="offences"):
        plot_reporting_series(table, ["shoplifting"])
    plt.close(fig)


def test_the_funnel_multiplies_the_matching_published_stages() -> None:
    import pandas as pd

    from tipresearch.reforms import funnel_table

    funnel = funnel_table().set_index(["place", "crime", "stage", "years"]).sort_index()["share"]
    reported = load_reporting().set_index("id")["value"]
    all_2014 = reported["ew_reported_all_csew_crime_excluding_fraud_and_computer_misuse_2014_03"]
    # HMIC 2014: 19% of crimes reported to the police not recorded (Nov 2012 to Oct 2013,
    # mostly inside the survey year ending March 2014)
    both = funnel.xs(("England and Wales", "all crimes", "both_stages"))
    assert both.iloc[-1] == pytest.approx(all_2014 * (1 - 0.19), abs=1e-12)
    violence = funnel.xs(("England and Wales", "violence", "both_stages"))
    assert sorted(violence.round(6)) == sorted(
        [
            round(reported["ew_reported_violence_2014_03"] * (1 - 0.33), 6),
            round(reported["ew_reported_violence_2003_03"] * 0.52, 6),
        ]
    )
    china = funnel.xs(("China", "all crimes", "both_stages"))
    assert china.iloc[0] == pytest.approx(4.718e6 / 25.48e6)
    # sexual offences have no reporting share in Table D10: recording stage only
    sexual = funnel.xs(("England and Wales", "sexual offences"), level=["place", "crime"])
    assert set(sexual.index.get_level_values("stage")) == {"police_recording"}
    assert pd.Series(funnel).between(0, 1).all()


def test_the_survey_year_that_overlaps_a_study_most() -> None:
    import pandas as pd

    from tipresearch.reforms import survey_year_for

    ends = pd.Series(pd.to_datetime(["2013-03-31", "2014-03-31", "1997-12-31"]))
    pick = survey_year_for(pd.Timestamp("2012-11-01"), pd.Timestamp("2013-10-31"), ends)
    assert pick == pd.Timestamp("2014-03-31")  # 7 months against 5
    assert survey_year_for(pd.Timestamp("1999-01-01"), pd.Timestamp("1999-12-31"), ends) is None


def test_the_funnel_figure_draws_every_row_once() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tipresearch.figures import plot_funnel
    from tipresearch.reforms import funnel_table

    funnel = funnel_table()
    fig = plot_funnel(funnel)
    widths = sorted(round(p.get_width(), 9) for p in fig.axes[0].patches if p.get_height() > 0.5)
    assert widths == sorted(funnel["share"].round(9))
    plt.close(fig)


def test_classification_figures_stay_out_of_the_funnel_and_are_converted_by_hand() -> None:
    import pandas as pd

    from tipresearch.errors import ParameterError
    from tipresearch.reforms import classification_table, funnel_table

    funnel = funnel_table()
    assert not funnel["place"].isin(["Los Angeles", "New York City"]).any()
    table = classification_table().set_index("ids")
    assert len(table) == 3
    la = table.loc["la_serious_assault_undercount_2015"]
    # 16% more serious assaults than counted: 1 / 1.16 counted, 1 / 1.165 to 1 / 1.155
    assert la["share_counted"] == pytest.approx(1 / 1.16)
    assert (la["share_counted_low"], la["share_counted_high"]) == pytest.approx(
        (1 / 1.165, 1 / 1.155)
    )
    assert la["years"] == "2005-2012"
    assert "more than 25,000" in table.loc["la_ig_audit_2015", "published"]
    assert np.isnan(table.loc["nyc_observed_manipulation_2012", "share_counted"])
    with pytest.raises(ParameterError, match="recording"):
        classification_table(pd.DataFrame({"id": ["x"]}))


def _solutions(rows):
    import pandas as pd

    return pd.DataFrame(rows, columns=["ids", "metric", "fits", "audit_low", "audit_high"]).assign(
        audit_prob=lambda f: (f["audit_low"] + f["audit_high"]) / 2
    )


def test_reform_paths_name_what_changes() -> None:
    from tipresearch.errors import ParameterError
    from tipresearch.reforms import reform_paths

    solutions = _solutions(
        [
            ("before", "a", True, 0.10, 0.12),
            ("before", "b", True, 0.30, 0.32),
            ("before", "c", False, np.nan, np.nan),
            ("after", "a", True, 0.20, 0.22),
            ("after", "b", True, 0.11, 0.13),
            ("after", "c", True, 0.00, 0.05),
        ]
    )
    paths = reform_paths(solutions, "before", "after").set_index(["rule_before", "rule_after"])
    assert len(paths) == 6  # two rules fit before, three after; c does not fit before
    assert paths.loc[("a", "a"), "change"] == "stronger audit"
    assert paths.loc[("a", "b"), "change"] == "new rating alone"  # 0.10-0.12 meets 0.11-0.13
    assert paths.loc[("a", "c"), "change"] == "new rating and audit"
    assert paths.loc[("b", "b"), "change"] == "weaker audit"
    assert paths.loc[("b", "a"), "change"] == "new rating and audit"
    with pytest.raises(ParameterError, match="after"):
        reform_paths(solutions, "before", "nowhere")


def test_reform_paths_recover_an_audit_that_a_known_regime_needed() -> None:
    import pandas as pd

    from tipresearch.model import ModelParams, audit_for_share, intake_curves
    from tipresearch.reforms import reform_paths

    curves = intake_curves(ModelParams(), ["clearance_rate"], np.linspace(0, 0.5, 101))
    curve = curves.set_index("audit_prob")["intake_rate"]
    shares = [round(float(curve.loc[q]), 3) for q in (0.05, 0.2)]
    solutions = pd.concat(
        [
            audit_for_share(curves, shares[0], 0.0005).assign(ids="1999"),
            audit_for_share(curves, shares[1], 0.0005).assign(ids="2002"),
        ],
        ignore_index=True,
    )
    path = reform_paths(solutions, "1999", "2002").iloc[0]
    assert path["change"] == "stronger audit"
    assert path["audit_before_low"] <= 0.05 + 1e-9 and path["audit_before_high"] >= 0.05 - 1e-9
    assert path["audit_after_low"] <= 0.2 + 1e-9 and path["audit_after_high"] >= 0.2 - 1e-9
