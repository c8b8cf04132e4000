"""``tipresearch calibrate``: fit the China calendar to published trafficking-case counts."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Fit the China reform calendar (2007-2020, monthly) to the published counts of
trafficking cases (data/published/) by simulated method of moments, with common
random numbers, then bootstrap the estimates. Writes fit.json (everything, read
by tipresearch.fit.load_fit), fit_table.csv (target, model, relative error)
and estimates.csv (estimates with bootstrap standard errors) into --out.
The default settings take a few minutes.
"""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``calibrate`` subcommand."""
    p = sub.add_parser(
        "calibrate",
        help="fit the China reform calendar to published case counts",
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
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return p


def main(args: argparse.Namespace) -> int:
    """Run the fit described by ``args`` and write its results."""
    from tipresearch.checks import check_int
    from tipresearch.errors import ParameterError
    from tipresearch.fit import bootstrap, fit
    from tipresearch.model import parse_assignment
    from tipresearch.reforms import ChinaModel

    screen = check_int("--screen", args.screen, 0, 100_000)
    evaluations = check_int("--max-evaluations", args.max_evaluations, 1, 100_000)
    replications = check_int("--bootstrap", args.bootstrap, 0, 100_000)
    seeds = [check_int("--seeds", s, 0, 2**32 - 1) for s in args.seeds]
    if len(set(seeds)) != len(seeds):
        raise ParameterError("--seeds", args.seeds, "distinct seeds")
    changes = dict(parse_assignment(text) for text in args.changes)
    if args.bureaus is not None:
        changes["settings.n_bureaus"] = check_int("--bureaus", args.bureaus, 1, 100_000)
    base = ChinaModel().updated(changes)

    def say(text: str) -> None:
        if not args.quiet:
            print(text, file=sys.stderr, flush=True)

    say(f"fitting on seeds {seeds}: {screen} screening points, then up to {evaluations} steps")
    result = fit(
        base,
        seeds=seeds,
        screen=screen,
        max_evaluations=evaluations,
        progress=None if args.quiet else _every(25, say),
    )
    say(f"objective {result.objective:.4f} after {result.evaluations} evaluations")
    if replications:
        result = bootstrap(
            result,
            base,
            replications=replications,
            progress=None if args.quiet else _every(10, say),
        )
    written = result.save(args.out)
    if not args.quiet:
        table = result.table()
        for row in table.itertuples():
            say(
                f"  {row.target:38s} published {row.published:10.3f}  "
                f"model {row.model:10.3f}  error {row.relative_error:+.1%}"
            )
        say("written: " + ", ".join(str(p) for p in written.values()))
    return 0


def _every(n: int, say):
    count = {"i": 0}

    def progress(text: str) -> None:
        count["i"] += 1
        if count["i"] % n == 0:
            say(text)

    return progress
