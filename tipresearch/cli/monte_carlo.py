"""``tipresearch monte-carlo``: the estimators against the model's truth, resumably."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Simulate panels of recorded cases with a staggered rating reform (the design of
tipresearch.estimation.PanelDesign, changed with --set FIELD=VALUE), run every
estimator on each (or those named with --estimator), and summarise their bias,
RMSE and 95% coverage against the model's truth (docs/estimation.md).

Writes DIR/manifest.json, one Parquet file per --chunk replications in
DIR/parts/ as they finish, and DIR/summary.csv; prints the summary. An
interrupted run is finished with --resume; each replication's seed depends on
the root seed and its number only, so the numbers are those of one run, on one
worker or many (processes, or Dask with --scheduler ADDR).

Exit status: 0 done, 2 bad input."""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``monte-carlo`` and return its parser."""
    p = subparsers.add_parser(
        "monte-carlo",
        help="bias and coverage of the panel estimators against the model's truth",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", required=True, metavar="DIR", help="results folder")
    p.add_argument("--replications", type=int, default=100, metavar="R", help="default 100")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="root seed (default 0)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a PanelDesign field, e.g. endogeneity=1.5 or n_bureaus=200 (repeatable)",
    )
    p.add_argument(
        "--estimator",
        action="append",
        default=None,
        metavar="NAME",
        help='run only this estimator (repeatable), e.g. "not-yet-treated"',
    )
    p.add_argument("--chunk", type=int, default=25, metavar="C", help="replications per file")
    p.add_argument("--resume", action="store_true", help="finish the Monte Carlo in DIR")
    p.add_argument("--workers", type=int, default=None, metavar="N", help="default: CPUs")
    p.add_argument(
        "--executor",
        default="auto",
        choices=("auto", "inprocess", "processes", "dask"),
        help="where replications run (default auto)",
    )
    p.add_argument("--scheduler", default=None, metavar="ADDR", help="a running Dask scheduler")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def parse_design(settings: list[str]):  # noqa: ANN201 - a PanelDesign
    """A :class:`~tipresearch.estimation.PanelDesign` from ``FIELD=VALUE`` strings.

    Each value takes the type of the field's default (whole number, number or text).
    """
    import dataclasses

    from tipresearch.errors import ParameterError
    from tipresearch.estimation import PanelDesign

    defaults = {f.name: f.default for f in dataclasses.fields(PanelDesign)}
    changes = {}
    for item in settings:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or name not in defaults or name == "reform":
            allowed = ", ".join(n for n in defaults if n != "reform")
            raise ParameterError("--set", item, f"FIELD=VALUE with FIELD one of {allowed}")
        kind = type(defaults[name])
        try:
            changes[name] = kind(text) if kind is not float else float(text)
        except ValueError:
            raise ParameterError(name, text, f"a {kind.__name__} value") from None
    return PanelDesign(**changes)


def main(args: argparse.Namespace) -> int:
    """Run (or finish) the Monte Carlo and print its summary."""
    from tipresearch.estimation import run_monte_carlo, without_event_terms

    design = parse_design(args.set)
    summary = run_monte_carlo(
        args.out,
        design,
        args.replications,
        args.seed,
        chunk=args.chunk,
        resume=args.resume,
        executor=args.executor,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.quiet,
        estimators=None if args.estimator is None else tuple(args.estimator),
    )
    shown = without_event_terms(summary)
    columns = ["estimator", "outcome", "truth", "bias", "rmse", "coverage", "coverage_incidence"]
    print(shown[columns].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"summary: {args.out}/summary.csv", file=sys.stderr)
    return 0
