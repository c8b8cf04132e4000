"""The compiled best-threshold search against the numpy search it replaces (§3.3.8)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tipresearch.errors import ParameterError
from tipresearch.model import ModelParams
from tipresearch.model import decision as D
from tipresearch.model.effort import EffortRows
from tipresearch.model.metrics import PRESETS, get_metric
from tipresearch.model.search import search_thresholds

NO_BONUS = [name for name in PRESETS if not get_metric(name).bonus]


def _params(noise: float, dispersion: float, dna: float) -> ModelParams:
    base = ModelParams()
    types = tuple(dataclasses.replace(ct, dna_effect=dna) for ct in base.case_types)
    return dataclasses.replace(base, screening_noise=noise, dispersion=dispersion, case_types=types)


def _bureaus(seed: int, size: int = 600) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lam = rng.lognormal(3.0, 1.5, size)
    return lam, lam * rng.uniform(0.1, 3.0, size)


def _score(params, metric, ct, lam, cap, tau) -> np.ndarray:
    p, m = D.tabulated_moments(tau, ct, params.screening_noise)
    effort = EffortRows(cap, params.effort_half, params.dispersion)
    return D._score(metric, params, ct, lam, cap, p, m, effort)


@pytest.mark.parametrize("name", NO_BONUS)
@pytest.mark.parametrize(
    ("noise", "dispersion", "dna"), [(0.05, 0.0, 0.0), (0.0, 0.0, 0.2), (0.12, 0.3, 0.1)]
)
def test_the_compiled_search_scores_at_least_as_well_as_the_numpy_search(
    name, noise, dispersion, dna
):
    params = _params(noise, dispersion, dna)
    metric = get_metric(name)
    lam, cap = _bureaus(NO_BONUS.index(name) + int(100 * noise))
    for ct in params.case_types:
        fast = D._best_for_type(params, metric, ct, lam, cap)
        slow = D._best_for_type(params, metric, ct, lam, cap, compiled=False)
        s_fast = _score(params, metric, ct, lam, cap, fast)
        s_slow = _score(params, metric, ct, lam, cap, slow)
        scale = np.maximum(np.abs(s_slow), 1e-12)
        # never worse beyond the table's rounding; better where the numpy grids missed
        assert np.all((s_fast - s_slow) / scale > -1e-8), name
        # the same threshold wherever the score is not flat around the optimum
        close = np.abs(fast - slow) <= 2e-6
        tied = np.abs(s_fast - s_slow) / scale < 1e-6
        assert np.all(close | tied), name
        if dispersion == 0:  # the over-dispersed effort table is coarser: more near-ties
            assert close.mean() > 0.9, name


def test_bureaus_outside_the_effort_table_take_the_numpy_search():
    params = ModelParams()
    metric = get_metric("solved_count")
    ct = params.case_types[0]
    lam = np.array([5.0, 3e6, 40.0, 0.0])  # 3e6 reports: beyond the table's 1e6
    cap = np.array([2.0, 1e6, 1e-5, 1.0])  # capacity / half-effort 1e-5: below 1e-3
    fast = D._best_for_type(params, metric, ct, lam, cap)
    slow = D._best_for_type(params, metric, ct, lam, cap, compiled=False)
    np.testing.assert_array_equal(fast[1:3], slow[1:3])
    # no reports: every threshold scores 0, both take the first
    assert fast[3] == slow[3]
    assert abs(fast[0] - slow[0]) <= 2e-6


def test_each_bureau_is_searched_on_its_own():
    params = ModelParams()
    metric = get_metric("clearance_rate")
    ct = params.case_types[1]
    lam, cap = _bureaus(3, 200)
    whole = D._best_for_type(params, metric, ct, lam, cap)
    order = np.random.default_rng(1).permutation(lam.size)
    shuffled = D._best_for_type(params, metric, ct, lam[order], cap[order])
    np.testing.assert_array_equal(shuffled, whole[order])
    one = np.array(
        [
            D._best_for_type(params, metric, ct, lam[i : i + 1], cap[i : i + 1])[0]
            for i in range(0, lam.size, 37)
        ]
    )
    np.testing.assert_array_equal(one, whole[::37])


def test_an_audit_per_bureau_is_the_same_as_one_regime_at_a_time():
    params = ModelParams()
    metric = get_metric("solved_count")
    ct = params.case_types[0]
    lam, cap = _bureaus(5, 50)
    q = np.linspace(0.0, 1.0, lam.size)
    together = D._best_for_type(params, metric, ct, lam, cap, audit_q=q)
    for i in (0, 17, 49):
        single = dataclasses.replace(params, audit_prob=float(q[i]))
        alone = D._best_for_type(single, metric, ct, lam[i : i + 1], cap[i : i + 1])
        assert together[i] == pytest.approx(alone[0], abs=1e-12)


def test_the_bounds_save_most_of_the_evaluations():
    params = ModelParams()
    metric = get_metric("clearance_rate")
    ct = params.case_types[0]
    lam, cap = _bureaus(7, 400)
    tau_f, p_f, m_f = D._table(ct.beta_a, ct.beta_b, ct.dna_effect, params.screening_noise)
    effort = EffortRows(cap, params.effort_half, params.dispersion)
    coef = np.array(
        [
            metric.solved + metric.unsolved,
            -params.handling_cost,
            0,
            0,
            metric.rate,
            metric.quota,
            metric.quota_penalty,
        ]
    )
    q, pen = params.audit(ct)
    counted = np.zeros(lam.size, dtype=np.int64)
    search_thresholds(
        tau_f,
        p_f,
        m_f,
        8,
        lam,
        effort.compiled_rows(),
        coef,
        np.full(lam.size, metric.penalty_weight * q * pen),
        evaluations=counted,
    )
    # the numpy search scores 129 coarse points and 6 x 17 refining points per bureau
    assert counted.min() > 0
    assert counted.mean() < 0.5 * (129 + 6 * 17)


@pytest.mark.parametrize(("key", "value"), [("anchor_step", 0), ("iterations", -1)])
def test_bad_search_settings_are_refused(key, value):
    params = ModelParams()
    ct = params.case_types[0]
    tau_f, p_f, m_f = D._table(ct.beta_a, ct.beta_b, ct.dna_effect, params.screening_noise)
    effort = EffortRows(np.ones(2), params.effort_half)
    with pytest.raises(ParameterError, match=key):
        search_thresholds(
            tau_f,
            p_f,
            m_f,
            8,
            np.ones(2),
            effort.compiled_rows(),
            np.zeros(7),
            np.zeros(2),
            **{key: value},
        )


@pytest.mark.parametrize("dispersion", [0.0, 0.1, 0.3])
def test_cases_solvable_never_fall_as_more_are_opened_in_the_effort_table(dispersion):
    """The bound's second half (MONOTONE_SLACK): opened x effort factor rises with opened.

    True of the exact factor (``O h(O)`` rises with ``O``, and more expected cases mean
    stochastically more); the table's interpolation may break it only by rounding-size
    amounts, which the slack covers with a wide margin.
    """
    from tipresearch.model.search import MONOTONE_SLACK

    capacity = np.logspace(-3, 7, 60) * 0.25
    mu = np.expm1(np.linspace(0.0, np.log1p(1e6), 40_001))[1:]
    rows = EffortRows(capacity, 0.25, dispersion)
    solvable = mu * rows(np.broadcast_to(mu, (capacity.size, mu.size)))
    fall = 1.0 - solvable / np.maximum.accumulate(solvable, axis=1)
    assert fall.max() < MONOTONE_SLACK / 20
    # and the exact factor, where the bound comes from, rises strictly
    from tipresearch.model.effort import effort_factor

    exact = mu[::400] * effort_factor(mu[::400], capacity[:, None], 0.25, dispersion)
    assert np.all(np.diff(exact, axis=1) > 0)
