"""A chain's rules and their history: the API's and the CLI's writes land in the same store,
every replacement is a numbered version, and another chain never sees them."""

import pytest

from balto.core.errors import BadRequest, PreconditionFailed
from balto.counter.cadastro.validate import parse_balcao, parse_cliente
from balto.counter.store import Database
from tests.counter.store.conftest import old_database

RULES = '{"versao": 1, "regras": [{"id": "sol", "categoria": "pele", "gatilhos": ["sol"],'
RULES += ' "mensagem": "Sugerir protetor", "produto": "Protetor", "exclusoes": []}]}'


def chain(db, email="a@b.com"):
    keys = db.create_cliente(
        parse_cliente({"email": email, "razao_social": "Rede", "telefone": "11999998888"})
    )
    return keys.codigo, db.cliente_for_chave_admin(keys.chave_admin).id


def counter_of(db, codigo):
    key = db.create_balcao(parse_balcao({"nome_balcao": "Loja", "user_codigo": codigo}))
    return key


def test_a_new_chain_has_the_default_and_no_history(db):
    _, cliente_id = chain(db)
    current = db.current_rules(cliente_id)
    assert (current.numero, current.regras, current.criado_em, current.autor) == (
        0,
        None,
        None,
        None,
    )
    assert db.rules_versions(cliente_id) == []


def test_api_and_cli_write_numbered_versions_of_the_same_rules(db):
    codigo, cliente_id = chain(db)
    key = counter_of(db, codigo)
    first = db.replace_rules(cliente_id, RULES, "chave_admin")
    assert (first.numero, first.autor, first.regras) == (1, "chave_admin", RULES)
    assert db.authenticate(key).regras == RULES
    assert db.authenticate(key).regras_revisao == 1
    second = db.set_rules(codigo, None)  # balto regras definir CODIGO: back to the default
    assert (second.numero, second.autor, second.regras) == (2, "cli", None)
    assert db.authenticate(key).regras is None
    assert db.authenticate(key).regras_revisao == 2
    third = db.set_rules(codigo, RULES)
    current = db.current_rules(cliente_id)
    assert current == third and current.numero == 3 and current.criado_em >= first.criado_em
    summaries = db.rules_versions(cliente_id)
    assert [(v.numero, v.autor, v.quantidade_regras) for v in summaries] == [
        (3, "cli", 1),
        (2, "cli", None),
        (1, "chave_admin", 1),
    ]
    assert db.rules_version(cliente_id, 1) == first
    assert db.rules_version(cliente_id, 2).regras is None
    assert db.rules_version(cliente_id, 4) is None


def test_another_chain_sees_nothing_and_keeps_its_own_numbering(db):
    _, a = chain(db, "a@x.com")
    codigo_b, b = chain(db, "b@x.com")
    db.replace_rules(a, RULES, "chave_admin")
    db.replace_rules(a, RULES, "chave_admin")
    assert db.current_rules(b).numero == 0 and db.current_rules(b).regras is None
    assert db.rules_versions(b) == [] and db.rules_version(b, 1) is None
    assert db.authenticate(counter_of(db, codigo_b)).regras_revisao == 0
    assert db.replace_rules(b, RULES, "chave_admin").numero == 1
    assert db.current_rules(a).numero == 2


def test_cli_with_an_unknown_codigo_changes_nothing(db):
    _, cliente_id = chain(db)
    with pytest.raises(BadRequest):
        db.set_rules("999999", RULES)
    assert db.rules_versions(cliente_id) == []


def test_rules_set_before_the_history_become_version_1(target):
    def fill(conn):
        for codigo, email, regras in [("123456", "a@x.com", RULES), ("654321", "b@x.com", None)]:
            conn.execute(
                "INSERT INTO clientes (codigo, email, razao_social, telefone, regras, criado_em)"
                " VALUES (?, ?, 'Velha', '11999998888', ?, '2024-01-01T00:00:00.000+00:00')",
                [codigo, email, regras],
            )

    old_database(target, 2, fill)
    db = Database(target)
    try:
        assert db.schema_version == 6
        with_rules, without = (
            db.query("SELECT id FROM clientes WHERE codigo = ?", [c])[0][0]
            for c in ("123456", "654321")
        )
        kept = db.current_rules(with_rules)
        assert (kept.numero, kept.regras, kept.autor) == (1, RULES, "migracao")
        assert db.current_rules(without).numero == 0
        assert db.set_rules("123456", None).numero == 2
    finally:
        db.close()


def test_a_replacement_that_names_an_old_version_changes_nothing(db):
    _, cliente_id = chain(db)
    assert db.replace_rules(cliente_id, RULES, "chave_admin", expected=0).numero == 1
    with pytest.raises(PreconditionFailed, match="a versão atual é 1, não 0"):
        db.replace_rules(cliente_id, None, "chave_admin", expected=0)
    assert db.current_rules(cliente_id).numero == 1
    assert db.current_rules(cliente_id).regras == RULES
    assert db.replace_rules(cliente_id, None, "chave_admin", expected=1).numero == 2
