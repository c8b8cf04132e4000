"""Reforms on the calendar: windows, composition order, YAML files, the China timeline."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tipresearch.data import load_reform_timeline
from tipresearch.errors import ParameterError
from tipresearch.model import Dynamics, Metric, ModelParams
from tipresearch.reforms import (
    REFORM_IDS,
    ChinaReforms,
    Reform,
    Timeline,
    as_month,
    china_timeline,
    load_reforms,
    reforms_from_dict,
    simulate_timeline,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "experiments" / "reforms" / "provincial_dna_drive.yaml"
PARAMS = ModelParams(n_bureaus=30, reports_mean=40.0)
METRIC = Metric("rating", solved=1.0, rate=0.5, quota=0.02, quota_penalty=5.0)


def months(first: str, last: str) -> pd.PeriodIndex:
    return pd.period_range(first, last, freq="M")


# --------------------------------------------------------------------------- windows


def test_reform_is_active_exactly_in_its_window():
    r = Reform("campaign", "2009-04", "2009-12", params={"audit_prob": 0.3})
    for m in months("2008-01", "2011-12"):
        inside = pd.Period("2009-04", "M") <= m <= pd.Period("2009-12", "M")
        assert r.active(m) is inside, m
        assert r.weight(m) == (1.0 if inside else 0.0), m
    open_ended = Reform("rule", "2009-04-09", params={"children.audit_prob": 0.9})
    assert not open_ended.active("2009-03")
    assert open_ended.active("2009-04") and open_ended.active("2030-01")


def test_persist_keeps_a_share_after_the_end_only():
    r = Reform("campaign", "2009-04", "2009-12", params={"audit_prob": 0.45}, persist=0.4)
    assert r.weight("2009-03") == 0.0
    assert r.weight("2009-12") == 1.0
    assert r.weight("2010-01") == pytest.approx(0.4)
    tl = Timeline([r])
    p, _ = tl.resolve(PARAMS, METRIC, "2010-06")
    base = PARAMS.audit_prob
    assert p.audit_prob == pytest.approx(base + 0.4 * (0.45 - base))
    assert tl.resolve(PARAMS, METRIC, "2009-03")[0] == PARAMS


def test_dates_become_months():
    assert as_month("2009-04-09") == pd.Period("2009-04", "M")
    assert as_month("2008") == pd.Period("2008-01", "M")
    assert as_month(2015) == pd.Period("2015-01", "M")
    with pytest.raises(ParameterError, match="start"):
        Reform("bad", "April 2009", params={"audit_prob": 0.3})
    with pytest.raises(ParameterError, match="end"):
        Reform("bad", "2009-04", "2009-01", params={"audit_prob": 0.3})


def test_simulated_calendar_uses_a_reform_exactly_in_its_window():
    reform = Reform("audit_drive", "2008-04", "2008-06", params={"audit_prob": 0.9})
    frame = simulate_timeline(
        Timeline([reform]), PARAMS, METRIC, start="2008-01", end="2008-09", seed=3
    )
    per_month = frame.groupby("month").agg(metric=("metric", "first"), tau=("threshold", "mean"))
    inside = (per_month.index >= "2008-04-01") & (per_month.index <= "2008-06-01")
    assert (per_month.metric[inside] == "rating + audit_drive").all()
    assert (per_month.metric[~inside] == "rating").all()
    # a strong audit lowers the intake threshold in the window and only there
    assert per_month.tau[inside].max() < per_month.tau[~inside].min()


# --------------------------------------------------------------------------- composition


def test_composed_reforms_apply_by_priority_then_start_then_list_order():
    set_half = Reform("set_half", "2009-01", params={"audit_prob": 0.5})
    halve = Reform("halve", "2009-03", params={"audit_prob": {"times": 0.5}})
    # by start month: set 0.5 (January) then halve (March) -> 0.25
    tl = Timeline([halve, set_half])
    assert [r.name for r in tl.ordered()] == ["set_half", "halve"]
    assert tl.resolve(PARAMS, METRIC, "2009-06")[0].audit_prob == pytest.approx(0.25)
    assert tl.resolve(PARAMS, METRIC, "2009-02")[0].audit_prob == pytest.approx(0.5)
    # priority first: halve the model-wide value, then set 0.5 -> 0.5
    tl = Timeline([halve.replace(priority=-1), set_half])
    assert tl.resolve(PARAMS, METRIC, "2009-06")[0].audit_prob == pytest.approx(0.5)
    # same start and priority: list order decides
    a = Reform("a", "2009-01", params={"audit_penalty": {"plus": 1.0}})
    b = Reform("b", "2009-01", params={"audit_penalty": {"times": 3.0}})
    base = PARAMS.audit_penalty
    assert Timeline([a, b]).resolve(PARAMS, METRIC, "2009-01")[0].audit_penalty == pytest.approx(
        (base + 1.0) * 3.0
    )
    assert Timeline([b, a]).resolve(PARAMS, METRIC, "2009-01")[0].audit_penalty == pytest.approx(
        base * 3.0 + 1.0
    )


def test_metric_changes_and_bounds_compose():
    tl = Timeline(
        [
            Reform("campaign", "2009-04", "2009-12", metric={"solved": {"times": 2.0}}),
            Reform("floor", "2009-04", params={"audit_prob": {"at_least": 0.3}}),
            Reform("abolish", "2015-11", metric={"rate": 0.0, "quota": 0.0}),
        ]
    )
    p, m = tl.resolve(PARAMS, METRIC, "2009-05")
    assert m.solved == 2.0 and m.rate == 0.5 and p.audit_prob == 0.3
    assert m.name == "rating + campaign + floor"
    p, m = tl.resolve(PARAMS, METRIC, "2016-01")
    assert m.solved == 1.0 and m.rate == 0.0 and m.quota == 0.0
    strict = PARAMS.updated(audit_prob=0.6)
    assert tl.resolve(strict, METRIC, "2009-05")[0].audit_prob == 0.6


def test_type_scoped_changes():
    rule = Reform("rule", "2009-04", params={"children.audit_prob": 0.9})
    p, _ = Timeline([rule]).resolve(PARAMS, METRIC, "2009-05")
    assert p.audit(p.case_type("children")) == (0.9, PARAMS.audit_penalty)
    assert p.audit(p.case_type("women")) == (PARAMS.audit_prob, PARAMS.audit_penalty)
    # a per-type audit left unset starts from the model-wide value
    more = Reform("more", "2009-04", params={"women.audit_prob": {"times": 2.0}})
    p, _ = Timeline([more]).resolve(PARAMS, METRIC, "2009-05")
    assert p.case_type("women").audit_prob == pytest.approx(2 * PARAMS.audit_prob)
    # a metric weight for one type needs a split run
    scoped = Timeline([Reform("kids_first", "2008-03", metric={"children.solved": 3.0})])
    assert scoped.needs_split()
    with pytest.raises(ParameterError, match="one case type"):
        scoped.resolve(PARAMS, METRIC, "2008-04")
    frame = simulate_timeline(scoped, PARAMS, METRIC, start="2008-01", end="2008-05", seed=1)
    tau = frame.groupby(["month", "case_type"], observed=True).threshold.mean().unstack()
    assert tau.loc["2008-05-01", "children"] < tau.loc["2008-02-01", "children"]
    assert tau.loc["2008-05-01", "women"] == pytest.approx(tau.loc["2008-02-01", "women"])


def test_same_seed_gives_common_report_draws_across_timelines():
    dyn = Dynamics(adjust_rate=0.5)
    a = simulate_timeline(Timeline(), PARAMS, METRIC, start="2008-01", end="2008-12", seed=5)
    tl = Timeline([Reform("drive", "2008-06", params={"audit_prob": 0.8})])
    b = simulate_timeline(tl, PARAMS, METRIC, start="2008-01", end="2008-12", seed=5, dynamics=dyn)
    c = simulate_timeline(tl, PARAMS, METRIC, start="2008-01", end="2008-12", seed=5, dynamics=dyn)
    assert a.reports.equals(b.reports)
    pd.testing.assert_frame_equal(b, c)
    assert b.opened.sum() > a.opened.sum()


def test_bad_reforms_name_the_field():
    with pytest.raises(ParameterError, match="n_bureaus"):
        Reform("x", "2009-01", params={"n_bureaus": 10})
    with pytest.raises(ParameterError, match="audit_prop"):
        Reform("x", "2009-01", params={"audit_prop": 0.5})
    with pytest.raises(ParameterError, match=r"audit_prob\.twice"):
        Reform("x", "2009-01", params={"audit_prob": {"twice": 2}})
    with pytest.raises(ParameterError, match="persist"):
        Reform("x", "2009-01", params={"audit_prob": 0.5}, persist=0.5)
    with pytest.raises(ParameterError, match="metric.bonsu"):
        Reform("x", "2009-01", metric={"bonsu": 1.0})
    tl = Timeline([Reform("x", "2009-01", params={"elders.dna_effect": 0.1})])
    with pytest.raises(ParameterError, match="elders"):
        tl.resolve(PARAMS, METRIC, "2009-02")
    # a change that leaves a parameter out of range names it and the reforms in effect
    tl = Timeline([Reform("x", "2009-01", params={"audit_prob": {"times": 5.0}})])
    with pytest.raises(ParameterError, match=r"audit_prob in 2009-02 \(reforms in effect: x\)"):
        tl.resolve(PARAMS.updated(audit_prob=0.5), METRIC, "2009-02")
    with pytest.raises(ParameterError, match="distinct names"):
        Timeline([Reform("x", "2009-01", params={"audit_prob": 0.5})] * 2)


# --------------------------------------------------------------------------- YAML


def test_example_reform_file_loads_and_runs():
    reforms = load_reforms(EXAMPLE)
    assert [r.name for r in reforms] == ["provincial_dna_drive", "solved_count_bonus"]
    drive = reforms[0]
    assert drive.start == pd.Period("2012-03", "M") and drive.end == pd.Period("2013-02", "M")
    assert drive.params["children.backlog_hazard"] == {"times": 2.0}
    tl = Timeline(reforms)
    p, m = tl.resolve(PARAMS, METRIC, "2012-06")
    assert p.case_type("children").dna_effect == pytest.approx(0.1)
    assert m.solved == pytest.approx(1.5)
    frame = simulate_timeline(tl, PARAMS, METRIC, start="2012-01", end="2013-06", seed=2)
    assert frame.month.min() == pd.Timestamp("2012-01-01")
    assert frame.month.max() == pd.Timestamp("2013-06-01")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("reforms:\n  - name: a\n    strat: 2009-01\n    params: {audit_prob: 0.5}\n", "strat"),
        ("reforms:\n  - name: a\n    params: {audit_prob: 0.5}\n", r"reforms\[0\]\.start"),
        ("reforms:\n  - start: 2009-01\n    params: {audit_prob: 0.5}\n", r"reforms\[0\]\.name"),
        ("reforms:\n  - name: a\n    start: 2009-13\n    params: {audit_prob: 0.5}\n", "start"),
        ("reforms:\n  - name: a\n    start: 2009-01\n    params: {audit_prb: 0.5}\n", "audit_prb"),
        (
            "reforms:\n  - name: a\n    start: 2009-01\n    params: {audit_prob: {tims: 2}}\n",
            r"audit_prob\.tims",
        ),
        ("reforms:\n  - name: a\n    start: 2009-01\n    metric: {solvd: 2}\n", "solvd"),
        ("reforms:\n  - name: a\n    start: 2009-01\n", r"reforms\[0\]\.params"),
        (
            "reforms:\n  - name: a\n    start: 2009-01\n    params: {audit_prob: 0.5}\n"
            "    persist: 2\n",
            r"reforms\[0\]\.persist",
        ),
        ("reform:\n  - name: a\n", "top level"),
        ("reforms: []\n", "reforms"),
        ("reforms:\n  - name: a\n   start: 2009\n", "YAML error at line"),
    ],
)
def test_malformed_reform_file_names_the_key(tmp_path, text, key):
    path = tmp_path / "mine.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ParameterError, match=key) as info:
        load_reforms(path)
    assert "mine.yaml" in str(info.value)


def test_reforms_from_dict_accepts_dates_read_by_yaml():
    import datetime

    (r,) = reforms_from_dict(
        {
            "reforms": [
                {"name": "a", "start": datetime.date(2009, 4, 9), "params": {"audit_prob": 1}}
            ]
        }
    )
    assert r.start == pd.Period("2009-04", "M")


# --------------------------------------------------------------------------- China


def test_china_timeline_takes_its_dates_from_the_data():
    dates = load_reform_timeline().set_index("id")
    tl = china_timeline()
    assert tl.names == REFORM_IDS
    for rid in REFORM_IDS:
        assert tl[rid].start == as_month(dates.loc[rid, "date_start"]), rid
    assert tl["special_campaign_2009"].end == pd.Period("2009-12", "M")
    assert tl["indicator_abolished"].start == pd.Period("2015-11", "M")
    assert tl.active("2009-03") == ["indicator_2008"]
    assert tl.active("2009-04") == [
        "indicator_2008",
        "missing_child_filing_rule",
        "dna_database",
        "special_campaign_2009",
    ]
    assert "special_campaign_2009" not in tl.active("2010-01")
    # the campaign's audit floor does not lower the stricter audit of mandatory intake
    from tipresearch.reforms import BASE_METRIC, china_params

    p, m = tl.resolve(china_params(), BASE_METRIC, "2009-05")
    assert p.audit(p.case_type("children"))[0] == ChinaReforms().mandatory_audit_prob
    assert p.audit_prob == ChinaReforms().campaign_audit_prob
    assert m.solved == ChinaReforms().campaign_solved_times * BASE_METRIC.solved
    p, m = tl.resolve(china_params(), BASE_METRIC, "2016-01")
    assert m.rate == 0.0 and m.quota == 0.0
    assert np.isclose(
        p.audit_prob,
        china_params().audit_prob
        + ChinaReforms().campaign_persist
        * (ChinaReforms().campaign_audit_prob - china_params().audit_prob),
    )


def test_abolition_can_remove_the_weight_on_solved_cases_too():
    from tipresearch.reforms import BASE_METRIC, china_params

    kept = china_timeline()
    removed = china_timeline(ChinaReforms(abolition_solved_times=0.0))
    _, m_kept = kept.resolve(china_params(), BASE_METRIC, "2016-01")
    _, m_removed = removed.resolve(china_params(), BASE_METRIC, "2016-01")
    assert m_kept.solved > 0 and m_removed.solved == 0.0
    # before the abolition the two calendars are the same
    for month in ("2008-06", "2009-05", "2015-10"):
        assert kept.resolve(china_params(), BASE_METRIC, month) == removed.resolve(
            china_params(), BASE_METRIC, month
        )
    with pytest.raises(ParameterError, match="abolition_solved_times"):
        ChinaReforms(abolition_solved_times=-1)


def test_recall_switch_off_leaves_the_calendar_and_outputs_unchanged():
    from tipresearch.reforms import BASE_METRIC, ChinaModel, china_params

    assert ChinaReforms(recall_prob=0.0) == ChinaReforms()
    off = china_timeline(ChinaReforms(recall_prob=0.0))
    assert off.names == REFORM_IDS and "campaign_recall_2009" not in off.names
    for month in ("2008-06", "2009-05", "2010-01"):
        p, m = off.resolve(china_params(), BASE_METRIC, month)
        assert (p, m) == china_timeline().resolve(china_params(), BASE_METRIC, month)
        assert all(ct.recall_prob == 0.0 for ct in p.case_types)
    small = dataclasses.replace(ChinaModel(), end="2010-06").updated({"settings.n_bureaus": 10})
    zero = small.updated({"reforms.recall_prob": 0.0})
    for seed in (0, 1):
        a, b = small.simulate(seed=seed), zero.simulate(seed=seed)
        pd.testing.assert_frame_equal(a, b)
        assert (a.recalled == 0).all()


def test_recall_in_2009_raises_childrens_registered_and_solved_only():
    from tipresearch.reforms import BASE_METRIC, ChinaModel, annual_counts, china_params

    tl = china_timeline(ChinaReforms(recall_prob=0.1))
    assert tl["campaign_recall_2009"].start == tl["special_campaign_2009"].start
    assert tl["campaign_recall_2009"].end == tl["special_campaign_2009"].end
    for month, r in (("2009-03", 0.0), ("2009-04", 0.1), ("2009-12", 0.1), ("2010-01", 0.0)):
        p, _ = tl.resolve(china_params(), BASE_METRIC, month)
        assert p.case_type("children").recall_prob == r, month
        assert p.case_type("women").recall_prob == 0.0, month
    small = dataclasses.replace(ChinaModel(), end="2010-12").updated({"settings.n_bureaus": 20})
    on = small.updated({"reforms.recall_prob": 0.1})
    for seed in (0, 1):
        f_off, f_on = small.simulate(seed=seed), on.simulate(seed=seed)
        early = f_off.month.dt.year <= 2008
        # the metric's name lists the reforms in effect (categories over the whole run)
        pd.testing.assert_frame_equal(
            f_on[early].astype({"metric": str}), f_off[early].astype({"metric": str})
        )
        a_off = annual_counts(f_off).set_index(["year", "case_type"])
        a_on = annual_counts(f_on).set_index(["year", "case_type"])
        for col in ("registered", "solved"):
            assert a_on.loc[(2009, "children"), col] > a_off.loc[(2009, "children"), col]
            assert a_on.loc[(2009, "women"), col] == a_off.loc[(2009, "women"), col]
            for year in (2007, 2008, 2010):
                assert a_on.loc[(year, "all"), col] == a_off.loc[(year, "all"), col]
        # the recalled reports are what is added, registered and solved at once
        gain = a_on["registered"] - a_off["registered"]
        pd.testing.assert_series_equal(gain, a_on["recalled"], check_names=False)
        pd.testing.assert_series_equal(
            a_on["solved"] - a_off["solved"], a_on["recalled"], check_names=False
        )
        # and only in the campaign's months
        months = f_on[f_on.recalled > 0].month
        assert months.min() >= pd.Timestamp("2009-04-01")
        assert months.max() <= pd.Timestamp("2009-12-01")


@pytest.mark.parametrize("value", [-0.1, 1.5, "high"])
def test_recall_probability_out_of_range_is_refused_by_name(value):
    from tipresearch.model import CaseType

    with pytest.raises(ParameterError, match=r"reforms\.recall_prob") as info:
        ChinaReforms(recall_prob=value)
    assert info.value.name == "reforms.recall_prob"
    with pytest.raises(ParameterError, match=r"children\.recall_prob") as info:
        CaseType("children", 1.0, 3.0, recall_prob=value)
    assert info.value.name == "children.recall_prob"


def test_counterfactual_calendars_change_one_reform_each():
    from tipresearch.reforms import COUNTERFACTUALS, ChinaModel, counterfactual_timelines

    model = ChinaModel()
    cf = counterfactual_timelines(model)
    assert tuple(cf) == COUNTERFACTUALS
    fitted = cf["as fitted"]
    assert "missing_child_filing_rule" not in cf["no mandatory intake"].names
    assert "dna_database" not in cf["no DNA database"].names
    assert cf["campaign not institutionalised"]["special_campaign_2009"].persist == 0.0
    assert fitted["special_campaign_2009"].persist == model.reforms.campaign_persist
    early = cf["indicators abolished in 2009"]["indicator_abolished"]
    assert early.start == pd.Period("2009-04", "M")
    for name, tl in cf.items():
        changed = {r.name for r in tl} ^ {r.name for r in fitted} | {
            r.name for r in tl if r.name in fitted.names and r != fitted[r.name]
        }
        assert len(changed) == (0 if name == "as fitted" else 1), name


def test_replications_share_draws_and_sum_to_years():
    import dataclasses

    from tipresearch.figures import (
        differences,
        plot_counterfactuals,
        plot_fit_series,
        plot_monthly_path,
    )
    from tipresearch.reforms import ChinaModel, counterfactual_timelines, replicate, to_annual

    model = dataclasses.replace(
        ChinaModel(), end="2010-12", dynamics=Dynamics(adjust_rate=0.2)
    ).updated({"settings.n_bureaus": 20})
    scenarios = counterfactual_timelines(model)
    monthly = replicate(model, [1, 2], scenarios, monthly=True)
    annual = to_annual(monthly)
    assert set(annual.scenario) == set(scenarios) and set(annual.seed) == {1, 2}
    one = monthly[(monthly.scenario == "as fitted") & (monthly.seed == 1)]
    yearly = annual[(annual.scenario == "as fitted") & (annual.seed == 1)].set_index(
        ["year", "case_type"]
    )
    assert (
        yearly.loc[(2009, "all"), "registered"]
        == one[(one.month.dt.year == 2009) & (one.case_type == "all")].registered.sum()
    )
    # without deterrence the scenarios share every report draw of a seed
    reports = monthly.pivot_table(
        index=["seed", "month", "case_type"], columns="scenario", values="reports", observed=True
    )
    assert (reports.nunique(axis=1) == 1).all()
    diff = differences(annual, (2009, 2010))
    mandatory = diff[
        (diff.scenario == "no mandatory intake")
        & (diff.case_type == "children")
        & (diff.measure == "registered")
    ].iloc[0]
    assert mandatory["mean"] < 0
    import matplotlib.pyplot as plt

    from tipresearch.data import load_published

    for fig in (
        plot_fit_series(
            annual[annual.scenario == "as fitted"], load_published(), scenarios["as fitted"]
        ),
        plot_counterfactuals(annual, scenarios["as fitted"]),
        plot_monthly_path(
            monthly[monthly.scenario == "as fitted"], load_published(), scenarios["as fitted"]
        ),
    ):
        assert fig.axes and all(ax.get_ylabel() for ax in fig.axes)
        plt.close(fig)


def test_reporting_switch_off_leaves_the_calendar_unchanged():
    from tipresearch.reforms import BASE_METRIC, china_params

    assert ChinaReforms(reporting_times=1.0) == ChinaReforms()
    off = china_timeline(ChinaReforms(reporting_times=1.0))
    assert "reporting_2009" not in off.names
    for month in ("2008-06", "2009-05", "2016-01"):
        assert off.resolve(china_params(), BASE_METRIC, month) == china_timeline().resolve(
            china_params(), BASE_METRIC, month
        )


def test_more_reporting_from_april_2009_raises_reports_not_capacity():
    from tipresearch.reforms import BASE_METRIC, ChinaModel, annual_counts, china_params

    tl = china_timeline(ChinaReforms(reporting_times=1.5))
    base = china_timeline()
    assert tl["reporting_2009"].start == tl["missing_child_filing_rule"].start
    assert tl["reporting_2009"].end is None
    for month, times in (("2009-03", 1.0), ("2009-04", 1.5), ("2016-01", 1.5)):
        p, _ = tl.resolve(china_params(), BASE_METRIC, month)
        q, _ = base.resolve(china_params(), BASE_METRIC, month)
        assert p.reports_mean == pytest.approx(times * q.reports_mean), month
        assert p.capacity_ratio == q.capacity_ratio, month
    small = dataclasses.replace(ChinaModel(), end="2010-12").updated({"settings.n_bureaus": 20})
    on = small.updated({"reforms.reporting_times": 1.5})
    f_off, f_on = small.simulate(seed=0), on.simulate(seed=0)
    early = f_off.month < pd.Timestamp("2009-04-01")
    pd.testing.assert_frame_equal(
        f_on[early].astype({"metric": str}), f_off[early].astype({"metric": str})
    )
    a_off = annual_counts(f_off).set_index(["year", "case_type"])
    a_on = annual_counts(f_on).set_index(["year", "case_type"])
    # 2010: a whole year at 1.5 times the reports, less any deterrence that follows
    ratio = a_on.loc[(2010, "all"), "reports"] / a_off.loc[(2010, "all"), "reports"]
    assert 1.3 < ratio < 1.6
    # the same capacity for more reports: a smaller share of them is registered
    share = a_on["registered"] / a_on["reports"]
    assert share.loc[(2010, "all")] < (a_off["registered"] / a_off["reports"]).loc[(2010, "all")]


@pytest.mark.parametrize("value", [0.0, -1.0, "more"])
def test_reporting_times_out_of_range_is_refused_by_name(value):
    with pytest.raises(ParameterError, match=r"reforms\.reporting_times") as info:
        ChinaReforms(reporting_times=value)
    assert info.value.name == "reforms.reporting_times"
