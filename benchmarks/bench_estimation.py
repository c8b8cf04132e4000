"""Time of the estimators and of notebook 06's Monte Carlo, as figures with targets.

Run ``.venv/bin/python benchmarks/bench_estimation.py`` (about three minutes; ``--quick``
for a reduced check of the script). Figures:

1. one replication of the full estimator set on a panel of 1,000 bureaus x 60 months:
   the panel's simulation, then each estimator (:func:`tipresearch.estimation.estimate_all`
   one at a time), in seconds, without a target (the Poisson estimators are fitted from
   cohort-month totals, the negative binomial without bureau dummies);
2. the fixed-effects Poisson against statsmodels' own fit with bureau dummies on the same
   panel (the same numbers, :mod:`tipresearch.estimation.poisson`): the ratio of times;
3. notebook 06's whole Monte Carlo (two scenarios x 50 replications of 120 bureaus x 48
   months, every estimator) on 2 worker processes: wall time (target: under 60 s, the
   notebook's budget on two cores), and the same on 1 process.

The script is a report: it exits 0 whatever the figures. Timings are single runs
(``time.perf_counter``) except where a best of repeats is said; the load average is
printed, since other work on a shared machine slows every figure down.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd


def _timed(fn, repeats: int = 1):  # noqa: ANN001, ANN202 - a benchmark helper
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def one_replication(n_bureaus: int, months: int) -> list[tuple[str, float]]:
    """Seconds for the panel and for each estimator on it."""
    from tipresearch.estimation import ESTIMATORS, PanelDesign, estimate_all, simulate_panel

    design = PanelDesign(
        n_bureaus=n_bureaus,
        months=months,
        first_adoption=12,
        last_adoption=min(36, months - 12),
        endogeneity=1.5,
    )
    # warm up (imports, caches) on a small panel, so that no figure carries them
    small = PanelDesign(n_bureaus=20, months=24, first_adoption=6, last_adoption=12)
    estimate_all(simulate_panel(small, 0), 0.5)
    rows = []
    seconds, panel = _timed(lambda: simulate_panel(design, 1))
    rows.append((f"panel, {n_bureaus:,} bureaus x {months} months", seconds))
    for name in ESTIMATORS:
        seconds, _ = _timed(lambda name=name: estimate_all(panel, 0.5, estimators=(name,)))
        rows.append((name, seconds))
    return rows, panel


def against_dummies(panel: pd.DataFrame) -> tuple[float, float, float]:
    """Seconds of the cohort-total FE Poisson and of statsmodels with bureau dummies."""
    import statsmodels.api as sm

    from tipresearch.estimation import fe_poisson

    ours_s, ours = _timed(lambda: fe_poisson(panel, "recorded", panel[["reform"]]), repeats=3)
    x = np.column_stack(
        [
            panel["reform"].to_numpy(float),
            pd.get_dummies(panel["period"], drop_first=True, dtype=float),
            pd.get_dummies(panel["bureau"], dtype=float),
        ]
    )

    def theirs_fit():
        return sm.GLM(panel["recorded"].to_numpy(float), x, family=sm.families.Poisson()).fit(
            cov_type="cluster", cov_kwds={"groups": panel["bureau"].to_numpy()}
        )

    theirs_s, theirs = _timed(theirs_fit)
    gap = abs(float(ours.params["reform"]) - float(theirs.params[0]))
    return ours_s, theirs_s, gap


def notebook_monte_carlo(replications: int, workers: int) -> float:
    """Wall seconds of notebook 06's Monte Carlo (two scenarios, every estimator)."""
    from tipresearch.estimation import PanelDesign, monte_carlo

    base = PanelDesign(n_bureaus=120, months=48, first_adoption=12, last_adoption=30)
    t0 = time.perf_counter()
    for endogeneity in (0.0, 1.5):
        design = PanelDesign(**{**base.to_dict(), "endogeneity": endogeneity})
        monte_carlo(design, replications, seed=2009, workers=workers)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small workloads, a few seconds")
    args = parser.parse_args()
    n_bureaus, months, reps = (100, 36, 4) if args.quick else (1000, 60, 50)
    print(f"load average: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
    rows, panel = one_replication(n_bureaus, months)
    print("\n1. one replication of the full estimator set")
    for name, seconds in rows:
        print(f"   {name:<45} {seconds:8.2f} s")
    print(f"   {'all estimators':<45} {sum(s for _, s in rows[1:]):8.2f} s")
    ours, theirs, gap = against_dummies(panel)
    print("\n2. two-way FE Poisson, same panel (best of 3 for ours)")
    print(f"   from cohort-month totals                      {ours:8.3f} s")
    print(f"   statsmodels with bureau dummies               {theirs:8.3f} s")
    print(f"   ratio {theirs / ours:,.0f}x; coefficients differ by {gap:.1e}")
    print(f"\n3. notebook 06's Monte Carlo: 2 scenarios x {reps} replications")
    two = notebook_monte_carlo(reps, 2)
    verdict = "PASS" if two < 60 else "MISS"
    print(
        f"   2 worker processes                            {two:8.1f} s  (target < 60 s: {verdict})"
    )
    one = notebook_monte_carlo(reps, 1)
    print(f"   1 process {one:42.1f} s  (speed-up {one / two:.2f}x)")


if __name__ == "__main__":
    main()
