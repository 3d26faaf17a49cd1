"""Balto on PostgreSQL (``DATABASE_URL``) through a real server: a chain and a counter are
registered, a feedback is stored; ``/health`` says whether the database answers, and without
one a counter is refused 1013 rather than served."""

import json

import trio
from trio_websocket import open_websocket_url

from balto.counter.store import Database
from tests.conftest import start_server
from tests.e2e.test_http import register
from tests.helpers import ScriptedTranscriber, closed_with, feedback, http, next_json


def stored_interaction(url: str, api_key: str) -> str:
    """An interaction of the counter, as a recommendation would leave it."""
    db = Database(url)
    try:
        balcao = db.authenticate(api_key)
        assert balcao is not None
        return db.create_interacao(
            balcao.id, regra="r", categoria="c", mensagem="m", produto="p", gatilho="g"
        )
    finally:
        db.close()


async def test_a_server_on_postgresql_registers_and_stores_feedback(nursery, tmp_path, postgres):
    url = postgres.new_database()
    scripted = ScriptedTranscriber([])
    server = await start_server(nursery, tmp_path, lambda: scripted, scripted, database_url=url)
    assert not (tmp_path / "dados").exists()  # no SQLite file beside it

    health = await http(server.port, "GET", "/health")
    assert health.status == 200 and health.json()["database"] is True

    codigo, api_key = await register(server.port)
    interacao_id = await trio.to_thread.run_sync(stored_interaction, url, api_key)
    async with open_websocket_url(server.ws_url) as ws:
        await ws.send_message(json.dumps({"comando": "auth", "api_key": api_key}))
        assert (await next_json(ws))["comando"] == "auth_ok"
        await ws.send_message(feedback(interacao_id, "venda_perdida"))
        assert (await next_json(ws))["comando"] == "feedback_ok"

    db = await trio.to_thread.run_sync(Database, url)
    try:
        row = db.interacao(interacao_id)
        assert row is not None and row["resultado"] == "venda_perdida" and row["feedback_em"]
        assert db.query("SELECT codigo FROM clientes") == [(codigo,)]
        assert [b.nome_balcao for b in db.balcoes_of(db.authenticate(api_key).cliente_id)] == [
            "Loja 01 - Centro"
        ]
    finally:
        db.close()
    server.lifecycle.stop()


async def test_without_its_database_the_server_refuses_counters_1013(nursery, tmp_path, postgres):
    url = postgres.new_database()
    scripted = ScriptedTranscriber([])
    server = await start_server(
        nursery, tmp_path, lambda: scripted, scripted, database_url=url, database_timeout_s=1.0
    )
    _, api_key = await register(server.port)

    def drop() -> None:  # the database goes away under the running server
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(postgres.url(), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")

    await trio.to_thread.run_sync(drop)
    health = await http(server.port, "GET", "/health")
    assert health.status == 503
    assert health.json()["status"] == "sem_banco" and health.json()["database"] is False
    async with open_websocket_url(server.ws_url) as ws:
        await ws.send_message(json.dumps({"comando": "auth", "api_key": api_key}))
        closed = await closed_with(ws, wait_s=15)
    assert closed.reason.code == 1013
    server.lifecycle.stop()
