"""The rules API through a real server: the chain's rule set in the CLI's format, replaced with
the CLI's validation as numbered versions in the same store the CLI writes, the dry run, and a
live counter session that recommends from a rule added while it stays connected (real speech,
segmentation, detector and SQLite; a scripted transcriber).

Every endpoint is also called by a second chain, which must see and change nothing of the
first's rules."""

import json

import numpy as np
import pytest
import trio
from bench.speech import silence, synthesize, to_pcm16
from trio_websocket import open_websocket_url

from balto.cli import main as cli_main
from balto.counter.detect import InvalidRules, default_rules, load_rules
from tests.e2e.test_admin_api import (
    COMPLAINT,
    Chain,
    api,
    auth,
    needs_espeak,
    new_chain,
    new_counter,
)
from tests.helpers import http, next_json

SUN = {
    "id": "sol",
    "categoria": "pele",
    "gatilhos": ["queimadura de sol", "queimei no sol"],
    "mensagem": "Sugerir protetor solar",
    "produto": "Protetor solar",
}
SUN_SET = {"versao": 1, "regras": [SUN]}
HEARD = "Tive uma queimadura de sol e dor nas costas."  # what the scripted whisper "hears"


async def put_rules(
    port: int, chain: Chain, body: object = None, *, raw: bytes | None = None, **headers: str
):
    data = raw if raw is not None else json.dumps(body).encode()
    sent = [*chain.bearer, ("content-type", "application/json"), *headers.items()]
    return await http(port, "PUT", "/api/regras", headers=sent, raw_body=data)


async def current(port: int, chain: Chain) -> dict:
    r = await api(port, "GET", "/api/regras", chain)
    assert r.status == 200, r.body
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["etag"] == f'"{r.json()["revisao"]}"'
    return r.json()


async def dry_run(port: int, chain: Chain, body: dict) -> dict:
    r = await api(port, "POST", "/api/regras/testar", chain, body=body)
    assert r.status == 200, r.body
    return r.json()


@pytest.mark.parametrize(
    "authorization",
    [None, "Basic dXN1YXJpbzpzZW5oYQ==", "Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/regras"),
        ("PUT", "/api/regras"),
        ("DELETE", "/api/regras"),
        ("GET", "/api/regras/versoes"),
        ("GET", "/api/regras/versoes/1"),
        ("POST", "/api/regras/testar"),
    ],
)
async def test_without_a_valid_key_401(server, authorization, method, path):
    headers = [("authorization", authorization)] if authorization is not None else []
    body = {"texto": "dor nas costas"} if method == "POST" else SUN_SET
    r = await http(
        server.port, method, path, body if method in ("PUT", "POST") else None, headers=headers
    )
    assert r.status == 401
    assert r.headers["www-authenticate"] == 'Bearer realm="balto"'
    assert "Chave de administração" in r.json()["error"]


async def test_replace_read_and_history_each_chain_its_own(server):
    port = server.port
    a, b = await new_chain(port, "rede@a.com"), await new_chain(port, "rede@b.com")
    fresh = await current(port, a)
    assert fresh == {
        "revisao": 0,
        "padrao": True,
        "criado_em": None,
        "autor": None,
        "conjunto": default_rules().to_data(),  # what `balto regras padrao` writes
    }
    r = await put_rules(port, a, SUN_SET)
    assert r.status == 200, r.body
    assert r.headers["etag"] == '"1"'
    put = r.json()
    assert (put["revisao"], put["padrao"], put["autor"]) == (1, False, "chave_admin")
    assert load_rules(put["conjunto"]) == load_rules(SUN_SET)
    assert put["conjunto"]["regras"][0]["exclusoes"] == []  # stored as the CLI stores it
    assert await current(port, a) == put

    # the second chain sees nothing of it, and what it does stays its own
    assert await current(port, b) == fresh
    assert (await api(port, "GET", "/api/regras/versoes", b)).json() == {"versoes": []}
    assert (await api(port, "GET", "/api/regras/versoes/1", b)).status == 404
    r = await http(port, "DELETE", "/api/regras", headers=b.bearer)
    assert r.status == 200 and r.json()["revisao"] == 1 and r.json()["padrao"] is True
    assert await current(port, a) == put

    r = await http(port, "DELETE", "/api/regras", headers=a.bearer)  # back to the default
    assert r.status == 200, r.body
    assert r.json()["revisao"] == 2 and r.json()["conjunto"] == default_rules().to_data()
    versions = (await api(port, "GET", "/api/regras/versoes", a)).json()["versoes"]
    assert [(v["revisao"], v["padrao"], v["autor"], v["quantidade_regras"]) for v in versions] == [
        (2, True, "chave_admin", None),
        (1, False, "chave_admin", 1),
    ]
    old = await api(port, "GET", "/api/regras/versoes/1", a)
    assert old.status == 200 and old.json() == put  # ready to PUT back
    for path in ["/api/regras/versoes/3", "/api/regras/versoes/abc"]:
        r = await api(port, "GET", path, a)
        assert r.status == 404 and r.json() == {"error": "Versão de regras não encontrada"}


async def test_the_cli_and_the_api_write_the_same_store(server, tmp_path):
    port = server.port
    chain = await new_chain(port, "rede@a.com")
    assert (await put_rules(port, chain, SUN_SET)).status == 200
    rules_file = tmp_path / "minhas-regras.json"
    rules_file.write_text(default_rules().to_json(), encoding="utf-8")
    db = str(server.config.db_file)
    assert cli_main(["regras", "definir", chain.codigo, str(rules_file), "--db", db]) == 0
    by_cli = await current(port, chain)
    assert (by_cli["revisao"], by_cli["autor"], by_cli["padrao"]) == (2, "cli", False)
    assert load_rules(by_cli["conjunto"]) == default_rules()
    assert cli_main(["regras", "definir", chain.codigo, "--db", db]) == 0
    again = await current(port, chain)
    assert (again["revisao"], again["autor"], again["padrao"]) == (3, "cli", True)


async def test_invalid_rule_sets_are_refused_as_the_cli_refuses_them(server):
    port = server.port
    chain = await new_chain(port, "rede@a.com")
    unknown_field = {"versao": 1, "regras": [SUN | {"preco": 9}]}
    for body, fragment in [
        ({"versao": 3, "regras": [SUN]}, "versao 3 não suportada (use 2)"),
        ({"versao": 1, "regras": []}, "o conjunto de regras está vazio"),
        (unknown_field, "regra 'sol' (regras[0]): campo desconhecido 'preco'"),
        ({"versao": 1, "regras": [SUN, SUN]}, "id 'sol' repetido"),
        ({"versao": 1, "regras": [SUN | {"gatilhos": ["de"]}]}, "só tem palavras ignoradas"),
    ]:
        r = await put_rules(port, chain, body)
        assert r.status == 400, (body, r.body)
        assert fragment in r.json()["error"], r.json()
        with pytest.raises(InvalidRules) as raised:  # the CLI's own message
            load_rules(json.dumps(body))
        assert r.json()["error"] == raised.value.message
    repeated = b'{"versao": 1, "versao": 1, "regras": []}'
    r = await put_rules(port, chain, raw=repeated)
    assert r.status == 400 and r.json()["error"] == "campo 'versao' repetido no JSON de regras"
    r = await put_rules(port, chain, raw=b'{"versao": 1, "regras": [')
    assert r.status == 400 and "JSON malformado" in r.json()["error"]
    r = await put_rules(port, chain, raw=b'[{"versao": 1}]')
    assert r.status == 400 and "objeto JSON" in r.json()["error"]
    r = await put_rules(port, chain, raw=b'{"x": "\\ud800"}')
    assert r.status == 400 and "Unicode" in r.json()["error"]
    huge = json.dumps({"versao": 1, "regras": [SUN | {"mensagem": "x" * 70_000}]}).encode()
    assert (await put_rules(port, chain, raw=huge)).status == 413
    r = await http(port, "PUT", "/api/regras", headers=chain.bearer, raw_body=b"{}")
    assert r.status == 415
    assert (await current(port, chain))["revisao"] == 0  # nothing was saved


async def test_if_match_refuses_a_lost_update(server):
    port = server.port
    chain = await new_chain(port, "rede@a.com")
    assert (await put_rules(port, chain, SUN_SET, **{"if-match": '"0"'})).status == 200
    stale = await put_rules(port, chain, default_rules().to_data(), **{"if-match": '"0"'})
    assert stale.status == 412
    assert stale.json()["error"].startswith("As regras mudaram: a versão atual é 1, não 0")
    bad = await put_rules(port, chain, SUN_SET, **{"if-match": "1"})
    assert bad.status == 400 and "If-Match" in bad.json()["error"]
    assert (await current(port, chain))["revisao"] == 1
    ok = await put_rules(port, chain, default_rules().to_data(), **{"if-match": '"1"'})
    assert ok.status == 200 and ok.json()["revisao"] == 2


async def test_dry_run_fires_nothing_saved(server):
    port = server.port
    a, b = await new_chain(port, "rede@a.com"), await new_chain(port, "rede@b.com")
    # the chain's current rules: the default
    assert await dry_run(port, a, {"texto": HEARD}) == {
        "revisao": 0,
        "recomendacoes": [
            {
                "regra": "dor_costas_muscular",
                "tipo": "sugerir",
                "categoria": "dor nas costas e muscular",
                "mensagem": "Sugerir Dorflex",
                "produto": "Dorflex",
                "gatilho": "dor nas costas",
            }
        ],
    }
    # a rule set sent along, not saved
    tried = await dry_run(port, a, {"texto": HEARD, "regras": SUN_SET})
    assert tried["revisao"] is None
    assert [(f["regra"], f["gatilho"]) for f in tried["recomendacoes"]] == [
        ("sol", "queimadura de sol")
    ]
    assert (await dry_run(port, a, {"texto": "não tenho dor nas costas"}))["recomendacoes"] == []
    assert (await current(port, a))["revisao"] == 0
    for body, fragment in [
        ({"texto": HEARD, "regras": {"versao": 1, "regras": []}}, "conjunto de regras está vazio"),
        ({"regras": SUN_SET}, "'texto' obrigatório"),
        ({"texto": HEARD, "frase": "x"}, "desconhecido"),
    ]:
        r = await api(port, "POST", "/api/regras/testar", a, body=body)
        assert r.status == 400 and fragment in r.json()["error"], r.body
    # after a PUT the dry run tests the new version; the other chain still has its own
    assert (await put_rules(port, a, SUN_SET)).status == 200
    now = await dry_run(port, a, {"texto": HEARD})
    assert now["revisao"] == 1 and [f["regra"] for f in now["recomendacoes"]] == ["sol"]
    theirs = await dry_run(port, b, {"texto": HEARD})
    assert theirs["revisao"] == 0
    assert [f["regra"] for f in theirs["recomendacoes"]] == ["dor_costas_muscular"]


async def speak(ws) -> None:
    """One utterance over the socket (the audio of the cached complaint; the scripted
    transcriber decides what whisper "hears")."""
    pcm = to_pcm16(np.concatenate([silence(0.5), synthesize(COMPLAINT), silence(1.5)]))
    for offset in range(0, len(pcm), 3200):
        await ws.send_message(pcm[offset : offset + 3200])


async def assert_quiet(ws, seconds: float) -> None:
    with trio.move_on_after(seconds):
        message = await ws.get_message()
        raise AssertionError(f"unexpected message {message!r}")


@needs_espeak
async def test_a_live_session_recommends_from_a_rule_put_while_connected(server, scripted):
    scripted.texts.extend([HEARD] * 200)
    port = server.port
    chain, other = await new_chain(port, "rede@a.com"), await new_chain(port, "rede@b.com")
    mine_key = await new_counter(port, chain, "Loja 01")
    their_key = await new_counter(port, other, "Loja B")
    async with (
        open_websocket_url(server.ws_url) as mine,
        open_websocket_url(server.ws_url) as theirs,
    ):
        await auth(mine, mine_key)
        await auth(theirs, their_key)
        await speak(mine)  # the default rules: the back pain, no rule for the sunburn
        rec = await next_json(mine)
        assert (rec["comando"], rec["mensagem"]) == ("recomendar", "Sugerir Dorflex"), rec

        r = await put_rules(port, chain, SUN_SET)  # the same socket stays open
        assert r.status == 200, r.body

        await speak(mine)
        rec = await next_json(mine)
        assert rec["comando"] == "recomendar", rec
        assert (rec["mensagem"], rec["produto"], rec["categoria"], rec["gatilho"]) == (
            "Sugerir protetor solar",
            "Protetor solar",
            "pele",
            "queimadura de sol",
        )
        await assert_quiet(mine, 0.5)  # no Dorflex: that rule is gone

        await speak(theirs)  # the other chain's live session keeps its own (default) rules
        rec = await next_json(theirs)
        assert rec["mensagem"] == "Sugerir Dorflex", rec
        await assert_quiet(theirs, 0.5)

    r = await api(port, "GET", "/api/relatorios?agrupar=regra", chain)
    rows = {row["regra"]: row["recomendacoes"] for row in r.json()["linhas"]}
    assert rows == {"dor_costas_muscular": 1, "sol": 1}
