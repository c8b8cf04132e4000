"""The ``tipresearch`` command line: one module per subcommand.

:func:`main` parses the arguments and runs a subcommand; each subcommand's module
(``run``, ``simulate``, ``sweep``, ``sensitivity``, ``results``, ``calibrate``)
defines ``add_parser(subparsers)`` and ``main(args) -> int``. This is the top room:
it may import every other room, and none imports it.
"""

from __future__ import annotations

from .app import COMMANDS, build_parser, entry, main

__all__ = ["COMMANDS", "build_parser", "entry", "main"]
