"""Sensitivity analysis against known answers (Ishigami, linear and additive functions) and PRIM
boxes that are known in advance."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tipresearch.errors import ParameterError
from tipresearch.experiments import (
    ParameterSpace,
    SweepSpec,
    analyze,
    first_order_indices,
    morris_indices,
    open_sweep,
    prim,
    run_sweep,
    scenario_discovery,
    sobol_indices,
)

A, B = 7.0, 0.1
PI = math.pi
ISHIGAMI = ParameterSpace.from_dict({f"x{i}": [-PI, PI] for i in (1, 2, 3)})


def ishigami(values, seed, settings):
    """Ishigami and Homma (1990): y = sin x1 + a sin^2 x2 + b x3^4 sin x1."""
    x1, x2, x3 = values["x1"], values["x2"], values["x3"]
    return {"y": math.sin(x1) + A * math.sin(x2) ** 2 + B * x3**4 * math.sin(x1)}


def ishigami_indices() -> dict[str, float]:
    """Closed-form variances (Sobol' and Levitan 1999) of the Ishigami function."""
    v1 = 0.5 * (1 + B * PI**4 / 5) ** 2
    v2 = A**2 / 8
    v13 = B**2 * PI**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return {
        "S1.x1": v1 / v,
        "S1.x2": v2 / v,
        "S1.x3": 0.0,
        "ST.x1": (v1 + v13) / v,
        "ST.x2": v2 / v,
        "ST.x3": v13 / v,
        "S2.x1.x3": v13 / v,
    }


def _run(tmp_path, name, spec, evaluate, **kw):
    out = tmp_path / name
    run_sweep(spec, out, executor="inprocess", evaluate=evaluate, progress=False, **kw)
    return out


def _lookup(table: pd.DataFrame, index: str, parameter: str, other=None) -> pd.Series:
    rows = table[(table["index"] == index) & (table["parameter"] == parameter)]
    if other is not None:
        rows = rows[rows["other"] == other]
    assert len(rows) == 1
    return rows.iloc[0]


def test_sobol_indices_of_the_ishigami_function(tmp_path):
    spec = SweepSpec(ISHIGAMI, method="sobol", n=2048, design_seed=1)
    out = _run(tmp_path, "ishigami", spec, ishigami)
    table = sobol_indices(out, seed=3)
    assert list(table.columns) == [
        "output",
        "index",
        "parameter",
        "other",
        "estimate",
        "conf",
        "samples",
        "dropped",
    ]
    truth = ishigami_indices()
    for key, value in truth.items():
        if key.startswith("S2"):
            continue
        index, name = key.split(".")
        row = _lookup(table, index, name)
        assert row["estimate"] == pytest.approx(value, abs=0.03), key
        assert abs(row["estimate"] - value) <= row["conf"] + 0.01, key  # the interval covers it
        assert row["samples"] == 2048 and row["dropped"] == 0
    # x1 matters most in total, x3 only through its interaction with x1
    st = table[table["index"] == "ST"].set_index("parameter")["estimate"]
    assert st.idxmax() == "x1" and st["x3"] > 0.2
    # the same seed gives the same intervals
    pd.testing.assert_frame_equal(table, sobol_indices(out, seed=3))


def test_second_order_index_of_the_ishigami_function(tmp_path):
    spec = SweepSpec(ISHIGAMI, method="sobol", n=1024, design_seed=2, second_order=True)
    table = sobol_indices(_run(tmp_path, "ish2", spec, ishigami), seed=1)
    truth = ishigami_indices()["S2.x1.x3"]
    assert _lookup(table, "S2", "x1", "x3")["estimate"] == pytest.approx(truth, abs=0.08)
    assert abs(_lookup(table, "S2", "x1", "x2")["estimate"]) < 0.08
    assert len(table[table["index"] == "S2"]) == 3


def fails_in_a_corner(values, seed, settings):
    if values["x1"] > 3.0 and values["x2"] > 3.0:
        raise RuntimeError("corner")
    return ishigami(values, seed, settings)


def test_sobol_leaves_out_blocks_with_failed_runs(tmp_path):
    spec = SweepSpec(ISHIGAMI, method="sobol", n=1024, design_seed=1)
    out = _run(tmp_path, "holes", spec, fails_in_a_corner)
    table = sobol_indices(out, "y")
    dropped = int(table["dropped"].iloc[0])
    assert 0 < dropped < 100
    assert (table["samples"] == 1024 - dropped).all()
    truth = ishigami_indices()
    assert _lookup(table, "ST", "x1")["estimate"] == pytest.approx(truth["ST.x1"], abs=0.06)


def linear(values, seed, settings):
    return {"y": 3.0 * values["a"] - 1.0 * values["b"] + 0.0 * values["c"], "flat": 1.0}


LINEAR = ParameterSpace.from_dict({"a": [0.0, 2.0], "b": [0.0, 1.0], "c": [5.0, 6.0]})


def test_morris_effects_of_a_linear_function(tmp_path):
    spec = SweepSpec(LINEAR, method="morris", n=20, design_seed=5, num_levels=4)
    table = morris_indices(_run(tmp_path, "lin", spec, linear)).set_index(["output", "parameter"])
    y = table.loc["y"]
    # per unit of each parameter's range: slope times width
    assert y.loc["a", "mu_star"] == pytest.approx(6.0)
    assert y.loc["b", "mu_star"] == pytest.approx(1.0)
    assert y.loc["b", "mu"] == pytest.approx(-1.0)
    assert y.loc["c", "mu_star"] == pytest.approx(0.0, abs=1e-9)
    assert np.allclose(y["sigma"], 0.0, atol=1e-9)  # no interactions
    assert (y["samples"] == 20).all()
    assert table.loc["flat", "mu_star"].isna().all()  # an output that never varies


def test_first_order_indices_on_a_grid_are_exact(tmp_path):
    space = ParameterSpace.from_dict({"a": [0.0, 2.0], "b": [0.0, 1.0], "c": [5.0, 6.0]})
    spec = SweepSpec(space, method="grid", levels=5)
    table = first_order_indices(_run(tmp_path, "grid", spec, linear), "y")
    s1 = table.set_index("parameter")["estimate"]
    # y = 3a - b on an even grid: variances 9 Var(a) and Var(b), with Var(a) = 4 Var(b)
    assert s1["a"] == pytest.approx(36 / 37) and s1["b"] == pytest.approx(1 / 37)
    assert s1["c"] == pytest.approx(0.0, abs=1e-12)


def test_rbd_fast_on_a_latin_hypercube(tmp_path):
    spec = SweepSpec(ISHIGAMI, method="lhs", n=3000, design_seed=7)
    table = analyze(_run(tmp_path, "lhs", spec, ishigami), seed=2)
    s1 = table.set_index("parameter")["estimate"]
    truth = ishigami_indices()
    assert s1["x1"] == pytest.approx(truth["S1.x1"], abs=0.07)
    assert s1["x2"] == pytest.approx(truth["S1.x2"], abs=0.07)
    assert abs(s1["x3"]) < 0.07


def test_analyses_need_the_right_design(tmp_path):
    spec = SweepSpec(LINEAR, method="grid", levels=2)
    out = _run(tmp_path, "g", spec, linear)
    with pytest.raises(ParameterError, match="sobol for Sobol"):
        sobol_indices(out)
    with pytest.raises(ParameterError, match="morris"):
        morris_indices(out)
    with pytest.raises(ParameterError, match="outputs of the sweep"):
        first_order_indices(out, "nope")
    with pytest.raises(ParameterError, match="conf_level"):
        first_order_indices(out, conf_level=1.5)


# --------------------------------------------------------------------------- PRIM


def _inside(x: pd.DataFrame, limits: dict) -> np.ndarray:
    """Points of ``x`` inside a box, counted from its limits alone."""
    mask = np.ones(len(x), dtype=bool)
    for name, lim in limits.items():
        if isinstance(lim, frozenset):
            mask &= x[name].isin(lim).to_numpy()
        else:
            mask &= x[name].between(lim[0], lim[1]).to_numpy()
    return mask


def _uniform(seed: int, n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({name: rng.uniform(0, 1, n) for name in ("x1", "x2", "noise")})


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_prim_recovers_a_known_box(seed):
    x = _uniform(seed)
    y = ((x["x1"] < 0.3) & (x["x2"] > 0.6)).to_numpy()  # 12 % of the points
    result = prim(x, y)
    first = result.trajectory.iloc[0]
    assert first["coverage"] == 1 and first["mass"] == 1 and first["points"] == len(x)
    assert first["density"] == pytest.approx(y.mean())
    step = result.select(min_coverage=0.8)
    row = result.trajectory.loc[step]
    assert row["coverage"] >= 0.9 and row["density"] >= 0.95
    assert row["mass"] == pytest.approx(0.12, abs=0.02)
    box = result.box(step).set_index("parameter")
    assert box.loc["x1", "upper"] == pytest.approx(0.3, abs=0.02)
    assert box.loc["x2", "lower"] == pytest.approx(0.6, abs=0.03)
    # sides PRIM did not cut keep the sample's range; the noise is left alone
    assert box.loc["x1", "lower"] == x["x1"].min() and box.loc["x2", "upper"] == x["x2"].max()
    assert not box.loc["noise", "restricted"]
    assert result.trajectory.loc[step, "restricted"] == ["x1", "x2"]


def test_prim_finds_a_box_in_numbers_whole_numbers_and_choices():
    rng = np.random.default_rng(0)
    n = 4000
    x = pd.DataFrame(
        {
            "u": rng.uniform(0, 1, n),
            "v": rng.uniform(0, 1, n),
            "k": rng.integers(1, 7, n),
            "kind": rng.choice(["a", "b", "c"], n),
            "flag": rng.choice([True, False], n),
        }
    )
    y = ((x["u"] > 0.6) & (x["v"] < 0.4) & (x["kind"] != "c") & (x["k"] >= 3)).to_numpy()
    result = prim(x, y, alpha=0.05, min_mass=0.02)
    step = result.select(min_coverage=0.8)
    row = result.trajectory.loc[step]
    assert row["density"] > 0.9 and row["coverage"] >= 0.8
    box = result.box(step).set_index("parameter")
    assert box.loc["u", "lower"] == pytest.approx(0.6, abs=0.05)
    assert box.loc["v", "upper"] == pytest.approx(0.4, abs=0.05)
    assert box.loc["kind", "choices"] == ["a", "b"]
    assert (box.loc["k", "lower"], box.loc["k", "upper"]) == (3, 6)  # whole numbers kept
    assert not box.loc["flag", "restricted"] and box.loc["flag", "choices"] == [False, True]
    t = result.trajectory
    # every box's statistics are those of the points inside its limits
    for i, limits in enumerate(result.boxes):
        inside = _inside(x, limits)
        assert t.loc[i, "points"] == inside.sum(), i
        assert t.loc[i, "cases"] == (inside & y).sum(), i
        assert t.loc[i, "coverage"] == pytest.approx((inside & y).sum() / y.sum())
        assert t.loc[i, "density"] == pytest.approx(y[inside].mean())
        assert t.loc[i, "mass"] == pytest.approx(inside.mean())
    assert all(isinstance(v, int) for v in result.boxes[step]["k"])
    # peeling only shrinks the box and loses cases; pasting only widens it
    peel, paste = t[t["phase"] == "peel"], t[t["phase"] == "paste"]
    assert (np.diff(peel["mass"]) < 0).all() and (np.diff(peel["coverage"]) <= 1e-12).all()
    assert (np.diff(paste["mass"]) > 0).all()
    assert list(t["phase"]) == ["peel"] * len(peel) + ["paste"] * len(paste)


def test_prim_keeps_a_parameter_named_scenario():
    # the EMA Workbench drops a column named "scenario" from what it is given
    x = _uniform(4).rename(columns={"x1": "scenario"})
    y = (x["scenario"] > 0.7).to_numpy()
    result = prim(x, y)
    box = result.box(result.select(min_coverage=0.9)).set_index("parameter")
    assert box.loc["scenario", "restricted"]
    assert box.loc["scenario", "lower"] == pytest.approx(0.7, abs=0.02)


def test_prim_when_every_point_is_a_case():
    x = _uniform(5, 50)
    result = prim(x, np.ones(len(x), dtype=bool))
    assert len(result.trajectory) == 1 and result.select() == 0
    assert not result.box().restricted.any()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"x": "x1 column with a gap"}, r"parameter 'x1' = 'missing values'"),
        ({"y": "no case"}, "at least one case"),
        ({"y": "too short"}, r"parameter 'y'.*3000 booleans"),
        ({"alpha": 0.6}, r"parameter 'alpha' = 0\.6"),
        ({"min_mass": 0}, "parameter 'min_mass'"),
        ({"paste_alpha": True}, "parameter 'paste_alpha'"),
        ({"objective": "greedy"}, r"parameter 'objective' = 'greedy'.*lenient1"),
    ],
)
def test_bad_prim_input_names_the_parameter(change, message):
    x = _uniform(6)
    y = (x["x1"] < 0.5).to_numpy()
    options = {k: v for k, v in change.items() if k not in ("x", "y")}
    if "x" in change:
        x.loc[17, "x1"] = np.nan
    if change.get("y") == "no case":
        y = np.zeros(len(x), dtype=bool)
    if change.get("y") == "too short":
        y = y[:-1]
    with pytest.raises(ParameterError, match=message):
        prim(x, y, **options)


def test_prim_result_refuses_a_step_it_does_not_have():
    x = _uniform(7, 500)
    result = prim(x, (x["x1"] < 0.2).to_numpy())
    last = len(result.boxes) - 1
    with pytest.raises(ParameterError, match=f"parameter 'step'.*\\[0, {last}\\]"):
        result.box(last + 1)
    with pytest.raises(ParameterError, match="min_coverage"):
        result.select(min_coverage=1.5)


def test_scenario_discovery_on_a_sweep(tmp_path):
    spec = SweepSpec(LINEAR, method="lhs", n=400, design_seed=3)
    out = _run(tmp_path, "sd", spec, linear)
    result = scenario_discovery(out, "y", 4.0)  # 3a - b >= 4 needs a > 4/3
    box = result.box(min_coverage=0.5).set_index("parameter")
    assert box.loc["a", "lower"] > 1.2
    assert not box.loc["c", "restricted"]
    assert result.trajectory.loc[0, "density"] == pytest.approx(
        np.mean(3 * open_sweep(out).design.values["a"] - open_sweep(out).design.values["b"] >= 4)
    )
    below = scenario_discovery(out, "y", 1.0, above=False)  # 3a - b <= 1 needs a <= 2/3
    box = below.box(min_coverage=0.5).set_index("parameter")
    assert box.loc["a", "upper"] < 0.75 and box.loc["a", "restricted"]
