"""Engine.IO request validation and the session registry (sans-IO)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from urllib.parse import parse_qs

from balto.core.errors import BadRequest, PayloadTooLarge
from balto.socketio.engineio.events import EngineConfig, Transport
from balto.socketio.engineio.session import EngineSession

__all__ = [
    "UNSUPPORTED_VERSION",
    "EngineRequest",
    "EngineServer",
    "RequestKind",
    "new_session_id",
    "parse_query",
]

#: python-engineio's wording for a wrong ``EIO`` (answered with status 400).
UNSUPPORTED_VERSION = (
    "The client is using an unsupported version of the Socket.IO or Engine.IO protocols"
)
ALLOWED_METHODS = ("GET", "POST", "OPTIONS")


def new_session_id() -> str:
    """An unpredictable 20-character URL-safe id (120 bits from :mod:`secrets`)."""
    return secrets.token_urlsafe(15)


class RequestKind(Enum):
    PREFLIGHT = "preflight"  # OPTIONS: answer 200 with the CORS headers, empty body
    OPEN_POLLING = "open_polling"  # GET without sid: new session, body = first poll
    OPEN_WEBSOCKET = "open_websocket"  # WebSocket without sid: new session on the socket
    POLL = "poll"  # GET with sid
    POST = "post"  # POST with sid
    UPGRADE = "upgrade"  # WebSocket with sid: upgrade of a polling session


@dataclass(frozen=True, slots=True)
class EngineRequest:
    kind: RequestKind
    transport: Transport
    session: EngineSession | None = None  # set for POLL, POST and UPGRADE


def parse_query(query: str | bytes) -> dict[str, str]:
    """Parse a raw query string (first value wins, like python-engineio)."""
    text = query.decode("latin-1") if isinstance(query, bytes) else query
    return {key: values[0] for key, values in parse_qs(text, keep_blank_values=True).items()}


class EngineServer:
    """Validates Engine.IO HTTP/WebSocket requests and owns the live sessions."""

    def __init__(
        self,
        config: EngineConfig | None = None,
        *,
        new_id: Callable[[], str] = new_session_id,
    ) -> None:
        self.config = config or EngineConfig()
        self._new_id = new_id
        self._sessions: dict[str, EngineSession] = {}

    def __len__(self) -> int:
        return len(self._sessions)

    def __iter__(self) -> Iterator[EngineSession]:
        return iter(list(self._sessions.values()))

    def get(self, sid: str) -> EngineSession | None:
        return self._sessions.get(sid)

    def classify(
        self, method: str, query: str | bytes | Mapping[str, str], *, websocket: bool
    ) -> EngineRequest:
        """Validate a request to the Engine.IO endpoint.

        ``websocket`` is true when the request is a WebSocket upgrade (``Upgrade: websocket``).
        Raises :class:`BadRequest` (400) for a missing or unknown transport, a bad version or
        sid, JSONP, and any method other than GET/POST/OPTIONS (the reference server answers
        an unexpected method with 400 too: ``BAD_HANDSHAKE_METHOD``).
        """
        params = parse_query(query) if isinstance(query, str | bytes) else dict(query)
        method = method.upper()
        if method == "OPTIONS":
            return EngineRequest(RequestKind.PREFLIGHT, Transport.POLLING)
        try:
            transport = Transport(params.get("transport", ""))
        except ValueError:
            raise BadRequest("Transport unknown") from None  # the reference's wording
        if method not in ALLOWED_METHODS:
            raise BadRequest(f"Bad request method {method}")
        if params.get("EIO") != "4":
            raise BadRequest(UNSUPPORTED_VERSION)
        if "j" in params:
            raise BadRequest("JSONP is not supported")
        if websocket != (transport is Transport.WEBSOCKET) or (websocket and method != "GET"):
            raise BadRequest("Invalid websocket upgrade")
        sid = params.get("sid")
        if sid is None:
            if method == "POST":
                raise BadRequest("Invalid session None")
            kind = RequestKind.OPEN_WEBSOCKET if websocket else RequestKind.OPEN_POLLING
            return EngineRequest(kind, transport)
        session = self._sessions.get(sid)
        if session is None or (session.closed and not session.has_output):
            # A closed session with nothing left to say is gone, even before it is reaped.
            raise BadRequest(f"Invalid session {sid}")
        if websocket:
            return EngineRequest(RequestKind.UPGRADE, transport, session)
        kind = RequestKind.POLL if method == "GET" else RequestKind.POST
        return EngineRequest(kind, transport, session)

    def check_content_length(self, length: int | None) -> None:
        """Refuse (413) a POST whose declared body exceeds ``maxPayload`` before reading it."""
        if length is not None and length > self.config.max_payload:
            raise PayloadTooLarge("payload exceeds maxPayload")

    def open(self, transport: Transport, now: float) -> EngineSession:
        """Create and register a session (its open packet is already queued)."""
        sid = self._new_id()
        while sid in self._sessions:
            sid = self._new_id()
        session = EngineSession(sid, transport, now, self.config)
        self._sessions[sid] = session
        return session

    def reap(self, now: float) -> list[EngineSession]:
        """Forget closed sessions whose output was flushed or whose linger time is over."""
        done = [s for s in self._sessions.values() if s.discardable(now)]
        for session in done:
            del self._sessions[session.sid]
        return done

    def next_deadline(self) -> float | None:
        deadlines = [d for s in self._sessions.values() if (d := s.next_deadline()) is not None]
        return min(deadlines, default=None)
