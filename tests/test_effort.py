"""The effort factor averaged over the number of cases opened."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from tipresearch.model import ModelParams, best_response, draw_bureaus, simulate
from tipresearch.model.effort import (
    TABLE_ERROR,
    TABLE_ERROR_DISPERSED,
    EffortRows,
    effort_factor,
    effort_factor_fast,
    plug_in_effort_factor,
)


def _summed(mu: float, capacity: float, effort_half: float, dispersion: float) -> float:
    """``E[O h(O)] / mu`` by summing the count's probabilities."""
    if dispersion == 0:
        top = int(mu + 40 * np.sqrt(mu + 1) + 100)
        k = np.arange(top)
        pmf = stats.poisson.pmf(k, mu)
    else:
        r = 1.0 / dispersion
        dist = stats.nbinom(r, r / (r + mu))
        k = np.arange(int(dist.ppf(1 - 1e-15)) + 2)
        pmf = dist.pmf(k)
    return float(np.sum(pmf * k * capacity / (capacity + effort_half * k)) / mu)


@pytest.mark.parametrize("dispersion", [0.0, 0.1, 0.5, 2.0, 5.0])
@pytest.mark.parametrize("mu", [1e-3, 0.4, 3.0, 25.0, 400.0, 3000.0])
@pytest.mark.parametrize("capacity", [0.05, 1.0, 30.0, 2000.0])
def test_closed_form_matches_summed_probabilities(mu, capacity, dispersion):
    for effort_half in (0.05, 0.25, 3.0):
        exact = _summed(mu, capacity, effort_half, dispersion)
        got = float(effort_factor(mu, capacity, effort_half, dispersion))
        assert got == pytest.approx(exact, rel=1e-8)


def test_limits_and_order():
    cap, e = np.array([0.3, 5.0, 80.0]), 0.25
    # a lone case gets the whole capacity: K / (K + e_half)
    np.testing.assert_allclose(effort_factor(0.0, cap, e), cap / (cap + e), rtol=1e-12)
    mu = np.linspace(0.01, 200.0, 400)
    for c in cap:
        h = effort_factor(mu, c, e)
        assert np.all(np.diff(h) < 0)  # more cases, less effort each
        # x h(x) is concave: the expected count inside h overstates (Jensen)
        assert np.all(h < plug_in_effort_factor(mu, c, e))
    # over-dispersed counts spread the effort less evenly: less effort per case
    assert np.all(effort_factor(mu, 5.0, e, 0.5) < effort_factor(mu, 5.0, e))


@pytest.mark.parametrize("dispersion", [0.0, 0.3])
def test_table_is_within_its_stated_error(dispersion):
    rng = np.random.default_rng(5)
    a = np.exp(rng.uniform(np.log(1e-3), np.log(1e7), 20_000))
    mu = np.expm1(rng.uniform(0.0, np.log1p(1e6), 20_000))
    e = 0.25
    exact = effort_factor(mu, a * e, e, dispersion)
    bound = TABLE_ERROR if dispersion == 0 else TABLE_ERROR_DISPERSED
    assert np.max(np.abs(effort_factor_fast(mu, a * e, e, dispersion) / exact - 1)) < bound
    rows = EffortRows(a * e, e, dispersion)
    assert np.max(np.abs(rows(mu) / exact - 1)) < bound
    # two-dimensional lookups and points outside the table (exact form there)
    grid = np.outer(mu[:50], [0.1, 1.0, 10.0])
    np.testing.assert_allclose(
        EffortRows(a[:50] * e, e, dispersion)(grid),
        effort_factor(grid, (a[:50] * e)[:, None], e, dispersion),
        rtol=bound,
    )
    far = np.array([1e-5, 1e8])
    np.testing.assert_allclose(
        effort_factor_fast(np.array([3.0, 2e6]), far * e, e),
        effort_factor(np.array([3.0, 2e6]), far * e, e),
        rtol=1e-12,
    )


@pytest.mark.parametrize("engine", ["aggregate", "micro"])
def test_mean_solved_matches_expectation_and_rejects_the_plug_in(engine):
    # small bureaus with little capacity: the plug-in overstates solved cases by
    # several per cent, well beyond the Monte Carlo error of this test
    params = ModelParams(n_bureaus=300, reports_mean=4.0, capacity_ratio=0.4)
    periods = 40
    f = simulate(params, "solved_count", periods=periods, seed=3, engine=engine)
    bureaus = draw_bureaus(params, np.random.SeedSequence(3).spawn(2)[0])
    response = best_response(params, "solved_count", bureaus.reports, bureaus.capacity)
    exp = response.outcomes
    for k, name in enumerate(params.type_names):
        rows = f[f.case_type == name].groupby("bureau")
        mean = rows.solved.mean().to_numpy()
        se = rows.solved.std().to_numpy() / np.sqrt(periods)
        total_se = np.sqrt(np.sum(se**2))
        z = (mean.sum() - exp["solved"][:, k].sum()) / total_se
        assert abs(z) < 4, (name, z)
        # the same thresholds with the expected count inside h
        lam = bureaus.reports * params.case_types[k].share
        cap = bureaus.capacity * params.case_types[k].share
        opened = exp["opened"][:, k]
        ratio = plug_in_effort_factor(opened, cap, params.effort_half) / effort_factor(
            opened, cap, params.effort_half
        )
        plug_in = exp["solved"][:, k] * ratio
        z_plug = (mean.sum() - plug_in.sum()) / total_se
        assert z_plug < -4, (name, z_plug)
        assert np.all(lam > 0)


def test_a_table_is_built_once_and_read_back(tmp_path):
    from tipresearch.model.effort import _stored_grid

    built = []

    def build():
        built.append(1)
        return np.arange(6.0).reshape(2, 3)

    first = _stored_grid("t", build, (2, 3), tmp_path)
    again = _stored_grid("t", build, (2, 3), tmp_path)
    np.testing.assert_array_equal(first, again)
    assert len(built) == 1
    (stored,) = tmp_path.glob("t-*.npy")
    assert stored.stat().st_mode & 0o777 == 0o644
    # a truncated file, or one of another shape, is built again
    stored.write_bytes(stored.read_bytes()[:40])
    np.testing.assert_array_equal(_stored_grid("t", build, (2, 3), tmp_path), first)
    assert len(built) == 2
    assert _stored_grid("t", lambda: np.zeros((3, 3)), (3, 3), tmp_path).shape == (3, 3)
    # a folder that cannot be made: built every time, nothing raised
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    np.testing.assert_array_equal(_stored_grid("t", build, (2, 3), blocked / "sub"), first)
    assert len(built) == 3


def test_the_stored_table_is_the_table_built_now():
    from tipresearch.model import effort

    stored = effort._table(0.0)
    np.testing.assert_array_equal(stored, effort._build_table(0.0))
    assert not stored.flags.writeable


@pytest.mark.parametrize("dispersion", [0.1, 0.04, 1 / 150])
def test_both_quadratures_agree_where_the_short_one_is_used(dispersion, monkeypatch):
    from tipresearch.model import effort

    mu = np.logspace(-3, 5.5, 60)[:, None]
    a = np.logspace(-3, 6, 60)[None, :]
    assert effort._laguerre(1.0 / dispersion)[0].size == 48
    short = effort.effort_factor(mu, a * 0.25, 0.25, dispersion)
    effort._laguerre.cache_clear()
    monkeypatch.setattr(effort, "_GAUSS_LAGUERRE_SHAPES", (np.inf, np.inf))
    assert effort._laguerre(1.0 / dispersion)[0].size == 128
    long = effort.effort_factor(mu, a * 0.25, 0.25, dispersion)
    effort._laguerre.cache_clear()
    assert np.max(np.abs(short / long - 1)) < 1e-10


def test_the_poisson_sum_is_kummers_function_where_it_is_used():
    """``_poisson`` sums Poisson probabilities below ``mu = 200``: scipy's ``hyp1f1``
    there, to rounding, on both sides of the switch, for capacities of the table."""
    from scipy import special

    from tipresearch.model.effort import _SERIES_TO, _poisson

    mu = np.concatenate([np.geomspace(1e-9, 1e3, 160), _SERIES_TO * (1 + np.array([-1e-9, 0.0]))])
    a = np.geomspace(1e-3, 1e7, 90)
    got = _poisson(mu[:, None], a[None, :])
    ref = special.hyp1f1(1.0, a[None, :] + 2.0, -mu[:, None])
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=0)
    assert _poisson(np.zeros(1), np.ones(1))[0] == 1.0


def test_the_poisson_sum_reads_reciprocals_to_the_largest_mean_it_can_take():
    """Called directly with means far above where it is used (to 700, where ``exp(-mu)``
    is near the smallest normal number), the sum reads ``1 / n`` from its table for
    every term and still gives Kummer's function."""
    from scipy import special

    from tipresearch.model.effort import _RECIPROCALS, _poisson_sum

    mu, a = np.array([20.0, 400.0, 700.0]), np.array([3.0, 40.0, 0.5])
    terms = mu + 12.0 * np.sqrt(mu)  # more than the sum takes
    assert terms.max() < _RECIPROCALS.size
    out = np.empty(3)
    _poisson_sum(mu, a, out)
    np.testing.assert_allclose(out, special.hyp1f1(1.0, a + 2.0, -mu), rtol=1e-11, atol=0)
