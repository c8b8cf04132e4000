"""The inverse problem: rating rule and audit strength for a published recording share."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tipresearch.errors import ParameterError
from tipresearch.model import ModelParams, audit_for_share, intake_curves
from tipresearch.model.analysis import threshold_curve

GRID = np.linspace(0.0, 0.5, 51)
RULES = ["solved_count", "clearance_rate", "clearance_target", "opened_count"]


@pytest.fixture(scope="module")
def curves():
    return intake_curves(ModelParams(), RULES, GRID)


def test_the_solver_recovers_the_audit_that_produced_a_share(curves) -> None:
    # a share the clearance-rate rule produces at an audit probability off the grid
    truth = 0.123
    row = threshold_curve(ModelParams(), "clearance_rate", "audit_prob", [truth])
    share = float(row.loc[row["case_type"] == "all", "intake_rate"].iloc[0])
    table = audit_for_share(curves, share, tolerance=0.005).set_index("metric")
    assert table.loc["clearance_rate", "audit_prob"] == pytest.approx(truth, abs=0.01)
    assert table.loc["clearance_rate", "fits"]
    assert (
        table.loc["clearance_rate", "audit_low"]
        <= truth
        <= table.loc["clearance_rate", "audit_high"]
    )
    # the rule rated on cases opened opens everything: it cannot produce a share below 1
    assert not table.loc["opened_count", "fits"]
    assert np.isnan(table.loc["opened_count", "audit_prob"])


def test_every_rule_that_fits_is_listed(curves) -> None:
    at_no_audit = curves[curves["audit_prob"] == 0].set_index("metric")["intake_rate"]
    share = float(at_no_audit["solved_count"])  # reached by solved_count without audits
    table = audit_for_share(curves, share, tolerance=0.01).set_index("metric")
    assert table.loc["solved_count", "fits"] and table.loc["solved_count", "audit_low"] == 0
    # the clearance-rate rule reaches the same share with some audits: both are listed
    assert table.loc["clearance_rate", "fits"]
    assert table.loc["clearance_rate", "audit_prob"] > 0


def test_a_rising_curve_with_a_rounding_step_down_is_still_read_as_rising() -> None:
    import pandas as pd

    q = np.array([0.0, 0.1, 0.2, 0.3, 0.4])
    y = np.array([0.50, 0.60, 0.95, 0.95 - 3e-16, 0.97])  # a plateau's last digits
    curves = pd.DataFrame({"metric": "r", "audit_prob": q, "intake_rate": y})
    row = audit_for_share(curves, 0.80, 0.01).iloc[0]
    # the band is interpolated on the jump between 0.1 and 0.2: no grid point is in it
    assert row["fits"]
    assert 0.1 < row["audit_low"] < row["audit_high"] < 0.2
    # a real fall is not rounding: then only grid points inside the band count
    falls = curves.assign(intake_rate=np.array([0.50, 0.60, 0.95, 0.90, 0.97]))
    assert not audit_for_share(falls, 0.80, 0.01).iloc[0]["fits"]


def test_bad_inputs_named(curves) -> None:
    with pytest.raises(ParameterError, match="share"):
        audit_for_share(curves, 1.5, 0.01)
    with pytest.raises(ParameterError, match="audit_probs"):
        intake_curves(ModelParams(), RULES, [0.2, 0.1])
    with pytest.raises(ParameterError, match="audit_probs"):
        intake_curves(ModelParams(), RULES, [0.0, 2.0])


def test_rounding_tolerance_follows_the_published_digits() -> None:
    from tipresearch.model import rounding_tolerance

    assert rounding_tolerance(0.81) == pytest.approx(0.005)
    assert rounding_tolerance(1 - 0.19) == pytest.approx(0.005)  # 0.81 again
    assert rounding_tolerance(0.326) == pytest.approx(0.0005)
    assert rounding_tolerance(0.7) == pytest.approx(0.005)  # published as 70%


def test_the_inverse_figure_marks_every_fitting_rule(curves) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from tipresearch.figures import plot_inverse

    solutions = pd.concat(
        [
            audit_for_share(curves, share, 0.005).assign(study=f"share {share}")
            for share in (0.7, 0.05)
        ],
        ignore_index=True,
    )
    fig = plot_inverse(curves, solutions)
    right = fig.axes[1]
    markers = [line for line in right.get_lines() if line.get_marker() == "o"]
    assert len(markers) == int(solutions["fits"].sum())
    assert any(t.get_text() == "no rule reaches it" for t in right.texts)  # 5% out of reach
    plt.close(fig)


def test_the_vectorised_curves_equal_the_best_response_point_by_point(curves) -> None:
    import pandas as pd

    params = ModelParams()
    for rule in RULES:
        looped = threshold_curve(params, rule, "audit_prob", GRID)
        looped = looped[looped["case_type"] == "all"]["intake_rate"].to_numpy()
        ours = curves[curves["metric"] == rule]["intake_rate"].to_numpy()
        np.testing.assert_allclose(ours, looped, rtol=0, atol=1e-12)
    # a per-type audit (a reform's children's audit) is overridden by the row's
    children = params.updated({"children.audit_prob": 0.9})
    one = intake_curves(children, ["clearance_rate"], [0.0, 0.1])
    assert isinstance(one, pd.DataFrame) and len(one) == 2


def test_recording_solutions_cover_every_recording_share_once_per_rule(curves) -> None:
    from tipresearch.reforms import funnel_table, recording_solutions

    funnel = funnel_table()
    recording = funnel[funnel["stage"] == "police_recording"]
    solutions = recording_solutions(curves, funnel)
    assert len(solutions) == len(recording) * len(RULES)
    assert solutions["study"].nunique() == len(recording)
    assert "England and Wales, all crimes, 2012-13 (81.0%)" in set(solutions["study"])
    with pytest.raises(ParameterError, match="funnel"):
        recording_solutions(curves, funnel[funnel["stage"] == "victim_reporting"])


def test_recording_reforms_read_the_standard_as_a_stronger_audit(curves) -> None:
    import pandas as pd

    from tipresearch.reforms import (
        NCRS_STUDIES,
        funnel_table,
        recording_reforms,
        recording_solutions,
    )

    solutions = recording_solutions(curves, funnel_table())
    oos = pd.read_csv(Path(__file__).resolve().parents[1] / "data" / "fit" / "out_of_sample.csv")
    table, audits = recording_reforms(solutions, oos)
    assert len(table) == 2 and audits.shape == (2,)
    assert 0 < audits[0] < audits[1]  # 36% then 52% recorded: the audit must rise
    assert "2,566 to 6,513" in table.loc[1, "published"]
    assert "36% to 52%" in table.loc[0, "published"]
    with pytest.raises(ParameterError, match="NCRS"):
        recording_reforms(solutions[~solutions["ids"].isin(NCRS_STUDIES)], oos)
