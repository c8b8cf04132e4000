"""``tipresearch course``: the course's student or instructor edition, executed and built."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Build one edition of the training course from notebooks/course/: the student's
(exercises, hints and answer checks, no solutions) or the instructor's (with the
worked solutions and the instructor's guide, docs/teaching.md). The notebooks are
executed as the edition has them and built into a book with sphinx-exercise.

Writes DIR/notebooks/ (the executed notebooks a class downloads), DIR/html/ and
DIR/site/ (the book: open DIR/site/index.html). The student edition is checked
for solutions before the command ends; finding one is an error.

Exit status: 0 built, 1 the build failed or a solution was found, 2 bad input."""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``course`` and return its parser."""
    p = subparsers.add_parser(
        "course",
        help="build the training course's student or instructor edition",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--edition", required=True, choices=("student", "instructor"))
    p.add_argument("--out", default=None, metavar="DIR", help="default build/course-<edition>")
    p.add_argument("--workers", type=int, default=None, metavar="N", help="notebooks at once")
    return p


def main(args: argparse.Namespace) -> int:
    """Build the edition; for students, check that no solution is left."""
    from tipresearch.collection.runner import find_project_root
    from tipresearch.course.editions import (
        build_edition,
        course_notebooks,
        find_solutions,
        solution_fragments,
    )

    out = args.out or f"build/course-{args.edition}"
    try:
        site = build_edition(args.edition, out, workers=args.workers)
    except RuntimeError as exc:
        print(f"tipresearch course: {exc}", file=sys.stderr)
        return 1
    if args.edition == "student":
        root = find_project_root()
        fragments = solution_fragments(course_notebooks(root))
        leaks = find_solutions(out, fragments)
        if leaks:
            path, text = leaks[0]
            print(f"tipresearch course: a solution in {path}: {text!r}", file=sys.stderr)
            return 1
    print(f"{args.edition}'s edition: {site}/index.html", file=sys.stderr)
    return 0
