import pytest

from balto.core.errors import BadRequest, Conflict
from balto.counter.cadastro.secrets import hash_api_key
from balto.counter.cadastro.validate import parse_balcao, parse_cliente
from balto.counter.store import Database


def cliente(db, email="a@b.com"):
    return db.create_cliente(
        parse_cliente({"email": email, "razao_social": "X", "telefone": "11999998888"})
    ).codigo


def test_sqlite_file_created_in_wal_mode_with_schema(tmp_path):
    db = Database(tmp_path / "sub" / "registro.db")
    try:
        assert (tmp_path / "sub" / "registro.db").exists()
        assert db.query("PRAGMA journal_mode") == [("wal",)]
        assert db.query("PRAGMA synchronous") == [(2,)]  # FULL
        tables = {row[0] for row in db.query("SELECT name FROM sqlite_master")}
        assert {"clientes", "balcoes", "interacoes"} <= tables
    finally:
        db.close()


def test_postgresql_commits_wait_for_the_wal_and_the_schema_is_there(postgres):
    db = Database(postgres.new_database())
    try:
        assert db.query("SHOW synchronous_commit") == [("on",)]
        tables = {
            row[0]
            for row in db.query(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        }
        assert {"clientes", "balcoes", "interacoes", "regras_versoes", "sessoes"} <= tables
    finally:
        db.close()


def test_reopen_does_not_migrate_twice(target):
    Database(target).close()
    again = Database(target)
    assert again.schema_version == 6
    again.close()


def test_codigo_is_six_digits_and_unique(db):
    codes = {cliente(db, f"u{i}@b.com") for i in range(50)}
    assert len(codes) == 50 and all(len(c) == 6 and c.isdigit() for c in codes)


def test_duplicate_email_conflicts_case_insensitively(db):
    cliente(db, "a@b.com")
    with pytest.raises(Conflict) as info:
        cliente(db, "A@B.com")
    assert info.value.message == "Email ou código já existe..."


def test_balcao_key_is_shown_once_and_stored_hashed(db):
    codigo = cliente(db)
    key = db.create_balcao(parse_balcao({"nome_balcao": "Loja 1", "user_codigo": codigo}))
    stored = db.query("SELECT api_key_hash FROM balcoes")[0][0]
    assert key not in stored and stored == hash_api_key(key)
    balcao = db.authenticate(key)
    assert balcao is not None and balcao.nome_balcao == "Loja 1" and balcao.codigo == codigo
    assert db.authenticate(key.replace(key[0], "0" if key[0] != "0" else "1")) is None


def test_unknown_codigo(db):
    with pytest.raises(BadRequest) as info:
        db.create_balcao(parse_balcao({"nome_balcao": "L", "user_codigo": "000000"}))
    assert info.value.message == "Código de usuário inválido"


def test_feedback_rules(db):
    codigo = cliente(db)
    mine = db.authenticate(
        db.create_balcao(parse_balcao({"nome_balcao": "A", "user_codigo": codigo}))
    )
    other = db.authenticate(
        db.create_balcao(parse_balcao({"nome_balcao": "B", "user_codigo": codigo}))
    )
    assert mine and other
    iid = db.create_interacao(
        mine.id, regra="r", categoria="c", mensagem="Sugerir X", produto="X", gatilho="dor"
    )
    with pytest.raises(BadRequest):
        db.record_feedback(other.id, iid, "venda_realizada")  # not this counter's
    with pytest.raises(BadRequest):
        db.record_feedback(mine.id, iid, "talvez")
    with pytest.raises(BadRequest):
        db.record_feedback(mine.id, "nao-existe", "venda_perdida")
    db.record_feedback(mine.id, iid, "venda_perdida")
    with pytest.raises(Conflict):
        db.record_feedback(mine.id, iid, "venda_realizada")
    row = db.interacao(iid)
    assert row and row["resultado"] == "venda_perdida" and row["feedback_em"]
    assert row["transcricao"] is None


def test_rows_survive_reopen(target):
    first = Database(target)
    codigo = cliente(first)
    first.close()
    again = Database(target)
    try:
        assert again.query("SELECT codigo FROM clientes") == [(codigo,)]
    finally:
        again.close()


def test_set_rules_unknown_codigo(db):
    with pytest.raises(BadRequest):
        db.set_rules("999999", "{}")
