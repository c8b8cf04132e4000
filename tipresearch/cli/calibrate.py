"""``tipresearch calibrate``: fit the China calendar to published trafficking-case counts."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Fit the China reform calendar (2007-2020, monthly) to the published counts of
trafficking cases (data/published/) by simulated method of moments, with common
random numbers, then bootstrap the estimates, and test the fit on figures it was
not fitted to. Writes into --out:

  fit.json            everything (read by tipresearch.fit.load_fit)
  fit_table.csv       each target: published, model, relative error (in-sample)
  estimates.csv       estimates with bootstrap and robust (sandwich) errors,
                      bounds hit, and the parameters held fixed
  out_of_sample.csv   every published figure the model can produce, for each
                      hold-out design: fitted or held out, published, predicted
                      mean and 5-95% band over fresh seeds
  holdout_fits.json   the fitted model of each hold-out design
  profiles.csv        the objective with each parameter held on a grid and the
                      others refitted
  identification.csv  per parameter: profile rise, identified or not, robust
                      error, bound hit (ridge traces in --out, from
                      tipresearch ridge, add their points)
  recovery.csv        with --recovery R: R refits to figures simulated at the
                      estimates (on --recovery-bureaus units), each estimate
                      with its robust error and whether its 90% interval covers
                      the truth; recovery_coverage.csv summarises them

Each hold-out design is refitted with the same --screen and --max-evaluations as
the fit. On two workers the fit takes about five minutes; the hold-out refits and
profiles about 45 more (--holdouts none --profile-points 0 skip them). --validate-only
reads the fit already in --out and redoes only the validation.
"""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``calibrate`` subcommand."""
    p = sub.add_parser(
        "calibrate",
        help="fit the China reform calendar to published case counts, and test it out of sample",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--out", default="data/fit", metavar="DIR", help="output folder (default data/fit)"
    )
    p.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[0, 1],
        metavar="S",
        help="simulation seeds averaged in every evaluation (default 0 1)",
    )
    p.add_argument(
        "--screen",
        type=int,
        default=64,
        metavar="N",
        help="Sobol' points screened before the local search (default 64)",
    )
    p.add_argument(
        "--starts",
        type=int,
        default=1,
        metavar="K",
        help="local searches from the K lowest of the start and the screened points "
        "(default 1; at most --screen + 1); the same for hold-out designs and recovery",
    )
    p.add_argument(
        "--generations",
        type=int,
        default=0,
        metavar="G",
        help="generations of differential evolution on the screened points before the "
        "local searches, which then start from its last population (default 0: none; "
        "needs --screen 4 or more); the same for hold-out designs and recovery",
    )
    p.add_argument(
        "--max-evaluations",
        type=int,
        default=200,
        metavar="N",
        help="evaluations for the local search (default 200)",
    )
    p.add_argument(
        "--bootstrap",
        type=int,
        default=30,
        metavar="B",
        help="bootstrap replications (default 30; 0 for none)",
    )
    p.add_argument(
        "--bureaus", type=int, default=None, metavar="B", help="simulated units (default 200)"
    )
    p.add_argument(
        "--set",
        dest="changes",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change a fixed value of the China model, e.g. reforms.dna_effect=0.2 (repeatable)",
    )
    p.add_argument(
        "--fix",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="hold a fitted parameter at a value instead of fitting it (repeatable)",
    )
    p.add_argument(
        "--start-from",
        default=None,
        metavar="DIR",
        help="start the local search from the estimates of the fit in DIR",
    )
    p.add_argument(
        "--start-from-profile",
        default=None,
        metavar="DIR",
        help="start from the lowest point of DIR/profiles.csv (its held value and "
        "the refitted others); after --start-from, before --start",
    )
    p.add_argument(
        "--start",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="start value of a fitted parameter (repeatable; after --start-from)",
    )
    p.add_argument(
        "--also-fit",
        action="append",
        default=[],
        metavar="KEY=LO:HI[:log]",
        help="fit a further parameter of the China model within bounds, e.g. a mechanism's "
        "switch such as reforms.abolition_solved_times=0:1 (repeatable)",
    )
    p.add_argument(
        "--fix-reason",
        default="",
        metavar="TEXT",
        help="why the --fix values, recorded in estimates.csv",
    )
    p.add_argument(
        "--holdouts",
        default="all",
        metavar="NAMES",
        help="hold-out designs to refit and predict: all, none, or names joined by commas",
    )
    p.add_argument(
        "--profile-points",
        type=int,
        default=5,
        metavar="N",
        help="grid points of each parameter's profile (default 5; 0 for none)",
    )
    p.add_argument(
        "--profile-evaluations",
        type=int,
        default=25,
        metavar="N",
        help="evaluations of each profile point's refit from the estimates (default 25)",
    )
    p.add_argument(
        "--prediction-seeds",
        type=int,
        default=20,
        metavar="N",
        help="fresh seeds of the out-of-sample predictions (default 20)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=2,
        metavar="N",
        help="worker processes: the seeds of each evaluation of the fit and the bootstrap, "
        "and the refits and predictions (default 2)",
    )
    p.add_argument(
        "--recovery",
        type=int,
        default=0,
        metavar="R",
        help="synthetic data sets refitted to check recovery and coverage (default 0); "
        "replications already in --out/recovery.csv are kept",
    )
    p.add_argument(
        "--recovery-bureaus",
        type=int,
        default=50,
        metavar="B",
        help="simulated units of the recovery refits (default 50, a quarter of the fit's)",
    )
    p.add_argument(
        "--validate-only",
        action="store_true",
        help="read the fit in --out and redo only the hold-outs and profiles",
    )
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return p


def main(args: argparse.Namespace) -> int:
    """Run the fit described by ``args``, test it, and write its results."""
    import json

    from tipresearch.checks import check_int, check_output_folder
    from tipresearch.errors import ParameterError
    from tipresearch.fit import (
        FITTED,
        HOLDOUTS,
        PREDICTION_SEEDS,
        bootstrap,
        fit,
        fit_holdouts,
        identification_table,
        load_fit,
        load_traces,
        out_of_sample_table,
        predict,
        profiles,
    )
    from tipresearch.io import write_table, write_text
    from tipresearch.model import parse_assignment
    from tipresearch.reforms import ChinaModel

    check_output_folder("--out", args.out)
    screen = check_int("--screen", args.screen, 0, 100_000)
    starts = check_int("--starts", args.starts, 1, screen + 1)
    generations = check_int("--generations", args.generations, 0, 10_000)
    if generations and screen < 4:
        raise ParameterError("--generations", generations, "0 unless --screen is 4 or more")
    evaluations = check_int("--max-evaluations", args.max_evaluations, 1, 100_000)
    replications = check_int("--bootstrap", args.bootstrap, 0, 100_000)
    points = check_int("--profile-points", args.profile_points, 0, 101)
    if points in (1, 2):
        raise ParameterError("--profile-points", points, "0 (no profiles) or a number >= 3")
    profile_evals = check_int("--profile-evaluations", args.profile_evaluations, 1, 100_000)
    n_pred = check_int("--prediction-seeds", args.prediction_seeds, 1, len(PREDICTION_SEEDS))
    workers = check_int("--workers", args.workers, 1, 256)
    n_recovery = check_int("--recovery", args.recovery, 0, 10_000)
    recovery_bureaus = check_int("--recovery-bureaus", args.recovery_bureaus, 1, 100_000)
    seeds = [check_int("--seeds", s, 0, 2**32 - 1) for s in args.seeds]
    if len(set(seeds)) != len(seeds):
        raise ParameterError("--seeds", args.seeds, "distinct seeds")
    holdouts = _holdout_names(args.holdouts, HOLDOUTS)
    changes = dict(parse_assignment(text) for text in args.changes)
    if args.bureaus is not None:
        changes["settings.n_bureaus"] = check_int("--bureaus", args.bureaus, 1, 100_000)
    fixed = dict(parse_assignment(text) for text in args.fix)
    keys = {p.key for p in FITTED}
    for key, value in fixed.items():
        if key not in keys:
            raise ParameterError("--fix", key, f"a fitted parameter: {', '.join(sorted(keys))}")
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ParameterError(f"--fix {key}", value, "a number")
    parameters = tuple(p for p in FITTED if p.key not in fixed) + tuple(
        _also_fit(text, keys) for text in args.also_fit
    )
    if not parameters:
        raise ParameterError("--fix", sorted(fixed), "at least one parameter left to fit")

    def say(text: str) -> None:
        if not args.quiet:
            print(text, file=sys.stderr, flush=True)

    if args.validate_only:
        result = load_fit(args.out)
        say(f"read the fit in {args.out} (objective {result.objective:.4f})")
    else:
        tied = {k: fixed[p.key] for p in FITTED if p.key in fixed for k in p.keys}
        base = ChinaModel().updated({**changes, **tied})
        start = _start_values(args, parameters)
        say(
            f"fitting on seeds {seeds}: {screen} screening points, {generations} generations "
            f"of evolution, then {starts} local search(es) of up to {evaluations} evaluations"
        )
        result = fit(
            base,
            parameters=parameters,
            start=start,
            seeds=seeds,
            screen=screen,
            starts=starts,
            generations=generations,
            max_evaluations=evaluations,
            progress=None if args.quiet else _every(25, say),
            workers=workers,
        )
        if start:
            result.notes["start"] = {k: float(v) for k, v in start.items()}
        if fixed:
            result.notes["fixed"] = {k: float(v) for k, v in fixed.items()}
            result.notes["fixed_reason"] = args.fix_reason
        say(f"objective {result.objective:.4f} after {result.evaluations} evaluations")
        if replications:
            result = bootstrap(
                result,
                base,
                replications=replications,
                progress=None if args.quiet else _every(10, say),
                workers=workers,
            )
        written = result.save(args.out)
        _show_fit(result, say)
        say("written: " + ", ".join(str(p) for p in written.values()))

    out = args.out
    if holdouts:
        say(f"refitting hold-out designs {', '.join(holdouts)} on {workers} worker(s)")
        base_changes = result.fixed_changes()
        designs = fit_holdouts(
            result.changes,
            holdouts,
            base=base_changes,
            parameters=result.parameters,
            seeds=result.seeds,
            screen=screen,
            starts=starts,
            generations=generations,
            max_evaluations=evaluations,
            workers=workers,
        )
        write_text(f"{out}/holdout_fits.json", json.dumps(designs, indent=1) + "\n")
        say(f"predicting every figure on {n_pred} fresh seeds")
        table = out_of_sample_table(
            predict(designs, PREDICTION_SEEDS[:n_pred], workers=workers),
            designs={n: HOLDOUTS[n] for n in holdouts},
        )
        write_table(table, f"{out}/out_of_sample.csv")
        _show_holdouts(table, say)
    if points:
        say(f"profiles: {points} points per parameter, refitted on {workers} worker(s)")
        profile = profiles(result, points, max_evaluations=profile_evals, workers=workers)
        write_table(profile, f"{out}/profiles.csv")
        # ridge traces already in the folder (tipresearch ridge) are profile points too
        ident = identification_table(result, profile, load_traces(out, result))
        write_table(ident, f"{out}/identification.csv")
        for row in ident.itertuples():
            flag = "identified" if row.identified else "NOT pinned down (flat profile)"
            bound = f", on its {row.on_bound} bound" if row.on_bound else ""
            say(f"  {row.parameter:58s} rise {row.profile_rise:8.4f}  {flag}{bound}")
    if n_recovery:
        search = {"screen": screen, "starts": starts, "generations": generations}
        _recovery(result, n_recovery, recovery_bureaus, search, evaluations, workers, out, say)
    return 0


def _recovery(result, replications, bureaus, search, evaluations, workers, out, say) -> None:
    """Refit synthetic figures drawn at the estimates; write recovery(_coverage).csv."""
    from pathlib import Path

    import pandas as pd

    from tipresearch.fit import coverage_table, recovery
    from tipresearch.io import write_table
    from tipresearch.reforms import ChinaModel

    base_changes = result.fixed_changes()
    base = ChinaModel().updated({**base_changes, "settings.n_bureaus": bureaus})
    path = Path(out) / "recovery.csv"
    done = pd.read_csv(path) if path.exists() else None
    if done is not None and set(done.parameter) != {p.key for p in result.parameters}:
        done = None  # made for another set of parameters: start again
    say(f"recovery: {replications} refits to figures simulated at the estimates ({bureaus} units)")

    def save(rows: pd.DataFrame) -> None:
        write_table(rows, path)
        say(f"  recovery refit {rows.replication.nunique()} of {replications} written")

    rows = recovery(
        base,
        result.estimates,
        result.parameters,
        result.targets,
        replications=replications,
        fit_seeds=result.seeds,
        **search,
        max_evaluations=evaluations,
        done=done,
        after_each=save,
        workers=workers,
    )
    write_table(rows, path)
    table = coverage_table(rows)
    write_table(table, Path(out) / "recovery_coverage.csv")
    for row in table.itertuples():
        say(
            f"  {row.parameter:58s} bias {row.bias:+.3g}  rmse {row.rmse:.3g}  "
            f"90% coverage {row.coverage_90:.0%} of {row.replications}"
        )
    found = table["search_found_truth"].iloc[0]
    if pd.notna(found):
        say(
            f"  the search reached an objective at least as low as the truth's in "
            f"{found:.0%} of the refits (the others stopped in another basin)"
        )


def _start_values(args, parameters) -> dict[str, float]:
    """``--start-from DIR`` then ``--start KEY=VALUE``: start values of fitted parameters."""
    from tipresearch.errors import ParameterError
    from tipresearch.fit import load_fit
    from tipresearch.model import parse_assignment

    keys = {p.key for p in parameters}
    start: dict[str, float] = {}
    if args.start_from is not None:
        earlier = load_fit(args.start_from)
        start.update({k: v for k, v in earlier.estimates.items() if k in keys})
    if args.start_from_profile is not None:
        start.update(_profile_start(args.start_from_profile, keys))
    for text in args.start:
        key, value = parse_assignment(text)
        if key not in keys:
            raise ParameterError("--start", key, f"a fitted parameter: {', '.join(sorted(keys))}")
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ParameterError(f"--start {key}", value, "a number")
        start[key] = float(value)
    return start


def _profile_start(folder: str, keys: set[str]) -> dict[str, float]:
    """The lowest point of ``folder/profiles.csv`` as start values of fitted parameters."""
    from pathlib import Path

    import pandas as pd

    from tipresearch.errors import ParameterError
    from tipresearch.fit import best_profile_point

    path = Path(folder) / "profiles.csv"
    if not path.is_file():
        raise ParameterError("--start-from-profile", folder, "a fit folder with profiles.csv")
    try:
        frame = pd.read_csv(path)
    except (ValueError, OSError) as exc:
        raise ParameterError("--start-from-profile", str(path), f"a readable CSV ({exc})") from None
    try:
        _, values = best_profile_point(frame)
    except ParameterError as exc:
        raise ParameterError(
            "--start-from-profile",
            str(path),
            "a profiles.csv with at.<key> columns "
            "(written by this version of tipresearch calibrate)",
        ) from exc
    return {k: v for k, v in values.items() if k in keys}


def _also_fit(text: str, fitted: set[str]):
    """``--also-fit KEY=LO:HI[:log]`` as a FitParameter of a valid China-model key."""
    from tipresearch.errors import ParameterError
    from tipresearch.fit import FitParameter
    from tipresearch.reforms import ChinaModel

    allowed = "KEY=LO:HI or KEY=LO:HI:log with numbers LO < HI and KEY a China-model key"
    key, sep, bounds = text.partition("=")
    parts = bounds.split(":")
    if not sep or len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] != "log"):
        raise ParameterError("--also-fit", text, allowed)
    try:
        lower, upper = float(parts[0]), float(parts[1])
    except ValueError:
        raise ParameterError("--also-fit", text, allowed) from None
    key = key.strip()
    if key in fitted:
        raise ParameterError("--also-fit", key, "a key not fitted already")
    ChinaModel().updated({key: lower})  # an unknown key or a bad value names itself
    ChinaModel().updated({key: upper})
    return FitParameter(key, lower, upper, log=len(parts) == 3, description=f"--also-fit {text}")


def _holdout_names(text: str, known) -> list[str]:
    """``--holdouts``: all, none, or names joined by commas."""
    from tipresearch.errors import ParameterError

    if text == "none":
        return []
    if text == "all":
        return list(known)
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in known]
    if bad or not names:
        raise ParameterError("--holdouts", text, f"all, none, or names among {', '.join(known)}")
    return names


def _show_fit(result, say) -> None:
    for row in result.table().itertuples():
        say(
            f"  {row.target:38s} published {row.published:10.3f}  "
            f"model {row.model:10.3f}  error {row.relative_error:+.1%}"
        )


def _show_holdouts(table, say) -> None:
    held = table[table["role"] == "held out"]
    for design, rows in held.groupby("design", sort=False):
        errors = rows["relative_error"].abs()
        say(
            f"  {design:18s} {len(rows):2d} figures held out: median |error| "
            f"{errors.median():.0%}, {int(rows['in_band'].sum())} inside the 5-95% band"
        )


def _every(n: int, say):
    count = {"i": 0}

    def progress(text: str) -> None:
        count["i"] += 1
        if count["i"] % n == 0:
            say(text)

    return progress
