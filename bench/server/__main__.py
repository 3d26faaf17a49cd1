"""``python -m bench.server``: see :mod:`bench.server`."""

import sys

from bench.server.cli import main

sys.exit(main())
