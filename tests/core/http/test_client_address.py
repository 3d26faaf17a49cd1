"""Both shells hand the app the client behind a trusted proxy (``Request.client``), re-read on
every request of a keep-alive connection, and the TCP peer when it is not trusted."""

from __future__ import annotations

import json

import h11
import trio
import trio.testing

from balto.core.asgi import AsgiAdapter
from balto.core.config import HttpConfig
from balto.core.forwarded import TrustedProxies
from balto.core.http.connection import HttpConnection, WebSocketHandler
from balto.core.http.messages import Request, Response, json_response
from balto.core.lifecycle import Lifecycle
from tests.core.asgi.test_adapter import Peer, http_scope

WAIT_S = 5
BEHIND_PROXY = HttpConfig(trusted_proxies=TrustedProxies.parse("10.0.0.0/24"))


class WhoApp:
    async def handle_http(self, request: Request) -> Response:
        return json_response(200, {"client": request.client})

    def websocket_handler(self, request: Request) -> WebSocketHandler | None:
        return None


async def _who(client: trio.abc.Stream, conn: h11.Connection, forwarded: str | None) -> str:
    headers = [("host", "balto")] + ([("x-forwarded-for", forwarded)] if forwarded else [])
    request = h11.Request(method="GET", target="/", headers=headers)
    await client.send_all(conn.send(request) + conn.send(h11.EndOfMessage()))
    body = b""
    with trio.fail_after(WAIT_S):
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await client.receive_some(65536))
            elif isinstance(event, h11.Data):
                body += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                conn.start_next_cycle()
                return str(json.loads(body)["client"])


async def _h11_clients(peer: str, config: HttpConfig, forwarded: list[str | None]) -> list[str]:
    client, server = trio.testing.memory_stream_pair()
    connection = HttpConnection(server, WhoApp(), config, Lifecycle(), peer)
    conn = h11.Connection(h11.CLIENT)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(connection.run)
        seen = [await _who(client, conn, value) for value in forwarded]
        await client.aclose()
    return seen


async def test_h11_trusted_peer_each_request_its_own_client() -> None:
    seen = await _h11_clients("10.0.0.5", BEHIND_PROXY, ["198.51.100.7", None, "1.1.1.1, bad"])
    assert seen == ["198.51.100.7", "10.0.0.5", "10.0.0.5"]


async def test_h11_untrusted_peer_cannot_forge() -> None:
    assert await _h11_clients("203.0.113.9", BEHIND_PROXY, ["198.51.100.7"]) == ["203.0.113.9"]
    assert await _h11_clients("10.0.0.5", HttpConfig(), ["198.51.100.7"]) == ["10.0.0.5"]


async def _asgi_client(config: HttpConfig, forwarded: bytes) -> str:
    peer = Peer()
    adapter = AsgiAdapter(WhoApp(), config)
    await peer.to_app.send({"type": "http.request", "body": b"", "more_body": False})
    scope = http_scope("/", headers=[(b"X-Forwarded-For", forwarded)])  # client 10.0.0.7
    with trio.fail_after(WAIT_S):
        await adapter(scope, peer.receive, peer.send)
    await peer.next_sent()
    return str(json.loads((await peer.next_sent())["body"])["client"])


async def test_asgi_adapter_resolves_the_client_too() -> None:
    assert await _asgi_client(BEHIND_PROXY, b"198.51.100.7") == "198.51.100.7"
    assert await _asgi_client(HttpConfig(), b"198.51.100.7") == "10.0.0.7"
