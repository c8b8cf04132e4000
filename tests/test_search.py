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
from tipresearch.model.search import search_groups, search_thresholds

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


def _segment_case(params, metric, ct, lam_r, cap_r):
    """A bureau's effort row and score weights, as the compiled search builds them."""
    from tipresearch.model import search as S

    effort = EffortRows(np.array([cap_r]), params.effort_half, params.dispersion)
    flat, base, fx, first, scale, n = effort.compiled_rows()
    row = np.empty(n)
    S._fill_row(row, lam_r, flat, base[0], fx[0], scale, n)
    q, pen = params.audit(ct)
    audit = metric.penalty_weight * q * pen
    w_opened = metric.opened - metric.unsolved - metric.cost_weight * params.handling_cost
    quota_penalty = metric.quota_penalty if metric.quota else 0.0
    wts = (metric.solved + metric.unsolved, w_opened + audit, audit)
    wts = (*wts, float(metric.rate), float(metric.quota), float(quota_penalty))
    return row, float(first[0]), float(scale), int(n), tuple(float(w) for w in wts)


def _table_score(p, m, lam_r, row, first, scale, n, wts):
    """``_per_report(p, m, _effort(lam p))`` of the compiled search, over arrays."""
    y = np.log(1.0 + lam_r * p) * scale
    j = np.minimum(y.astype(int), n - 2)
    h = np.exp(row[j] + (row[j + 1] - row[j]) * (y - j)) * first
    w_solved, w_opened, audit, rate, quota, penalty = wts
    s = w_solved * m * h + w_opened * p - audit - penalty * np.maximum(quota - m * h, 0)
    return s + np.where(p > 1e-12, rate * m * h / np.maximum(p, 1e-12), 0.0)


@pytest.mark.parametrize("name", ["clearance_rate", "solved_count", "opened_count"])
@pytest.mark.parametrize("dispersion", [0.0, 0.1, 0.3])
def test_the_bounds_never_skip_the_best_tabulated_threshold(name, dispersion):
    """Steps 1 and 2 against scoring all 1,025 tabulated thresholds: the search's
    threshold scores at least as well as the best of them, so no gap that held a
    better one was pruned."""
    params = _params(0.08, dispersion, 0.2)
    metric = get_metric(name)
    for k, ct in enumerate(params.case_types):
        tau_f, p_f, m_f = D._table(ct.beta_a, ct.beta_b, ct.dna_effect, params.screening_noise)
        lam, cap = _bureaus(31 + k, 300)
        found = D._best_for_type(params, metric, ct, lam, cap)
        for lam_r, cap_r, t in zip(lam, cap, found, strict=True):
            row, first, scale, n, wts = _segment_case(params, metric, ct, lam_r, cap_r)
            best = _table_score(p_f, m_f, lam_r, row, first, scale, n, wts).max()
            p, m = np.interp(t, tau_f, p_f), np.interp(t, tau_f, m_f)
            got = _table_score(np.array([p]), np.array([m]), lam_r, row, first, scale, n, wts)
            assert got[0] >= best - 1e-9 * (abs(best) + 1.0), (ct.name, lam_r, cap_r)


@pytest.mark.parametrize("dispersion", [0.0, 0.1, 0.3, 1.0])
def test_the_effort_factors_elasticity_rises_with_the_cases_opened(dispersion):
    """The bound's tangents (ELASTICITY_SLACK): ``-dlog h / dlog O`` rises with ``O``.

    In the table the log of the factor is linear in ``log(1 + O)`` within a cell, so
    the elasticity there is ``-d scale O / (1 + O)``; taken at both ends of every cell,
    in order, it never falls below the largest value before it by more than a quarter
    of the slack. The exact factor's elasticity (by differences) rises as well.
    """
    from tipresearch.model.effort import effort_factor
    from tipresearch.model.search import ELASTICITY_SLACK

    capacity = np.logspace(-3, 7, 60) * 0.25
    rows = EffortRows(capacity, 0.25, dispersion)
    flat, base, fx, _, scale, n = rows.compiled_rows()
    cells = np.arange(n - 1)
    o_lo, o_hi = np.expm1(cells / scale), np.expm1((cells + 1) / scale)
    for i in range(capacity.size):
        t = flat[base[i] : base[i] + n] * (1 - fx[i]) + flat[base[i] + n : base[i] + 2 * n] * fx[i]
        d = np.diff(t)
        ends = np.stack([-d * scale * o_lo / (1 + o_lo), -d * scale * o_hi / (1 + o_hi)], axis=1)
        e = ends.ravel()[2:]  # from the first cell's right end: O = 0 at its left
        fall = 1.0 - e / np.maximum.accumulate(e)
        assert fall.max() < ELASTICITY_SLACK / 4, capacity[i]
    mu = np.geomspace(1e-2, 1e5, 400)
    log_h = np.log(effort_factor(mu, capacity[::6, None], 0.25, dispersion))
    elasticity = -np.diff(log_h, axis=1) / np.diff(np.log(mu))
    assert np.all(np.diff(elasticity, axis=1) > -1e-6 * elasticity[:, 1:])


@pytest.mark.parametrize("name", ["clearance_rate", "solved_count", "opened_count"])
@pytest.mark.parametrize("dispersion", [0.0, 0.3])
def test_the_best_point_of_a_segment_is_the_best_of_a_dense_scan(name, dispersion):
    """Step 3 (``_segment``) against 4,001 points of each segment: never lower."""
    from tipresearch.model import search as S

    params = _params(0.05, dispersion, 0.0)
    metric = get_metric(name)
    rng = np.random.default_rng(11)
    x = np.linspace(0.0, 1.0, 4001)
    pieces = 0
    for ct in params.case_types:
        tau_f, p_f, m_f = D._table(ct.beta_a, ct.beta_b, ct.dna_effect, params.screening_noise)
        lam, cap = _bureaus(int(rng.integers(1000)), 300)
        for lam_r, cap_r in zip(lam, cap, strict=True):
            row, first, scale, n, wts = _segment_case(params, metric, ct, lam_r, cap_r)

            def score(p, m, row=row, first=first, scale=scale, n=n, wts=wts, lam_r=lam_r):
                return _table_score(p, m, lam_r, row, first, scale, n, wts)

            # the segments beside the best tabulated threshold, where step 3 looks, and
            # one more at random
            f = int(np.argmax(score(p_f, m_f)))
            spare = int(rng.integers(0, np.flatnonzero(p_f > 1e-6)[-1]))
            for j in {max(f - 1, 0), min(f, tau_f.size - 2), spare}:
                p0, dp, m0, dm = p_f[j], p_f[j + 1] - p_f[j], m_f[j], m_f[j + 1] - m_f[j]
                dense = score(p0 + dp * x, m0 + dm * x)
                seg = (p0, dp, m0, dm, lam_r, row, first, scale, n - 2, wts)
                _, s, used = S._segment(seg, 20)
                best = max(s, dense[0], dense[-1])
                assert best >= dense.max() - 1e-10 * (abs(dense.max()) + 1.0), (ct.name, j)
                pieces += used != 22  # the piecewise search, not the golden fallback
    assert pieces > 1000


def test_a_segment_where_nothing_is_opened_takes_the_golden_section_search():
    from tipresearch.model import search as S

    params = ModelParams()
    metric = get_metric("clearance_rate")
    ct = params.case_types[0]
    row, first, scale, n, wts = _segment_case(params, metric, ct, 50.0, 20.0)
    seg = (0.01, -0.01, 0.005, -0.005, 50.0, row, first, scale, n - 2, wts)
    _, _, used = S._segment(seg, 9)
    assert used == 11


# --------------------------------------------------------------------------- many runs at once


def test_groups_searched_together_get_the_thresholds_each_gets_alone():
    # three groups on two tables, with their own weights and audits, in one call
    lam, cap = _bureaus(11, 90)
    rows = EffortRows(cap, 1.0, 0.0)
    flat, base, fx, first, scale, n = rows.compiled_rows()
    params = [_params(0.05, 0.0, 0.0), _params(0.12, 0.0, 0.2)]
    tables = [
        D._table(ct.beta_a, ct.beta_b, ct.dna_effect, p.screening_noise)
        for p in params
        for ct in p.case_types[:1]
    ]
    coefs = [
        D._search_weights(p, get_metric(m), p.case_types[0])
        for p, m in [
            (params[0], "clearance_rate"),
            (params[1], "solved_count"),
            (params[0], "opened_count"),
        ]
    ]
    table_of, start, audit = [0, 1, 0], [0, 30, 55, 90], [0.0, 0.3, 0.05]
    together = search_groups(
        tuple(np.stack([t[j] for t in tables]) for j in range(3)),
        np.array(table_of),
        np.array(start),
        np.array(coefs),
        D._COARSE_STEP,
        lam,
        rows.compiled_rows(),
        np.repeat(audit, np.diff(start)),
    )
    for g in range(3):
        at = slice(start[g], start[g + 1])
        alone = search_thresholds(
            *tables[table_of[g]],
            D._COARSE_STEP,
            lam[at],
            (flat, base[at], fx[at], first[at], scale, n),
            np.array(coefs[g]),
            np.full(at.stop - at.start, audit[g]),
        )
        np.testing.assert_array_equal(together[at], alone)


def test_groups_must_cover_the_bureaus_once():
    lam, cap = _bureaus(3, 10)
    table = D._table(2.0, 5.0, 0.0, 0.05)
    args = (table, np.zeros(2, dtype=int))
    for start in ([0, 4, 9], [0, 6, 4]):  # misses the last bureau; falls back
        with pytest.raises(ParameterError, match="start"):
            search_groups(
                *args,
                np.array(start),
                np.zeros((2, 7)),
                8,
                lam,
                EffortRows(cap, 1.0).compiled_rows(),
                np.zeros(10),
            )


def test_many_runs_get_the_thresholds_each_run_gets_alone():
    # runs with other noise, dispersion, effort, ratings (one with the target bonus),
    # and bureaus outside the effort table in one of them
    runs, lams, caps = [], [], []
    for i, (noise, dispersion, metric) in enumerate(
        [
            (0.05, 0.0, "clearance_rate"),
            (0.12, 0.3, "solved_count"),
            (0.0, 0.0, "opened_count"),
            (0.05, 0.3, "clearance_rate"),
            (0.08, 0.0, "clearance_target"),
        ]
    ):
        params = dataclasses.replace(_params(noise, dispersion, 0.1 * i), effort_half=0.5 + i)
        lam, cap = _bureaus(20 + i, 40)
        shares = np.array([ct.share for ct in params.case_types])
        lam, cap = lam[:, None] * shares, cap[:, None] * shares
        if i == 3:
            lam[5, 0], cap[7, 1] = 3e6, 1e-6  # beyond the effort table
        runs.append((params, get_metric(metric)))
        lams.append(lam)
        caps.append(cap)
    assert get_metric("clearance_target").bonus
    together = D.best_thresholds_many(runs, lams, caps)
    for (params, metric), lam, cap, tau in zip(runs, lams, caps, together, strict=True):
        np.testing.assert_array_equal(tau, D.best_thresholds(params, metric, lam, cap))
    # the moments at the thresholds, from the compiled search where it ran: the numbers
    # np.interp gives in the type's table
    with_moments = D.best_thresholds_many(runs, lams, caps, moments=True)
    for (params, _), tau, (tau2, p, m) in zip(runs, together, with_moments, strict=True):
        np.testing.assert_array_equal(tau2, tau)
        for k, ct in enumerate(params.case_types):
            want_p, want_m = D.tabulated_moments(tau[:, k], ct, params.screening_noise)
            np.testing.assert_array_equal(p[:, k], want_p)
            np.testing.assert_array_equal(m[:, k], want_m)


def test_the_compiled_interpolation_gives_numpys_numbers():
    from tipresearch.model.search import _interp

    tau, p, m = D._table(2.0, 5.0, 0.1, 0.05)
    rng = np.random.default_rng(0)
    xs = np.concatenate(
        [rng.uniform(tau[0], tau[-1], 4000), tau[::37], [tau[0] - 1.0, tau[-1], tau[-1] + 1.0]]
    )
    for fp in (p, m):
        got = np.array([_interp(x, tau, fp) for x in xs])
        np.testing.assert_array_equal(got, np.interp(xs, tau, fp))
