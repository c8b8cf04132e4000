"""``tipresearch mechanisms``: compare fits with a mechanism switched on to the committed fit."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Compare calibrations that fit a mechanism's switch beside the other parameters
(each made by `tipresearch calibrate --also-fit KEY=LO:HI --holdouts full`, in its
own folder) with the committed fit in BASELINE: the objective on the targets, the
switch's estimate, and the median error on the published figures held out of the
full design. A mechanism is worth keeping only if it improves both. Writes the
table to --out (default BASELINE/mechanisms.csv). `make mechanisms` runs the fits
and this comparison."""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``mechanisms`` and return its parser."""
    p = subparsers.add_parser(
        "mechanisms",
        help="compare fits with a mechanism switched on to the committed fit",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("baseline", metavar="BASELINE", help="the committed fit's folder (data/fit)")
    p.add_argument(
        "runs",
        nargs="+",
        metavar="NAME=DIR",
        help="a mechanism's name (one of the switches, e.g. recall) and its calibrate folder",
    )
    p.add_argument("--out", default=None, metavar="FILE", help="table file (.csv or .parquet)")
    return p


def main(args: argparse.Namespace) -> int:
    """Compare, print and write the table."""
    from pathlib import Path

    import pandas as pd

    from tipresearch.checks import check_output_file
    from tipresearch.errors import ParameterError
    from tipresearch.fit import SWITCHES, mechanism_table
    from tipresearch.io import TABLE_SUFFIXES, write_table

    out = check_output_file(
        "--out", args.out or Path(args.baseline) / "mechanisms.csv", TABLE_SUFFIXES
    )
    runs = {"committed": args.baseline}
    for text in args.runs:
        name, sep, folder = text.partition("=")
        if not sep or name not in SWITCHES or not folder:
            raise ParameterError("NAME=DIR", text, f"NAME one of {', '.join(SWITCHES)}, then =DIR")
        if name in runs:
            raise ParameterError("NAME=DIR", text, "each mechanism once")
        runs[name] = folder
    descriptions = {"committed": "the committed fit: every switch off"}
    descriptions.update({name: SWITCHES[name][2] for name in runs if name in SWITCHES})
    table = mechanism_table(runs, "committed", descriptions)
    write_table(table, out)
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table.drop(columns="description").to_string(index=False))
    print(f"{len(table)} run(s) -> {out}", file=sys.stderr)
    return 0
