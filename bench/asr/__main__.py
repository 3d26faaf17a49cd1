"""``python -m bench.asr``: see :mod:`bench.asr`."""

import sys

from bench.asr.cli import main

sys.exit(main())
