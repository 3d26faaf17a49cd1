"""Acknowledged registrations and feedback survive ``kill -9`` at any moment, on both backends;
on PostgreSQL the server process of Balto's connections is killed -9 too, mid-write."""

import json
import os
import random
import signal
import subprocess
import sys

import h11
import trio
from trio_websocket import ConnectionClosed, HandshakeError, open_websocket_url

from balto.counter.cadastro.validate import parse_balcao, parse_cliente
from balto.counter.store import Database
from tests.helpers import feedback, http

ROUNDS = 6


async def start(target) -> tuple[trio.Process, int]:
    proc = await trio.lowlevel.open_process(
        [sys.executable, "-m", "tests.robustness.fake_server", str(target)], stdout=subprocess.PIPE
    )
    line = b""
    with trio.fail_after(20):
        while not line.endswith(b"\n"):
            line += await proc.stdout.receive_some(1)
    return proc, int(line.split()[1])


class Acks(list[str]):
    """What the server acknowledged; ``grew`` is set at each new one."""

    def __init__(self) -> None:
        super().__init__()
        self.grew = trio.Event()

    def append(self, item: str) -> None:
        super().append(item)
        self.grew.set()


async def register_forever(port: int, prefix: str, acked: list[str]) -> None:
    for i in range(10_000):
        email = f"{prefix}-{i}@kill.com.br"
        try:
            r = await http(
                port,
                "POST",
                "/cadastro/cliente",
                {"email": email, "razao_social": "R", "telefone": "11999998888"},
            )
        except (OSError, h11.ProtocolError, trio.BrokenResourceError):
            return  # the server is gone
        if r.status == 201:
            acked.append(email)


async def feedback_forever(port: int, api_key: str, pending: list[str], acked: list[str]) -> None:
    try:
        async with open_websocket_url(f"ws://127.0.0.1:{port}/ws") as ws:
            await ws.send_message(json.dumps({"comando": "auth", "api_key": api_key}))
            await ws.get_message()
            while pending:
                iid = pending.pop()
                await ws.send_message(feedback(iid, "venda_realizada"))
                reply = json.loads(await ws.get_message())
                if reply["comando"] == "feedback_ok":
                    acked.append(iid)
    except (OSError, ConnectionClosed, HandshakeError, trio.BrokenResourceError):
        return


async def kill_connections(postgres, url: str) -> int:
    """kill -9 the PostgreSQL server processes serving ``url`` (the postmaster then restarts
    every connection: Balto's pool must find new ones); how many there were."""
    killed = 0
    for pid in await trio.to_thread.run_sync(postgres.backend_pids, url):
        try:
            os.kill(pid, signal.SIGKILL)
            killed += 1
        except ProcessLookupError:
            pass  # that connection had just ended by itself
    return killed


async def test_acknowledged_rows_survive_kill_9(database_target, request):
    on_postgresql = isinstance(database_target, str)
    setup = Database(database_target)
    codigo = setup.create_cliente(
        parse_cliente({"email": "rede@x.com.br", "razao_social": "R", "telefone": "11999998888"})
    ).codigo
    api_key = setup.create_balcao(parse_balcao({"nome_balcao": "L", "user_codigo": codigo}))
    balcao = setup.authenticate(api_key)
    pending = [
        setup.create_interacao(
            balcao.id, regra="r", categoria="c", mensagem="m", produto="p", gatilho="g"
        )
        for _ in range(3000)
    ]
    setup.close()

    rng = random.Random(7)
    acked_emails = Acks()
    acked_feedback: list[str] = []
    connections_killed, acked_after_that = 0, 0
    for round_ in range(ROUNDS):
        if on_postgresql:  # the last round's kill -9 restarted the cluster: its recovery ends
            await trio.to_thread.run_sync(request.getfixturevalue("postgres").wait_ready)
        proc, port = await start(database_target)
        try:
            async with trio.open_nursery() as nursery:
                for worker in range(3):
                    nursery.start_soon(register_forever, port, f"r{round_}w{worker}", acked_emails)
                nursery.start_soon(feedback_forever, port, api_key, pending, acked_feedback)
                await trio.sleep(rng.uniform(0.2, 0.8))
                if on_postgresql:
                    cluster = request.getfixturevalue("postgres")
                    connections_killed += await kill_connections(cluster, database_target)
                    before = len(acked_emails)
                    await trio.sleep(rng.uniform(0.0, 0.5))  # Balto meets the restart...
                    await trio.to_thread.run_sync(cluster.wait_ready)
                    acked_emails.grew = trio.Event()
                    with trio.move_on_after(20):  # ...and acknowledges again once it is over
                        await acked_emails.grew.wait()
                    acked_after_that += len(acked_emails) - before
                proc.kill()  # SIGKILL, mid-write
        finally:
            proc.kill()  # also when the round failed: no server left behind
            await proc.wait()

    assert acked_emails and acked_feedback, (
        "the server acknowledged nothing: the test proves nothing"
    )
    if on_postgresql:
        assert connections_killed, "no PostgreSQL connection was killed"
        assert acked_after_that, "the server never recovered from its connections' death"
        await trio.to_thread.run_sync(request.getfixturevalue("postgres").wait_ready)
    db = Database(database_target)
    try:
        stored = {row[0] for row in db.query("SELECT email FROM clientes")}
        done = {row[0] for row in db.query("SELECT id FROM interacoes WHERE resultado IS NOT NULL")}
        if not on_postgresql:
            assert db.query("PRAGMA integrity_check") == [("ok",)]
    finally:
        db.close()
    lost = [e for e in acked_emails if e not in stored]
    lost_feedback = [i for i in acked_feedback if i not in done]
    print(
        f"kill -9 x{ROUNDS}: {len(acked_emails)} registrations and {len(acked_feedback)}"
        f" feedbacks acknowledged, lost {len(lost)} + {len(lost_feedback)}"
    )
    assert lost == [] and lost_feedback == []
