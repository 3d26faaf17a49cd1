"""Counters talking in real time over the counter WebSocket: the one simulation that the load
benchmark (:mod:`bench.server`) and the soak tests (``tests/robustness/test_soak.py``) share.

A counter authenticates (``auth`` → ``auth_ok``), streams 16 kHz s16le PCM in 100 ms frames,
each sent once its 100 ms of audio has "happened" (like a microphone), and answers every
``recomendar`` with a ``feedback`` (sale made, sale lost, alternately), as a clerk would,
keeping count of the ``feedback_ok`` acknowledgements. A subclass decides what to stream and
what to make of each recommendation (:meth:`RealtimeCounter.on_recommendation`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import trio
from trio_websocket import (
    ConnectionClosed,
    HandshakeError,
    WebSocketConnection,
    open_websocket_url,
)

from balto.counter.audio.types import SAMPLE_RATE_HZ

FRAME_S = 0.1
FRAME_BYTES = int(SAMPLE_RATE_HZ * FRAME_S) * 2  # s16le
CONNECT_TIMEOUT_S = 30.0
DISCONNECT_TIMEOUT_S = 5.0
RESULTADOS = ("venda_realizada", "venda_perdida")


def pcm_frames(pcm: bytes) -> list[bytes]:
    """s16le PCM cut into 100 ms frames (the last one may be shorter)."""
    return [pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)]


async def authenticate(ws: WebSocketConnection, api_key: str) -> None:
    """The counter handshake; :class:`HandshakeError` when the server refuses the key."""
    await ws.send_message(json.dumps({"comando": "auth", "api_key": api_key}))
    reply = json.loads(await ws.get_message())
    if reply.get("comando") != "auth_ok":
        raise HandshakeError(f"auth refused: {reply}")


@asynccontextmanager
async def connect(
    url: str, api_key: str, *, timeout_s: float = CONNECT_TIMEOUT_S
) -> AsyncIterator[WebSocketConnection]:
    """An authenticated counter socket (connect and auth each within ``timeout_s``)."""
    async with open_websocket_url(
        url, connect_timeout=timeout_s, disconnect_timeout=DISCONNECT_TIMEOUT_S
    ) as ws:
        with trio.fail_after(timeout_s):
            await authenticate(ws, api_key)
        yield ws


class Feedback:
    """The feedback a counter sent and the acknowledgements it got.

    ``sent`` and ``acked`` (interaction id → resultado) and ``round_trips`` may be shared by
    several counters; the resultado alternates over ``sent``. ``drained`` is set while every
    feedback this counter sent has been acknowledged.
    """

    def __init__(
        self,
        sent: dict[str, str] | None = None,
        acked: dict[str, str] | None = None,
        round_trips: list[float] | None = None,
    ) -> None:
        self.sent: dict[str, str] = {} if sent is None else sent
        self.acked: dict[str, str] = {} if acked is None else acked
        self.round_trips: list[float] = [] if round_trips is None else round_trips
        self.count_sent = 0  # by this counter
        self.count_acked = 0
        self._pending: dict[str, float] = {}  # id → when this counter sent it
        self.drained = trio.Event()
        self.drained.set()

    async def send(self, ws: WebSocketConnection, ids: list[str]) -> None:
        for iid in ids:
            resultado = RESULTADOS[len(self.sent) % 2]
            self.sent[iid] = resultado
            self._pending[iid] = trio.current_time()
            self.count_sent += 1
            if self.drained.is_set():
                self.drained = trio.Event()
            await ws.send_message(
                json.dumps({"comando": "feedback", "id_interacao": iid, "resultado": resultado})
            )

    def acknowledge(self, message: dict[str, Any], now: float) -> None:
        iid = message["id_interacao"]
        self.acked[iid] = message.get("resultado", "")
        self.count_acked += 1
        sent_at = self._pending.pop(iid, None)
        if sent_at is not None:
            self.round_trips.append(now - sent_at)
        if not self._pending:
            self.drained.set()


class RealtimeCounter:
    """One counter: real-time frame pacing and the receive loop; subclasses stream and judge.

    ``errors`` (possibly shared) collects what the server said that a counter does not expect.
    """

    def __init__(
        self,
        index: int,
        api_key: str,
        *,
        feedback: Feedback | None = None,
        errors: list[str] | None = None,
    ) -> None:
        self.index = index
        self.api_key = api_key
        self.feedback = feedback if feedback is not None else Feedback()
        self.errors: list[str] = [] if errors is None else errors
        self.send_lag_max_s = 0.0  # how late the frames went out (client overload)

    async def send_frame(self, ws: WebSocketConnection, frame: bytes, due: float) -> None:
        """Send ``frame`` at ``due`` (trio clock), the moment its audio has been recorded."""
        await trio.sleep_until(due)
        self.send_lag_max_s = max(self.send_lag_max_s, trio.current_time() - due)
        await ws.send_message(frame)

    async def receive(self, ws: WebSocketConnection) -> None:
        """Handle every server message until the socket closes (``ConnectionClosed`` is
        raised to the caller, who knows whether a close was expected)."""
        for _ in range(10_000_000):
            message = json.loads(await ws.get_message())
            now = trio.current_time()
            self.on_message(message, now)
            comando = message.get("comando")
            if comando == "recomendar":
                await self.on_recommendation(ws, message, now)
            elif comando == "feedback_ok":
                self.feedback.acknowledge(message, now)
            else:
                self.errors.append(f"counter {self.index}: unexpected {message}")

    async def receive_until_closed(self, ws: WebSocketConnection) -> None:
        """:meth:`receive`, for a task beside the streaming one: the close ends it quietly
        (the streaming task notices the close too)."""
        with contextlib.suppress(ConnectionClosed):
            await self.receive(ws)

    def on_message(self, message: dict[str, Any], now: float) -> None:
        """Called first for every message."""

    async def on_recommendation(
        self, ws: WebSocketConnection, message: dict[str, Any], now: float
    ) -> None:
        """By default the clerk answers at once."""
        await self.feedback.send(ws, [message["id_interacao"]])
