"""What only PostgreSQL has to show: instances that start together migrate once, concurrent
writers of one chain's rules get one number each, a connection the server ended is replaced,
and the driver's errors arrive as ``StorageError``."""

import psycopg
import pytest
import trio

from balto.core.errors import StorageError
from balto.counter.cadastro.validate import parse_cliente
from balto.counter.store import Database, Store
from balto.counter.store.dialect import POSTGRESQL, SQLITE

RULES = '{"versao": 1, "regras": []}'


async def test_instances_started_together_migrate_once(postgres):
    url = postgres.new_database()
    opened: list[Database] = []

    async def open_one() -> None:
        opened.append(await trio.to_thread.run_sync(Database, url))

    async with trio.open_nursery() as nursery:
        for _ in range(4):
            nursery.start_soon(open_one)
    try:
        assert [db.schema_version for db in opened] == [6] * 4
        assert opened[0].query("SELECT versao FROM balto_schema") == [(6,)]
    finally:
        for db in opened:
            db.close()


async def test_concurrent_replacements_of_one_chains_rules_take_one_number_each(postgres):
    db = Database(postgres.new_database(), pool_size=4)
    store = Store(db)
    try:
        keys = db.create_cliente(
            parse_cliente({"email": "a@b.com", "razao_social": "R", "telefone": "11999998888"})
        )
        cliente = db.cliente_for_chave_admin(keys.chave_admin)
        numbers: list[int] = []

        async def replace() -> None:
            version = await store.run(db.replace_rules, cliente.id, RULES, "chave_admin")
            numbers.append(version.numero)

        async with trio.open_nursery() as nursery:
            for _ in range(12):
                nursery.start_soon(replace)
        assert sorted(numbers) == list(range(1, 13))
        assert db.current_rules(cliente.id).numero == 12
    finally:
        db.close()


def test_a_connection_the_server_ended_is_replaced(postgres):
    url = postgres.new_database()
    db = Database(url, pool_size=2)
    try:
        assert db.query("SELECT 1") == [(1,)]
        with psycopg.connect(postgres.url(), autocommit=True) as admin:
            for pid in postgres.backend_pids(url):
                admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert db.query("SELECT COUNT(*) FROM clientes") == [(0,)]
        db.ping()
    finally:
        db.close()


def test_commits_wait_for_the_wal_even_where_the_server_says_otherwise(postgres):
    url = postgres.new_database()
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(postgres.url(), autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE {name} SET synchronous_commit = off")
    db = Database(url)
    try:
        assert db.query("SHOW synchronous_commit") == [("on",)]
    finally:
        db.close()


def test_the_one_sql_text_becomes_psycopgs_placeholders_and_keeps_its_percent_signs(postgres):
    assert POSTGRESQL.sql("SELECT ? || '%' WHERE x LIKE '5%'") == (
        "SELECT %s || '%%' WHERE x LIKE '5%%'"
    )
    assert SQLITE.sql("SELECT ?") == "SELECT ?"
    db = Database(postgres.new_database())
    try:
        assert db.query("SELECT ? || '%'", ["50"]) == [("50%",)]
    finally:
        db.close()


def test_driver_errors_become_storage_errors_saying_what_failed(postgres):
    db = Database(postgres.new_database())
    try:
        with pytest.raises(StorageError, match=r"^Falha ao consultar o banco de dados: ") as info:
            db.query("SELECT nao_existe FROM clientes")
        assert isinstance(info.value.__cause__, psycopg.Error)
    finally:
        db.close()


def test_an_unreachable_server_fails_to_open_as_a_storage_error(postgres):
    url = postgres.url("nao_existe")
    with pytest.raises(StorageError, match="PostgreSQL"):
        Database(url, timeout_s=1.0)


def test_the_operator_commands_follow_database_url(postgres, monkeypatch, capsys):
    from balto.cli import main

    url = postgres.new_database()
    db = Database(url)
    try:
        keys = db.create_cliente(
            parse_cliente({"email": "a@b.com", "razao_social": "R", "telefone": "11999998888"})
        )
    finally:
        db.close()
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["chave-admin", keys.codigo]) == 0
    printed = capsys.readouterr().out.split()[-1]
    db = Database(url)
    try:
        assert db.cliente_for_chave_admin(printed) is not None
        assert db.cliente_for_chave_admin(keys.chave_admin) is None
    finally:
        db.close()
