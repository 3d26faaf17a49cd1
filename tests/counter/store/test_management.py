"""The management queries: the chain's key, its counters, revocation, last seen, report rows;
and the migration of a database made before them."""

import pytest

from balto.core.errors import BadRequest
from balto.counter.cadastro.secrets import hash_chave_admin
from balto.counter.cadastro.validate import parse_balcao, parse_cliente
from balto.counter.store import Database
from tests.counter.store.conftest import old_database


def chain(db, email="a@b.com"):
    return db.create_cliente(
        parse_cliente({"email": email, "razao_social": "Rede", "telefone": "11999998888"})
    )


def counter(db, codigo, nome="Loja 1"):
    key = db.create_balcao(parse_balcao({"nome_balcao": nome, "user_codigo": codigo}))
    return key, db.authenticate(key)


def test_chave_admin_is_strong_shown_once_and_stored_hashed(db):
    keys = chain(db)
    assert len(keys.chave_admin) == 43  # 256 bits, URL-safe base64
    stored = db.query("SELECT chave_admin_hash FROM clientes")[0][0]
    assert keys.chave_admin not in stored and stored == hash_chave_admin(keys.chave_admin)
    found = db.cliente_for_chave_admin(keys.chave_admin)
    assert found is not None and found.codigo == keys.codigo and found.razao_social == "Rede"
    forged = ("A" if keys.chave_admin[0] != "A" else "B") + keys.chave_admin[1:]
    assert db.cliente_for_chave_admin(forged) is None
    assert chain(db, "c@d.com").chave_admin != keys.chave_admin


def test_revocation_is_scoped_to_the_chain_and_idempotent(db):
    mine, other = chain(db), chain(db, "c@d.com")
    key, balcao = counter(db, mine.codigo)
    me = db.cliente_for_chave_admin(mine.chave_admin)
    them = db.cliente_for_chave_admin(other.chave_admin)
    assert db.revoke_balcao(them.id, balcao.id) is None  # not theirs: as if it did not exist
    assert db.authenticate(key) is not None
    assert db.revoke_balcao(me.id, 999) is None
    first = db.revoke_balcao(me.id, balcao.id)
    assert first is not None and first.revogado_em and first.nome_balcao == "Loja 1"
    assert db.authenticate(key) is None
    again = db.revoke_balcao(me.id, balcao.id)
    assert again is not None and again.revogado_em == first.revogado_em
    assert [b.id for b in db.balcoes_of(me.id)] == [balcao.id]  # kept, with its history
    assert db.balcoes_of(them.id) == []


def test_touch_records_last_seen(db):
    keys = chain(db)
    _, balcao = counter(db, keys.codigo)
    me = db.cliente_for_chave_admin(keys.chave_admin)
    assert db.balcoes_of(me.id)[0].visto_em is None
    db.touch_balcao(balcao.id)
    seen = db.balcoes_of(me.id)[0].visto_em
    assert seen and seen >= db.balcoes_of(me.id)[0].criado_em


def test_report_rows_are_the_chains_within_the_interval(db):
    mine, other = chain(db), chain(db, "c@d.com")
    _, a = counter(db, mine.codigo, "A")
    _, b = counter(db, other.codigo, "B")
    kept = db.create_interacao(
        a.id, regra="r", categoria="c", mensagem="m", produto="P", gatilho="g"
    )
    db.create_interacao(b.id, regra="r", categoria="c", mensagem="m", produto="P", gatilho="g")
    db.record_feedback(a.id, kept, "venda_realizada")
    me = db.cliente_for_chave_admin(mine.chave_admin)
    rows = db.report_rows(me.id, "2000-01-01T00:00:00.000+00:00", "2100-01-01T00:00:00.000+00:00")
    assert len(rows) == 1
    balcao_id, nome, regra, produto, criado_em, resultado = rows[0]
    assert (balcao_id, nome, regra, produto, resultado) == (a.id, "A", "r", "P", "venda_realizada")
    assert db.report_rows(me.id, criado_em, criado_em) == []  # [start, end): empty
    assert len(db.report_rows(me.id, criado_em, "2100-01-01T00:00:00.000+00:00")) == 1


def test_a_database_from_before_the_management_api_is_migrated(target):
    def fill(conn):
        for codigo, email in [("123456", "velho@x.com"), ("654321", "outro@x.com")]:
            conn.execute(
                "INSERT INTO clientes (codigo, email, razao_social, telefone, criado_em)"
                " VALUES (?, ?, 'Velha', '11999998888', '2024-01-01T00:00:00.000+00:00')",
                [codigo, email],
            )

    old_database(target, 1, fill)
    db = Database(target)
    try:
        assert db.schema_version == 6
        rows = db.query("SELECT chave_admin_hash FROM clientes")
        assert rows == [(None,), (None,)]  # old chains: no key until one is issued
        _, balcao = counter(db, "123456")
        assert balcao is not None and db.balcoes_of(balcao.cliente_id)[0].revogado_em is None
        new = chain(db, "novo@x.com")
        assert db.cliente_for_chave_admin(new.chave_admin) is not None
        # the operator issues the old chain its first key (balto chave-admin CODIGO)
        issued = db.issue_chave_admin(codigo="123456")
        found = db.cliente_for_chave_admin(issued)
        assert found is not None and found.codigo == "123456"
        assert db.query("SELECT chave_admin_hash FROM clientes WHERE codigo = '654321'") == [
            (None,)
        ]
    finally:
        db.close()


def test_a_new_key_replaces_the_old_one_of_that_chain_only(db):
    mine, theirs = chain(db), chain(db, "c@d.com")
    me = db.cliente_for_chave_admin(mine.chave_admin)
    assert me is not None
    rotated = db.issue_chave_admin(cliente_id=me.id)
    assert rotated != mine.chave_admin and len(rotated) == 43
    assert db.cliente_for_chave_admin(mine.chave_admin) is None
    assert db.cliente_for_chave_admin(rotated) == me
    assert db.cliente_for_chave_admin(theirs.chave_admin) is not None
    with pytest.raises(BadRequest):
        db.issue_chave_admin(codigo="000000" if mine.codigo != "000000" else "000001")
    with pytest.raises(ValueError):
        db.issue_chave_admin()


def test_the_operator_command_issues_a_key_that_works(tmp_path, capsys):
    from balto.cli import main

    path = tmp_path / "registro.db"
    db = Database(path)
    keys = chain(db)
    db.close()
    assert main(["chave-admin", keys.codigo, "--db", str(path)]) == 0
    printed = capsys.readouterr().out.split()[-1]
    db = Database(path)
    try:
        assert db.cliente_for_chave_admin(printed) is not None
        assert db.cliente_for_chave_admin(keys.chave_admin) is None
    finally:
        db.close()
    unknown = "000000" if keys.codigo != "000000" else "000001"
    assert main(["chave-admin", unknown, "--db", str(path)]) == 1
    assert "erro:" in capsys.readouterr().err


def test_a_missing_rule_file_is_a_clear_error_not_a_traceback(tmp_path, capsys):
    from balto.cli import main

    path = tmp_path / "registro.db"
    db = Database(path)
    keys = chain(db)
    db.close()
    missing = str(tmp_path / "nao-existe.json")
    assert main(["regras", "definir", keys.codigo, missing, "--db", str(path)]) == 1
    assert capsys.readouterr().err.startswith("erro: arquivo não encontrado")
    assert main(["regras", "definir", keys.codigo, str(tmp_path), "--db", str(path)]) == 1
    assert "diretório" in capsys.readouterr().err


def test_experiment_rows_are_the_chains_drawn_variants_within_the_interval(db):
    mine, other = chain(db), chain(db, "c@d.com")
    _, a = counter(db, mine.codigo, "A")
    _, b = counter(db, other.codigo, "B")
    fields = {"categoria": "c", "produto": "P", "gatilho": "g"}
    first = db.create_interacao(a.id, regra="r", mensagem="m", variante="padrao", **fields)
    db.create_interacao(a.id, regra="r", mensagem="Ofereça", variante="curta", **fields)
    db.create_interacao(a.id, regra="s", mensagem="sem experimento", **fields)
    db.create_interacao(b.id, regra="r", mensagem="m", variante="padrao", **fields)
    db.record_feedback(a.id, first, "venda_perdida")
    me = db.cliente_for_chave_admin(mine.chave_admin)
    everything = ("2000-01-01T00:00:00.000+00:00", "2100-01-01T00:00:00.000+00:00")
    assert db.experiment_rows(me.id, *everything) == [
        ("r", "padrao", "m", "venda_perdida"),
        ("r", "curta", "Ofereça", None),
    ]
    assert db.query("SELECT variante FROM interacoes WHERE regra = 's'") == [(None,)]
    assert db.experiment_rows(me.id, everything[1], everything[1]) == []


def test_interactions_from_before_the_experiments_have_no_variant(target):
    def fill(conn):
        conn.execute(
            "INSERT INTO clientes (codigo, email, razao_social, telefone, criado_em)"
            " VALUES ('123456', 'v@x.com', 'V', '11999998888', '2024-01-01T00:00:00.000+00:00')"
        )
        conn.execute(
            "INSERT INTO balcoes (cliente_id, nome_balcao, api_key_hash, criado_em)"
            " VALUES (1, 'A', 'h', '2024-01-01T00:00:00.000+00:00')"
        )
        conn.execute(
            "INSERT INTO interacoes (id, balcao_id, regra, mensagem, gatilho, criado_em)"
            " VALUES ('x', 1, 'r', 'm', 'g', '2024-01-02T00:00:00.000+00:00')"
        )

    old_database(target, 5, fill)
    db = Database(target)
    try:
        assert db.schema_version == 6
        assert db.query("SELECT id, variante FROM interacoes") == [("x", None)]
        assert db.experiment_rows(1, "2000-01-01", "2100-01-01") == []
    finally:
        db.close()
