"""Simulation engines: determinism, bookkeeping, and agreement in distribution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tipresearch.cli import main as cli_main
from tipresearch.errors import ParameterError
from tipresearch.model import (
    OUTPUT_COLUMNS,
    PRESETS,
    Dynamics,
    ModelParams,
    best_response,
    draw_bureaus,
    expected_outcomes,
    shared_capacity,
    simulate,
    summarise,
)

SMALL = ModelParams(n_bureaus=20, reports_mean=40.0)


@pytest.mark.parametrize("engine", ["aggregate", "micro"])
def test_same_seed_same_frame_and_different_seed_different_frame(engine):
    a = simulate(SMALL, "solved_count", periods=6, seed=7, engine=engine)
    b = simulate(SMALL, "solved_count", periods=6, seed=7, engine=engine)
    c = simulate(SMALL, "solved_count", periods=6, seed=8, engine=engine)
    pd.testing.assert_frame_equal(a, b)
    assert not a[["reports", "opened", "solved"]].equals(c[["reports", "opened", "solved"]])


@pytest.mark.parametrize("engine", ["aggregate", "micro"])
def test_bookkeeping_holds_in_every_row(engine):
    params = SMALL.updated(screening_noise=0.1, dispersion=0.3)
    f = simulate(params, "balanced", periods=8, seed=3, engine=engine)
    assert list(f.columns) == list(OUTPUT_COLUMNS)
    assert len(f) == 8 * 20 * 2
    assert (f.opened + f.declined == f.reports).all()
    assert (f.solved <= f.opened).all()
    assert (f.declined_solvable <= f.declined).all()
    assert (f.victims_rescued >= f.solved + f.solved_backlog).all()
    assert (f.backlog >= 0).all()
    # backlog identity per bureau and type: last backlog = opened - solved - late - dropped
    g = f.groupby(["bureau", "case_type"], observed=True)
    last = g.backlog.last()
    assert (last <= g.opened.sum() - g.solved.sum() - g.solved_backlog.sum()).all()
    opened = f.opened > 0
    np.testing.assert_allclose(
        f.clearance_rate[opened], f.solved[opened] / f.opened[opened], rtol=1e-12
    )
    assert f.clearance_rate[~opened].isna().all()
    assert f.month.iloc[0] == pd.Timestamp("2008-01-01")


def test_micro_engine_does_not_depend_on_chunk_size():
    # includes bureaus with more reports than a chunk (the replay path)
    params = ModelParams(n_bureaus=3, reports_mean=6000.0, reports_sigma=0.0)
    small = simulate(params, "solved_count", periods=2, seed=5, engine="micro", chunk_size=1024)
    large = simulate(params, "solved_count", periods=2, seed=5, engine="micro")
    pd.testing.assert_frame_equal(small, large)


def test_report_counts_are_common_random_numbers_across_metrics_and_engines():
    a = simulate(SMALL, "solved_count", periods=4, seed=11)
    b = simulate(SMALL, "opened_count", periods=4, seed=11, engine="micro")
    assert a.reports.equals(b.reports)


def _cell_counts(params, engine, seed, column):
    f = simulate(params, "solved_count", periods=25, seed=seed, engine=engine)
    return {k: g[column].to_numpy() for k, g in f.groupby("case_type", observed=True)}


def _homogeneity_pvalue(x, y):
    """Chi-square test that two samples of counts come from one distribution."""
    pooled = np.concatenate([x, y])
    edges = np.unique(np.quantile(pooled, np.linspace(0, 1, 11)))
    edges[-1] += 1
    table = np.array([np.histogram(x, edges)[0], np.histogram(y, edges)[0]])
    table = table[:, table.sum(axis=0) > 0]
    return stats.chi2_contingency(table).pvalue


PARAM_SETS = [
    ModelParams(n_bureaus=200, reports_mean=40.0, reports_sigma=0.0),
    ModelParams(n_bureaus=200, reports_mean=40.0, reports_sigma=0.0, screening_noise=0.2),
    ModelParams(n_bureaus=200, reports_mean=25.0, reports_sigma=0.0, capacity_ratio=0.05).updated(
        {"children.dna_effect": 0.3}
    ),
]


@pytest.mark.parametrize("params", PARAM_SETS)
@pytest.mark.parametrize("column", ["opened", "solved", "declined_solvable"])
def test_engines_agree_in_distribution(params, column):
    micro = _cell_counts(params, "micro", 101, column)
    agg = _cell_counts(params, "aggregate", 202, column)
    for k in micro:
        assert _homogeneity_pvalue(micro[k], agg[k]) > 0.001, (k, column)
        assert abs(micro[k].mean() - agg[k].mean()) < 4 * np.sqrt(
            micro[k].var() / micro[k].size + agg[k].var() / agg[k].size
        )


def test_distribution_test_detects_a_small_difference():
    params = PARAM_SETS[0]
    micro = _cell_counts(params, "micro", 101, "opened")
    shifted = _cell_counts(params.updated(audit_prob=0.3), "aggregate", 202, "opened")
    assert min(_homogeneity_pvalue(micro[k], shifted[k]) for k in micro) < 0.001


def test_mean_counts_match_expected_outcomes():
    params = ModelParams(n_bureaus=400, reports_mean=30.0)
    f = simulate(params, "solved_count", periods=10, seed=9)
    bureaus = draw_bureaus(params, np.random.SeedSequence(9).spawn(2)[0])
    exp = best_response(params, "solved_count", bureaus.reports, bureaus.capacity).outcomes
    for k, name in enumerate(params.type_names):
        rows = f[f.case_type == name]
        for col in ("reports", "opened", "solved"):
            per_bureau = rows.groupby("bureau")[col].mean().to_numpy()
            expected = exp[col][:, k]
            se = rows.groupby("bureau")[col].std().to_numpy() / np.sqrt(10)
            z = (per_bureau.sum() - expected.sum()) / np.sqrt((se**2).sum())
            assert abs(z) < 4, (name, col, z)


def test_partial_adjustment_and_schedule():
    base = SMALL
    strict = base.updated(audit_prob=0.9, audit_penalty=2.0)

    def schedule(t, month):
        return (base if t < 3 else strict), PRESETS["solved_count"]

    f = simulate(
        base, "solved_count", periods=12, seed=1, schedule=schedule, dynamics=Dynamics(0.5)
    )
    tau = f[(f.bureau == 0) & (f.case_type == "children")].threshold.to_numpy()
    assert np.allclose(tau[:3], tau[0])
    target = best_response(strict, "solved_count", *_bureau0(base, 1)).threshold[0, 1]
    gaps = np.abs(tau[3:] - target)
    assert np.all(np.diff(gaps) < 0) and gaps[-1] < gaps[0] / 50
    np.testing.assert_allclose(gaps[1] / gaps[0], 0.5, rtol=1e-9)


def _bureau0(params, seed):
    b = draw_bureaus(params, np.random.SeedSequence(seed).spawn(2)[0])
    return b.reports[:1], b.capacity[:1]


def test_summarise_rates():
    f = simulate(SMALL, "clearance_rate", periods=3, seed=2)
    s = summarise(f)
    assert len(s) == 3 * 2
    row = s.iloc[0]
    assert row.intake_rate == pytest.approx(row.opened / row.reports)
    assert row.unrecorded_share == pytest.approx(1 - row.intake_rate)
    total = summarise(f, by_type=False)
    assert total.reports.sum() == f.reports.sum()


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"periods": 0}, "periods"),
        ({"periods": -3}, "periods"),
        ({"engine": "fast"}, "engine"),
        ({"seed": -1}, "seed"),
        ({"dynamics": "fast"}, "dynamics"),
        ({"start": "spring"}, "start"),
        ({"metric": "arrests"}, "metric"),
    ],
)
def test_bad_simulation_arguments(kwargs, name):
    with pytest.raises(ParameterError) as info:
        simulate(SMALL, **{"metric": "solved_count", **kwargs})
    assert info.value.name == name


def test_cli_writes_csv_and_parquet(tmp_path, capsys):
    out = tmp_path / "sim.parquet"
    code = cli_main(
        [
            "simulate",
            "--metric",
            "clearance_rate",
            "--set",
            "children.dna_effect=0.2",
            "--bureaus",
            "5",
            "--periods",
            "3",
            "--engine",
            "micro",
            "--seed",
            "4",
            "--out",
            str(out),
            "--summary",
            str(tmp_path / "sum.csv"),
        ]
    )
    assert code == 0
    frame = pd.read_parquet(out)
    assert len(frame) == 5 * 3 * 2 and set(OUTPUT_COLUMNS) <= set(frame.columns)
    direct = simulate(
        ModelParams(n_bureaus=5).updated({"children.dna_effect": 0.2}),
        "clearance_rate",
        periods=3,
        seed=4,
        engine="micro",
    )
    assert frame.opened.tolist() == direct.opened.tolist()
    assert pd.read_csv(tmp_path / "sum.csv").intake_rate.between(0, 1).all()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--metric", "arrests"], "'metric' = 'arrests'"),
        (["--metric", "solved_count", "--periods", "0"], "'periods' = 0"),
        (["--metric", "solved_count", "--set", "audit_prob=2"], "'audit_prob' = 2"),
        (["--metric", "solved_count", "--set", "speed=2"], "'speed'"),
        (["--metric", "solved_count", "--engine", "gpu"], "'engine' = 'gpu'"),
        (["--metric", "solved_count", "--bureaus", "0"], "'n_bureaus' = 0"),
    ],
)
def test_cli_bad_options_exit_2_with_one_line(tmp_path, capsys, args, needle):
    code = cli_main(["simulate", *args, "--out", str(tmp_path / "x.csv")])
    err = capsys.readouterr().err
    assert code == 2
    assert needle in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()


def test_cli_bad_suffix_exits_2(tmp_path, capsys):
    code = cli_main(["simulate", "--metric", "solved_count", "--out", str(tmp_path / "x.txt")])
    assert code == 2 and "'--out'" in capsys.readouterr().err


def test_dispersion_gives_overdispersed_report_counts():
    base = ModelParams(n_bureaus=300, reports_mean=40.0, reports_sigma=0.0)
    poisson = simulate(base, "solved_count", periods=5, seed=1).reports
    negbin = simulate(base.updated(dispersion=0.5), "solved_count", periods=5, seed=1).reports
    # variance of a Poisson(20) count is 20; with dispersion 0.5 it is 20 + 0.5 * 400 = 220
    assert poisson.var() == pytest.approx(20, rel=0.15)
    assert negbin.var() == pytest.approx(220, rel=0.15)
    assert negbin.mean() == pytest.approx(20, rel=0.05)


@pytest.mark.parametrize("engine", ["aggregate", "micro"])
def test_period_by_period_planning_gives_the_same_numbers(engine):
    # a learning rate of 1e-300 switches on period-by-period planning without changing
    # any number in the model, so the two code paths must agree exactly
    base = simulate(SMALL.updated(dispersion=0.2), "balanced", periods=6, seed=4, engine=engine)
    stepwise = simulate(
        SMALL.updated(dispersion=0.2),
        "balanced",
        periods=6,
        seed=4,
        engine=engine,
        dynamics=Dynamics(learning_rate=1e-300),
    )
    pd.testing.assert_frame_equal(base, stepwise)


def test_learning_by_doing_lowers_thresholds_over_time():
    f = simulate(SMALL, "solved_count", periods=24, seed=2, dynamics=Dynamics(learning_rate=0.3))
    tau = f.groupby("period").threshold.mean().to_numpy()
    assert np.all(np.diff(tau) <= 1e-12) and tau[-1] < tau[0] - 0.02
    intake = summarise(f, by_type=False).intake_rate.to_numpy()
    assert intake[-6:].mean() > intake[:6].mean()


def test_deterrence_lowers_incidence_after_more_cases_are_solved():
    params = ModelParams(n_bureaus=50, reports_mean=40.0)
    more_capacity = params.updated(capacity_ratio=2 * params.capacity_ratio)

    def schedule(t, month):
        return (params if t < 6 else more_capacity), PRESETS["solved_count"]

    kw = dict(periods=30, seed=3, schedule=schedule)
    without = summarise(simulate(params, "solved_count", **kw), by_type=False)
    deterred = summarise(
        simulate(params, "solved_count", dynamics=Dynamics(deterrence=1.0), **kw), by_type=False
    )
    # same incidence before the reform (the catch rate is at its reference) ...
    assert deterred.reports[:6].sum() == pytest.approx(without.reports[:6].sum(), rel=0.05)
    # ... and fewer reports once doubled capacity has raised the share of reports solved
    assert deterred.reports[-6:].sum() < 0.9 * without.reports[-6:].sum()


def test_deterrence_floor_sets_how_far_incidence_can_fall():
    params = ModelParams(n_bureaus=50, reports_mean=40.0)
    strong = params.updated(capacity_ratio=8 * params.capacity_ratio)

    def schedule(t, month):
        return (params if t < 4 else strong), PRESETS["solved_count"]

    kw = dict(periods=30, seed=3, schedule=schedule)
    late = {}
    for floor in (0.5, 0.8):
        dyn = Dynamics(deterrence=3.0, deterrence_floor=floor)
        late[floor] = summarise(simulate(params, "solved_count", dynamics=dyn, **kw), by_type=False)
    first = late[0.5].reports[:4].sum()
    # a strong elasticity drives incidence to the floor: the floor sets the level
    for floor, frame in late.items():
        assert frame.reports[-6:].sum() / 6 == pytest.approx(floor * first / 4, rel=0.08)


def test_deterrence_alone_does_not_drift_under_a_fixed_policy():
    params = ModelParams(n_bureaus=100, reports_mean=40.0)
    kw = dict(periods=48, seed=5)
    base = summarise(simulate(params, "solved_count", **kw), by_type=False).reports
    deterred = summarise(
        simulate(params, "solved_count", dynamics=Dynamics(deterrence=1.0), **kw), by_type=False
    ).reports
    assert deterred[-12:].sum() == pytest.approx(base[-12:].sum(), rel=0.05)


def test_schedule_scales_incidence_and_capacity():
    params = ModelParams(n_bureaus=50, reports_mean=40.0)
    double = params.updated(reports_mean=80.0)
    f = simulate(
        params,
        "solved_count",
        periods=8,
        seed=1,
        schedule=lambda t, m: ((params if t < 4 else double), PRESETS["solved_count"]),
    )
    per = summarise(f, by_type=False).reports.to_numpy()
    assert per[4:].sum() == pytest.approx(2 * per[:4].sum(), rel=0.05)


def test_dynamics_validation():
    with pytest.raises(ParameterError, match="adjust_rate"):
        Dynamics(adjust_rate=0)
    with pytest.raises(ParameterError, match="learning_rate"):
        Dynamics(learning_rate=-1)
    with pytest.raises(ParameterError, match="deterrence_memory"):
        Dynamics(deterrence_memory=0)
    with pytest.raises(ParameterError, match="deterrence_floor"):
        Dynamics(deterrence_floor=0)
    with pytest.raises(ParameterError, match="deterrence_floor"):
        Dynamics(deterrence_floor=1.5)
    with pytest.raises(ParameterError, match="deterrence_ceiling"):
        Dynamics(deterrence_ceiling=0.5)
    for bad in (-0.1, 11, float("nan")):
        with pytest.raises(ParameterError, match="backlog_effort"):
            Dynamics(backlog_effort=bad)


# --------------------------------------------------------------------------- backlog effort


def test_shared_capacity_formula_and_limits():
    k = np.array([10.0, 10.0, 0.0, 4.0])
    b = np.array([0.0, 10.0, 5.0, 100.0])
    out = shared_capacity(k, b, effort_half=2.0, backlog_effort=0.5)
    # K * K / (K + e c B): 10 -> 10, 100 / (10 + 10) = 5, 0 -> 0, 16 / (4 + 100)
    np.testing.assert_allclose(out, [10.0, 5.0, 0.0, 16.0 / 104.0])
    np.testing.assert_array_equal(shared_capacity(k, b, 2.0, 0.0), k)
    more = shared_capacity(np.full(5, 10.0), np.arange(5.0) * 10, 1.0, 0.2)
    assert np.all(np.diff(more) < 0)


@pytest.mark.parametrize("engine", ["aggregate", "micro"])
def test_backlog_effort_leaves_less_capacity_for_new_cases(engine):
    params = ModelParams(n_bureaus=20, reports_mean=40.0, capacity_ratio=0.4)
    bureaus = draw_bureaus(params, 0)
    kw = dict(periods=36, seed=4, engine=engine, bureaus=bureaus)
    metric = PRESETS["solved_count"]
    off = simulate(params, metric, dynamics=Dynamics(), **kw)
    on = simulate(params, metric, dynamics=Dynamics(backlog_effort=0.5), **kw)
    first = on.period == 0  # no backlog yet: the first month is the same
    pd.testing.assert_frame_equal(on[first], off[first])
    # later, solved cases match their expectation with the capacity the backlog leaves
    shares = np.array([ct.share for ct in params.case_types])
    cap = bureaus.capacity[:, None] * shares
    expect_on = expect_off = realised = 0.0
    for t in range(6, 36):
        before = on[on.period == t - 1].pivot(index="bureau", columns="case_type", values="backlog")
        now = on[on.period == t].pivot(index="bureau", columns="case_type", values="threshold")
        names = [ct.name for ct in params.case_types]
        backlog, tau = before[names].to_numpy(), now[names].to_numpy()
        shared = shared_capacity(cap, backlog, params.effort_half, 0.5)
        lam = bureaus.reports
        expect_on += expected_outcomes(params, metric, tau, lam, shared)["solved"].sum()
        expect_off += expected_outcomes(params, metric, tau, lam, cap)["solved"].sum()
        realised += on[on.period == t].solved.sum()
    assert realised == pytest.approx(expect_on, rel=0.04)
    assert expect_off > 1.2 * expect_on  # the check can tell the two apart
    late = on.period >= 12
    assert on[late].solved.sum() < off[late].solved.sum()


# --------------------------------------------------------------------------- recall


def _recall_run(engine, seed, recall, t_on, periods, params):
    """Simulate with recall off until period ``t_on``, then ``recall`` (a mapping of
    type to recall_prob) from ``t_on`` on."""
    on = params.updated({f"{k}.recall_prob": r for k, r in recall.items()})

    def schedule(t, month):
        return (on if t >= t_on else params), PRESETS["solved_count"]

    bureaus = draw_bureaus(params, np.random.SeedSequence(seed).spawn(2)[0])
    frame = simulate(
        params, "solved_count", periods, seed, engine, schedule=schedule, bureaus=bureaus
    )
    return frame, bureaus


@pytest.mark.parametrize("engine", ["aggregate", "micro"])
def test_recall_matches_closed_form_from_a_known_stock(engine):
    # recall off for T months builds the stock of declined solvable reports from
    # empty; with D ~ Poisson(d) a month, each surviving a month's attrition with
    # probability 1 - rho, the stock carried into month T is Poisson with mean
    # d (1 - (1 - rho)^T) / rho, so recall r in month T gives C ~ Poisson(r E[G])
    # (docs/model.md, §3.3.10)
    params = ModelParams(n_bureaus=400, reports_mean=60.0, backlog_attrition=0.08)
    rho, t_on = params.backlog_attrition, 40
    recall = {"women": 0.3, "children": 0.5}
    observed = {k: 0.0 for k in recall}
    expected = {k: 0.0 for k in recall}
    for seed in (11, 12, 13):
        f, bureaus = _recall_run(engine, seed, recall, t_on, t_on + 1, params)
        assert (f.recalled[f.period <= t_on] == 0).all()
        last = f[f.period == t_on + 1]
        tau = last.threshold.to_numpy().reshape(params.n_bureaus, 2)
        d = expected_outcomes(
            params, "solved_count", tau, bureaus.reports, bureaus.capacity, exact=False
        )["declined_solvable"]
        stock = d * (1 - (1 - rho) ** t_on) / rho
        for k, name in enumerate(params.type_names):
            observed[name] += last.recalled[last.case_type == name].sum()
            expected[name] += recall[name] * stock[:, k].sum()
    for name in recall:
        z = (observed[name] - expected[name]) / np.sqrt(expected[name])
        assert abs(z) < 4, (name, observed[name], expected[name], z)


@pytest.mark.parametrize("engine", ["aggregate", "micro"])
def test_recall_draws_only_from_its_own_stream(engine):
    # the recall has its own random stream, so switching it on changes only the
    # recalled reports and the victims their solves rescue: every other count of
    # every month is the one drawn with recall off
    params = ModelParams(n_bureaus=20, reports_mean=40.0)
    off, _ = _recall_run(engine, 5, {}, 0, 12, params)
    on, _ = _recall_run(engine, 5, {"children": 0.2}, 4, 12, params)
    assert (off.recalled == 0).all()
    assert on.recalled[on.case_type == "children"].sum() > 0
    assert (on.recalled[(on.case_type == "women") | (on.period <= 4)] == 0).all()
    same = [c for c in OUTPUT_COLUMNS if c not in ("recalled", "victims_rescued", "metric")]
    pd.testing.assert_frame_equal(on[same], off[same])
    # each recalled report is a solve that rescues at least one victim
    assert (on.victims_rescued - off.victims_rescued >= on.recalled).all()
    assert ((on.victims_rescued == off.victims_rescued) == (on.recalled == 0)).all()


@pytest.mark.parametrize("engine", ["aggregate", "micro"])
def test_recall_gives_the_same_numbers_planned_at_once_or_period_by_period(engine):
    params = SMALL.updated({"children.recall_prob": 0.1, "women.recall_prob": 0.05})
    base = simulate(params, "solved_count", periods=8, seed=4, engine=engine)
    stepwise = simulate(
        params,
        "solved_count",
        periods=8,
        seed=4,
        engine=engine,
        dynamics=Dynamics(learning_rate=1e-300),
    )
    assert base.recalled.sum() > 0
    pd.testing.assert_frame_equal(base, stepwise)
