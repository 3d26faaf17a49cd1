"""The pharmacy safety policy: referrals to the pharmacist, MIP-only suggestions, and
referrals winning over the suggestions of the same utterance."""

from __future__ import annotations

from typing import Any

import pytest

from balto.counter.detect import (
    Detector,
    InvalidRules,
    Rule,
    RuleSet,
    default_rules,
    find_opportunities,
    load_rules,
)

RULES = default_rules()
REFERRALS = [r for r in RULES.rules if r.is_referral]


def suggestion(**over: Any) -> dict[str, Any]:
    base = {
        "id": "febre",
        "categoria": "febre",
        "gatilhos": ["febre"],
        "mensagem": "Sugerir Paracetamol",
        "produto": "Paracetamol",
        "mip": True,
    }
    return base | over


def referral(**over: Any) -> dict[str, Any]:
    base = {
        "id": "alerta_peito",
        "tipo": "encaminhar",
        "categoria": "alerta",
        "gatilhos": ["dor no peito"],
        "mensagem": "Encaminhar ao farmacêutico: dor no peito",
    }
    return base | over


def load(*rules: dict[str, Any], versao: int = 2) -> RuleSet:
    return load_rules({"versao": versao, "regras": list(rules)})


def test_format_2_reads_both_kinds() -> None:
    rules = load(suggestion(), referral(), referral(id="alerta_2", produto=""))
    assert [(r.tipo, r.mip, r.produto) for r in rules.rules] == [
        ("sugerir", True, "Paracetamol"),
        ("encaminhar", False, ""),
        ("encaminhar", False, ""),
    ]
    assert load_rules(rules.to_json()) == rules
    assert "produto" not in rules.to_data()["regras"][1]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            referral(produto="Dorflex"),
            "regra 'alerta_peito' (regras[0]): encaminhamento ao farmacêutico não pode "
            "sugerir produto ('Dorflex')",
        ),
        (
            referral(mip=True),
            "regra 'alerta_peito' (regras[0]): é encaminhamento ao farmacêutico e sugestão "
            "de MIP ao mesmo tempo",
        ),
        (
            referral(produto="Dorflex", mip=True),
            "é encaminhamento ao farmacêutico e sugestão de MIP ao mesmo tempo",
        ),
        (
            suggestion(mip=False),
            "regra 'febre' (regras[0]): sugestão de produto sem a marca de MIP",
        ),
        (suggestion(id="x", mip=None) | {}, "regra 'x' (regras[0]): mip deve ser true ou false"),
        ({k: v for k, v in suggestion().items() if k != "mip"}, "sem a marca de MIP"),
        (suggestion(produto=""), "regra 'febre' (regras[0]): produto está vazio"),
        (suggestion(tipo="vender"), "tipo 'vender' inválido (use 'sugerir' ou 'encaminhar')"),
        (suggestion(tipo=1), "tipo deve ser um texto"),
    ],
)
def test_loader_refuses_unsafe_rules(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidRules) as caught:
        load(rule)
    assert message in str(caught.value)


def test_rules_built_in_code_follow_the_policy_too() -> None:
    with pytest.raises(InvalidRules, match="sem a marca de MIP"):
        RuleSet((Rule("x", "x", ("febre",), "m", "p"),))
    with pytest.raises(InvalidRules, match="não pode sugerir produto"):
        RuleSet((Rule("x", "x", ("febre",), "m", "p", tipo="encaminhar"),))


def test_legacy_format_1_is_read_as_suggestions() -> None:
    legacy = {k: v for k, v in suggestion().items() if k != "mip"}
    rules = load(legacy, versao=1)
    assert (rules.rules[0].tipo, rules.rules[0].mip) == ("sugerir", True)
    for field in ("tipo", "mip"):
        with pytest.raises(InvalidRules, match=f"campo desconhecido '{field}'"):
            load(legacy | {field: "sugerir" if field == "tipo" else True}, versao=1)
    assert rules.to_data()["versao"] == 2


def test_default_referrals_carry_no_product() -> None:
    assert {r.id for r in REFERRALS} == {
        "alerta_dor_peito",
        "alerta_falta_ar",
        "alerta_sangue",
        "alerta_febre_bebe",
        "alerta_avc",
        "alerta_gravidez",
    }
    for rule in REFERRALS:
        assert rule.produto == "" and not rule.mip
        assert rule.mensagem.startswith("Encaminhar ao farmacêutico: ")
    assert all(r.mip and r.produto for r in RULES.rules if not r.is_referral)


@pytest.mark.parametrize(
    ("text", "rule_id"),
    [
        ("meu bebê tá com febre", "alerta_febre_bebe"),
        ("bebê com febre, quero um remédio pra febre", "alerta_febre_bebe"),
        ("tô com falta de ar e dor de cabeça", "alerta_falta_ar"),
        ("tô grávida, posso tomar dipirona pra dor de cabeça?", "alerta_gravidez"),
        ("tô com dor nas costas e um aperto no peito", "alerta_dor_peito"),
        ("tossindo sangue, preciso de um xarope pra tosse", "alerta_sangue"),
    ],
)
def test_a_referral_silences_the_suggestions_of_the_utterance(text: str, rule_id: str) -> None:
    found = find_opportunities(RULES, text)
    assert [(o.rule_id, o.tipo, o.produto) for o in found] == [(rule_id, "encaminhar", "")]


def test_suggestions_alone_still_fire() -> None:
    found = find_opportunities(RULES, "tô com febre e dor de cabeça")
    assert [(o.rule_id, o.tipo) for o in found] == [("dor_cabeca", "sugerir"), ("febre", "sugerir")]


@pytest.mark.parametrize(
    "text",
    [
        "não tenho falta de ar",
        "sem falta de ar nenhuma",
        "não tenho dor no peito",
        "nunca tive sangue nas fezes",
        "não tô grávida, posso tomar?",
    ],
)
def test_negated_red_flags_do_not_fire(text: str) -> None:
    assert [o for o in find_opportunities(RULES, text) if o.is_referral] == []


def test_negated_red_flag_leaves_the_suggestion() -> None:
    found = find_opportunities(RULES, "tô com tosse mas não tenho falta de ar")
    assert [(o.rule_id, o.tipo) for o in found] == [("tosse", "sugerir")]


def test_a_quiet_referral_still_silences_suggestions() -> None:
    detector = Detector(RULES, cooldown_s=60.0)
    first = detector.detect("meu bebê tá com febre", now_s=0.0)
    assert [o.rule_id for o in first] == ["alerta_febre_bebe"]
    # The final decode of the same utterance: the referral is in its cooldown, and the
    # antipyretic must still not be suggested.
    assert detector.detect("meu bebê tá com febre, dou paracetamol?", now_s=1.0) == []
    assert [o.rule_id for o in detector.detect("tô com febre", now_s=2.0)] == ["febre"]
