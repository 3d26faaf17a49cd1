"""Socket.IO v5 server logic (namespace ``/`` only) over Engine.IO sessions, sans-IO.

The transport entry points live in :class:`~balto.socketio.server.SocketIOServer`; this holds
the Socket.IO protocol state: links to Engine.IO sessions, rooms, ack ids both ways, connect
handshakes and server-side disconnect. It calls no application code: what the client did comes
back as :mod:`events <balto.socketio.events>`, and the caller answers with :meth:`accept`,
:meth:`refuse` and :meth:`ack`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from balto.socketio.engineio.session import EngineSession
from balto.socketio.errors import SocketIOProtocolError
from balto.socketio.events import AckReceived, Connected, Disconnected, Event, EventReceived
from balto.socketio.packets import RESERVED_EVENTS, PacketDecoder, PacketType, SioPacket
from balto.socketio.packets import encode_packet as _encode
from balto.socketio.rooms import Rooms

__all__ = ["CLIENT_DISCONNECT", "SERVER_DISCONNECT", "ConnectionRefused", "SocketIOCore"]

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
    touched: set[EngineSession]  # the core's set of sessions given output since last drained
    decoder: PacketDecoder = field(default_factory=PacketDecoder)
    sid: str | None = None  # Socket.IO sid once connected to "/"
    connecting: bool = False  # CONNECT seen, not yet accepted: emits are buffered
    buffered: list[str | bytes] = field(default_factory=list)
    next_ack_id: int = 0
    pending_acks: set[int] = field(default_factory=set)
    ever_connected: bool = False  # a CONNECT for "/" came: the connect timeout no longer runs

    def send(self, messages: list[str | bytes]) -> None:
        if self.connecting:
            self.buffered.extend(messages)
        else:
            for message in messages:
                self.engine.send_message(message)
            self.touched.add(self.engine)


def ack_args(result: Any) -> list[Any]:
    """A handler's return value as ack arguments (``None``: none; a tuple: several)."""
    if result is None:
        return []
    if isinstance(result, tuple):
        return list(result)
    return [result]


class SocketIOCore:
    """Socket.IO protocol state (see module docstring)."""

    def __init__(self, new_id: Callable[[], str]) -> None:
        self._new_id = new_id
        self._links: dict[str, Link] = {}  # by Engine.IO sid
        self._sockets: dict[str, Link] = {}  # by Socket.IO sid
        self._touched: set[EngineSession] = set()
        self.rooms = Rooms()

    def take_touched(self) -> set[EngineSession]:
        """The sessions given output since the last call."""
        touched = set(self._touched)
        self._touched.clear()  # the links share this very set
        return touched

    # ------------------------------------------------------------ application side
    @property
    def sids(self) -> frozenset[str]:
        """Socket.IO sids currently connected (or connecting)."""
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
        want_ack: bool = False,
    ) -> int | None:
        """Send an event to every connected socket, or to room/sid ``to``. With ``want_ack``,
        ``to`` must be one connected sid; the returned id comes back in ``AckReceived``."""
        if event in RESERVED_EVENTS:
            raise ValueError(f"{event!r} is a reserved event name")
        if want_ack:
            if to is None or to not in self._sockets:
                raise ValueError("an ack needs a single connected sid as 'to'")
            link = self._sockets[to]
            ack_id, link.next_ack_id = link.next_ack_id, link.next_ack_id + 1
            link.pending_acks.add(ack_id)
            link.send(_encode(SioPacket(PacketType.EVENT, "/", [event, *args], ack_id)))
            return ack_id
        targets = self._sockets.keys() if to is None else self.rooms.members(to)
        links = [self._sockets[s] for s in targets if s != skip_sid and s in self._sockets]
        messages = _encode(SioPacket(PacketType.EVENT, "/", [event, *args]))
        for link in links:
            link.send(messages)
        return None

    def enter_room(self, sid: str, room: str) -> None:
        if sid in self._sockets:
            self.rooms.join(sid, room)

    def leave_room(self, sid: str, room: str) -> None:
        self.rooms.leave(sid, room)

    def disconnect(self, sid: str) -> list[Event]:
        """Disconnect ``sid`` from ``/`` (sends ``41``); the Engine.IO session stays open."""
        link = self._sockets.get(sid)
        if link is None:
            return []
        link.send(_encode(SioPacket(PacketType.DISCONNECT)))
        return self._drop(link, SERVER_DISCONNECT)

    def accept(self, sid: str) -> None:
        """Answer ``Connected(sid)``: send CONNECT, then what was emitted to ``sid`` meanwhile.
        A no-op if ``sid`` is gone or already accepted."""
        link = self._sockets.get(sid)
        if link is None or not link.connecting:
            return
        link.connecting = False
        buffered, link.buffered = link.buffered, []
        link.send(_encode(SioPacket(PacketType.CONNECT, "/", {"sid": sid})))
        link.send(buffered)

    def refuse(self, sid: str, payload: dict[str, Any] | None) -> None:
        """Answer ``Connected(sid)`` with a refusal: ``44`` + ``payload`` (``None``: silently,
        when the connect handler crashed). The socket never connected."""
        link = self._sockets.get(sid)
        if link is None or not link.connecting:
            return
        link.connecting, link.buffered = False, []
        self._forget(link)
        if payload is not None:
            link.send(_encode(SioPacket(PacketType.CONNECT_ERROR, "/", payload)))

    def ack(self, sid: str, ack_id: int, result: Any) -> None:
        """Answer ``EventReceived(sid, ..., ack_id)`` with a handler's return value."""
        link = self._sockets.get(sid)
        if link is not None:
            link.send(_encode(SioPacket(PacketType.ACK, "/", ack_args(result), ack_id)))

    # ------------------------------------------------------------ engine side
    def attach(self, engine: EngineSession) -> None:
        self._links[engine.sid] = Link(engine, self._touched)

    def ever_connected(self, engine_sid: str) -> bool:
        """Whether the session sent a CONNECT for ``/`` (accepted or not) since it opened."""
        link = self._links.get(engine_sid)
        return link is not None and link.ever_connected

    def detach(self, engine_sid: str, reason: str) -> list[Event]:
        """The Engine.IO session closed: disconnect its socket (if any)."""
        link = self._links.pop(engine_sid, None)
        if link is not None and link.sid is not None:
            return self._drop(link, reason)
        return []

    def receive(self, engine_sid: str, message: str | bytes) -> list[Event]:
        """One Engine.IO message. Raises :class:`SocketIOProtocolError` on malformed input
        (the caller must then close the Engine.IO session)."""
        link = self._links.get(engine_sid)
        if link is None:
            return []
        packet = link.decoder.feed(message)
        if packet is None:
            return []
        kind = packet.type
        if kind is PacketType.CONNECT:
            return self._connect(link, packet)
        if packet.namespace != "/" or link.sid is None:
            return []  # not connected to that namespace: ignored like the reference servers
        if kind is PacketType.DISCONNECT:
            return self._drop(link, CLIENT_DISCONNECT)
        if kind in (PacketType.EVENT, PacketType.BINARY_EVENT):
            name, *args = packet.data
            return [EventReceived(link.sid, name, tuple(args), packet.id)]
        if kind in (PacketType.ACK, PacketType.BINARY_ACK):
            if packet.id is not None and packet.id in link.pending_acks:
                link.pending_acks.discard(packet.id)
                return [AckReceived(link.sid, packet.id, tuple(packet.data))]
            return []
        raise SocketIOProtocolError("clients may not send CONNECT_ERROR")

    def _connect(self, link: Link, packet: SioPacket) -> list[Event]:
        if packet.namespace != "/":
            error = {"message": "Invalid namespace"}
            link.send(_encode(SioPacket(PacketType.CONNECT_ERROR, packet.namespace, error)))
            return []
        if link.sid is not None:
            if not link.connecting:
                link.send(_encode(SioPacket(PacketType.CONNECT, "/", {"sid": link.sid})))
            return []
        sid = self._new_id()
        link.sid, link.connecting, link.ever_connected = sid, True, True
        self._sockets[sid] = link
        self.rooms.join(sid, sid)
        return [Connected(sid, packet.data)]

    def _forget(self, link: Link) -> str | None:
        sid = link.sid
        if sid is not None:
            self._sockets.pop(sid, None)
            self.rooms.leave_all(sid)
        link.sid, link.next_ack_id, link.connecting = None, 0, False
        link.buffered = []  # never sent to whichever socket connects next on this session
        link.pending_acks.clear()
        return sid

    def _drop(self, link: Link, reason: str) -> list[Event]:
        sid = self._forget(link)
        return [Disconnected(sid, reason)] if sid is not None else []
