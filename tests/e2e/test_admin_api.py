"""The management API through a real server: the chain's key, its counters (online state,
revocation that closes the socket at once), and reports whose numbers come from real counter
sessions (real speech, segmentation, detector and SQLite; a scripted transcriber).

Every endpoint is also called by a second chain, which must see nothing of the first."""

import csv
import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from bench.speech import espeak_available, silence, synthesize, to_pcm16
from trio_websocket import open_websocket_url

from tests.helpers import closed_with, feedback, http, next_json

needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng missing")
COMPLAINT = "Estou com uma dor nas costas terrível."  # the sentence other tests speak (cached)


class Chain:
    def __init__(self, codigo: str, chave_admin: str) -> None:
        self.codigo = codigo
        self.chave_admin = chave_admin

    @property
    def bearer(self) -> list[tuple[str, str]]:
        return [("authorization", f"Bearer {self.chave_admin}")]


async def new_chain(port: int, email: str) -> Chain:
    r = await http(
        port,
        "POST",
        "/cadastro/cliente",
        {"email": email, "razao_social": "Rede", "telefone": "11999998888"},
    )
    assert r.status == 201, r.body
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert set(body) == {"codigo", "chave_admin"}
    return Chain(body["codigo"], body["chave_admin"])


async def new_counter(port: int, chain: Chain, nome: str) -> str:
    r = await http(
        port, "POST", "/cadastro/balcao", {"nome_balcao": nome, "user_codigo": chain.codigo}
    )
    assert r.status == 201, r.body
    return r.json()["api_key"]


async def api(port: int, method: str, path: str, chain: Chain | None, **kwargs):
    headers = chain.bearer if chain else []
    return await http(port, method, path, headers=headers, **kwargs)


async def auth(ws, api_key: str) -> None:
    await ws.send_message(json.dumps({"comando": "auth", "api_key": api_key}))
    reply = await next_json(ws)
    assert reply["comando"] == "auth_ok", reply


async def balcoes(port: int, chain: Chain) -> dict[str, dict]:
    r = await api(port, "GET", "/api/balcoes", chain)
    assert r.status == 200, r.body
    assert r.headers["cache-control"] == "no-store"
    return {row["nome_balcao"]: row for row in r.json()["balcoes"]}


async def test_registration_shows_a_management_key_the_seed_can_ignore(server):
    chain = await new_chain(server.port, "rede@a.com")
    assert len(chain.chave_admin) >= 43 and chain.chave_admin != chain.codigo
    r = await api(server.port, "GET", "/api/balcoes", chain)
    assert r.status == 200 and r.json() == {"balcoes": []}


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic dXN1YXJpbzpzZW5oYQ==",
        "Bearer",
        "Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  # the shape of a key, forged
        "Bearer 00000000-0000-4000-8000-000000000000",  # a counter's api_key is no such key
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/balcoes"),
        ("POST", "/api/balcoes/1/revogar"),
        ("GET", "/api/relatorios?agrupar=regra"),
        ("POST", "/api/chave/rotacionar"),
    ],
)
async def test_without_a_valid_key_401(server, authorization, method, path):
    headers = [("authorization", authorization)] if authorization is not None else []
    r = await http(server.port, method, path, headers=headers)
    assert r.status == 401
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    assert r.headers["www-authenticate"] == 'Bearer realm="balto"'
    assert "Chave de administração" in r.json()["error"]


async def test_rotating_the_key_retires_the_old_one_and_no_other_chains(server):
    chain = await new_chain(server.port, "rede@a.com")
    other = await new_chain(server.port, "b@b.com")
    r = await api(server.port, "POST", "/api/chave/rotacionar", chain)
    assert r.status == 200 and r.headers["cache-control"] == "no-store"
    rotated = Chain(chain.codigo, r.json()["chave_admin"])
    assert rotated.chave_admin != chain.chave_admin
    assert (await api(server.port, "GET", "/api/balcoes", chain)).status == 401
    assert (await api(server.port, "GET", "/api/balcoes", rotated)).status == 200
    assert (await api(server.port, "GET", "/api/balcoes", other)).status == 200


async def test_another_chains_counter_is_not_found_and_stays_untouched(server):
    port = server.port
    a, b = await new_chain(port, "rede@a.com"), await new_chain(port, "rede@b.com")
    key = await new_counter(port, a, "Loja A1")
    await new_counter(port, b, "Loja B1")
    a_counter = (await balcoes(port, a))["Loja A1"]
    assert list(await balcoes(port, b)) == ["Loja B1"]  # nothing of chain A
    r = await api(port, "POST", f"/api/balcoes/{a_counter['id']}/revogar", b)
    missing = await api(port, "POST", "/api/balcoes/999999/revogar", b)
    assert r.status == missing.status == 404
    assert r.json() == missing.json() == {"error": "Balcão não encontrado"}  # no leak
    for path in ["/api/balcoes/abc/revogar", "/api/balcoes/-1/revogar"]:
        assert (await api(port, "POST", path, a)).status == 404
    assert (await balcoes(port, a))["Loja A1"]["revogado_em"] is None
    async with open_websocket_url(server.ws_url) as ws:
        await auth(ws, key)  # still works


async def test_counters_online_state_and_revocation_closes_the_socket_1008(server):
    port = server.port
    chain = await new_chain(port, "rede@a.com")
    key = await new_counter(port, chain, "Loja 01")
    other_key = await new_counter(port, chain, "Loja 02")
    listed = await balcoes(port, chain)
    assert set(listed) == {"Loja 01", "Loja 02"}
    first = listed["Loja 01"]
    assert first["online"] is False and first["visto_em"] is None
    assert first["revogado_em"] is None and first["criado_em"]
    async with (
        open_websocket_url(server.ws_url) as ws,
        open_websocket_url(server.ws_url) as other,
    ):
        await auth(ws, key)
        await auth(other, other_key)
        listed = await balcoes(port, chain)
        assert listed["Loja 01"]["online"] is True and listed["Loja 01"]["sessoes_abertas"] == 1
        assert listed["Loja 01"]["visto_em"] >= listed["Loja 01"]["criado_em"]
        r = await api(port, "POST", f"/api/balcoes/{first['id']}/revogar", chain)
        assert r.status == 200, r.body
        body = r.json()
        assert body["id"] == first["id"] and body["revogado_em"]
        assert body["sessoes_encerradas"] == 1
        assert body["online"] is False and body["sessoes_abertas"] == 0  # closing at once
        closed = await closed_with(ws)
        assert closed.reason.code == 1008 and closed.reason.reason == "api_key revogada"
        # the other counter streams on
        await other.send_message('{"comando": "voar"}')
        assert (await next_json(other))["comando"] == "erro"
        again = await api(port, "POST", f"/api/balcoes/{first['id']}/revogar", chain)
        assert again.status == 200 and again.json()["revogado_em"] == body["revogado_em"]
    async with open_websocket_url(server.ws_url) as ws:
        await ws.send_message(json.dumps({"comando": "auth", "api_key": key}))
        closed = await closed_with(ws)
        assert closed.reason.code == 1008 and "api_key" in closed.reason.reason
    listed = await balcoes(port, chain)
    assert listed["Loja 01"]["online"] is False
    assert listed["Loja 01"]["revogado_em"] == body["revogado_em"]
    assert listed["Loja 02"]["revogado_em"] is None


async def test_report_parameters_are_checked(server):
    chain = await new_chain(server.port, "rede@a.com")
    for query, fragment in [
        ("agrupar=semana", "'agrupar' inválido"),
        ("agrupar=dia&de=2024-02-30", "'de' deve ser uma data válida"),
        ("agrupar=dia&de=2024-05-02&ate=2024-05-01", "invertido"),
        ("agrupar=dia&formato=pdf", "'formato'"),
        ("", "'agrupar' obrigatório"),
    ]:
        r = await api(server.port, "GET", f"/api/relatorios?{query}", chain)
        assert r.status == 400 and fragment in r.json()["error"], (query, r.body)


async def stream_complaint(url: str, api_key: str, resultado: str | None) -> None:
    """One real counter session: the complaint spoken, one recommendation, maybe feedback."""
    audio = np.concatenate([silence(0.5), synthesize(COMPLAINT), silence(1.5)])
    pcm = to_pcm16(audio)
    async with open_websocket_url(url) as ws:
        await auth(ws, api_key)
        for offset in range(0, len(pcm), 3200):
            await ws.send_message(pcm[offset : offset + 3200])
        rec = await next_json(ws)
        assert rec["comando"] == "recomendar", rec
        if resultado is not None:
            await ws.send_message(feedback(rec["id_interacao"], resultado))
            ack = await next_json(ws)
            assert ack["comando"] == "feedback_ok", ack


@needs_espeak
async def test_report_numbers_come_from_real_counter_sessions(server, scripted):
    scripted.texts.extend([COMPLAINT] * 200)  # each session recommends once (cooldown)
    port = server.port
    chain, other = await new_chain(port, "rede@a.com"), await new_chain(port, "rede@b.com")
    loja1 = await new_counter(port, chain, "Loja 01")
    loja2 = await new_counter(port, chain, "Loja 02")
    await new_counter(port, other, "Loja B")
    await stream_complaint(server.ws_url, loja1, "venda_realizada")
    await stream_complaint(server.ws_url, loja1, None)  # the clerk never answered
    await stream_complaint(server.ws_url, loja2, "venda_perdida")
    today = datetime.now(ZoneInfo("America/Sao_Paulo")).date().isoformat()
    dates = f"de={today}&ate={today}"

    async def report(chain: Chain, agrupar: str, formato: str = "json"):
        path = f"/api/relatorios?agrupar={agrupar}&{dates}&formato={formato}"
        r = await api(port, "GET", path, chain)
        assert r.status == 200, r.body
        return r

    expected = {
        "recomendacoes": 3,
        "vendas_realizadas": 1,
        "vendas_perdidas": 1,
        "sem_resposta": 1,
        "conversao": 0.5,  # among the answered
        "ic95_inferior": 0.0945,  # Wilson, 1 of 2
        "ic95_superior": 0.9055,
    }
    by_rule = (await report(chain, "regra")).json()
    assert by_rule["linhas"] == [{"regra": "dor_costas_muscular", **expected}]
    assert by_rule["total"] == expected
    assert (by_rule["agrupar"], by_rule["de"], by_rule["ate"]) == ("regra", today, today)
    assert by_rule["fuso_horario"] == "America/Sao_Paulo"

    by_counter = (await report(chain, "balcao")).json()["linhas"]
    assert [
        (row["nome_balcao"], row["recomendacoes"], row["vendas_realizadas"], row["sem_resposta"])
        for row in by_counter
    ] == [("Loja 01", 2, 1, 1), ("Loja 02", 1, 0, 0)]
    by_product = (await report(chain, "produto")).json()["linhas"]
    assert [(row["produto"], row["recomendacoes"]) for row in by_product] == [("Dorflex", 3)]
    by_day = (await report(chain, "dia")).json()["linhas"]
    assert by_day == [{"dia": today, **expected}]
    by_hour = (await report(chain, "hora")).json()["linhas"]
    assert len(by_hour) == 24 and sum(row["recomendacoes"] for row in by_hour) == 3

    r = await report(chain, "regra", "csv")
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"].startswith('attachment; filename="relatorio-regra-')
    rows = list(csv.DictReader(io.StringIO(r.body.decode())))
    assert rows == [
        {"regra": "dor_costas_muscular", **{name: str(value) for name, value in expected.items()}}
    ]

    # the second chain sees nothing of the first
    theirs = (await report(other, "regra")).json()
    assert theirs["linhas"] == [] and theirs["total"]["recomendacoes"] == 0
    assert (await report(other, "balcao")).json()["linhas"] == []
    assert sum(row["recomendacoes"] for row in (await report(other, "hora")).json()["linhas"]) == 0
    csv_rows = (await report(other, "regra", "csv")).body.decode().splitlines()
    assert len(csv_rows) == 1  # the header alone


async def test_wrong_keys_are_throttled_per_network_before_any_lookup(server):
    """A flood of wrong keys would queue lookups on the store thread every counter needs: past
    the burst the network gets 429 with Retry-After, and a right key from it waits too."""
    chain = await new_chain(server.port, "rede@a.com")
    forged = [("authorization", "Bearer " + "A" * 43)]
    burst = server.config.chave_admin_failures_burst
    for _ in range(burst):
        assert (await http(server.port, "GET", "/api/balcoes", headers=forged)).status == 401
    r = await http(server.port, "GET", "/api/balcoes", headers=forged)
    assert r.status == 429 and int(r.headers["retry-after"]) >= 1
    assert "chaves erradas" in r.json()["error"]
    assert (await api(server.port, "GET", "/api/balcoes", chain)).status == 429
