"""The sans-IO Socket.IO server: Engine.IO transport entry points + Socket.IO logic.

Shell contract (every ``now`` is a monotonic time in seconds, e.g. ``trio.current_time()``):

1. CORS: :func:`balto.socketio.cors.check_cors` → headers for every response, or 403.
2. ``req = server.classify(method, query, websocket=...)`` (``ClientError`` → its status).
3. By ``req.kind``:

   * ``PREFLIGHT``: 200, empty body.
   * ``OPEN_POLLING``: ``s = server.open_session(POLLING, now)`` then answer like ``POLL``.
   * ``POLL``: ``body = server.handle_get(s, now)``; while ``body is None`` wait for
     ``wakeup(s.sid)`` then ``body = s.poll_get()``; if the exchange dies first,
     ``s.cancel_get()``. Answer 200 ``text/plain; charset=UTF-8``.
   * ``POST``: ``server.check_content_length(n)``, read the body, ``server.handle_post(s, body,
     now)``, answer 200 ``ok``.
   * ``OPEN_WEBSOCKET`` (``s = server.open_session(WEBSOCKET, now)``) or ``UPGRADE``
     (``server.begin_upgrade(req.session)``): accept the WebSocket, then run a reader
     (``server.handle_ws_frame(s, frame, now)`` per frame, ``server.handle_ws_closed(s, now)``
     when it ends) and a writer (loop: ``out = s.take_ws_output()``, send ``out.frames``, close
     the socket and stop if ``out.close``, else wait for ``wakeup(s.sid)``).

4. A timer task: sleep until ``server.next_deadline()`` (re-read it after any wakeup), then
   ``server.on_timer(now)``.

``handle_*`` may raise ``ClientError`` (``EngineProtocolError``/``SocketIOProtocolError``:
answer 400 / close the WebSocket; ``PayloadTooLarge``: 413); the session state is already
updated when they do. Application handlers run inside these calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from balto.socketio.core import (
    AckCallback,
    ConnectHandler,
    DisconnectHandler,
    EventHandler,
    SocketIOCore,
)
from balto.socketio.engineio.events import (
    Closed,
    CloseReason,
    EngineConfig,
    Event,
    MessageReceived,
    Transport,
)
from balto.socketio.engineio.server import EngineRequest, EngineServer, new_session_id
from balto.socketio.engineio.session import EngineSession
from balto.socketio.errors import EngineProtocolError, SocketIOProtocolError

__all__ = ["SocketIOServer"]


class SocketIOServer:
    """Socket.IO server over Engine.IO v4 (polling + WebSocket). See the module docstring.

    It *holds* the Engine.IO registry and the Socket.IO core and offers the application a small
    facade (handlers, ``emit``, rooms, session count); neither part is exposed.

    ``wakeup(engine_sid)`` is called synchronously whenever the session with that Engine.IO sid
    may have output for a parked GET or its WebSocket writer (and when it closes).
    """

    def __init__(
        self,
        engine_config: EngineConfig | None = None,
        *,
        wakeup: Callable[[str], None] | None = None,
        new_id: Callable[[], str] = new_session_id,
    ) -> None:
        self._core = SocketIOCore(new_id)
        self._engine = EngineServer(engine_config, wakeup=wakeup, new_id=new_id)

    # ------------------------------------------------------------ application facade
    def on(self, event: str, handler: EventHandler) -> None:
        """Register the handler of ``event`` (its return value answers the client's ack)."""
        self._core.on(event, handler)

    def on_connect(self, handler: ConnectHandler) -> None:
        self._core.on_connect(handler)

    def on_disconnect(self, handler: DisconnectHandler) -> None:
        self._core.on_disconnect(handler)

    def emit(
        self,
        event: str,
        *args: Any,
        to: str | None = None,
        skip_sid: str | None = None,
        callback: AckCallback | None = None,
    ) -> None:
        """Send ``event`` to everyone, or to room/sid ``to`` (see :meth:`SocketIOCore.emit`)."""
        self._core.emit(event, *args, to=to, skip_sid=skip_sid, callback=callback)

    def enter_room(self, sid: str, room: str) -> None:
        self._core.enter_room(sid, room)

    def leave_room(self, sid: str, room: str) -> None:
        self._core.leave_room(sid, room)

    def rooms_of(self, sid: str) -> frozenset[str]:
        """The rooms Socket.IO ``sid`` is in (its own sid-named room included)."""
        return self._core.rooms.rooms_of(sid)

    def room_members(self, room: str) -> frozenset[str]:
        return self._core.rooms.members(room)

    @property
    def sids(self) -> frozenset[str]:
        """Socket.IO sids currently connected."""
        return self._core.sids

    def engine_sid(self, sid: str) -> str | None:
        return self._core.engine_sid(sid)

    def disconnect(self, sid: str) -> None:
        """Disconnect ``sid`` from ``/`` (sends ``41``); the Engine.IO session stays open."""
        self._core.disconnect(sid)

    @property
    def session_count(self) -> int:
        """Engine.IO sessions currently held (closed ones until they are reaped)."""
        return len(self._engine)

    def session(self, engine_sid: str) -> EngineSession | None:
        """The live Engine.IO session ``engine_sid``, or ``None`` once reaped."""
        return self._engine.get(engine_sid)

    # ------------------------------------------------------------ requests
    def classify(
        self, method: str, query: str | bytes | Mapping[str, str], *, websocket: bool
    ) -> EngineRequest:
        return self._engine.classify(method, query, websocket=websocket)

    def check_content_length(self, length: int | None) -> None:
        self._engine.check_content_length(length)

    def open_session(self, transport: Transport, now: float) -> EngineSession:
        session = self._engine.open(transport, now)
        self._core.attach(session)
        return session

    def handle_get(self, session: EngineSession, now: float) -> bytes | None:
        try:
            body = session.begin_get(now)
        except EngineProtocolError as exc:
            self._process(session, exc.events, now)
            raise
        self._reap(now)
        return body

    def handle_post(self, session: EngineSession, body: bytes, now: float) -> None:
        try:
            events = session.receive_post(body, now)
        except EngineProtocolError as exc:
            self._process(session, exc.events, now)
            raise
        self._process(session, events, now)

    def begin_upgrade(self, session: EngineSession) -> None:
        session.begin_upgrade()

    def handle_ws_frame(self, session: EngineSession, frame: str | bytes, now: float) -> None:
        try:
            events = session.receive_ws_frame(frame, now)
        except EngineProtocolError as exc:
            self._process(session, exc.events, now)
            raise
        self._process(session, events, now)

    def handle_ws_closed(self, session: EngineSession, now: float) -> None:
        self._process(session, session.websocket_closed(now), now)

    # ------------------------------------------------------------ timers & shutdown
    def next_deadline(self) -> float | None:
        return self._engine.next_deadline()

    def on_timer(self, now: float) -> None:
        """Send due pings, close timed-out sessions, forget finished ones."""
        for session in self._engine:
            self._process(session, session.on_timer(now), now)
        self._reap(now)

    def close_connection(self, sid: str, now: float) -> None:
        """Close the whole Engine.IO connection of Socket.IO ``sid`` (no reconnection hint)."""
        engine_sid = self._core.engine_sid(sid)
        session = self._engine.get(engine_sid) if engine_sid is not None else None
        if session is not None:
            self._core.disconnect(sid)
            self._process(session, session.close(now), now)

    def shutdown(self, now: float) -> None:
        """Close every session (each gets a close packet; disconnect handlers run)."""
        for session in self._engine:
            self._process(session, session.close(now), now)

    # ------------------------------------------------------------ internals
    def _process(self, session: EngineSession, events: Sequence[Event], now: float) -> None:
        try:
            for event in events:
                if isinstance(event, MessageReceived):
                    self._message(session, event.data, now)
                elif isinstance(event, Closed):
                    self._core.detach(session.sid, event.reason.value)
        finally:
            if session.closed and session.close_reason is not None:
                self._core.detach(session.sid, session.close_reason.value)
            self._reap(now)

    def _message(self, session: EngineSession, data: str | bytes, now: float) -> None:
        if session.closed:
            return
        try:
            self._core.receive(session.sid, data)
        except SocketIOProtocolError:
            session.close(now, CloseReason.TRANSPORT_ERROR)
            raise

    def _reap(self, now: float) -> None:
        for session in self._engine.reap(now):
            if session.close_reason is not None:
                self._core.detach(session.sid, session.close_reason.value)
