"""Rotating a counter's api_key through a real server (``POST /api/balcoes/{id}/trocar-chave``):
the new key shown once, the old one's open socket closed at once with 1008 and the old key
refused at auth, the new key authenticating and streaming into the same counter's history; a
revoked counter stays revoked; another chain cannot; a panel session needs the CSRF token."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from trio_websocket import open_websocket_url

from balto.counter.admin import sessions
from tests.e2e.test_admin_api import (
    COMPLAINT,
    api,
    auth,
    balcoes,
    needs_espeak,
    new_chain,
    new_counter,
    stream_complaint,
)
from tests.e2e.test_admin_sessions import login
from tests.helpers import closed_with, http, next_json

REPLACED = "api_key substituída por uma nova"


async def refused_at_auth(url: str, api_key: str) -> None:
    async with open_websocket_url(url) as ws:
        await ws.send_message(json.dumps({"comando": "auth", "api_key": api_key}))
        closed = await closed_with(ws)
        assert closed.reason.code == 1008 and closed.reason.reason == "api_key inválida"


async def test_rotation_closes_the_old_keys_socket_and_the_new_key_streams_on(server):
    port = server.port
    chain = await new_chain(port, "rede@a.com")
    old_key = await new_counter(port, chain, "Loja 01")
    other_key = await new_counter(port, chain, "Loja 02")
    first = (await balcoes(port, chain))["Loja 01"]
    async with (
        open_websocket_url(server.ws_url) as ws,
        open_websocket_url(server.ws_url) as other,
    ):
        await auth(ws, old_key)
        await auth(other, other_key)
        r = await api(port, "POST", f"/api/balcoes/{first['id']}/trocar-chave", chain)
        assert r.status == 200, r.body
        assert r.headers["cache-control"] == "no-store"
        body = r.json()
        new_key = body["api_key"]
        assert new_key != old_key and len(new_key) == len(old_key)
        assert body["link"] == f"/balcao#chave={new_key}"
        assert (body["id"], body["nome_balcao"], body["criado_em"]) == (
            first["id"],
            "Loja 01",
            first["criado_em"],
        )
        assert body["revogado_em"] is None and body["sessoes_encerradas"] == 1
        assert body["online"] is False and body["sessoes_abertas"] == 0  # closing at once
        assert "aviso" not in body
        closed = await closed_with(ws)
        assert closed.reason.code == 1008 and closed.reason.reason == REPLACED
        # the chain's other counter streams on
        await other.send_message('{"comando": "voar"}')
        assert (await next_json(other))["comando"] == "erro"
    await refused_at_auth(server.ws_url, old_key)
    async with open_websocket_url(server.ws_url) as ws:
        await auth(ws, new_key)
        listed = await balcoes(port, chain)
        assert listed["Loja 01"]["online"] is True and listed["Loja 01"]["id"] == first["id"]
        # a second rotation closes the session of the key the first one gave
        r = await api(port, "POST", f"/api/balcoes/{first['id']}/trocar-chave", chain)
        assert r.status == 200 and r.json()["sessoes_encerradas"] == 1
        closed = await closed_with(ws)
        assert closed.reason.code == 1008 and closed.reason.reason == REPLACED
    await refused_at_auth(server.ws_url, new_key)
    newest = r.json()["api_key"]
    async with open_websocket_url(server.ws_url) as ws:
        await auth(ws, newest)
    assert list(await balcoes(port, chain)) == ["Loja 01", "Loja 02"]  # no new counter


@needs_espeak
async def test_the_counter_keeps_its_history_across_a_rotation(server, scripted):
    scripted.texts.extend([COMPLAINT] * 50)
    port = server.port
    chain = await new_chain(port, "rede@a.com")
    old_key = await new_counter(port, chain, "Loja 01")
    counter = (await balcoes(port, chain))["Loja 01"]["id"]
    await stream_complaint(server.ws_url, old_key, "venda_realizada")
    r = await api(port, "POST", f"/api/balcoes/{counter}/trocar-chave", chain)
    assert r.status == 200, r.body
    await stream_complaint(server.ws_url, r.json()["api_key"], "venda_perdida")
    today = datetime.now(ZoneInfo("America/Sao_Paulo")).date().isoformat()
    path = f"/api/relatorios?agrupar=balcao&de={today}&ate={today}"
    rows = (await api(port, "GET", path, chain)).json()["linhas"]
    assert [
        (row["balcao_id"], row["recomendacoes"], row["vendas_realizadas"], row["vendas_perdidas"])
        for row in rows
    ] == [(counter, 2, 1, 1)]


async def test_a_revoked_counter_cannot_be_rotated_back_to_life(server):
    port = server.port
    chain = await new_chain(port, "rede@a.com")
    key = await new_counter(port, chain, "Loja 01")
    counter = (await balcoes(port, chain))["Loja 01"]["id"]
    assert (await api(port, "POST", f"/api/balcoes/{counter}/revogar", chain)).status == 200
    r = await api(port, "POST", f"/api/balcoes/{counter}/trocar-chave", chain)
    assert r.status == 409
    assert r.json() == {
        "error": "Balcão revogado: a chave não pode ser trocada; cadastre um novo balcão"
    }
    await refused_at_auth(server.ws_url, key)
    assert (await balcoes(port, chain))["Loja 01"]["revogado_em"] is not None


async def test_another_chain_cannot_rotate_a_counter(server):
    port = server.port
    a, b = await new_chain(port, "rede@a.com"), await new_chain(port, "rede@b.com")
    key = await new_counter(port, a, "Loja A1")
    counter = (await balcoes(port, a))["Loja A1"]["id"]
    r = await api(port, "POST", f"/api/balcoes/{counter}/trocar-chave", b)
    missing = await api(port, "POST", "/api/balcoes/999999/trocar-chave", b)
    assert r.status == missing.status == 404
    assert r.json() == missing.json() == {"error": "Balcão não encontrado"}  # no leak
    for path in ["/api/balcoes/abc/trocar-chave", "/api/balcoes/-1/trocar-chave"]:
        assert (await api(port, "POST", path, a)).status == 404
    # and its panel session cannot either
    theirs = await login(port, "rede@b.com", b)
    r = await http(
        port,
        "POST",
        f"/api/balcoes/{counter}/trocar-chave",
        headers=theirs.headers(csrf=theirs.csrf),
    )
    assert r.status == 404
    async with open_websocket_url(server.ws_url) as ws:
        await auth(ws, key)  # still works


@pytest.mark.parametrize("authorization", [None, "Bearer " + "A" * 43])
async def test_without_a_valid_key_401(server, authorization):
    headers = [("authorization", authorization)] if authorization is not None else []
    r = await http(server.port, "POST", "/api/balcoes/1/trocar-chave", headers=headers)
    assert r.status == 401 and "Chave de administração" in r.json()["error"]


async def test_by_panel_session_it_needs_the_csrf_token_and_own_origin(server):
    port = server.port
    chain = await new_chain(port, "rede@a.com")
    key = await new_counter(port, chain, "Loja 01")
    counter = (await balcoes(port, chain))["Loja 01"]["id"]
    session = await login(port, "rede@a.com", chain)
    path = f"/api/balcoes/{counter}/trocar-chave"
    refused = {
        sessions.CSRF_MISSING: session.headers(),
        sessions.CSRF_WRONG: session.headers(csrf="errado"),
        sessions.FOREIGN_ORIGIN: session.headers(csrf=session.csrf, origin="https://mal.example"),
    }
    for message, headers in refused.items():
        r = await http(port, "POST", path, headers=headers)
        assert r.status == 403 and r.json() == {"error": message}, message
    async with open_websocket_url(server.ws_url) as ws:
        await auth(ws, key)  # nothing was rotated
    r = await http(port, "POST", path, headers=session.headers(csrf=session.csrf))
    assert r.status == 200 and r.json()["api_key"] != key
    await refused_at_auth(server.ws_url, key)
