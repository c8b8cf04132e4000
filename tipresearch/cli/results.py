"""``tipresearch results``: gather executed notebooks' key results into one table."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Read the run records that `tipresearch run --out OUT` writes (OUT/results/NAME.json:
status, parameters, and the key results each notebook saved) from one or more
output folders, for example variants run with different -f parameter files, and
gather them into one table a person can read: a row per notebook and key result,
a column per output folder, with the parameters that differ between the folders
and the status of any notebook that failed. Only each folder's current run is
used (a record an earlier run left in the folder, whose run.json names another
run, is not). Prints it and writes it to --out (.csv or .parquet; default: the
first folder's results.csv); --wide writes instead one row per notebook and
folder with param.NAME and result.NAME columns and every record."""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``results`` and return its parser."""
    p = subparsers.add_parser(
        "results",
        help="gather notebooks' key results and parameters into one table",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("runs", nargs="+", metavar="OUT", help="output folders of tipresearch run")
    p.add_argument("--out", default=None, metavar="FILE", help="table file (.csv or .parquet)")
    p.add_argument(
        "--wide",
        action="store_true",
        help="write one row per notebook and folder (param.NAME, result.NAME columns)",
    )
    p.add_argument("--quiet", action="store_true", help="do not print the table")
    return p


def main(args: argparse.Namespace) -> int:
    """Gather, print and write the table."""
    from pathlib import Path

    import pandas as pd

    from tipresearch.checks import check_output_file
    from tipresearch.collection import gather_records, results_by_run
    from tipresearch.io import TABLE_SUFFIXES, write_table

    out = check_output_file("--out", args.out or Path(args.runs[0]) / "results.csv", TABLE_SUFFIXES)
    table = gather_records(args.runs)
    readable = results_by_run(table)
    write_table(table if args.wide else readable, out)
    if not args.quiet:
        shown = readable.astype(object).where(readable.notna(), "")
        with pd.option_context("display.width", 200, "display.max_colwidth", 60):
            print(shown.to_string(index=False))
    older = int((~table["current"].astype(bool)).sum())
    if older:
        print(
            f"{older} record(s) left by an earlier run into the same folder: current = False",
            file=sys.stderr,
        )
    print(f"{len(table)} record(s) -> {out}", file=sys.stderr)
    return 0
