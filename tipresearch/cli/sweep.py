"""``tipresearch sweep``: evaluate the model over a parameter space, resumably."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Evaluate the model at every point of the design a sweep spec describes
(a YAML file: parameters, design, model, replications, seed; see experiments/),
writing the results to DIR as they come: DIR/manifest.json, DIR/design.parquet
and one Parquet file per finished task in DIR/parts/. Each run's seed comes from
the spec's root seed and the run's place in the design, so the results do not
depend on the number of workers or their order.

An interrupted sweep is finished with --resume: points with results are
skipped. A run that raises is recorded with its error and the sweep goes on.

Executors: processes (a local process pool, the default for several workers),
inprocess (one worker), dask (a Dask LocalCluster of N workers, or the cluster at
--scheduler ADDR or DASK_SCHEDULER_ADDRESS, which also selects dask).

Exit status: 0 every run succeeded, 1 some runs failed, 2 bad input."""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``sweep`` and return its parser."""
    p = subparsers.add_parser(
        "sweep",
        help="run the model over a parameter space (grid, LHS, Sobol, Morris)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("spec", metavar="SPEC.yaml", help="the sweep spec")
    p.add_argument("--out", required=True, metavar="DIR", help="results folder")
    p.add_argument(
        "--workers", type=int, default=None, metavar="N", help="worker processes (default: CPUs)"
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDR",
        help="address of a running Dask scheduler (default: $DASK_SCHEDULER_ADDRESS)",
    )
    p.add_argument(
        "--executor",
        default="auto",
        choices=("auto", "inprocess", "processes", "dask"),
        help="where tasks run (default auto: dask with a scheduler, else processes, "
        "or inprocess for one worker)",
    )
    p.add_argument("--resume", action="store_true", help="finish the sweep already in DIR")
    p.add_argument(
        "--batch-size", type=int, default=None, metavar="B", help="points per task (default: auto)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(args: argparse.Namespace) -> int:
    """Run the sweep; return 1 if any run failed."""
    from tipresearch.experiments import load_spec, run_sweep

    spec = load_spec(args.spec)
    summary = run_sweep(
        spec,
        args.out,
        executor=args.executor,
        workers=args.workers,
        scheduler=args.scheduler,
        resume=args.resume,
        batch_size=args.batch_size,
        progress=not args.quiet,
    )
    print(summary.line(), file=sys.stderr)
    return 1 if summary.failed_runs else 0
