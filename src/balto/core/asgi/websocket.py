"""The WebSocket half of the ASGI adapter: a handshake and a connection shaped like the subset of
trio-websocket that our sessions use.

``AsgiUpgrade`` stands in for :class:`balto.core.http.upgrade.UpgradeRequest` (``path``,
``headers``, ``accept``, ``reject``); ``accept`` returns an ``AsgiWebSocket`` with ``get_message``,
``send_message``, ``aclose(code, reason)`` and ``ping``, raising the real
``trio_websocket.ConnectionClosed`` (with a ``trio_websocket.CloseReason``) once the socket is
closed, so session code runs unchanged on both servers.

One pump task per socket reads the ASGI events: messages go to a small channel (the same
back-pressure as trio-websocket's message queue), ``websocket.disconnect`` records the close
reason. ASGI has no ping: ``ping()`` returns at once; the server keeps connections alive
(hypercorn: ``--websocket-ping-interval``, and ``--read-timeout`` to drop dead peers).
"""

from __future__ import annotations

import contextlib
import enum
import logging
from typing import Any

import trio
from trio_websocket import CloseReason, ConnectionClosed

from balto.core.asgi.types import Message, Receive, Received, Scope, Send

__all__ = ["AsgiUpgrade", "AsgiWebSocket", "HandshakeState"]

log = logging.getLogger(__name__)

NORMAL_CLOSURE = 1000
NO_STATUS = 1005
ABNORMAL_CLOSURE = 1006
MESSAGE_TOO_BIG = 1009
QUEUE_SIZE = 1  # trio-websocket's default message_queue_size
HTTP_RESPONSE_EXTENSION = "websocket.http.response"


class AsgiWebSocket:
    """An accepted ASGI WebSocket (see the module doc). Run :meth:`pump` in a nursery."""

    def __init__(self, receive: Receive, send: Send, *, max_message_bytes: int) -> None:
        self._receive = receive
        self._send = send
        self._max_message_bytes = max_message_bytes
        self._messages_tx, self._messages_rx = trio.open_memory_channel[str | bytes](QUEUE_SIZE)
        self._close_reason: CloseReason | None = None
        self._disconnected = trio.Event()

    @property
    def closed(self) -> CloseReason | None:
        """Why the socket closed (or is closing); None while it is open, as in trio-websocket."""
        return self._close_reason

    async def get_message(self) -> str | bytes:
        try:
            return await self._messages_rx.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            raise ConnectionClosed(self._close_reason) from None

    async def send_message(self, message: str | bytes) -> None:
        self._check_open()
        event: Message = {"type": "websocket.send"}
        if isinstance(message, str):
            event["text"] = message
        else:
            event["bytes"] = bytes(message)
        try:
            await self._send(event)
        except OSError as exc:  # ASGI 2.4: send() on a closed connection raises OSError
            self._record_close(ABNORMAL_CLOSURE, None)
            raise ConnectionClosed(self._close_reason) from exc

    async def ping(self, payload: bytes | None = None) -> None:
        """A no-op: ASGI gives apps no ping. Raises ``ConnectionClosed`` once closed.

        Liveness is the server's job under ASGI (hypercorn pings every
        ``--websocket-ping-interval`` seconds and drops a silent peer after ``--read-timeout``).
        """
        self._check_open()
        await trio.lowlevel.checkpoint()

    async def aclose(self, code: int = NORMAL_CLOSURE, reason: str | None = None) -> None:
        """Send a close frame (first call only) and wait until the server reports the end."""
        await self._start_close(code, reason)
        await self._disconnected.wait()

    async def pump(self) -> None:
        """Read ASGI events until ``websocket.disconnect``."""
        try:
            while True:
                event = await self._receive()
                kind = event.get("type")
                if kind == "websocket.disconnect":
                    code = event.get("code")
                    self._record_close(
                        code if isinstance(code, int) else NO_STATUS, _text_or_none(event)
                    )
                    return
                if kind != "websocket.receive" or self._close_reason is not None:
                    continue  # closing: whatever still arrives is dropped, as in trio-websocket
                message = _payload(event)
                if _size(message) > self._max_message_bytes:
                    limit = f"Mensagem excede o limite de {self._max_message_bytes} bytes"
                    await self._start_close(MESSAGE_TOO_BIG, limit)
                    continue
                with contextlib.suppress(trio.BrokenResourceError):  # the app closed its end
                    await self._messages_tx.send(message)
        finally:
            self._disconnected.set()
            self._messages_tx.close()

    def _check_open(self) -> None:
        if self._close_reason is not None:
            raise ConnectionClosed(self._close_reason)

    def _record_close(self, code: int, reason: str | None) -> None:
        if self._close_reason is None:
            self._close_reason = CloseReason(code, reason)

    async def _start_close(self, code: int, reason: str | None) -> None:
        if self._close_reason is not None:
            return
        self._record_close(code, reason)
        self._messages_rx.close()  # readers get ConnectionClosed; a blocked pump drops its message
        try:
            await self._send({"type": "websocket.close", "code": code, "reason": reason or ""})
        except OSError as exc:  # the peer is already gone; the pump sees the disconnect
            log.debug("websocket close not sent: %s", exc)


class HandshakeState(enum.Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class AsgiUpgrade:
    """The WebSocket handshake of one ASGI ``websocket`` scope, as an app sees it.

    Its socket's pump runs in ``nursery``, which the adapter cancels after the handler returns.
    """

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        nursery: trio.Nursery,
        *,
        max_message_bytes: int,
    ) -> None:
        self._scope = scope
        self._receive = receive
        self._send = send
        self._nursery = nursery
        self._max_message_bytes = max_message_bytes
        self.state = HandshakeState.PENDING
        self.connection: AsgiWebSocket | None = None

    @property
    def path(self) -> str:
        """The request target, query string included (as trio-websocket's ``path``)."""
        return request_target(self._scope)

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        return [(bytes(name), bytes(value)) for name, value in self._scope.get("headers", ())]

    async def accept(
        self,
        *,
        subprotocol: str | None = None,
        extra_headers: list[tuple[bytes, bytes]] | None = None,
    ) -> AsgiWebSocket:
        self._claim(HandshakeState.ACCEPTED)
        await self._send(
            {
                "type": "websocket.accept",
                "subprotocol": subprotocol,
                "headers": list(extra_headers or []),
            }
        )
        connection = AsgiWebSocket(
            self._receive, self._send, max_message_bytes=self._max_message_bytes
        )
        self.connection = connection
        self._nursery.start_soon(connection.pump)
        return connection

    async def reject(
        self,
        status_code: int,
        *,
        extra_headers: list[tuple[bytes, bytes]] | None = None,
        body: bytes | None = None,
    ) -> None:
        """An HTTP response instead of the upgrade where the server supports the ASGI
        ``websocket.http.response`` extension (hypercorn does); otherwise a plain 403."""
        self._claim(HandshakeState.REJECTED)
        extensions: dict[str, Any] = dict(self._scope.get("extensions") or {})
        if HTTP_RESPONSE_EXTENSION not in extensions:
            await self._send({"type": "websocket.close", "code": 1008})
            return
        payload = body or b""
        headers = list(extra_headers or [])
        headers.append((b"content-length", str(len(payload)).encode()))
        await self._send(
            {"type": "websocket.http.response.start", "status": status_code, "headers": headers}
        )
        await self._send({"type": "websocket.http.response.body", "body": payload})

    def _claim(self, state: HandshakeState) -> None:
        if self.state is not HandshakeState.PENDING:
            raise RuntimeError(f"handshake already {self.state.value}")
        self.state = state


def request_target(scope: Scope) -> str:
    """``raw_path`` plus ``?query``, decoded as latin-1 like the h11 shell's targets."""
    raw = scope.get("raw_path")
    path = bytes(raw).decode("latin-1") if raw else str(scope.get("path", "/"))
    query = bytes(scope.get("query_string") or b"").decode("latin-1")
    return f"{path}?{query}" if query else path


def _payload(event: Received) -> str | bytes:
    text = event.get("text")
    if isinstance(text, str):
        return text
    data = event.get("bytes")
    return bytes(data) if data is not None else b""


def _size(message: str | bytes) -> int:
    return len(message.encode("utf-8")) if isinstance(message, str) else len(message)


def _text_or_none(event: Received) -> str | None:
    reason = event.get("reason")
    return reason if isinstance(reason, str) and reason else None
