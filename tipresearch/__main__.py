"""``python -m tipresearch``: the same as the ``tipresearch`` command."""

import sys

from .cli import main

sys.exit(main())
