"""Hostile HTTP: each case gets a precise answer, and the server keeps serving others."""

import json
import re

import pytest
import trio

from tests.conftest import start_server
from tests.e2e.test_http import CLIENTE, register
from tests.helpers import ScriptedTranscriber, http


async def raw_exchange(
    port: int, data: bytes, *, wait_s: float = 5.0, local: str | None = None
) -> bytes:
    """Send ``data``, half-close, read until the server closes."""
    stream = await trio.open_tcp_stream("127.0.0.1", port, local_address=local)
    async with stream:
        await stream.send_all(data)
        await stream.send_eof()
        received = b""
        with trio.fail_after(wait_s):
            while chunk := await stream.receive_some(65536):
                received += chunk
        return received


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET / HTTP/1.1\r\n\r\n", 400),  # no Host
        (b"GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400),
        (b"\x00\x01\x02 garbage\r\n\r\n", 400),
        (b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n", 431),
        (b"POST /cadastro/cliente HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n", 413),
        (b"POST /cadastro/cliente HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400),
        (
            b"POST /cadastro/cliente HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: application/json\r\n\r\n"
            + b"11000\r\n"
            + b"a" * 0x11000
            + b"\r\n0\r\n\r\n",
            413,
        ),
        (
            b"POST /cadastro/cliente HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 4\r\n\r\n\xff\xfe\xfd\xfc",
            400,
        ),
        (
            b"POST /cadastro/cliente HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 2\r\n\r\n[]",
            400,
        ),
        (b"BREW /cadastro/cliente HTTP/1.1\r\nHost: x\r\n\r\n", 405),
    ],
)
async def test_malformed_requests_get_precise_status(server, request_bytes, status):
    response = await raw_exchange(server.port, request_bytes)
    assert status_of(response) == status
    body = response.split(b"\r\n\r\n", 1)[1]
    assert json.loads(body)["error"]
    await register(server.port, f"after-{status}@x.com.br")  # still serving


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", ["a@b.com"]),
        ("telefone", 11999998888),
        ("razao_social", {"x": 1}),
        ("email", None),
    ],
)
async def test_wrong_json_types_name_the_field(server, field, value):
    r = await http(server.port, "POST", "/cadastro/cliente", dict(CLIENTE, **{field: value}))
    assert r.status == 400 and field in r.json()["error"]


async def test_half_closed_client_still_gets_its_answer(server):
    response = await raw_exchange(server.port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status_of(response) == 200


async def test_vanished_client_mid_body_does_not_hurt_others(server):
    for _ in range(20):
        stream = await trio.open_tcp_stream("127.0.0.1", server.port)
        await stream.send_all(
            b"POST /cadastro/cliente HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"email":'
        )
        await stream.aclose()
    await register(server.port)


async def test_slow_loris_body_is_cut_by_the_deadline(nursery, tmp_path):
    running = await start_server(
        nursery, tmp_path, lambda: ScriptedTranscriber([]), request_timeout_s=0.5
    )
    stream = await trio.open_tcp_stream("127.0.0.1", running.port)
    async with stream:
        await stream.send_all(
            b"POST /cadastro/cliente HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n"
        )
        received = b""
        with trio.fail_after(5):
            for byte in b'{"email": "a@b.c"':  # one byte every 100 ms, never finishing
                try:
                    await stream.send_all(bytes([byte]))
                except trio.BrokenResourceError:
                    break
                await trio.sleep(0.1)
            while chunk := await stream.receive_some(65536):
                received += chunk
        assert status_of(received) == 408
    running.lifecycle.stop()


async def test_idle_keepalive_connection_is_closed(nursery, tmp_path):
    running = await start_server(
        nursery, tmp_path, lambda: ScriptedTranscriber([]), keepalive_timeout_s=0.3
    )
    stream = await trio.open_tcp_stream("127.0.0.1", running.port)
    async with stream:
        with trio.fail_after(5):
            assert await stream.receive_some(100) == b""  # closed by the server, no response
    running.lifecycle.stop()


async def test_many_pipelined_requests_answered_in_order(server):
    requests = b"".join(
        b"GET /%s HTTP/1.1\r\nHost: x\r\n\r\n" % (b"health" if i % 2 else b"nope")
        for i in range(20)
    )
    response = await raw_exchange(server.port, requests)
    statuses = [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", response)]
    assert statuses == [404, 200] * 10
