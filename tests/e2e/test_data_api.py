"""A chain's own data through a real server (LGPD): the export has everything of the chain and
no secret, the deletion needs the codigo (and CSRF by cookie), closes the counters' sockets
with 1008, retires the key, and leaves the second chain untouched."""

import json

from trio_websocket import open_websocket_url

from balto.counter.admin import data
from balto.counter.store import Database
from tests.e2e.test_admin_api import Chain, api, auth, balcoes, new_chain, new_counter
from tests.e2e.test_admin_sessions import login
from tests.helpers import closed_with, http


def interaction(db_file, api_key: str, regra: str) -> str:
    """One answered interaction of the counter, written beside the server (WAL)."""
    db = Database(db_file)
    try:
        balcao = db.authenticate(api_key)
        assert balcao is not None
        interacao_id = db.create_interacao(
            balcao.id, regra=regra, categoria="c", mensagem="m", produto="p", gatilho="g"
        )
        db.record_feedback(balcao.id, interacao_id, "venda_realizada")
        return interacao_id
    finally:
        db.close()


async def two_chains(server) -> tuple[Chain, str, str, Chain, str, str]:
    port = server.port
    a, b = await new_chain(port, "rede@a.com"), await new_chain(port, "rede@b.com")
    a_key, b_key = await new_counter(port, a, "Loja A1"), await new_counter(port, b, "Loja B1")
    a_id = interaction(server.config.db_file, a_key, "regra_a")
    b_id = interaction(server.config.db_file, b_key, "regra_b")
    assert (await api(port, "DELETE", "/api/regras", a)).status == 200  # a rules version
    return a, a_key, a_id, b, b_key, b_id


async def test_the_export_has_all_of_the_chain_and_no_secret(server):
    a, a_key, a_id, _, _, b_id = await two_chains(server)
    r = await api(server.port, "GET", "/api/dados", a)
    assert r.status == 200, r.body
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    disposition = r.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="balto-dados-{a.codigo}-')
    body = r.json()
    assert set(body) == {"exportado_em", "cliente", "balcoes", "interacoes", "regras_versoes"}
    assert body["cliente"]["codigo"] == a.codigo and body["cliente"]["email"] == "rede@a.com"
    assert [c["nome_balcao"] for c in body["balcoes"]] == ["Loja A1"]
    [row] = body["interacoes"]
    assert row["id"] == a_id and row["resultado"] == "venda_realizada" and row["feedback_em"]
    [version] = body["regras_versoes"]
    assert version["revisao"] == 1 and version["padrao"] is True and version["conjunto"] is None
    text = r.body.decode("utf-8")
    for secret in (a.chave_admin, a_key, "hash", b_id, "rede@b.com", "Loja B1"):
        assert secret not in text
    assert (await api(server.port, "GET", "/api/dados", None)).status == 401


async def test_deleting_needs_the_codigo_then_removes_the_chain_and_nothing_else(server):
    port = server.port
    a, a_key, a_id, b, b_key, b_id = await two_chains(server)
    refused = {
        "missing": await api(port, "DELETE", "/api/dados", a, body={}),
        "wrong": await api(port, "DELETE", "/api/dados", a, body={"confirmar": "000000"}),
        "theirs": await api(port, "DELETE", "/api/dados", a, body={"confirmar": b.codigo}),
        "extra": await api(port, "DELETE", "/api/dados", a, body={"confirmar": a.codigo, "x": 1}),
    }
    assert {k: r.status for k, r in refused.items()} == dict.fromkeys(refused, 400)
    assert refused["wrong"].json() == {"error": data.CONFIRM_WRONG}
    assert (await api(port, "DELETE", "/api/dados", a)).status == 415  # no body at all
    assert list(await balcoes(port, a)) == ["Loja A1"]  # nothing deleted yet
    async with open_websocket_url(server.ws_url) as ws, open_websocket_url(server.ws_url) as bws:
        await auth(ws, a_key)
        await auth(bws, b_key)
        r = await api(port, "DELETE", "/api/dados", a, body={"confirmar": a.codigo})
        assert r.status == 200, r.body
        assert r.json() == {
            "apagado": {"balcoes": 1, "interacoes": 1, "regras_versoes": 1, "sessoes": 0},
            "sessoes_encerradas": 1,
        }
        closed = await closed_with(ws)
        assert closed.reason.code == 1008
        await bws.send_message('{"comando": "voar"}')  # chain B's counter streams on
        assert json.loads(await bws.get_message())["comando"] == "erro"
    assert (await api(port, "GET", "/api/balcoes", a)).status == 401
    assert (await api(port, "GET", "/api/dados", a)).status == 401
    async with open_websocket_url(server.ws_url) as ws:
        await ws.send_message(json.dumps({"comando": "auth", "api_key": a_key}))
        assert (await closed_with(ws)).reason.code == 1008
    assert list(await balcoes(port, b)) == ["Loja B1"]
    r = await api(port, "GET", "/api/dados", b)
    assert [row["id"] for row in r.json()["interacoes"]] == [b_id]
    db = Database(server.config.db_file)
    try:
        assert db.interacao(a_id) is None and db.interacao(b_id) is not None
        counts = [db.query(f"SELECT COUNT(*) FROM {t}")[0][0] for t in ("clientes", "balcoes")]
        assert counts == [1, 1]
    finally:
        db.close()
    # The deleted chain's e-mail may register again, from scratch.
    again = await new_chain(port, "rede@a.com")
    assert (await balcoes(port, again)) == {}


async def test_deleting_by_cookie_needs_csrf_and_ends_the_session(server):
    port = server.port
    a = await new_chain(port, "rede@a.com")
    session = await login(port, "rede@a.com", a)
    body = {"confirmar": a.codigo}
    r = await http(port, "DELETE", "/api/dados", body, headers=session.headers())
    assert r.status == 403
    assert (await api(port, "GET", "/api/balcoes", a)).status == 200  # still there
    r = await http(port, "DELETE", "/api/dados", body, headers=session.headers(csrf=session.csrf))
    assert r.status == 200, r.body
    assert r.json()["apagado"]["sessoes"] == 1
    assert "Max-Age=0" in r.headers["set-cookie"]
    r = await http(port, "GET", "/api/balcoes", headers=session.headers())
    assert r.status == 401
