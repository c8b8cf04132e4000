"""``tipresearch ridge``: follow the fit along one parameter and read its conclusions there."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Follow the committed fit in FIT along one fitted parameter by continuation: the
parameter is held at each value in turn, moving away from its estimate, and the
others are refitted starting from the step before (tipresearch.fit.trace_ridge).
Then, at every point, simulate fresh seeds and read the fit's conclusions: every
published figure (fitted and held out), the 2008 -> 2009 rise when rated on cases
solved only, the recorded share of reports in 2008, the solvable share of declined
reports and the change in incidence (tipresearch.fit.ridge_outcomes). The table
with the conclusions goes to --out (default FIT/ridge.csv); the trace is written
first beside it (FIT/ridge_trace.csv for the default) and reused by --resume.
A trace's points are profile points too: FIT/identification.csv is then written
again from FIT/profiles.csv and every FIT/*_trace.csv. `make ridge` runs the
committed traces (docs/fit.md, "The ridge")."""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``ridge`` and return its parser."""
    p = subparsers.add_parser(
        "ridge",
        help="follow the fit along one parameter and read its conclusions there",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("fit_dir", metavar="FIT", help="the fit's folder (data/fit)")
    p.add_argument(
        "--parameter",
        required=True,
        metavar="KEY",
        help="the fitted parameter to hold, e.g. metric.rate",
    )
    p.add_argument(
        "--values",
        required=True,
        nargs="+",
        type=float,
        metavar="V",
        help="held values (the estimate itself is added)",
    )
    p.add_argument(
        "--max-evaluations",
        type=int,
        default=40,
        metavar="N",
        help="evaluations of each step's refit (default 40)",
    )
    p.add_argument(
        "--seeds",
        type=int,
        default=4,
        metavar="N",
        help="fresh simulation seeds per point for the conclusions (default 4)",
    )
    p.add_argument("--workers", type=int, default=2, metavar="N", help="processes (default 2)")
    p.add_argument("--out", default=None, metavar="FILE", help="table file (.csv or .parquet)")
    p.add_argument(
        "--resume",
        action="store_true",
        help="reuse the trace beside --out if it holds the same parameter and values",
    )
    return p


def main(args: argparse.Namespace) -> int:
    """Trace, read the conclusions, print a summary and write both tables."""
    from pathlib import Path

    import numpy as np
    import pandas as pd

    from tipresearch.checks import check_int, check_output_file
    from tipresearch.fit import PREDICTION_SEEDS, identification_table, load_fit
    from tipresearch.fit.ridge import load_traces, ridge_outcomes, trace_ridge
    from tipresearch.io import TABLE_SUFFIXES, read_table, write_table

    fit_dir = Path(args.fit_dir)
    out = check_output_file("--out", args.out or fit_dir / "ridge.csv", TABLE_SUFFIXES)
    seeds = check_int("--seeds", args.seeds, 1, len(PREDICTION_SEEDS))
    workers = check_int("--workers", args.workers, 1, 64)
    result = load_fit(fit_dir)
    trace_file = out.with_name(f"{out.stem}_trace{out.suffix}")
    trace = None
    if args.resume and trace_file.exists():
        old = read_table(trace_file)
        wanted = sorted(set(args.values))
        have = sorted(old.loc[old["direction"] != "estimate", "value"])
        if set(old["parameter"]) == {args.parameter} and np.allclose(have, wanted):
            trace = old
            print(f"reusing the trace in {trace_file}", file=sys.stderr)
    if trace is None:
        print(
            f"tracing {args.parameter} over {len(args.values)} values on {workers} worker(s)",
            file=sys.stderr,
        )
        trace = trace_ridge(
            result,
            args.parameter,
            args.values,
            max_evaluations=args.max_evaluations,
            workers=workers,
        )
        write_table(trace, trace_file)
    table = ridge_outcomes(result, trace, PREDICTION_SEEDS[:seeds], workers=workers)
    write_table(table, out)
    show = ["value", "objective", "near_best", "at.metric.rate", "growth_2009_solved_only"]
    show += ["recorded_share_2008", "held_out_median_abs_error"]
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table[show].round(4).to_string(index=False))
    print(f"{len(table)} point(s) -> {out}", file=sys.stderr)
    profile_file = fit_dir / "profiles.csv"
    if profile_file.exists():
        traces = load_traces(fit_dir, result)
        ident = identification_table(result, read_table(profile_file), traces)
        write_table(ident, fit_dir / "identification.csv")
        for row in ident.itertuples():
            flag = "identified" if row.identified else "NOT pinned down"
            print(
                f"  {row.parameter:58s} near best {row.near_best_low:.4g} to "
                f"{row.near_best_high:.4g}  {flag}",
                file=sys.stderr,
            )
    return 0
