"""The Trio shell of the sans-IO Socket.IO server (:mod:`balto.socketio`) on Balto's h11 core.

It follows the contract in :mod:`balto.socketio.server`: ``/socket.io/`` polling requests are
routed (:meth:`SocketIOShell.mount`) to :meth:`SocketIOShell.handle_http` (a long-poll GET simply
awaits its session's wakeup), WebSocket requests get a reader and a writer task, and
:meth:`SocketIOShell.run` owns the single timer task (pings, timeouts, reaping) and closes every
session on shutdown.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Any

import trio
import trio_websocket

from balto.core.errors import BaltoError, ClientError, ServerFault, ServiceUnavailable
from balto.core.http.connection import WebSocketHandler
from balto.core.http.messages import INTERNAL_ERROR, Request, Response, error_response
from balto.core.http.router import Router
from balto.core.http.upgrade import WebSocket, WebSocketUpgrade
from balto.core.metrics import ServerMetrics
from balto.socketio import (
    CorsConfig,
    EngineConfig,
    EngineSession,
    RequestKind,
    SocketIOServer,
    Transport,
)
from balto.socketio.caps import DEFAULT_MAX_SESSIONS, DEFAULT_MAX_SESSIONS_PER_ADDRESS, SessionCaps
from balto.socketio.cors import cors_headers
from balto.socketio.events import Event, OutputPending, Rejected
from balto.socketio.handlers import (
    AckCallback,
    ConnectHandler,
    DisconnectHandler,
    EventHandler,
    Handlers,
)
from balto.socketio.wakeups import Wakeups

__all__ = ["POLL_CONTENT_TYPE", "ServiceUnavailable", "SocketIOShell", "cors_headers"]

log = logging.getLogger(__name__)

SOCKETIO_PATH = "/socket.io/"
SOCKETIO_PATHS = frozenset({"/socket.io", SOCKETIO_PATH})
POLL_CONTENT_TYPE = "text/plain; charset=UTF-8"
POST_CONTENT_TYPE = "text/html; charset=UTF-8"  # python-engineio answers "ok" this way
#: Methods routed to the protocol (which refuses all but GET/POST/OPTIONS with 400).
ROUTED_METHODS = ("GET", "POST", "OPTIONS", "PUT", "DELETE", "PATCH")
TIMER_RETRY_S = 1.0  # after a bug in the deadline computation, look again this much later
WS_CLOSE_TIMEOUT_S = 5.0  # how long a closing handshake may take before we drop the socket


def _query(request: Request) -> str:
    return request.target.partition("?")[2]


class SocketIOShell:
    """Serves ``/socket.io/`` for an :class:`~balto.core.http.connection.HttpApp` (see module doc).

    The application talks to its facade (``on``, ``on_connect``, ``emit``, ``enter_room``,
    ``rooms_of``, ``session_count``). At most ``max_sessions`` Engine.IO sessions are open at
    once, and at most ``max_sessions_per_address`` from one client address; further ones get
    503. The shell calls the handlers, each inside the crash boundary ``socketio_handler``: a
    handler's bug fails that call alone (a POST gets 500), counted in ``metrics``.
    """

    def __init__(
        self,
        engine_config: EngineConfig | None = None,
        *,
        cors: CorsConfig | None = None,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        max_sessions_per_address: int = DEFAULT_MAX_SESSIONS_PER_ADDRESS,
        metrics: ServerMetrics | None = None,
    ) -> None:
        self.server = SocketIOServer(engine_config)
        self.handlers = Handlers()
        self.cors = cors or CorsConfig()
        self.metrics = metrics or ServerMetrics()
        self.caps = SessionCaps(max_sessions, max_sessions_per_address, self.metrics.registry)
        self._wakeups = Wakeups()
        self._timer_changed = trio.Event()
        self._ws_owner: dict[str, object] = {}  # engine sid → token of its current WebSocket

    @staticmethod
    def handles(path: str) -> bool:
        return path in SOCKETIO_PATHS

    # ------------------------------------------------------------ application facade
    def on(self, event: str, handler: EventHandler) -> None:
        """Register the handler of ``event`` (its return value answers the client's ack)."""
        self.handlers.on(event, handler)

    def on_connect(self, handler: ConnectHandler) -> None:
        self.handlers.on_connect(handler)

    def on_disconnect(self, handler: DisconnectHandler) -> None:
        self.handlers.on_disconnect(handler)

    def emit(
        self,
        event: str,
        *args: Any,
        to: str | None = None,
        skip_sid: str | None = None,
        callback: AckCallback | None = None,
    ) -> None:
        """Send ``event`` to everyone, or to room/sid ``to``; ``callback(*args)`` gets the
        answer of the single receiver ``to``."""
        if callback is None:
            self._act(self.server.emit(event, *args, to=to, skip_sid=skip_sid))
            return
        if to is None:
            raise ValueError("an ack callback needs a single connected sid as 'to'")
        ack_id, events = self.server.emit_with_ack(event, *args, to=to)
        self.handlers.expect_ack(to, ack_id, callback)
        self._act(events)

    def enter_room(self, sid: str, room: str) -> None:
        self.server.enter_room(sid, room)

    def leave_room(self, sid: str, room: str) -> None:
        self.server.leave_room(sid, room)

    def rooms_of(self, sid: str) -> frozenset[str]:
        return self.server.rooms_of(sid)

    def disconnect(self, sid: str) -> None:
        self._act(self.server.disconnect(sid))

    @property
    def session_count(self) -> int:
        """Engine.IO sessions currently held."""
        return self.server.session_count

    # ------------------------------------------------------------ events
    def _act(self, events: list[Event]) -> None:
        """Act on the server's events in order: wake writers, run handlers (each in the crash
        boundary) and feed their answers back. Then raise :class:`ServerFault` if a handler
        crashed, else the error a handler raised or a ``Rejected`` event asked for."""
        pending = deque(events)
        crashed = False
        refusal: BaltoError | None = None
        while pending:
            event = pending.popleft()
            if isinstance(event, OutputPending):
                self._wakeups.wake(event.engine_sid)
                self._timer_changed.set()  # deadlines may have moved: the timer re-reads them
            elif isinstance(event, Rejected):
                refusal = refusal or ClientError(event.message, status=event.status)
            else:
                more: list[Event] = []
                with self.metrics.boundary.guard("socketio_handler") as guard:
                    try:
                        more = self.handlers.run(self.server, event)
                    except BaltoError as exc:  # the application's own answer, not a crash
                        refusal = refusal or exc
                crashed = crashed or guard.crashed is not None
                pending.extendleft(reversed(more))
        if crashed:
            raise ServerFault(INTERNAL_ERROR)
        if refusal is not None:
            raise refusal

    def _core_call(self, fn: Callable[..., list[Event]], *args: Any) -> list[Event]:
        """A call into the sans-IO server from a task that serves many sessions (the timer,
        shutdown) or one WebSocket: a bug there is reported at the crash boundary and becomes a
        ``ServerFault`` for that call, never the end of the task."""
        events: list[Event] = []
        refused: BaltoError | None = None
        with self.metrics.boundary.guard("socketio_core") as guard:
            try:
                events = fn(*args)
            except BaltoError as exc:  # the protocol's own answer, not a crash
                refused = exc
        if refused is not None:
            raise refused
        if guard.crashed is not None:
            raise ServerFault(INTERNAL_ERROR)
        return events

    # ------------------------------------------------------------ lifecycle
    async def run(self, stopping: trio.Event) -> None:
        """The timer task; on ``stopping``, close every session (parked requests return)."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._timer)
            await stopping.wait()
            try:
                self._act(self._core_call(self.server.shutdown, trio.current_time()))
            except BaltoError as exc:  # reported at the boundary; the service still stops
                log.warning("socket.io shutdown: %s", exc.message)
            finally:
                nursery.cancel_scope.cancel()

    async def _timer(self) -> None:
        while True:
            self._timer_changed = trio.Event()
            deadline: float | None = trio.current_time() + TIMER_RETRY_S  # if the next line fails
            with self.metrics.boundary.guard("socketio_handler"):
                deadline = self.server.next_deadline()
            with trio.move_on_at(math.inf if deadline is None else deadline):
                await self._timer_changed.wait()
            now = trio.current_time()
            if deadline is not None and now >= deadline:
                self._run_timers(now)

    def _run_timers(self, now: float) -> None:
        try:
            self._act(self._core_call(self.server.on_timer, now))
        except BaltoError as exc:
            log.warning("socket.io timer: %s", exc.message)

    def _catch_up(self) -> None:
        """Run timers already due before serving a request, so that a request never sees a
        session its deadline has ended (the timer task may not have run yet in this tick)."""
        now, deadline = trio.current_time(), self.server.next_deadline()
        if deadline is not None and now >= deadline:
            self._run_timers(now)

    def _open(self, transport: Transport, address: str) -> EngineSession:
        self._check_capacity(address)
        session = self.server.open_session(transport, trio.current_time())
        self.caps.opened(session.sid, address)
        self._timer_changed.set()
        return session

    def _check_capacity(self, address: str) -> None:
        server = self.server
        self.caps.check(address, server.session_count, lambda sid: server.session(sid) is not None)

    # ------------------------------------------------------------ HTTP (polling)
    def mount(self, router: Router) -> None:
        """Route ``/socket.io/`` to :meth:`handle_http`: ``GET``/``POST``/``OPTIONS``, and the
        other common methods too, which the protocol answers with 400 like the reference.

        CORS is not applied here: the application adds :func:`cors_headers` to every answer
        it gives, these included (one place for the whole port)."""
        for method in ROUTED_METHODS:
            router.add(method, SOCKETIO_PATH, self.handle_http)

    async def handle_http(self, request: Request) -> Response:
        """Answer one Engine.IO polling request (no CORS headers; see :meth:`mount`)."""
        try:
            return await self._dispatch(request)
        except BaltoError as exc:
            return error_response(exc)

    async def _dispatch(self, request: Request) -> Response:
        self._catch_up()
        req = self.server.classify(request.method, _query(request), websocket=False)
        if req.kind is RequestKind.PREFLIGHT:
            return Response(200, b"", content_type=POLL_CONTENT_TYPE)
        if req.kind is RequestKind.OPEN_POLLING:
            return await self._poll(self._open(Transport.POLLING, request.client))
        assert req.session is not None
        if req.kind is RequestKind.POLL:
            return await self._poll(req.session)
        self._act(self.server.handle_post(req.session, request.body, trio.current_time()))
        return Response(200, b"ok", content_type=POST_CONTENT_TYPE)

    async def _poll(self, session: EngineSession) -> Response:
        body, events = self.server.handle_get(session, trio.current_time())
        if any(isinstance(event, Rejected) for event in events):
            self._act(events)  # raises; this GET was never parked
        try:
            self._act(events)
            while body is None:
                await self._wakeups.wait(session.sid)
                body = session.poll_get()
        finally:
            if body is None:
                session.cancel_get()  # cancelled (shutdown or connection gone)
        return Response(200, body, content_type=POLL_CONTENT_TYPE)

    # ------------------------------------------------------------ WebSocket
    def websocket_handler(self, request: Request) -> WebSocketHandler | None:
        if not self.handles(request.path):
            return None
        return partial(self._websocket, request)

    async def _websocket(self, request: Request, ws_request: WebSocketUpgrade) -> None:
        try:
            cors_headers(self.cors, request)
            self._catch_up()
            req = self.server.classify("GET", _query(request), websocket=True)
            if req.kind is RequestKind.UPGRADE:
                assert req.session is not None
                if self.server.surplus_websocket(req.session):
                    await self._accept_and_close(ws_request)
                    return
                self._act(self.server.begin_upgrade(req.session))
            else:
                self._check_capacity(request.client)
        except BaltoError as exc:
            response = error_response(exc)
            with trio.CancelScope(shield=True), trio.move_on_after(1):
                await ws_request.reject(response.status, body=response.body)
            return
        session = req.session
        token = object()
        if session is not None:
            self._ws_owner[session.sid] = token
        try:
            ws = await ws_request.accept()
            if session is None:
                session = self._open(Transport.WEBSOCKET, request.client)
                self._ws_owner[session.sid] = token
            await self._serve_websocket(ws, session)
        except (trio_websocket.ConnectionClosed, trio.BrokenResourceError):
            pass
        except ServiceUnavailable as exc:
            log.warning("socket.io: %s", exc.message)
        finally:
            if session is not None and self._ws_owner.get(session.sid) is token:
                del self._ws_owner[session.sid]
                try:
                    self._act(self.server.handle_ws_closed(session, trio.current_time()))
                except BaltoError as exc:
                    log.warning("socket.io websocket %s: %s", session.sid, exc.message)

    @staticmethod
    async def _accept_and_close(ws_request: WebSocketUpgrade) -> None:
        """A WebSocket the session does not need (see ``surplus_websocket``)."""
        with trio.move_on_after(WS_CLOSE_TIMEOUT_S):
            try:
                ws = await ws_request.accept()
                await ws.aclose()
            except (trio_websocket.ConnectionClosed, trio.BrokenResourceError):
                pass

    async def _serve_websocket(self, ws: WebSocket, session: EngineSession) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._ws_writer, ws, session, nursery.cancel_scope)
            try:
                while True:
                    frame = await ws.get_message()
                    try:
                        now = trio.current_time()
                        self._act(self._core_call(self.server.handle_ws_frame, session, frame, now))
                    except BaltoError as exc:
                        # A protocol error is already in the session state (the writer closes
                        # the socket); a handler bug was logged at the boundary.
                        log.info("socket.io websocket %s: %s", session.sid, exc.message)
            except trio_websocket.ConnectionClosed:
                pass
            finally:
                nursery.cancel_scope.cancel()

    async def _ws_writer(
        self,
        ws: WebSocket,
        session: EngineSession,
        done: trio.CancelScope,
    ) -> None:
        """Drain the session onto the socket; when told to close, close (bounded) and end the
        WebSocket's tasks, the reader included."""
        try:
            while True:
                out = session.take_ws_output()
                for frame in out.frames:
                    await ws.send_message(frame)
                if out.close:
                    with trio.move_on_after(WS_CLOSE_TIMEOUT_S):
                        await ws.aclose()
                    return
                if not out.frames:
                    await self._wakeups.wait(session.sid)
        except (trio_websocket.ConnectionClosed, trio.BrokenResourceError):
            pass
        finally:
            done.cancel()
