"""Wording experiments through a real server: a rule given variants with ``PUT /api/regras``,
real counter sessions (real speech, segmentation, detector and SQLite; a scripted
transcriber) that each draw one wording, and ``GET /api/experimentos`` counting what the
counters were actually shown. A second chain sees nothing of the first's experiment."""

import csv
import io
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from bench.speech import silence, synthesize, to_pcm16
from trio_websocket import open_websocket_url

from balto.counter.detect import default_rules
from tests.e2e.test_admin_api import (
    COMPLAINT,
    Chain,
    api,
    auth,
    needs_espeak,
    new_chain,
    new_counter,
)
from tests.e2e.test_rules_api import put_rules
from tests.helpers import feedback, http, next_json

RULE = "dor_costas_muscular"
TEXTS = {"padrao": "Sugerir Dorflex", "curta": "Ofereça Dorflex para a dor nas costas"}


def experiment_set() -> dict:
    """The shipped rules, the back-pain rule with one variant besides its own message."""
    data = default_rules().to_data()
    for rule in data["regras"]:
        if rule["id"] == RULE:
            rule["variantes"] = [{"id": "curta", "mensagem": TEXTS["curta"]}]
    return data


async def experiments(port: int, chain: Chain, formato: str = "json"):
    today = datetime.now(ZoneInfo("America/Sao_Paulo")).date().isoformat()
    path = f"/api/experimentos?de={today}&ate={today}&formato={formato}"
    r = await api(port, "GET", path, chain)
    assert r.status == 200, r.body
    assert r.headers["cache-control"] == "no-store"
    return r


@pytest.mark.parametrize(
    "authorization", [None, "Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]
)
async def test_without_a_valid_key_401(server, authorization):
    headers = [("authorization", authorization)] if authorization else []
    r = await http(server.port, "GET", "/api/experimentos", headers=headers)
    assert r.status == 401 and "Chave de administração" in r.json()["error"]


async def test_parameters_are_checked_and_a_chain_without_variants_has_none(server):
    chain = await new_chain(server.port, "rede@a.com")
    for query, fragment in [
        ("agrupar=regra", "desconhecido"),
        ("de=2024-02-30", "'de' deve ser uma data válida"),
        ("formato=pdf", "'formato'"),
    ]:
        r = await api(server.port, "GET", f"/api/experimentos?{query}", chain)
        assert r.status == 400 and fragment in r.json()["error"], (query, r.body)
    body = (await experiments(server.port, chain)).json()
    assert body["experimentos"] == [] and body["alfa"] == 0.05
    assert body["fuso_horario"] == "America/Sao_Paulo"


async def test_variants_are_refused_where_the_rules_refuse_them(server):
    chain = await new_chain(server.port, "rede@a.com")
    data = experiment_set()
    data["regras"][0]["variantes"] = [{"id": "padrao", "mensagem": "outra"}]
    r = await put_rules(server.port, chain, data)
    assert r.status == 400 and "da própria mensagem" in r.json()["error"], r.body


async def shown(url: str, api_key: str, resultado: str | None) -> dict:
    """One real counter session: the complaint spoken, one recommendation, maybe feedback."""
    pcm = to_pcm16(np.concatenate([silence(0.5), synthesize(COMPLAINT), silence(1.5)]))
    async with open_websocket_url(url) as ws:
        await auth(ws, api_key)
        for offset in range(0, len(pcm), 3200):
            await ws.send_message(pcm[offset : offset + 3200])
        rec = await next_json(ws)
        assert rec["comando"] == "recomendar", rec
        if resultado is not None:
            await ws.send_message(feedback(rec["id_interacao"], resultado))
            assert (await next_json(ws))["comando"] == "feedback_ok"
        return rec


@needs_espeak
async def test_each_recommendation_draws_a_wording_and_the_report_counts_them(server, scripted):
    scripted.texts.extend([COMPLAINT] * 200)
    port = server.port
    chain, other = await new_chain(port, "rede@a.com"), await new_chain(port, "rede@b.com")
    assert (await put_rules(port, chain, experiment_set())).status == 200
    loja = await new_counter(port, chain, "Loja 01")
    theirs = await new_counter(port, other, "Loja B")
    answers = ["venda_realizada", "venda_perdida", None, "venda_realizada", "venda_perdida", None]
    expected: dict[str, Counter[str]] = {arm: Counter() for arm in TEXTS}
    by_text = {text: arm for arm, text in TEXTS.items()}
    for resultado in answers:
        rec = await shown(server.ws_url, loja, resultado)
        # the seed's wire: only the drawn text, no word of the experiment
        assert "variante" not in rec and rec["produto"] == "Dorflex"
        arm = by_text[rec["mensagem"]]
        expected[arm]["recomendacoes"] += 1
        expected[arm][resultado or "sem_resposta"] += 1
    rec = await shown(server.ws_url, theirs, None)  # the other chain: no experiment
    assert rec["mensagem"] == "Sugerir Dorflex"

    body = (await experiments(port, chain)).json()
    [experiment] = body["experimentos"]
    assert (experiment["regra"], experiment["produto"], experiment["ativa"]) == (
        RULE,
        "Dorflex",
        True,
    )
    arms = {arm["variante"]: arm for arm in experiment["variantes"]}
    assert list(arms) == ["padrao", "curta"]
    for name, counts in expected.items():
        arm = arms[name]
        assert arm["mensagem"] == TEXTS[name]
        assert arm["recomendacoes"] == counts["recomendacoes"]
        assert arm["vendas_realizadas"] == counts["venda_realizada"]
        assert arm["vendas_perdidas"] == counts["venda_perdida"]
        assert arm["sem_resposta"] == counts["sem_resposta"]
        answered = counts["venda_realizada"] + counts["venda_perdida"]
        conversion = round(counts["venda_realizada"] / answered, 4) if answered else None
        assert arm["conversao"] == conversion
        assert (arm["ic95_inferior"] is None) == (answered == 0)
    assert sum(arm["recomendacoes"] for arm in arms.values()) == len(answers)
    # six recommendations can never tell two wordings apart at 5%
    assert experiment["teste"]["significativo"] is False
    assert experiment["veredito"].startswith("Ainda não significativo")

    r = await experiments(port, chain, "csv")
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"].startswith('attachment; filename="experimentos-')
    lines = list(csv.DictReader(io.StringIO(r.body.decode())))
    assert [(line["regra"], line["variante"]) for line in lines] == [
        (RULE, "padrao"),
        (RULE, "curta"),
    ]
    assert [int(line["recomendacoes"]) for line in lines] == [
        expected["padrao"]["recomendacoes"],
        expected["curta"]["recomendacoes"],
    ]

    # the second chain sees nothing of the first's experiment
    assert (await experiments(port, other)).json()["experimentos"] == []
    assert len((await experiments(port, other, "csv")).body.decode().splitlines()) == 1
    # the reports by rule still count every recommendation once
    r = await api(port, "GET", "/api/relatorios?agrupar=regra", chain)
    assert r.json()["total"]["recomendacoes"] == len(answers)
