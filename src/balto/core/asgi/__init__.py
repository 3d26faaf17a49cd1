"""Balto's apps as ASGI applications, for hypercorn (TLS ``wss://``, HTTP/2).

* :mod:`balto.core.asgi.adapter`: ``AsgiAdapter``, any ``HttpApp`` as an ASGI 3 callable;
* :mod:`balto.core.asgi.websocket`: the handshake/connection shim that sessions see;
* :mod:`balto.core.asgi.lifespan`: ``LifespanApp``, the app built in the ASGI lifespan;
* the two services' ``app`` objects live with their apps (:mod:`balto.counter.asgi`,
  :mod:`balto.partnumber.asgi`);
* :mod:`balto.tls`: ``python -m balto.tls``, hypercorn in-process with a graceful stop.

The service modules are not imported here, so importing the adapter stays cheap.
"""

from balto.core.asgi.adapter import AsgiAdapter, UnsupportedScope
from balto.core.asgi.lifespan import LifespanApp
from balto.core.asgi.websocket import AsgiUpgrade, AsgiWebSocket

__all__ = ["AsgiAdapter", "AsgiUpgrade", "AsgiWebSocket", "LifespanApp", "UnsupportedScope"]
