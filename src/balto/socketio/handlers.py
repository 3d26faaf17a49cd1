"""The application's Socket.IO handlers and how one event reaches them (no I/O, no Trio).

The core never calls application code. Its shell keeps a :class:`Handlers` table and, for each
event the server returns, calls :meth:`Handlers.run` (inside its crash boundary): the matching
handler runs and its answer goes back into the server (accept/refuse a connect, ack an event).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from balto.socketio.core import ConnectionRefused
from balto.socketio.events import AckReceived, Connected, Disconnected, Event, EventReceived
from balto.socketio.packets import RESERVED_EVENTS

if TYPE_CHECKING:
    from balto.socketio.server import SocketIOServer

__all__ = ["AckCallback", "ConnectHandler", "DisconnectHandler", "EventHandler", "Handlers"]

#: ``handler(sid, *args)``; the return value answers the client's ack (tuple = several args).
EventHandler = Callable[..., Any]
#: ``handler(sid, auth)`` (auth: the CONNECT payload or ``None``); ``False`` refuses.
ConnectHandler = Callable[[str, Any], Any]
#: ``handler(sid, reason)``.
DisconnectHandler = Callable[[str, str], None]
#: ``callback(*args)``: the client's answer to an emit that asked for an ack.
AckCallback = Callable[..., None]


class Handlers:
    """Registered handlers and pending ack callbacks; see the module docstring."""

    def __init__(self) -> None:
        self._events: dict[str, EventHandler] = {}
        self._on_connect: ConnectHandler | None = None
        self._on_disconnect: DisconnectHandler | None = None
        self._callbacks: dict[tuple[str, int], AckCallback] = {}

    def on(self, event: str, handler: EventHandler) -> None:
        if event in RESERVED_EVENTS:
            raise ValueError(f"{event!r} is reserved; use on_connect/on_disconnect")
        self._events[event] = handler

    def on_connect(self, handler: ConnectHandler) -> None:
        self._on_connect = handler

    def on_disconnect(self, handler: DisconnectHandler) -> None:
        self._on_disconnect = handler

    def expect_ack(self, sid: str, ack_id: int, callback: AckCallback) -> None:
        """``callback`` answers the ``AckReceived(sid, ack_id)`` to come."""
        self._callbacks[(sid, ack_id)] = callback

    def run(self, server: SocketIOServer, event: Event) -> list[Event]:
        """Call the handler ``event`` asks for and feed its answer to ``server``; returns what the
        server says then. A handler's exception propagates, after a connect is settled."""
        if isinstance(event, Connected):
            return self._connected(server, event)
        if isinstance(event, EventReceived | AckReceived) and event.sid not in server.sids:
            # Decoded in the same batch as a CONNECT that was then refused, or after a handler
            # disconnected that socket: it is no longer connected, so nothing of it runs.
            return []
        if isinstance(event, EventReceived):
            handler = self._events.get(event.event)
            if handler is None:
                return []  # unhandled: no ack, like python-socketio
            result = handler(event.sid, *event.args)
            if event.ack_id is None:
                return []
            return server.ack(event.sid, event.ack_id, result)
        if isinstance(event, AckReceived):
            callback = self._callbacks.pop((event.sid, event.ack_id), None)
            if callback is not None:
                callback(*event.args)
        elif isinstance(event, Disconnected):
            self._forget_callbacks(event.sid)
            if self._on_disconnect is not None:
                self._on_disconnect(event.sid, event.reason)
        return []

    def _connected(self, server: SocketIOServer, event: Connected) -> list[Event]:
        handler, settled = self._on_connect, False
        try:
            accepted = handler is None or handler(event.sid, event.auth) is not False
            settled = True
        except ConnectionRefused as exc:
            settled = True
            self._forget_callbacks(event.sid)
            return server.refuse(event.sid, exc.payload)
        finally:
            if not settled:
                self._forget_callbacks(event.sid)
                server.refuse(event.sid, None)  # the handler crashed: never connected
        if accepted:
            return server.accept(event.sid)
        self._forget_callbacks(event.sid)
        return server.refuse(event.sid, ConnectionRefused().payload)

    def _forget_callbacks(self, sid: str) -> None:
        for key in [key for key in self._callbacks if key[0] == sid]:
            del self._callbacks[key]
