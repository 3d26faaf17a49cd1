"""Balto's apps as ASGI applications, for hypercorn (TLS ``wss://``, HTTP/2).

* :mod:`balto.asgi.adapter`: ``AsgiAdapter``, any ``HttpApp`` as an ASGI 3 callable;
* :mod:`balto.asgi.websocket`: the handshake/connection shim that sessions see;
* :mod:`balto.asgi.lifespan`: ``LifespanApp``, the app built in the ASGI lifespan;
* :mod:`balto.asgi.balto` / :mod:`balto.asgi.partnumber`: the two services' ``app`` objects;
* :mod:`balto.asgi.run`: ``python -m balto.asgi``, hypercorn in-process with a graceful stop.

The service modules are not imported here, so importing the adapter stays cheap.
"""

from balto.asgi.adapter import AsgiAdapter, UnsupportedScope
from balto.asgi.lifespan import LifespanApp
from balto.asgi.websocket import AsgiUpgrade, AsgiWebSocket

__all__ = ["AsgiAdapter", "AsgiUpgrade", "AsgiWebSocket", "LifespanApp", "UnsupportedScope"]
