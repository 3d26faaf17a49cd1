"""The WebSocket upgrade: what an app's handler receives, and how our shell replays an
upgrade request's bytes into trio-websocket's server handshake.

``ReplayStream`` yields the request head we already parsed, then nothing more until the app has
answered the handshake (``UpgradeRequest.accept``/``reject`` opens the gate), then the bytes
that came behind the head, then the socket. The gate matters: wsproto drops any frame bytes it
receives before the handshake is accepted, and a client may send its first frame in the same
TCP segment as the handshake.
"""

from __future__ import annotations

import contextlib
from typing import Protocol

import trio
import trio_websocket

from balto.core.limits import Refusal

TRY_AGAIN_LATER = 1013
#: RFC 6455 §7.4.1: 1002 protocol error, 1007 data inconsistent with the message type (text that
#: is not UTF-8). wsproto detects both; trio-websocket then marks the socket closed with the code
#: but never sends the close frame, so the peer would only see TCP go away.
PROTOCOL_ERRORS = frozenset({1002, 1007})
CLOSE_OPCODE_BYTE = 0x88  # FIN + opcode 8: the first byte of a close frame
MAX_CLOSE_REASON_BYTES = 123  # a control frame's payload is at most 125 bytes


Headers = list[tuple[bytes, bytes]]


class WebSocket(Protocol):
    """What handlers use of an open WebSocket (trio-websocket's connection, or the ASGI shim).
    A closed peer raises ``trio_websocket.ConnectionClosed``."""

    async def get_message(self) -> str | bytes: ...

    async def send_message(self, message: str | bytes) -> None: ...

    async def ping(self, payload: bytes | None = None) -> None: ...

    async def aclose(self, code: int = 1000, reason: str | None = None) -> None: ...


class WebSocketUpgrade(Protocol):
    """A pending WebSocket handshake, as handlers see it under any shell (ours or ASGI)."""

    @property
    def path(self) -> str: ...

    @property
    def headers(self) -> Headers: ...

    async def accept(
        self, *, subprotocol: str | None = None, extra_headers: Headers | None = None
    ) -> WebSocket: ...

    async def reject(
        self, status_code: int, *, extra_headers: Headers | None = None, body: bytes | None = None
    ) -> None: ...


async def close_try_again_later(request: WebSocketUpgrade, *, refusal: Refusal) -> None:
    """Over capacity: accept, then close with 1013 and the reason (clients see why)."""
    ws = await request.accept()
    await ws.aclose(code=TRY_AGAIN_LATER, reason=refusal.reason)


def close_frame(code: int, reason: str = "") -> bytes:
    """An unmasked (server) close frame (RFC 6455 §5.5.1)."""
    payload = code.to_bytes(2, "big") + reason.encode("utf-8")[:MAX_CLOSE_REASON_BYTES]
    return bytes((CLOSE_OPCODE_BYTE, len(payload))) + payload


class ReplayStream(trio.abc.Stream):
    def __init__(self, head: bytes, trailing: bytes, inner: trio.abc.Stream) -> None:
        self._head = head
        self._trailing = trailing
        self._inner = inner
        self.gate = trio.Event()
        self.sent_close = False  # a close frame went out (trio-websocket sends one per call)
        self.connection: trio_websocket.WebSocketConnection | None = None  # once accepted

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        if self._head:
            size = len(self._head) if max_bytes is None else max_bytes
            chunk, self._head = self._head[:size], self._head[size:]
            await trio.lowlevel.checkpoint()
            return chunk
        await self.gate.wait()
        if self._trailing:
            size = len(self._trailing) if max_bytes is None else max_bytes
            chunk, self._trailing = self._trailing[:size], self._trailing[size:]
            await trio.lowlevel.checkpoint()
            return chunk
        return bytes(await self._inner.receive_some(max_bytes))

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        if data and data[0] == CLOSE_OPCODE_BYTE:
            self.sent_close = True
        await self._inner.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self._inner.wait_send_all_might_not_block()

    async def send_protocol_error_close(self) -> None:
        """Send the close frame trio-websocket leaves out after a protocol error (see
        ``PROTOCOL_ERRORS``), so the peer learns why: 1002 or 1007, not a dropped socket."""
        ws = self.connection
        if ws is None or ws.closed is None or self.sent_close:
            return
        if ws.closed.code not in PROTOCOL_ERRORS:
            return
        # Bounded, and best effort: a peer already gone is told nothing, and a handler still
        # blocked sending to a peer that stopped reading keeps the stream (no second writer).
        skipped = contextlib.suppress(
            trio.BrokenResourceError, trio.ClosedResourceError, trio.BusyResourceError
        )
        with trio.CancelScope(shield=True), trio.move_on_after(1), skipped:
            await self.send_all(close_frame(ws.closed.code, ws.closed.reason or ""))

    async def aclose(self) -> None:
        # trio-websocket closes the stream right after marking the protocol error
        try:
            await self.send_protocol_error_close()
        finally:
            await self._inner.aclose()


class UpgradeRequest:
    """The WebSocket handshake as an app sees it: inspect it, then accept or reject it."""

    def __init__(self, inner: trio_websocket.WebSocketRequest, stream: ReplayStream) -> None:
        self._inner = inner
        self._stream = stream
        self.answered = False  # accept or reject was called

    @property
    def path(self) -> str:
        return str(self._inner.path)

    @property
    def headers(self) -> Headers:
        return list(self._inner.headers)

    async def accept(
        self, *, subprotocol: str | None = None, extra_headers: Headers | None = None
    ) -> trio_websocket.WebSocketConnection:
        self.answered = True
        try:
            ws = await self._inner.accept(subprotocol=subprotocol, extra_headers=extra_headers)
            self._stream.connection = ws
            return ws
        finally:
            self._stream.gate.set()

    @property
    def connection(self) -> trio_websocket.WebSocketConnection | None:
        """The WebSocket, once accepted."""
        return self._stream.connection

    async def reject(
        self, status_code: int, *, extra_headers: Headers | None = None, body: bytes | None = None
    ) -> None:
        self.answered = True
        self._stream.gate.set()
        await self._inner.reject(status_code, extra_headers=extra_headers, body=body)
