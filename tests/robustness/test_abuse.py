"""Guessing codes, unauthorised registration and connection floods."""

import json

import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from tests.conftest import start_server
from tests.e2e.test_http import CLIENTE, register
from tests.helpers import ScriptedTranscriber, http


async def balcao_from(port: int, codigo: str, local: str) -> tuple[int, dict[str, str]]:
    body = {"nome_balcao": "L", "user_codigo": codigo}
    r = await http(port, "POST", "/cadastro/balcao", body, local=local)
    return r.status, r.headers


async def test_guessing_codes_is_rate_limited_per_address(nursery, tmp_path):
    running = await start_server(
        nursery,
        tmp_path,
        lambda: ScriptedTranscriber([]),
        codigo_failures_burst=3,
        codigo_failure_refill_s=30,
    )
    codigo, _ = await register(running.port)
    wrong = [f"{(int(codigo) + i) % 1000000:06d}" for i in range(1, 5)]
    statuses = [(await balcao_from(running.port, code, "127.0.0.2"))[0] for code in wrong]
    assert statuses == [400, 400, 400, 429]
    status, headers = await balcao_from(running.port, codigo, "127.0.0.2")
    assert status == 429 and 1 <= int(headers["retry-after"]) <= 30  # even the right code waits
    # another address is not affected
    assert (await balcao_from(running.port, codigo, "127.0.0.3"))[0] == 201
    running.lifecycle.stop()


async def test_guessing_one_code_from_many_addresses_is_limited_per_code(nursery, tmp_path):
    running = await start_server(
        nursery,
        tmp_path,
        lambda: ScriptedTranscriber([]),
        codigo_failures_burst=2,
        codigo_failure_refill_s=30,
    )
    statuses = [(await balcao_from(running.port, "424242", f"127.0.1.{i}"))[0] for i in range(1, 5)]
    assert statuses == [400, 400, 429, 429]
    running.lifecycle.stop()


async def test_admin_token_protects_cliente_registration(nursery, tmp_path):
    running = await start_server(
        nursery, tmp_path, lambda: ScriptedTranscriber([]), admin_token="s3gr3d0"
    )
    r = await http(running.port, "POST", "/cadastro/cliente", CLIENTE)
    assert r.status == 401 and r.headers["www-authenticate"].startswith("Bearer")
    r = await http(
        running.port,
        "POST",
        "/cadastro/cliente",
        CLIENTE,
        headers=[("authorization", "Bearer errado")],
    )
    assert r.status == 401
    r = await http(
        running.port,
        "POST",
        "/cadastro/cliente",
        CLIENTE,
        headers=[("authorization", "Bearer s3gr3d0")],
    )
    assert r.status == 201
    running.lifecycle.stop()


async def test_connection_caps_answer_503_and_1013(nursery, tmp_path):
    running = await start_server(
        nursery, tmp_path, lambda: ScriptedTranscriber([]), max_connections_per_address=2
    )
    held = [await trio.open_tcp_stream("127.0.0.1", running.port) for _ in range(2)]
    with trio.fail_after(5):
        r = await http(running.port, "GET", "/health")
        assert r.status == 503 and r.headers["retry-after"] == "5" and "Limite" in r.json()["error"]
        async with open_websocket_url(running.ws_url) as ws:
            try:
                await ws.get_message()
            except ConnectionClosed as closed:
                assert closed.reason.code == 1013
    # a different address still gets in
    r = await http(running.port, "GET", "/health", local="127.0.0.9")
    assert r.status == 200
    for stream in held:
        await stream.aclose()
    running.lifecycle.stop()


async def test_oversized_websocket_message_closes_1009(nursery, tmp_path):
    running = await start_server(
        nursery, tmp_path, lambda: ScriptedTranscriber([]), ws_max_message_bytes=10_000
    )
    _, api_key = await register(running.port)
    async with open_websocket_url(running.ws_url) as ws:
        await ws.send_message(json.dumps({"comando": "auth", "api_key": api_key}))
        await ws.get_message()
        await ws.send_message(b"\x00" * 20_000)
        with trio.fail_after(5):
            try:
                while True:
                    await ws.get_message()
            except ConnectionClosed as closed:
                assert closed.reason.code == 1009
    await register(running.port, "depois@x.com.br")
    running.lifecycle.stop()
