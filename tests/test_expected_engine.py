"""The expected-value engine against the aggregate engine's Monte Carlo means.

``docs/model.md`` §3.3.14: exact where the plan does not depend on the draws (each
total within four standard errors of the aggregate engine's mean over many seeds with
the same bureaus), an approximation with a stated bound where it does (learning,
effort shared with the backlog).
"""

from __future__ import annotations

import numpy as np
import pytest

from tipresearch.errors import ParameterError
from tipresearch.model import TOTALS, Dynamics, ModelParams, simulate
from tipresearch.model.bureaus import draw_bureaus
from tipresearch.reforms import ChinaModel

COUNTS = list(TOTALS)  # every count of a frame


def _compare(params, periods, runs, *, dynamics=None, schedule=None, metric="clearance_rate"):
    bureaus = draw_bureaus(params, 7)
    kw = {"bureaus": bureaus, "dynamics": dynamics, "schedule": schedule}
    expected = simulate(params, metric, periods, 1, "expected", **kw)
    totals = np.array(
        [
            simulate(params, metric, periods, 1000 + s, "aggregate", **kw)[COUNTS].sum().to_numpy()
            for s in range(runs)
        ]
    )
    mean = totals.mean(axis=0)
    se = totals.std(axis=0, ddof=1) / np.sqrt(runs)
    return expected[COUNTS].sum().to_numpy(), mean, se, expected


@pytest.mark.parametrize(
    ("changes", "dynamics"),
    [
        ({"screening_noise": 0.05}, None),
        ({"dispersion": 0.5, "audit_prob": 0.1}, None),
        ({"children.recall_prob": 0.05}, Dynamics(adjust_rate=0.3)),
        ({}, Dynamics(deterrence=1.0)),
    ],
    ids=["noise", "overdispersed", "recall-and-adjustment", "deterrence"],
)
def test_exact_where_the_plan_does_not_depend_on_the_draws(changes, dynamics):
    params = ModelParams().updated({"n_bureaus": 20, **changes})
    exp, mean, se, frame = _compare(params, 24, 400, dynamics=dynamics)
    moving = se > 0
    z = (exp[moving] - mean[moving]) / se[moving]
    assert np.abs(z).max() < 4.0, dict(zip(np.array(COUNTS)[moving], z.round(2), strict=True))
    assert (exp[~moving] == 0).all()
    # counts are expectations: real numbers, clearance the ratio of expectations
    assert frame["opened"].dtype == float
    rate = frame["solved"] / frame["opened"]
    assert np.allclose(frame["clearance_rate"], rate)


def test_exact_over_the_china_calendar():
    """Schedules and reforms change the plan month by month, not with the draws."""
    model = ChinaModel(settings={"n_bureaus": 10})
    schedule = model.timeline().schedule(model.params, model.metric)
    exp, mean, se, _ = _compare(
        model.params, 36, 300, schedule=schedule, dynamics=Dynamics(adjust_rate=0.05)
    )
    moving = se > 0
    assert np.abs((exp[moving] - mean[moving]) / se[moving]).max() < 4.0


@pytest.mark.parametrize(
    ("dynamics", "bound"),
    [
        (Dynamics(learning_rate=0.5, learning_scale=20.0), 0.01),
        (Dynamics(backlog_effort=1.0), 0.025),
    ],
    ids=["learning", "shared-backlog"],
)
def test_an_approximation_within_its_stated_bound_where_the_state_is_random(dynamics, bound):
    params = ModelParams().updated({"n_bureaus": 20, "screening_noise": 0.05})
    exp, mean, _, _ = _compare(params, 36, 200, dynamics=dynamics)
    moving = mean > 0
    rel = np.abs(exp[moving] / mean[moving] - 1.0)
    assert rel.max() < bound, dict(zip(np.array(COUNTS)[moving], rel.round(4), strict=True))
    assert (exp[~moving] == 0).all()


def test_only_the_bureaus_depend_on_the_seed():
    params = ModelParams().updated({"n_bureaus": 5})
    a = simulate(params, "solved_count", 6, 3, "expected")
    assert a.equals(simulate(params, "solved_count", 6, 3, "expected"))
    other = simulate(params, "solved_count", 6, 4, "expected")
    assert not np.allclose(a["reports"], other["reports"])  # other bureaus
    bureaus = draw_bureaus(params, 11)
    x = simulate(params, "solved_count", 6, 3, "expected", bureaus=bureaus)
    y = simulate(params, "solved_count", 6, 99, "expected", bureaus=bureaus)
    assert x.drop(columns="month").equals(y.drop(columns="month"))


def test_an_unknown_engine_names_the_choices():
    with pytest.raises(ParameterError, match="one of aggregate, micro, expected"):
        simulate(ModelParams(), "solved_count", 2, 0, "exact")


def test_the_china_model_runs_with_any_engine():
    model = ChinaModel(settings={"n_bureaus": 4}, end="2008-06").updated({"engine": "expected"})
    assert model.engine == "expected"
    frame = model.simulate(seed=1)
    assert frame.attrs["engine"] == "expected" and frame["opened"].dtype == float
    assert (frame["reports"] % 1 != 0).any()  # expectations, not draws
    with pytest.raises(ParameterError, match="engine"):
        ChinaModel().updated({"engine": "exact"})


def test_the_bureaus_come_from_the_first_child_of_the_root_seed_as_in_simulate():
    from tipresearch.model.bureaus import bureau_normals
    from tipresearch.model.expected import _bureau_normals

    for seed in (0, 7, 2**32 + 5, 2**63 + 11, 12345678901234567890123):
        child = np.random.SeedSequence(seed).spawn(2)[0]  # what simulate() draws from
        np.testing.assert_array_equal(_bureau_normals(seed, 9), bureau_normals(child, 9))
