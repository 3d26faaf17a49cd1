"""Wording experiments in the rules: the ``variantes`` format, its validation, and the draw."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balto.counter.config import CounterConfig
from balto.counter.detect import Detector, InvalidRules, Variant, load_rules
from balto.counter.detect.rules import BASE_VARIANT, MAX_VARIANTS
from balto.counter.pipeline import counter_pipeline

VARIANTS = [
    {"id": "curta", "mensagem": "Ofereça Dorflex"},
    {"id": "dor", "mensagem": "Ofereça Dorflex para a dor nas costas"},
]


def rule(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "costas",
        "tipo": "sugerir",
        "categoria": "dor nas costas",
        "gatilhos": ["dor nas costas"],
        "mensagem": "Sugerir Dorflex",
        "produto": "Dorflex",
        "mip": True,
        "variantes": VARIANTS,
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


def rules(*items: dict[str, Any]) -> dict[str, Any]:
    return {"versao": 2, "regras": list(items) or [rule()]}


def invalid(data: Any) -> str:
    with pytest.raises(InvalidRules) as caught:
        load_rules(data)
    return caught.value.message


def test_variants_load_and_round_trip() -> None:
    loaded = load_rules(rules())
    costas = loaded.rule("costas")
    assert costas.variantes == (
        Variant("curta", "Ofereça Dorflex"),
        Variant("dor", "Ofereça Dorflex para a dor nas costas"),
    )
    assert [arm.id for arm in costas.arms] == [BASE_VARIANT, "curta", "dor"]
    assert costas.arms[0].mensagem == "Sugerir Dorflex"
    assert costas.to_data()["variantes"] == VARIANTS
    assert load_rules(loaded.to_json()) == loaded


def test_a_rule_without_variants_writes_none() -> None:
    loaded = load_rules(rules(rule(variantes=None)))
    assert "variantes" not in loaded.rule("costas").to_data()
    assert [arm.id for arm in loaded.rule("costas").arms] == [BASE_VARIANT]


def alert(**changes: Any) -> dict[str, Any]:
    base = {
        "id": "alerta",
        "tipo": "encaminhar",
        "categoria": "alerta",
        "gatilhos": ["dor no peito"],
        "mensagem": "Encaminhar ao farmacêutico",
    }
    return base | changes


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (rules(rule(variantes=[])), "variantes está vazia"),
        (rules(rule(variantes="Ofereça")), "deve ser uma lista"),
        (rules(rule(variantes=["Ofereça Dorflex"])), "variantes[0] deve ser um objeto"),
        (rules(rule(variantes=[{"id": "a"}])), "falta o campo 'mensagem'"),
        (rules(rule(variantes=[{"id": "a", "mensagem": "x", "produto": "y"}])), "'produto'"),
        (rules(rule(variantes=[{"id": 1, "mensagem": "x"}])), "id deve ser um texto"),
        (rules(rule(variantes=[{"id": "A b", "mensagem": "x"}])), "id 'A b' inválido"),
        (rules(rule(variantes=[{"id": "padrao", "mensagem": "x"}])), "da própria mensagem"),
        (rules(rule(variantes=[{"id": "a", "mensagem": " "}])), "mensagem está vazia"),
        (rules(rule(variantes=[{"id": "a", "mensagem": "x" * 201}])), "passa de 200"),
        (
            rules(rule(variantes=[{"id": "a", "mensagem": "sugerir  DORFLEX"}])),
            "repete a de mensagem",
        ),
        (
            rules(rule(variantes=[{"id": "a", "mensagem": "x"}, {"id": "a", "mensagem": "y"}])),
            "id 'a' repetido",
        ),
        (
            rules(rule(variantes=[{"id": "a", "mensagem": "x"}, {"id": "b", "mensagem": "X"}])),
            "repete a de variantes[0]",
        ),
        (
            rules(
                rule(
                    variantes=[
                        {"id": f"v{n}", "mensagem": f"texto {n}"} for n in range(MAX_VARIANTS + 1)
                    ]
                )
            ),
            f"mais de {MAX_VARIANTS} variantes",
        ),
        (rules(rule(), alert(variantes=VARIANTS)), "não tem variantes"),
        ({"versao": 1, "regras": [rule(tipo=None, mip=None)]}, "campo desconhecido 'variantes'"),
    ],
)
def test_invalid_variants_are_refused_with_the_reason(data: Any, fragment: str) -> None:
    message = invalid(data)
    assert fragment in message, message
    assert "regra" in message


def test_the_draw_is_uniform_and_recorded() -> None:
    detector = Detector(load_rules(rules()), cooldown_s=0.0, rng=random.Random(13))
    seen: Counter[tuple[str | None, str]] = Counter()
    for n in range(3000):
        [found] = detector.detect("estou com dor nas costas", now_s=float(n))
        seen[(found.variante, found.mensagem)] += 1
    arms = {("padrao", "Sugerir Dorflex"), ("curta", "Ofereça Dorflex")}
    arms.add(("dor", "Ofereça Dorflex para a dor nas costas"))
    assert set(seen) == arms  # each id always with its own text
    # 1000 expected per arm; 3.5 standard deviations (sqrt(3000 * 1/3 * 2/3) = 25.8) apart
    assert all(910 < count < 1090 for count in seen.values()), seen


def test_the_same_seed_draws_the_same_sequence() -> None:
    def sequence(seed: int) -> list[str | None]:
        detector = Detector(load_rules(rules()), cooldown_s=0.0, rng=random.Random(seed))
        return [detector.detect("dor nas costas", float(n))[0].variante for n in range(20)]

    assert sequence(7) == sequence(7)
    assert len(set(sequence(7))) == 3


def test_no_draw_during_the_cooldown_nor_without_variants() -> None:
    rng = random.Random(1)
    detector = Detector(load_rules(rules(rule(variantes=None))), cooldown_s=60.0, rng=rng)
    state = rng.getstate()
    [found] = detector.detect("dor nas costas", 0.0)
    assert (found.mensagem, found.variante) == ("Sugerir Dorflex", None)
    assert rng.getstate() == state  # nothing drawn for a rule without variants
    with_variants = Detector(load_rules(rules()), cooldown_s=60.0, rng=rng)
    assert with_variants.detect("dor nas costas", 0.0)[0].variante is not None
    state = rng.getstate()
    assert with_variants.detect("dor nas costas", 1.0) == []
    assert rng.getstate() == state


@given(st.randoms(use_true_random=False))
def test_every_draw_is_one_of_the_rules_arms(rng: random.Random) -> None:
    loaded = load_rules(rules())
    arms = {(arm.id, arm.mensagem) for arm in loaded.rule("costas").arms}
    [found] = Detector(loaded, rng=rng).detect("dor nas costas", 0.0)
    assert (found.variante, found.mensagem) in arms
    assert found.produto == "Dorflex"


variant_texts = st.lists(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=60)
    .map(str.strip)
    .filter(bool),
    min_size=1,
    max_size=MAX_VARIANTS,
    unique_by=lambda text: " ".join(text.split()).casefold(),
)


@given(variant_texts)
def test_generated_variants_round_trip_or_are_refused_by_name(texts: list[str]) -> None:
    data = rules(rule(variantes=[{"id": f"v{n}", "mensagem": t} for n, t in enumerate(texts)]))
    try:
        loaded = load_rules(data)
    except InvalidRules as refused:  # only a text equal to the rule's own message
        assert "repete a de mensagem" in refused.message
        return
    assert [v.mensagem for v in loaded.rule("costas").variantes] == texts
    assert load_rules(loaded.to_json()) == loaded


def test_the_pipeline_hands_its_rng_to_the_detector() -> None:
    rng = random.Random(3)
    pipeline = counter_pipeline(CounterConfig(), load_rules(rules()), "pt", rng=rng)
    assert pipeline.detector.rng is rng
