"""Speed of the China fit: objective evaluations per second, and what a full calibration costs.

    .venv/bin/python benchmarks/bench_fit.py            # about a minute
    .venv/bin/python benchmarks/bench_fit.py --quick    # fewer repeats

Prints a table of figures (a report, not a test: it exits 0 whatever the figures):

- one simulation of the China calendar (2007-2020, monthly, the committed fit's model),
  seconds;
- the fit's objective: evaluations per second (each evaluation simulates every fit
  seed, two by default);
- the same with each evaluation's seeds simulated on two workers (``fit(workers=2)``);
- a short fit (a few evaluations) on one and on two workers, wall time per evaluation;
- the wall time of the evaluations ``make calibrate`` budgets (the fit's screen and four
  local searches, the bootstrap, the four hold-out refits and the profiles) at the
  measured time per evaluation, on one and on two workers; ``least_squares`` does not
  count the evaluations of its finite-difference Jacobians against its budget, so a
  search that uses its whole budget costs more (the profiles do);
- what the committed fit's own search took (``data/fit/fit.json``), and what its
  number of evaluations costs now on two workers.

On a shared machine other work slows the figures; compare best times.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tipresearch.fit import FITTED, HOLDOUTS, china_targets, fit, load_fit, model_moments  # noqa: E402


def _best(fn, repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        gc.enable()
    times.sort()
    return times[0], times[len(times) // 2]


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    repeats = 2 if args.quick else 4

    result = load_fit(ROOT / "data" / "fit")
    model = result.model()
    targets = china_targets()
    seeds = tuple(result.seeds)
    print(f"tipresearch fit benchmark, commit {_commit()}, Python {platform.python_version()}")
    print(
        f"{os.cpu_count()} CPUs; model: {model.params.n_bureaus} simulated units, "
        f"{model.start} to {model.end}, fit seeds {seeds}\n"
    )

    sim_best, sim_med = _best(lambda: model.simulate(seed=0), repeats)
    ev_best, ev_med = _best(lambda: model_moments(model, targets, seeds), repeats)
    with ProcessPoolExecutor(max_workers=min(2, len(seeds))) as pool:
        model_moments(model, targets, seeds, pool)  # start the workers
        par_best, par_med = _best(lambda: model_moments(model, targets, seeds, pool), repeats)
    rows = [
        ("one simulation of the calendar", f"{sim_best:.3f} s", f"median {sim_med:.3f} s"),
        (
            f"objective evaluations ({len(seeds)} seeds each)",
            f"{1 / ev_best:.2f} /s",
            f"{ev_best:.3f} s each, median {ev_med:.3f} s",
        ),
        (
            "  the seeds on two workers",
            f"{1 / par_best:.2f} /s",
            f"{par_best:.3f} s each, median {par_med:.3f} s; {ev_best / par_best:.2f}x",
        ),
    ]
    per_eval = {}
    for workers in (1, 2):
        t0 = time.perf_counter()
        short = fit(
            model, targets, FITTED, seeds=seeds, max_evaluations=3, jacobian=False, workers=workers
        )
        per_eval[workers] = (time.perf_counter() - t0) / max(short.evaluations, 1)
        rows.append(
            (
                f"short fit (local search from the estimates), {workers} worker(s)",
                f"{per_eval[workers]:.3f} s/evaluation",
                f"{short.evaluations} evaluations",
            )
        )
    # evaluations of `make calibrate` at most (screen 32, four local searches of at most
    # 200 evaluations, Jacobian of 7 parameters, bootstrap 30, four hold-out refits like
    # the fit, 5 profile points x 7 parameters x 15 evaluations)
    k = len(FITTED)
    screen, starts, local = 32, 4, 200
    fit_evals = screen + starts * local + 2 * k
    holdout_evals = (len(HOLDOUTS) - 1) * (screen + starts * local)
    profile_evals = 5 * k * 15
    bootstrap_evals = 30
    total = fit_evals + bootstrap_evals + holdout_evals + profile_evals
    one = total * per_eval[1]
    # two workers: the fit's and the bootstrap's seeds in parallel; hold-outs and profiles
    # two refits at a time
    two = (fit_evals + bootstrap_evals) * per_eval[2] + (holdout_evals + profile_evals) * per_eval[
        1
    ] / 2
    rows.append(
        (
            "make calibrate, evaluations budgeted",
            f"{total:,}",
            "fit, bootstrap, hold-outs, profiles (finite differences come on top)",
        )
    )
    rows.append(("make calibrate, budgeted wall time", f"{one / 60:.1f} min", "one worker"))
    rows.append(("", f"{two / 60:.1f} min", "two workers"))
    as_run = result.evaluations * per_eval[2]
    rows.append(
        (
            "the committed fit's evaluations, now",
            f"{as_run / 60:.1f} min",
            f"{result.evaluations} evaluations on two workers, with its Jacobian",
        )
    )
    rows.append(
        (
            "committed fit's search, as run",
            f"{result.evaluations} evaluations",
            f"{result.seconds / 60:.1f} min, {result.notes.get('starts', 1)} start(s) "
            "(data/fit/fit.json)",
        )
    )
    width = max(len(r[0]) for r in rows)
    for name, figure, note in rows:
        print(f"{name:<{width}}  {figure:>18}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
