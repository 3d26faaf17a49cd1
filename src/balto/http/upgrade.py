"""The WebSocket upgrade: what an app's handler receives, and how our shell replays an
upgrade request's bytes into trio-websocket's server handshake.

``ReplayStream`` yields the request head we already parsed, then nothing more until the app has
answered the handshake (``UpgradeRequest.accept``/``reject`` opens the gate), then the bytes
that came behind the head, then the socket. The gate matters: wsproto drops any frame bytes it
receives before the handshake is accepted, and a client may send its first frame in the same
TCP segment as the handshake.
"""

from __future__ import annotations

from typing import Protocol

import trio
import trio_websocket

from balto.limits import Refusal

TRY_AGAIN_LATER = 1013


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


class ReplayStream(trio.abc.Stream):
    def __init__(self, head: bytes, trailing: bytes, inner: trio.abc.Stream) -> None:
        self._head = head
        self._trailing = trailing
        self._inner = inner
        self.gate = trio.Event()

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
        await self._inner.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self._inner.wait_send_all_might_not_block()

    async def aclose(self) -> None:
        await self._inner.aclose()


class UpgradeRequest:
    """The WebSocket handshake as an app sees it: inspect it, then accept or reject it."""

    def __init__(self, inner: trio_websocket.WebSocketRequest, gate: trio.Event) -> None:
        self._inner = inner
        self._gate = gate

    @property
    def path(self) -> str:
        return str(self._inner.path)

    @property
    def headers(self) -> Headers:
        return list(self._inner.headers)

    async def accept(
        self, *, subprotocol: str | None = None, extra_headers: Headers | None = None
    ) -> trio_websocket.WebSocketConnection:
        try:
            return await self._inner.accept(subprotocol=subprotocol, extra_headers=extra_headers)
        finally:
            self._gate.set()

    async def reject(
        self, status_code: int, *, extra_headers: Headers | None = None, body: bytes | None = None
    ) -> None:
        self._gate.set()
        await self._inner.reject(status_code, extra_headers=extra_headers, body=body)
