"""Tests of the notebook 02 figures (tipresearch.figures.intake)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from tipresearch import figures  # noqa: E402
from tipresearch.errors import ParameterError  # noqa: E402
from tipresearch.model import (  # noqa: E402
    ALL_TYPES,
    PLANNER,  # noqa: E402
    ModelParams,  # noqa: E402
    frontier,
    metric_table,
    threshold_curve,
)

PARAMS = ModelParams(n_bureaus=3)
TYPES = list(PARAMS.type_names)
METRICS = ["solved_count", "opened_count"]  # metric_table adds the planner


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    # every figure a test drew has its text where a reader can read it
    problems = {n: figures.text_problems(plt.figure(n)) for n in plt.get_fignums()}
    plt.close("all")
    assert not any(problems.values()), problems


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return metric_table(PARAMS, METRICS)


def _data_lines(ax: plt.Axes) -> list:
    """Lines that draw data (legend handles some seaborn versions add are empty)."""
    return [line for line in ax.lines if len(line.get_xdata())]


def _assert_visible_labels_have_units(fig: Figure) -> None:
    """Every visible axis label names a unit in parentheses; each row and column is labelled."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            text = axis.label.get_text()
            if axis.label.get_visible() and text:  # inner panels of shared axes have none
                assert "(" in text and text.endswith(")"), text
    rows = fig.axes[0].get_subplotspec().get_gridspec().get_geometry()[0]
    bottom = fig.axes[-len(fig.axes) // rows :]
    left = fig.axes[:: len(fig.axes) // rows]
    assert all(ax.xaxis.label.get_visible() and ax.get_xlabel() for ax in bottom)
    assert all(ax.yaxis.label.get_visible() and ax.get_ylabel() for ax in left)


def total_index(table):
    return list(table[table["case_type"] == ALL_TYPES]["metric"])


def test_metric_outcomes_bars_per_metric_and_type(table):
    fig = figures.plot_metric_outcomes(table)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3
    n_metrics = table["metric"].nunique()
    assert n_metrics == 3
    for ax in fig.axes[:2]:  # one container per case type, one bar per metric
        assert [len(c) for c in ax.containers] == [n_metrics] * len(TYPES)
    # rescued now and later, one bar per metric each
    assert [len(c) for c in fig.axes[2].containers] == [n_metrics, n_metrics]
    for ax in fig.axes:
        assert ax.get_xlabel() == "rating rule"
        assert ax.get_ylabel().endswith(")") and "(" in ax.get_ylabel()
        # rules in plain words, not code names
        ticks = [t.get_text() for t in ax.get_xticklabels()]
        assert ticks == [figures.metric_label(m).replace(" ", "\n") for m in total_index(table)]
    assert fig.axes[2].get_ylabel() == "victims rescued (persons per 100 reports)"
    assert fig.get_suptitle() == "Expected outcomes of each rating rule"
    # the stacked bars reach rescues now + later per 100 reports
    total = table[table["case_type"] == ALL_TYPES].set_index("metric")
    tops = [b.get_y() + b.get_height() for b in fig.axes[2].containers[1]]
    expected = (100 * total["victims_total"] / total["reports"]).to_numpy()
    assert tops == pytest.approx(expected)


def test_metric_outcomes_needs_all_types_rows(table):
    with pytest.raises(ParameterError, match="table"):
        figures.plot_metric_outcomes(table[table["case_type"] != ALL_TYPES])
    with pytest.raises(ParameterError, match="victims_later"):
        figures.plot_metric_outcomes(table.drop(columns="victims_later"))


def test_frontier_lines_and_markers(table):
    front = frontier(PARAMS, thresholds=[0.0, 0.25, 0.5, 0.75, 1.0])
    chosen = table[table["case_type"] != ALL_TYPES]
    fig = figures.plot_intake_clearance_frontier(front, chosen, TYPES)
    assert len(fig.axes) == 2 * len(TYPES)
    axes = fig.axes
    n_chosen = chosen["metric"].nunique()
    for j, k in enumerate(TYPES):
        top, bottom = axes[j], axes[len(TYPES) + j]
        assert top.get_title() == k
        # top: the frontier and one marker per metric; bottom: two curves and the markers
        assert len(_data_lines(top)) == 1 + n_chosen
        assert len(_data_lines(bottom)) == 2 + n_chosen
        assert len(_data_lines(top)[0].get_xdata()) == 5
    star = [
        ln for ln in _data_lines(axes[0]) if ln.get_label() == figures.metric_label(PLANNER.name)
    ]
    assert len(star) == 1 and star[0].get_marker() == "*" and star[0].get_markersize() == 14
    assert axes[len(TYPES)].get_xlabel() == "intake rate (share of reports opened)"
    _assert_visible_labels_have_units(fig)


def test_frontier_rejects_unknown_metric_and_case_type(table):
    front = frontier(PARAMS, thresholds=[0.0, 1.0])
    chosen = table[table["case_type"] != ALL_TYPES].astype({"metric": str})
    odd = chosen.assign(metric="no_such_metric")
    with pytest.raises(ParameterError, match="chosen"):
        figures.plot_intake_clearance_frontier(front, odd, TYPES)
    with pytest.raises(ParameterError, match="case_types"):
        figures.plot_intake_clearance_frontier(front, chosen, ["adults"])
    with pytest.raises(ParameterError, match="front"):
        figures.plot_intake_clearance_frontier(front.to_dict(), chosen, TYPES)


def test_capacity_one_line_per_metric():
    metrics = ["solved_count", "clearance_rate", PLANNER.name]
    values = [0.1, 0.4, 1.6]
    cap = pd.concat(
        [threshold_curve(PARAMS, m, "capacity_ratio", values) for m in metrics],
        ignore_index=True,
    )
    fig = figures.plot_capacity(cap, TYPES)
    assert len(fig.axes) == 2 * len(TYPES)
    for ax in fig.axes:
        lines = _data_lines(ax)
        assert len(lines) == len(metrics)
        assert all(len(line.get_xdata()) == len(values) for line in lines)
        assert ax.get_xscale() == "log"
    assert fig.axes[0].get_ylabel() == "intake rate (share of reports opened)"
    assert fig.axes[-1].get_xlabel() == "capacity (effort units per month per expected report)"
    _assert_visible_labels_have_units(fig)
    with pytest.raises(ParameterError, match="cap"):
        figures.plot_capacity(cap.iloc[0:0], TYPES)


def test_audits_one_line_per_penalty():
    metrics, penalties = ["solved_count", "clearance_target"], [0.5, 2.0]
    audit = pd.concat(
        [
            threshold_curve(
                PARAMS.updated(audit_penalty=pen), m, "audit_prob", [0.0, 0.1, 0.3]
            ).assign(penalty=pen)
            for m in metrics
            for pen in penalties
        ],
        ignore_index=True,
    )
    fig = figures.plot_audits(audit, metrics, TYPES)
    assert len(fig.axes) == len(metrics) * len(TYPES)
    for ax in fig.axes:
        assert len(_data_lines(ax)) == len(penalties)
        assert ax.get_xlabel() == "audit probability (chance a declined report is found)"
        assert ax.get_ylabel() == "intake rate (share opened)"
    assert fig.axes[1].get_title() == f"rated on cases solved, {TYPES[1]}"
    _assert_visible_labels_have_units(fig)
    with pytest.raises(ParameterError, match="metrics"):
        figures.plot_audits(audit, ["balanced"], TYPES)
    with pytest.raises(ParameterError, match="penalty"):
        figures.plot_audits(audit.drop(columns="penalty"), metrics, TYPES)
