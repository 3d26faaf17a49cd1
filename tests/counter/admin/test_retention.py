"""Data retention: the cutoff (sans-IO), the store's batched delete on a real SQLite file, and
the periodic job on a mock clock (runs at start, then hourly; a failure is counted and the
job lives on)."""

from datetime import UTC, datetime, timedelta

import pytest
import trio

from balto.core.errors import StorageError
from balto.counter.admin import retention
from balto.counter.admin.retention_job import RetentionJob
from balto.counter.cadastro.validate import parse_balcao, parse_cliente
from balto.counter.config import ConfigError, CounterConfig
from balto.counter.metrics import CounterMetrics
from balto.counter.store import Database, Store

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def test_cutoff_is_the_stored_time_shape_and_zero_keeps_all():
    assert retention.cutoff(NOW, 30) == "2024-05-02T12:00:00.000+00:00"
    assert retention.cutoff(NOW, 0) is None
    assert retention.more_to_delete(retention.BATCH_ROWS)
    assert not retention.more_to_delete(retention.BATCH_ROWS - 1)


def test_config_reads_retencao_dias():
    assert CounterConfig.from_env({}).retention_days == 365
    assert CounterConfig.from_env({"RETENCAO_DIAS": "0"}).retention_days == 0
    assert CounterConfig.from_env({"RETENCAO_DIAS": "90"}).retention_days == 90
    with pytest.raises(ConfigError, match="RETENCAO_DIAS"):
        CounterConfig.from_env({"RETENCAO_DIAS": "-1"})


@pytest.fixture
def db(database_target):
    database = Database(database_target)  # both backends: "the oldest first" is dialect SQL
    yield database
    database.close()


def interaction(db: Database, balcao_id: int, age: timedelta, *, answered: bool = True) -> str:
    interacao_id = db.create_interacao(
        balcao_id, regra="r", categoria="c", mensagem="m", produto="p", gatilho="g"
    )
    if answered:
        db.record_feedback(balcao_id, interacao_id, "venda_realizada")
    created = (NOW - age).isoformat(timespec="milliseconds")
    db.execute("UPDATE interacoes SET criado_em = ? WHERE id = ?", [created, interacao_id])
    return interacao_id


class InlineStore(Store):
    """The real store, but calling the database on the event loop: on the mock clock a worker
    thread would finish at a moment of real time, not of the test's."""

    async def run(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def,override]
        return fn(*args, **kwargs)


def seeded(db: Database) -> tuple[int, int]:
    keys = db.create_cliente(
        parse_cliente({"email": "a@b.com", "razao_social": "Rede", "telefone": "11999998888"})
    )
    key = db.create_balcao(parse_balcao({"nome_balcao": "Loja", "user_codigo": keys.codigo}))
    balcao = db.authenticate(key)
    assert balcao is not None
    return balcao.id, balcao.cliente_id


def ids(db: Database) -> set[str]:
    return {row[0] for row in db.query("SELECT id FROM interacoes")}


def test_the_store_deletes_old_interactions_in_batches_and_nothing_else(db):
    balcao_id, _ = seeded(db)
    old = {interaction(db, balcao_id, timedelta(days=400 + n)) for n in range(5)}
    recent = {interaction(db, balcao_id, timedelta(days=d)) for d in (0, 10, 364)}
    before = retention.cutoff(NOW, 365)
    assert before is not None
    assert db.delete_interactions_before(before, 3) == 3
    assert db.delete_interactions_before(before, 3) == 2
    assert db.delete_interactions_before(before, 3) == 0
    assert ids(db) == recent and not (ids(db) & old)
    tables = ("clientes", "balcoes", "regras_versoes", "sessoes")
    assert [db.query(f"SELECT COUNT(*) FROM {t}")[0][0] for t in tables] == [1, 1, 0, 0]


async def test_the_job_runs_at_start_then_hourly_and_survives_failures(db, autojump_clock):
    balcao_id, _ = seeded(db)
    first_old = interaction(db, balcao_id, timedelta(days=366))
    kept = interaction(db, balcao_id, timedelta(days=364), answered=False)
    metrics = CounterMetrics()
    job = RetentionJob(InlineStore(db), metrics, 365, now=lambda: NOW)
    real = db.delete_interactions_before
    failing = {"on": False}

    def maybe_failing(before_utc: str, limit: int) -> int:
        if failing["on"]:
            raise StorageError("disco cheio")
        return real(before_utc, limit)

    db.delete_interactions_before = maybe_failing  # type: ignore[method-assign]
    async with trio.open_nursery() as nursery:
        nursery.start_soon(job.run)
        await trio.sleep(1)
        assert ids(db) == {kept}  # at start
        assert metrics.retention_deleted._value.get() == 1
        failing["on"] = True
        second_old = interaction(db, balcao_id, timedelta(days=500))
        await trio.sleep(retention.RETENTION_INTERVAL_S)
        assert second_old in ids(db)  # the failing pass deleted nothing...
        assert metrics.retention_failures._value.get() == 1  # ...was counted, job alive
        failing["on"] = False
        await trio.sleep(retention.RETENTION_INTERVAL_S)
        assert ids(db) == {kept}
        nursery.cancel_scope.cancel()
    assert first_old not in ids(db)


async def test_zero_days_keeps_everything_and_the_job_ends(db, autojump_clock):
    balcao_id, _ = seeded(db)
    ancient = interaction(db, balcao_id, timedelta(days=5000))
    job = RetentionJob(Store(db), CounterMetrics(), 0, now=lambda: NOW)
    with trio.fail_after(1):
        await job.run()
    assert ids(db) == {ancient}


async def test_a_bug_in_a_pass_is_stopped_at_the_boundary_and_counted(db, autojump_clock):
    balcao_id, _ = seeded(db)
    interaction(db, balcao_id, timedelta(days=400))
    metrics = CounterMetrics()
    job = RetentionJob(InlineStore(db), metrics, 365, now=lambda: NOW)

    def buggy(before_utc: str, limit: int) -> int:
        raise KeyError("a bug, not a storage failure")

    db.delete_interactions_before = buggy  # type: ignore[method-assign]
    assert await job.run_once() is None  # the server's task goes on
    assert metrics.retention_failures._value.get() == 1
    assert metrics.crashes.labels("retention")._value.get() == 1
