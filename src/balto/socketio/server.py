"""The sans-IO Socket.IO server: Engine.IO transport entry points + Socket.IO protocol state.

Input goes in; frozen :mod:`events <balto.socketio.events>` and bytes come out. Nothing here
calls back into the shell or the application. Shell contract (every ``now`` is a monotonic time
in seconds, e.g. ``trio.current_time()``):

1. ``req = server.classify(method, query, websocket=...)`` (``ClientError`` → its status).
2. By ``req.kind``:

   * ``PREFLIGHT``: 200, empty body.
   * ``OPEN_POLLING``: ``s = server.open_session(POLLING, now)`` then answer like ``POLL``.
   * ``POLL``: ``body, events = server.handle_get(s, now)``; while ``body is None`` wait for an
     ``OutputPending(s.sid)`` then ``body = s.poll_get()``; if the exchange dies first,
     ``s.cancel_get()``. Answer 200 ``text/plain; charset=UTF-8``.
   * ``POST``: read the body, ``server.handle_post(s, body, now)``, answer 200 ``ok`` (or the
     status of a ``Rejected`` event: 413 over ``maxPayload``, which also closes the session).
   * ``OPEN_WEBSOCKET`` (``s = server.open_session(WEBSOCKET, now)``) or ``UPGRADE``
     (if ``server.surplus_websocket(req.session)``: accept the WebSocket and close it at once;
     else ``server.begin_upgrade(req.session)``): accept the WebSocket, then run a reader
     (``server.handle_ws_frame(s, frame, now)`` per frame, ``server.handle_ws_closed(s, now)``
     when it ends) and a writer (loop: ``out = s.take_ws_output()``, send ``out.frames``, close
     the socket and stop if ``out.close``, else wait for ``OutputPending(s.sid)``).

3. A timer task: sleep until ``server.next_deadline()`` (re-read it after any event), then
   ``server.on_timer(now)``.

Every entry point returns the events to act on, in order: wake on ``OutputPending``, run the
application's handlers on ``Connected``/``EventReceived``/``AckReceived``/``Disconnected`` and
feed their answers back (:meth:`accept`, :meth:`refuse`, :meth:`ack`), answer ``Rejected``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from balto.core.errors import ClientError
from balto.socketio.core import SocketIOCore
from balto.socketio.engineio.events import (
    CloseReason,
    EngineConfig,
    MessageReceived,
    Transport,
)
from balto.socketio.engineio.events import Event as EngineEvent
from balto.socketio.engineio.registry import EngineRequest, EngineServer, new_session_id
from balto.socketio.engineio.session import EngineSession
from balto.socketio.errors import SocketIOProtocolError
from balto.socketio.events import Event, OutputPending, Rejected

__all__ = ["SocketIOServer"]


class SocketIOServer:
    """Socket.IO server over Engine.IO v4 (polling + WebSocket). See the module docstring.

    It *holds* the Engine.IO registry and the Socket.IO core; neither is exposed.
    """

    def __init__(
        self,
        engine_config: EngineConfig | None = None,
        *,
        new_id: Callable[[], str] = new_session_id,
    ) -> None:
        self._core = SocketIOCore(new_id)
        self._engine = EngineServer(engine_config, new_id=new_id)
        # engine sid -> when the session must have sent a Socket.IO CONNECT (connectTimeout)
        self._connect_by: dict[str, float] = {}

    # ------------------------------------------------------------ application side
    def emit(
        self, event: str, *args: Any, to: str | None = None, skip_sid: str | None = None
    ) -> list[Event]:
        """Send ``event`` to every connected socket, or to room/sid ``to``."""
        self._core.emit(event, *args, to=to, skip_sid=skip_sid)
        return self._wakes(())

    def emit_with_ack(self, event: str, *args: Any, to: str) -> tuple[int, list[Event]]:
        """Send ``event`` to the single sid ``to``; its answer comes as ``AckReceived`` with the
        returned ack id."""
        ack_id = self._core.emit(event, *args, to=to, want_ack=True)
        assert ack_id is not None
        return ack_id, self._wakes(())

    def accept(self, sid: str) -> list[Event]:
        """The connect handler accepted ``Connected(sid)``."""
        self._core.accept(sid)
        return self._wakes(())

    def refuse(self, sid: str, payload: dict[str, Any] | None) -> list[Event]:
        """The connect handler refused ``Connected(sid)`` (``None``: it crashed; no answer)."""
        self._core.refuse(sid, payload)
        return self._wakes(())

    def ack(self, sid: str, ack_id: int, result: Any) -> list[Event]:
        """A handler's return value answers ``EventReceived(sid, ..., ack_id)``."""
        self._core.ack(sid, ack_id, result)
        return self._wakes(())

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

    def disconnect(self, sid: str) -> list[Event]:
        """Disconnect ``sid`` from ``/`` (sends ``41``); the Engine.IO session stays open."""
        return self._core.disconnect(sid) + self._wakes(())

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
        self._connect_by[session.sid] = now + self._engine.config.connect_timeout
        session.take_wakeup()  # the open packet: the first GET / the writer takes it anyway
        return session

    def handle_get(self, session: EngineSession, now: float) -> tuple[bytes | None, list[Event]]:
        try:
            body = session.begin_get(now)
        except ClientError as exc:
            return None, self._process(session, [], now, exc)
        return body, self._process(session, [], now)

    def handle_post(self, session: EngineSession, body: bytes, now: float) -> list[Event]:
        try:
            events = session.receive_post(body, now)
        except ClientError as exc:
            return self._process(session, [], now, exc)
        return self._process(session, events, now)

    def surplus_websocket(self, session: EngineSession) -> bool:
        """True when a WebSocket for ``session`` must be accepted and closed at once without
        touching the session (it already has one, upgraded or upgrading): the reference
        server's answer, where :meth:`begin_upgrade` would refuse the handshake."""
        return session.has_websocket and not session.closed

    def begin_upgrade(self, session: EngineSession) -> list[Event]:
        """A WebSocket for this polling session; a ``Rejected`` event: refuse the WebSocket."""
        try:
            session.begin_upgrade()
        except ClientError as exc:
            return [Rejected(exc.status, exc.message)]
        return []

    def handle_ws_frame(
        self, session: EngineSession, frame: str | bytes, now: float
    ) -> list[Event]:
        try:
            events = session.receive_ws_frame(frame, now)
        except ClientError as exc:
            return self._process(session, [], now, exc)
        return self._process(session, events, now)

    def handle_ws_closed(self, session: EngineSession, now: float) -> list[Event]:
        return self._process(session, session.websocket_closed(now), now)

    # ------------------------------------------------------------ timers & shutdown
    def next_deadline(self) -> float | None:
        engine = self._engine.next_deadline()
        deadlines = [*self._connect_by.values(), *([] if engine is None else [engine])]
        return min(deadlines, default=None)

    def on_timer(self, now: float) -> list[Event]:
        """Send due pings, close timed-out sessions (no pong, or no Socket.IO CONNECT within
        ``connect_timeout``), forget finished ones."""
        out: list[Event] = []
        sessions = list(self._engine)
        for session in sessions:
            session.on_timer(now)
        for engine_sid, deadline in list(self._connect_by.items()):
            if now >= deadline:
                del self._connect_by[engine_sid]
                late = self._engine.get(engine_sid)
                if late is not None and not self._core.ever_connected(engine_sid):
                    late.close(now)  # like the reference: the connection is closed
        out.extend(self._closures(sessions))
        return out + self._reap(now) + self._wakes(sessions)

    def close_connection(self, sid: str, now: float) -> list[Event]:
        """Close the whole Engine.IO connection of Socket.IO ``sid`` (no reconnection hint)."""
        engine_sid = self._core.engine_sid(sid)
        session = self._engine.get(engine_sid) if engine_sid is not None else None
        if session is None:
            return []
        out = self._core.disconnect(sid)
        session.close(now)
        return out + self._process(session, [], now)

    def shutdown(self, now: float) -> list[Event]:
        """Close every session (each gets a close packet; ``Disconnected`` for each socket)."""
        sessions = list(self._engine)
        for session in sessions:
            session.close(now)
        return self._closures(sessions) + self._reap(now) + self._wakes(sessions)

    # ------------------------------------------------------------ internals
    def _process(
        self,
        session: EngineSession,
        events: Iterable[EngineEvent],
        now: float,
        error: ClientError | None = None,
    ) -> list[Event]:
        out: list[Event] = []
        for event in events:
            if isinstance(event, MessageReceived) and not session.closed:
                try:
                    out.extend(self._core.receive(session.sid, event.data))
                except SocketIOProtocolError as exc:
                    session.close(now, CloseReason.TRANSPORT_ERROR)
                    error = exc
        if session.closed or self._core.ever_connected(session.sid):
            self._connect_by.pop(session.sid, None)
        out.extend(self._closures([session]))
        out.extend(self._reap(now))
        if error is not None:
            out.append(Rejected(error.status, error.message))
        return out + self._wakes([session])

    def _closures(self, sessions: Iterable[EngineSession]) -> list[Event]:
        out: list[Event] = []
        for session in sessions:
            if session.close_reason is not None:
                out.extend(self._core.detach(session.sid, session.close_reason.value))
        return out

    def _reap(self, now: float) -> list[Event]:
        reaped = self._engine.reap(now)
        for session in reaped:
            self._connect_by.pop(session.sid, None)
        return self._closures(reaped)

    def _wakes(self, sessions: Iterable[EngineSession]) -> list[Event]:
        woken = [s for s in {*sessions, *self._core.take_touched()} if s.take_wakeup()]
        return [OutputPending(s.sid) for s in sorted(woken, key=lambda s: s.sid)]
