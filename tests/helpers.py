"""Test peers: a small h11 HTTP client, WebSocket reading helpers and a scripted transcriber
double."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable
from typing import Any

import h11
import numpy as np
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection

from balto.counter.asr.base import DecodeOptions


class HttpResult:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


async def http(
    port: int,
    method: str,
    path: str,
    body: object = None,
    *,
    headers: Iterable[tuple[str, str]] = (),
    raw_body: bytes | None = None,
    local: str | None = None,
) -> HttpResult:
    """One request on a fresh connection, with h11 as the client (``local``: source address)."""
    stream = await trio.open_tcp_stream("127.0.0.1", port, local_address=local)
    async with stream:
        return await request_on(
            stream,
            h11.Connection(h11.CLIENT),
            method,
            path,
            body,
            headers=headers,
            raw_body=raw_body,
        )


async def request_on(
    stream: trio.abc.Stream,
    conn: h11.Connection,
    method: str,
    path: str,
    body: object = None,
    *,
    headers: Iterable[tuple[str, str]] = (),
    raw_body: bytes | None = None,
) -> HttpResult:
    data = (
        raw_body if raw_body is not None else (b"" if body is None else json.dumps(body).encode())
    )
    hdrs = [("host", "localhost"), ("content-length", str(len(data)))]
    if body is not None:
        hdrs.append(("content-type", "application/json"))
    hdrs += list(headers)
    out = conn.send(h11.Request(method=method, target=path, headers=hdrs))
    out += conn.send(h11.Data(data=data)) if data else b""
    out += conn.send(h11.EndOfMessage())
    await stream.send_all(out)
    response: h11.Response | None = None
    chunks: list[bytes] = []
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await stream.receive_some(65536))
            continue
        if isinstance(event, h11.Response):
            response = event
        elif isinstance(event, h11.Data):
            chunks.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            break
    assert response is not None
    got = {k.decode(): v.decode() for k, v in response.headers}
    return HttpResult(response.status_code, got, b"".join(chunks))


def feedback(id_interacao: str, resultado: str = "venda_realizada") -> str:
    """The counter's ``feedback`` message, as the seed spells it."""
    return json.dumps({"comando": "feedback", "id_interacao": id_interacao, "resultado": resultado})


class ScriptedTranscriber:
    """Returns the next scripted text for each decode long enough to be speech.

    Interim decodes (those the session marks by passing through the pool) cannot be told apart
    here, so the script is keyed by call order and the test streams one sentence per utterance.
    """

    def __init__(self, texts: Iterable[str]) -> None:
        self.texts = deque(texts)
        self.calls: list[tuple[float, DecodeOptions]] = []

    def transcribe(self, audio: np.ndarray, options: DecodeOptions) -> str:
        self.calls.append((len(audio) / 16000, options))
        return self.texts.popleft() if self.texts else ""

    def close(self) -> None:
        pass


async def next_json(ws: WebSocketConnection, wait_s: float = 10.0) -> Any:
    """The next message, parsed, within ``wait_s``."""
    with trio.fail_after(wait_s):
        return json.loads(await ws.get_message())


async def closed_with(ws: WebSocketConnection, wait_s: float = 5.0) -> ConnectionClosed:
    """Read until the server closes the socket; the close, within ``wait_s``."""
    with trio.fail_after(wait_s):
        try:
            while True:
                await ws.get_message()
        except ConnectionClosed as closed:
            return closed
