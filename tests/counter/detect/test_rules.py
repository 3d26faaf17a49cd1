from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balto.core.errors import BadRequest
from balto.counter.detect import InvalidRules, Rule, RuleSet, default_rules, load_rules
from balto.counter.detect.normalize import normalize

REQUIRED_CATEGORIES = {
    "dor_cabeca", "dor_costas_muscular", "torcao_contusao", "febre", "gripe_resfriado",
    "nariz_entupido", "dor_garganta", "tosse", "azia_ma_digestao", "alergia",
}  # fmt: skip


def rule(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "febre",
        "categoria": "febre",
        "gatilhos": ["febre", "febrinha"],
        "mensagem": "Sugerir Paracetamol",
        "produto": "Paracetamol",
    }
    base.update(changes)
    return base


def ruleset(*rules: Any) -> dict[str, Any]:
    return {"versao": 1, "regras": list(rules) or [rule()]}


def invalid(data: Any) -> str:
    with pytest.raises(InvalidRules) as caught:
        load_rules(data)
    assert isinstance(caught.value, BadRequest)
    assert caught.value.status == 400
    return caught.value.message


def test_default_rules_cover_the_required_categories() -> None:
    rules = default_rules()
    assert {r.id for r in rules.rules} >= REQUIRED_CATEGORIES
    assert all(len(r.gatilhos) >= 3 for r in rules.rules)
    assert default_rules() is rules  # loaded once, shared


def test_load_accepts_str_bytes_and_mapping() -> None:
    data = ruleset()
    from_mapping = load_rules(data)
    assert load_rules(json.dumps(data)) == from_mapping
    assert load_rules(json.dumps(data).encode()) == from_mapping
    assert from_mapping.rules[0] == Rule(
        "febre", "febre", ("febre", "febrinha"), "Sugerir Paracetamol", "Paracetamol", (), mip=True
    )


def test_json_round_trip() -> None:
    rules = default_rules()
    text = rules.to_json()
    again = load_rules(text)
    assert again == rules
    assert again.to_json() == text
    assert "cabeça" in text  # written as UTF-8, not \\u escapes


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ("{", "JSON de regras inválido"),
        (b"\xff\xfe", "UTF-8"),
        ("[]", "objeto JSON"),
        ({"regras": [rule()]}, "falta o campo 'versao'"),
        ({"versao": 3, "regras": [rule()]}, "versao 3 não suportada (use 2)"),
        ({"versao": True, "regras": [rule()]}, "versao True"),
        ({"versao": 1, "regras": [rule()], "extra": 1}, "campo desconhecido 'extra'"),
        ({"versao": 1, "regras": {}}, "'regras' deve ser uma lista"),
        ({"versao": 1, "regras": []}, "vazio"),
        (ruleset("febre"), "regras[0]: cada regra deve ser um objeto"),
        (ruleset(rule(gatilho=["febre"])), "campo desconhecido 'gatilho'"),
        (ruleset({"id": "febre"}), "falta o campo 'categoria', 'gatilhos', 'mensagem', 'produto'"),
        (ruleset(rule(gatilhos=[])), "a lista de gatilhos está vazia"),
        (ruleset(rule(gatilhos=["febre", ""])), "gatilhos[1] está vazio"),
        (ruleset(rule(gatilhos=["  "])), "gatilhos[0] está vazio"),
        (ruleset(rule(gatilhos=["de uma"])), "só tem palavras ignoradas"),
        (ruleset(rule(gatilhos="febre")), "gatilhos deve ser uma lista"),
        (ruleset(rule(gatilhos=["febre", 3])), "gatilhos[1] deve ser um texto"),
        (ruleset(rule(gatilhos=["dor de cabeça", "Dor na cabeca"])), "equivale a 'dor de cabeça'"),
        (ruleset(rule(exclusoes=["febre"])), "anula o gatilho"),
        (ruleset(rule(exclusoes=[""])), "exclusoes[0] está vazio"),
        (ruleset(rule(mensagem="")), "mensagem está vazio"),
        (ruleset(rule(produto=None)), "produto deve ser um texto"),
        (ruleset(rule(id="Febre Alta")), "id 'Febre Alta' inválido"),
        (ruleset(rule(), rule(gatilhos=["calafrio"])), "id 'febre' repetido"),
        (
            ruleset(rule(gatilhos=["dois tres quatro cinco seis sete oito nove dez"])),
            "mais de 8 palavras",
        ),
        ('{"versao": 1, "versao": 1, "regras": []}', "campo 'versao' repetido"),
    ],
)
def test_validation_errors_name_the_problem(data: Any, fragment: str) -> None:
    assert fragment in invalid(data)


def test_errors_name_the_rule() -> None:
    message = invalid(ruleset(rule(), rule(id="tosse", gatilhos=[])))
    assert "'tosse'" in message
    assert "regras[1]" in message


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(InvalidRules):
        RuleSet((Rule("x", "x", (), "m", "p"),))


def test_vocabulary_prompt_default() -> None:
    prompt = default_rules().vocabulary_prompt()
    assert prompt.startswith("Farmácia: dor de cabeça, dor nas costas")
    assert prompt.endswith(".")
    assert 0 < len(prompt) <= 200
    for term in ("febre", "gripe", "tosse", "azia", "alergia", "nariz entupido"):
        assert term in prompt
    assert "não" not in prompt


@given(st.integers(0, 600))
def test_vocabulary_prompt_is_bounded(max_chars: int) -> None:
    prompt = default_rules().vocabulary_prompt(max_chars)
    assert len(prompt) <= max_chars
    if max_chars >= len("Farmácia: dor de cabeça."):
        assert prompt
    terms = prompt.removeprefix("Farmácia: ").removesuffix(".").split(", ") if prompt else []
    assert len({normalize(t) for t in terms}) == len(terms)


@given(
    st.lists(
        st.text("abcdefghij çãé", min_size=1, max_size=20).filter(lambda t: normalize(t)),
        min_size=1,
        max_size=5,
        unique_by=lambda t: normalize(t),
    )
)
def test_round_trip_of_generated_rules(triggers: list[str]) -> None:
    data = ruleset(rule(gatilhos=triggers))
    try:
        rules = load_rules(data)
    except InvalidRules:
        return  # e.g. stopword-only or equivalent triggers
    assert load_rules(rules.to_json()) == rules
