"""``tipresearch explore``: the course's live explorer as a web page on localhost."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Serve the course's live explorer (notebooks/course/03_explorer.ipynb) with Voila
at http://127.0.0.1:PORT/: controls for the rating, its weights, the audit
probability, capacity and the children's DNA effect, redrawing the share of
reports opened, the clearance rate and the victims rescued. Open the address in a
browser (a classroom projector); stop with Ctrl-C.

Exit status: 0 stopped, 1 Voila failed to start, 2 bad input."""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``explore`` and return its parser."""
    p = subparsers.add_parser(
        "explore",
        help="serve the course's live explorer on localhost (Voila)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--port", type=int, default=8866, help="default 8866")
    return p


def main(args: argparse.Namespace) -> int:
    """Start Voilà and wait for Ctrl-C."""
    from tipresearch.collection.runner import find_project_root
    from tipresearch.course.serve import explorer_url, start_explorer, wait_until_up

    process = start_explorer(find_project_root(), args.port)
    url = explorer_url(args.port)
    try:
        wait_until_up(url, process)
        print(f"the explorer: {url}  (Ctrl-C to stop)", file=sys.stderr)
        process.wait()
    except RuntimeError as exc:
        print(f"tipresearch explore: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
    return 0
