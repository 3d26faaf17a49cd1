from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balto.counter.detect import (
    Detector,
    Opportunity,
    Rule,
    default_rules,
    find_opportunities,
    load_rules,
)
from balto.counter.detect.normalize import normalize

RULES = default_rules()


def fired(text: str) -> list[str]:
    return [o.rule_id for o in find_opportunities(RULES, text)]


CUSTOMER_SENTENCES = {
    "dor_cabeca": [
        "Moça, tô com uma dor de cabeça que não passa",
        "minha cabeça tá latejando desde cedo",
        "Tenho enxaqueca, o que você recomenda?",
        "acordei com a cabeça doendo",
    ],
    "dor_costas_muscular": [
        "Estou com dor nas costas",
        "dormi de mau jeito e travou as costas",
        "tô com o corpo todo dolorido da academia",
        "minhas costas estão me matando",
        "acordei com torcicolo",
    ],
    "torcao_contusao": [
        "torci o pé jogando bola ontem",
        "meu tornozelo tá inchado, acho que torci",
        "bati o joelho na mesa e ficou roxo",
        "levei uma pancada no braço",
    ],
    "febre": [
        "meu filho tá com febre desde ontem",
        "ela teve febre de 38,5 à noite",
        "tô com uma febrinha chata",
    ],
    "gripe_resfriado": [
        "acho que peguei uma gripe",
        "tô muito gripado, com o nariz escorrendo",
        "minha filha tá resfriada",
    ],
    "nariz_entupido": [
        "Meu nariz tá entupido, não consigo dormir",
        "acordo com o nariz trancado todo dia",
        "tô com sinusite de novo",
    ],
    "dor_garganta": [
        "tô com dor de garganta",
        "minha garganta tá inflamada e dói pra engolir",
        "fiquei rouca depois do show",
    ],
    "tosse": [
        "Tô com uma tosse seca que não para",
        "meu filho tá tossindo a noite toda",
        "não paro de tossir",
        "tem alguma coisa pra catarro?",
    ],
    "azia_ma_digestao": [
        "tô com uma queimação no estômago",
        "comi demais no almoço e tô com azia",
        "sinto o estômago pesado depois que como",
        "meu marido tem muito refluxo",
    ],
    "alergia": [
        "tô espirrando muito desde ontem",
        "minha rinite atacou",
        "ela tem alergia a poeira",
        "tô com uma coceira no braço",
        "os olhos lacrimejando o dia inteiro",
    ],
    "colica": [
        "estou com muita cólica",
        "meu bebê tá com dor de barriga",
    ],
    "enjoo": [
        "ela fica enjoada quando viaja de carro",
        "tô com vontade de vomitar",
        "acordei com o estômago embrulhado",
    ],
    "diarreia": [
        "meu filho tá com diarreia",
        "tô com o intestino solto desde ontem",
    ],
    "prisao_ventre": [
        "tô com o intestino preso",
        "faz três dias sem ir ao banheiro",
    ],
    "ressaca": [
        "tô de ressaca",
        "bebi demais ontem no aniversário",
    ],
    "alerta_dor_peito": ["tô com uma dor no peito desde ontem", "sinto um aperto no peito"],
    "alerta_falta_ar": ["tô com falta de ar", "não consigo respirar direito"],
    "alerta_sangue": ["tem sangue nas fezes", "ele tá tossindo sangue", "vomitando sangue"],
    "alerta_febre_bebe": ["meu bebê tá com febre", "recém-nascido com febre, o que eu faço?"],
    "alerta_avc": [
        "minha mãe acordou com a boca torta",
        "tô com formigamento de um lado",
        "não consigo mexer o braço",
    ],
    "alerta_gravidez": ["tô grávida, posso tomar dipirona?", "grávida pode tomar paracetamol?"],
}


@pytest.mark.parametrize(
    ("rule_id", "text"),
    [(rule_id, text) for rule_id, texts in CUSTOMER_SENTENCES.items() for text in texts],
)
def test_each_category_fires_on_natural_sentences(rule_id: str, text: str) -> None:
    assert rule_id in fired(text)


def test_every_rule_has_sentences() -> None:
    assert {r.id for r in RULES.rules} == set(CUSTOMER_SENTENCES)
    assert all(len(texts) >= 2 for texts in CUSTOMER_SENTENCES.values())


@pytest.mark.parametrize("rule", RULES.rules, ids=lambda r: r.id)
def test_every_trigger_fires_its_own_rule(rule: Rule) -> None:
    for trigger in rule.gatilhos:
        assert rule.id in fired(f"olha, hoje {trigger} desde cedo"), trigger


@pytest.mark.parametrize(
    ("text", "rule_id", "gatilho"),
    [
        ("tô com dar de cabeça", "dor_cabeca", "dar de cabeca"),
        ("dor nas costa", "dor_costas_muscular", "dor nas costa"),
        ("dor de cabesa", "dor_cabeca", "dor de cabesa"),
        ("estou com dor de garganda", "dor_garganta", "dor de garganda"),
        ("nariz entopido", "nariz_entupido", "nariz entopido"),
        ("tô com queimasão no estômago", "azia_ma_digestao", "queimasao no estomago"),
        ("dói a cabeça demais", "dor_cabeca", "doi a cabeca"),
        ("tô com a cabeça latejano", "dor_cabeca", "cabeca latejano"),
    ],
)
def test_recognition_slips_are_tolerated(text: str, rule_id: str, gatilho: str) -> None:
    found = {o.rule_id: o.gatilho for o in find_opportunities(RULES, text)}
    assert found.get(rule_id) == gatilho


NEUTRAL_SENTENCES = [
    "quanto custa por cabeça",
    "a cor da caixa",
    "vou pagar no cartão",
    "bom dia, tudo bem?",
    "meu filho fez aniversário ontem",
    "pode passar no débito",
    "tem desconto pra aposentado?",
    "quero um protetor solar fator 50",
    "onde fica o shampoo?",
    "vou levar duas caixas",
    "dá pra dividir em duas vezes?",
    "a costa do nordeste é linda",
    "ele virou de costas pra mim",
    "o calor tá demais hoje",
    "estou sem energia pra nada hoje, mas tudo bem",
    "a farmácia abre domingo?",
    "tem fralda geriátrica?",
    "quero uma escova de dente",
    "obrigado, tenha um bom dia",
    "minha mãe mandou um beijo",
    "ele é muito cabeça dura",
    "o corpo de bombeiros passou aqui",
    "roupa de grife é cara",
    "vou tomar posse do cargo amanhã",
    "ela comprou uma lebre de pelúcia",
    "eu torço pro Flamengo",
    "pode colocar na sacola",
    "tem vacina da gripe?",
    "vim tomar a vacina de febre amarela",
    "sou alérgica a dipirona, tem outro?",
    "essa novela virou febre no Brasil inteiro",
    "caiu uma pancada de chuva agora há pouco",
    "Legendas pela comunidade Amara.org",
    "",
    "...",
]


@pytest.mark.parametrize("text", NEUTRAL_SENTENCES)
def test_neutral_sentences_do_not_fire(text: str) -> None:
    assert fired(text) == []


@pytest.mark.parametrize(
    ("text", "rule_id"),
    [
        ("não tenho febre", "febre"),
        ("ele não está com febre", "febre"),
        ("sem febre desde ontem", "febre"),
        ("não tenho mais febre", "febre"),
        ("nunca tive enxaqueca", "dor_cabeca"),
        ("não estou com dor nas costas", "dor_costas_muscular"),
        ("não é gripe não", "gripe_resfriado"),
        ("tosse não, só queria um protetor", "tosse"),
        ("febre não tem", "febre"),
        ("nem febre nem tosse", "febre"),
        ("nem febre nem tosse", "tosse"),
        ("a tosse já sarou, obrigada", "tosse"),
        ("minha mãe já sarou do resfriado", "gripe_resfriado"),
        ("passou a dor de cabeça", "dor_cabeca"),
        ("a febre passou ontem à noite", "febre"),
        ("já sarei da gripe", "gripe_resfriado"),
    ],
)
def test_negated_complaints_do_not_fire(text: str, rule_id: str) -> None:
    assert rule_id not in fired(text)


@pytest.mark.parametrize(
    ("text", "rule_id"),
    [
        ("não aguento mais essa dor de cabeça", "dor_cabeca"),
        ("a tosse não passa", "tosse"),
        ("não consigo dormir de tanta dor nas costas", "dor_costas_muscular"),
        ("não para de tossir", "tosse"),
        ("não sei se é gripe", "gripe_resfriado"),
        ("Não. Tô com febre.", "febre"),
        ("não, tô com febre", "febre"),
        ("não tenho febre, mas tô com dor de cabeça", "dor_cabeca"),
        ("não tenho febre hoje, mas ontem tive febre", "febre"),
        ("tomei a vacina da gripe mas tô gripado", "gripe_resfriado"),
        ("tenho alergia a camarão", "alergia"),
        ("a tosse não sarou ainda", "tosse"),
        ("não passou a dor de cabeça", "dor_cabeca"),
        ("tô com febre desde ontem e não passou", "febre"),
        ("a dor de cabeça passou mas agora tô com tosse", "tosse"),
    ],
)
def test_confirmed_complaints_still_fire(text: str, rule_id: str) -> None:
    assert rule_id in fired(text)


def test_several_rules_in_rule_set_order() -> None:
    found = find_opportunities(
        RULES, "Tô com tosse, febre e uma dor de cabeça horrível, e o nariz entupido"
    )
    assert [o.rule_id for o in found] == ["dor_cabeca", "febre", "nariz_entupido", "tosse"]
    assert found[0] == Opportunity(
        rule_id="dor_cabeca",
        categoria="dor de cabeça",
        mensagem="Sugerir Dipirona ou Paracetamol",
        produto="Dipirona",
        gatilho="dor de cabeca",
    )


def test_gatilho_is_only_the_normalised_span() -> None:
    text = "Bom dia! Meu nome é Maria, CPF 123, estou com uma dor MUITO forte nas costas."
    [found] = find_opportunities(RULES, text)
    assert found.rule_id == "dor_costas_muscular"
    assert found.mensagem == "Sugerir Dorflex"
    assert found.gatilho == "dor muito forte nas costas"


def test_one_opportunity_per_rule_leftmost_occurrence() -> None:
    found = find_opportunities(RULES, "dor de cabeça, muita dor de cabeça, enxaqueca")
    assert [(o.rule_id, o.gatilho) for o in found] == [("dor_cabeca", "dor de cabeca")]


def test_cooldown_suppresses_interim_and_final_repeats() -> None:
    detector = Detector(RULES, cooldown_s=60.0)
    assert [o.rule_id for o in detector.detect("tô com dor", 10.0)] == []
    assert [o.rule_id for o in detector.detect("tô com dor nas costas", 10.5)] == [
        "dor_costas_muscular"
    ]
    assert detector.detect("tô com dor nas costas.", 11.0) == []
    # another rule is not affected
    assert [o.rule_id for o in detector.detect("e febre, e dor nas costas", 20.0)] == ["febre"]
    assert detector.detect("dor nas costas", 69.9) == []
    assert [o.rule_id for o in detector.detect("dor nas costas", 70.5)] == ["dor_costas_muscular"]
    # the cooldown restarts from the last time the rule fired, not from when it matched
    assert detector.detect("dor nas costas", 130.0) == []
    assert detector.detect("dor nas costas", 130.5)[0].rule_id == "dor_costas_muscular"


def test_cooldown_boundary_and_reset() -> None:
    detector = Detector(RULES, cooldown_s=5.0)
    assert detector.detect("febre", 0.0)
    assert not detector.detect("febre", 4.999)
    assert detector.detect("febre", 5.0)
    detector.reset()
    assert detector.detect("febre", 5.1)


def test_new_rules_mid_session_keep_the_cooldown_of_the_rules_still_there() -> None:
    detector = Detector(RULES, cooldown_s=60.0)
    fired_now = {o.rule_id for o in detector.detect("febre e dor nas costas", 0.0)}
    assert fired_now == {"febre", "dor_costas_muscular"}
    edited = next(r for r in RULES.rules if r.id == "febre").to_data()
    edited["mensagem"] = "Sugerir Dipirona"
    sun = {"id": "sol", "categoria": "pele", "gatilhos": ["queimadura de sol"]}
    sun |= {"mensagem": "Sugerir protetor", "produto": "Protetor", "mip": True}
    detector.use_rules(load_rules({"versao": 2, "regras": [edited, sun]}))
    assert detector.detect("febre", 1.0) == []  # edited, still in cooldown: no repeat
    found = detector.detect("queimadura de sol e dor nas costas", 2.0)
    assert [(o.rule_id, o.mensagem) for o in found] == [("sol", "Sugerir protetor")]
    assert [o.mensagem for o in detector.detect("febre", 60.0)] == ["Sugerir Dipirona"]
    detector.use_rules(RULES)  # dor_costas_muscular came back: its old cooldown is forgotten
    assert [o.rule_id for o in detector.detect("dor nas costas", 61.0)] == ["dor_costas_muscular"]


def test_zero_cooldown_fires_every_time() -> None:
    detector = Detector(RULES, cooldown_s=0.0)
    assert detector.detect("febre", 1.0)
    assert detector.detect("febre", 1.0)


def test_detectors_do_not_share_cooldowns() -> None:
    first, second = Detector(RULES), Detector(RULES)
    assert first.detect("febre", 0.0)
    assert second.detect("febre", 0.0)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_rejects_bad_cooldown(bad: float) -> None:
    with pytest.raises(ValueError):
        Detector(RULES, cooldown_s=bad)


def test_rejects_non_finite_time() -> None:
    with pytest.raises(ValueError):
        Detector(RULES).detect("febre", float("nan"))


def test_per_client_rules() -> None:
    rules = load_rules(
        {
            "versao": 1,
            "regras": [
                {
                    "id": "protetor",
                    "categoria": "sol",
                    "gatilhos": ["vou pra praia", "queimadura de sol"],
                    "mensagem": "Sugerir protetor solar",
                    "produto": "Protetor FPS 50",
                }
            ],
        }
    )
    found = Detector(rules).detect("amanhã vou pra praia com as crianças", 0.0)
    assert [(o.rule_id, o.gatilho) for o in found] == [("protetor", "vou pra praia")]


WORDS = st.sampled_from(
    ["dor", "de", "cabeça", "nas", "costas", "febre", "não", "tenho", "muito", "bom", "dia",
     "tosse", "a", ",", ".", "gripe", "vacina", "da", "cartão", "sem", "tô", "com"]
)  # fmt: skip


@given(st.lists(WORDS, max_size=25).map(" ".join))
def test_detection_is_deterministic_and_spans_come_from_the_text(text: str) -> None:
    first = find_opportunities(RULES, text)
    assert first == find_opportunities(RULES, text)
    ids = [o.rule_id for o in first]
    assert len(ids) == len(set(ids))
    order = [r.id for r in RULES.rules]
    assert ids == sorted(ids, key=order.index)
    for o in first:
        assert o.gatilho and o.gatilho in normalize(text)


@given(st.lists(st.tuples(WORDS, st.floats(0, 5)), max_size=30))
def test_a_rule_never_fires_twice_within_the_cooldown(steps: list[tuple[str, float]]) -> None:
    detector = Detector(RULES, cooldown_s=10.0)
    now = 0.0
    last: dict[str, float] = {}
    for word, delta in steps:
        now += delta
        for o in detector.detect(word, now):
            assert o.rule_id not in last or now - last[o.rule_id] >= 10.0
            last[o.rule_id] = now
