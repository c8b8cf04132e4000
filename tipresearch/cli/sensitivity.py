"""``tipresearch sensitivity``: sensitivity indices from a sweep's results."""

from __future__ import annotations

import argparse
import re
import sys

DESCRIPTION = """\
Read the results of `tipresearch sweep` in DIR and compute the sensitivity
indices its design allows: Sobol' first-order and total indices with confidence
intervals (sobol), Morris mu*, mu and sigma (morris), first-order indices
(lhs: RBD-FAST; grid: variance of conditional means). Prints the table and writes
it to DIR/sensitivity.csv (or --out). --prim 'OUTPUT>=VALUE' adds the PRIM box
where the output passes the value (scenario discovery)."""

_CONDITION = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(>=|<=)\s*([-+0-9.eE]+)\s*$")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``sensitivity`` and return its parser."""
    p = subparsers.add_parser(
        "sensitivity",
        help="Sobol' / Morris indices and PRIM boxes from a sweep's results",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("dir", metavar="DIR", help="results folder of a sweep")
    p.add_argument(
        "--output",
        action="append",
        default=None,
        metavar="NAME",
        help="output to analyse (repeatable; default: all)",
    )
    p.add_argument("--conf", type=float, default=0.95, help="confidence level (default 0.95)")
    p.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (1000)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument(
        "--out",
        default=None,
        metavar="FILE",
        help="table file, .csv or .parquet (default DIR/sensitivity.csv)",
    )
    p.add_argument(
        "--prim",
        default=None,
        metavar="COND",
        help="scenario discovery: OUTPUT>=VALUE or OUTPUT<=VALUE",
    )
    p.add_argument(
        "--min-coverage", type=float, default=0.5, help="PRIM box coverage at least (0.5)"
    )
    p.add_argument(
        "--allow-partial",
        action="store_true",
        help="analyse the points with results even if the sweep is not whole (the output "
        "says so); without it an unfinished or damaged sweep is refused",
    )
    return p


def main(args: argparse.Namespace) -> int:
    """Compute, print and write the indices."""
    from pathlib import Path

    import pandas as pd

    from tipresearch.checks import check_output_file
    from tipresearch.errors import ParameterError
    from tipresearch.experiments import analyze, open_sweep, scenario_discovery
    from tipresearch.io import TABLE_SUFFIXES, write_table

    out = check_output_file("--out", args.out or Path(args.dir) / "sensitivity.csv", TABLE_SUFFIXES)
    sweep = open_sweep(args.dir)
    problems = sweep.problems()
    if problems and not args.allow_partial:
        raise ParameterError(
            "DIR",
            args.dir,
            f"a whole sweep, but {'; '.join(problems[:3])}"
            f"{f' (and {len(problems) - 3} more)' if len(problems) > 3 else ''}: "
            "finish or repair it with tipresearch sweep --resume, or pass --allow-partial",
        )
    done = int(sweep.done().sum())
    if done == 0:
        raise ParameterError("DIR", args.dir, "a sweep with results (none yet)")
    table = analyze(
        sweep,
        args.output,
        conf_level=args.conf,
        num_resamples=args.resamples,
        seed=args.seed,
    )
    if problems:  # a partial analysis says so in its table and its output
        table.insert(0, "points_used", done)
        table.insert(1, "points_in_design", sweep.points)
    write_table(table, out)
    with pd.option_context("display.width", 120, "display.max_rows", 500):
        print(f"{sweep.spec.name}: {sweep.spec.method} design, {done} of {sweep.points} points")
        if problems:
            print("PARTIAL ANALYSIS (--allow-partial): " + "; ".join(problems))
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if args.prim:
        m = _CONDITION.match(args.prim)
        if not m:
            raise ParameterError("--prim", args.prim, "OUTPUT>=VALUE or OUTPUT<=VALUE")
        name, op, value = m.group(1), m.group(2), float(m.group(3))
        result = scenario_discovery(sweep, name, value, above=op == ">=")
        step = result.select(args.min_coverage)
        row = result.trajectory.loc[step]
        print(
            f"\nPRIM box for {name} {op} {value:g} (step {step}): coverage {row.coverage:.2f}, "
            f"density {row.density:.2f}, mass {row.mass:.2f}"
        )
        print(result.box(step).to_string(index=False))
    print(f"table: {out}", file=sys.stderr)
    return 0
