"""``python -m tipresearch``: the same as the ``tipresearch`` command."""

from .cli import entry

entry()
