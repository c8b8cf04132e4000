"""Expected outcomes and best responses: closed forms, optimality, comparative statics."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from tipresearch.model import (
    CaseType,
    Metric,
    ModelParams,
    best_response,
    expected_outcomes,
    intake_moments,
    planner_response,
    tabulated_moments,
)

CASES = [
    # (a, b, delta, sigma, tau)
    (2.0, 2.0, 0.0, 0.0, 0.4),
    (1.0, 3.0, 0.0, 0.0, 0.15),
    (0.5, 0.8, 0.0, 0.0, 0.6),
    (1.0, 3.0, 0.3, 0.0, 0.45),
    (2.0, 2.0, 0.0, 0.1, 0.5),
    (1.0, 3.0, 0.2, 0.05, 0.3),
    (0.7, 1.5, 0.0, 0.3, 0.2),
]


@pytest.mark.parametrize(("a", "b", "delta", "sigma", "tau"), CASES)
def test_moments_match_monte_carlo_within_4_standard_errors(a, b, delta, sigma, tau):
    rng = np.random.default_rng(12345)
    n = 400_000
    s = delta + (1 - delta) * rng.beta(a, b, n)
    is_open = s + sigma * rng.standard_normal(n) >= tau
    p, m = intake_moments(tau, CaseType("x", a, b, dna_effect=delta), sigma)
    for exact, sample in ((p, is_open.astype(float)), (m, s * is_open)):
        se = sample.std(ddof=1) / np.sqrt(n)
        assert abs(sample.mean() - exact) < 4 * se + 1e-12


@pytest.mark.parametrize(("a", "b", "delta", "sigma", "tau"), CASES)
def test_tabulated_moments_agree_with_quadrature(a, b, delta, sigma, tau):
    ct = CaseType("x", a, b, dna_effect=delta)
    grid = np.linspace(-0.3, 1.3, 161)
    for exact, table in zip(
        intake_moments(grid, ct, sigma), tabulated_moments(grid, ct, sigma), strict=True
    ):
        assert_allclose(table, exact, atol=2e-4)


def test_moment_limits():
    ct = CaseType("x", 2.0, 3.0, dna_effect=0.1)
    p, m = intake_moments(np.array([-1.0, 2.0]), ct, 0.0)
    assert_allclose(p, [1.0, 0.0])
    assert_allclose(m, [ct.mean_solvability, 0.0])


def _metric_score(params, metric, tau):
    return expected_outcomes(params, metric, tau)["score"]


@pytest.mark.parametrize(
    "metric", ["solved_count", "clearance_rate", "balanced", "clearance_target", "planner"]
)
@pytest.mark.parametrize("noise", [0.0, 0.05])
def test_best_response_beats_a_dense_grid(metric, noise):
    params = ModelParams(screening_noise=noise)
    lam = np.array([10.0, 200.0])
    best = best_response(params, metric, reports=lam)
    grid = np.linspace(-0.3, 1.3, 1601)
    for k in range(2):
        for b in range(lam.size):
            tau = np.tile(best.threshold[b], (grid.size, 1))
            tau[:, k] = grid
            scores = expected_outcomes(params, metric, tau, reports=np.full(grid.size, lam[b]))
            exact_best = expected_outcomes(
                params, metric, best.threshold[b : b + 1], lam[b : b + 1]
            )
            gap = scores["score"][:, k].max() - exact_best["score"][0, k]
            assert gap <= 1e-4 * max(1.0, abs(exact_best["score"][0, k]))


def _intake(params, metric, k=None):
    out = best_response(params, metric).outcomes
    rate = out["opened"][0] / out["reports"][0]
    return rate if k is None else rate[k]


def test_more_weight_on_clearance_rate_lowers_intake():
    params = ModelParams()
    weights = [0.0, 0.05, 0.1, 0.2, 0.4]
    intake = np.array([_intake(params, Metric("m", solved=1.0, rate=w)) for w in weights])
    assert np.all(np.diff(intake, axis=0) <= 1e-9)
    assert np.all(intake[0] - intake[-1] > 0.1)


def test_clearance_rate_preset_is_interior_and_below_solved_count():
    params = ModelParams()
    rate = _intake(params, "clearance_rate")
    assert np.all((rate > 0.02) & (rate < 0.98))
    assert np.all(rate < _intake(params, "solved_count"))


def test_opened_count_opens_everything():
    assert_allclose(_intake(ModelParams(), "opened_count"), 1.0, atol=1e-6)


def test_mandatory_intake_with_strong_audit_opens_nearly_all():
    weak = _intake(ModelParams(), "solved_count")
    strong = _intake(ModelParams(audit_prob=0.9, audit_penalty=2.0), "solved_count")
    assert np.all(strong > 0.97)
    assert np.all(strong > weak)


def test_dna_database_raises_childrens_intake_under_solved_count():
    params = ModelParams()
    k = params.type_names.index("children")
    without = _intake(params, "solved_count", k)
    with_dna = _intake(params.updated({"children.dna_effect": 0.2}), "solved_count", k)
    assert with_dna > without + 0.02


def test_scarcer_capacity_raises_the_threshold():
    ratios = [0.1, 0.2, 0.4, 0.8]
    taus = np.array(
        [best_response(ModelParams(capacity_ratio=c), "solved_count").threshold[0] for c in ratios]
    )
    assert np.all(np.diff(taus, axis=0) < 0)


def test_planner_opens_at_least_as_much_as_solved_count():
    params = ModelParams()
    planner = planner_response(params).outcomes
    solved = best_response(params, "solved_count").outcomes
    assert np.all(planner["opened"] >= solved["opened"] - 1e-9)


def test_response_frame_is_tidy():
    frame = best_response(ModelParams(), "solved_count", reports=[10.0, 20.0, 30.0]).to_frame()
    assert len(frame) == 6
    assert list(frame.case_type[:2]) == ["women", "children"]
    assert {"threshold", "opened", "solved", "score", "declined_solvable"} <= set(frame.columns)


def test_mandatory_intake_for_children_only():
    params = ModelParams().updated({"children.audit_prob": 0.9, "children.audit_penalty": 2.0})
    base = _intake(ModelParams(), "solved_count")
    reform = _intake(params, "solved_count")
    k = params.type_names.index("children")
    assert reform[k] > 0.97 and reform[k] > base[k]
    assert reform[1 - k] == pytest.approx(base[1 - k], abs=1e-9)


def test_tabulated_probabilities_stay_within_the_unit_interval():
    # rounding in the convolution table must not give P(open) > 1 (the binomial draw
    # refuses it), here for opening every report under noise with a DNA effect
    ct = CaseType("children", 1.0, 3.0, dna_effect=0.3)
    p, m = tabulated_moments(np.linspace(-1.0, 2.0, 3001), ct, 0.3)
    assert p.max() <= 1.0 and p.min() >= 0.0 and m.max() <= 1.0


@pytest.mark.parametrize(("a", "b", "delta", "sigma", "tau"), CASES)
def test_tables_from_the_shared_unit_table_match_direct_hard_moments(a, b, delta, sigma, tau):
    """The interpolated hard moments (one table per shape) agree with betaincc directly."""
    from tipresearch.model.decision import _moments_hard, _moments_hard_tabulated

    t = np.linspace(delta - 0.2, 1.2, 2001)
    for direct, shared in zip(
        _moments_hard(t, a, b, delta), _moments_hard_tabulated(t, a, b, delta), strict=True
    ):
        assert_allclose(shared, direct, atol=1e-5)


@pytest.mark.parametrize(("delta", "sigma"), [(0.0, 0.1), (0.3, 0.02), (0.5, 0.2), (0.1, 0.004)])
def test_tables_convolve_only_the_points_between_the_kinks(delta, sigma):
    """The smoothed moments equal the convolution of every point of the wide grid."""
    from tipresearch.model.decision import _moments_hard_tabulated, _smoothed

    a, b = 2.0, 5.0
    fine = (1.0 + 12 * sigma) / 1024 / (1 if sigma > 0.01 else 4)
    half = int(np.ceil(6 * sigma / fine))
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) * fine / sigma) ** 2)
    kernel /= kernel.sum()
    wide = delta - 6 * sigma + fine * np.arange(-half, 1025 + half)
    p, m = _smoothed(wide, kernel, a, b, delta)
    p0, m0 = _moments_hard_tabulated(wide, a, b, delta)
    assert p.shape == (1025,)
    assert_allclose(p, np.convolve(p0, kernel, mode="valid"), rtol=0, atol=1e-14)
    assert_allclose(m, np.convolve(m0, kernel, mode="valid"), rtol=0, atol=1e-14)
