"""The wording experiments' report without I/O: arms, counts, the verdict and the CSV."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest

from balto.core.errors import BadRequest
from balto.counter.admin.experiments import (
    ExperimentsQuery,
    build_experiments,
    parse_query,
)
from balto.counter.detect import RuleSet, load_rules

QUERY = ExperimentsQuery(date(2026, 5, 1), date(2026, 5, 31))
MADE, LOST = "venda_realizada", "venda_perdida"


def rules(variants: list[dict[str, str]] | None = None) -> RuleSet:
    rule: dict[str, Any] = {
        "id": "costas",
        "categoria": "dor nas costas",
        "gatilhos": ["dor nas costas"],
        "mensagem": "Sugerir Dorflex",
        "produto": "Dorflex",
        "mip": True,
    }
    if variants:
        rule["variantes"] = variants
    other = {"id": "febre", "categoria": "febre", "gatilhos": ["febre"]}
    other |= {"mensagem": "Sugerir Paracetamol", "produto": "Paracetamol", "mip": True}
    return load_rules({"versao": 2, "regras": [rule, other]})


EXPERIMENT = rules([{"id": "curta", "mensagem": "Ofereça Dorflex"}])


def rows(arm: str, made: int, lost: int, unanswered: int = 0, regra: str = "costas"):
    text = {"padrao": "Sugerir Dorflex", "curta": "Ofereça Dorflex"}.get(arm, arm)
    results = [MADE] * made + [LOST] * lost + [None] * unanswered
    return [(regra, arm, text, result) for result in results]


def report(data, rule_set: RuleSet = EXPERIMENT) -> list[dict[str, Any]]:
    return build_experiments(data, rule_set, QUERY, "America/Sao_Paulo").wire()["experimentos"]


def test_every_arm_of_the_current_experiments_even_before_any_draw():
    [experiment] = report([])
    assert (experiment["regra"], experiment["produto"], experiment["ativa"]) == (
        "costas",
        "Dorflex",
        True,
    )
    arms = experiment["variantes"]
    assert [(a["variante"], a["mensagem"], a["recomendacoes"]) for a in arms] == [
        ("padrao", "Sugerir Dorflex", 0),
        ("curta", "Ofereça Dorflex", 0),
    ]
    assert arms[0]["conversao"] is None and arms[0]["ic95_inferior"] is None
    assert experiment["teste"] == {
        "metodo": None,
        "p_valor": None,
        "significativo": False,
        "melhor": None,
    }
    assert experiment["veredito"].startswith("Ainda não significativo")
    assert report([], rules()) == []  # no variants, no experiment


def test_counts_and_wilson_intervals_per_arm():
    [experiment] = report(rows("padrao", 1, 1, 1) + rows("curta", 0, 2))
    padrao, curta = experiment["variantes"]
    assert padrao == {
        "variante": "padrao",
        "mensagem": "Sugerir Dorflex",
        "ativa": True,
        "recomendacoes": 3,
        "vendas_realizadas": 1,
        "vendas_perdidas": 1,
        "sem_resposta": 1,
        "conversao": 0.5,
        "ic95_inferior": 0.0945,
        "ic95_superior": 0.9055,
    }
    assert (curta["conversao"], curta["ic95_inferior"], curta["ic95_superior"]) == (
        0.0,
        0.0,
        0.6576,
    )


def test_small_counts_use_fishers_exact_test_and_say_not_yet():
    [experiment] = report(rows("padrao", 3, 1) + rows("curta", 1, 3))
    test = experiment["teste"]
    assert test["metodo"] == "fisher" and test["p_valor"] == 0.4857  # the tea-tasting table
    assert test["significativo"] is False and test["melhor"] is None
    verdict = experiment["veredito"]
    assert verdict.startswith("Ainda não significativo (p = 0,486, teste exato de Fisher")
    assert "'padrao' 75,0% (IC95% 30,1%–95,4%, 3 de 4)" in verdict
    assert "'curta' 25,0%" in verdict


def test_enough_answers_use_the_chi_square_test_and_name_the_winner():
    [experiment] = report(rows("padrao", 30, 70) + rows("curta", 45, 55))
    test = experiment["teste"]
    assert (test["metodo"], test["p_valor"], test["significativo"]) == (
        "qui_quadrado",
        0.0285,
        True,
    )
    assert test["melhor"] == "curta"
    assert experiment["veredito"].startswith(
        "Diferença significativa (p = 0,028, teste qui-quadrado): 'curta' converte mais."
    )


def test_not_significant_with_enough_answers():
    [experiment] = report(rows("padrao", 40, 60) + rows("curta", 45, 55))
    assert experiment["teste"]["metodo"] == "qui_quadrado"
    assert experiment["teste"]["significativo"] is False
    assert experiment["veredito"].startswith("Ainda não significativo (p = 0,474")


def test_three_arms_with_few_answers_get_no_p_value():
    three = rules([{"id": "a", "mensagem": "A"}, {"id": "b", "mensagem": "B"}])
    data = rows("padrao", 1, 1) + rows("a", 2, 0) + rows("b", 0, 2)
    [experiment] = report(data, three)
    assert experiment["teste"]["p_valor"] is None
    assert "poucas respostas para comparar 3 variantes" in experiment["veredito"]


def test_arms_and_rules_no_longer_in_the_set_keep_their_history():
    data = rows("velha", 1, 0) + rows("padrao", 1, 0) + rows("x", 0, 1, regra="sumiu")
    experiments = report(data)
    assert [e["regra"] for e in experiments] == ["costas", "sumiu"]
    arms = {a["variante"]: a for a in experiments[0]["variantes"]}
    assert arms["velha"]["ativa"] is False and arms["velha"]["mensagem"] == "velha"
    assert arms["padrao"]["ativa"] is True and arms["padrao"]["recomendacoes"] == 1
    assert experiments[1]["ativa"] is False and experiments[1]["produto"] is None
    ended = report(rows("curta", 1, 0), rules())  # the rule lost its variants
    assert ended[0]["regra"] == "costas" and ended[0]["ativa"] is False
    assert ended[0]["produto"] == "Dorflex"


def test_csv_has_one_line_per_arm_and_defuses_formulas():
    data = rows("padrao", 3, 1) + rows("=HYPERLINK()", 1, 0)
    made = build_experiments(data, EXPERIMENT, QUERY, "UTC")
    assert made.csv_filename() == "experimentos-2026-05-01-2026-05-31.csv"
    lines = list(csv.DictReader(io.StringIO(made.csv_text())))
    assert [(line["variante"], line["recomendacoes"]) for line in lines] == [
        ("padrao", "4"),
        ("curta", "0"),
        ("'=HYPERLINK()", "1"),
    ]
    assert lines[0]["metodo"] == "fisher" and lines[0]["significativo"] == "nao"
    assert lines[0]["veredito"].startswith("Ainda não significativo")
    assert lines[1]["conversao"] == "" and lines[1]["ativa"] == "sim"


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({"agrupar": ["regra"]}, "desconhecido"),
        ({"de": ["2026-05-01"], "ate": ["2026-04-01"]}, "invertido"),
        ({"formato": ["pdf"]}, "'formato'"),
        ({"de": ["ontem"]}, "'de' deve ser uma data"),
        ({"ate": ["2026-05-01", "2026-05-02"]}, "repetido"),
    ],
)
def test_query_mistakes_are_400(query, fragment):
    with pytest.raises(BadRequest) as caught:
        parse_query(query, date(2026, 5, 31))
    assert fragment in caught.value.message


def test_query_defaults_to_the_last_30_days():
    parsed = parse_query({"formato": ["csv"]}, date(2026, 5, 31))
    assert (parsed.first_day, parsed.last_day, parsed.format) == (
        date(2026, 5, 2),
        date(2026, 5, 31),
        "csv",
    )
