"""``tipresearch check-site``: open a built book in headless Chromium and list its problems."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Open every page of a book that `tipresearch run` built (OUT/site, or a variant's
OUT/site-variant-HASH) in headless Chromium, as a reader would, and list what is
wrong: console errors, images that do not load, internal links to missing files,
numbered figures without an image or a caption, formulas left untypeset, a search
that finds nothing, files others cannot read. Needs Debian's chromium and
chromium-driver and the dev extra (selenium). Exit status 0 when the book is clean,
1 when it has problems, 2 when the browser is missing."""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``check-site`` and return its parser."""
    p = subparsers.add_parser(
        "check-site",
        help="open a built book in headless Chromium and list its problems",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("site", nargs="?", default="build/site", metavar="DIR", help="the book")
    p.add_argument(
        "--search", default="clearance", metavar="WORD", help="a word the search must find"
    )
    return p


def main(args: argparse.Namespace) -> int:
    """Check the book; print a summary and every problem."""
    from tipresearch.collection.site_check import check_site

    try:
        report = check_site(args.site, args.search)
    except RuntimeError as exc:
        print(f"tipresearch check-site: {exc}", file=sys.stderr)
        return 2
    print(
        f"{report.pages} pages, {report.figures} numbered figures, search finds "
        f"{args.search!r} on {report.search_hits} pages: "
        + (f"{len(report.problems)} problems" if report.problems else "no problems")
    )
    for line in report.problems:
        print(f"  {line}")
    return 1 if report.problems else 0
