"""``python -m balto.asgi``: see :mod:`balto.asgi.run`."""

import sys

from balto.asgi.run import main

sys.exit(main())
