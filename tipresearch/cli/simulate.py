"""``tipresearch simulate``: run the intake model and write its tidy table."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Simulate bureaus' intake under one performance metric and write one row per
bureau, case type and period (.csv or .parquet, chosen by the suffix of --out).
Parameters are changed with --set KEY=VALUE (repeatable); case-type fields are
written TYPE.FIELD, for example --set children.dna_effect=0.2.
"""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``simulate`` subcommand."""
    p = sub.add_parser(
        "simulate",
        help="simulate the intake model and write a tidy table",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--metric", required=True, help="metric preset or 'planner'")
    p.add_argument(
        "--set",
        dest="changes",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change a model parameter (repeatable)",
    )
    p.add_argument("--bureaus", type=int, default=None, metavar="B", help="number of bureaus")
    p.add_argument("--periods", type=int, default=12, metavar="T", help="monthly periods")
    p.add_argument("--engine", default="aggregate", help="aggregate (default) or micro")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="root seed (default 0)")
    p.add_argument("--start", default="2008-01", help="first month, YYYY-MM (default 2008-01)")
    p.add_argument("--summary", default=None, metavar="FILE", help="also write per-period sums")
    p.add_argument("--out", required=True, metavar="FILE", help="output .csv or .parquet")
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    return p


def main(args: argparse.Namespace) -> int:
    """Run the simulation described by ``args``."""
    from pathlib import Path

    from tipresearch.checks import check_output_file, check_size
    from tipresearch.errors import ParameterError
    from tipresearch.io import TABLE_SUFFIXES, write_table
    from tipresearch.model import (
        ModelParams,
        frame_bytes,
        get_metric,
        parse_assignment,
        simulate,
        summarise,
    )

    for option, path in (("--out", args.out), ("--summary", args.summary)):
        if path is not None:
            check_output_file(option, path, TABLE_SUFFIXES)
    if args.summary is not None and Path(args.summary).resolve() == Path(args.out).resolve():
        raise ParameterError("--summary", args.summary, "a file other than --out")
    metric = get_metric(args.metric)
    changes = dict(parse_assignment(text) for text in args.changes)
    if args.bureaus is not None:
        given = changes.get("n_bureaus", args.bureaus)
        if given != args.bureaus:
            raise ParameterError(
                "--set n_bureaus",
                given,
                f"the value of --bureaus ({args.bureaus}), or no --set n_bureaus",
            )
        changes["n_bureaus"] = args.bureaus
    params = ModelParams().updated(changes)
    shape = (params.n_bureaus, len(params.case_types), args.periods)
    rows = shape[0] * shape[1] * shape[2]
    check_size("--periods", args.periods, frame_bytes(*shape), f"{rows:,} rows")
    frame = simulate(params, metric, args.periods, args.seed, args.engine, start=args.start)
    write_table(frame, args.out)
    if args.summary:
        write_table(summarise(frame), args.summary)
    if not args.quiet:
        total = summarise(frame, by_type=False)
        print(
            f"{len(frame)} rows -> {args.out}; reports {int(total.reports.sum())}, "
            f"opened {int(total.opened.sum())}, solved {int(total.solved.sum())}",
            file=sys.stderr,
        )
    return 0
