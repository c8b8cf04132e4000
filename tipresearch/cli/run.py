"""``tipresearch run``: execute notebooks with papermill, render HTML and an index."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DESCRIPTION = """\
Execute notebooks (default: every notebooks/*.ipynb of the project) with
papermill, one kernel each, several at once, each in its own folder.

Writes OUT/notebooks/NAME.ipynb (executed), OUT/html/NAME.html,
OUT/html/index.html and OUT/results/NAME.json. A notebook declaring figures_dir
gets OUT/figures and one declaring results_dir gets OUT/results/NAME, unless
set otherwise. Parameters are checked against each notebook's parameters cell
before anything runs.

Exit status: 0 all ran, 1 a notebook failed, 2 bad input."""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``run`` and return its parser."""
    parser = subparsers.add_parser(
        "run",
        help="execute the notebooks and build HTML with an index",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "notebooks",
        nargs="*",
        metavar="NOTEBOOK",
        help="notebooks to run (default: every notebooks/*.ipynb, sorted)",
    )
    parser.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="set a parameter in every notebook declaring it; VALUE is read as YAML "
        "(3, 0.5, true, [1, 2], text); repeatable, wins over -f",
    )
    parser.add_argument(
        "-f",
        "--parameter-file",
        action="append",
        default=[],
        metavar="PARAMS.yaml",
        help="YAML mapping {name: value}, or {notebook name: {name: value}}; repeatable, "
        "later files win",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="notebooks run at once (default: the smaller of their number and the CPUs)",
    )
    parser.add_argument(
        "--out",
        default="build",
        metavar="DIR",
        help="output folder (default: build)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="S",
        help="longest time in seconds any one cell may run (default: no limit)",
    )
    parser.add_argument(
        "--no-site",
        action="store_true",
        help="skip the book (a Jupyter Book site over the executed notebooks, in DIR/site)",
    )
    return parser


def main(args: argparse.Namespace) -> int:
    """Run the notebooks; return 1 if any failed, else 0."""
    from tipresearch.collection import parse_value, run_notebooks, summary_line

    parameters = {name: parse_value(value) for name, value in args.parameter}
    frame = run_notebooks(
        args.notebooks,
        parameters=parameters,
        parameter_files=args.parameter_file,
        out=args.out,
        workers=args.workers,
        timeout=args.timeout,
        progress=True,
        site=not args.no_site,
    )
    print(summary_line(frame))
    print(f"index: {Path(args.out) / 'html' / 'index.html'}", file=sys.stderr)
    if "site" in frame.attrs:
        site = Path(frame.attrs["site"])
        shown = site / "index.html"
        if shown.is_absolute() and Path.cwd() in shown.parents:
            shown = shown.relative_to(Path.cwd())
        print(f"site: {shown}", file=sys.stderr)
    return 1 if (frame["status"] != "ok").any() else 0
