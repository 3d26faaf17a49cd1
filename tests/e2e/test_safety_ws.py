"""Pharmacy safety over a real counter WebSocket: a red-flag complaint is referred to the
pharmacist (``tipo`` "encaminhar", no product), the utterance's suggestion is withheld, and
the chain's live feed shows the referral as such."""

from trio_websocket import open_websocket_url

from tests.e2e.test_admin_api import auth, needs_espeak, new_chain, new_counter
from tests.e2e.test_admin_feed import Feed
from tests.e2e.test_rules_api import assert_quiet, speak
from tests.helpers import http, next_json

BABY_FEVER = "meu bebê tá com febre, posso dar paracetamol?"


@needs_espeak
async def test_a_red_flag_is_referred_not_sold(server, scripted):
    scripted.texts.extend([BABY_FEVER] * 200)
    port = server.port
    chain = await new_chain(port, "rede@seguranca.com")
    key = await new_counter(port, chain, "Loja 01")
    feed = await Feed.open(port, chain.bearer)
    async with open_websocket_url(server.ws_url) as ws:
        await auth(ws, key)
        await speak(ws)
        rec = await next_json(ws)
        assert rec["comando"] == "recomendar", rec
        assert (rec["tipo"], rec["produto"], rec["categoria"]) == (
            "encaminhar",
            "",
            "alerta: febre em bebê",
        )
        assert rec["mensagem"].startswith("Encaminhar ao farmacêutico: ")
        assert rec["id_interacao"]
        # No antipyretic for this utterance, neither now nor at the final decode.
        await assert_quiet(ws, 1.0)
    kind, data = await feed.next()
    assert kind == "recomendacao"
    assert (data["regra"], data["tipo"], data["produto"]) == ("alerta_febre_bebe", "encaminhar", "")
    assert data["id_interacao"] == rec["id_interacao"]
    by_rule = await http(port, "GET", "/api/relatorios?agrupar=regra", headers=chain.bearer)
    rows = by_rule.json()["linhas"]
    assert [(row["regra"], row["recomendacoes"]) for row in rows] == [("alerta_febre_bebe", 1)]
