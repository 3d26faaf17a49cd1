"""The per-address connection cap behind a trusted proxy that speaks the PROXY protocol: each
connection counts against the client its header names, read at accept before any HTTP; from
an untrusted peer a header is not read (400), and a broken one closes the connection."""

from __future__ import annotations

import trio

from balto.core.forwarded import TrustedProxies
from tests.conftest import start_server
from tests.e2e.test_http import register
from tests.helpers import ScriptedTranscriber

WAIT_S = 5
PROXY, OTHER = "127.0.0.1", "127.0.0.2"


def header(client: str) -> bytes:
    return f"PROXY TCP4 {client} 127.0.0.1 51000 8765\r\n".encode()


HEALTH = b"GET /health HTTP/1.1\r\nhost: balto\r\nconnection: close\r\n\r\n"


async def status_of(port: int, data: bytes, local: str = PROXY) -> int | None:
    """The response's status, or None when the server closed without one."""
    stream = await trio.open_tcp_stream("127.0.0.1", port, local_address=local)
    async with stream:
        await stream.send_all(data)
        reply = b""
        with trio.fail_after(WAIT_S):
            while chunk := await stream.receive_some(65536):
                reply += chunk
    return int(reply.split()[1]) if reply else None


async def test_the_cap_per_address_counts_the_relayed_client(nursery, tmp_path):
    running = await start_server(
        nursery,
        tmp_path,
        lambda: ScriptedTranscriber([]),
        max_connections_per_address=1,
        trusted_proxies=TrustedProxies.parse(PROXY),
    )
    await register(running.port)  # the app is up (a plain request from the trusted host)
    held = await trio.open_tcp_stream("127.0.0.1", running.port, local_address=PROXY)
    await held.send_all(header("198.51.100.7"))  # one open connection for .7, nothing more
    await trio.sleep(0.2)  # the server reads the header and counts it
    assert await status_of(running.port, header("198.51.100.7") + HEALTH) == 503
    assert await status_of(running.port, header("198.51.100.8") + HEALTH) == 200
    assert await status_of(running.port, HEALTH) == 200  # the proxy itself, no header: its own
    await held.aclose()
    await trio.sleep(0.2)
    assert await status_of(running.port, header("198.51.100.7") + HEALTH) == 200
    # Health checks (v2 LOCAL) and an untrusted peer's header, and a broken one.
    local = b"\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00"
    assert await status_of(running.port, local + HEALTH) == 200
    assert await status_of(running.port, header("198.51.100.9") + HEALTH, local=OTHER) == 400
    assert await status_of(running.port, b"PROXY TCP4 nada\r\n" + HEALTH) is None
    running.lifecycle.stop()
