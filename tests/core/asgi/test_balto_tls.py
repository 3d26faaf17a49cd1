"""The Balto app under hypercorn over TLS: registration over HTTPS (HTTP/1.1 and HTTP/2) and the
counter WebSocket over ``wss://`` with trio-websocket, a scripted transcriber double standing in
for whisper.cpp."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import h11
import numpy as np
import pytest
import trio
from bench.speech import espeak_available, silence, synthesize, to_pcm16
from trio_websocket import (
    ConnectionRejected,
    WebSocketConnection,
    open_websocket_url,
)

from balto.counter.asgi import create_app
from balto.counter.config import CounterConfig
from balto.counter.store import Database
from tests.core.asgi.conftest import AsgiServer, Tls, start_asgi
from tests.helpers import (
    HttpResult,
    ScriptedTranscriber,
    closed_with,
    feedback,
    next_json,
    request_on,
)

CLIENTE = {
    "email": "contato@redepharma.com",
    "razao_social": "Rede Pharma LTDA",
    "telefone": "11999998888",
}
WAIT_S = 10


@dataclasses.dataclass
class BaltoTls:
    server: AsgiServer
    config: CounterConfig
    transcriber: ScriptedTranscriber

    def database(self) -> Database:
        return Database(self.config.db_file)


async def start_balto(
    nursery: trio.Nursery, tmp_path: Path, tls: Tls, **overrides: Any
) -> BaltoTls:
    config = CounterConfig(db_file=tmp_path / "dados" / "registro.db").replace(
        host="127.0.0.1", port=0, shutdown_grace_s=2.0, **overrides
    )
    transcriber = ScriptedTranscriber([])
    app = create_app(config, transcriber_factory=lambda: transcriber)
    return BaltoTls(await start_asgi(nursery, app, config.http, tls), config, transcriber)


@pytest.fixture
async def balto(nursery: trio.Nursery, tmp_path: Path, tls: Tls) -> AsyncIterator[BaltoTls]:
    running = await start_balto(nursery, tmp_path, tls)
    yield running
    if not running.server.stopped.is_set():
        await running.server.stop()


async def https(
    server: AsgiServer,
    method: str,
    path: str,
    body: object = None,
    *,
    headers: tuple[tuple[str, str], ...] = (),
) -> HttpResult:
    with trio.fail_after(WAIT_S):
        stream = await server.open_tls_stream()
        async with stream:
            return await request_on(
                stream, h11.Connection(h11.CLIENT), method, path, body, headers=headers
            )


async def register(server: AsgiServer) -> tuple[str, str]:
    reply = await https(server, "POST", "/cadastro/cliente", CLIENTE)
    assert reply.status == 201, reply.body
    codigo = reply.json()["codigo"]
    reply = await https(
        server, "POST", "/cadastro/balcao", {"nome_balcao": "Loja 01", "user_codigo": codigo}
    )
    assert reply.status == 201, reply.body
    return codigo, reply.json()["api_key"]


async def authenticated(ws: WebSocketConnection, api_key: str) -> None:
    await ws.send_message(json.dumps({"comando": "auth", "api_key": api_key}))
    reply = await next_json(ws, WAIT_S)
    assert reply["comando"] == "auth_ok" and reply["balcao"] == "Loja 01", reply


# -- HTTPS --------------------------------------------------------------------------------


async def test_registration_over_https(balto: BaltoTls) -> None:
    server = balto.server
    codigo, api_key = await register(server)
    assert len(codigo) == 6 and len(api_key) == 36
    again = await https(server, "POST", "/cadastro/cliente", CLIENTE)
    assert again.status == 409 and again.json() == {"error": "Email ou código já existe..."}
    assert again.headers["content-type"] == "application/json; charset=utf-8"
    health = await https(server, "GET", "/health")
    assert health.status == 200 and health.json()["recognizer_ready"] is True
    upgrade_needed = await https(server, "GET", "/ws")
    assert upgrade_needed.status == 426 and "WebSocket" in upgrade_needed.json()["error"]
    db = balto.database()
    try:
        assert db.authenticate(api_key) is not None
    finally:
        db.close()


async def test_body_cap_is_413_before_the_body_is_read(balto: BaltoTls) -> None:
    cap = balto.config.http.max_body_bytes
    reply = await https(balto.server, "POST", "/cadastro/cliente", {"email": "x" * cap})
    assert reply.status == 413 and str(cap) in reply.json()["error"]


async def test_http2_over_tls_with_lowercased_headers(
    nursery: trio.Nursery, tmp_path: Path, tls: Tls
) -> None:
    httpx = pytest.importorskip("httpx", reason="httpx (extra de teste) não instalado")
    pytest.importorskip("h2", reason="h2 (HTTP/2 do httpx) não instalado")
    running = await start_balto(nursery, tmp_path, tls, admin_token="segredo")
    async with httpx.AsyncClient(
        http2=True, verify=tls.client_context(), base_url=running.server.https, timeout=WAIT_S
    ) as client:
        with trio.fail_after(WAIT_S):
            health = await client.get("/health")
            refused = await client.post("/cadastro/cliente", json=CLIENTE)
            created = await client.post(
                "/cadastro/cliente", json=CLIENTE, headers={"authorization": "Bearer segredo"}
            )
    assert health.http_version == "HTTP/2" and health.status_code == 200
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer realm="balto"'
    assert created.status_code == 201 and len(created.json()["codigo"]) == 6
    await running.server.stop()


# -- wss:// -------------------------------------------------------------------------------


async def test_wrong_key_closes_1008_with_reason(balto: BaltoTls) -> None:
    context = balto.server.tls.client_context()
    async with open_websocket_url(f"{balto.server.wss}/ws", ssl_context=context) as ws:
        await ws.send_message(json.dumps({"comando": "auth", "api_key": "0" * 36}))
        closed = await closed_with(ws, WAIT_S)
    assert closed.reason is not None
    assert closed.reason.code == 1008 and "api_key" in (closed.reason.reason or "")


async def test_bad_messages_get_erro_and_feedback_is_recorded(balto: BaltoTls) -> None:
    _, api_key = await register(balto.server)
    db = balto.database()
    try:
        balcao = db.authenticate(api_key)
        assert balcao is not None
        interacao = db.create_interacao(
            balcao.id, regra="r", categoria="c", mensagem="m", produto="p", gatilho="g"
        )
    finally:
        db.close()
    context = balto.server.tls.client_context()
    async with open_websocket_url(f"{balto.server.wss}/ws", ssl_context=context) as ws:
        await authenticated(ws, api_key)
        for text, fragment in [
            ("isto não é json", "JSON"),
            ('{"comando": "voar"}', "Comando desconhecido"),
        ]:
            await ws.send_message(text)
            reply = await next_json(ws, WAIT_S)
            assert reply["comando"] == "erro" and fragment in reply["mensagem"], reply
        feedback = {"comando": "feedback", "id_interacao": interacao, "resultado": "venda_perdida"}
        await ws.send_message(json.dumps(feedback))
        assert await next_json(ws, WAIT_S) == {
            "comando": "feedback_ok",
            "id_interacao": interacao,
            "resultado": "venda_perdida",
        }
        await ws.send_message(json.dumps(feedback))
        again = await next_json(ws, WAIT_S)
        assert again["comando"] == "erro" and "já registrado" in again["mensagem"]
        assert again["codigo"] == "feedback_ja_registrado"


@pytest.mark.skipif(not espeak_available(), reason="espeak-ng ausente")
async def test_speech_to_recommendation_to_feedback_over_wss(balto: BaltoTls) -> None:
    sentence = "Estou com uma dor nas costas terrível."
    balto.transcriber.texts.extend([sentence] * 10)
    _, api_key = await register(balto.server)
    pcm = to_pcm16(np.concatenate([silence(0.5), synthesize(sentence), silence(1.5)]))
    context = balto.server.tls.client_context()
    async with open_websocket_url(f"{balto.server.wss}/ws", ssl_context=context) as ws:
        await authenticated(ws, api_key)
        for offset in range(0, len(pcm), 3200):
            await ws.send_message(pcm[offset : offset + 3200])
        rec = await next_json(ws, WAIT_S)
        assert rec["comando"] == "recomendar" and rec["id_interacao"], rec
        await ws.send_message(feedback(rec["id_interacao"], "venda_realizada"))
        ack = await next_json(ws, WAIT_S)
        assert ack["comando"] == "feedback_ok" and ack["resultado"] == "venda_realizada"
    db = balto.database()
    try:
        row = db.interacao(rec["id_interacao"])
        assert row is not None and row["resultado"] == "venda_realizada"
    finally:
        db.close()


async def test_unknown_websocket_path_is_404(balto: BaltoTls) -> None:
    context = balto.server.tls.client_context()
    with trio.fail_after(WAIT_S), pytest.raises(ConnectionRejected) as rejected:
        async with open_websocket_url(f"{balto.server.wss}/nada", ssl_context=context):
            pass
    assert rejected.value.status_code == 404
    assert "Nenhum WebSocket" in json.loads(rejected.value.body or b"{}")["error"]


async def test_oversized_message_closes_1009(
    nursery: trio.Nursery, tmp_path: Path, tls: Tls
) -> None:
    running = await start_balto(nursery, tmp_path, tls, ws_max_message_bytes=1024)
    context = tls.client_context()
    async with open_websocket_url(f"{running.server.wss}/ws", ssl_context=context) as ws:
        await ws.send_message("x" * 4096)
        closed = await closed_with(ws, WAIT_S)
    assert closed.reason is not None and closed.reason.code == 1009
    await running.server.stop()


async def test_per_address_cap_closes_1013_and_answers_503(
    nursery: trio.Nursery, tmp_path: Path, tls: Tls
) -> None:
    running = await start_balto(nursery, tmp_path, tls, max_connections_per_address=1)
    context = tls.client_context()
    async with open_websocket_url(f"{running.server.wss}/ws", ssl_context=context):
        async with open_websocket_url(f"{running.server.wss}/ws", ssl_context=context) as second:
            closed = await closed_with(second, WAIT_S)
        assert closed.reason is not None and closed.reason.code == 1013
        busy = await https(running.server, "GET", "/health")
        assert busy.status == 503 and busy.headers["retry-after"] == "5"
    with trio.fail_after(WAIT_S):
        status = busy.status
        while status != 200:  # the first socket's slot frees once hypercorn reports its end
            await trio.sleep(0.02)
            status = (await https(running.server, "GET", "/health")).status
    await running.server.stop()


async def test_graceful_stop_closes_sessions_with_1001(balto: BaltoTls) -> None:
    _, api_key = await register(balto.server)
    context = balto.server.tls.client_context()
    async with open_websocket_url(f"{balto.server.wss}/ws", ssl_context=context) as ws:
        await authenticated(ws, api_key)
        balto.server.stop_event.set()
        closed = await closed_with(ws, WAIT_S)
    assert closed.reason is not None and closed.reason.code == 1001
    with trio.fail_after(WAIT_S):
        await balto.server.stopped.wait()
    assert balto.server.app.adapter is None  # the lifespan ended: pool stopped, database closed


# -- the panel's session and the live feed over TLS --------------------------------------


async def test_panel_session_cookie_is_secure_and_the_feed_streams_over_tls(
    balto: BaltoTls,
) -> None:
    reply = await https(balto.server, "POST", "/cadastro/cliente", CLIENTE)
    chave = reply.json()["chave_admin"]
    login = {"email": CLIENTE["email"], "chave_admin": chave}
    reply = await https(balto.server, "POST", "/api/sessao", login)
    assert reply.status == 200, reply.body
    cookie = reply.headers["set-cookie"]
    assert cookie.split("; ")[-1] == "Secure" and "HttpOnly" in cookie
    session = cookie.split("; ")[0]
    csrf = reply.json()["csrf"]
    own = (("cookie", session), ("x-csrf-token", csrf), ("origin", "https://localhost"))
    reply = await https(balto.server, "DELETE", "/api/regras", headers=own)
    assert reply.status == 200, reply.body  # the scheme of the origin is https here
    with trio.fail_after(WAIT_S):
        stream = await balto.server.open_tls_stream()
        conn = h11.Connection(h11.CLIENT)
        request = h11.Request(
            method="GET",
            target="/api/ao-vivo",
            headers=[("host", "localhost"), ("cookie", session)],
        )
        await stream.send_all(conn.send(request) + conn.send(h11.EndOfMessage()))
        received: list[h11.Event] = []
        body = b""
        while b": ao vivo\n\n" not in body:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await stream.receive_some(65536))
                continue
            received.append(event)  # type: ignore[arg-type]
            if isinstance(event, h11.Data):
                body += bytes(event.data)
        head = received[0]
        assert isinstance(head, h11.Response) and head.status_code == 200
        assert dict(head.headers)[b"content-type"] == b"text/event-stream; charset=utf-8"
        async with trio.open_nursery() as nursery:
            nursery.start_soon(balto.server.stop)  # the lifespan's shutdown ends the feed
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    conn.receive_data(await stream.receive_some(65536))
                    continue
                if isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                    break
                if isinstance(event, h11.Data):
                    body += bytes(event.data)
        assert body.endswith(b'event: fim\ndata: {"motivo": "Servidor encerrando"}\n\n')
        await stream.aclose()
