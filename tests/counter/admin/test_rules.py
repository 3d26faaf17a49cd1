"""The rules API's sans-IO parts: If-Match, version numbers, the dry-run body, the answers."""

import json

import pytest

from balto.core.errors import BadRequest, NotFound
from balto.counter.admin.rules import (
    MAX_DRY_RUN_CHARS,
    current_wire,
    dry_run_wire,
    etag,
    expected_revision,
    parse_dry_run,
    summary_wire,
    version_number,
)
from balto.counter.detect import InvalidRules, default_rules, find_opportunities, load_rules
from balto.counter.store import RulesVersion, RulesVersionSummary

SUN = {"id": "sol", "categoria": "pele", "gatilhos": ["queimadura de sol"]}
SUN |= {"mensagem": "Sugerir protetor", "produto": "Protetor"}
SUN_SET = {"versao": 1, "regras": [SUN]}


def test_if_match_names_a_version_or_nothing():
    assert expected_revision(None) is None
    assert expected_revision("*") is None
    assert expected_revision(etag(3)) == 3 == expected_revision(' "3" ')
    for bad in ["3", 'W/"3"', '"abc"', '"1", "2"', '""']:
        with pytest.raises(BadRequest, match="If-Match"):
            expected_revision(bad)


def test_version_numbers_from_the_path():
    assert version_number("12") == 12
    for bad in ["", "-1", "1.0", "abc", "1" * 19]:
        with pytest.raises(NotFound):
            version_number(bad)


def test_dry_run_body():
    plain = parse_dry_run({"texto": "queimadura de sol"})
    assert plain.texto == "queimadura de sol" and plain.regras is None
    assert parse_dry_run({"texto": "x", "regras": None}).regras is None
    given = parse_dry_run({"texto": "x", "regras": SUN_SET})
    assert given.regras == load_rules(SUN_SET)
    for body, fragment in [
        ({}, "'texto' obrigatório"),
        ({"texto": "   "}, "'texto' obrigatório"),
        ({"texto": 3}, "'texto' obrigatório"),
        ({"texto": "x" * (MAX_DRY_RUN_CHARS + 1)}, "passa de"),
        ({"texto": "x", "regras": []}, "'regras' deve ser"),
        ({"texto": "x", "frase": "y"}, r"desconhecido\(s\): frase"),
    ]:
        with pytest.raises(BadRequest, match=fragment):
            parse_dry_run(body)
    # a rule set sent with the dry run is checked exactly as PUT and the CLI check one
    with pytest.raises(InvalidRules, match="versao 3 não suportada"):
        parse_dry_run({"texto": "x", "regras": {"versao": 3, "regras": [SUN]}})
    with pytest.raises(InvalidRules, match="campo desconhecido 'preco'"):
        parse_dry_run({"texto": "x", "regras": {"versao": 1, "regras": [SUN | {"preco": 1}]}})


def test_a_chain_that_never_changed_reads_the_default():
    wire = current_wire(RulesVersion(0, None, None, None))
    assert wire == {
        "revisao": 0,
        "padrao": True,
        "criado_em": None,
        "autor": None,
        "conjunto": default_rules().to_data(),
    }
    assert load_rules(wire["conjunto"]) == default_rules()  # the CLI's format, round trip


def test_a_version_of_its_own():
    text = load_rules(SUN_SET).to_json()
    wire = current_wire(RulesVersion(4, text, "2024-05-02T13:10:00.000+00:00", "chave_admin"))
    assert wire["revisao"] == 4 and wire["padrao"] is False and wire["autor"] == "chave_admin"
    assert wire["conjunto"] == json.loads(text)
    assert summary_wire(RulesVersionSummary(4, "t", "cli", None)) == {
        "revisao": 4,
        "padrao": True,
        "criado_em": "t",
        "autor": "cli",
        "quantidade_regras": None,
    }


def test_dry_run_answer():
    found = find_opportunities(load_rules(SUN_SET), "tive uma queimadura de sol feia")
    assert dry_run_wire(None, found) == {
        "revisao": None,
        "recomendacoes": [
            {
                "regra": "sol",
                "tipo": "sugerir",
                "categoria": "pele",
                "mensagem": "Sugerir protetor",
                "produto": "Protetor",
                "gatilho": "queimadura de sol",
            }
        ],
    }
    assert dry_run_wire(2, []) == {"revisao": 2, "recomendacoes": []}
