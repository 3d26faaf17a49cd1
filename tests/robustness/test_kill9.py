"""Acknowledged registrations and feedback survive ``kill -9`` at any moment."""

import json
import random
import sqlite3
import subprocess
import sys

import h11
import trio
from trio_websocket import ConnectionClosed, HandshakeError, open_websocket_url

from balto.counter.cadastro.validate import parse_balcao, parse_cliente
from balto.counter.store import Database
from tests.helpers import feedback, http

ROUNDS = 6


async def start(db_file) -> tuple[trio.Process, int]:
    proc = await trio.lowlevel.open_process(
        [sys.executable, "-m", "tests.robustness.fake_server", str(db_file)], stdout=subprocess.PIPE
    )
    line = b""
    with trio.fail_after(20):
        while not line.endswith(b"\n"):
            line += await proc.stdout.receive_some(1)
    return proc, int(line.split()[1])


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


async def test_acknowledged_rows_survive_kill_9(tmp_path):
    db_file = tmp_path / "registro.db"
    setup = Database(db_file)
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
    acked_emails: list[str] = []
    acked_feedback: list[str] = []
    for round_ in range(ROUNDS):
        proc, port = await start(db_file)
        async with trio.open_nursery() as nursery:
            for worker in range(3):
                nursery.start_soon(register_forever, port, f"r{round_}w{worker}", acked_emails)
            nursery.start_soon(feedback_forever, port, api_key, pending, acked_feedback)
            await trio.sleep(rng.uniform(0.2, 0.8))
            proc.kill()  # SIGKILL, mid-write
        await proc.wait()

    assert acked_emails and acked_feedback, (
        "the server acknowledged nothing: the test proves nothing"
    )
    conn = sqlite3.connect(db_file)
    stored = {row[0] for row in conn.execute("SELECT email FROM clientes")}
    lost = [e for e in acked_emails if e not in stored]
    done = {row[0] for row in conn.execute("SELECT id FROM interacoes WHERE resultado IS NOT NULL")}
    lost_feedback = [i for i in acked_feedback if i not in done]
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    print(
        f"kill -9 x{ROUNDS}: {len(acked_emails)} registrations and {len(acked_feedback)}"
        f" feedbacks acknowledged, lost {len(lost)} + {len(lost_feedback)}"
    )
    assert lost == [] and lost_feedback == []
