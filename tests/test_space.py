"""Parameter spaces: plain data, safe YAML, distributions and the four designs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tipresearch.errors import ParameterError
from tipresearch.experiments import Parameter, ParameterSpace, read_yaml, sample

SPACE = {
    "a": {"bounds": [0.0, 2.0]},
    "b": {"dist": "loguniform", "bounds": [0.01, 1.0]},
    "c": {"choices": ["x", "y", "z"]},
    "d": {"dist": "integer", "bounds": [1, 4]},
    "e": {"dist": "normal", "mean": 0.0, "sd": 1.0, "bounds": [-1.0, 2.0]},
    "f": {"dist": "triangular", "bounds": [0.0, 1.0], "mode": 0.2, "label": "f (units)"},
}


@pytest.fixture
def space() -> ParameterSpace:
    return ParameterSpace.from_dict(SPACE)


def test_round_trip_through_yaml(tmp_path, space):
    import yaml

    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump({"parameters": space.to_dict()}))
    again = ParameterSpace.from_yaml(path)
    assert again == space
    assert again.names == ("a", "b", "c", "d", "e", "f")
    assert again["c"].dist == "choice"  # implied by choices
    assert again.labels()["f"] == "f (units)" and again.labels()["a"] == "a"


def test_bare_bounds_list_is_uniform():
    p = ParameterSpace.from_dict({"q": [0.1, 0.3]})["q"]
    assert p.dist == "uniform" and p.bounds == (0.1, 0.3)


def test_unknown_keys_are_named(tmp_path):
    with pytest.raises(ParameterError, match=r"parameters\.a.*unknown: bound, step"):
        ParameterSpace.from_dict({"a": {"bound": [0, 1], "step": 2}})
    path = tmp_path / "s.yaml"
    path.write_text("parameters:\n  a: [0, 1]\nextra: 1\n")
    with pytest.raises(ParameterError, match="unknown: extra"):
        ParameterSpace.from_yaml(path)


def test_yaml_is_loaded_safely(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("parameters: !!python/object/apply:os.system ['echo unsafe']\n")
    with pytest.raises(ParameterError, match="YAML error at line 1"):
        read_yaml(path)
    path.write_text("- just\n- a list\n")
    with pytest.raises(ParameterError, match="it holds a list"):
        read_yaml(path)
    with pytest.raises(ParameterError, match="No such file"):
        read_yaml(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"bounds": [1.0, 1.0]}, "lower < upper"),
        ({"bounds": [0, "x"]}, "a finite number"),
        ({"dist": "loguniform", "bounds": [0.0, 1.0]}, "bounds > 0"),
        ({"dist": "triangular", "bounds": [0.0, 1.0], "mode": 2.0}, r"mode"),
        ({"dist": "normal", "mean": 0.0, "sd": 0.0}, r"\.sd"),
        ({"dist": "integer", "bounds": [0.5, 3]}, "whole numbers"),
        ({"dist": "beta", "bounds": [0, 1]}, "one of uniform"),
        ({"choices": ["a", 1]}, "all strings, all numbers"),
        ({"choices": ["a", "a"]}, "distinct"),
        ({"dist": "uniform"}, "bounds"),
        ({"bounds": [0, 1], "values": [0.5, 2.0]}, "within the bounds"),
        ({"bounds": [0, 1], "levels": 1}, "levels"),
    ],
)
def test_bad_parameters_are_refused(entry, message):
    with pytest.raises(ParameterError, match=message):
        Parameter.from_dict("p", entry)


def test_duplicate_and_empty_spaces():
    with pytest.raises(ParameterError, match="distinct parameter names"):
        ParameterSpace((Parameter("a", bounds=(0, 1)), Parameter("a", bounds=(0, 2))))
    with pytest.raises(ParameterError, match="parameters"):
        ParameterSpace.from_dict({})


def test_quantile_maps(space):
    u = np.array([0.0, 0.5, 1.0])
    assert np.allclose(space["a"].from_unit(u), [0.0, 1.0, 2.0])
    assert np.allclose(space["b"].from_unit(u), [0.01, 0.1, 1.0])  # geometric middle
    # the triangular and truncated normal maps invert their distribution functions
    grid = np.linspace(0.01, 0.99, 25)
    for name in ("e", "f"):
        assert np.allclose(space[name].to_unit(space[name].from_unit(grid)), grid)
    assert space["e"].from_unit(np.array([0.0, 1.0])).tolist() == pytest.approx([-1.0, 2.0])
    f = space["f"].from_unit(grid)
    assert np.allclose(stats.triang.cdf(f, 0.2), grid)


def test_discrete_maps_give_each_value_the_same_weight(space):
    u = (np.arange(1200) + 0.5) / 1200
    ints = space["d"].from_unit(u)
    assert sorted(set(ints.tolist())) == [1, 2, 3, 4]
    assert np.bincount(ints)[1:].tolist() == [300, 300, 300, 300]
    picks = space["c"].from_unit(np.append(u, 1.0))  # u = 1 maps to the last choice
    values, counts = np.unique(picks, return_counts=True)
    assert values.tolist() == ["x", "y", "z"] and counts.tolist() == [400, 400, 401]


def test_grid_is_the_full_product(space):
    d = sample(space, "grid", levels=5)
    # a: 5, b: 5, c: 3 choices, d: all 4 integers, e: 5, f: 5
    assert len(d) == 5 * 5 * 3 * 4 * 5 * 5
    assert not d.values.duplicated().any()
    assert sorted(d.values["a"].unique()) == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert sorted(d.values["b"].unique()) == pytest.approx([0.01, 0.01**0.75, 0.1, 0.1**0.5, 1])
    assert set(d.values["c"]) == {"x", "y", "z"}
    assert sorted(d.values["d"].unique()) == [1, 2, 3, 4]
    # an integer range wider than the levels gets that many whole numbers, ends included
    assert sorted(sample(space, "grid", levels=3).values["d"].unique()) == [1, 2, 4]
    own = ParameterSpace.from_dict({"a": {"bounds": [0, 1], "values": [0.1, 0.7]}, "g": [0, 1]})
    g = sample(own, "grid", levels=4)
    assert len(g) == 8 and sorted(g.values["a"].unique()) == [0.1, 0.7]


def test_latin_hypercube_fills_every_stratum(space):
    n = 50
    d = sample(space, "lhs", n, seed=3)
    assert d.unit.shape == (n, len(space))
    for j in range(len(space)):
        strata = np.floor(d.unit[:, j] * n).astype(int)
        assert sorted(strata.tolist()) == list(range(n))
    assert (d.values["a"].between(0, 2)).all()
    assert set(d.values["c"]) <= {"x", "y", "z"}


def test_sobol_design_size_and_seed(space):
    k = len(space)
    first = sample(space, "sobol", 16, seed=1)
    assert len(first) == 16 * (k + 2)
    assert len(sample(space, "sobol", 16, seed=1, second_order=True)) == 16 * (2 * k + 2)
    again = sample(space, "sobol", 16, seed=1)
    assert np.array_equal(first.unit, again.unit)
    assert not np.array_equal(first.unit, sample(space, "sobol", 16, seed=2).unit)
    # Saltelli blocks: row 1 of each block is A with column 0 taken from B
    blocks = first.unit.reshape(16, k + 2, k)
    a, b, ab0 = blocks[:, 0], blocks[:, -1], blocks[:, 1]
    assert np.array_equal(ab0[:, 1:], a[:, 1:]) and np.array_equal(ab0[:, 0], b[:, 0])


def test_morris_trajectories_move_one_parameter_at_a_time(space):
    k = len(space)
    d = sample(space, "morris", 10, seed=4, num_levels=4)
    assert len(d) == 10 * (k + 1)
    traj = d.unit.reshape(10, k + 1, k)
    moved = (np.abs(np.diff(traj, axis=1)) > 1e-12).sum(axis=2)
    assert (moved == 1).all()
    # on a 4-level grid in unit coordinates
    assert np.allclose(np.round(d.unit * 3), d.unit * 3)


@pytest.mark.parametrize(
    ("method", "kw", "message"),
    [
        ("factorial", {}, "one of grid"),
        ("lhs", {"n": 0}, "design.n"),
        ("sobol", {"n": 16, "second_order": "yes"}, "second_order"),
        ("morris", {"n": 4, "num_levels": 3}, "even"),
        ("lhs", {"n": 4, "seed": -1}, "design.seed"),
    ],
)
def test_bad_design_options(space, method, kw, message):
    n = kw.pop("n", None)
    with pytest.raises(ParameterError, match=message):
        sample(space, method, n, **kw)


@pytest.mark.parametrize("method", ["lhs", "sobol", "morris"])
def test_design_values_are_the_quantile_map_of_its_unit_coordinates(space, method):
    from tipresearch.experiments.design import Design
    from tipresearch.experiments.design import sample as sample_here

    assert sample_here is sample  # designs live in tipresearch.experiments.design
    d = sample_here(space, method, 8, seed=5)
    assert isinstance(d, Design) and d.method == method
    assert ((d.unit >= 0) & (d.unit <= 1)).all()
    expected = space.from_unit(d.unit)
    for name in space.names:
        if space[name].dist == "choice":
            assert d.values[name].tolist() == expected[name].tolist()
        else:
            assert np.allclose(d.values[name].to_numpy(float), expected[name].to_numpy(float))


def test_grid_points_are_made_lazily_in_product_order(space):
    import itertools

    from tipresearch.experiments.design import GridDesign

    d = sample(space, "grid", levels=3)
    assert isinstance(d, GridDesign)
    axes = [values for values, _ in d.axes]
    expected = list(itertools.product(*axes))
    assert len(d) == len(expected)
    # any block, made alone, is the same as the same rows of the whole grid
    for lo, hi in [(0, 5), (17, 40), (len(d) - 3, len(d))]:
        block = d.rows(lo, hi)
        assert [tuple(r) for r in block.itertuples(index=False)] == expected[lo:hi]
        pd.testing.assert_frame_equal(block, d.values.iloc[lo:hi].reset_index(drop=True))
        assert np.array_equal(d.unit_rows(lo, hi), d.unit[lo:hi])
    assert d.point(len(d) - 1) == dict(zip(space.names, expected[-1], strict=True))


def test_a_grid_too_large_to_hold_is_still_made_block_by_block(monkeypatch):
    import tipresearch.checks

    monkeypatch.setattr(tipresearch.checks, "memory_limit", lambda: 8 << 30)
    sizes = {"x": 1000, "y": 1000, "z": 200}
    big = ParameterSpace.from_dict({n: {"bounds": [0, 1], "levels": k} for n, k in sizes.items()})
    d = sample(big, "grid")  # 2 x 10^8 points: only the axes are made
    assert len(d) == 2 * 10**8
    x, z = np.linspace(0, 1, 1000), np.linspace(0, 1, 200)
    last = d.rows(len(d) - 2, len(d))
    assert last.to_numpy().tolist() == [[1.0, 1.0, z[-2]], [1.0, 1.0, 1.0]]
    i = (123 * 1000 + 456) * 200 + 78
    assert d.rows(i, i + 1).to_numpy().tolist() == [[x[123], x[456], z[78]]]
    # the whole grid, which an analysis reads, is refused with its size
    with pytest.raises(ParameterError, match=r"design.levels.*200,000,000 points"):
        _ = d.values


@pytest.mark.parametrize(
    ("d", "n", "seed", "second"), [(3, 16, 1, False), (8, 64, 2009, False), (4, 50, 7, True)]
)
def test_sobol_points_are_salibs_made_block_by_block(d, n, seed, second):
    import warnings

    from SALib.sample import sobol

    from tipresearch.experiments.design import SaltelliDesign

    space = ParameterSpace.from_dict({f"p{i}": {"bounds": [0, 1]} for i in range(d)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = sobol.sample(space.problem(), n, calc_second_order=second, seed=seed)
    design = sample(space, "sobol", n, seed=seed, second_order=second)
    assert isinstance(design, SaltelliDesign) and len(design) == len(ref)
    # the whole design and any blocks of it are SALib's points, bit for bit
    assert np.array_equal(design.unit, np.clip(ref, 0, 1))
    blocks = [design.unit_rows(a, a + 37) for a in range(0, len(design), 37)]
    assert np.array_equal(np.concatenate(blocks), design.unit)
    pd.testing.assert_frame_equal(
        design.rows(40, 77), design.values.iloc[40:77].reset_index(drop=True)
    )
