"""Socket.IO v5 server logic (namespace ``/`` only) over Engine.IO sessions, sans-IO.

The transport entry points live in :class:`~balto.socketio.server.SocketIOServer`; this holds
the Socket.IO logic and the application API: handler registration, ``emit`` (to everyone, a
room or one sid), rooms, acks both ways, and server-side disconnect. Handlers are plain sync
callables, invoked while the shell feeds input; whatever they raise propagates to the shell.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from balto.socketio.engineio.session import EngineSession
from balto.socketio.errors import SocketIOProtocolError
from balto.socketio.packets import RESERVED_EVENTS, PacketDecoder, PacketType, SioPacket
from balto.socketio.packets import encode_packet as _encode
from balto.socketio.rooms import Rooms

__all__ = [
    "AckCallback",
    "ConnectHandler",
    "ConnectionRefused",
    "DisconnectHandler",
    "EventHandler",
    "SocketIOCore",
]

#: ``handler(sid, *args)``; the return value answers the client's ack (tuple = several args).
EventHandler = Callable[..., Any]
#: ``handler(sid, auth)`` (auth: the CONNECT payload or ``None``); ``False`` refuses.
ConnectHandler = Callable[[str, Any], Any]
#: ``handler(sid, reason)``.
DisconnectHandler = Callable[[str, str], None]
AckCallback = Callable[..., None]

CLIENT_DISCONNECT = "client disconnect"
SERVER_DISCONNECT = "server disconnect"


class ConnectionRefused(Exception):
    """Raise from a connect handler to refuse; becomes ``44{"message":...,"data":...}``."""

    def __init__(self, message: str = "Connection rejected by server", data: Any = None) -> None:
        super().__init__(message)
        self.payload: dict[str, Any] = {"message": message}
        if data is not None:
            self.payload["data"] = data


@dataclass(eq=False)
class Link:
    """Socket.IO state of one Engine.IO session."""

    engine: EngineSession
    decoder: PacketDecoder = field(default_factory=PacketDecoder)
    sid: str | None = None  # Socket.IO sid once connected to "/"
    connecting: bool = False  # inside the connect handler: emits are buffered
    buffered: list[str | bytes] = field(default_factory=list)
    next_ack_id: int = 0
    callbacks: dict[int, AckCallback] = field(default_factory=dict)

    def send(self, messages: list[str | bytes]) -> None:
        if self.connecting:
            self.buffered.extend(messages)
        else:
            for message in messages:
                self.engine.send_message(message)


def _ack_args(result: Any) -> list[Any]:
    if result is None:
        return []
    if isinstance(result, tuple):
        return list(result)
    return [result]


class SocketIOCore:
    """Socket.IO protocol logic and application API (see module docstring)."""

    def __init__(self, new_id: Callable[[], str]) -> None:
        self._new_id = new_id
        self._links: dict[str, Link] = {}  # by Engine.IO sid
        self._sockets: dict[str, Link] = {}  # by Socket.IO sid
        self.rooms = Rooms()
        self._handlers: dict[str, EventHandler] = {}
        self._on_connect: ConnectHandler | None = None
        self._on_disconnect: DisconnectHandler | None = None

    # ------------------------------------------------------------ registration
    def on(self, event: str, handler: EventHandler) -> None:
        if event in RESERVED_EVENTS:
            raise ValueError(f"{event!r} is reserved; use on_connect/on_disconnect")
        self._handlers[event] = handler

    def on_connect(self, handler: ConnectHandler) -> None:
        self._on_connect = handler

    def on_disconnect(self, handler: DisconnectHandler) -> None:
        self._on_disconnect = handler

    # ------------------------------------------------------------ application API
    @property
    def sids(self) -> frozenset[str]:
        """Socket.IO sids currently connected."""
        return frozenset(self._sockets)

    def engine_sid(self, sid: str) -> str | None:
        link = self._sockets.get(sid)
        return link.engine.sid if link is not None else None

    def emit(
        self,
        event: str,
        *args: Any,
        to: str | None = None,
        skip_sid: str | None = None,
        callback: AckCallback | None = None,
    ) -> None:
        """Send an event to every connected socket, or to room/sid ``to``.
        ``callback(*args)`` is called when the (single) receiver acknowledges."""
        if event in RESERVED_EVENTS:
            raise ValueError(f"{event!r} is a reserved event name")
        targets = self._sockets.keys() if to is None else self.rooms.members(to)
        links = [self._sockets[s] for s in targets if s != skip_sid and s in self._sockets]
        if callback is not None:
            if to is None or to not in self._sockets:
                raise ValueError("an ack callback needs a single connected sid as 'to'")
            link = self._sockets[to]
            ack_id, link.next_ack_id = link.next_ack_id, link.next_ack_id + 1
            link.callbacks[ack_id] = callback
            link.send(_encode(SioPacket(PacketType.EVENT, "/", [event, *args], ack_id)))
            return
        messages = _encode(SioPacket(PacketType.EVENT, "/", [event, *args]))
        for link in links:
            link.send(messages)

    def enter_room(self, sid: str, room: str) -> None:
        if sid in self._sockets:
            self.rooms.join(sid, room)

    def leave_room(self, sid: str, room: str) -> None:
        self.rooms.leave(sid, room)

    def disconnect(self, sid: str) -> None:
        """Disconnect ``sid`` from ``/`` (sends ``41``); the Engine.IO session stays open."""
        link = self._sockets.get(sid)
        if link is not None:
            link.send(_encode(SioPacket(PacketType.DISCONNECT)))
            self._drop(link, SERVER_DISCONNECT)

    # ------------------------------------------------------------ engine side
    def attach(self, engine: EngineSession) -> None:
        self._links[engine.sid] = Link(engine)

    def detach(self, engine_sid: str, reason: str) -> None:
        """The Engine.IO session closed: disconnect its socket (if any)."""
        link = self._links.pop(engine_sid, None)
        if link is not None and link.sid is not None:
            self._drop(link, reason)

    def receive(self, engine_sid: str, message: str | bytes) -> None:
        """One Engine.IO message. Raises :class:`SocketIOProtocolError` on malformed input
        (the caller must then close the Engine.IO session)."""
        link = self._links.get(engine_sid)
        if link is None:
            return
        packet = link.decoder.feed(message)
        if packet is None:
            return
        kind = packet.type
        if kind is PacketType.CONNECT:
            self._connect(link, packet)
        elif packet.namespace != "/" or link.sid is None:
            return  # not connected to that namespace: ignored like the reference servers
        elif kind is PacketType.DISCONNECT:
            self._drop(link, CLIENT_DISCONNECT)
        elif kind in (PacketType.EVENT, PacketType.BINARY_EVENT):
            self._event(link, link.sid, packet)
        elif kind in (PacketType.ACK, PacketType.BINARY_ACK):
            callback = link.callbacks.pop(packet.id, None) if packet.id is not None else None
            if callback is not None:
                callback(*packet.data)
        else:
            raise SocketIOProtocolError("clients may not send CONNECT_ERROR")

    def _connect(self, link: Link, packet: SioPacket) -> None:
        if packet.namespace != "/":
            error = {"message": "Invalid namespace"}
            link.send(_encode(SioPacket(PacketType.CONNECT_ERROR, packet.namespace, error)))
            return
        if link.sid is not None:
            link.send(_encode(SioPacket(PacketType.CONNECT, "/", {"sid": link.sid})))
            return
        sid = self._new_id()
        link.sid, link.connecting = sid, True
        self._sockets[sid] = link
        self.rooms.join(sid, sid)
        refusal: dict[str, Any] | None = None
        settled = False
        try:
            if self._on_connect is not None and self._on_connect(sid, packet.data) is False:
                refusal = ConnectionRefused().payload
            settled = True
        except ConnectionRefused as exc:
            refusal, settled = exc.payload, True
        finally:
            link.connecting = False
            buffered, link.buffered = link.buffered, []
            if not settled or refusal is not None:
                self._forget(link)  # refused, or the handler crashed: never connected
        if refusal is not None:
            link.send(_encode(SioPacket(PacketType.CONNECT_ERROR, "/", refusal)))
            return
        link.send(_encode(SioPacket(PacketType.CONNECT, "/", {"sid": sid})))
        link.send(buffered)

    def _event(self, link: Link, sid: str, packet: SioPacket) -> None:
        name, *args = packet.data
        handler = self._handlers.get(name)
        if handler is None:
            return  # unhandled: no ack, like python-socketio
        result = handler(sid, *args)
        if packet.id is not None and link.sid == sid:
            link.send(_encode(SioPacket(PacketType.ACK, "/", _ack_args(result), packet.id)))

    def _forget(self, link: Link) -> str | None:
        sid = link.sid
        if sid is not None:
            self._sockets.pop(sid, None)
            self.rooms.leave_all(sid)
        link.sid, link.next_ack_id = None, 0
        link.callbacks.clear()
        return sid

    def _drop(self, link: Link, reason: str) -> None:
        sid = self._forget(link)
        if sid is not None and self._on_disconnect is not None:
            self._on_disconnect(sid, reason)
