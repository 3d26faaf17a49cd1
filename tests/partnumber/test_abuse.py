"""Hostile Engine.IO / Socket.IO traffic against the real partnumber server."""

import json

import trio

from tests.helpers import http
from tests.partnumber.conftest import PartnumberServer

BASE = "/socket.io/?EIO=4&transport=polling"


async def open_session(port: int) -> str:
    reply = await http(port, "GET", BASE)
    assert reply.status == 200 and reply.body.startswith(b"0")
    return json.loads(reply.body[1:])["sid"]


async def post(port: int, sid: str, body: bytes):
    return await http(
        port,
        "POST",
        f"{BASE}&sid={sid}",
        raw_body=body,
        headers=[("content-type", "text/plain;charset=UTF-8")],
    )


async def still_serving(port: int) -> None:
    sid = await open_session(port)
    assert (await post(port, sid, b"40")).status == 200


async def test_malformed_engine_packet_closes_that_session_only(pn_server: PartnumberServer):
    port = pn_server.port
    sid = await open_session(port)
    for garbage in (b"9nope", b"", b"4\x1e\x1e7"):
        reply = await post(port, sid, garbage)
        assert reply.status == 400
        sid = await open_session(port)
    await still_serving(port)


async def test_malformed_socketio_packet_closes_the_connection(pn_server: PartnumberServer):
    port = pn_server.port
    sid = await open_session(port)
    assert (await post(port, sid, b"40")).status == 200
    await post(port, sid, b'42["unterminated"')
    with trio.fail_after(5):
        reply = await http(port, "GET", f"{BASE}&sid={sid}")
    # either the close packet of the dying session or a 400 for a session already gone
    assert reply.status == 400 or reply.body.endswith(b"1")
    await still_serving(port)


async def test_unknown_sid_and_bad_transport(pn_server: PartnumberServer):
    port = pn_server.port
    assert (await http(port, "GET", f"{BASE}&sid=nao-existe")).status == 400
    assert (await post(port, "nao-existe", b"40")).status == 400
    assert (await http(port, "GET", "/socket.io/?EIO=4&transport=pombo")).status == 400
    await still_serving(port)


async def test_duplicate_get_is_refused(pn_server: PartnumberServer):
    port = pn_server.port
    sid = await open_session(port)
    assert (await post(port, sid, b"40")).status == 200
    first = await http(port, "GET", f"{BASE}&sid={sid}")  # drains the CONNECT answer
    assert first.status == 200
    results = {}

    async def parked() -> None:
        results["parked"] = await http(port, "GET", f"{BASE}&sid={sid}")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(parked)
        await trio.testing.wait_all_tasks_blocked(0.05)
        results["second"] = await http(port, "GET", f"{BASE}&sid={sid}")
    assert results["second"].status == 400
    assert results["parked"].status in (200, 400)
    await still_serving(port)


async def test_oversized_payload_is_413(pn_server: PartnumberServer):
    port = pn_server.port
    sid = await open_session(port)
    reply = await post(port, sid, b"4" + b"x" * 1_100_000)
    assert reply.status == 413
    await still_serving(port)


async def test_payload_over_max_payload_closes_the_session(pn_server: PartnumberServer) -> None:
    """Past maxPayload (but within the HTTP cap) the POST is a 413 and the session ends, as in
    python-engineio: the next GET is refused at once instead of waiting for a ping."""
    port = pn_server.port
    sid = await open_session(port)
    reply = await post(port, sid, b"4" + b"x" * 1_000_100)
    assert reply.status == 413
    with trio.fail_after(2):
        assert (await http(port, "GET", f"{BASE}&sid={sid}")).status == 400
    await still_serving(port)
